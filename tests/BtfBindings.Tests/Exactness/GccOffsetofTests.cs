
using System;
using System.Collections.Generic;
using System.Globalization;
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
using GPlanner = BtfBindings.Layout.LayoutPlanner;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>
    /// Issue 3's sample check against a C compiler: bpftool's C header (<c>format c</c>) compiled by gcc for the
    /// fixture's target, <c>sizeof</c>/<c>offsetof</c> of every named member of a few well-known types, compared with
    /// the generated C#'s runtime size and offsets (and with bpftool's JSON, so a header that is not a layout truth
    /// shows up as such). The values are read from gcc's assembly (<c>-S</c>), so cross targets need no emulator.
    /// </summary>
    [Collection(ExactnessCollection.Name)]
    public class GccOffsetofTests
    {
        private readonly ITestOutputHelper _out;
        public GccOffsetofTests(ITestOutputHelper output) { _out = output; }

        // Types whose layout bpftool's header states exactly (no 1-byte packed enums, no member-less unions).
        private static readonly string[] SampleTypes = { "iphdr", "ipv6hdr", "list_head", "hlist_node", "task_struct", "sk_buff", "mm_struct", "file", "dentry", "cred", "sock_common" };

        public static IEnumerable<object[]> Targets() => Tier.Rows(AllTargets());

        private static IEnumerable<object[]> AllTargets()
        {
            // kernel, compiler, extra flags
            yield return new object[] { "x86_64-6.12", "gcc", "" };
            yield return new object[] { "armhf-6.1", "arm-linux-gnueabihf-gcc", "" };
            yield return new object[] { "i686-6.1", "gcc", "-m32" };
            // Targets without a Debian cross gcc here: clang (a cross compiler by itself; -S needs no target libc).
            yield return new object[] { "aarch64-6.1", "clang", "--target=aarch64-linux-gnu" };
            yield return new object[] { "s390x-6.12", "clang", "--target=s390x-linux-gnu" };
            yield return new object[] { "armhf-6.1", "clang", "--target=armv7a-linux-gnueabihf" };
        }

        [Theory]
        [MemberData(nameof(Targets))]
        public void Sample_offsets_match_gcc_offsetof(string kernel, string compiler, string flags)
        {
            try { ProcessRunner.Find(compiler); }
            catch (InvalidOperationException) { Assert.Fail($"'{compiler}' is not installed (apt-get install {(compiler == "gcc" ? "gcc" : "gcc-" + compiler.Substring(0, compiler.Length - 4))}{(flags == "-m32" ? "; -S -m32 needs no multilib" : "")})"); }
            var path = Fixtures.Path(kernel);
            var truth = new BpftoolLayoutTruth(path);
            var problems = new List<string>();

            // Which BTF types: the (unique) named struct/union of each sample name.
            var ids = new Dictionary<string, int>();
            foreach (var id in truth.NamedCompositeIds())
            {
                var n = truth.NameOfId(id);
                if (SampleTypes.Contains(n)) { Assert.False(ids.ContainsKey(n), $"{kernel}: {n} is not unique; pick another sample"); ids[n] = id; }
            }
            foreach (var n in SampleTypes) Assert.True(ids.ContainsKey(n), $"{kernel}: no struct {n}");

            // 1. gcc: sizeof and offsetof of every named member (flattened: C11 reaches members of anonymous members directly).
            var work = Path.Combine(Path.GetTempPath(), "btfbindings-exactness", compiler + "-" + kernel + "-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(work);
            var header = Bpftool.Dump(path, format: "c").StdOutBytes;
            File.WriteAllBytes(Path.Combine(work, "vmlinux.h"), header);
            var keys = new List<(string type, string member)>();
            var c = new StringBuilder("#include \"vmlinux.h\"\n/* every value is stored + 1 so that gcc never folds zeros into .zero */\nconst unsigned int exactness_vals[] = {\n");
            foreach (var n in SampleTypes)
            {
                var tc = truth.Composite(ids[n]);
                string tag = (tc.Kind == "UNION" ? "union " : "struct ") + n;
                keys.Add((n, "")); c.Append($"  1 + sizeof({tag}),\n");
                foreach (var m in tc.Members.Where(Measurable))
                {
                    keys.Add((n, m.Name));
                    c.Append($"  1 + __builtin_offsetof({tag}, {m.Name}),\n");
                }
            }
            c.Append("};\n");
            File.WriteAllText(Path.Combine(work, "offsets.c"), c.ToString());
            var gcc = ProcessRunner.Run(compiler, [.. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries), "-S", "-O0", "-w", "-fms-extensions", "-o", "offsets.s", "offsets.c"], work);
            Assert.True(gcc.ExitCode == 0, $"{compiler} {flags} failed on bpftool's header for {kernel} ({gcc.ExitCode}): {gcc.StdErr}");
            var gccVals = ReadArray(File.ReadAllLines(Path.Combine(work, "offsets.s")), "exactness_vals");
            Assert.Equal(keys.Count, gccVals.Count);
            var gccOf = new Dictionary<(string, string), long>();
            for (int i = 0; i < keys.Count; i++) gccOf[keys[i]] = gccVals[i] - 1;

            // 2. The generated C#: plan just these types (and their closure), compile, measure at run time.
            var btf = GBtf.Load(path);
            var plan = GPlanner.Plan(btf, SampleTypes, null, out var unknown);
            Assert.Empty(unknown);
            var files = new GEmitter(plan, new GEmitOptions { Namespace = "K", SourceLabel = kernel + ".btf" }).Emit();
            var trees = TestCompilation.ParseAll(files.Select(f => (f.HintName, f.Text)).ToList());
            var index = new GeneratedSyntaxIndex(trees);
            string asmName = "BtfGccSample_" + kernel.Replace('-', '_').Replace('.', '_');
            var checkedTypes = new List<CheckedType>();
            foreach (var n in SampleTypes)
            {
                var pt = plan.Types.Single(t => t.BtfId == ids[n]);
                Assert.True(pt.Kind == GKind.Struct || pt.Kind == GKind.Union, $"{n} planned as {pt.Kind}");
                var entry = index["K." + pt.Name];
                Assert.NotNull(entry);
                var ct = new CheckedType { Index = checkedTypes.Count, PlanName = pt.Name, MetadataName = "K." + pt.Name, BtfId = pt.BtfId, Truth = truth.Composite(pt.BtfId), CsType = entry!.CsType };
                CheckerSource.Pair(ct, entry, problems);
                checkedTypes.Add(ct);
            }
            var checkerTree = CSharpSyntaxTree.ParseText(CheckerSource.Build(checkedTypes), TestCompilation.ParseOptions, CheckerSource.ClassName + ".cs");
            var compiled = TestCompilation.Emit(TestCompilation.Create(asmName, trees.Append(checkerTree)));
            Assert.True(compiled.Image != null, $"{kernel}: generated code + checker do not compile: {TestCompilation.Describe(compiled.Errors)}");
            Assert.True(compiled.Warnings.Count == 0, $"{kernel}: warnings: {TestCompilation.Describe(compiled.Warnings)}");

            var csOf = new Dictionary<(string, string), long>();
            var alc = new CollectibleContext(asmName);
            try
            {
                var checker = alc.LoadFromStream(new MemoryStream(compiled.Image!)).GetType(CheckerSource.ClassName, throwOnError: true)!;
                var run = (Action<int>)Delegate.CreateDelegate(typeof(Action<int>), checker.GetMethod("Run")!);
                var R = (List<long>)checker.GetField("R")!.GetValue(null)!;
                foreach (var ct in checkedTypes)
                {
                    R.Clear();
                    run(ct.Index);
                    int i = 0, exceptions = 0;
                    string n = ct.Truth.Name;
                    csOf[(n, "")] = R[i++];
                    foreach (var p in ct.Probes)
                    {
                        if (p.Kind == ProbeKind.Bitfield) { BitfieldResult.Read(R, ref i, ref exceptions); continue; }
                        csOf[(n, p.Member.Name)] = R[i]; i += 2;
                    }
                }
            }
            finally { alc.Unload(); }

            // 3. Three-way comparison: C# at run time, gcc on bpftool's header, bpftool's JSON.
            int compared = 0;
            foreach (var k in keys)
            {
                var tc = truth.Composite(ids[k.type]);
                long btfVal = k.member.Length == 0 ? (long)tc.Size : tc.Members.Single(m => m.Name == k.member).BitOffset / 8;
                long g = gccOf[k];
                string what = k.member.Length == 0 ? $"sizeof({k.type})" : $"offsetof({k.type}, {k.member})";
                if (!csOf.TryGetValue(k, out var cs)) { problems.Add($"{what}: no C# member measured"); continue; }
                if (g != btfVal) problems.Add($"{what}: gcc {g} but BTF {btfVal}: bpftool's header is not a layout truth here; pick another sample");
                if (cs != g) problems.Add($"{what}: C# {cs}, gcc {g} (BTF {btfVal})");
                compared++;
            }
            _out.WriteLine($"{kernel}: {compiler} {flags} on bpftool's header: {SampleTypes.Length} types, {compared} sizeof/offsetof values compared with the generated C# ({string.Join(", ", SampleTypes.Select(n => $"{n} {truth.Composite(ids[n]).Members.Count(Measurable)}"))}); problems: {problems.Count}");
            foreach (var p in problems.Take(40)) _out.WriteLine("  " + p);
            try { Directory.Delete(work, true); } catch (IOException) { }
            Assert.True(problems.Count == 0, $"{kernel}: {problems.Count} problems:\n" + string.Join("\n", problems.Take(40)));
        }

        /// <summary>Members offsetof can name and C# has as fields: not bitfields, not zero-size (flexible arrays are fine).</summary>
        private static bool Measurable(TruthMember m) => !m.IsBitfield && (m.ByteSize > 0 || m.IsFlexibleArray);

        /// <summary>The 4-byte values of an initialized array in gcc/clang assembly (<c>.long</c> on x86 and s390x, <c>.word</c> on ARM, <c>.4byte</c>).</summary>
        private static List<long> ReadArray(string[] asm, string symbol)
        {
            var vals = new List<long>();
            int i = Array.FindIndex(asm, l => l.Trim() == symbol + ":");
            if (i < 0) throw new InvalidOperationException("no label " + symbol + " in gcc's assembly");
            for (i++; i < asm.Length; i++)
            {
                var parts = asm[i].Trim().Split(new[] { ' ', '\t' }, 2, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2 || !(parts[0] is ".long" or ".word" or ".4byte" or ".int")) break;
                // clang appends a comment ("21  @ 0x15", "// 0x15", "# 0x15"): the value is the first token.
                var operand = parts[1].Trim().Split(new[] { ' ', '\t' }, 2, StringSplitOptions.RemoveEmptyEntries)[0];
                vals.Add(long.Parse(operand, CultureInfo.InvariantCulture));
            }
            return vals;
        }
    }
}
