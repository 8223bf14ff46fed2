
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;
using GBtf = BtfBindings.Btf;
using GEmitOptions = BtfBindings.Emit.EmitOptions;
using GEmitter = BtfBindings.Emit.CSharpEmitter;
using GKind = BtfBindings.Layout.PlannedKind;
using GPlan = BtfBindings.Layout.LayoutPlan;
using GPlanner = BtfBindings.Layout.LayoutPlanner;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>
    /// Issue 3, "Proof required", first bullet: every named struct and union of every kernel fixture (plus the
    /// typedef'd anonymous ones and the nested anonymous member types) is planned, emitted, compiled with Roslyn
    /// (zero errors, zero warnings) and loaded; a generated checker measures <c>Unsafe.SizeOf</c> and every field's
    /// runtime offset and size, and drives every bitfield property over a byte buffer. The truth is bpftool's JSON
    /// dump (libbpf's parser), never ours: sizes, offsets flattened through anonymous members, bit positions.
    /// </summary>
    [Collection(ExactnessCollection.Name)]
    public class ExactnessTests
    {
        private readonly ITestOutputHelper _out;
        public ExactnessTests(ITestOutputHelper output) { _out = output; }

        public static IEnumerable<object[]> Kernels() => Tier.Rows(Fixtures.Kernels.Select(k => new object[] { k }));

        /// <summary>Big-endian fixtures, known from the fixture list (not from our parser).</summary>
        private static bool IsBigEndianFixture(string kernel) => kernel.StartsWith("s390x", StringComparison.Ordinal);

        [FullTheory]
        [MemberData(nameof(Kernels))]
        public void Every_struct_and_union_matches_bpftool(string kernel)
        {
            var total = Stopwatch.StartNew();
            long alloc0 = GC.GetTotalAllocatedBytes();
            var report = new StringBuilder();
            void Say(string s) { report.AppendLine(s); _out.WriteLine(s); }
            var path = Fixtures.Path(kernel);
            bool bigEndian = IsBigEndianFixture(kernel);

            // 1. The truth.
            var truth = new BpftoolLayoutTruth(path);

            // 2. Plan and emit everything.
            var sw = Stopwatch.StartNew();
            var btf = GBtf.Load(path);
            GPlan plan = GPlanner.PlanAll(btf);
            var planTime = sw.Elapsed;
            Assert.Equal(truth.PointerSize, plan.PointerSize);
            Assert.Equal(bigEndian, plan.BigEndian);
            sw.Restart();
            string ns = "K";
            var files = new GEmitter(plan, new GEmitOptions { Namespace = ns, SourceLabel = kernel + ".btf" }).Emit();
            var emitTime = sw.Elapsed;
            long chars = files.Sum(f => (long)f.Text.Length);

            // 3. Pair, write the checker, compile, load, run, compare.
            int fileCount = files.Count;
            var sources = files.Select(f => (f.HintName, f.Text)).ToList();
            files = null!; // the harness empties 'sources' once parsed; nothing else may keep the text alive
            var run = ExactnessHarness.Run(kernel, truth, plan, sources, bigEndian, requireAllNamed: true, ns);
            var mismatches = run.Mismatches;
            Assert.True(run.GeneratedErrors.Count == 0, $"{kernel}: generated code does not compile: {TestCompilation.Describe(run.GeneratedErrors)}");
            Assert.True(run.CheckerErrors.Count == 0, $"{kernel}: checker does not compile (a generated member is missing or of the wrong kind): {TestCompilation.Describe(run.CheckerErrors)}");
            var checkedTypes = run.CheckedTypes;
            var counts = run;

            // 4. Report.
            int named = checkedTypes.Count(c => !c.IsNested && c.Truth.Name.Length > 0);
            int typedefAnon = checkedTypes.Count(c => !c.IsNested && c.Truth.Name.Length == 0);
            int nestedAnon = checkedTypes.Count(c => c.IsNested);
            Say($"{kernel}: {run.NamedInBtf} named structs/unions in bpftool's dump; checked {checkedTypes.Count} types " +
                $"({named} named, of which {checkedTypes.Count(c => !c.IsNested && c.Truth.Name.Length > 0 && c.PlanName != c.Truth.Name)} duplicate names renamed ___N; {typedefAnon} typedef'd anonymous, {nestedAnon} nested anonymous member types; {counts.ZeroSizeTypes} of size 0 → C# 1 byte; " +
                $"{plan.Types.Count(t => t.Kind == GKind.Opaque)} opaque stubs not checked)");
            Say($"  fields: {counts.Fields} offsets+sizes checked ({counts.FixedBuffers} fixed buffers, {counts.ViaAnonymous} reached through anonymous members), " +
                $"{counts.Flex} flexible arrays, {counts.ZeroSizedMembers} zero-size members at their offsets (of {checkedTypes.Sum(c => c.ZeroSized)} paired)");
            Say($"  bitfields: {counts.Bitfields} checked ({counts.SignedBitfields} signed, {counts.BoolBitfields} bool, {counts.EnumBitfields} enum-typed, {counts.StraddlingBitfields} straddling a byte boundary{(bigEndian ? ", big-endian bit numbering" : "")})");
            Say($"  scalar field types: {counts.ScalarFields} checked against bpftool ({counts.ScalarArrayFields} arrays, element type and count): " +
                string.Join(", ", counts.ScalarCounts.Select(kv => $"{kv.Key} {kv.Value}")));
            Say($"  enums: {counts.EnumTypes} C# enums used by checked fields, {counts.EnumValues} enumerator values checked against bpftool");
            Say($"  anonymous-enum constants: {counts.Constants} checked (value and C# type: " + string.Join(", ", counts.ConstantTypes.Select(kv => $"{kv.Key} {kv.Value}")) +
                $"); {counts.ReachedAnonymousEnums} anonymous enums used by value, all {counts.ReachedEnumerators} of their enumerators required; {counts.AmbiguousConstants.Count} names with several values in BTF");
            foreach (var a in counts.AmbiguousConstants.Take(10)) Say("    several values: " + a);
            Say($"  layout metadata: {counts.MetadataFields} field records checked against bpftool");
            Say($"  generated C#: {fileCount} files, {chars / 1e6:F1} M chars; compile warnings: {run.GeneratedWarnings.Count}; checker: {run.CheckerChars / 1e6:F1} M chars in {run.CheckerFiles} files, warnings: {run.CheckerWarnings.Count}");
            Say($"  time: bpftool {truth.BpftoolTime.TotalSeconds:F1}s, plan {planTime.TotalSeconds:F1}s, emit {emitTime.TotalSeconds:F1}s, parse+pair+checker source {run.PairTime.TotalSeconds:F1}s, " +
                $"compile generated+checker {run.CompileTime.TotalSeconds:F1}s, load+run {run.RunTime.TotalSeconds:F1}s, total {total.Elapsed.TotalSeconds:F1}s; " +
                $"allocated {(GC.GetTotalAllocatedBytes() - alloc0) / 1e9:F2} GB, process peak working set so far {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB");
            Say($"  mismatches: {mismatches.Count}");
            foreach (var m in mismatches.Take(60)) Say("    " + m);
            try
            {
                var dir = Path.Combine(Path.GetTempPath(), "btfbindings-exactness");
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, kernel + ".txt"), report.ToString() + string.Join("\n", mismatches.Skip(60)));
            }
            catch (IOException) { }
            Assert.True(mismatches.Count == 0, $"{kernel}: {mismatches.Count} mismatches:\n" + string.Join("\n", mismatches.Take(60)));
        }

    }
}
