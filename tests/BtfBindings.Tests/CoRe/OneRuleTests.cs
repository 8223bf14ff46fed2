using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Layout;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// The single sources of truth: the bitfield load-window rule (<see cref="BitfieldWindows"/>, libbpf's
    /// <c>bpf_core_calc_field_relo</c>, root-relative) and the field kind (<see cref="FieldKinds"/>, which libbpf's
    /// <c>bpf_core_fields_are_compat</c> needs), on hand-built BTF.
    /// </summary>
    public class OneRuleTests
    {
        /// <summary>
        /// libbpf's rule written out again, independently of the product (relo_core.c, bpf_core_calc_field_relo):
        /// byte_sz = mem_sz; byte_off = bit_off / 8 / byte_sz * byte_sz; while the field ends past the window, fail at
        /// byte_sz &gt;= 8 else double it. LSHIFT_U64 and RSHIFT_U64 per byte order. Null when libbpf fails.
        /// </summary>
        private static (uint off, uint size, long lshift, long rshift)? Libbpf(uint bitOff, uint bitSz, uint memSz, bool bigEndian)
        {
            uint byteSz = memSz, byteOff = bitOff / 8 / byteSz * byteSz;
            while (bitOff + bitSz - byteOff * 8 > byteSz * 8)
            {
                if (byteSz >= 8) return null;
                byteSz *= 2;
                byteOff = bitOff / 8 / byteSz * byteSz;
            }
            long l = bigEndian ? (8 - (long)byteSz) * 8 + (bitOff - byteOff * 8) : 64 - ((long)bitOff + bitSz - byteOff * 8);
            return (byteOff, byteSz, l, 64 - bitSz);
        }

        [Fact]
        public void Window_is_libbpfs_for_every_offset_width_and_member_size()
        {
            int checkedCount = 0, failing = 0;
            foreach (bool be in new[] { false, true })
                foreach (uint mem in new uint[] { 1, 2, 4, 8, 16 })
                    for (uint off = 0; off < 160; off++)
                        for (uint bits = 1; bits <= Math.Min(64u, mem * 8); bits++)
                        {
                            var want = Libbpf(off, bits, mem, be);
                            var got = BitfieldWindows.Bitfield(off, bits, mem, be);
                            if (want == null)
                            {
                                Assert.False(got.Fits);
                                Assert.False(got.IsLoadable);
                                Assert.Equal(Math.Max(8u, mem), got.ByteSize); // the last window libbpf tried
                                failing++;
                            }
                            else
                            {
                                var w = want.Value;
                                Assert.Equal((w.off, w.size), (got.ByteOffset, got.ByteSize));
                                if (w.size <= 8) Assert.Equal((w.lshift, w.rshift), ((long)got.LeftShift, (long)got.RightShift));
                                Assert.Equal(w.size <= 8, got.IsLoadable);
                            }
                            checkedCount++;
                        }
            Assert.True(failing > 1000 && checkedCount > 50000, $"{checkedCount} cases, {failing} libbpf rejects");
        }

        [Fact]
        public void Window_of_a_member_type_wider_than_8_is_its_size_as_in_libbpf()
        {
            // __int128 x: 8 at bit 0: libbpf's loop never runs, the window is the 16-byte member type (no BPF load can serve it).
            var w = BitfieldWindows.Bitfield(0, 8, 16, false);
            Assert.Equal((0u, 16u), (w.ByteOffset, w.ByteSize));
            Assert.False(w.IsLoadable);
            // Crossing the 16-byte unit: libbpf fails (byte_sz >= 8 when the loop would widen it).
            Assert.False(BitfieldWindows.Bitfield(120, 16, 16, false).Fits);
        }

        /// <summary>
        /// An i386 target (long and pointers 4 bytes, u64 aligned to 4): <c>struct outer { u32 x; struct inner in; }</c> puts
        /// <c>in</c> at byte 4, and <c>struct inner { u8 a; u64 bg:8 (bit 8); u64 bf:20 (bit 40); u64 bh:30 (bit 60); }</c>
        /// has u64 bitfields whose libbpf windows, aligned in the root (outer), differ from windows aligned in inner.
        /// </summary>
        private static Btf I386(bool bigEndian)
        {
            var b = new BtfBuilder();
            b.AddInt("long int", 4, BtfIntEncoding.Signed);
            int u8 = b.AddInt("unsigned char", 1);
            int u32 = b.AddInt("unsigned int", 4);
            int u64 = b.AddInt("long long unsigned int", 8);
            int inner = b.AddComposite(BtfKind.Struct, "inner", 12, ("a", u8, 0, 0), ("bg", u64, 8, 8), ("bf", u64, 40, 20), ("bh", u64, 60, 30));
            b.AddComposite(BtfKind.Struct, "outer", 16, ("x", u32, 0, 0), ("in", inner, 32, 0));
            // A u64 bitfield libbpf rejects in the root although it fits a load aligned in its own struct.
            int inner2 = b.AddComposite(BtfKind.Struct, "inner2", 8, ("pad", u8, 0, 0), ("bi", u64, 16, 30));
            b.AddComposite(BtfKind.Struct, "outer2", 12, ("x", u32, 0, 0), ("in", inner2, 32, 0));
            return Btf.Parse(b.ToArray(bigEndian));
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void Nested_member_bitfield_windows_are_root_relative_as_libbpf(bool bigEndian)
        {
            var btf = I386(bigEndian);
            Assert.Equal(4, btf.PointerSize);
            var layouts = new PlannedLayouts(LayoutPlanner.Plan(btf, new[] { "outer", "outer2" }, null, out _), "i386");
            var innerL = layouts["inner"]!;
            // The metadata as generated code has it: the struct member names its type's layout, so the owner resolves it (and views reach it).
            var planned = layouts["outer"]!;
            var outerL = new BtfTypeLayout(planned.BtfName, planned.Kind, planned.Size,
                planned.Fields.Select(f => new BtfFieldLayout(f.Name, f.BitOffset, f.BitSize, f.IsBitfield, f.IsSigned, f.Kind, f.CType, f.ByteSize,
                    f.TypeName, f.ArrayLength, f.ElementKind, f.Name == "in" ? innerL : null)).ToArray(), planned.SourceFile, planned.PointerSize);
            var kernel = new TargetKernel(btf);
            var outer = kernel.Resolve(outerL);
            var inner = outer.Nested("in", innerL);
            const uint inBits = 32;
            foreach (var (name, bit, width) in new[] { ("bg", 8u, 8u), ("bf", 40u, 20u), ("bh", 60u, 30u) })
            {
                var f = inner[name];
                var want = Libbpf(inBits + bit, width, 8, bigEndian);
                Assert.True(want != null, name);
                var w = want!.Value;
                Assert.True(f.IsReadable, $"{name}: {f.Problem}");
                Assert.Equal((long)w.off - inBits / 8, f.WindowOffset);           // relative to the member, from the root's window
                Assert.Equal(w.size, f.ByteSize);
                Assert.Equal((w.lshift, w.rshift), ((long)f.LeftShift, (long)f.RightShift));
                Assert.Equal(bit, f.BitOffset);
            }
            // bg's root window starts at byte 0 of outer, 4 bytes before the member; bh, unreadable if aligned in inner, is readable.
            Assert.Equal(-4, inner["bg"].WindowOffset);
            Assert.Equal(0u, inner["bg"].ByteOffset);
            Assert.Equal(4, inner["bh"].WindowOffset);

            // The build-time plan has inner as its own root: its windows are libbpf's for inner alone.
            var innerPlan = layouts.PlannedTypeOf(innerL);
            var bh = innerPlan.Fields.Single(f => f.Name == "bh");
            Assert.False(bh.Window.Fits); // 60 + 30 > 64 in an 8-byte load at 0: libbpf rejects it for a root inner
            var bf = innerPlan.Fields.Single(f => f.Name == "bf");
            var bfWant = Libbpf(40, 20, 8, bigEndian)!.Value;
            Assert.Equal((bfWant.off, bfWant.size, (int)bfWant.lshift, (int)bfWant.rshift), (bf.Window.ByteOffset, bf.Window.ByteSize, bf.Window.LeftShift, bf.Window.RightShift));

            // Values through a view over the outer object: the window before the member is read from the outer bytes.
            var data = new byte[16];
            var view = CoreView.Create(data, outer, outerL);
            var iv = view.Nested(outer.TryIndexOf("in"), outerL.Fields.Count);
            int ibg = inner.TryIndexOf("bg"), ibf = inner.TryIndexOf("bf"), ibh = inner.TryIndexOf("bh");
            iv.WriteAs(ibg, 0xA5UL);
            iv.WriteAs(ibf, 0xBCDEFUL);
            iv.WriteAs(ibh, 0x2345678UL);
            Assert.Equal(0xA5UL, iv.ReadAs<ulong>(ibg));
            Assert.Equal(0xBCDEFUL, iv.ReadAs<ulong>(ibf));
            Assert.Equal(0x2345678UL, iv.ReadAs<ulong>(ibh));
            // The bits are where the compiler puts them (bit offsets from outer's start, in the target's bit order).
            Assert.Equal(0xA5UL, Bitfield.ReadUnsigned(ref data[0], inBits + 8, 8, bigEndian));
            Assert.Equal(0xBCDEFUL, Bitfield.ReadUnsigned(ref data[0], inBits + 40, 20, bigEndian));
            Assert.Equal(0x2345678UL, Bitfield.ReadUnsigned(ref data[0], inBits + 60, 30, bigEndian));
            // With only the member's bytes, a window that starts before them cannot be loaded: the error says so.
            var e = Assert.Throws<CoreFieldException>(() => inner.Read(ibg, data.AsSpan(4, 12)));
            Assert.Contains("before this member", e.Message);
            Assert.Equal(0xBCDEFUL, inner.Read(ibf, data.AsSpan(4, 12)));

            // outer2.in.bi: fits an 8-byte load aligned in inner2, but libbpf (root-relative: bit 48 + 30 > 64) rejects it.
            var outer2 = kernel.Resolve(layouts["outer2"]!);
            var bi = outer2.Nested("in", layouts["inner2"]!)["bi"];
            Assert.Null(Libbpf(32 + 16, 30, 8, bigEndian));
            Assert.True(bi.Exists);
            Assert.False(bi.IsReadable);
            Assert.Equal(CoreFieldStatus.Unreadable, bi.Status);
        }

        // ---- field kinds and bpf_core_fields_are_compat ----------------------------------------------------------

        /// <summary>A struct "dev" whose member reg_state is given by <paramref name="member"/> (the builder, returns the member type and bitfield size).</summary>
        private static Btf Dev(Func<BtfBuilder, (int type, int bits)> member)
        {
            var b = new BtfBuilder();
            b.AddInt("long int", 8, BtfIntEncoding.Signed);
            int u32 = b.AddInt("unsigned int", 4);
            var (t, bits) = member(b);
            b.AddComposite(BtfKind.Struct, "dev", 8, ("pad", u32, 0, 0), ("reg_state", t, 32, bits));
            return Btf.Parse(b.ToArray());
        }

        private static BtfTypeLayout Local(Btf btf) => new PlannedLayouts(LayoutPlanner.Plan(btf, new[] { "dev" }, null, out _))["dev"]!;

        [Fact]
        public void Anonymous_enum_field_is_an_enum_in_the_plan_and_the_metadata()
        {
            var btf = Dev(b => (b.AddEnum("", 4, false, false, ("NETREG_UNINITIALIZED", 0), ("NETREG_REGISTERED", 1)), 8));
            var plan = LayoutPlanner.Plan(btf, new[] { "dev" }, null, out _);
            var f = plan.Types.Single(t => t.Name == "dev").Fields.Single(x => x.Name == "reg_state");
            Assert.Equal(TypeShapeKind.Scalar, f.Type.Kind); // C# holds it as its integer...
            Assert.True(f.Type.IsAnonymousEnum);
            Assert.Equal(BtfFieldKind.Enum, f.KindInfo.Kind); // ...CO-RE matches it as an enum
            Assert.Equal("", f.KindInfo.TypeName);
            var meta = Local(btf).Field("reg_state")!;
            Assert.Equal(BtfFieldKind.Enum, meta.Kind);
            Assert.Equal("", meta.TypeName);
            Assert.Equal("enum {...}", meta.CType);
        }

        [Fact]
        public void Field_kinds_one_function_for_every_shape()
        {
            static PlannedField F(TypeShape s, bool flex = false) => new PlannedField { Type = s, IsFlexibleArray = flex };
            var i32 = new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = ScalarKind.I32, ByteSize = 4 };
            var f64 = new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = ScalarKind.F64, ByteSize = 8 };
            var anon = new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = ScalarKind.U32, ByteSize = 4, IsAnonymousEnum = true, EnumBtfName = "" };
            var named = new TypeShape { Kind = TypeShapeKind.Enum, Scalar = ScalarKind.U32, ByteSize = 4, TypeName = "pid_type___2", EnumBtfName = "pid_type" };
            var st = new TypeShape { Kind = TypeShapeKind.Composite, TypeName = "list_head", ByteSize = 16 };
            var nested = new TypeShape { Kind = TypeShapeKind.Composite, TypeName = "__anon_u", IsNested = true, ByteSize = 8 };
            var ptr = new TypeShape { Kind = TypeShapeKind.Pointer, ByteSize = 8 };
            var bytes = new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = 16 };
            var arr2 = new TypeShape { Kind = TypeShapeKind.Array, Length = 2, ByteSize = 64, Element = new TypeShape { Kind = TypeShapeKind.Array, Length = 2, ByteSize = 32, Element = st } };
            var flex = new TypeShape { Kind = TypeShapeKind.Array, Length = 0, Element = named };
            Assert.Equal((BtfFieldKind.Int, "", 0u, BtfFieldKind.Bytes), Tuple(F(i32)));
            Assert.Equal((BtfFieldKind.Float, "", 0u, BtfFieldKind.Bytes), Tuple(F(f64)));
            Assert.Equal((BtfFieldKind.Enum, "", 0u, BtfFieldKind.Bytes), Tuple(F(anon)));
            Assert.Equal((BtfFieldKind.Enum, "pid_type", 0u, BtfFieldKind.Bytes), Tuple(F(named))); // the BTF name, not the planned ___2
            Assert.Equal((BtfFieldKind.Struct, "list_head", 0u, BtfFieldKind.Bytes), Tuple(F(st)));
            Assert.Equal((BtfFieldKind.Struct, "", 0u, BtfFieldKind.Bytes), Tuple(F(nested)));
            Assert.Equal((BtfFieldKind.Pointer, "", 0u, BtfFieldKind.Bytes), Tuple(F(ptr)));
            Assert.Equal((BtfFieldKind.Bytes, "", 0u, BtfFieldKind.Bytes), Tuple(F(bytes)));
            Assert.Equal((BtfFieldKind.Array, "list_head", 2u, BtfFieldKind.Struct), Tuple(F(arr2)));
            Assert.Equal((BtfFieldKind.FlexibleArray, "pid_type", 0u, BtfFieldKind.Enum), Tuple(F(flex, true)));

            static (BtfFieldKind, string, uint, BtfFieldKind) Tuple(PlannedField f) { var k = f.KindInfo; return (k.Kind, k.TypeName, k.ArrayLength, k.ElementKind); }
        }

        [Fact]
        public void Anonymous_enum_bitfield_against_a_u8_is_missing_as_libbpf_rejects_enum_vs_int()
        {
            // 5.4's net_device.reg_state (enum {...} reg_state:8) against a kernel where it is a u8.
            var local = Local(Dev(b => (b.AddEnum("", 4, false, false, ("NETREG_UNINITIALIZED", 0)), 8)));
            var target = new TargetKernel(Dev(b => (b.AddInt("u8", 1), 0)));
            var f = target.Resolve(local)["reg_state"];
            Assert.False(f.Exists);
            Assert.Equal(CoreFieldStatus.Missing, f.Status);
            Assert.Contains("incompatible", f.Problem);
        }

        public static IEnumerable<object[]> EnumTargets()
        {
            // (local enum name, local ENUM64?, target enum name, target ENUM64?, compatible per bpf_core_fields_are_compat)
            yield return new object[] { "", false, "", false, true };
            yield return new object[] { "", false, "", true, true };           // ENUM vs ENUM64: btf_kind_core_compat
            yield return new object[] { "", false, "netdev_reg_state", false, true }; // one side anonymous
            yield return new object[] { "reg", false, "", true, true };
            yield return new object[] { "reg", false, "reg___v2", true, true }; // same essential name
            yield return new object[] { "reg", true, "reg", false, true };
            yield return new object[] { "reg", false, "other", false, false };
        }

        [Theory]
        [MemberData(nameof(EnumTargets))]
        public void Enum_to_enum_named_or_anonymous_enum32_or_64_follows_libbpf(string localName, bool local64, string targetName, bool target64, bool compatible)
        {
            var local = Local(Dev(b => (b.AddEnum(localName, local64 ? 8u : 4u, false, local64, ("A", 0), ("B", 1)), 8)));
            Assert.Equal(BtfFieldKind.Enum, local.Field("reg_state")!.Kind);
            var target = new TargetKernel(Dev(b => (b.AddEnum(targetName, target64 ? 8u : 4u, false, target64, ("B", 1), ("A", 0)), 8)));
            var f = target.Resolve(local)["reg_state"];
            Assert.Equal(compatible, f.Exists);
            if (compatible) Assert.True(f.IsReadable, f.Problem);
        }

        [Fact]
        public void Int_field_against_an_enum_is_missing()
        {
            var local = Local(Dev(b => (b.AddInt("u8", 1), 0)));
            var target = new TargetKernel(Dev(b => (b.AddEnum("", 4, false, false, ("A", 0)), 8)));
            Assert.False(target.Resolve(local)["reg_state"].Exists);
        }
    }
}
