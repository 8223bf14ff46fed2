using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Security.Cryptography;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Generator
{
    /// <summary>
    /// The use-site checks against BtfTarget kernels (BtfCompatAnalyzer) in process: types generated from the 6.12 fixture,
    /// targets 5.10 and 6.12. What the warnings claim is checked against the fixtures themselves (bpftool facts pinned in
    /// Compatibility/ClassificationTests: 6.12's task_struct.__state is 5.10's state, task_struct.pid moved).
    /// </summary>
    [Collection("generator-cache")] // BtfCache is process-wide; the re-analysis test counts parses and verdicts
    public class CompatAnalyzerTests
    {
        private readonly ITestOutputHelper _out;
        public CompatAnalyzerTests(ITestOutputHelper output) { _out = output; }

        private const string Types = @"
using BtfBindings;
namespace Demo
{
    [BtfTypes(""task_struct"", ""bpf_func_id"")]
    public static partial class Kernel { }
}";

        private static string Sha(string path) => Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(path)));

        private static string ManifestText()
        {
            string build = Fixtures.Path("x86_64-6.12"), old = Fixtures.Path("x86_64-5.10");
            return GeneratorHarness.FilesProperty((build, Sha(build)))
                + $"target\t{old}\t{Sha(old)}\tfalse\t5.10.0-46-amd64\tx86_64\tdebian/11\n"
                + $"target\t{build}\t{Sha(build)}\tfalse\t6.12.57+deb13-amd64\tx86_64\tdebian/13\n";
        }

        /// <summary>The user's compilation after the generator ran (what the analyzer sees in a build).</summary>
        private static Compilation Generated(params string[] user)
        {
            var comp = GeneratorHarness.Compile(new[] { Types }.Concat(user));
            GeneratorHarness.CreateDriver(ManifestText()).RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            Assert.Empty(diags);
            var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, string.Join("\n", errors));
            return output;
        }

        private static IReadOnlyList<Diagnostic> Analyze(Compilation c)
        {
            var texts = ImmutableArray.Create<AdditionalText>(new GeneratorHarness.Manifest(ManifestText()));
            return c.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new BtfBindings.Generator.BtfCompatAnalyzer()), new AnalyzerOptions(texts))
                .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        }

        private static int Counter(string name) => (int)typeof(BtfBindings.Generator.BtfSourceGenerator).Assembly
            .GetType("BtfBindings.Generator.BtfCache", throwOnError: true)!.GetField(name)!.GetValue(null)!;

        /// <summary>The diagnostics on the line holding <paramref name="marker"/>, as "ID: message".</summary>
        private static List<string> At(IReadOnlyList<Diagnostic> diags, string source, string marker)
        {
            int line = source.Split('\n').Select((l, i) => (l, i)).Single(x => x.l.Contains(marker)).i;
            return diags.Where(d => d.Location.SourceTree?.ToString() == source && d.Location.GetLineSpan().StartLinePosition.Line == line)
                .Select(d => d.Id + ": " + d.GetMessage()).ToList();
        }

        private const string Uses = @"
