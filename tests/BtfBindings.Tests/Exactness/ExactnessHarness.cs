
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using GKind = BtfBindings.Layout.PlannedKind;
using GPlan = BtfBindings.Layout.LayoutPlan;
using GType = BtfBindings.Layout.PlannedType;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>What one exactness run checked and found.</summary>
    internal sealed class ExactnessRun
    {
        public List<string> Mismatches = new List<string>();
        public List<CheckedType> CheckedTypes = new List<CheckedType>();
        public int NamedInBtf;
        public int Fields, FixedBuffers, ViaAnonymous, Flex, Bitfields, SignedBitfields, BoolBitfields, EnumBitfields, StraddlingBitfields, MetadataFields, ZeroSizeTypes, ZeroSizedMembers;
        public List<Diagnostic> GeneratedErrors = new List<Diagnostic>(), GeneratedWarnings = new List<Diagnostic>(), CheckerWarnings = new List<Diagnostic>(), CheckerErrors = new List<Diagnostic>();
        /// <summary>Plain scalar fields whose C# type was checked against bpftool (of which arrays), by kind.</summary>
        public int ScalarFields, ScalarArrayFields;
        public SortedDictionary<string, int> ScalarCounts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        /// <summary>Anonymous-enum constants checked, by C# type; anonymous enums used by value and their enumerators.</summary>
        public int Constants, ReachedAnonymousEnums, ReachedEnumerators;
        /// <summary>C# enums used by checked fields, and their enumerators checked against bpftool.</summary>
        public int EnumTypes, EnumValues;
        public SortedDictionary<string, int> ConstantTypes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        /// <summary>Constants whose name has several values among bpftool's anonymous enums (the value matched one of them).</summary>
        public List<string> AmbiguousConstants = new List<string>();
        public long CheckerChars;
        public int CheckerFiles;
        public TimeSpan PairTime, CompileTime, RunTime;
    }

    /// <summary>
    /// The exactness check proper: pair each planned struct/union with bpftool's type of the same BTF id, write a checker,
    /// compile it together with the generated code (one compilation; diagnostics told apart by file), load it in a
    /// collectible context, run it type by type and compare every measurement with bpftool.
    /// </summary>
    internal static class ExactnessHarness
    {
        /// <param name="requireAllNamed">Also require every named struct/union of bpftool's dump to be in the plan (PlanAll).</param>
        /// <param name="files">The generated files; the list is emptied once parsed, so the sources can be collected early.</param>
        public static ExactnessRun Run(string label, BpftoolLayoutTruth truth, GPlan plan, List<(string path, string text)> files, bool bigEndian, bool requireAllNamed, string ns = "K")
        {
            var run = new ExactnessRun();
            string asmName = "BtfExactness_" + new string(label.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray());
            byte[]? image = Build(run, asmName, truth, plan, files, requireAllNamed, ns);
            // The syntax trees and the compilation (gigabytes for a whole vmlinux) are garbage now: free them before loading.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            if (image != null) Execute(run, asmName, image, bigEndian, truth, ns);
            return run;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static byte[]? Build(ExactnessRun run, string asmName, BpftoolLayoutTruth truth, GPlan plan, List<(string path, string text)> files, bool requireAllNamed, string ns)
        {
            var mismatches = run.Mismatches;
            var sw = Stopwatch.StartNew();
            // Parse the generated types; pair every planned struct/union with bpftool's type of the same BTF id (C# members
            // are found from the declarations, so all binding happens once, in the compilation below).
            var trees = TestCompilation.ParseAll(files);
            files.Clear();
            var index = new GeneratedSyntaxIndex(trees);
            var checkedTypes = run.CheckedTypes;
            void Add(GType t, string metadataName, bool nested)
            {
                if (t.Kind != GKind.Struct && t.Kind != GKind.Union) return;
                TruthComposite tc;
                try { tc = truth.Composite(t.BtfId); }
                catch (Exception e) { mismatches.Add($"{metadataName}: BTF id {t.BtfId}: {e.Message}"); return; }
                if ((t.Kind == GKind.Union) != (tc.Kind == "UNION")) mismatches.Add($"{metadataName}: planned {t.Kind}, bpftool says id {t.BtfId} is a {tc.Kind}");
                // Top-level types carry their BTF name; an anonymous one is named after the typedef that names it (atomic_t).
                var expectedNames = nested ? new[] { "" } : tc.Name.Length > 0 ? new[] { tc.Name } : truth.TypedefNamesOf(t.BtfId).ToArray();
                if (!expectedNames.Contains(t.BtfName)) mismatches.Add($"{metadataName}: planned BTF name '{t.BtfName}', bpftool's id {t.BtfId} is '{tc.Name}' (typedef names: {string.Join(", ", truth.TypedefNamesOf(t.BtfId))})");
                var entry = index[metadataName];
                if (entry == null) { mismatches.Add($"{metadataName}: no such generated struct"); return; }
                var ct = new CheckedType
                {
                    Index = checkedTypes.Count, PlanName = t.Name, MetadataName = metadataName, BtfId = t.BtfId, IsNested = nested,
                    IsUnion = t.Kind == GKind.Union, Truth = tc, ExpectedBtfNames = expectedNames, CsType = entry.CsType,
                };
                CheckerSource.Pair(ct, entry, mismatches);
                checkedTypes.Add(ct);
                foreach (var n in t.Nested) Add(n, metadataName + "+" + n.Name, true);
            }
            foreach (var t in plan.Types) Add(t, ns + "." + t.Name, false);

            // Every named struct/union bpftool lists is among them.
            var plannedIds = new HashSet<int>(checkedTypes.Where(c => !c.IsNested).Select(c => c.BtfId));
            foreach (var id in truth.NamedCompositeIds())
            {
                run.NamedInBtf++;
                if (requireAllNamed && !plannedIds.Contains(id)) mismatches.Add($"bpftool's {truth.KindOf(id)} {truth.NameOfId(id)} (id {id}) was not planned as a struct/union");
            }
            var checkerParts = CheckerSource.BuildParts(checkedTypes, 400);
            run.CheckerChars = checkerParts.Sum(p => (long)p.Length);
            run.CheckerFiles = checkerParts.Count;
            var checkerTrees = TestCompilation.ParseAll(checkerParts.Select((p, i) => ($"{CheckerSource.ClassName}{i}.cs", p)).ToList());
            run.PairTime = sw.Elapsed;

            // One compilation: the generated types and the checker. Diagnostics are told apart by file.
            sw.Restart();
            var comp = TestCompilation.Create(asmName, trees.Concat(checkerTrees));
            var result = TestCompilation.Emit(comp);
            run.CompileTime = sw.Elapsed;
            static bool InChecker(Diagnostic d) => d.Location.SourceTree?.FilePath.StartsWith(CheckerSource.ClassName, StringComparison.Ordinal) == true;
            run.GeneratedWarnings = result.Warnings.Where(d => !InChecker(d)).ToList();
            run.CheckerWarnings = result.Warnings.Where(InChecker).ToList();
            run.GeneratedErrors = result.Errors.Where(d => !InChecker(d)).ToList();
            run.CheckerErrors = result.Errors.Where(InChecker).ToList();
            if (run.GeneratedWarnings.Count > 0) mismatches.Add("generated code has compile warnings: " + TestCompilation.Describe(run.GeneratedWarnings));
            if (run.CheckerWarnings.Count > 0) mismatches.Add("checker has compile warnings: " + TestCompilation.Describe(run.CheckerWarnings));
            return result.Image;
        }

        private static void Execute(ExactnessRun run, string asmName, byte[] image, bool bigEndian, BpftoolLayoutTruth truth, string ns)
        {
            var mismatches = run.Mismatches;
            var checkedTypes = run.CheckedTypes;
            var sw = Stopwatch.StartNew();
            var alc = new CollectibleContext(asmName);
            try
            {
                var checkerAsm = alc.LoadFromStream(new MemoryStream(image));
                var checker = checkerAsm.GetType(CheckerSource.ClassName, throwOnError: true)!;
                var runType = (Action<int>)Delegate.CreateDelegate(typeof(Action<int>), checker.GetMethod("Run")!);
                var R = (List<long>)checker.GetField("R")!.GetValue(null)!;
                var L = (List<object>)checker.GetField("L")!.GetValue(null)!;
                var E = (List<string>)checker.GetField("E")!.GetValue(null)!;
                foreach (var ct in checkedTypes)
                {
                    R.Clear(); L.Clear(); E.Clear();
                    try { runType(ct.Index); }
                    catch (Exception e) { mismatches.Add($"{ct.MetadataName}: checker threw {e.GetType().Name}: {e.Message}"); continue; }
                    Compare(ct, R, L, E, bigEndian, mismatches, run);
                }
                // The C# types of scalar fields and the anonymous-enum constants, by reflection on the same image.
                ScalarTypeCheck.CheckFields(run, checkerAsm, truth);
                ScalarTypeCheck.CheckConstants(run, checkerAsm, truth, ns);
            }
            finally { alc.Unload(); }
            run.RunTime = sw.Elapsed;
        }


        /// <summary>Bit index (byte × 8 + bit position, LSB = 0) of BTF bit <paramref name="k"/> of a struct.</summary>
        private static long PhysicalBit(uint k, bool bigEndian) => bigEndian ? (k / 8) * 8L + 7 - (k % 8) : k;

        private static void Compare(CheckedType ct, List<long> R, List<object> L, List<string> E, bool bigEndian, List<string> mismatches, ExactnessRun counts)
        {
            var tc = ct.Truth;
            int c = 0, exceptions = 0;
            string T = $"{ct.MetadataName} (BTF id {ct.BtfId})";
            long size = R[c++];
            long expectedSize = tc.Size == 0 ? 1 : (long)tc.Size;
            if (tc.Size == 0) counts.ZeroSizeTypes++;
            if (size != expectedSize) mismatches.Add($"{T}: Unsafe.SizeOf = {size}, BTF size {tc.Size}");

            foreach (var p in ct.Probes)
            {
                var m = p.Member;
                string F = $"{T}.{m.Name}";
                switch (p.Kind)
                {
                    case ProbeKind.Field:
                    case ProbeKind.FixedBuffer:
                    case ProbeKind.FlexibleArray:
                    case ProbeKind.ZeroSized:
                        {
                            long off = R[c++], sz = R[c++];
                            if (m.BitOffset % 8 != 0) mismatches.Add($"{F}: BTF bit offset {m.BitOffset} is not byte aligned, C# field at byte {off}");
                            else if (off != m.BitOffset / 8) mismatches.Add($"{F}: runtime offset {off}, BTF offset {m.BitOffset / 8}");
                            long esz = p.Kind == ProbeKind.FlexibleArray ? 0 : (long)m.ByteSize; // ZeroSized: 0, measured as a 0-length access
                            if (sz != esz) mismatches.Add($"{F}: runtime size {sz}, BTF size {esz} ({m.ResolvedKind})");
                            if (p.Kind == ProbeKind.FlexibleArray) counts.Flex++;
                            else if (p.Kind == ProbeKind.ZeroSized) counts.ZeroSizedMembers++;
                            else
                            {
                                counts.Fields++;
                                if (p.Kind == ProbeKind.FixedBuffer) counts.FixedBuffers++;
                                if (m.ViaAnonymous) counts.ViaAnonymous++;
                            }
                            break;
                        }
                    case ProbeKind.Bitfield:
                        {
                            uint w = m.BitfieldSize;
                            var expectSet = new List<long>();
                            var expectAll = new List<long>();
                            for (int j = 0; j < w; j++)
                            {
                                // Value bit j (LSB = 0) is BTF bit off+j on little-endian targets, off+(w-1-j) on big-endian ones.
                                uint k = bigEndian ? m.BitOffset + (uint)(w - 1 - j) : m.BitOffset + (uint)j;
                                long phys = PhysicalBit(k, bigEndian);
                                expectAll.Add(phys);
                                if (((p.ValueBits >> j) & UInt128.One) != UInt128.Zero) expectSet.Add(phys);
                            }
                            expectSet.Sort(); expectAll.Sort();
                            string desc = $"{F} ({(m.ValueKind)} {p.PropertyType}, bits {m.BitOffset}+{w})";
                            counts.Bitfields++;
                            var r = BitfieldResult.Read(R, ref c, ref exceptions);
                            if (r.Exception >= 0) { mismatches.Add($"{desc}: accessor threw {E[r.Exception]}"); break; }
                            var set = r.Set; var cleared = r.Cleared; bool getMax = r.GetMax, getZero = r.GetZero;
                            if (!set.SequenceEqual(expectSet)) mismatches.Add($"{desc}: writing the maximum on zeros set bits [{Fmt(set)}], expected [{Fmt(expectSet)}]");
                            if (!getMax) mismatches.Add($"{desc}: getter does not read back the maximum");
                            if (!cleared.SequenceEqual(expectAll)) mismatches.Add($"{desc}: writing 0 on ones cleared bits [{Fmt(cleared)}], expected [{Fmt(expectAll)}]");
                            if (!getZero) mismatches.Add($"{desc}: getter does not read back 0");
                            if (m.ValueKind == TruthValueKind.Signed) counts.SignedBitfields++;
                            if (m.ValueKind == TruthValueKind.Bool) counts.BoolBitfields++;
                            if (m.ResolvedKind is "ENUM" or "ENUM64") counts.EnumBitfields++;
                            if (m.BitOffset / 8 != (m.BitOffset + w - 1) / 8) counts.StraddlingBitfields++;
                            break;
                        }
                }
            }
            if (c != R.Count) mismatches.Add($"{T}: checker wrote {R.Count} values, expected {c}");

            // The layout metadata the generated type carries for the runtime matcher.
            if (L.Count != 1 || L[0] is not global::BtfBindings.BtfTypeLayout layout) { mismatches.Add($"{T}: no BtfLayout"); return; }
            if (!ct.ExpectedBtfNames.Contains(layout.BtfName)) mismatches.Add($"{T}: BtfLayout.BtfName '{layout.BtfName}', expected {string.Join(" or ", ct.ExpectedBtfNames.Select(n => "'" + n + "'"))} from bpftool");
            if (layout.Size != tc.Size) mismatches.Add($"{T}: BtfLayout.Size {layout.Size}, BTF size {tc.Size}");
            if (layout.Kind != (tc.Kind == "UNION" ? global::BtfBindings.BtfKind.Union : global::BtfBindings.BtfKind.Struct)) mismatches.Add($"{T}: BtfLayout.Kind {layout.Kind}, bpftool {tc.Kind}");
            if (layout.Fields.Count != tc.Members.Count) mismatches.Add($"{T}: BtfLayout has {layout.Fields.Count} fields, bpftool {tc.Members.Count} named members");
            foreach (var m in tc.Members)
            {
                var f = layout.Field(m.Name);
                if (f == null) { mismatches.Add($"{T}.{m.Name}: missing from BtfLayout"); continue; }
                uint bits = m.IsBitfield ? m.BitfieldSize : (uint)(m.ByteSize * 8);
                if (f.BitOffset != m.BitOffset || f.IsBitfield != m.IsBitfield || f.BitSize != bits)
                    mismatches.Add($"{T}.{m.Name}: BtfLayout says bit {f.BitOffset} size {f.BitSize} bitfield={f.IsBitfield}, bpftool bit {m.BitOffset} size {bits} bitfield={m.IsBitfield}");
                counts.MetadataFields++;
            }
        }

        private static string Fmt(List<long> bits) => bits.Count > 16 ? string.Join(",", bits.Take(16)) + $",… ({bits.Count})" : string.Join(",", bits);
    }

    /// <summary>The exactness tests run one after another: each whole-vmlinux compile takes both cores and several GB.</summary>
    [Xunit.CollectionDefinition(Name)]
    public sealed class ExactnessCollection
    {
        public const string Name = "Exactness (whole-vmlinux compiles)";
    }
}
