using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

/// <summary>
/// Embedded BTF for a folder of target kernels: the real generators (types + embedding) run through Roslyn's driver as a
/// build runs them, every file of a BTFHub tree an <c>Embed="true"</c> target; prints the build's size report.
/// </summary>
static class EmbedBench
{
    public static void Run(string buildBtf, string tree, string[] types)
    {
        var files = Directory.GetFiles(tree, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".btf", StringComparison.Ordinal) || f.EndsWith(".btf.tar.xz", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
        var obj = Directory.CreateTempSubdirectory("btfbindings-embed-bench-").FullName;
        try
        {
            // As a build hands them over: each archive also decompressed once to a raw copy (the manifest's RawPath), which
            // is what the compiler process parses again after it let a target go.
            string Raw(string f)
            {
                if (f.EndsWith(".btf", StringComparison.Ordinal)) return "";
                var raw = Path.Combine(obj, "raw", Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(f))) + ".btf");
                Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
                File.WriteAllBytes(raw, BtfBindings.Containers.KernelImage.FindBtf(File.ReadAllBytes(f), f).Data);
                return raw;
            }
            string manifest = "file\t" + buildBtf + "\tbench\t\n" + string.Concat(files.Select(f =>
                $"target\t{f}\t{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}\ttrue\t\t\t\t{Raw(f)}\n"));
            var parse = new CSharpParseOptions(LanguageVersion.CSharp12);
            var refs = Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll")
                .Select(f => { try { return (MetadataReference?)MetadataReference.CreateFromFile(f); } catch { return null; } })
                .Where(r => r != null).Cast<MetadataReference>().Append(MetadataReference.CreateFromFile(typeof(BtfBindings.IBtfType).Assembly.Location)).ToList();
            string attr = string.Join(", ", types.Select(t => "\"" + t + "\""));
            var user = CSharpSyntaxTree.ParseText($"[BtfBindings.BtfTypes({attr})] partial class Kernel {{ }}", parse, path: "/src/Kernel.cs");
            var comp = CSharpCompilation.Create("Bench", new[] { user }, refs, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
            GeneratorDriver driver = CSharpGeneratorDriver.Create(
                new[] { new BtfBindings.Generator.BtfSourceGenerator().AsSourceGenerator(), new BtfBindings.Embed.EmbeddedBtfGenerator().AsSourceGenerator() },
                additionalTexts: new AdditionalText[] { new Manifest(Path.Combine(obj, "BtfBindings.btfrefs"), manifest) }, parseOptions: parse);
            var sw = Stopwatch.StartNew();
            driver = driver.RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            double ms = sw.Elapsed.TotalMilliseconds;
            foreach (var d in diags) Console.WriteLine(d.ToString());
            var report = Path.Combine(obj, "btfbindings", "embedded.md");
            Console.WriteLine(File.Exists(report) ? File.ReadAllText(report).TrimEnd() : "no report written");
            // The same build after adding a type: the targets are parsed already (compiler process cache), only minimized again.
            var user2 = CSharpSyntaxTree.ParseText($"[BtfBindings.BtfTypes({attr}, \"pid_namespace\")] partial class Kernel {{ }}", parse, path: "/src/Kernel.cs");
            sw.Restart();
            driver.RunGenerators(comp.ReplaceSyntaxTree(user, user2));
            double again = sw.Elapsed.TotalMilliseconds;
            var embedded = output.SyntaxTrees.FirstOrDefault(t => t.FilePath.EndsWith("EmbeddedKernelBtf.g.cs", StringComparison.Ordinal));
            foreach (var e in output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(3)) Console.WriteLine("compile error: " + e);
            // What the embedded file costs the compiler: parsing and emitting it alone (median of 5, after a warm-up),
            // since within the whole project's compile time it is below the noise of this shared machine.
            double EmitMs(Compilation c)
            {
                var t = new System.Collections.Generic.List<double>();
                for (int i = 0; i < 5; i++)
                {
                    var fresh = c.RemoveAllSyntaxTrees().AddSyntaxTrees(c.SyntaxTrees.Select(x => CSharpSyntaxTree.ParseText(x.GetText(), (CSharpParseOptions)x.Options, x.FilePath)));
                    var w = Stopwatch.StartNew();
                    using var pe = new MemoryStream();
                    fresh.Emit(pe);
                    t.Add(w.Elapsed.TotalMilliseconds);
                }
                t.Sort();
                return t[2];
            }
            if (embedded != null)
            {
                var alone = output.RemoveAllSyntaxTrees().AddSyntaxTrees(embedded);
                EmitMs(alone);
                Console.WriteLine($"the embedded file ({embedded.Length:N0} chars) parses and compiles alone in {EmitMs(alone):0} ms (median of 5)");
            }
            Console.WriteLine($"{{\"tool\":\"btfbindings\",\"mode\":\"embed\",\"targets\":{files.Count},\"types\":\"{string.Join(" ", types)}\",\"generators_ms\":{ms.ToString("0", CultureInfo.InvariantCulture)},\"rerun_new_type_set_ms\":{again.ToString("0", CultureInfo.InvariantCulture)},\"generated_chars\":{embedded?.Length ?? 0}}}");
        }
        finally { try { Directory.Delete(obj, true); } catch (IOException) { } }
    }

    private sealed class Manifest : AdditionalText
    {
        private readonly Microsoft.CodeAnalysis.Text.SourceText _text;
        public Manifest(string path, string text) { Path = path; _text = Microsoft.CodeAnalysis.Text.SourceText.From(text); }
        public override string Path { get; }
        public override Microsoft.CodeAnalysis.Text.SourceText GetText(System.Threading.CancellationToken cancellationToken = default) => _text;
    }
}
