using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Enum values relocated through generated enums (libbpf's ENUMVAL_EXISTS/ENUMVAL_VALUE, by essential name): enums
    /// generated from one fixture kernel, resolved against another with <c>kernel.ResolveEnum&lt;T&gt;()</c>,
    /// <c>ValueOf</c>, <c>TryValueOf</c> and <c>EnumValueExists</c>, checked against bpftool's JSON of the target kernel.
    /// pageflags and node_stat_item really move between 5.10 and 6.12 (PG_dirty 3 → 4, NR_KERNEL_STACK_KB 36 → 37) and
    /// lose or gain enumerators (PG_error is gone in 6.12).
    /// </summary>
    public class EnumRelocationTests
    {
        private static readonly string[] Enums = { "pageflags", "node_stat_item", "cgroup_subsys_id", "bpf_func_id" };

        private const string SourceTemplate = @"
using System;
using System.Collections.Generic;
using BtfBindings;
namespace GenEnum
{
    [BtfTypes(""pageflags"", ""node_stat_item"", ""cgroup_subsys_id"", ""bpf_func_id"")]
    public static partial class K { }

    public static class Probe
    {
        public static BtfTypeLayout Layout(string name) => name switch
        {
            ""pageflags"" => K.BtfEnumLayouts.pageflags,
            ""node_stat_item"" => K.BtfEnumLayouts.node_stat_item,
            ""cgroup_subsys_id"" => K.BtfEnumLayouts.cgroup_subsys_id,
            ""bpf_func_id"" => K.BtfEnumLayouts.bpf_func_id,
            _ => throw new ArgumentException(name),
        };

        public static BtfTypeLayout Registered(string name) => name switch
        {
            ""pageflags"" => BtfEnum<K.pageflags>.Layout,
            ""node_stat_item"" => BtfEnum<K.node_stat_item>.Layout,
            ""cgroup_subsys_id"" => BtfEnum<K.cgroup_subsys_id>.Layout,
            ""bpf_func_id"" => BtfEnum<K.bpf_func_id>.Layout,
            _ => throw new ArgumentException(name),
        };

        // Per build-time enumerator: (exists, target raw value or null, error message of an exception or null), through the typed API.
        public static List<(bool, ulong?, string?)> Typed(string name, TargetKernel k) => name switch
        {
            ""pageflags"" => Typed<K.pageflags>(k),
            ""node_stat_item"" => Typed<K.node_stat_item>(k),
            ""cgroup_subsys_id"" => Typed<K.cgroup_subsys_id>(k),
            ""bpf_func_id"" => Typed<K.bpf_func_id>(k),
            _ => throw new ArgumentException(name),
        };

        private static List<(bool, ulong?, string?)> Typed<T>(TargetKernel k) where T : unmanaged, Enum
        {
            var list = new List<(bool, ulong?, string?)>();
            foreach (var kv in BtfEnum<T>.Layout.EnumValues)
            {
                if (!BtfEnum<T>.TryFromRaw(kv.Value, out T v)) throw new InvalidOperationException(kv.Key);
                bool exists = k.EnumValueExists(v);
                try
                {
                    bool ok = k.TryValueOf(v, out T t);
                    ulong? raw = ok ? BtfEnum<T>.ToRaw(t) : (ulong?)null;
                    string? err = null;
                    if (ok) { if (!k.ValueOf(v).Equals(t)) err = ""ValueOf != TryValueOf""; }
                    else { try { k.ValueOf(v); err = ""ValueOf did not throw""; } catch (CoreFieldException e) when (e.Message.Contains(kv.Key)) { } }
                    list.Add((exists, raw, err));
                }
                catch (CoreException e) when (e is not CoreFieldException) { list.Add((exists, null, e.Message)); }
            }
            return list;
        }

        // Plain use, as an application writes it.
        public static K.pageflags Dirty(TargetKernel k) => k.ValueOf(K.pageflags.PG_dirty);
        public static bool HasGone(TargetKernel k) => k.EnumValueExists(K.pageflags.GONE);
        public static K.node_stat_item KernelStack(TargetKernel k) => k.ValueOf(K.node_stat_item.NR_KERNEL_STACK_KB);
    }
}";

        // An enumerator of the source kernel that the other x86_64 fixture lacks (PG_error went away in 6.x; PG_young is new; both have a value no other enumerator shares).
        private static string Gone(string from) => from == "x86_64-5.10" ? "PG_error" : "PG_young";
        private static string Source(string from) => SourceTemplate.Replace("GONE", Gone(from));

        private readonly ITestOutputHelper _out;
        public EnumRelocationTests(ITestOutputHelper output) { _out = output; }

        public static IEnumerable<object[]> Pairs() => Tier.Rows(AllPairs());

        private static IEnumerable<object[]> AllPairs()
        {
            foreach (var b in Fixtures.Kernels) yield return new object[] { "x86_64-5.10", b };
            yield return new object[] { "x86_64-6.12", "x86_64-5.10" };
            yield return new object[] { "x86_64-6.12", "s390x-6.12" };
            yield return new object[] { "x86_64-6.12", "aarch64-6.1" }; // PG_has_hwpoisoned = PG_active in 6.12 but not in 6.1: ambiguous by value
        }

        private static BpftoolType? OracleEnum(BpftoolOracle oracle, BtfTypeLayout local)
        {
            // libbpf: candidates of ENUM/ENUM64 kind and the same essential name that have any of the enumerators.
            var names = new HashSet<string>(local.EnumValues.Select(v => BpftoolOracle.Essential(v.Key)));
            var cands = oracle.Candidates(local.BtfName, "ENUM").Concat(oracle.Candidates(local.BtfName, "ENUM64"))
                .Where(t => t.Values.Any(v => names.Contains(BpftoolOracle.Essential(v.Name)))).ToList();
            Assert.True(cands.Count <= 1, $"{local.BtfName}: {cands.Count} candidates in {oracle.Name}; this test assumes at most one");
            return cands.FirstOrDefault();
        }

        [Theory]
        [MemberData(nameof(Pairs))]
        public void Generated_enum_values_relocate_by_name_as_bpftool_shows_them(string from, string to)
        {
            var asm = GeneratedAssemblies.Build(Fixtures.Path(from), Source(from));
            var source = BpftoolOracle.For(Fixtures.Path(from), CoreFixtures.IsBigEndian(from));
            var oracle = BpftoolOracle.For(Fixtures.Path(to), CoreFixtures.IsBigEndian(to));
            var kernel = new TargetKernel(CoreFixtures.Kernel(to), to);
            int moved = 0, missing = 0, same = 0, aliases = 0, ambiguous = 0;
            foreach (var name in Enums)
            {
                var layout = (BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Layout", name)!;
                Assert.Same(layout, GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Registered", name)); // BtfEnum<T> registered by the module initializer

                // The build-time metadata is the source kernel's enum, as bpftool shows it.
                var built = source.Candidates(name, "ENUM").Single();
                Assert.Equal(name, layout.BtfName);
                Assert.Equal((uint)built.Size, layout.Size);
                Assert.Equal(built.Encoding == "SIGNED", layout.IsSigned);
                Assert.Equal(built.Values.Select(v => new KeyValuePair<string, ulong>(v.Name, BpftoolOracle.Value(v))).ToList(), layout.EnumValues);

                var target = OracleEnum(oracle, layout);
                ulong? Expected(string n) => target?.Values.Where(v => BpftoolOracle.Essential(v.Name) == BpftoolOracle.Essential(n)).Select(v => (ulong?)BpftoolOracle.Value(v)).FirstOrDefault();

                // By name (untyped).
                var r = kernel.ResolveEnum(layout);
                Assert.Same(r, kernel.ResolveEnum(layout)); // cached
                Assert.Equal(target?.Id, r.Target?.Id);
                foreach (var kv in layout.EnumValues) Assert.Equal(Expected(kv.Key), r[kv.Key]);

                // Typed: a C# value stands for every build-time enumerator that had it; those found in the target must agree.
                var typed = (List<(bool exists, ulong? raw, string? error)>)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Typed", name, kernel)!;
                for (int i = 0; i < layout.EnumValues.Count; i++)
                {
                    var kv = layout.EnumValues[i];
                    var group = layout.EnumValues.Where(v => v.Value == kv.Value).Select(v => v.Key).ToList();
                    if (group.Count > 1) aliases++;
                    var found = group.Select(Expected).Where(v => v.HasValue).Select(v => v!.Value).Distinct().ToList();
                    var (exists, raw, error) = typed[i];
                    string what = $"{name}.{kv.Key} ({from} → {to})";
                    Assert.True(exists == (found.Count > 0), what + ": exists");
                    if (found.Count > 1) { Assert.Contains("share build-time value", error); ambiguous++; continue; }
                    Assert.True(error == null, what + ": " + error);
                    Assert.True(raw == (found.Count == 1 ? found[0] : (ulong?)null), $"{what}: {raw} vs bpftool {string.Join(",", found)}");
                    if (Expected(kv.Key) is not ulong e) missing++;
                    else if (e != kv.Value) moved++;
                    else same++;
                }
            }
            _out.WriteLine($"{from} → {to}: {same} same, {moved} moved, {missing} missing, {aliases} aliased, {ambiguous} ambiguous by value");

            // The plain calls an application makes, against bpftool's numbers.
            var pf = OracleEnum(oracle, (BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Layout", "pageflags")!)!;
            ulong dirty = BpftoolOracle.Value(pf.Values.Single(v => v.Name == "PG_dirty"));
            Assert.Equal(dirty, Convert.ToUInt64(GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Dirty", kernel)));
            Assert.Equal(pf.Values.Any(v => v.Name == Gone(from)), (bool)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "HasGone", kernel)!);
            if (from == "x86_64-5.10" && to == "x86_64-6.12")
            {
                Assert.Equal(3UL, BpftoolOracle.Value(source.Candidates("pageflags", "ENUM").Single().Values.Single(v => v.Name == "PG_dirty")));
                Assert.Equal(4UL, dirty);           // really moved
                Assert.True(moved > 20 && missing > 0, $"{moved} moved, {missing} missing");
                var ns = OracleEnum(oracle, (BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Layout", "node_stat_item")!)!;
                Assert.Equal(BpftoolOracle.Value(ns.Values.Single(v => v.Name == "NR_KERNEL_STACK_KB")), Convert.ToUInt64(GeneratedAssemblies.Call(asm, "GenEnum.Probe", "KernelStack", kernel)));
            }
            if (from == to) Assert.True(moved == 0 && missing == 0 && ambiguous == 0);
            if (from == "x86_64-6.12" && to == "aarch64-6.1")
            {
                Assert.True(ambiguous >= 2, $"{ambiguous} ambiguous");   // PG_active and PG_has_hwpoisoned
                var r = kernel.ResolveEnum((BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Layout", "pageflags")!);
                Assert.Equal(BpftoolOracle.Value(pf.Values.Single(v => v.Name == "PG_active")), r["PG_active"]);             // by name it is still exact
                Assert.Equal(BpftoolOracle.Value(pf.Values.Single(v => v.Name == "PG_has_hwpoisoned")), r["PG_has_hwpoisoned"]);
                Assert.NotEqual(r["PG_active"], r["PG_has_hwpoisoned"]);
            }
        }

        [Fact]
        public void Missing_enumerator_throws_naming_it_and_non_portable_mode_keeps_build_time_values()
        {
            var asm = GeneratedAssemblies.Build(Fixtures.Path("x86_64-5.10"), Source("x86_64-5.10"));
            var k612 = new TargetKernel(CoreFixtures.Kernel("x86_64-6.12"), "x86_64-6.12");
            Assert.False((bool)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "HasGone", k612)!);
            var layout = (BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Layout", "pageflags")!;
            Assert.Null(k612.ResolveEnum(layout)["PG_error"]);

            var none = TargetKernel.NonPortable("test");
            Assert.Equal(3UL, Convert.ToUInt64(GeneratedAssemblies.Call(asm, "GenEnum.Probe", "Dirty", none)));
            Assert.True((bool)GeneratedAssemblies.Call(asm, "GenEnum.Probe", "HasGone", none)!);
        }

        [Fact]
        public void ValueOf_on_a_missing_enumerator_throws_CoreFieldException()
        {
            const string src = @"
using BtfBindings;
namespace GenEnum2
{
    [BtfTypes(""pageflags"")]
    public static partial class K { }
    public static class Probe { public static object Error(TargetKernel k) => k.ValueOf(K.pageflags.PG_error); }
}";
            var asm = GeneratedAssemblies.Build(Fixtures.Path("x86_64-5.10"), src);
            var k612 = new TargetKernel(CoreFixtures.Kernel("x86_64-6.12"), "x86_64-6.12");
            var e = Assert.Throws<CoreFieldException>(() => GeneratedAssemblies.Call(asm, "GenEnum2.Probe", "Error", k612));
            Assert.Contains("PG_error", e.Message);
            Assert.Contains("x86_64-6.12", e.Message);
        }

        [Fact]
        public void Enums_in_private_containers_compile_and_keep_their_layouts_without_registration()
        {
            // A module initializer may not live in a private type: the layouts are then only in BtfEnumLayouts.
            const string src = @"
using BtfBindings;
namespace GenEnum3
{
    public static partial class Outer
    {
        [BtfTypes(""pid_type"")]
        private static partial class Hidden { }
        public static BtfTypeLayout Layout() => Hidden.BtfEnumLayouts.pid_type;
        public static ulong Tgid(TargetKernel k) => k.ResolveEnum(Hidden.BtfEnumLayouts.pid_type)[""PIDTYPE_TGID""] ?? 99;
        public static bool Registered() => BtfEnum<Hidden.pid_type>.IsRegistered;
    }
}";
            var asm = GeneratedAssemblies.Build(Fixtures.Path("x86_64-6.12"), src);
            var l = (BtfTypeLayout)GeneratedAssemblies.Call(asm, "GenEnum3.Outer", "Layout")!;
            Assert.Equal("pid_type", l.BtfName);
            Assert.Equal(new[] { "PIDTYPE_PID", "PIDTYPE_TGID", "PIDTYPE_PGID", "PIDTYPE_SID", "PIDTYPE_MAX" }, l.EnumValues.Select(v => v.Key));
            Assert.False((bool)GeneratedAssemblies.Call(asm, "GenEnum3.Outer", "Registered")!);
            Assert.Same(l, GeneratedAssemblies.Call(asm, "GenEnum3.Outer", "Layout"));
            Assert.Equal(1UL, (ulong)GeneratedAssemblies.Call(asm, "GenEnum3.Outer", "Tgid", new TargetKernel(CoreFixtures.Kernel("x86_64-5.10"), "x86_64-5.10"))!);
        }
    }
}
