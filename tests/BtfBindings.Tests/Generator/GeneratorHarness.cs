using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Generator
{
    /// <summary>Runs the real source generator through Roslyn's driver, the way the compiler does.</summary>
    public sealed class GeneratorHarness
    {
        /// <summary>
        /// How often the generator assembly's process-wide cache actually read and parsed a file (proves caching). Its
        /// internals are visible to no other assembly (they would clash with the Runtime's), so this one counter is read
        /// by reflection.
        /// </summary>
        public static int ParseCount => (int)typeof(BtfBindings.Generator.BtfSourceGenerator).Assembly
            .GetType("BtfBindings.Generator.BtfCache", throwOnError: true)!
            .GetField("ParseCount")!.GetValue(null)!;

        /// <summary>
        /// The user's side of a build: <paramref name="sources"/> as /src/FileN.cs (doc comments not diagnosed: snippets
        /// have none; the compiler's default warning level, as a project gets), before the generator runs.
        /// </summary>
        public static CSharpCompilation Compile(IEnumerable<string> sources, LanguageVersion lang = LanguageVersion.CSharp12, bool allowUnsafe = true)
        {
            var parse = TestCompilation.Parse(lang, DocumentationMode.Parse);
            var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"/src/File{i}.cs"));
            return TestCompilation.Create("GenTest", trees, options: TestCompilation.CompilationOptions(allowUnsafe, warningLevel: 4));
        }

        /// <summary>The manifest lines (<c>BtfBindings.btfrefs</c>) the MSBuild targets would write for these files.</summary>
        public static string FilesProperty(params (string path, string hash)[] files) => string.Concat(files.Select(f => "file\t" + f.path + "\t" + f.hash + "\t\n"));

        /// <summary>The manifest line of a split file over <paramref name="basePath"/> (as written in its Base metadata).</summary>
        public static string SplitFileEntry(string path, string hash, string basePath) => "file\t" + path + "\t" + hash + "\t" + basePath + "\n";

        /// <summary>The manifest's base lines: each distinct Base as written, its full path (here the same) and its hash.</summary>
        public static string BaseHashesProperty(params (string basePath, string hash)[] bases) => string.Concat(bases.Select(b => "base\t" + b.basePath + "\t" + b.basePath + "\t" + b.hash + "\n"));

        /// <summary>The manifest as the compiler sees it: an AdditionalFile in obj/.</summary>
        public sealed class Manifest : AdditionalText
        {
            private readonly SourceText _text;
            public Manifest(string text) { _text = SourceText.From(text); }
            public override string Path => "/obj/Release/net8.0/BtfBindings.btfrefs";
            public override SourceText GetText(System.Threading.CancellationToken cancellationToken = default) => _text;
        }

        // The manifest of the driver this thread made last (RunGenerators returns a new driver, so a table keyed by driver
        // would miss); a test makes and edits its driver on one thread.
        [ThreadStatic] private static AdditionalText? s_manifest;

        public static GeneratorDriver CreateDriver(string? btfFilesProperty, LanguageVersion lang = LanguageVersion.CSharp12, string? baseHashesProperty = null)
        {
            var gen = new BtfBindings.Generator.BtfSourceGenerator().AsSourceGenerator();
            var texts = new List<AdditionalText>();
            if (btfFilesProperty != null || baseHashesProperty != null) texts.Add(new Manifest((btfFilesProperty ?? "") + (baseHashesProperty ?? "")));
            GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { gen }, additionalTexts: texts, parseOptions: new CSharpParseOptions(lang),
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
            s_manifest = texts.Count > 0 ? texts[0] : null;
            return driver;
        }

        /// <summary>The same driver with a rewritten manifest (what a changed hash in the next build looks like).</summary>
        public static GeneratorDriver WithFiles(GeneratorDriver driver, string? btfFilesProperty, string? baseHashesProperty = null)
        {
            var text = new Manifest((btfFilesProperty ?? "") + (baseHashesProperty ?? ""));
            GeneratorDriver next = s_manifest != null ? driver.ReplaceAdditionalText(s_manifest, text) : driver.AddAdditionalTexts(ImmutableArray.Create<AdditionalText>(text));
            s_manifest = text;
            return next;
        }

        /// <summary>What the companion analyzer reports on <paramref name="compilation"/> given the same manifest (user-code checks).</summary>
        public static IReadOnlyList<Diagnostic> AnalyzerDiagnostics(Compilation compilation, string? btfFilesProperty, string? baseHashesProperty = null)
        {
            var texts = ImmutableArray<AdditionalText>.Empty;
            if (btfFilesProperty != null || baseHashesProperty != null) texts = texts.Add(new Manifest((btfFilesProperty ?? "") + (baseHashesProperty ?? "")));
            var withAnalyzer = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new BtfBindings.Generator.BtfTypesAnalyzer()), new AnalyzerOptions(texts));
            return withAnalyzer.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        }

        /// <summary>
        /// The struct/union layouts generated code builds with <c>BtfTypeLayout.Decode</c>, decoded by the runtime from the
        /// string literals in <paramref name="trees"/> (each member type's layout stands in as an empty one).
        /// </summary>
        public static List<global::BtfBindings.BtfTypeLayout> DecodedLayouts(IEnumerable<SyntaxTree> trees)
        {
            var result = new List<global::BtfBindings.BtfTypeLayout>();
            foreach (var inv in trees.SelectMany(t => t.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>()))
            {
                if (!inv.Expression.ToString().EndsWith("BtfTypeLayout.Decode", StringComparison.Ordinal)) continue;
                var args = inv.ArgumentList.Arguments;
                string text = ((Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax)args[0].Expression).Token.ValueText;
                int members = args[1].Expression is Microsoft.CodeAnalysis.CSharp.Syntax.ArrayCreationExpressionSyntax a ? a.Initializer!.Expressions.Count : 0;
                var stand = Enumerable.Range(0, members).Select(_ => new global::BtfBindings.BtfTypeLayout("member", global::BtfBindings.BtfKind.Struct, 0,
                    Array.Empty<global::BtfBindings.BtfFieldLayout>(), "", 8)).ToArray();
                result.Add(global::BtfBindings.BtfTypeLayout.Decode(text, stand));
            }
            return result;
        }
    }
}
