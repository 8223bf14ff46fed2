using System;
using System.Linq;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Each field decided against the same-named candidates that have it, as libbpf decides each access path
    /// (relo_core.c bpf_core_calc_relo_insn). 6.12's one <c>struct mm_slot</c> (hash, mm_node, mm) against 5.10's two:
    /// [29595] ksm's (link, mm_list, rmap_list, mm at 40; 48 bytes) and [30148] khugepaged's (hash at 0, mm_node at 16,
    /// mm at 32; 112 bytes), per bpftool. The expected values are what libbpf 1.1 relocated for the same paths (each in
    /// an object of its own; LibbpfDifferentialTests checks them against libbpf again in the full tier).
    /// </summary>
    public class SameNamedCandidateTests
    {
        private static readonly Btf Build = CoreFixtures.Kernel("x86_64-6.12");
        private static readonly TargetKernel K510 = new TargetKernel(CoreFixtures.Kernel("x86_64-5.10"), "x86_64-5.10");

        [Fact]
        public void Fields_only_one_candidate_has_resolve_there()
        {
            // libbpf: hash EXISTS 1, offset 0, size 16; hash.next 0/8; hash.pprev 8/8; mm_node 16/16; mm_node.prev 24/8.
            var r = K510.Resolve("mm_slot", Build);
            Assert.Equal(2, r.Candidates.Count);
            Assert.True(r.Exists("hash"));
            Assert.Equal(CoreFieldStatus.Unchanged, r["hash"].Status);
            foreach (var (path, offset, size) in new[] { ("hash", 0u, 16u), ("hash.next", 0u, 8u), ("hash.pprev", 8u, 8u), ("mm_node", 16u, 16u), ("mm_node.prev", 24u, 8u) })
            {
                var f = K510.ResolveField("mm_slot", path, Build);
                Assert.True(f.Exists, path);
                Assert.Equal((offset, size), (f.ByteOffset, f.ByteSize));
            }
        }

        [Fact]
        public void A_field_both_have_at_different_offsets_is_ambiguous_alone()
        {
            // libbpf refuses EXISTS, offset and size of mm alike: "field offset ambiguity: 256 != 320".
            var r = K510.Resolve("mm_slot", Build);
            var mm = r["mm"];
            Assert.Equal(CoreFieldStatus.Ambiguous, mm.Status);
            Assert.True(mm.IsAmbiguous);
            Assert.False(mm.Exists);
            var e = Assert.Throws<CoreException>(() => r.Exists("mm"));
            Assert.IsNotType<CoreFieldException>(e);
            Assert.Equal("mm", e.FieldName);
            Assert.Equal("x86_64-5.10", e.Kernel);
            Assert.Equal(2, e.Candidates.Count);
            foreach (var text in new[] { "x86_64-5.10", "[29595] STRUCT 'mm_slot'", "[30148] STRUCT 'mm_slot'", "offset 40", "offset 32" })
                Assert.Contains(text, e.Message);
            var data = new byte[112];
            Assert.IsNotType<CoreFieldException>(Assert.Throws<CoreException>(() => r.ReadUInt64("mm", data)));
            Assert.IsNotType<CoreFieldException>(Assert.Throws<CoreException>(() => K510.ResolveField("mm_slot", "mm", Build)));
            Assert.IsNotType<CoreFieldException>(Assert.Throws<CoreException>(() => K510.FieldExists("mm_slot", "mm", Build)));
            var report = r.Report();
            Assert.Contains("1 ambiguous", report);
            Assert.Contains("the size of struct mm_slot is ambiguous", report);
            // The other fields of the same resolution still read (khugepaged's bytes: hash.pprev at 8, mm_node.next at 16).
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), 0x1122334455667788);
            var hash = r.FieldBytes("hash", data);
            Assert.Equal(16, hash.Length);
            Assert.Equal(0x1122334455667788UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hash.Slice(8)));
        }

        [Fact]
        public void Type_size_is_ambiguous_and_existence_is_not()
        {
            // libbpf: bpf_core_type_exists 1; bpf_core_type_size refused ("relocation decision ambiguity: success 112 != success 48").
            var r = K510.Resolve("mm_slot", Build);
            Assert.True(r.TypeExists);
            Assert.True(r.IsSizeAmbiguous);
            Assert.Equal(112u, r.Size); // khugepaged's, the candidate with most of the fields
            Assert.False(new TargetKernel(Build, "x86_64-6.12").Resolve("mm_slot", Build).IsSizeAmbiguous);
        }

        [Fact]
        public void The_compatibility_rule_follows_the_same_per_field_rule()
        {
            CompatResult Classify(string text) => CompatibilityRule.Classify(K510, CompatUse.TryParse(text, out _)!, Build);
            Assert.Equal(CompatVerdict.Ok, Classify("mm_slot.hash").Verdict);
            Assert.Equal(CompatVerdict.Ok, Classify("mm_slot.hash.next").Verdict);
            Assert.Equal(CompatVerdict.Ok, Classify("mm_slot.mm_node").Verdict);
            var mm = Classify("mm_slot.mm");
            Assert.Equal(CompatVerdict.Ambiguous, mm.Verdict);
            Assert.Contains("[29595]", mm.Detail);
            Assert.Contains("[30148]", mm.Detail);
            var type = Classify("struct mm_slot");
            Assert.Equal(CompatVerdict.Ambiguous, type.Verdict);
            Assert.Contains("size 48", type.Detail);
            Assert.Contains("size 112", type.Detail);
        }

        private const string ViewSource = @"
