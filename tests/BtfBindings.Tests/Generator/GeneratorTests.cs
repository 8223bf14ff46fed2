using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using BtfGen = BtfBindings.Generator.BtfSourceGenerator;

namespace BtfBindings.Tests.Generator
{
    [Collection("generator-cache")] // BtfCache is process-wide; the incremental test counts parses
    public class GeneratorTests
    {
        private const string UserCode = @"
using BtfBindings;
namespace Demo
{
    [BtfTypes(""iphdr"", ""list_head"", ""pid_type"", ""atomic_t"")]
    public static partial class Kernel { }
}";

        private static string X86 => Fixtures.Path("x86_64-6.12");

        private static (GeneratorDriver driver, Compilation output, IReadOnlyList<Diagnostic> diags) Run(string code, string? files, LanguageVersion lang = LanguageVersion.CSharp12, bool allowUnsafe = true)
        {
            var comp = GeneratorHarness.Compile(new[] { code }, lang, allowUnsafe);
            var driver = GeneratorHarness.CreateDriver(files, lang).RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            // What a build shows: the generator's diagnostics and its companion analyzer's (user-code checks) on the user's code.
            return (driver, output, diags.Concat(GeneratorHarness.AnalyzerDiagnostics(comp, files)).ToList());
        }

        [Fact]
        public void Snapshots_of_representative_types()
        {
            var (driver, _, diags) = Run(UserCode, GeneratorHarness.FilesProperty((X86, "h1")));
            Assert.Empty(diags);
            var result = driver.GetRunResult().Results.Single();
            var names = result.GeneratedSources.Select(s => s.HintName).OrderBy(n => n, StringComparer.Ordinal).ToList();
            Assert.Contains("Kernel.iphdr.g.cs", names);
            Assert.Contains("Kernel.atomic_t.g.cs", names); // typedef'd anonymous struct named after the typedef
            Assert.Contains("Kernel.pid_type.g.cs", names);
            foreach (var s in result.GeneratedSources)
                Snapshot.Verify(s.SourceText.ToString(), s.HintName);
            // The set of files is part of the snapshot too.
            Snapshot.Verify(string.Join("\n", names) + "\n", "files.txt");
        }

