using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// The CO-RE cases built with clang (tests/fixtures/core): layouts from local.o resolved against target.o (bpfel),
    /// target-eb.o (big-endian), target-i386.o (32-bit, BTF by pahole) and target-dup.o (linked duplicates); offsets
    /// checked against bpftool's dump of each target, values read from the target's initialised globals.
    /// </summary>
    public class ClangFixtureTests
    {
        private readonly ITestOutputHelper _out;
        public ClangFixtureTests(ITestOutputHelper output) { _out = output; }

        internal static readonly string[] LocalTypes =
        {
            "core_flavor___v2", "core_rename___old", "core_rename___new", "core_bits", "core_su", "core_anon", "core_root_kind",
            "core_dup", "core_same", "core_dup2", "core_sizes", "core_e___v1",
        };

        private static readonly Lazy<PlannedLayouts> LocalLazy = new Lazy<PlannedLayouts>(() => CoreFixtures.Layouts(CoreFixtures.Core("local.o"), LocalTypes));
        internal static PlannedLayouts Local => LocalLazy.Value;
        private static TargetKernel Target(string obj) => new TargetKernel(CoreFixtures.Core(obj), obj);
        private static BtfTypeLayout L(string name) => Local[name] ?? throw new InvalidOperationException(name);
        private static byte[] Data(string obj, string global) => new ElfGlobals(CoreFixtures.CorePath(obj)).Bytes(global);

        public static IEnumerable<object[]> Targets() => new[] { "target.o", "target-eb.o", "target-i386.o", "target-dup.o" }.Select(t => new object[] { t });

        [Theory]
        [MemberData(nameof(Targets))]
        public void Every_local_type_matches_bpftool_dump_of_target(string obj)
        {
            var local = Local;
            var target = Target(obj);
            var oracle = BpftoolOracle.For(CoreFixtures.CorePath(obj), obj == "target-eb.o");
            int present = 0, missing = 0, ambiguous = 0;
            var failures = new List<string>();
            foreach (var (pt, layout) in local.All)
            {
                if (pt.IsNested || layout.Kind == BtfKind.Enum) continue;
                var expected = oracle.Resolve(layout, oracle.RootCandidates(layout), root: true);
                var r = target.Resolve(layout);
                if (expected.fields.Any(x => x.Ambiguous)) ambiguous++;
                for (int i = 0; i < layout.Fields.Count; i++)
                {
                    var f = r.Fields[i];
                    var x = expected.fields[i];
                    if (f.IsAmbiguous != x.Ambiguous) { failures.Add($"{layout.BtfName}.{f.Name}: {f.Describe()}, bpftool says {x}"); continue; }
                    if (x.Ambiguous) continue;
                    if (!x.Exists) { missing++; if (f.Exists) failures.Add($"{layout.BtfName}.{f.Name}: exists, bpftool: missing"); continue; }
                    present++;
                    bool same = f.Exists && f.IsReadable == x.Readable && f.BitOffset == x.BitOffset && f.BitSize == x.BitSize && f.ByteOffset == x.ByteOffset
                        && f.ByteSize == x.ByteSize && f.IsSigned == x.Signed && f.IsBitfield == x.Bitfield && f.LeftShift == x.LShift && f.RightShift == x.RShift;
                    if (!same) failures.Add($"{layout.BtfName}.{f.Name}: {f.Describe()} vs bpftool {x}");
                }
            }
            _out.WriteLine($"local.o -> {obj}: {present} fields present, {missing} missing, {ambiguous} types with ambiguous fields");
            CoreSummary.Record("local.o -> " + obj, $"{present} fields present in both, {missing} missing in target, {ambiguous} types with ambiguous fields");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
            Assert.Equal(obj == "target-dup.o" ? 2 : 1, ambiguous); // core_dup (flavor duplicates), plus core_dup2 in the linked object
        }

        [Theory]
        [InlineData("target.o")]
        [InlineData("target-eb.o")]
        [InlineData("target-i386.o")]
        public void Flavor_local_flavor_matches_target_essential_name(string obj)
        {
            var r = Target(obj).Resolve(L("core_flavor___v2"));
            Assert.Equal("core_flavor", r.Target!.Value.Name);
            var d = Data(obj, "g_flavor");
            Assert.Equal(42, r.ReadInt64("a", d));
            Assert.Equal("xyz", r.ReadString("tag", d));
            if (obj == "target-i386.o")
            {
                // long is 4 bytes there: a signed size change, which libbpf will not adjust a load for.
                Assert.True(r["b"].Exists);
                Assert.False(r["b"].IsReadable);
                var e = Assert.Throws<CoreFieldException>(() => r.ReadInt64("b", d));
                Assert.Contains("core_flavor___v2.b", e.Message);
                Assert.Contains(obj, e.Message);
            }
            else Assert.Equal(-123456789, r.ReadInt64("b", d));
        }

        [Fact]
        public void Renamed_field_one_flavor_per_spelling_only_the_current_one_exists()
        {
            var t = Target("target.o");
            var d = Data("target.o", "g_rename");
            var old = t.Resolve(L("core_rename___old"));
            var neu = t.Resolve(L("core_rename___new"));
            Assert.False(old.Exists("old_name"));
            Assert.True(neu.Exists("new_name"));
            Assert.Equal(22, old.ReadInt64("keep", d));
            Assert.Equal(11, neu.ReadInt64("new_name", d));
            Assert.Equal(CoreFieldStatus.Missing, old["old_name"].Status);
            var e = Assert.Throws<CoreFieldException>(() => old.ReadInt64("old_name", d));
            Assert.Equal("old_name", e.FieldName);
            Assert.Equal("core_rename___old", e.TypeName);
            Assert.Contains("no field 'old_name'", e.Message);
            Assert.Contains("STRUCT 'core_rename'", e.Message); // the candidates
            Assert.Contains("target.o", e.Message);              // the kernel
        }

        [Theory]
        [InlineData("target.o")]
        [InlineData("target-eb.o")]
        [InlineData("target-i386.o")]
        public void Bitfields_moved_resized_and_converted_read_like_libbpf(string obj)
        {
            var r = Target(obj).Resolve(L("core_bits"));
            var d = Data(obj, "g_bits");
            Assert.Equal(5, r.ReadInt64("a", d));
            Assert.Equal(-3, r.ReadInt64("b", d));        // signed 5-bit field, sign from the target
            Assert.Equal(1000, r.ReadInt64("c", d));      // 10 bits here, 12 in the target
            Assert.Equal(200, r.ReadInt64("d", d));
            Assert.Equal(-12345, r.ReadInt64("plain_to_bits", d)); // plain int here, 20-bit bitfield in the target
            Assert.Equal(0xBEEF, r.ReadInt64("bits_to_plain", d)); // bitfield here, plain unsigned in the target
            Assert.Equal(-50, r.ReadInt64("neg", d));
            Assert.True(r["c"].IsBitfield);
            Assert.False(r["bits_to_plain"].IsBitfield);
            Assert.Equal(CoreFieldStatus.Resized, r["c"].Status);
            if (obj == "target-i386.o")
            {
                // i386 aligns u64 to 4, so e:40 starts at bit 32 and ends at bit 72: no aligned 8-byte window holds it (libbpf: -E2BIG).
                Assert.True(r["e"].Exists);
                Assert.False(r["e"].IsReadable);
                Assert.Throws<CoreFieldException>(() => r.ReadInt64("e", d));
            }
            else Assert.Equal(0x123456789AL, r.ReadInt64("e", d));

            // Writes go to the target's bits and keep the neighbours.
            var w = (byte[])d.Clone();
            r.Write(r.TryIndexOf("b"), w, unchecked((ulong)-16));
            r.Write(r.TryIndexOf("a"), w, 2);
            Assert.Equal(-16, r.ReadInt64("b", w));
            Assert.Equal(2, r.ReadInt64("a", w));
            Assert.Equal(1000, r.ReadInt64("c", w));
            Assert.Equal(200, r.ReadInt64("d", w));
        }

        [Theory]
        [InlineData("target.o")]
        [InlineData("target-eb.o")]
        [InlineData("target-i386.o")]
        public void Struct_union_below_root_and_anonymous_members(string obj)
        {
            var local = Local;
            var t = Target(obj);
            var su = t.Resolve(L("core_su"));
            var d = Data(obj, "g_su");
            Assert.Equal(8, su.ReadInt64("x", d));
            Assert.Equal(4, su.ReadInt64("tail", d));
            var vLayout = local.FieldTypeLayout(L("core_su"), su.TryIndexOf("v"))!;
            Assert.Equal(BtfKind.Union, vLayout.Kind);
            var v = su.Nested("v", vLayout);           // a union here, a struct in the target
            Assert.Equal(BtfKind.Struct, v.Target!.Value.Kind);
            var vd = su.FieldBytes("v", d).ToArray();
            Assert.Equal(5, v.ReadInt64("i", vd));
            Assert.Equal(6, v.ReadInt64("u", vd));
            var pq = su.Nested("pq", local.FieldTypeLayout(L("core_su"), su.TryIndexOf("pq"))!); // anonymous struct here, anonymous union there
            var pqd = su.FieldBytes("pq", d).ToArray();
            Assert.Equal(7, pq.ReadInt64("p", pqd));
            Assert.Equal(7, pq.ReadInt64("q", pqd));

            var an = t.Resolve(L("core_anon"));
            var ad = Data(obj, "g_anon");
            Assert.Equal(1, an.ReadInt64("after", ad));
            Assert.Equal(2, an.ReadInt64("before", ad));
            Assert.Equal(3, an.ReadInt64("deeper", ad));
            Assert.Equal(4, an.ReadInt64("deep", ad));
            Assert.Equal(5, an.ReadInt64("in_union", ad));
            if (obj == "target-i386.o") Assert.False(an["other"].IsReadable);
            else Assert.Equal(obj == "target-eb.o" ? 4L << 32 : 4L, an.ReadInt64("other", ad));
        }

        [Fact]
        public void Root_kind_union_does_not_match_struct()
        {
            var r = Target("target.o").Resolve(L("core_root_kind"));
            Assert.False(r.TypeExists);
            Assert.Empty(r.Candidates);
            Assert.False(r.Exists("i"));
            var e = Assert.Throws<CoreFieldException>(() => r.ReadInt64("i", new byte[4]));
            Assert.Contains("no union named core_root_kind", e.Message);
        }

        [Fact]
        public void Duplicate_candidates_conflicting_is_an_error_listing_them()
        {
            // core_dup { a; b } against core_dup { a; b } and core_dup___other { b; a }: every field is in both, at other offsets.
            var dup = Target("target.o").Resolve(L("core_dup"));
            Assert.All(dup.Fields, f => Assert.Equal(CoreFieldStatus.Ambiguous, f.Status));
            var e = Assert.Throws<CoreException>(() => dup.Exists("a"));
            _out.WriteLine(e.Message);
            Assert.IsNotType<CoreFieldException>(e);
            Assert.IsNotType<CoreFieldException>(Assert.Throws<CoreException>(() => dup.ReadInt64("b", Data("target.o", "g_dup"))));
            Assert.Equal(2, e.Candidates.Count);
            Assert.Contains(e.Candidates, c => c.Contains("'core_dup'"));
            Assert.Contains(e.Candidates, c => c.Contains("'core_dup___other'"));
            Assert.Equal("a", e.FieldName);
            Assert.Contains("ResolveAgainst", e.Message);
            // The way out: pick one.
            var t = Target("target.o");
            var chosen = t.FindCandidates("core_dup", BtfKind.Struct).Single(c => c.Name == "core_dup");
            var r = t.ResolveAgainst(L("core_dup"), chosen);
            Assert.Equal(2, r.ReadInt64("b", Data("target.o", "g_dup")));
        }

        [Fact]
        public void Duplicate_candidates_identical_are_fine()
        {
            var r = Target("target.o").Resolve(L("core_same"));
            Assert.Equal(2, r.Targets.Count);
            Assert.Contains("agreeing on every field they share", r.Report());
            Assert.Equal(6, r.ReadInt64("b", Data("target.o", "g_same")));
        }

        [Fact]
        public void Duplicate_candidates_same_name_from_linked_objects_conflict()
        {
            Assert.Equal(10, Target("target.o").Resolve(L("core_dup2")).ReadInt64("b", Data("target.o", "g_dup2")));
            var t = Target("target-dup.o");
            Assert.Equal(2, t.FindCandidates("core_dup2", BtfKind.Struct).Count(c => c.Name == "core_dup2"));
            // core_dup2 { int a; int b } and { int b; long a }: a is ambiguous (offset 0 vs 8, and a size libbpf cannot adjust), b too (4 vs 0).
            var r = t.Resolve(L("core_dup2"));
            var e = Assert.Throws<CoreException>(() => r.Exists("a"));
            Assert.Equal(2, e.Candidates.Count);
            Assert.All(e.Candidates, c => Assert.Contains("'core_dup2'", c));
            Assert.True(r["b"].IsAmbiguous);
        }

        [Theory]
        [InlineData("target.o")]
        [InlineData("target-eb.o")]
        [InlineData("target-i386.o")]
        public void Sizes_signedness_arrays_nested_enums(string obj)
        {
            var local = Local;
            var r = Target(obj).Resolve(L("core_sizes"));
            var d = Data(obj, "g_sizes");
            Assert.Equal(4000000000L, r.ReadInt64("u32_to_u64", d));             // unsigned widened: readable
            Assert.Equal(CoreFieldStatus.Resized, r["u32_to_u64"].Status);
            var big = Assert.Throws<CoreFieldException>(() => r.ReadInt64("u32_to_u64_big", d)); // does not fit the u32
            Assert.Contains("does not fit", big.Message);
            Assert.True(r["s32_to_s64"].Exists);                                 // signed widened: exists, unreadable
            Assert.Equal(CoreFieldStatus.Unreadable, r["s32_to_s64"].Status);
            Assert.Throws<CoreFieldException>(() => r.ReadInt64("s32_to_s64", d));
            Assert.Equal(0xFEDCBA98L, r.ReadInt64("u64_to_u32", d));            // unsigned narrowed in the target: zero-extended
            Assert.Equal(0x12345678L, r.ReadInt64("ptr", d));                   // 8 bytes here, 4 on i386
            Assert.Equal(obj == "target-i386.o" ? 4u : 8u, r["ptr"].ByteSize);
            Assert.Equal(6u, r["arr"].ArrayLength);
            var arr = r.FieldBytes("arr", d).ToArray();
            Assert.Equal(24, arr.Length);
            Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }, Enumerable.Range(0, 6).Select(i => obj == "target-eb.o"
                ? System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(arr.AsSpan(i * 4)) : BitConverter.ToInt32(arr, i * 4)));
            Assert.True(r["arr_elem"].Exists);
            Assert.False(r["arr_elem"].IsReadable);                              // int elements here, long long there
            var innerLayout = local.FieldTypeLayout(L("core_sizes"), r.TryIndexOf("nested"))!;
            var nested = r.Nested("nested", innerLayout);
            var nd = r.FieldBytes("nested", d).ToArray();
            Assert.Equal(1, nested.ReadInt64("first", nd));
            Assert.Equal(2, nested.ReadInt64("second", nd));
            int arrIdx = r.TryIndexOf("nested_arr");
            var elem = r.Element(arrIdx, local.FieldTypeLayout(L("core_sizes"), arrIdx)!);
            for (int i = 0; i < 3; i++) // three elements in the target although two were generated
            {
                var ed = r.ElementBytes(arrIdx, i, d).ToArray();
                Assert.Equal(10 * (i + 1), elem.ReadInt64("first", ed));
                Assert.Equal(10 * (i + 1) + 1, elem.ReadInt64("second", ed));
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => r.ElementBytes(arrIdx, 3, d));
            Assert.Equal(20, r.ReadInt64("e", d));                               // enum by essential name core_e___v1 ~ core_e
            Assert.False(r.Exists("gone"));
            Assert.False(r.Exists("to_struct"));                                 // int here, struct there: incompatible
            Assert.Contains("incompatible", r["to_struct"].Problem);
            _out.WriteLine(r.Report());
        }

        [Theory]
        [InlineData("target.o")]
        [InlineData("target-eb.o")]
        [InlineData("target-i386.o")]
        public void Enum_values_by_essential_name(string obj)
        {
            var e = Target(obj).ResolveEnum(L("core_e___v1"));
            Assert.Equal("core_e", e.Target!.Value.Name);
            Assert.Equal(10UL, e["CE_A"]);
            Assert.Equal(20UL, e["CE_B"]);
            Assert.Null(e["CE_GONE"]);
            Assert.Equal(40UL, e["CE_FLAV___v2"]); // enumerator flavors are stripped too
            Assert.True(Target(obj).TryGetEnumValue("core_e", "CE_NEW", out var v));
            Assert.Equal(30UL, v);
        }

        [Fact]
        public void Report_lists_what_moved_and_what_is_missing()
        {
            var report = Target("target.o").Resolve(L("core_sizes")).Report();
            _out.WriteLine(report);
            Assert.Contains("target: [", report);
            Assert.Contains("STRUCT 'core_sizes'", report);
            Assert.Matches(@"missing\s+gone", report);
            Assert.Matches(@"unreadable\s+s32_to_s64", report);
            Assert.Matches(@"resized\s+u32_to_u64 ", report);
            Assert.Matches(@"resized\s+nested ", report);
            Assert.Matches(@"moved\s+ptr ", report);
        }
    }
}
