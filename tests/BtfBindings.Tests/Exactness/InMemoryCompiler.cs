using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>Roslyn in memory: C# 12, unsafe, every warning wave on, XML docs diagnosed, references = the running framework + BtfBindings.Runtime.</summary>
    internal static class InMemoryCompiler
    {
        public static readonly CSharpParseOptions ParseOptions =
            new CSharpParseOptions(LanguageVersion.CSharp12, DocumentationMode.Diagnose);

        public static readonly CSharpCompilationOptions Options =
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, optimizationLevel: OptimizationLevel.Release,
                warningLevel: 9999, nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: true,
                deterministic: true);

        private static readonly Lazy<List<MetadataReference>> Refs = new Lazy<List<MetadataReference>>(() =>
        {
            var list = new List<MetadataReference>();
            var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
            foreach (var f in Directory.GetFiles(dir, "*.dll").OrderBy(x => x, StringComparer.Ordinal))
                if (IsManaged(f)) list.Add(MetadataReference.CreateFromFile(f));
            list.Add(MetadataReference.CreateFromFile(typeof(global::BtfBindings.IBtfType).Assembly.Location));
            return list;
        });

        public static IReadOnlyList<MetadataReference> References => Refs.Value;

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

        public static List<SyntaxTree> Parse(IReadOnlyList<(string path, string text)> files)
        {
            var trees = new SyntaxTree[files.Count];
            Parallel.For(0, files.Count, i => trees[i] = CSharpSyntaxTree.ParseText(files[i].text, ParseOptions, files[i].path));
            return trees.ToList();
        }

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

    /// <summary>The exactness tests run one after another: each whole-vmlinux compile takes both cores and several GB.</summary>
    [Xunit.CollectionDefinition(Name)]
    public sealed class ExactnessCollection
    {
        public const string Name = "Exactness (whole-vmlinux compiles)";
    }

    /// <summary>A collectible load context; BtfBindings.Runtime and the framework come from the default context.</summary>
    internal sealed class CollectibleContext : AssemblyLoadContext
    {
        public CollectibleContext(string name) : base(name, isCollectible: true) { }
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }
}
