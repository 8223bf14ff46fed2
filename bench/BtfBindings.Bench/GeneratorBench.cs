using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

/// <summary>Generator benchmarks: cold parse + generation of a closure, and the re-run after an unrelated edit.</summary>
static class GeneratorBench
{
    static string F(double d) => d.ToString("0.000", CultureInfo.InvariantCulture);
    static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

    /// <summary>Parse the BTF, plan task_struct's closure and emit C#: the first time in this process (JIT cold), then warm.</summary>
    public static void Cold(string btfFile, string type)
    {
        var sw = Stopwatch.StartNew();
        int files = GenerateOnce(btfFile, type, out int types);
        double first = sw.Elapsed.TotalMilliseconds;
        var warm = new List<double>();
        var until = Stopwatch.StartNew();
        while (until.Elapsed.TotalSeconds < 3 || warm.Count < 10)
        {
            sw.Restart();
            GenerateOnce(btfFile, type, out _);
            warm.Add(sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"{{\"tool\":\"btfbindings\",\"mode\":\"parse+generate\",\"file\":\"{btfFile}\",\"type\":\"{type}\",\"types\":{types},\"files\":{files},\"first_run_ms\":{F(first)},\"warm_median_ms\":{F(Median(warm))},\"runs\":{warm.Count}}}");
    }

    static int GenerateOnce(string btfFile, string type, out int types)
    {
        var btf = BtfBindings.Btf.Load(btfFile);
        var plan = BtfBindings.Layout.LayoutPlanner.Plan(btf, new[] { type }, null, out _);
        types = plan.Types.Count;
        var opts = new BtfBindings.Emit.EmitOptions { Namespace = "Bench", SourceLabel = Path.GetFileName(btfFile) };
        opts.Containers.Add(new KeyValuePair<string, string>("partial class", "Kernel"));
        return new BtfBindings.Emit.CSharpEmitter(plan, opts).Emit().Count;
    }

    /// <summary>The generator driver re-running after an edit to an unrelated file (everything cached).</summary>
    public static void Rerun(string btfFile, string type)
    {
        var parse = new CSharpParseOptions(LanguageVersion.CSharp12);
        var refs = Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll")
            .Select(f => { try { return (MetadataReference?)MetadataReference.CreateFromFile(f); } catch { return null; } })
            .Where(r => r != null).Cast<MetadataReference>().Append(MetadataReference.CreateFromFile(typeof(BtfBindings.IBtfType).Assembly.Location)).ToList();
        var user = CSharpSyntaxTree.ParseText($"[BtfBindings.BtfTypes(\"{type}\")] partial class Kernel {{ }}", parse, path: "/src/Kernel.cs");
        var other = CSharpSyntaxTree.ParseText("class Other { int X => 1; }", parse, path: "/src/Other.cs");
        var comp = CSharpCompilation.Create("Bench", new[] { user, other }, refs, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new BtfBindings.Generator.BtfSourceGenerator().AsSourceGenerator() },
            additionalTexts: new AdditionalText[] { new ManifestText(btfFile, "bench") }, parseOptions: parse);
        var sw = Stopwatch.StartNew();
        driver = driver.RunGenerators(comp);
        double first = sw.Elapsed.TotalMilliseconds;
        int generated = driver.GetRunResult().GeneratedTrees.Length;
        // An unrelated edit: Other.cs changes; the attributed file and the BTF do not.
        int edits = 0;
        double Edit()
        {
            var edited = comp.ReplaceSyntaxTree(other, CSharpSyntaxTree.ParseText($"class Other {{ int X => {edits++}; }}", parse, path: "/src/Other.cs"));
            sw.Restart();
            driver = driver.RunGenerators(edited);
            double ms = sw.Elapsed.TotalMilliseconds;
            comp = edited; other = edited.SyntaxTrees.Last();
            return ms;
        }
        // The first edits, while Roslyn's and our methods are still Tier0 JIT code (this package of Roslyn is not
        // precompiled; the SDK's compiler server is, and it is a long-lived process).
        var early = new List<double>();
        for (int i = 0; i < 200; i++) early.Add(Edit());
        // Then edits until the JIT has been quiet for half a second (at least 2 s, at most 30 s): the steady state of a
        // compiler server or IDE session, where the driver's and the generator's code has been recompiled at Tier1.
        var warm = Stopwatch.StartNew();
        var quiet = Stopwatch.StartNew();
        long jitted = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (warm.Elapsed.TotalSeconds < 30)
        {
            Edit();
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != jitted) { jitted = now; quiet.Restart(); }
            else if (quiet.Elapsed.TotalSeconds >= 0.5 && warm.Elapsed.TotalSeconds >= 2) break;
        }
        var steady = new List<double>();
        for (int i = 0; i < 1000; i++) steady.Add(Edit());
        Console.WriteLine($"{{\"tool\":\"btfbindings\",\"mode\":\"generator-rerun-after-unrelated-edit\",\"type\":\"{type}\",\"generated_files\":{generated},\"first_run_ms\":{F(first)},\"rerun_median_ms\":{F(Median(steady))},\"rerun_p90_ms\":{F(Percentile(steady, 0.9))},\"runs\":{steady.Count},\"warmup_edits\":{edits - 200 - steady.Count},\"first_200_edits_median_ms\":{F(Median(early))}}}");
    }

    static double Percentile(List<double> xs, double p) { var s = xs.OrderBy(x => x).ToList(); return s[(int)(p * (s.Count - 1))]; }

    /// <summary>The manifest the MSBuild targets would write (one BtfFile), shared by the generator and CoRe benches.</summary>
    internal sealed class ManifestText : AdditionalText
    {
        private readonly Microsoft.CodeAnalysis.Text.SourceText _text;
        public ManifestText(string btfFile, string hash) { _text = Microsoft.CodeAnalysis.Text.SourceText.From("file\t" + btfFile + "\t" + hash + "\t\n"); }
        public override string Path => "/obj/BtfBindings.btfrefs";
        public override Microsoft.CodeAnalysis.Text.SourceText GetText(System.Threading.CancellationToken cancellationToken = default) => _text;
    }
}
