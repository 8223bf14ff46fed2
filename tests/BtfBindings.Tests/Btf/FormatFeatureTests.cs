using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Support.BtfSupport;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>Format features on synthetic BTF made with BtfBuilder, checked against known values and bpftool.</summary>
    public class FormatFeatureTests
    {
        /// <summary>A BTF that uses every kind and every kind_flag meaning.</summary>
        private static BtfBuilder Everything()
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);                              // 1
            int u8 = b.AddInt("unsigned char", 1);                                            // 2
            int lng = b.AddInt("long", 8, BtfIntEncoding.Signed);                             // 3
            int p = b.AddRef(BtfKind.Ptr, i32);                                               // 4
            int arr = b.AddArray(u8, i32, 16);                                                // 5
            int bits = b.AddComposite(BtfKind.Struct, "bits", 8,                             // 6: kind_flag bitfields
                ("a", i32, 0, 3), ("b", i32, 3, 5), ("c", u8, 8, 0), ("d", i32, 16, 16));
            int un = b.AddComposite(BtfKind.Union, "u", 8, ("x", lng, 0, 0), ("y", p, 0, 0)); // 7
            int fwdS = b.AddFwd("fs");                                                        // 8
            int fwdU = b.AddFwd("fu", union: true);                                           // 9
            int es = b.AddEnum("es", 4, true, false, ("NEG", -5), ("POS", 7), ("MIN", int.MinValue)); // 10
            int eu = b.AddEnum("eu", 4, false, false, ("BIG", 0xF0000000L));                 // 11
            int e64s = b.AddEnum("e64s", 8, true, true, ("M", long.MinValue), ("N", -1));     // 12
            int e64u = b.AddEnum("e64u", 8, false, true, ("U", unchecked((long)0xFEDCBA9876543210UL))); // 13
            int td = b.AddRef(BtfKind.Typedef, bits, "bits_t");                               // 14
            int c = b.AddRef(BtfKind.Const, td);                                              // 15
            int v = b.AddRef(BtfKind.Volatile, c);                                            // 16
            int r = b.AddRef(BtfKind.Restrict, p);                                            // 17
            int fp = b.AddFuncProto(i32, ("a", i32), ("b", p), ("", 0));                      // 18: variadic
            int f = b.AddFunc("fn", fp, BtfLinkage.Global);                                   // 19
            int var = b.AddVar("gv", i32, BtfLinkage.Global);                                 // 20
            int ds = b.AddDataSec(".data", 4, (var, 0, 4));                                   // 21
            int fl = b.AddFloat("double", 8);                                                 // 22
            int dt = b.AddDeclTag("tag", bits, 1);                                            // 23
            int tt = b.AddRef(BtfKind.TypeTag, i32, "user");                                  // 24
            int p2 = b.AddRef(BtfKind.Ptr, tt);                                               // 25
            _ = new[] { arr, un, fwdS, fwdU, es, eu, e64s, e64u, v, r, f, ds, fl, dt, p2 };
            return b;
        }

        private static void AssertSameTypes(Btf expected, Btf actual)
        {
            Assert.Equal(expected.TypeCount, actual.TypeCount);
            Assert.Equal(Text(expected), Text(actual));
            Assert.Equal(Json(expected), Json(actual));
        }

        [Fact]
        public void Kind_flag_meanings_are_read_correctly()
        {
            var btf = Btf.Parse(Everything().ToArray(), "all.btf");
            Assert.Equal(26, btf.TypeCount);

            var bits = btf[6];
            Assert.True(bits.KindFlag);
            var m = bits.Members.ToArray();
            Assert.Equal(new[] { 0u, 3u, 8u, 16u }, m.Select(x => x.BitOffset));
            Assert.Equal(new[] { 3, 5, 0, 16 }, m.Select(x => x.BitfieldSize));
            Assert.Equal(new[] { "a", "b", "c", "d" }, m.Select(x => x.Name));
            Assert.Equal(BtfKind.Int, m[2].Type.Kind);

            var un = btf[7];
            Assert.False(un.KindFlag);
            Assert.All(un.Members, x => Assert.Equal(0, x.BitfieldSize));

            Assert.False(btf[8].IsUnionForward);
            Assert.True(btf[9].IsUnionForward);
            Assert.Equal(BtfKind.Fwd, btf[9].Kind);

            var es = btf[10];
            Assert.True(es.IsSigned);
            Assert.Equal(new[] { -5L, 7L, int.MinValue }, es.EnumValues.Select(x => x.SignedValue));
            Assert.All(es.EnumValues, x => Assert.True(x.IsSigned));

            var eu = btf[11];
            Assert.False(eu.IsSigned);
            Assert.Equal(0xF0000000UL, eu.EnumValues.Single().RawValue);

            var e64s = btf[12];
            Assert.Equal(BtfKind.Enum64, e64s.Kind);
            Assert.Equal(new[] { long.MinValue, -1L }, e64s.EnumValues.Select(x => x.SignedValue));
            var e64u = btf[13];
            Assert.False(e64u.IsSigned);
            Assert.Equal(0xFEDCBA9876543210UL, e64u.EnumValues.Single().RawValue);

            Assert.Equal(BtfLinkage.Global, btf[19].Linkage);
            Assert.Equal(BtfLinkage.Global, btf[20].Linkage);
            Assert.Equal(1, btf[23].ComponentIndex);
            Assert.Equal(new[] { "a", "b", "" }, btf[18].Params.Select(x => x.Name));
            Assert.Equal(0, btf[18].GetParam(2).TypeId);
            Assert.Equal(14, btf.Skip(16, typedefs: false));
            Assert.Equal(6, btf.Skip(16));
            Assert.Equal(8, btf.ResolveSize(16));
            Assert.Equal(16, btf.ResolveSize(5));
            Assert.Equal(8, btf.PointerSize);
            Assert.True(btf.PointerSizeKnown);
            Assert.Equal(4, btf.ResolveSize(20));
            Assert.Equal(1, btf.Skip(24));
        }

        [Fact]
        public void Synthetic_btf_dumps_exactly_like_bpftool()
        {
            using var tmp = new TempDir();
            var path = tmp.File("all.btf");
            File.WriteAllBytes(path, Everything().ToArray());
            var expected = Bpftool.Dump(path).StdOutBytes;
            var btf = Btf.Load(path);
            AssertSameText(expected, Text(btf), "synthetic BTF");
            var expectedJson = Bpftool.Dump(path, json: true).StdOutBytes;
            using var ej = System.Text.Json.JsonDocument.Parse(expectedJson);
            using var aj = System.Text.Json.JsonDocument.Parse(Json(btf));
            var diff = JsonDiff(ej.RootElement, aj.RootElement, "$");
            Assert.True(diff == null, diff);
        }

        /// <summary>
        /// bpftool prints "(anon)" only for name offset 0 (btf_str); a non-zero offset that points at an empty string
        /// prints as ''. A DATASEC entry of type 0 (void) prints kind "UNKNOWN" (bpftool's btf_kind_str[0]).
        /// </summary>
        [Fact]
        public void Empty_names_at_non_zero_offsets_and_void_secinfo_dump_like_bpftool()
        {
            var b = new BtfBuilder();
            uint intName = b.AddString("int");
            uint empty = intName + 3; // the NUL that ends "int": an empty string at a non-zero offset
            int i32 = b.AddRaw(intName, (int)BtfKind.Int, 0, false, 4, (1u << 24) | 32);
            b.AddRaw(empty, (int)BtfKind.Struct, 2, false, 8, empty, (uint)i32, 0, b.AddString("named"), (uint)i32, 32);
            b.AddRaw(empty, (int)BtfKind.Enum, 1, false, 4, empty, 5);
            b.AddRaw(0, (int)BtfKind.FuncProto, 1, false, (uint)i32, empty, (uint)i32);
            b.AddRaw(empty, (int)BtfKind.Typedef, 0, false, (uint)i32);
            b.AddDataSec(".bss", 8, (0, 0, 4));
            var data = b.ToArray();
            using var tmp = new TempDir();
            var path = tmp.File("empty-names.btf");
            File.WriteAllBytes(path, data);
            var btf = Btf.Parse(data, "empty-names.btf");
            Assert.False(btf[2].IsAnonymous);
            Assert.Equal("", btf[2].Name);

            var expected = Bpftool.Dump(path).StdOutBytes;
            AssertSameText(expected, Text(btf), "empty names");
            var expectedJson = Bpftool.Dump(path, json: true).StdOutBytes;
            using var ej = System.Text.Json.JsonDocument.Parse(expectedJson);
            using var aj = System.Text.Json.JsonDocument.Parse(Json(btf));
            var diff = JsonDiff(ej.RootElement, aj.RootElement, "$");
            Assert.True(diff == null, diff);
        }

        [Theory]
        [InlineData(4)]
        [InlineData(8)]
        [InlineData(16)]
        [InlineData(40)]
        public void Header_longer_than_24_bytes_parses(int extra)
        {
            var b = Everything();
            var plain = Btf.Parse(b.ToArray(), "plain.btf");
            var data = b.ToArray(extraHeaderBytes: extra);
            Assert.Equal((uint)(24 + extra), GetU32(data, 4));
            var longer = Btf.Parse(data, "long.btf");
            Assert.Equal(24 + extra, longer.HeaderLength);
            AssertSameTypes(plain, longer);

            // bpftool (libbpf) accepts a longer little-endian header too and agrees.
            using var tmp = new TempDir();
            File.WriteAllBytes(tmp.File("long.btf"), b.ToArray(extraHeaderBytes: extra));
            var expected = Bpftool.Dump(tmp.File("long.btf")).StdOutBytes;
            AssertSameText(expected, Text(longer), "longer header");
        }

        [Fact]
        public void Big_endian_output_parses_to_the_same_types()
        {
            var b = Everything();
            var le = Btf.Parse(b.ToArray(), "le.btf");
            var data = b.ToArray(bigEndian: true);
            Assert.Equal(0xEB, data[0]);
            Assert.Equal(0x9F, data[1]);
            var be = Btf.Parse(data, "be.btf");
            Assert.True(be.IsBigEndian);
            Assert.False(le.IsBigEndian);
            AssertSameTypes(le, be);
            Assert.Equal(le.PointerSize, be.PointerSize);
            for (int id = 1; id < le.TypeCount; id++)
            {
                Assert.Equal(Try(() => le.ResolveSize(id)), Try(() => be.ResolveSize(id)));
                Assert.Equal(Try(() => le.AlignOf(id)), Try(() => be.AlignOf(id)));
            }

            // bpftool reads the big-endian file to the same dump.
            using var tmp = new TempDir();
            File.WriteAllBytes(tmp.File("be.btf"), b.ToArray(bigEndian: true));
            var expected = Bpftool.Dump(tmp.File("be.btf")).StdOutBytes;
            AssertSameText(expected, Text(be), "big-endian synthetic");
        }

        private static string Try(Func<long> f)
        {
            try { return f().ToString(); } catch (BtfException) { return "E"; }
        }

        /// <summary>Layout section entries (info size, element size, flags) for kinds 0..maxKind; unknown kind 25 gets (8, 4).</summary>
        private static byte[] Layout(int maxKind, int unknownKind, byte infoSz, byte elemSz, bool bigEndianFlags = false)
        {
            var l = new byte[(maxKind + 1) * 4];
            // Known kinds as the kernel would describe them.
            (int k, byte info, byte elem)[] known =
            {
                (1, 4, 0), (2, 0, 0), (3, 12, 0), (4, 0, 12), (5, 0, 12), (6, 0, 8), (7, 0, 0), (8, 0, 0), (9, 0, 0),
                (10, 0, 0), (11, 0, 0), (12, 0, 0), (13, 0, 8), (14, 4, 0), (15, 0, 12), (16, 0, 0), (17, 4, 0), (18, 0, 0), (19, 0, 12),
            };
            foreach (var (k, info, elem) in known) if (k <= maxKind) { l[k * 4] = info; l[k * 4 + 1] = elem; }
            l[unknownKind * 4] = infoSz;
            l[unknownKind * 4 + 1] = elemSz;
            l[unknownKind * 4 + 2] = 1; // flags (little-endian u16); BtfBuilder swaps it for big-endian output
            return l;
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Unknown_kind_described_by_the_layout_section_is_skipped(bool bigEndian)
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            // Kind 25 record: 12-byte header + 8 info bytes + vlen(3) * 4 element bytes = 32 bytes.
            int unk = b.AddRaw(b.AddString("future"), 25, 3, false, 0, 0xAAAAAAAA, 0xBBBBBBBB, 1, 2, 3);
            int s = b.AddComposite(BtfKind.Struct, "after", 8, ("a", i32, 0, 0), ("b", i32, 32, 0));
            int p = b.AddRef(BtfKind.Ptr, s);
            var layout = Layout(25, 25, 8, 4);
            var data = b.ToArray(bigEndian: bigEndian, kindLayout: layout);
            Assert.Equal(32u, bigEndian ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4)) : GetU32(data, 4));

            var btf = Btf.Parse(data, "layout.btf");
            Assert.Equal(32, btf.HeaderLength);
            Assert.Equal(5, btf.TypeCount);
            Assert.Equal((BtfKind)25, btf[unk].Kind);
            Assert.Equal("future", btf[unk].Name);
            Assert.Equal(3, btf[unk].Vlen);
            var after = btf[s];
            Assert.Equal(BtfKind.Struct, after.Kind);
            Assert.Equal("after", after.Name);
            Assert.Equal(new[] { "a", "b" }, after.Members.Select(x => x.Name));
            Assert.Equal(8, btf.ResolveSize(s));
            Assert.Equal(4, btf.AlignOf(s));
            Assert.Equal(s, btf[p].TypeId);
            Assert.Single(btf.FindTypes("after", BtfKind.Struct));
            Assert.Single(btf.FindTypes("future"));
            // The unknown kind has no size or alignment, but asking is a BtfException.
            Throws(() => btf.ResolveSize(unk));
            Throws(() => btf.AlignOf(unk));
            // It can still be dumped.
            Assert.Contains("'after'", Encoding.UTF8.GetString(Text(btf)));

            // Without the layout section the same types fail, naming the kind and the record.
            var b2 = new BtfBuilder();
            b2.AddInt("int", 4, BtfIntEncoding.Signed);
            b2.AddRaw(b2.AddString("future"), 25, 3, false, 0, 0xAAAAAAAA, 0xBBBBBBBB, 1, 2, 3);
            b2.AddComposite(BtfKind.Struct, "after", 8, ("a", 1, 0, 0), ("b", 1, 32, 0));
            var e = Throws(() => Btf.Parse(b2.ToArray(bigEndian: bigEndian), "nolayout.btf"), "kind 25", "layout");
            Assert.Equal(unk, e.TypeId);
            Assert.Equal(24 + 16, e.Offset);

            // A layout section too short to describe kind 25 fails the same way.
            var e2 = Throws(() => Btf.Parse(b.ToArray(bigEndian: bigEndian, kindLayout: Layout(20, 20, 0, 0)), "short.btf"), "kind 25");
            Assert.Equal(unk, e2.TypeId);
        }

        /// <summary>
        /// Kinds above 31 need the 7-bit kind field of the newer encoding: read with the old 5-bit mask, kind 100 would be
        /// 4 (STRUCT), 36 would be 4 too, 127 would be 31 (unknown), and the record would be misread or misjudged.
        /// </summary>
        [Theory]
        [InlineData(32, false, false)]
        [InlineData(100, false, false)]
        [InlineData(100, true, false)]
        [InlineData(100, true, true)]
        [InlineData(127, false, true)]
        public void Kind_above_31_described_by_the_layout_section_is_skipped(int kind, bool kindFlag, bool bigEndian)
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            // 12-byte header + 4 info bytes + vlen(2) * 8 element bytes = 32 bytes; the element words look like a STRUCT's members
            // (name offset 1, type 1, offset 0) so that a reader taking the kind as STRUCT would "succeed" with the wrong record.
            int unk = b.AddRaw(b.AddString("far_future"), kind, 2, kindFlag, 8, 0xCCCCCCCC, 1, 1, 1, 1);
            int s = b.AddComposite(BtfKind.Struct, "after", 8, ("a", i32, 0, 0), ("b", i32, 32, 0));
            int p = b.AddRef(BtfKind.Ptr, s);
            int en = b.AddEnum("tail_enum", 4, true, false, ("T_A", -1), ("T_B", 7));
            var data = b.ToArray(bigEndian: bigEndian, kindLayout: Layout(kind, kind, 4, 8));
            // The info word really carries the kind in bits 24..30 (and the kind flag in bit 31).
            int rec = 32 + 16;
            uint info = bigEndian ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(rec + 4)) : GetU32(data, rec + 4);
            Assert.Equal((uint)kind, (info >> 24) & 0x7f);
            Assert.Equal(kindFlag, (info >> 31) != 0);

            var btf = Btf.Parse(data, "kind" + kind + ".btf");
            Assert.Equal(32, btf.HeaderLength);
            Assert.Equal(6, btf.TypeCount); // void + 5
            var u = btf[unk];
            Assert.Equal((BtfKind)kind, u.Kind);
            Assert.Equal(kindFlag, u.KindFlag);
            Assert.Equal(2, u.Vlen);
            Assert.Equal("far_future", u.Name);
            Assert.Single(btf.FindTypes("far_future"));
            Assert.Empty(btf.FindTypes("far_future", BtfKind.Struct));
            Throws(() => btf.ResolveSize(unk));
            Throws(() => btf.AlignOf(unk));
            // Every record after it is where the layout section says: the struct, the pointer to it, the enum.
            var after = btf[s];
            Assert.Equal(BtfKind.Struct, after.Kind);
            Assert.Equal("after", after.Name);
            Assert.Equal(new[] { ("a", i32, 0L), ("b", i32, 32L) }, after.Members.Select(x => (x.Name, x.TypeId, (long)x.BitOffset)));
            Assert.Equal(8, btf.ResolveSize(s));
            Assert.Equal(s, btf[p].TypeId);
            Assert.Equal(8, btf.ResolveSize(p));
            Assert.Equal(BtfKind.Enum, btf[en].Kind);
            Assert.True(btf[en].IsSigned);
            Assert.Equal(new[] { "T_A", "T_B" }, btf[en].EnumValues.Select(v => v.Name));
            Assert.Equal(new long[] { -1, 7 }, btf[en].EnumValues.Select(v => v.SignedValue));
            Assert.Equal(s, Assert.Single(btf.FindTypes("after", BtfKind.Struct)).Id);
            Assert.Contains("'tail_enum'", Encoding.UTF8.GetString(Text(btf)));

            // Without a layout section: the clear error naming the kind, the record's id and byte offset.
            var noLayout = b.ToArray(bigEndian: bigEndian);
            var e = Throws(() => Btf.Parse(noLayout, "nolayout.btf"), "kind " + kind, "layout");
            Assert.Equal(unk, e.TypeId);
            Assert.Equal(24 + 16, e.Offset);
            // A layout section that stops one kind short fails the same way.
            var e2 = Throws(() => Btf.Parse(b.ToArray(bigEndian: bigEndian, kindLayout: Layout(kind - 1, kind - 1, 4, 8)), "short.btf"), "kind " + kind);
            Assert.Equal(unk, e2.TypeId);
        }

        [Fact]
        public void Layout_section_with_known_kinds_only_does_not_change_anything()
        {
            var b = Everything();
            var plain = Btf.Parse(b.ToArray(), "plain.btf");
            var withLayout = Btf.Parse(b.ToArray(kindLayout: Layout(19, 19, 0, 12)), "layout.btf");
            AssertSameTypes(plain, withLayout);
        }

        [Fact]
        public void Bad_layout_section_bounds_are_rejected()
        {
            var b = new BtfBuilder();
            b.AddInt("int", 4);
            var data = b.ToArray(kindLayout: Layout(19, 19, 0, 12));
            int typeLen = (int)GetU32(data, 12);
            var d = (byte[])data.Clone();
            PutU32(d, 28, 0x1000); // layout length past the strings
            Assert.Equal(24, Throws(() => Btf.Parse(d, "l.btf"), "kind layout").Offset);
            d = (byte[])data.Clone();
            PutU32(d, 24, (uint)typeLen + 2); // unaligned
            Throws(() => Btf.Parse(d, "l.btf"), "kind layout");
            d = (byte[])data.Clone();
            PutU32(d, 24, 0); // overlaps the types
            Throws(() => Btf.Parse(d, "l.btf"), "kind layout", "overlaps");
            d = (byte[])data.Clone();
            PutU32(d, 28, 78); // not a multiple of 4
            Throws(() => Btf.Parse(d, "l.btf"), "kind layout");
        }

        [Fact]
        public void Unaligned_layout_sizes_are_rejected()
        {
            var b = new BtfBuilder();
            b.AddRaw(0, 25, 1, false, 0, 0, 0);
            var e = Throws(() => Btf.Parse(b.ToArray(kindLayout: Layout(25, 25, 3, 4)), "u.btf"), "kind 25");
            Assert.Equal(1, e.TypeId);
        }

        [Fact]
        public void Twenty_four_bit_vlen()
        {
            const int n = 70000;
            var b = new BtfBuilder();
            var values = Enumerable.Range(0, n).Select(i => ("V" + i, (long)i * 3 - 100)).ToArray();
            int e = b.AddEnum("huge", 4, true, false, values);
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            var members = Enumerable.Range(0, n).Select(i => ("m" + i, i32, (uint)i * 32, 0)).ToArray();
            int s = b.AddComposite(BtfKind.Struct, "wide", (uint)n * 4, members);
            foreach (var be in new[] { false, true })
            {
                var btf = Btf.Parse(b.ToArray(bigEndian: be), "vlen.btf");
                var t = btf[e];
                Assert.Equal(n, t.Vlen);
                Assert.Equal(n, t.EnumValues.Count());
                Assert.Equal("V69999", t.GetEnumValue(n - 1).Name);
                Assert.Equal(69999L * 3 - 100, t.GetEnumValue(n - 1).SignedValue);
                Assert.Equal(-100L, t.GetEnumValue(0).SignedValue);
                Assert.Equal("V65536", t.GetEnumValue(65536).Name);
                var w = btf[s];
                Assert.Equal(n, w.Vlen);
                Assert.Equal("m69999", w.GetMember(n - 1).Name);
                Assert.Equal(69999u * 32, w.GetMember(n - 1).BitOffset);
                Assert.Equal(i32, w.GetMember(n - 1).TypeId);
                Assert.Equal(4, btf.AlignOf(s));
                Assert.Equal(n * 4L, btf.ResolveSize(s));
                Assert.Equal(i32, btf[i32].Id);
                Assert.Equal("int", btf[i32].Name); // the record after the big enum is found at the right place
                Assert.Single(btf.FindTypes("wide", BtfKind.Struct));
            }
        }

        [Fact]
        public void Split_btf_built_over_a_real_base()
        {
            var baseBtf = BtfSupport.Kernel("x86_64-6.12");
            var ts = baseBtf.FindTypes("task_struct", BtfKind.Struct).Single();
            var b = new BtfBuilder(baseBtf);
            int p = b.AddRef(BtfKind.Ptr, ts.Id);
            int s = b.AddComposite(BtfKind.Struct, "my_mod_state", 16, ("task", p, 0, 0), ("n", baseBtf.FindTypes("int", BtfKind.Int).Single().Id, 64, 0));
            var mod = Btf.Parse(b.ToArray(), "mod.btf", baseBtf);
            Assert.Equal(baseBtf.TypeCount, p);
            Assert.Equal(baseBtf.TypeCount, mod.FirstTypeId);
            Assert.Equal(ts.Id, mod.Skip(mod[p].TypeId));
            Assert.Equal(16, mod.ResolveSize(s));
            Assert.Equal(8, mod.AlignOf(s));
            Assert.Equal(s, mod.FindTypes("my_mod_state").Single().Id);
            Assert.Equal(ts.Id, mod.FindTypes("task_struct", BtfKind.Struct).Single().Id);
            // An anonymous type (PTR) must be written with name offset 0, as libbpf's btf__add_str("") does for split
            // BTF (it finds "" in the base); the kernel rejects a PTR with a non-zero name_off ("Invalid name").
            Assert.Equal(0u, mod[p].NameOffset);
            Assert.True(mod[p].IsAnonymous);

            using var tmp = new TempDir();
            File.WriteAllBytes(tmp.File("mod.btf"), b.ToArray());
            var expected = Bpftool.Dump(tmp.File("mod.btf"), Fixtures.Path("x86_64-6.12")).StdOutBytes;
            AssertSameText(expected, Text(mod), "synthetic split BTF");
        }
    }
}
