using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using BtfBindings.Layout;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// The generated relocatable views, compiled from the real generator's output: metadata identical to
    /// <see cref="PlannedLayouts"/>, values of the clang fixtures read through views generated from local.o, and
    /// task_struct views generated from x86_64-6.12 reading objects laid out like every other fixture kernel.
    /// </summary>
    public class GeneratedViewTests
    {
        private readonly ITestOutputHelper _out;
        public GeneratedViewTests(ITestOutputHelper output) { _out = output; }

        internal const string TaskSource = @"
using System;
using System.Runtime.InteropServices;
using System.Text;
using BtfBindings;
namespace GenTask
{
    [BtfTypes(""task_struct"", ""iphdr"")]
    public static partial class K { }

    public static class Probe
    {
        public static string Comm(ReadOnlySpan<byte> c) { int n = c.IndexOf((byte)0); return Encoding.UTF8.GetString(n < 0 ? c : c.Slice(0, n)); }

        // Through the relocatable view: offsets resolved against the target kernel.
        public static string ViaView(byte[] d, TargetKernel k)
        {
            var t = new K.task_struct.View(d, k);
            string weight; try { weight = t.se.load.weight.ToString(); } catch (CoreFieldException) { weight = ""X""; }
            return $""{t.pid} {t.tgid} {Comm(MemoryMarshal.AsBytes(t.comm))} 0x{t.flags:x} {t.prio} 0x{t.se.vruntime:x} {weight} {t.Has_pid}"";
        }

        // The generated struct itself: the build-time (x86_64-6.12) offsets.
        public static string Direct(byte[] d)
        {
            ref var t = ref MemoryMarshal.AsRef<K.task_struct>(d.AsSpan(0, System.Runtime.CompilerServices.Unsafe.SizeOf<K.task_struct>()));
            return $""{t.pid} {t.tgid} 0x{t.flags:x} {t.prio} 0x{t.se.vruntime:x}"";
        }

        public static object Layout() => K.task_struct.BtfLayout;
        public static int ReadPidTwice(byte[] d, CoreTypeResolution r) { var t = new K.task_struct.View(d, r); return t.pid + t.tgid; }

        // The typed resolution (no run-time check in the view) against the untyped one (checked).
        public static string Typed(byte[] d, TargetKernel k)
        {
            CoreTypeResolution<K.task_struct> r = k.Resolve<K.task_struct>();
            var t = new K.task_struct.View(d, r);
            bool cached = ReferenceEquals(r, k.Resolve<K.task_struct>()) && ReferenceEquals(r, k.Resolve(K.task_struct.BtfLayout));
            return $""{cached} {t.pid} {t.tgid} 0x{t.se.vruntime:x} {t.Resolution.Size}"";
        }
        public static string Untyped(byte[] d, CoreTypeResolution r) { var t = new K.task_struct.View(d, r); return $""{t.pid} {t.tgid} 0x{t.se.vruntime:x} {t.Resolution.Size}""; }
        public static void NullTyped(byte[] d) { _ = new K.task_struct.View(d, (CoreTypeResolution<K.task_struct>)null!); }

        // A view over the first n bytes of the object only.
        public static string Prefix(byte[] d, int n, TargetKernel k)
        {
            var t = new K.task_struct.View(d.AsSpan(0, n), k);
            string pid; try { pid = t.pid.ToString(); } catch (CoreFieldException e) { pid = ""X:"" + e.FieldName; }
            string vr; try { vr = ""0x"" + t.se.vruntime.ToString(""x""); } catch (CoreFieldException e) { vr = ""X:"" + e.FieldName; }
            return $""{pid} {vr} {t.se.Data.Length} {t.IsComplete}"";
        }
    }
}";

        internal static Assembly TaskAssembly(string kernel) => GeneratedAssemblies.Build(Fixtures.Path(kernel), TaskSource);

        /// <summary>
        /// Every generated struct/union has its metadata and a View, and a struct member's metadata names the member type's
        /// generated layout. (Field kinds need no comparison with <see cref="PlannedLayouts"/> any more: both read them from
        /// the plan, <see cref="global::BtfBindings.Layout.FieldKinds"/>, tested in OneRuleTests.)
        /// </summary>
        [Fact]
        public void Generated_metadata_names_member_layouts()
        {
            var asm = TaskAssembly("x86_64-6.12");
            var plan = LayoutPlanner.Plan(CoreFixtures.Kernel("x86_64-6.12"), new[] { "task_struct", "iphdr" }, null, out _);
            var layouts = new PlannedLayouts(plan, "x86_64-6.12.btf");
            var container = asm.GetType("GenTask.K", true)!;
            int types = 0, fields = 0;
            foreach (var (pt, expected) in layouts.All)
            {
                if (expected.Kind == BtfKind.Enum) continue;
                var clr = ClrType(container, layouts, pt);
                Assert.True(clr != null, "no generated type for " + pt.Name);
                var actual = (BtfTypeLayout)clr!.GetProperty("BtfLayout", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
                Assert.Equal(expected.BtfName, actual.BtfName);
                Assert.Equal(expected.Fields.Count, actual.Fields.Count);
                for (int i = 0; i < expected.Fields.Count; i++)
                {
                    var e = expected.Fields[i];
                    var a = actual.Fields[i];
                    Assert.Equal(e.Name, a.Name);
                    // A struct/union member names its generated type's layout (resolved with the owner for nested views); nothing else does.
                    // (Zero-sized members too: they are views of their empty type at their offset.)
                    var member = e.Kind == BtfFieldKind.Struct ? layouts.FieldTypeLayout(expected, i) : null;
                    if (member == null) Assert.Null(a.TypeLayout);
                    else
                    {
                        Assert.True(a.TypeLayout != null, $"{pt.Name}.{e.Name} has no member layout");
                        var memberClr = ClrType(container, layouts, layouts.PlannedTypeOf(member))!;
                        Assert.Same(memberClr.GetProperty("BtfLayout", BindingFlags.Public | BindingFlags.Static)!.GetValue(null), a.TypeLayout);
                    }
                    fields++;
                }
                types++;
                Assert.True(clr.GetNestedType("View") != null || clr.GetNestedTypes().Any(n => n.Name.StartsWith("View", StringComparison.Ordinal)), pt.Name + " has no View");
            }
            _out.WriteLine($"{types} generated types, {fields} fields: member layouts named");
            Assert.True(types > 50 && fields > 500, $"{types} types, {fields} fields");
        }

        private static Type? ClrType(Type container, PlannedLayouts layouts, PlannedType pt)
        {
            if (!pt.IsNested) return container.GetNestedType(pt.Name);
            foreach (var (parent, _) in layouts.All)
                if (parent.Nested.Contains(pt)) return ClrType(container, layouts, parent)?.GetNestedType(pt.Name);
            return null;
        }

        /// <summary>Writes values at kernel B's offsets (from bpftool's dump of B) into a task_struct-sized buffer.</summary>
        private static byte[] TaskObject(string kernel, out string expected)
        {
            var oracle = BpftoolOracle.For(Fixtures.Path(kernel), CoreFixtures.IsBigEndian(kernel));
            var task = oracle.Candidates("task_struct", "STRUCT").Single();
            var buf = new byte[task.Size];
            bool be = oracle.BigEndian;
            (long off, long size) At(BpftoolType t, string path, long baseOff = 0)
            {
                var parts = path.Split('.');
                var hit = oracle.Find(t, parts[0]) ?? throw new InvalidOperationException($"{kernel}: no {parts[0]}");
                long off = baseOff + hit.bitOffset / 8;
                if (parts.Length == 1) return (off, oracle.SizeOf(hit.member.TypeId));
                return At(oracle.Skip(hit.member.TypeId), string.Join(".", parts.Skip(1)), off);
            }
            void Put(string path, ulong v)
            {
                var (off, size) = At(task, path);
                var s = buf.AsSpan((int)off, (int)size);
                for (int i = 0; i < size; i++) s[be ? (int)size - 1 - i : i] = (byte)(v >> (8 * i));
            }
            Put("pid", 4321); Put("tgid", 4300); Put("flags", 0x00200040); Put("prio", 120);
            Put("se.vruntime", 0x1122334455667788); Put("se.load.weight", 1048576);
            var (commOff, _) = At(task, "comm");
            Encoding.ASCII.GetBytes("kworker/0:1").CopyTo(buf, (int)commOff);
            expected = "4321 4300 kworker/0:1 0x200040 120 0x1122334455667788 1048576 True";
            return buf;
        }

        public static IEnumerable<object[]> Kernels() => Tier.Rows(Fixtures.Kernels.Select(k => new object[] { k }));

        [Theory]
        [MemberData(nameof(Kernels))]
        public void Task_struct_view_generated_from_x86_64_6_12_reads_every_fixture_kernels_layout(string kernel)
        {
            var asm = TaskAssembly("x86_64-6.12");
            var data = TaskObject(kernel, out var expected);
            var target = new TargetKernel(CoreFixtures.Kernel(kernel), kernel);
            var got = (string)GeneratedAssemblies.Call(asm, "GenTask.Probe", "ViaView", data, target)!;
            _out.WriteLine($"{kernel}: {got}");
            Assert.Equal(expected, got);
            if (kernel == "x86_64-6.12")
                Assert.Equal("4321 4300 0x200040 120 0x1122334455667788", GeneratedAssemblies.Call(asm, "GenTask.Probe", "Direct", data));
            else
                Assert.NotEqual("4321 4300 0x200040 120 0x1122334455667788", GeneratedAssemblies.Call(asm, "GenTask.Probe", "Direct", data.Concat(new byte[10000]).ToArray()));
        }

        [Theory]
        [InlineData("x86_64-5.10")]
        [InlineData("s390x-6.12")]
        [InlineData("i686-6.1")]
        public void View_over_data_that_ends_early_reads_what_is_there_and_throws_beyond(string kernel)
        {
            // Where the data ends relative to pid and se.vruntime comes from bpftool's dump of the target (the truth), not
            // from the resolution the view uses.
            var asm = TaskAssembly("x86_64-6.12");
            var data = TaskObject(kernel, out _);
            var target = new TargetKernel(CoreFixtures.Kernel(kernel), kernel);
            var oracle = BpftoolOracle.For(Fixtures.Path(kernel), CoreFixtures.IsBigEndian(kernel));
            var task = oracle.Candidates("task_struct", "STRUCT").Single();
            var pid = oracle.Find(task, "pid")!;
            var se = oracle.Find(task, "se")!;
            var vr = oracle.Find(oracle.Skip(se.Value.member.TypeId), "vruntime")!;
            int pidEnd = (int)(pid.Value.bitOffset / 8 + 4), seStart = (int)(se.Value.bitOffset / 8), seSize = (int)oracle.SizeOf(se.Value.member.TypeId);
            int vrEnd = seStart + (int)(vr.Value.bitOffset / 8) + 8;
            string Run(int n) => (string)GeneratedAssemblies.Call(asm, "GenTask.Probe", "Prefix", data, n, target)!;

            Assert.Equal($"4321 0x1122334455667788 {seSize} True", Run(data.Length));
            Assert.StartsWith("4321 ", Run(pidEnd));
            Assert.StartsWith("X:pid ", Run(pidEnd - 1));
            Assert.Equal($"{(pidEnd <= vrEnd ? "4321" : "X:pid")} 0x1122334455667788 {vrEnd - seStart} False", Run(vrEnd));
            Assert.Equal($"{(pidEnd <= vrEnd - 1 ? "4321" : "X:pid")} X:vruntime {vrEnd - 1 - seStart} False", Run(vrEnd - 1));
            Assert.Equal($"X:pid X:vruntime 0 False", Run(Math.Min(seStart, pidEnd - 1)));
        }

        [Fact]
        public void View_rejects_a_resolution_of_another_type_and_non_portable_mode_uses_build_time_offsets()
        {
            var asm = TaskAssembly("x86_64-6.12");
            var kernel = new TargetKernel(CoreFixtures.Kernel("x86_64-6.12"));
            var layouts = CoreFixtures.Layouts(CoreFixtures.Kernel("x86_64-6.12"), "iphdr");
            var wrong = kernel.Resolve(layouts["iphdr"]!);
            var data = new byte[10000];
            Assert.Throws<ArgumentException>(() => GeneratedAssemblies.Call(asm, "GenTask.Probe", "ReadPidTwice", data, wrong));

            var np = TargetKernel.NonPortable("test: no BTF");
            var r = np.Resolve((BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenTask.Probe", "Layout")!);
            Assert.False(r.IsVerified);
            Assert.Contains("NOT VERIFIED", r.Report());
            var obj = TaskObject("x86_64-6.12", out _);
            Assert.Equal(4321 + 4300, GeneratedAssemblies.Call(asm, "GenTask.Probe", "ReadPidTwice", obj, r));
        }

        [Theory]
        [InlineData("x86_64-5.10")]
        [InlineData("s390x-6.12")]
        public void Typed_resolution_is_cached_with_the_untyped_one_and_reads_the_same(string kernel)
        {
            var asm = TaskAssembly("x86_64-6.12");
            var data = TaskObject(kernel, out _);
            var target = new TargetKernel(CoreFixtures.Kernel(kernel), kernel);
            // Untyped first: Resolve<T>() then wraps that cached resolution, and the cache hands out the typed one from then on.
            var untyped = target.Resolve((BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenTask.Probe", "Layout")!);
            string viaUntyped = (string)GeneratedAssemblies.Call(asm, "GenTask.Probe", "Untyped", data, untyped)!;
            string viaTyped = (string)GeneratedAssemblies.Call(asm, "GenTask.Probe", "Typed", data, target)!;
            _out.WriteLine($"{kernel}: {viaTyped}");
            Assert.Equal("True " + viaUntyped, viaTyped);
            Assert.StartsWith("True 4321 4300 0x1122334455667788 ", viaTyped);
            Assert.EndsWith(" " + untyped.Size, viaTyped);
            var e = Assert.Throws<ArgumentNullException>(() => GeneratedAssemblies.Call(asm, "GenTask.Probe", "NullTyped", data));
            Assert.Equal("resolution", e.ParamName);
        }

        // ---- the clang fixtures through generated views -----------------------------------------------

        private const string CoreSource = @"
using System;
using System.Runtime.InteropServices;
using System.Text;
using BtfBindings;
namespace GenCore
{
    [BtfTypes(""core_flavor___v2"", ""core_rename___old"", ""core_rename___new"", ""core_bits"", ""core_su"", ""core_anon"", ""core_root_kind"", ""core_same"", ""core_sizes"")]
    public static partial class L { }

    public static class Probe
    {
        static string Ascii(ReadOnlySpan<byte> b) { int n = b.IndexOf((byte)0); return Encoding.ASCII.GetString(n < 0 ? b : b.Slice(0, n)); }

        public static string Flavor(byte[] d, TargetKernel k)
        {
            var v = new L.core_flavor___v2.View(d, k);
            string b; try { b = v.b.ToString(); } catch (CoreFieldException) { b = ""X""; }
            return $""a={v.a} b={b} tag={Ascii(MemoryMarshal.AsBytes(v.tag))}"";
        }

        public static string Rename(byte[] d, TargetKernel k)
        {
            var o = new L.core_rename___old.View(d, k);
            var n = new L.core_rename___new.View(d, k);
            string old; try { old = o.old_name.ToString(); } catch (CoreFieldException e) { old = e.FieldName + "" missing""; }
            return $""keep={o.keep} has_old={o.Has_old_name} old={old} has_new={n.Has_new_name} new={n.new_name} exists={n.Exists(""new_name"")}"";
        }

        public static string Bits(byte[] d, TargetKernel k)
        {
            var v = new L.core_bits.View(d, k);
            string e; try { e = ""0x"" + v.e.ToString(""x""); } catch (CoreFieldException) { e = ""X""; }
            string s = $""a={v.a} b={v.b} c={v.c} d={v.d} e={e} p2b={v.plain_to_bits} b2p=0x{v.bits_to_plain:x} neg={v.neg}"";
            var copy = (byte[])d.Clone();
            var w = new L.core_bits.View(copy, k);
            w.b = -16; w.a = 2; w.plain_to_bits = 77; w.neg = 63;
            return s + $"" | after write a={w.a} b={w.b} c={w.c} d={w.d} p2b={w.plain_to_bits} neg={w.neg}"";
        }

        public static string Su(byte[] d, TargetKernel k)
        {
            var v = new L.core_su.View(d, k);
            return $""x={v.x} v.i={v.v.i} v.u={v.v.u} pq.p={v.pq.p} pq.q={v.pq.q} tail={v.tail}"";
        }

        public static string Anon(byte[] d, TargetKernel k)
        {
            var v = new L.core_anon.View(d, k);
            string other; try { other = v.other.ToString(); } catch (CoreFieldException) { other = ""X""; }
            return $""before={v.before} in_union={v.in_union} deep={v.deep} deeper={v.deeper} after={v.after} other={other}"";
        }

        public static string RootKind(byte[] d, TargetKernel k)
        {
            var v = new L.core_root_kind.View(d, k);
            try { return v.i.ToString(); } catch (CoreFieldException e) { return ""missing: "" + e.Reason; }
        }

        public static string Sizes(byte[] d, TargetKernel k)
        {
            var v = new L.core_sizes.View(d, k);
            string big; try { big = v.u32_to_u64_big.ToString(); } catch (CoreFieldException) { big = ""X""; }
            string s64; try { s64 = v.s32_to_s64.ToString(); } catch (CoreFieldException) { s64 = ""X""; }
            string arr; try { arr = string.Join("","", v.arr.ToArray()); } catch (CoreFieldException) { arr = ""X""; }
            string arrElem; try { arrElem = v.arr_elem.Length.ToString(); } catch (CoreFieldException) { arrElem = ""X""; }
            var sb = new StringBuilder();
            sb.Append($""u32_to_u64={v.u32_to_u64} big={big} s64={s64} has_s64={v.Has_s32_to_s64} u64_to_u32=0x{v.u64_to_u32:x} ptr={v.ptr} arr={arr} arr_elem={arrElem}"");
            sb.Append($"" nested={v.nested.first},{v.nested.second}"");
            for (int i = 0; i < 3; i++) sb.Append($"" [{i}]={v.nested_arr(i).first},{v.nested_arr(i).second}"");
            sb.Append($"" e={(int)v.e} has_gone={v.Has_gone} has_to_struct={v.Has_to_struct}"");
            return sb.ToString();
        }
    }
}";

        public static IEnumerable<object[]> CoreTargets() => new[] { "target.o", "target-eb.o", "target-i386.o" }.Select(t => new object[] { t });

        [Theory]
        [MemberData(nameof(CoreTargets))]
        public void Clang_fixtures_through_generated_views(string obj)
        {
            var asm = GeneratedAssemblies.Build(CoreFixtures.CorePath("local.o"), CoreSource);
            var k = new TargetKernel(CoreFixtures.Core(obj), obj);
            var g = new ElfGlobals(CoreFixtures.CorePath(obj));
            string Run(string m, string global) => (string)GeneratedAssemblies.Call(asm, "GenCore.Probe", m, g.Bytes(global), k)!;
            bool i386 = obj == "target-i386.o", eb = obj == "target-eb.o";

            Assert.Equal($"a=42 b={(i386 ? "X" : "-123456789")} tag=xyz", Run("Flavor", "g_flavor"));
            Assert.Equal("keep=22 has_old=False old=old_name missing has_new=True new=11 exists=True", Run("Rename", "g_rename"));
            Assert.Equal($"a=5 b=-3 c=1000 d=200 e={(i386 ? "X" : "0x123456789a")} p2b=-12345 b2p=0xbeef neg=-50 | after write a=2 b=-16 c=1000 d=200 p2b=77 neg=63",
                Run("Bits", "g_bits"));
            Assert.Equal("x=8 v.i=5 v.u=6 pq.p=7 pq.q=7 tail=4", Run("Su", "g_su"));
            Assert.Equal($"before=2 in_union=5 deep=4 deeper=3 after=1 other={(i386 ? "X" : eb ? (4L << 32).ToString() : "4")}", Run("Anon", "g_anon"));
            Assert.StartsWith("missing: the kernel has no union named core_root_kind", Run("RootKind", "g_root_kind"));
            var ptr = "0x" + (0x12345678UL).ToString("x16"); // the view keeps the generated (64-bit) pointer type
            Assert.Equal($"u32_to_u64=4000000000 big=X s64=X has_s64=True u64_to_u32=0xfedcba98 ptr={ptr} arr={(eb ? "X" : "1,2,3,4,5,6")} arr_elem=X"
                + " nested=1,2 [0]=10,11 [1]=20,21 [2]=30,31 e=20 has_gone=False has_to_struct=False", Run("Sizes", "g_sizes"));
        }
    }
}