using BtfBindings;
namespace GenSameNamed
{
    [BtfTypes(""mm_slot"")]
    public static partial class K { }
    public static class Probe
    {
        public static string Next(byte[] d, TargetKernel k) { var s = new K.mm_slot.View(d, k); return s.Has_hash + "" "" + s.hash.next + "" "" + s.mm_node.prev; }
        public static bool HasMm(byte[] d, TargetKernel k) => new K.mm_slot.View(d, k).Has_mm;
        public static object Mm(byte[] d, TargetKernel k) => new K.mm_slot.View(d, k).mm;
    }
}";

        [Fact]
        public void A_generated_view_reads_the_one_candidate_fields_and_refuses_the_ambiguous_one()
        {
            // A 6.12 view over khugepaged's 5.10 mm_slot bytes: hash.next at 0, mm_node.prev at 24 (libbpf's offsets); mm refused.
            var asm = GeneratedAssemblies.Build(Fixtures.Path("x86_64-6.12"), ViewSource);
            var d = new byte[112];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0), 0x1000);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(24), 0x2000);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(32), 0x3000);
            Assert.Equal("True 0x0000000000001000 0x0000000000002000", GeneratedAssemblies.Call(asm, "GenSameNamed.Probe", "Next", d, K510));
            foreach (var m in new[] { "HasMm", "Mm" })
            {
                var e = Assert.Throws<CoreException>(() => GeneratedAssemblies.Call(asm, "GenSameNamed.Probe", m, d, K510));
                Assert.IsNotType<CoreFieldException>(e);
                Assert.Contains("[29595]", e.Message);
                Assert.Contains("[30148]", e.Message);
            }
        }

        [Fact]
        public void One_chosen_candidate_settles_the_ambiguity()
        {
            var layout = TargetKernel.LocalLayoutsOf(Build, "mm_slot")["mm_slot"]!;
            var ksm = K510.Vmlinux!.FindTypes("mm_slot", BtfKind.Struct).Single(t => t.Size == 48);
            var r = K510.ResolveAgainst(layout, ksm);
            Assert.Equal(40u, r["mm"].ByteOffset);
            Assert.False(r.Exists("hash"));
            Assert.False(r.IsSizeAmbiguous);
        }
    }
}
