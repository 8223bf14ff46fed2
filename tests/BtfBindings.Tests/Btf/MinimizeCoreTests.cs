using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using BtfBindings.Layout;
using BtfBindings.Minimize;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>
    /// The minimizer keeps every CO-RE answer: a target kernel minimized to the generated types of a build-time BTF
    /// gives, for every field path of those types, the same <see cref="TargetKernel.ResolveField"/> values (exists,
    /// offsets, sizes, signedness, bitfield shifts, the problem text), the same whole-type resolutions and sizes, the same
    /// enum values and the same ambiguity errors as the full target BTF. The truth is the full BTF, resolved by the same
    /// rules that LibbpfDifferentialTests checks against libbpf itself.
    /// </summary>
    public class MinimizeCoreTests
    {
        private readonly ITestOutputHelper _out;
        public MinimizeCoreTests(ITestOutputHelper output) { _out = output; }

        /// <summary>task_struct plus networking types and two enums (one typedef-named root too).</summary>
        internal static readonly string[] Roots = { "task_struct", "iphdr", "sk_buff", "sock", "tcp_sock", "pid_type", "pageflags", "cpumask_t" };

        public static IEnumerable<object[]> Targets() => Tier.Rows(Fixtures.Kernels.Select(k => new object[] { k }));

        [Theory]
        [MemberData(nameof(Targets))]
        public void Minimized_target_gives_every_answer_the_full_target_gives(string target)
        {
            var buildTime = Fixtures.Kernel("x86_64-6.12");
            var full = Fixtures.Kernel(target);
            var (checkedCount, smallBytes) = Compare(buildTime, full, Roots);
            long fullBytes = new System.IO.FileInfo(Fixtures.Path(target)).Length;   // the fixtures are raw BTF
            _out.WriteLine($"{target}: {checkedCount} answers equal; minimized {smallBytes} bytes of {fullBytes} ({100.0 * smallBytes / fullBytes:0.00}%)");
            Assert.True(checkedCount > 2000, $"only {checkedCount} answers compared");
        }

        [FullFact]
        public void Build_time_32_bit_against_every_kernel()
        {
            var buildTime = Fixtures.Kernel("armhf-6.1");
            foreach (var k in Fixtures.Kernels)
            {
                var (n, _) = Compare(buildTime, Fixtures.Kernel(k), Roots);
                _out.WriteLine($"armhf-6.1 -> {k}: {n} answers equal");
            }
        }

        [Fact]
        public void Flavors_and_ambiguity_are_kept()
        {
            // Target: two candidates for 'foo' (foo and foo___v2) that disagree on 'b', a pointer to an unrelated struct,
            // and an enum with a flavored twin. Local: foo with a, b, p.
            var t = new BtfBuilder();
            int i32 = t.AddInt("int", 4, BtfIntEncoding.Signed);
            int lng = t.AddInt("long int", 4, BtfIntEncoding.Signed);          // a 32-bit target: pointers are 4 bytes
            int bar = t.AddComposite(BtfKind.Struct, "bar", 64, ("x", i32, 0, 0));
            int pbar = t.AddRef(BtfKind.Ptr, bar);
            t.AddComposite(BtfKind.Struct, "foo", 12, ("a", i32, 0, 0), ("b", i32, 32, 0), ("p", pbar, 64, 0));
            t.AddComposite(BtfKind.Struct, "foo___v2", 12, ("a", i32, 0, 0), ("b", i32, 64, 0), ("p", pbar, 32, 0));
            t.AddComposite(BtfKind.Struct, "unrelated", 4, ("u", i32, 0, 0));
            t.AddEnum("colour", 4, false, false, ("RED", 1), ("GREEN", 2));
            t.AddEnum("colour___old", 4, false, false, ("RED", 1), ("BLUE", 7));
            _ = lng;
            var target = Btf.Parse(t.ToArray(), "target");

            var l = new BtfBuilder();
            int li = l.AddInt("int", 4, BtfIntEncoding.Signed);
            l.AddInt("long int", 8, BtfIntEncoding.Signed);
            int lbar = l.AddComposite(BtfKind.Struct, "bar", 4, ("x", li, 0, 0));
            l.AddComposite(BtfKind.Struct, "foo", 16, ("a", li, 0, 0), ("b", li, 32, 0), ("p", l.AddRef(BtfKind.Ptr, lbar), 64, 0));
            l.AddEnum("colour", 4, false, false, ("RED", 0), ("GREEN", 1), ("BLUE", 2));
            var local = Btf.Parse(l.ToArray(), "local");

            var result = BtfMinimizer.MinimizeForCore(target, new[] { "foo", "colour" });
            var small = Btf.Parse(result.Data, "small");
            Assert.Equal(4, small.PointerSize);
            Assert.Empty(small.FindTypes("unrelated"));
            Assert.Equal(BtfKind.Fwd, small.FindTypes("bar").Single().Kind);   // the pointee's body is not needed
            Assert.Equal(2, small.FindTypes("colour").Count + small.FindTypes("colour___old").Count);

            var fullK = new TargetKernel(target, "full");
            var smallK = new TargetKernel(small, "small");
            var e1 = Assert.Throws<CoreException>(() => fullK.ResolveField("foo", "b", local));
            var e2 = Assert.Throws<CoreException>(() => smallK.ResolveField("foo", "b", local));
            Assert.Equal(NoIds(e1.Message.Replace("full", "K")), NoIds(e2.Message.Replace("small", "K")));
            Assert.Throws<CoreException>(() => smallK.ResolveEnum("colour", local));
            Assert.Throws<CoreException>(() => fullK.ResolveEnum("colour", local));
        }

        private const string BpfReader = @"#include ""vmlinux.h""
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC(""license"") = ""GPL"";
struct out { int pid, tgid; u64 vr; void *parent; u32 len; u32 daddr; u16 proto; unsigned int flags; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, u32); __type(value, struct out); } m SEC("".maps"");
SEC(""raw_tp/sys_enter"")
int prog(void *ctx)
{
    struct task_struct *t = (void *)bpf_get_current_task();
    u32 k = 0;
    struct out *o = bpf_map_lookup_elem(&m, &k);
    if (!o) return 0;
    o->pid = BPF_CORE_READ(t, pid);
    o->tgid = BPF_CORE_READ(t, tgid);
    o->vr = BPF_CORE_READ(t, se.vruntime);
    o->parent = BPF_CORE_READ(t, real_parent);
    o->flags = BPF_CORE_READ(t, flags);
    bpf_core_read(&o->comm, sizeof(o->comm), &t->comm);
    o->len = BPF_CORE_READ((struct sk_buff *)ctx, len);
    o->proto = BPF_CORE_READ((struct sk_buff *)ctx, protocol);
    o->daddr = BPF_CORE_READ((struct iphdr *)ctx, daddr);
    return 0;
}
";

        /// <summary>
        /// The peer: <c>bpftool gen min_core_btf</c> minimizes a target for a BPF object's CO-RE relocations, keeping only the
        /// members they access. For an object reading task_struct, sk_buff and iphdr fields (compiled against the 6.12
        /// fixture's vmlinux.h), every such field is where bpftool's minimized BTF puts it in ours too (and in the full
        /// BTF); ours is larger because a generated type resolves every member, not a few.
        /// </summary>
        [FullTheory]
        [InlineData("x86_64-5.10")]
        [InlineData("aarch64-6.1")]
        [InlineData("s390x-6.12")]
        public void Fields_a_bpf_object_reads_sit_where_bpftool_min_core_btf_puts_them(string target)
        {
            var dir = System.IO.Directory.CreateTempSubdirectory("btfb-mincore-").FullName;
            try
            {
                var vmlinuxH = Bpftool.Dump(Fixtures.Path("x86_64-6.12"), format: "c").StdOut;
                System.IO.File.WriteAllText(System.IO.Path.Combine(dir, "vmlinux.h"), vmlinuxH);
                System.IO.File.WriteAllText(System.IO.Path.Combine(dir, "prog.bpf.c"), BpfReader);
                ProcessRunner.Check("clang", new[] { "-g", "-O2", "-target", "bpf", "-c", "prog.bpf.c", "-o", "prog.o" }, dir);
                var peer = System.IO.Path.Combine(dir, "min.btf");
                ProcessRunner.Check("bpftool", new[] { "gen", "min_core_btf", Fixtures.Path(target), peer, System.IO.Path.Combine(dir, "prog.o") }, dir);

                var buildTime = Fixtures.Kernel("x86_64-6.12");
                var plan = LayoutPlanner.Plan(buildTime, new[] { "task_struct", "sk_buff", "iphdr" }, null, out _);
                var min = BtfMinimizer.MinimizeForCore(Fixtures.Kernel(target), BtfMinimizer.CoreNames(plan));
                var ours = new TargetKernel(Btf.Parse((byte[])min.Data.Clone(), "ours"), "ours");
                var peerTypes = Bpftool.Types(peer);
                // (root, path, the named struct each path step is a member of in bpftool's dump)
                foreach (var (type, path, owners) in new[] { ("task_struct", "pid", ""), ("task_struct", "tgid", ""), ("task_struct", "se.vruntime", "sched_entity"),
                    ("task_struct", "real_parent", ""), ("task_struct", "flags", ""), ("task_struct", "comm", ""), ("sk_buff", "len", ""), ("sk_buff", "protocol", ""), ("iphdr", "daddr", "") })
                {
                    var steps = path.Split('.');
                    var ownerNames = new[] { type }.Concat(owners.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray();
                    long bits = 0;
                    for (int i = 0; i < steps.Length; i++)
                    {
                        var composite = peerTypes.All.First(t => t.IsComposite && t.Name == ownerNames[i]);
                        bits += Cli.CliSupport.Flatten(peerTypes, composite).Single(f => f.Path == steps[i]).BitOffset;
                    }
                    var r = ours.ResolveField(type, path, buildTime);
                    Assert.True(r.Exists, $"{type}.{path} missing in ours");
                    Assert.True((ulong)bits == r.BitOffset, $"{target} {type}.{path}: bpftool's minimized BTF has bit {bits}, ours {r.BitOffset}");
                    Assert.Equal(new TargetKernel(Fixtures.Kernel(target), "full").ResolveField(type, path, buildTime).BitOffset, r.BitOffset);
                }
                long peerBytes = new System.IO.FileInfo(peer).Length;
                _out.WriteLine($"{target}: bpftool gen min_core_btf {peerBytes} bytes (the 9 accessed members); ours for every member of the generated types {min.Data.Length} bytes, {ours.Vmlinux!.TypeCount - 1} types");
            }
            finally { try { System.IO.Directory.Delete(dir, true); } catch (System.IO.IOException) { } }
        }

        /// <summary>Minimizes <paramref name="full"/> to the plan of <paramref name="roots"/> in <paramref name="buildTime"/> and compares every answer.</summary>
        internal static (int compared, int smallBytes) Compare(Btf buildTime, Btf full, string[] roots)
        {
            var plan = LayoutPlanner.Plan(buildTime, roots, null, out var unknown);
            Assert.Empty(unknown);
            var names = BtfMinimizer.CoreNames(plan);
            var min = BtfMinimizer.MinimizeForCore(full, names);
            var small = Btf.Parse(min.Data, "minimized " + full.SourceName);
            Assert.Equal(full.PointerSize, small.PointerSize);
            Assert.Equal(full.IsBigEndian, small.IsBigEndian);
            var fullK = new TargetKernel(full, "K");
            var smallK = new TargetKernel(small, "K");
            int n = 0;

            var layouts = new PlannedLayouts(plan);
            foreach (var kv in layouts.All)
            {
                var planned = kv.Key; var layout = kv.Value;
                if (planned.IsNested) continue;
                if (layout.Kind == BtfKind.Enum || layout.Kind == BtfKind.Enum64)
                {
                    Assert.Equal(Answer(() => Show(fullK.ResolveEnum(layout))), Answer(() => Show(smallK.ResolveEnum(layout))));
                    n++;
                    continue;
                }
                string a = Answer(() => Show(fullK.Resolve(layout))), b = Answer(() => Show(smallK.Resolve(layout)));
                Assert.True(a == b, $"{layout.BtfName}:\nfull:  {a}\nsmall: {b}");
                n += layout.Fields.Count + 1;
            }
            foreach (var root in roots)
            {
                if (buildTime.FindTypes(root).All(t => t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64)) continue;
                foreach (var path in FieldPaths(buildTime, root))
                {
                    string a = Answer(() => fullK.ResolveField(root, path, buildTime).ToString() + " " + Details(fullK.ResolveField(root, path, buildTime)));
                    string b = Answer(() => smallK.ResolveField(root, path, buildTime).ToString() + " " + Details(smallK.ResolveField(root, path, buildTime)));
                    Assert.True(a == b, $"{root}.{path}:\nfull:  {a}\nsmall: {b}");
                    n++;
                }
            }
            return (n, min.Data.Length);
        }

        private static string Details(CoreFieldRelocation r)
            => $"{r.Exists} {r.BitOffset} {r.BitSize} {r.IsBitfield} {r.ByteOffset} {r.ByteSize} {r.IsSigned} {r.LeftShift} {r.RightShift} {r.IsLoadable} {r.Problem}";

        private static string Show(CoreTypeResolution r)
        {
            var sb = new StringBuilder();
            sb.Append("exists=").Append(r.TypeExists).Append(" size=").Append(r.Size).Append(" targets=").Append(r.Targets.Count)
              .Append(" candidates=").Append(r.Candidates.Count).Append('\n');
            foreach (var f in r.Fields) sb.Append(f.Name).Append(' ').Append(f.Status).Append(' ').Append(f.Describe()).Append('\n');
            return sb.ToString();
        }

        private static string Show(CoreEnumResolution r)
            => $"{r.Target.HasValue} {r.Candidates.Count} " + string.Join(",", r.Values.Select(v => v?.ToString() ?? "-"));

        /// <summary>The answer, or the error's type and message: type ids differ between the two BTFs, so they are removed.</summary>
        private static string Answer(Func<string> f)
        {
            try { return NoIds(f()); }
            catch (Exception e) when (e is CoreException || e is ArgumentException || e is BtfException || e is NotSupportedException)
            { return e.GetType().Name + ": " + NoIds(e.Message); }
        }

        private static string NoIds(string s) => Regex.Replace(s, @"\[\d+\]", "[#]");

        /// <summary>
        /// Every access path under <paramref name="root"/> the by-name API takes: each member, through nested structs and
        /// unions, and the first and last element of arrays (of structs: their members too), to a bounded depth.
        /// </summary>
        internal static IEnumerable<string> FieldPaths(Btf buildTime, string root)
        {
            var layouts = TargetKernel.LocalLayoutsOf(buildTime, root);
            var top = layouts.All.FirstOrDefault(kv => !kv.Key.IsNested && kv.Value.BtfName == root).Value ?? layouts[root];
            if (top == null) return Array.Empty<string>();   // a typedef of a named struct: planned under the struct's name
            var result = new List<string>();
            Walk(layouts, top, "", 0, result);
            return result;
        }

        private static void Walk(PlannedLayouts layouts, BtfTypeLayout t, string prefix, int depth, List<string> into)
        {
            for (int i = 0; i < t.Fields.Count; i++)
            {
                var f = t.Fields[i];
                string p = prefix + f.Name;
                into.Add(p);
                if (depth >= 4) continue;
                var inner = layouts.FieldTypeLayout(t, i);
                if (f.Kind == BtfFieldKind.Struct || f.Kind == BtfFieldKind.Union)
                {
                    if (inner != null) Walk(layouts, inner, p + ".", depth + 1, into);
                }
                else if (f.Kind == BtfFieldKind.Array && f.ArrayLength > 0)
                {
                    into.Add(p + "[0]");
                    into.Add(p + "[" + (f.ArrayLength - 1) + "]");
                    if (inner != null) Walk(layouts, inner, p + "[" + (f.ArrayLength - 1) + "].", depth + 1, into);
                }
            }
        }
    }
}
