extern alias gen;
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace BtfBindings.Tests.Generator
{
    /// <summary>Runs the real source generator through Roslyn's driver, the way the compiler does.</summary>
    public sealed class GeneratorHarness
    {
        public static readonly ImmutableArray<MetadataReference> References = BuildReferences();

        private static ImmutableArray<MetadataReference> BuildReferences()
        {
            var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
            var refs = Directory.GetFiles(dir, "*.dll")
                .Where(f => !Path.GetFileName(f).StartsWith("Microsoft.VisualBasic", StringComparison.Ordinal))
                .Select(f => { try { return (MetadataReference)MetadataReference.CreateFromFile(f); } catch { return null; } })
                .Where(r => r != null).Cast<MetadataReference>().ToList();
            refs.Add(MetadataReference.CreateFromFile(typeof(BtfBindings.IBtfType).Assembly.Location));
            return refs.ToImmutableArray();
        }

        public static CSharpCompilation Compile(IEnumerable<string> sources, LanguageVersion lang = LanguageVersion.CSharp12, bool allowUnsafe = true)
        {
            var parse = new CSharpParseOptions(lang);
            var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"/src/File{i}.cs"));
            return CSharpCompilation.Create("GenTest", trees, References,
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: allowUnsafe, nullableContextOptions: NullableContextOptions.Enable));
        }

        /// <summary>The build_property value the MSBuild targets would set for these files.</summary>
        public static string FilesProperty(params (string path, string hash)[] files) => string.Join(";", files.Select(f => f.path + "|" + f.hash + "|"));

        /// <summary>The BtfBindingsFiles entry of a split file: <c>path|hash|base</c>.</summary>
        public static string SplitFileEntry(string path, string hash, string basePath) => path + "|" + hash + "|" + basePath;

        /// <summary>The BtfBindingsBaseHashes value the MSBuild targets would set: <c>base|hash</c> per distinct Base.</summary>
        public static string BaseHashesProperty(params (string basePath, string hash)[] bases) => string.Join(";", bases.Select(b => b.basePath + "|" + b.hash));

        public static GeneratorDriver CreateDriver(string? btfFilesProperty, LanguageVersion lang = LanguageVersion.CSharp12, string? baseHashesProperty = null)
        {
            var gen = new gen::BtfBindings.Generator.BtfSourceGenerator().AsSourceGenerator();
            var options = new Options(btfFilesProperty, baseHashesProperty);
            return CSharpGeneratorDriver.Create(new[] { gen }, optionsProvider: options, parseOptions: new CSharpParseOptions(lang),
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        }

        public static GeneratorDriver WithFiles(GeneratorDriver driver, string? btfFilesProperty, string? baseHashesProperty = null)
            => driver.WithUpdatedAnalyzerConfigOptions(new Options(btfFilesProperty, baseHashesProperty));

        private sealed class Options : AnalyzerConfigOptionsProvider
        {
            private readonly Global _global;
            public Options(string? files, string? baseHashes) { _global = new Global(files, baseHashes); }
            public override AnalyzerConfigOptions GlobalOptions => _global;
            public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Global.Empty;
            public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Global.Empty;
        }

        private sealed class Global : AnalyzerConfigOptions
        {
            public static readonly Global Empty = new Global(null, null);
            private readonly string? _files, _baseHashes;
            public Global(string? files, string? baseHashes) { _files = files; _baseHashes = baseHashes; }
            public override bool TryGetValue(string key, out string value)
            {
                if (key == "build_property.BtfBindingsFiles" && _files != null) { value = _files; return true; }
                if (key == "build_property.BtfBindingsBaseHashes" && _baseHashes != null) { value = _baseHashes; return true; }
                value = "";
                return false;
            }
        }
    }
}
