using System;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Ambiguity decided per relocation kind, on tests/fixtures/ambiguity (same-named <c>___a</c>/<c>___b</c> candidates
    /// that disagree in one way each; local.h the build-time side). What libbpf 1.1 gave for every kind of these paths
    /// (core_oracle; LibbpfDifferentialTests.Same_named_candidates_agree_with_libbpf_per_relocation_kind checks it again
    /// in the full tier): amb_size.v EXISTS 1, offset 0, size/shifts refused; amb_sign.v signedness refused, the rest
    /// relocated; amb_bits.f offset 0, size 4, shifts refused; amb_move.v every kind refused ("field offset ambiguity");
    /// amb_member.m offset 4, size refused, m.c at 4, m.d refused; amb_shift.b refused but b.c at 4 and b.d at 8.
    /// Here: the views, reads, Exists and the compatibility rule follow the same answers.
    /// </summary>
    public class PerKindAmbiguityTests
    {
        private static readonly Btf Local = Fixtures.Kernel("ambiguity/local.o");
        private static readonly TargetKernel K = new TargetKernel(Fixtures.Kernel("ambiguity/target.o"), "synthetic");

        [Theory]
        [InlineData("amb_size", "v", (int)(CoreRelocationKinds.ByteSize | CoreRelocationKinds.LeftShift | CoreRelocationKinds.RightShift))]
        [InlineData("amb_sign", "v", (int)(CoreRelocationKinds.Signed))]
        [InlineData("amb_sign", "w", (int)(CoreRelocationKinds.None))]
        [InlineData("amb_bits", "f", (int)(CoreRelocationKinds.LeftShift | CoreRelocationKinds.RightShift))]
        [InlineData("amb_member", "m", (int)(CoreRelocationKinds.ByteSize))]
        [InlineData("amb_member", "m.c", (int)(CoreRelocationKinds.None))]
        [InlineData("amb_shift", "b.c", (int)(CoreRelocationKinds.None))]
        [InlineData("amb_shift", "b.d", (int)(CoreRelocationKinds.None))]
        public void A_field_at_one_offset_exists_and_refuses_only_the_kinds_that_differ(string type, string path, int kinds) // (int: the kinds are internal)
        {
            var refused = (CoreRelocationKinds)kinds;
            var r = K.ResolveField(type, path, Local);
            Assert.True(r.Exists);
            Assert.Equal(refused, r.AmbiguousKinds);
            if (refused != CoreRelocationKinds.None)
                foreach (var text in new[] { "synthetic", $"2 struct {type} ([", "relocation decision ambiguity", $"STRUCT '{type}___a'", $"STRUCT '{type}___b'" })
                    Assert.Contains(text, r.Problem);
            // The view-side resolution (per field of the root type) gives the same answer for the root's own fields.
            if (!path.Contains('.'))
            {
                var f = K.Resolve(type, Local)[path];
                Assert.True(f.Exists);
                Assert.Equal(refused, f.AmbiguousKinds);
                Assert.Equal(refused != CoreRelocationKinds.None, f.IsAmbiguous);
                Assert.True(K.Resolve(type, Local).Exists(path));
                Assert.Equal(r.ByteOffset, K.FieldOffset(type, path, Local));
            }
        }

        [Theory]
        [InlineData("amb_move", "v", "byte 0 vs byte 8")]
        [InlineData("amb_bits", "g", "bit 3 vs bit 9")]
        [InlineData("amb_nest", "b.c", "byte 4 vs byte 8")]
        [InlineData("amb_member", "m.d", "byte 8 vs byte 12")]
        [InlineData("amb_shift", "b", "byte 4 vs byte 0")]
        public void A_field_at_different_offsets_refuses_every_kind_naming_the_candidates(string type, string path, string where)
        {
            var e = Assert.Throws<CoreException>(() => K.ResolveField(type, path, Local));
            Assert.IsNotType<CoreFieldException>(e);
            foreach (var text in new[] { $"{type}.{path} is ambiguous in kernel synthetic", $"2 struct {type} ([", where, "FIELD_EXISTS too" })
                Assert.Contains(text, e.Message);
            Assert.Equal(path, e.FieldName);
            Assert.Equal(2, e.Candidates.Count);
            Assert.Throws<CoreException>(() => K.FieldExists(type, path, Local));
        }

        [Fact]
        public void Reads_refuse_what_libbpf_refuses_and_nothing_more()
        {
            var data = new byte[16];
            data[0] = 0xff; data[1] = 0xff; data[2] = 0xff; data[3] = 0xff;
            var size = K.Resolve("amb_size", Local);
            Assert.True(size.Exists("v"));                                     // FIELD_EXISTS relocates
            Assert.Equal(CoreFieldStatus.Ambiguous, size["v"].Status);
            var e = Assert.Throws<CoreException>(() => size.ReadUInt64("v", data)); // the value's size is not known
            Assert.IsNotType<CoreFieldException>(e);
            Assert.Contains("differ in its size", e.Message);
            Assert.Throws<CoreException>(() => size.FieldBytes("v", data));
            Assert.Throws<CoreException>(() => size.Exists("w"));               // w: byte 4 vs byte 8
            var report = size.Report();
            Assert.Contains("2 ambiguous", report);
            Assert.Contains("put v at byte 0 but differ in its size, left shift, right shift", report);
            Assert.Contains("put w at byte 4 vs byte 8", report);
            Assert.StartsWith("offset 0, size 4; ambiguous: ", size["v"].Describe());

            var sign = K.Resolve("amb_sign", Local);
            Assert.True(sign.Exists("v"));
            Assert.Contains("signedness", Assert.Throws<CoreException>(() => sign.ReadInt64("v", data)).Message);
            data[4] = 0xfe; data[5] = 0xff; data[6] = 0xff; data[7] = 0xff;
            Assert.Equal(-2, sign.ReadInt64("w", data));                          // both int at 4: unambiguous

            var bits = K.Resolve("amb_bits", Local);
            Assert.True(bits.Exists("f"));
            Assert.Throws<CoreException>(() => bits.ReadUInt64("f", data));
            Assert.Throws<CoreException>(() => bits.Exists("g"));

            // A struct member of another size at one offset: its own fields are decided in turn, as libbpf decides m.c and m.d.
            var layouts = CoreFixtures.Layouts(Local, "amb_member");
            var member = K.Resolve("amb_member", Local);
            Assert.True(member.Exists("m"));
            var m = member.Nested("m", layouts.FieldTypeLayout(layouts["amb_member"]!, member.TryIndexOf("m"))!);
            Assert.True(m.Exists("c"));
            Assert.Equal(4u, m["c"].ByteOffset + member["m"].ByteOffset);
            Assert.Throws<CoreException>(() => m.Exists("d"));
        }

        [Fact]
        public void A_path_libbpf_relocates_through_a_moved_member_is_refused_for_a_view_only()
        {
            // libbpf sums each candidate's whole path: amb_shift.b.c is at 4 in both, though b itself is at 4 and 0. A view
            // places b first, which it cannot: the compatibility rule says so for a view use, and a plain read is fine.
            var shift = K.Resolve("amb_shift", Local);
            Assert.Throws<CoreException>(() => shift.Exists("b"));
            var layouts = CoreFixtures.Layouts(Local, "amb_shift");
            Assert.Throws<CoreException>(() => shift.Nested("b", layouts.FieldTypeLayout(layouts["amb_shift"]!, shift.TryIndexOf("b"))!));
            var view = CompatibilityRule.Classify(K, new CompatUse(CompatUseKind.Field, "amb_shift", "b.c", CompatAccess.View), Local);
            Assert.Equal(CompatVerdict.Ambiguous, view.Verdict);
            Assert.StartsWith("2 struct amb_shift ([", view.Detail);
            Assert.EndsWith("put b at byte 4 vs byte 0, and a view reaches b.c through b", view.Detail);
            var plain = CompatibilityRule.Classify(K, new CompatUse(CompatUseKind.Field, "amb_shift", "b.c", CompatAccess.Plain), Local);
            Assert.Equal(CompatVerdict.Ok, plain.Verdict);
        }

        private const string ViewSource = @"
using BtfBindings;
namespace GenPerKind
{
    [BtfTypes(""amb_size"", ""amb_sign"", ""amb_member"")]
    public static partial class K { }
    public static class Probe
    {
        public static bool HasV(byte[] d, TargetKernel k) => new K.amb_size.View(d, k).Has_v;
        public static object V(byte[] d, TargetKernel k) => new K.amb_size.View(d, k).v;
        public static object SignW(byte[] d, TargetKernel k) => new K.amb_sign.View(d, k).w;
        public static object SignV(byte[] d, TargetKernel k) => new K.amb_sign.View(d, k).v;
        public static string Member(byte[] d, TargetKernel k) { var s = new K.amb_member.View(d, k); return s.Has_m + "" "" + s.m.c; }
        public static object MemberD(byte[] d, TargetKernel k) => new K.amb_member.View(d, k).m.d;
    }
}";

        [Fact]
        public void A_generated_view_checks_and_reaches_what_libbpf_relocates_and_refuses_the_rest()
        {
            var asm = GeneratedAssemblies.Build(Fixtures.Path("ambiguity/local.o"), ViewSource);
            var d = new byte[16];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(4), -7);
            Assert.Equal(true, GeneratedAssemblies.Call(asm, "GenPerKind.Probe", "HasV", d, K));           // EXISTS relocates
            Assert.Equal(-7, Convert.ToInt32(GeneratedAssemblies.Call(asm, "GenPerKind.Probe", "SignW", d, K)));
            Assert.Equal("True -7", GeneratedAssemblies.Call(asm, "GenPerKind.Probe", "Member", d, K));     // m at 4 in both, m.c at 0 in m
            foreach (var (m, what) in new[] { ("V", "differ in its size"), ("SignV", "differ in its signedness"), ("MemberD", "put d at byte 4 vs byte 8") })
            {
                var e = Assert.Throws<CoreException>(() => GeneratedAssemblies.Call(asm, "GenPerKind.Probe", m, d, K));
                Assert.IsNotType<CoreFieldException>(e);
                Assert.Contains(what, e.Message);
            }
        }

        [Theory]
        [InlineData("amb_size", "v", "Ambiguous")]
        [InlineData("amb_sign", "w", "Ok")]
        [InlineData("amb_member", "m", "Ok")]        // a view reaches m (its offset holds) and decides m.c, m.d in turn
        [InlineData("amb_member", "m.c", "Ok")]
        [InlineData("amb_member", "m.d", "Ambiguous")]
        public void The_compatibility_rule_refuses_a_view_use_only_where_the_view_would_throw(string type, string path, string verdict)
            => Assert.Equal(verdict, CompatibilityRule.Classify(K, new CompatUse(CompatUseKind.Field, type, path, CompatAccess.View), Local).Verdict.ToString());
    }
}
