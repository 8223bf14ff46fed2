using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// The one way tests compile C# with Roslyn in memory: references (the running framework + BtfBindings.Runtime, or
    /// net8.0's targeting pack), parse and compilation options (unsafe, nullable on, every warning wave, the SDK's
    /// default NoWarn), emitting, diagnostics described for assertion messages, and a collectible context to load and
    /// unload what was emitted.
    /// </summary>
    public static class TestCompilation
    {
        /// <summary>C# 12 (what a net8.0 consumer compiles with), XML doc comments diagnosed.</summary>
        public static readonly CSharpParseOptions ParseOptions = Parse(LanguageVersion.CSharp12);

        /// <summary>Parse options for <paramref name="lang"/>; doc comments diagnosed only when asked (user snippets have none).</summary>
        public static CSharpParseOptions Parse(LanguageVersion lang, DocumentationMode docs = DocumentationMode.Diagnose) => new CSharpParseOptions(lang, docs);

        /// <summary>A library: unsafe allowed, nullable enabled, every warning wave, release, deterministic, the SDK's default NoWarn.</summary>
        public static readonly CSharpCompilationOptions Options = CompilationOptions();

        /// <summary><see cref="Options"/> with <paramref name="allowUnsafe"/> and <paramref name="warningLevel"/> chosen.</summary>
        public static CSharpCompilationOptions CompilationOptions(bool allowUnsafe = true, int warningLevel = 9999)
            => new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: allowUnsafe, optimizationLevel: OptimizationLevel.Release,
                    warningLevel: warningLevel, nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: true, deterministic: true)
                // The .NET SDK's default NoWarn: reference unification notes, not problems in the code.
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress });

        private static readonly Lazy<ImmutableArray<MetadataReference>> RuntimeRefs = new Lazy<ImmutableArray<MetadataReference>>(() =>
        {
            var list = new List<MetadataReference>();
            var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
            foreach (var f in Directory.GetFiles(dir, "*.dll").OrderBy(x => x, StringComparer.Ordinal))
                if (IsManaged(f)) list.Add(MetadataReference.CreateFromFile(f));
            list.Add(MetadataReference.CreateFromFile(typeof(global::BtfBindings.IBtfType).Assembly.Location));
            return list.ToImmutableArray();
        });

        /// <summary>The running framework's assemblies and BtfBindings.Runtime: what generated code is loaded against here.</summary>
        public static ImmutableArray<MetadataReference> References => RuntimeRefs.Value;

        private static readonly Lazy<ImmutableArray<MetadataReference>> TargetingRefs = new Lazy<ImmutableArray<MetadataReference>>(() =>
        {
            // net8.0's targeting pack (what BtfBindings.Runtime and its consumers target) when restored, else the running
            // runtime's targeting pack, else the runtime's own assemblies.
            string[]? files = null;
            var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var net8 = Path.Combine(nugetRoot, "microsoft.netcore.app.ref");
            if (Directory.Exists(net8))
            {
                var dir = Directory.GetDirectories(net8, "8.*").Select(d => Path.Combine(d, "ref", "net8.0")).Where(Directory.Exists).OrderBy(d => d).LastOrDefault();
                if (dir != null) files = Directory.GetFiles(dir, "*.dll");
            }
            if (files == null)
            {
                var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
                var version = new DirectoryInfo(runtimeDir).Name;
                var dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
                var packRef = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref", version, "ref");
                files = Directory.Exists(packRef)
                    ? Directory.GetFiles(Directory.GetDirectories(packRef).OrderBy(d => d).Last(), "*.dll")
                    : ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Where(f => Path.GetFileName(f).StartsWith("System") || Path.GetFileName(f) == "netstandard.dll").ToArray();
            }
            var refs = files.Select(f => (MetadataReference)MetadataReference.CreateFromFile(f)).ToList();
            refs.Add(MetadataReference.CreateFromFile(typeof(global::BtfBindings.IBtfType).Assembly.Location));
            return refs.ToImmutableArray();
        });

        /// <summary>net8.0's reference assemblies and BtfBindings.Runtime: what a consumer's build compiles generated code against.</summary>
        public static ImmutableArray<MetadataReference> TargetingPackReferences => TargetingRefs.Value;

        private static bool IsManaged(string path)
        {
            try
            {
                using var s = File.OpenRead(path);
                using var pe = new PEReader(s);
                return pe.HasMetadata && pe.GetMetadataReader().IsAssembly;
            }
            catch (BadImageFormatException) { return false; }
        }

        /// <summary>Parses (path, text) pairs in parallel with <paramref name="options"/> (default <see cref="ParseOptions"/>).</summary>
        public static List<SyntaxTree> ParseAll(IReadOnlyList<(string path, string text)> files, CSharpParseOptions? options = null)
        {
            var trees = new SyntaxTree[files.Count];
            Parallel.For(0, files.Count, i => trees[i] = CSharpSyntaxTree.ParseText(files[i].text, options ?? ParseOptions, files[i].path));
            return trees.ToList();
        }

        /// <summary>A compilation of <paramref name="trees"/> (default references <see cref="References"/>, default options <see cref="Options"/>).</summary>
        public static CSharpCompilation Create(string assemblyName, IEnumerable<SyntaxTree> trees, IEnumerable<MetadataReference>? references = null, CSharpCompilationOptions? options = null)
            => CSharpCompilation.Create(assemblyName, trees, references ?? References, options ?? Options);

        /// <summary>What an emit produced: the image when it succeeded, and its errors and warnings.</summary>
        public sealed class Result
        {
            public byte[]? Image;
            public List<Diagnostic> Errors = new List<Diagnostic>();
            public List<Diagnostic> Warnings = new List<Diagnostic>();
        }

        public static Result Emit(CSharpCompilation c)
        {
            var ms = new MemoryStream();
            var er = c.Emit(ms);
            var r = new Result();
            foreach (var d in er.Diagnostics)
            {
                if (d.Severity == DiagnosticSeverity.Error) r.Errors.Add(d);
                else if (d.Severity == DiagnosticSeverity.Warning) r.Warnings.Add(d);
            }
            if (er.Success) r.Image = ms.ToArray();
            return r;
        }

        /// <summary>Diagnostics for an assertion message: counts by id, then the first <paramref name="max"/> with their source line.</summary>
        public static string Describe(IEnumerable<Diagnostic> ds, int max = 40)
        {
            var all = ds.ToList();
            var byId = string.Join(", ", all.GroupBy(d => d.Id).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}×{g.Count()}"));
            var lines = all.Take(max).Select(d =>
            {
                var span = d.Location.GetLineSpan();
                string src = "";
                if (d.Location.IsInSource)
                {
                    var text = d.Location.SourceTree!.GetText();
                    int line = span.StartLinePosition.Line;
                    if (line < text.Lines.Count) src = "\n      > " + text.Lines[line].ToString().Trim();
                }
                return $"  {d.Id} {span.Path}:{span.StartLinePosition.Line + 1}: {d.GetMessage()}{src}";
            });
            return $"{all.Count} ({byId})\n" + string.Join("\n", lines) + (all.Count > max ? $"\n  … {all.Count - max} more" : "");
        }
    }

    /// <summary>A collectible load context; BtfBindings.Runtime and the framework come from the default context.</summary>
    internal sealed class CollectibleContext : AssemblyLoadContext
    {
        public CollectibleContext(string name) : base(name, isCollectible: true) { }
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }
}