        [Fact]
        public void Approved_snapshots_compile_cleanly_beside_the_users_declaration()
        {
            // The approved files are data (not compiled into this assembly): compile them the way a user's build would.
            var names = Snapshot.Read("files.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("Kernel.iphdr.g.cs", names);
            var trees = names.Select(n => CSharpSyntaxTree.ParseText(Snapshot.Read(n), TestCompilation.ParseOptions, path: n))
                .Append(CSharpSyntaxTree.ParseText("namespace Demo { internal static partial class Kernel { } }", TestCompilation.ParseOptions, path: "User.cs"));
            var result = TestCompilation.Emit(TestCompilation.Create("Snapshots", trees));
            Assert.True(result.Image != null, TestCompilation.Describe(result.Errors));
            Assert.True(result.Warnings.Count == 0, TestCompilation.Describe(result.Warnings));
        }

        [Fact]
        public void Generated_code_compiles_without_warnings_for_task_struct_closure()
        {
            const string code = @"
using BtfBindings;
namespace Demo
{
    [BtfTypes(""task_struct"", ""sk_buff"", ""iphdr"", ""file"", ""inode"", ""pglist_data"")]
    internal partial class Kernel { }
}";
            var (driver, output, diags) = Run(code, GeneratorHarness.FilesProperty((X86, "h1")));
            Assert.Empty(diags);
            var all = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(all.Count == 0, "generated code has diagnostics:\n" + string.Join("\n", all.Take(20)));
            Assert.True(driver.GetRunResult().GeneratedTrees.Length > 100);
        }

        [FullTheory]
        [InlineData("x86_64-5.10")]
        [InlineData("aarch64-6.1")]
        [InlineData("armhf-6.1")]
        [InlineData("i686-6.1")]
        [InlineData("s390x-6.12")]
        public void Generated_code_compiles_on_every_fixture_kernel(string kernel)
        {
            const string code = @"
using BtfBindings;
[BtfTypes(""task_struct"", ""sk_buff"", ""iphdr"")]
partial class K { }";
            var (_, output, diags) = Run(code, GeneratorHarness.FilesProperty((Fixtures.Path(kernel), "h")));
            Assert.Empty(diags);
            var all = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(all.Count == 0, string.Join("\n", all.Take(20)));
        }

        [Fact]
        public void Without_unsafe_primitive_arrays_become_inline_arrays()
        {
            var (driver, output, diags) = Run(UserCode.Replace("\"iphdr\"", "\"task_struct\""), GeneratorHarness.FilesProperty((X86, "h1")), allowUnsafe: false);
            // No AllowUnsafeBlocks: nothing generated may need it (no fixed buffers, no 'unsafe' structs).
            var text = string.Join("\n", driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
            Assert.DoesNotContain(" fixed ", text);
            Assert.DoesNotContain(" unsafe ", text);
            Assert.Contains("BtfArray16<byte> comm", text);
            var errors = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(errors.Count == 0, string.Join("\n", errors.Take(20)));
        }

        [Fact]
        public void Unknown_type_name_is_reported_on_the_argument_with_suggestions()
        {
            const string code = @"
using BtfBindings;
[BtfTypes(""iphdr"", ""task_strct"")]
partial class K { }";
            var (_, _, diags) = Run(code, GeneratorHarness.FilesProperty((X86, "h1")));
            var d = Assert.Single(diags);
            Assert.Equal("BTFB001", d.Id);
            Assert.Contains("'task_strct'", d.GetMessage());
            Assert.Contains("did you mean 'task_struct'", d.GetMessage());
            var span = d.Location.GetLineSpan();
            Assert.Equal(2, span.StartLinePosition.Line);
            Assert.Equal("/src/File0.cs", span.Path);
            Assert.Equal("\"task_strct\"", code.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
        }

        [Theory]
        [InlineData("task_strut", "task_struct")]
        [InlineData("TASK_STRUCT", "task_struct")]
        [InlineData("sk_buf", "sk_buff")]
        [InlineData("iphd", "iphdr")]
        [InlineData("ipdhr", "iphdr")] // two letters swapped: one edit (LayoutPlanner.Suggest, btfgen's command names too)
        public void Suggestions_are_only_names_plausibly_meant(string typo, string meant)
        {
            // On x86_64-5.4 'task_strut' once drew 'FPStats', 'UHWtype' and '__kfifo' too. Every suggestion must now be within
            // an edit distance of a third of the name (case-insensitive, at most 3; a swap of two neighbours is one edit) or contain the name.
            var code = "[BtfBindings.BtfTypes(\"" + typo + "\")] partial class K { }";
            foreach (var kernel in new[] { "x86_64-6.12", "x86_64-5.10" })
            {
                var (_, _, diags) = Run(code, GeneratorHarness.FilesProperty((Fixtures.Path(kernel), "h")));
                var d = Assert.Single(diags);
                Assert.Equal("BTFB001", d.Id);
                var msg = d.GetMessage();
                Assert.Contains("did you mean '" + meant + "'", msg);
                var suggested = System.Text.RegularExpressions.Regex.Matches(msg.Substring(msg.IndexOf("did you mean", StringComparison.Ordinal)), "'([^']*)'").Select(m => m.Groups[1].Value).ToList();
                int bound = Math.Max(1, Math.Min(3, typo.Length / 3));
                Assert.All(suggested, s => Assert.True(EditDistance(s.ToLowerInvariant(), typo.ToLowerInvariant()) <= bound || s.Contains(typo, StringComparison.OrdinalIgnoreCase), $"{kernel}: '{s}' suggested for '{typo}'"));
            }
        }

        private static int EditDistance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (int j = 0; j <= b.Length; j++) d[0, j] = j;
            for (int i = 1; i <= a.Length; i++)
                for (int j = 1; j <= b.Length; j++)
                {
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                    if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1); // a swap is one typo
                }
            return d[a.Length, b.Length];
        }

        [Fact]
        public void No_btf_file_is_a_diagnostic()
        {
            var (_, _, diags) = Run(UserCode, null);
            Assert.Equal("BTFB002", Assert.Single(diags).Id);
        }

        [Fact]
        public void Several_btf_files_need_a_choice()
        {
            var files = GeneratorHarness.FilesProperty((X86, "h1"), (Fixtures.Path("aarch64-6.1"), "h2"));
            var (_, _, diags) = Run(UserCode, files);
            var d = Assert.Single(diags);
            Assert.Equal("BTFB003", d.Id);
            Assert.Contains("aarch64-6.1.btf", d.GetMessage());

            var chosen = UserCode.Replace("\"atomic_t\")]", "\"atomic_t\", BtfFile = \"aarch64-6.1.btf\")]");
            var (driver, _, diags2) = Run(chosen, files);
            Assert.Empty(diags2);
            Assert.Contains(driver.GetRunResult().GeneratedTrees, t => t.ToString().Contains("aarch64-6.1.btf"));
        }

        [Fact]
        public void Same_types_from_two_kernels_side_by_side()
        {
            const string code = @"
using BtfBindings;
[BtfTypes(""task_struct"", BtfFile = ""x86_64-6.12.btf"")] partial class New { }
[BtfTypes(""task_struct"", BtfFile = ""x86_64-5.10.btf"")] partial class Old { }
static class Use { static int Sizes() => System.Runtime.CompilerServices.Unsafe.SizeOf<New.task_struct>() - System.Runtime.CompilerServices.Unsafe.SizeOf<Old.task_struct>(); }";
            var files = GeneratorHarness.FilesProperty((X86, "h1"), (Fixtures.Path("x86_64-5.10"), "h2"));
            var (_, output, diags) = Run(code, files);
            Assert.Empty(diags);
            Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        }

        [Fact]
        public void Corrupt_btf_is_a_diagnostic_naming_file_and_offset()
        {
            var path = Path.Combine(Path.GetTempPath(), "btfb-corrupt-" + Guid.NewGuid().ToString("N") + ".btf");
            var bytes = File.ReadAllBytes(X86);
            Array.Resize(ref bytes, bytes.Length / 2); // truncated: string section runs past the end
            File.WriteAllBytes(path, bytes);
            try
            {
                var (_, _, diags) = Run(UserCode, GeneratorHarness.FilesProperty((path, "bad")));
                var d = Assert.Single(diags);
                Assert.Equal("BTFB004", d.Id);
                Assert.Contains(path, d.GetMessage());
                Assert.Contains("byte offset", d.GetMessage());
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void Old_language_version_is_a_diagnostic()
        {
            var (driver, _, diags) = Run(UserCode, GeneratorHarness.FilesProperty((X86, "h1")), LanguageVersion.CSharp11);
            Assert.Equal("BTFB005", Assert.Single(diags).Id);
            Assert.Empty(driver.GetRunResult().GeneratedTrees);
        }

        [Fact]
        public void Class_must_be_partial()
        {
            var (_, _, diags) = Run(UserCode.Replace("static partial class", "static class"), GeneratorHarness.FilesProperty((X86, "h1")));
            Assert.Equal("BTFB007", Assert.Single(diags).Id);
        }

        [Theory]
        [InlineData("public static partial class Kernel<T> { }")]
        [InlineData("public partial class Outer<T> { [BtfTypes(\"iphdr\")] public static partial class Kernel { } }")]
        public void Generic_container_is_a_diagnostic_not_silence(string decl)
        {
            var code = UserCode.Replace("[BtfTypes(\"iphdr\", \"list_head\", \"pid_type\", \"atomic_t\")]\n    public static partial class Kernel { }",
                decl.StartsWith("public partial class Outer", StringComparison.Ordinal) ? decl : "[BtfTypes(\"iphdr\")] " + decl);
            Assert.NotEqual(UserCode, code);
            var (driver, _, diags) = Run(code, GeneratorHarness.FilesProperty((X86, "h1")));
            var d = Assert.Single(diags);
            Assert.Equal("BTFB011", d.Id);
            Assert.Contains("is generic", d.GetMessage());
            Assert.Empty(driver.GetRunResult().GeneratedTrees);
        }

        [Fact]
        public void Unrelated_edit_reuses_everything_and_a_btf_change_regenerates()
        {
            var comp = GeneratorHarness.Compile(new[] { UserCode });
            var driver = GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((X86, "hash-A")));
            driver = driver.RunGenerators(comp);
            int parses = GeneratorHarness.ParseCount;

            // An unrelated edit: a new file elsewhere in the project.
            var edited = comp.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { int X => 1; }", new CSharpParseOptions(LanguageVersion.CSharp12), path: "/src/Other.cs"));
            driver = driver.RunGenerators(edited);
            var run = driver.GetRunResult().Results.Single();
            var gen = run.TrackedSteps[BtfGen.Steps.Generate];
            Assert.All(gen.SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
            Assert.All(run.TrackedSteps[BtfGen.Steps.Files].SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
            Assert.Equal(parses, GeneratorHarness.ParseCount); // not re-read, not re-parsed
            Assert.All(run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
            // Every named step (the request read from [BtfTypes], the compilation's features, the manifest) produced what it
            // produced before, so nothing downstream of them (parsing, planning, emission) ran.
            foreach (var step in new[] { BtfGen.Steps.Requests, BtfGen.Steps.Features, BtfGen.Steps.Files, BtfGen.Steps.Generate })
                Assert.All(run.TrackedSteps[step].SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, step + ": " + o.Reason));

            // The BTF file changes (new content hash from MSBuild): generation runs again and re-parses.
            driver = GeneratorHarness.WithFiles(driver, GeneratorHarness.FilesProperty((X86, "hash-B")));
            driver = driver.RunGenerators(edited);
            run = driver.GetRunResult().Results.Single();
            Assert.Contains(run.TrackedSteps[BtfGen.Steps.Generate].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified || o.Reason == IncrementalStepRunReason.Unchanged);
            Assert.Equal(parses + 1, GeneratorHarness.ParseCount);

            // Editing the attribute re-runs the request but the parsed BTF comes from the process-wide cache.
            var requestEdit = edited.ReplaceSyntaxTree(edited.SyntaxTrees.First(), CSharpSyntaxTree.ParseText(UserCode.Replace("\"atomic_t\"", "\"atomic_t\", \"rb_node\""), new CSharpParseOptions(LanguageVersion.CSharp12), path: "/src/File0.cs"));
            driver = driver.RunGenerators(requestEdit);
            Assert.Contains(driver.GetRunResult().GeneratedSources(), s => s.HintName == "Kernel.rb_node.g.cs");
            Assert.Equal(parses + 1, GeneratorHarness.ParseCount);
        }

        [Fact]
        public void Output_is_deterministic_and_independent_of_run_order()
        {
            var a = Run(UserCode, GeneratorHarness.FilesProperty((X86, "h1"))).driver.GetRunResult().GeneratedTrees.Select(t => t.FilePath + t).ToList();
            var b = Run(UserCode.Replace("\"iphdr\", \"list_head\"", "\"list_head\", \"iphdr\""), GeneratorHarness.FilesProperty((X86, "h1"))).driver.GetRunResult().GeneratedTrees.Select(t => t.FilePath + t).ToList();
            Assert.Equal(a, b);
        }
    }

    internal static class RunResultExtensions
    {
        public static IEnumerable<GeneratedSourceResult> GeneratedSources(this GeneratorDriverRunResult r) => r.Results.SelectMany(x => x.GeneratedSources);
    }
}