using Demo;
static class Uses
{
    static uint Plain(Kernel.task_struct t) => t.__state;                          // #plain-missing
    static uint View(Kernel.task_struct.View v) => v.__state;                      // #view-missing
    static uint If(Kernel.task_struct.View v) { if (v.Has___state) return v.__state; return 0; } // #if-guard
    static uint Early(Kernel.task_struct.View v)
    {
        if (!v.Has___state) return 0;
        return v.__state;                                                          // #early-guard
    }
    static uint Exists(Kernel.task_struct.View v) => v.Exists(nameof(v.__state)) ? v.__state : 0u; // #exists-guard
    static uint Literal(Kernel.task_struct.View v) { if (v.pid > 0 && v.Exists(""__state"")) return v.__state; return 0; } // #literal-guard
    static uint Other(Kernel.task_struct.View v) => v.Has_pid ? v.__state : 0u;   // #other-guard
    static int PlainMoved(Kernel.task_struct t) => t.pid;                          // #plain-moved
    static int ViewMoved(Kernel.task_struct.View v) => v.pid;                      // #view-moved
    static ulong Nested(Kernel.task_struct t) => t.se.vruntime;                    // #nested
    static void Write(ref Kernel.task_struct t) { t.__state = 1; }                 // #write
}";

        private const string Unrelated = "static class Other { static int X => 1; }";

        // Generating task_struct's closure and binding it takes seconds: one compilation for every test here.
        private static readonly Lazy<Compilation> Shared = new Lazy<Compilation>(() => Generated(Uses, Enums, Unrelated));

        [Fact]
        public void Warns_at_uses_naming_the_kernels_and_is_silenced_by_a_guard_of_that_field()
        {
            var diags = Analyze(Shared.Value);
            foreach (var d in diags) _out.WriteLine(d.ToString());

            // 6.12's __state is absent on 5.10 (which calls it state): one target of two.
            Assert.Equal(new[] { "BTFB019: 'task_struct.__state' is missing on 5.10 (1 of 2 targets); read it through task_struct.View and guard it with Has___state" },
                At(diags, Uses, "#plain-missing"));
            Assert.Equal(new[] { "BTFB019: 'task_struct.__state' is missing on 5.10 (1 of 2 targets); guard it with Has___state" },
                At(diags, Uses, "#view-missing"));
            Assert.Empty(At(diags, Uses, "#if-guard"));
            Assert.Empty(At(diags, Uses, "#early-guard"));
            Assert.Empty(At(diags, Uses, "#exists-guard"));
            Assert.Empty(At(diags, Uses, "#literal-guard"));
            Assert.Single(At(diags, Uses, "#other-guard"), m => m.StartsWith("BTFB019: 'task_struct.__state'", StringComparison.Ordinal)); // a test of another field guards nothing
            Assert.Single(At(diags, Uses, "#write"), m => m.StartsWith("BTFB019: 'task_struct.__state'", StringComparison.Ordinal));

            // pid moved between 5.10 and 6.12: wrong through the plain struct, fine through the view.
            Assert.Equal(new[] { "BTFB022: 'task_struct.pid' is moved on 5.10 (1 of 2 targets); read it through task_struct.View" },
                At(diags, Uses, "#plain-moved"));
            Assert.Empty(At(diags, Uses, "#view-moved"));

            // A chain is one use of the whole path, judged by the offset from task_struct.
            var nested = At(diags, Uses, "#nested");
            Assert.All(nested, m => Assert.Contains("'task_struct.se.vruntime'", m));
            var verdict = BtfBindings.Compatibility.CompatibilityRule.Classify(new TargetKernel(Fixtures.Kernel("x86_64-5.10")),
                new BtfBindings.Compatibility.CompatUse(BtfBindings.Compatibility.CompatUseKind.Field, "task_struct", "se.vruntime"), Fixtures.Kernel("x86_64-6.12"));
            Assert.Equal(verdict.Verdict == BtfBindings.Compatibility.CompatVerdict.Moved ? 1 : 0, nested.Count);
        }

        private const string Enums = @"
using Demo;
using BtfBindings;
static class E
{
    static int Bare() => (int)Kernel.bpf_func_id.BPF_FUNC_user_ringbuf_drain;                               // #enum-bare
    static int Checked(TargetKernel k) => k.EnumValueExists(Kernel.bpf_func_id.BPF_FUNC_user_ringbuf_drain) // #enum-check
        ? (int)k.ValueOf(Kernel.bpf_func_id.BPF_FUNC_user_ringbuf_drain) : -1;                              // #enum-guarded
    static int Old() => (int)Kernel.bpf_func_id.BPF_FUNC_map_lookup_elem;                                    // #enum-old
}";

        [Fact]
        public void Enumerator_missing_on_a_target_warns_unless_checked()
        {
            var diags = Analyze(Shared.Value);
            // bpftool facts in ClassificationTests: 6.12 has BPF_FUNC_user_ringbuf_drain, 5.10 does not.
            Assert.Equal(new[] { "BTFB019: 'enum bpf_func_id::BPF_FUNC_user_ringbuf_drain' is missing on 5.10 (1 of 2 targets); check it with TargetKernel.EnumValueExists or TryValueOf first" },
                At(diags, Enums, "#enum-bare"));
            Assert.Empty(At(diags, Enums, "#enum-check"));    // the check itself
            Assert.Empty(At(diags, Enums, "#enum-guarded"));
            Assert.Empty(At(diags, Enums, "#enum-old"));      // helper 1 is in both kernels, same value
        }

        /// <summary>
        /// IDE re-analysis after an unrelated edit: the targets are not parsed again and no verdict is computed again (the
        /// counters are the process cache's own).
        /// </summary>
        [Fact]
        public void Reanalysis_after_an_unrelated_edit_does_no_BTF_work()
        {
            var c1 = Shared.Value;
            Assert.NotEmpty(Analyze(c1));
            int parses = Counter("TargetParseCount"), verdicts = Counter("VerdictCount"), buildParses = Counter("ParseCount");

            var tree = c1.SyntaxTrees.Single(t => t.ToString() == Unrelated);
            var c2 = c1.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From("static class Other { static int X => 2; }")));
            var again = Analyze(c2);
            Assert.NotEmpty(again);
            Assert.Equal(0, Counter("TargetParseCount") - parses);
            Assert.Equal(0, Counter("VerdictCount") - verdicts);
            Assert.Equal(0, Counter("ParseCount") - buildParses);
        }
    }
}
