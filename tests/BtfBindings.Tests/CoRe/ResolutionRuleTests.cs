using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>Single libbpf rules on hand-built BTF: flavors, candidate kinds, bitfield windows, size changes, legacy ints.</summary>
    public class ResolutionRuleTests
    {
        [Theory] // btf-anchors.md §3.1, libbpf column
        [InlineData("task_struct___v2", "task_struct")]
        [InlineData("a___b___c", "a___b")]
        [InlineData("foo____bar", "foo____bar")]
        [InlineData("a_____b", "a_____b")]
        [InlineData("foo___", "foo___")]
        [InlineData("___foo", "___foo")]
        [InlineData("foo__bar", "foo__bar")]
        public void Essential_name_libbpf_rule(string name, string essential)
        {
            Assert.Equal(essential, FlavorRules.EssentialName(name));
            Assert.Equal(essential, BpftoolOracle.Essential(name));
        }

        private static BtfFieldLayout F(string name, uint bitOff, uint bits, BtfFieldKind kind = BtfFieldKind.Int, bool signed = false, bool bitfield = false, uint byteSize = 4, string typeName = "")
            => new BtfFieldLayout(name, bitOff, bits, bitfield, signed, kind, kind == BtfFieldKind.Int ? (signed ? "int" : "unsigned int") : "x", byteSize, typeName);

        private static BtfTypeLayout T(string name, params BtfFieldLayout[] fields) => new BtfTypeLayout(name, BtfKind.Struct, 64, fields, "test", 8);

        [Fact]
        public void Candidates_same_kind_only_enum_and_enum64_together_flavors_included()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddComposite(BtfKind.Struct, "bpf_sk_lookup", 4, ("x", i, 0, 0));
            b.AddFunc("bpf_sk_lookup", b.AddFuncProto(i), BtfLinkage.Global);   // same name, other kind (cilium#850)
            b.AddComposite(BtfKind.Struct, "bpf_sk_lookup___flavor", 4, ("x", i, 0, 0));
            b.AddComposite(BtfKind.Union, "bpf_sk_lookup", 4, ("x", i, 0, 0));
            b.AddEnum("e", 4, false, false, ("A", 1));
            b.AddEnum("e___x", 8, false, true, ("A", 1));
            var k = new TargetKernel(Btf.Parse(b.ToArray()));
            Assert.Equal(new[] { "bpf_sk_lookup", "bpf_sk_lookup___flavor" }, k.FindCandidates("bpf_sk_lookup", BtfKind.Struct).Select(t => t.Name));
            Assert.Single(k.FindCandidates("bpf_sk_lookup___v9", BtfKind.Union));
            Assert.Equal(2, k.FindCandidates("e", BtfKind.Enum).Count);
            Assert.Equal(2, k.FindCandidates("e", BtfKind.Enum64).Count);
            Assert.Throws<NotSupportedException>(() => k.Resolve(new BtfTypeLayout("", BtfKind.Struct, 4, Array.Empty<BtfFieldLayout>(), "t", 8)));
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Bitfield_window_widens_like_libbpf_in_the_targets_byte_order(bool bigEndian)
        {
            // unsigned int x:20 at bit 20 crosses the 4-byte unit: libbpf widens the load to 8 bytes at offset 0.
            var b = new BtfBuilder();
            int u = b.AddInt("unsigned int", 4);
            b.AddComposite(BtfKind.Struct, "w", 8, ("pad", u, 0, 20), ("x", u, 20, 20), ("y", u, 40, 3));
            var k = new TargetKernel(Btf.Parse(b.ToArray(bigEndian)));
            var r = k.Resolve(T("w", F("x", 0, 20, bitfield: true), F("y", 32, 3, bitfield: true)));
            var x = r["x"];
            Assert.True(x.IsBitfield);
            Assert.Equal(0u, x.ByteOffset);
            Assert.Equal(8u, x.ByteSize);
            Assert.Equal(bigEndian ? 20 : 24, x.LeftShift);
            Assert.Equal(44, x.RightShift);
            Assert.Equal(4u, r["y"].ByteOffset); // fits its own 4-byte unit at offset 4
            Assert.Equal(4u, r["y"].ByteSize);
            var data = new byte[8];
            r.Write(0, data, 0xABCDE);
            r.Write(1, data, 5);
            Assert.Equal(0xABCDEUL, r.Read(0, data));
            Assert.Equal(5UL, r.Read(1, data));
            // The bits are where a C compiler for that byte order puts them.
            ulong whole = bigEndian ? System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(data) : BitConverter.ToUInt64(data);
            Assert.Equal(0xABCDEUL, bigEndian ? (whole >> (64 - 40)) & 0xFFFFF : (whole >> 20) & 0xFFFFF);
        }

        [Fact]
        public void Size_changes_unsigned_and_pointers_only_narrowing_checks_the_value()
        {
            var b = new BtfBuilder();
            int u8 = b.AddInt("unsigned long", 8);
            int s8 = b.AddInt("long", 8, BtfIntEncoding.Signed);
            int u2 = b.AddInt("unsigned short", 2);
            int vd = b.AddRef(BtfKind.Ptr, 0);
            b.AddComposite(BtfKind.Struct, "s", 32, ("wide", u8, 0, 0), ("swide", s8, 64, 0), ("narrow", u2, 128, 0), ("p", vd, 192, 0));
            var k = new TargetKernel(Btf.Parse(b.ToArray()));
            var r = k.Resolve(T("s", F("wide", 0, 32), F("swide", 32, 32, signed: true), F("narrow", 64, 32), F("p", 128, 32, BtfFieldKind.Pointer, byteSize: 4)));
            Assert.True(r["wide"].IsReadable);
            Assert.False(r["swide"].IsReadable);
            Assert.Equal(CoreFieldStatus.Unreadable, r["swide"].Status);
            Assert.True(r["narrow"].IsReadable);
            Assert.True(r["p"].IsReadable);
            Assert.Equal(-1, r.FastOffsets[0]); // size changed: the general path
            var d = new byte[32];
            r.Write(0, d, 7);
            Assert.Equal(7UL, r.Read(0, d));
            BitConverter.GetBytes(ulong.MaxValue).CopyTo(d, 0);
            Assert.Throws<CoreFieldException>(() => r.Read(0, d));     // does not fit the 4-byte generated field
            Assert.Throws<CoreFieldException>(() => r.Write(2, d, 0x12345)); // does not fit the target's 2 bytes
            r.Write(2, d, 0xFFFF);
            Assert.Equal(0xFFFFUL, r.Read(2, d));
        }

        [Fact]
        public void Legacy_bitfield_int_is_incompatible_and_composite_mismatch_is_missing()
        {
            var b = new BtfBuilder();
            int legacy = b.AddInt("int", 4, BtfIntEncoding.Signed, bits: 8, bitOffset: 8);
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            int inner = b.AddComposite(BtfKind.Struct, "in", 4, ("a", i, 0, 0));
            b.AddComposite(BtfKind.Struct, "s", 12, ("old", legacy, 0, 0), ("now_struct", inner, 32, 0), ("ok", i, 64, 0));
            var r = new TargetKernel(Btf.Parse(b.ToArray())).Resolve(T("s", F("old", 0, 32, signed: true), F("now_struct", 32, 32, signed: true), F("ok", 64, 32, signed: true)));
            Assert.False(r["old"].Exists);
            Assert.Contains("legacy", r["old"].Problem);
            Assert.False(r["now_struct"].Exists);
            Assert.True(r["ok"].Exists);
            Assert.Equal(8, r.FastOffsets[2]);
        }

        [Fact]
        public void Resolve_is_cached_and_thread_safe()
        {
            var k = new TargetKernel(CoreFixtures.Kernel("x86_64-6.12"));
            var layout = CoreFixtures.Layouts(CoreFixtures.Kernel("x86_64-5.10"), "task_struct")["task_struct"]!;
            var all = new CoreTypeResolution[32];
            Parallel.For(0, all.Length, n => all[n] = k.Resolve(layout));
            Assert.All(all, r => Assert.Same(all[0], r));
            var seLayout = CoreFixtures.Layouts(CoreFixtures.Kernel("x86_64-5.10"), "task_struct");
            Assert.NotSame(all[0], k.ResolveUncached(layout));
        }
    }
}
