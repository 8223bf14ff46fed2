using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Types generated from kernel A (their metadata built from A's layout plan exactly as the generator emits it),
    /// resolved against kernel B: every field present in both must get B's offsets, size, bitfield window and
    /// signedness as bpftool's JSON dump of B gives them (an independent decoder), every field B lacks must be
    /// reported missing, and same-named types of B that disagree must raise an ambiguity error. All 36 ordered pairs
    /// of the six fixture kernels, including 32-bit (armhf, i686) and big-endian (s390x) ones.
    /// </summary>
    public class CrossKernelTests
    {
        private readonly ITestOutputHelper _out;
        public CrossKernelTests(ITestOutputHelper output) { _out = output; }

        /// <summary>Roots whose by-value closure is resolved (hundreds of structs and unions per kernel).</summary>
        internal static readonly string[] Roots = { "task_struct", "sk_buff", "file", "inode", "mm_struct", "iphdr", "super_block", "net_device", "cred", "sock", "bpf_prog", "signal_struct" };

        public static IEnumerable<object[]> Pairs() => Tier.Rows(AllPairs());

        private static IEnumerable<object[]> AllPairs()
        {
            foreach (var a in Fixtures.Kernels)
                foreach (var b in Fixtures.Kernels)
                    yield return new object[] { a, b };
        }

        private sealed class Counts
        {
            public int Types, NestedTypes, Present, Missing, Moved, Unreadable, Ambiguous, TypesMissing;
            public override string ToString() => $"{Types} types (+{NestedTypes} nested), {Present} fields present in both ({Moved} moved/resized, {Unreadable} unreadable), {Missing} missing in target, {TypesMissing} types absent, {Ambiguous} ambiguous fields";
        }

        [Theory]
        [MemberData(nameof(Pairs))]
        public void Generated_from_a_resolved_against_b_matches_bpftool_dump_of_b(string a, string b)
            => Run(a, b, CoreFixtures.Layouts(CoreFixtures.Kernel(a), Roots), "closure of " + Roots.Length + " roots", 1000);

        /// <summary>Every named struct and union of A (and typedef-named anonymous ones): thousands of types, including the kernels' same-named duplicates.</summary>
        [FullTheory]
        [InlineData("x86_64-6.12", "x86_64-6.12")]
        [InlineData("x86_64-6.12", "x86_64-5.10")]
        [InlineData("x86_64-5.10", "x86_64-6.12")]
        [InlineData("aarch64-6.1", "armhf-6.1")]
        [InlineData("i686-6.1", "s390x-6.12")]
        [InlineData("s390x-6.12", "aarch64-6.1")]
        public void All_named_types_of_a_resolved_against_b_match_bpftool_dump_of_b(string a, string b)
            => Run(a, b, new PlannedLayouts(global::BtfBindings.Layout.LayoutPlanner.PlanAll(CoreFixtures.Kernel(a))), "all named types", 50000);

        private void Run(string a, string b, PlannedLayouts layouts, string what, int minFields)
        {
            var target = new TargetKernel(CoreFixtures.Kernel(b), b);
            var oracle = BpftoolOracle.For(Fixtures.Path(b), CoreFixtures.IsBigEndian(b));
            var c = new Counts();
            var failures = new List<string>();
            foreach (var (pt, layout) in layouts.All)
            {
                if (pt.IsNested || layout.Kind == BtfKind.Enum) continue;
                var cands = oracle.RootCandidates(layout);
                var expected = oracle.Resolve(layout, cands, root: true);
                var r = target.Resolve(layout); // never throws for same-named candidates: each field is decided on its own
                c.Types++;
                if (cands.Count == 0) c.TypesMissing++;
                // libbpf's bpf_core_type_size matches every same-named candidate and refuses when their sizes differ.
                if (r.IsSizeAmbiguous != (cands.Select(x => x.Size).Distinct().Count() > 1))
                    failures.Add($"{layout.BtfName}: size ambiguous={r.IsSizeAmbiguous}, bpftool sizes {string.Join(", ", cands.Select(x => x.Size))}");
                Check(layouts, layout, r, expected.fields, expected.memberTypes, expected.targets, oracle, c, failures, depth: 0);
            }
            _out.WriteLine($"{a} -> {b} ({what}): {c}");
            CoreSummary.Record($"{a} -> {b} ({what})", c.ToString());
            Assert.True(failures.Count == 0, $"{failures.Count} differences, first ones:\n" + string.Join("\n", failures.Take(25)));
            Assert.True(c.Present > minFields, $"only {c.Present} fields checked");
            if (a == b)
            {
                Assert.Equal(0, c.Missing);
                Assert.Equal(0, c.Moved);
            }
        }

        /// <summary>Whether <paramref name="a"/> throws the ambiguity error (a CoreException that is not a missing-field one).</summary>
        private static bool Throws(Action a)
        {
            try { a(); return false; }
            catch (CoreException e) when (e is not CoreFieldException) { return true; }
        }

        private static void Check(PlannedLayouts layouts, BtfTypeLayout layout, CoreTypeResolution r, BpftoolOracle.Expect[] exp, List<int>[] memberTypes, List<BpftoolType> targets,
            BpftoolOracle oracle, Counts c, List<string> failures, int depth)
        {
            string label = string.IsNullOrEmpty(layout.BtfName) ? layouts.PlannedTypeOf(layout).Name : layout.BtfName;
            if (targets.Count > 0 && r.Size != targets[0].Size) failures.Add($"{label}: size {r.Size}, bpftool {targets[0].Size}");
            if (!r.Targets.Select(t => t.Id).SequenceEqual(targets.Select(t => t.Id)))
                failures.Add($"{label}: targets [{string.Join(",", r.Targets.Select(t => t.Id))}], bpftool [{string.Join(",", targets.Select(t => t.Id))}]");
            for (int i = 0; i < exp.Length; i++)
            {
                var f = r.Fields[i];
                var x = exp[i];
                if (f.IsAmbiguous != x.Ambiguous) { failures.Add($"{label}.{f.Name}: {f.Describe()}, bpftool says {x}"); continue; }
                if (x.Ambiguous)
                {
                    c.Ambiguous++;
                    // At different offsets libbpf refuses EXISTS too; at one offset (another size, signedness…) it relocates EXISTS and the offset.
                    if (x.OffsetAmbiguous ? !Throws(() => r.Exists(i)) : Throws(() => r.Exists(i)) || f.BitOffset != x.BitOffset || f.AmbiguousKinds == CoreRelocationKinds.All)
                        failures.Add($"{label}.{f.Name}: {f.Describe()}, bpftool says ambiguous {(x.OffsetAmbiguous ? "in offset" : $"at bit {x.BitOffset}")}");
                    continue;
                }
                if (f.Exists != x.Exists) { failures.Add($"{label}.{f.Name}: exists={f.Exists} ({f.Problem}), bpftool says {x}"); continue; }
                if (!x.Exists) { c.Missing++; Assert.False(r.Exists(i)); continue; }
                c.Present++;
                if (f.Status is CoreFieldStatus.Moved or CoreFieldStatus.Resized) c.Moved++;
                if (!x.Readable) c.Unreadable++;
                var got = new BpftoolOracle.Expect
                {
                    Exists = true, Readable = f.IsReadable, Bitfield = f.IsBitfield, Signed = f.IsSigned, BitOffset = f.BitOffset, BitSize = f.BitSize,
                    ByteOffset = f.ByteOffset, ByteSize = f.ByteSize, ArrayLength = f.ArrayLength, ArrayElementSize = f.ArrayElementSize,
                    LShift = f.LeftShift, RShift = f.RightShift,
                };
                if (!got.Same(x)) { failures.Add($"{label}.{f.Name}: got {got}, bpftool {x}"); continue; }
                if (f.TargetType is BtfType tt && tt.Id != x.MemberTypeId) failures.Add($"{label}.{f.Name}: member type [{tt.Id}], bpftool [{x.MemberTypeId}]");

                // Struct/union fields: the nested resolution (what task.se's view uses) against the member's type in B.
                var fieldLayout = layouts.FieldTypeLayout(layout, i);
                bool isNested = fieldLayout != null && string.IsNullOrEmpty(fieldLayout.BtfName);
                if (fieldLayout != null && (layout.Fields[i].Kind == BtfFieldKind.Struct) && (isNested || depth == 0) && depth < 8)
                {
                    var memberTargets = memberTypes[i].Select(id => oracle[id]).ToList();
                    var nx = oracle.Resolve(fieldLayout, memberTargets, root: false);
                    var nr = r.Nested(i, fieldLayout);
                    if (isNested) c.NestedTypes++;
                    Check(layouts, fieldLayout, nr, nx.fields, nx.memberTypes, nx.targets, oracle, c, failures, depth + 1);
                }
            }
        }
    }

    /// <summary>Collects per-pair counts so a run can print them (tests write them to their output too).</summary>
    internal static class CoreSummary
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Lines = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        public static void Record(string key, string line)
        {
            Lines[key] = line;
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "btfbindings-core-summary.txt");
            lock (Lines) System.IO.File.WriteAllLines(path, Lines.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key + ": " + k.Value));
        }
    }
}
