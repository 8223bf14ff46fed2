using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.CHeader;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CHeader
{
    /// <summary>
    /// <c>btfgen header</c> checked by a compiler: the header is compiled with debug info for the fixture's own target (clang
    /// cross-compiles; gcc natively and with -m32, arm with Debian's cross gcc), pahole turns the DWARF into BTF, and every
    /// named struct and union (with its anonymous members, recursively) is compared with the source BTF: size, member names,
    /// bit offsets, bitfield sizes, member sizes; enums by size and enumerator count. bpftool's own <c>format c</c> output goes
    /// through the same compiler as a peer, and its figures are printed beside ours.
    /// </summary>
    public class CHeaderExactnessTests
    {
        private readonly ITestOutputHelper _out;
        public CHeaderExactnessTests(ITestOutputHelper output) { _out = output; }

        public static IEnumerable<object[]> Kernels()
        {
            // kernel, compiler, flags for that target
            yield return new object[] { "x86_64-6.12", "clang", "--target=x86_64-linux-gnu" };
            yield return new object[] { "x86_64-6.12", "gcc", "" };
            yield return new object[] { "x86_64-5.10", "clang", "--target=x86_64-linux-gnu" };
            yield return new object[] { "i686-6.1", "clang", "--target=i386-linux-gnu" };
            yield return new object[] { "i686-6.1", "gcc", "-m32" };
            yield return new object[] { "s390x-6.12", "clang", "--target=s390x-linux-gnu" };
            yield return new object[] { "aarch64-6.1", "clang", "--target=aarch64-linux-gnu" };
            yield return new object[] { "armhf-6.1", "arm-linux-gnueabihf-gcc", "" };
        }

        [FullTheory]
        [MemberData(nameof(Kernels))]
        public void Whole_kernel_header_compiles_to_the_same_layouts(string kernel, string compiler, string flags)
        {
            using var btf = Btf.Load(Fixtures.Path(kernel));
            string header = CHeaderWriter.Write(btf, null, out var warnings);
            foreach (var w in warnings) _out.WriteLine("warning: " + w);
            var ours = CompileAndCompare(btf, header, compiler, flags, kernel + "-btfgen");
            _out.WriteLine($"btfgen header, {kernel}, {compiler}: {ours.Types} types, {ours.Members} members compared, {ours.Problems.Count} differ");

            // The peer: bpftool's header through the same compiler. Printed, not asserted (it is not ours to fix).
            var bpftool = ProcessRunner.Check("bpftool", ["btf", "dump", "file", Fixtures.Path(kernel), "format", "c"]).StdOut;
            try
            {
                var peer = CompileAndCompare(btf, bpftool, compiler, flags, kernel + "-bpftool");
                _out.WriteLine($"bpftool format c, {kernel}, {compiler}: {peer.Types} types, {peer.Members} members compared, {peer.Problems.Count} differ");
                foreach (var p in peer.Problems.Take(5)) _out.WriteLine("  bpftool: " + p);
            }
            catch (InvalidOperationException e) { _out.WriteLine($"bpftool format c, {kernel}, {compiler}: does not compile: {e.Message.Split('\n')[0]}"); }

            Assert.True(ours.Problems.Count == 0, $"{ours.Problems.Count} differences:\n" + string.Join("\n", ours.Problems.Take(40)));
            Assert.True(ours.Types > 1000, $"only {ours.Types} types compared");
        }

        /// <summary>Fast tier: a few well-known types and their closure from one kernel, compiled by clang for x86_64.</summary>
        [Fact]
        public void Subset_header_compiles_to_the_same_layouts()
        {
            using var btf = Btf.Load(Fixtures.Path("x86_64-6.12"));
            string header = CHeaderWriter.Write(btf, new[] { "iphdr", "tcphdr", "sk_buff", "pageflags", "task_struct" }, out _);
            var r = CompileAndCompare(btf, header, "clang", "--target=x86_64-linux-gnu", "subset", subset: true);
            _out.WriteLine($"{r.Types} types, {r.Members} members compared");
            Assert.True(r.Problems.Count == 0, string.Join("\n", r.Problems.Take(40)));
            Assert.True(r.Types > 50, $"only {r.Types} types compared");
        }

        [Fact]
        public void Bpf_object_header_compiles_for_bpf_and_keeps_preserve_access_index()
        {
            using var btf = Btf.Load(Fixtures.Path("bpf-features.o"));
            string header = CHeaderWriter.Write(btf, null, out _);
            Assert.Contains("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)", header);
            var r = CompileAndCompare(btf, header, "clang", "--target=bpf", "features"); // the object's own target (long double is 8 bytes there)
            Assert.True(r.Problems.Count == 0, string.Join("\n", r.Problems.Take(40)));
            Assert.True(r.Types >= 5, $"only {r.Types} types compared");
        }

        [Fact]
        public void Unknown_type_name_is_an_error_naming_it()
        {
            using var btf = Btf.Load(Fixtures.Path("bpf-features.o"));
            var e = Assert.Throws<BtfException>(() => CHeaderWriter.Write(btf, new[] { "no_such_type" }, out _));
            Assert.Contains("no_such_type", e.Message);
        }

        internal sealed record Comparison(int Types, int Members, List<string> Problems);

        /// <summary>Compiles <paramref name="header"/> with debug info for every type, turns the DWARF into BTF, compares.</summary>
        internal static Comparison CompileAndCompare(Btf source, string header, string compiler, string flags, string label, bool subset = false)
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfbindings-header-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                var h = Path.Combine(dir, label + ".h");
                File.WriteAllText(h, header);
                var o = Path.Combine(dir, label + ".o");
                // Not a BPF target: preserve_access_index is a BPF-target attribute, so turn it off as bpftool's header allows.
                var args = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(new[] { "-DBPF_NO_PRESERVE_ACCESS_INDEX", "-w", "-c", "-g", "-fno-eliminate-unused-debug-types", "-x", "c", h, "-o", o });
                var cc = ProcessRunner.Run(compiler, args);
                if (cc.ExitCode != 0) throw new InvalidOperationException($"{compiler} {flags} failed on the {label} header:\n{string.Join("\n", cc.StdErr.Split('\n').Take(20))}");
                var btfOut = Path.Combine(dir, label + ".btf");
                ProcessRunner.Check("pahole", ["-J", "--btf_encode_detached=" + btfOut, o]);
                using var compiled = Btf.Load(btfOut);
                return Compare(source, compiled, subset);
            }
            finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
        }

        /// <summary>
        /// Every named struct/union/enum of <paramref name="source"/> against the compiled one of the header's name: the N-th
        /// definition of a name in type id order is <c>name___N</c> from the second on, as the header numbers them.
        /// </summary>
        internal static Comparison Compare(Btf source, Btf compiled, bool subset = false)
        {
            var byName = new Dictionary<string, BtfType>(StringComparer.Ordinal);
            for (int id = 1; id < compiled.TypeCount; id++)
            {
                var t = compiled[id];
                if ((t.IsComposite || t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64) && !t.IsAnonymous)
                    byName.TryAdd(Key(t.Kind, t.Name), t);
            }
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var problems = new List<string>();
            int types = 0, members = 0;
            for (int id = 1; id < source.TypeCount; id++)
            {
                var t = source[id];
                bool composite = t.IsComposite, isEnum = t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64;
                if (t.IsAnonymous || !(composite || isEnum)) continue;
                seen.TryGetValue(t.Name, out int n);
                seen[t.Name] = ++n;
                if (isEnum && t.Vlen == 0) continue; // written as a forward declaration, as bpftool does
                if (composite && t.Vlen == 0 && t.Size > 0) continue; // C cannot state a member-less struct of non-zero size
                string name = n == 1 ? t.Name : t.Name + "___" + n;
                if (!byName.TryGetValue(Key(t.Kind, name), out var c))
                {
                    if (subset) continue; // a subset header holds only what its roots need
                    problems.Add($"[{id}] {name}: missing from the compiled header");
                    continue;
                }
                types++;
                if (isEnum)
                {
                    if (c.Size != t.Size || c.Vlen != t.Vlen) problems.Add($"[{id}] enum {name}: size {c.Size} vlen {c.Vlen}, BTF says size {t.Size} vlen {t.Vlen}");
                    continue;
                }
                members += CompareComposite(source, t, compiled, c, name, problems, 0);
            }
            return new Comparison(types, members, problems);
        }

        private static string Key(BtfKind k, string name) => (k == BtfKind.Enum64 ? BtfKind.Enum : k) + " " + name;

        private static int CompareComposite(Btf sb, BtfType s, Btf cb, BtfType c, string path, List<string> problems, int depth)
        {
            if (c.Size != s.Size) problems.Add($"[{s.Id}] {path}: size {c.Size}, BTF says {s.Size}");
            if (c.Vlen != s.Vlen) { problems.Add($"[{s.Id}] {path}: {c.Vlen} members, BTF says {s.Vlen}"); return 0; }
            int count = 0;
            for (int i = 0; i < s.Vlen; i++)
            {
                var sm = s.GetMember(i);
                var cm = c.GetMember(i);
                count++;
                string where = $"{path}.{(sm.IsAnonymous ? "(anon#" + i + ")" : sm.Name)}";
                if (sm.Name != cm.Name) problems.Add($"[{s.Id}] {where}: named '{cm.Name}' in the compiled header");
                if (sm.BitOffset != cm.BitOffset) problems.Add($"[{s.Id}] {where}: bit offset {cm.BitOffset}, BTF says {sm.BitOffset}");
                if (Bits(sb, sm) != Bits(cb, cm)) problems.Add($"[{s.Id}] {where}: bitfield size {cm.BitfieldSize}, BTF says {sm.BitfieldSize}");
                long ss = SafeSize(sb, sm.TypeId), cs = SafeSize(cb, cm.TypeId);
                if (ss != cs) problems.Add($"[{s.Id}] {where}: member size {cs}, BTF says {ss}");
                var st = sb[sb.Skip(sm.TypeId)];
                var ct = cb[cb.Skip(cm.TypeId)];
                if (st.IsComposite && st.IsAnonymous && ct.IsComposite && depth < 32)
                    count += CompareComposite(sb, st, cb, ct, where, problems, depth + 1);
            }
            return count;
        }

        /// <summary>Bitfield size, with a full-width byte-aligned bitfield (u32 x:32) as 0: pahole encodes that as a plain member.</summary>
        private static int Bits(Btf b, BtfMember m)
        {
            if (m.BitfieldSize == 0) return 0;
            return m.BitOffset % 8 == 0 && m.BitfieldSize == 8 * SafeSize(b, m.TypeId) ? 0 : m.BitfieldSize;
        }

        private static long SafeSize(Btf b, int id)
        {
            try { return b.ResolveSize(id); }
            catch (BtfException) { return -1; }
        }
    }
}
