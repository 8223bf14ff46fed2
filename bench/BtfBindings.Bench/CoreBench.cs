using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using BtfBindings;
using BtfBindings.Layout;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

/// <summary>
/// CO-RE benchmarks: a field read through the generated relocatable view vs the generated struct's direct field read
/// (target: at most 2x), and resolving task_struct against a loaded kernel BTF (target: under 1 ms).
/// The generated code is produced by the real source generator and compiled optimised with Roslyn in process, so the
/// measured loops run in that code, exactly as in an application.
/// </summary>
static class CoreBench
{
    static string F(double d) => d.ToString("0.000", CultureInfo.InvariantCulture);
    static double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

    const string Source = @"
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BtfBindings;
namespace CoreBench
{
    [BtfTypes(""task_struct"")]
    public static partial class K { }

    public static class Loops
    {
        public static object Layout() => K.task_struct.BtfLayout;

        // Runners: each loop bound to its arguments. The resolution is the typed one an application gets from
        // kernel.Resolve<K.task_struct>(); View4Checked passes it as the untyped CoreTypeResolution, which the view checks.
        public static Func<int, long> Runner(string loop, byte[][] objs, TargetKernel kernel)
        {
            var res = kernel.Resolve<K.task_struct>();
            return loop switch
            {
                ""Direct1"" => n => Direct1(objs, n), ""View1"" => n => View1(objs, res, n),
                ""Direct4"" => n => Direct4(objs, n), ""View4"" => n => View4(objs, res, n), ""View4Checked"" => n => View4Checked(objs, res, n),
                ""DirectNested"" => n => DirectNested(objs, n), ""ViewNested"" => n => ViewNested(objs, res, n),
                _ => throw new ArgumentException(loop),
            };
        }
        public static int Size() => Unsafe.SizeOf<K.task_struct>();

        // One field per object, as a reader walking a task dump does.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Direct1(byte[][] objs, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { ref readonly var t = ref MemoryMarshal.AsRef<K.task_struct>(o.AsSpan(0, Unsafe.SizeOf<K.task_struct>())); sum += t.pid; }
            return sum;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long View1(byte[][] objs, CoreTypeResolution<K.task_struct> res, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { var t = new K.task_struct.View(o, res); sum += t.pid; }
            return sum;
        }

        // Four fields per object: the view's construction is shared.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Direct4(byte[][] objs, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { ref readonly var t = ref MemoryMarshal.AsRef<K.task_struct>(o.AsSpan(0, Unsafe.SizeOf<K.task_struct>())); sum += t.pid + t.tgid + t.flags + t.prio; }
            return sum;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long View4(byte[][] objs, CoreTypeResolution<K.task_struct> res, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { var t = new K.task_struct.View(o, res); sum += t.pid + t.tgid + t.flags + t.prio; }
            return sum;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long View4Checked(byte[][] objs, CoreTypeResolution res, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { var t = new K.task_struct.View(o, res); sum += t.pid + t.tgid + t.flags + t.prio; }
            return sum;
        }

        // A nested field: task->se.vruntime.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long DirectNested(byte[][] objs, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { ref readonly var t = ref MemoryMarshal.AsRef<K.task_struct>(o.AsSpan(0, Unsafe.SizeOf<K.task_struct>())); sum += (long)t.se.vruntime; }
            return sum;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long ViewNested(byte[][] objs, CoreTypeResolution<K.task_struct> res, int rounds)
        {
            long sum = 0;
            for (int r = 0; r < rounds; r++)
                foreach (var o in objs) { var t = new K.task_struct.View(o, res); sum += (long)t.se.vruntime; }
            return sum;
        }
    }
}";

    static Assembly Compile(string btfFile)
    {
        var parse = new CSharpParseOptions(LanguageVersion.CSharp12);
        var refs = Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll")
            .Select(f => { try { return (MetadataReference?)MetadataReference.CreateFromFile(f); } catch { return null; } })
            .Where(r => r != null).Cast<MetadataReference>().Append(MetadataReference.CreateFromFile(typeof(IBtfType).Assembly.Location)).ToList();
        var comp = CSharpCompilation.Create("CoreBenchGen", new[] { CSharpSyntaxTree.ParseText(Source, parse, path: "/src/Bench.cs") }, refs,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, optimizationLevel: OptimizationLevel.Release));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new BtfBindings.Generator.BtfSourceGenerator().AsSourceGenerator() },
            additionalTexts: new AdditionalText[] { new GeneratorBench.ManifestText(btfFile, "corebench") }, parseOptions: parse);
        driver.RunGeneratorsAndUpdateCompilation(comp, out var output, out _);
        var ms = new MemoryStream();
        var r = output.Emit(ms);
        if (!r.Success) throw new InvalidOperationException(string.Join("\n", r.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        return Assembly.Load(ms.ToArray());
    }

    /// <summary>ns per object of each loop: direct struct vs relocatable view (resolved against <paramref name="targetBtf"/>).</summary>
    public static void Read(string btfFile, string targetBtf)
    {
        var asm = Compile(btfFile);
        var loops = asm.GetType("CoreBench.Loops", true)!;
        var layout = (BtfTypeLayout)loops.GetMethod("Layout")!.Invoke(null, null)!;
        int size = (int)loops.GetMethod("Size")!.Invoke(null, null)!;
        var kernel = new TargetKernel(Btf.Load(targetBtf));
        var res = kernel.Resolve(layout);
        var objs = new byte[64][];
        var rnd = new Random(1);
        for (int i = 0; i < objs.Length; i++) { objs[i] = new byte[Math.Max(size, (int)res.Size)]; rnd.NextBytes(objs[i]); }
        var runner = loops.GetMethod("Runner")!.CreateDelegate<Func<string, byte[][], TargetKernel, Func<int, long>>>();
        Func<int, long> Runner(string loop) => runner(loop, objs, kernel);
        void Warm(Func<int, long> run)
        {
            // Many short calls first, so the loop reaches Tier1 code (PGO-optimised like an application's hot path) rather than an
            // on-stack-replacement variant of its Tier0 code; the pauses let the background tiering thread install it. That thread
            // first works through the Roslyn methods the in-process compile made hot, which can take seconds on a loaded machine,
            // so warming lasts until the JIT has compiled nothing for half a second (at least 1.5 s, at most 20 s).
            var warm = Stopwatch.StartNew();
            long jitted = System.Runtime.JitInfo.GetCompiledMethodCount();
            var quiet = Stopwatch.StartNew();
            for (int i = 0; warm.Elapsed.TotalSeconds < 20; i++)
            {
                run(1);
                if (i % 200 != 0) continue;
                System.Threading.Thread.Sleep(2);
                long now = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (now != jitted) { jitted = now; quiet.Restart(); }
                else if (quiet.Elapsed.TotalSeconds >= 0.5 && warm.Elapsed.TotalSeconds >= 1.5) break;
            }
        }
        foreach (var (name, direct, view) in new[] { ("1 field (pid)", "Direct1", "View1"), ("4 fields (pid,tgid,flags,prio)", "Direct4", "View4"), ("4 fields, untyped resolution (checked)", "Direct4", "View4Checked"), ("nested (se.vruntime)", "DirectNested", "ViewNested") })
        {
            var rd = Runner(direct);
            var rv = Runner(view);
            Warm(rd);
            Warm(rv);
            // Interleaved samples, so both sides see the same machine; the minimum is the undisturbed time.
            var ds = new List<double>();
            var vs = new List<double>();
            const int rounds = 5000;
            double Sample(Func<int, long> run)
            {
                var sw = Stopwatch.StartNew();
                run(rounds);
                return sw.Elapsed.TotalMilliseconds * 1e6 / ((double)rounds * objs.Length);
            }
            for (int i = 0; i < 40; i++) { ds.Add(Sample(rd)); vs.Add(Sample(rv)); }
            double dmin = ds.Min(), vmin = vs.Min(), dmed = Median(ds), vmed = Median(vs);
            Console.WriteLine($"{{\"tool\":\"btfbindings\",\"mode\":\"core-read\",\"case\":\"{name}\",\"generated_from\":\"{Path.GetFileName(btfFile)}\",\"target\":\"{Path.GetFileName(targetBtf)}\",\"direct_ns_min\":{F(dmin)},\"view_ns_min\":{F(vmin)},\"ratio_min\":{F(vmin / dmin)},\"direct_ns_median\":{F(dmed)},\"view_ns_median\":{F(vmed)},\"ratio_median\":{F(vmed / dmed)}}}");
        }
    }

    /// <summary>Resolving task_struct (generated from <paramref name="btfFile"/>) against the loaded <paramref name="targetBtf"/>.</summary>
    public static void Resolve(string btfFile, string targetBtf)
    {
        var plan = LayoutPlanner.Plan(Btf.Load(btfFile), new[] { "task_struct" }, null, out _);
        var layouts = new PlannedLayouts(plan);
        var layout = layouts["task_struct"]!;
        var sw = Stopwatch.StartNew();
        var target = Btf.Load(targetBtf);
        double load = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        target.BuildCoreIndex(); // the essential-name (flavor) index for candidate lookup: once per loaded BTF, else on first use
        double index = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        new TargetKernel(target).ResolveUncached(layout); // the first resolution in the process: includes JIT compilation of the resolver
        double first = sw.Elapsed.TotalMilliseconds;
        var root = new List<double>();
        var closure = new List<double>();
        int nested = 0;
        var until = Stopwatch.StartNew();
        while (until.Elapsed.TotalSeconds < 3 || root.Count < 50)
        {
            sw.Restart();
            var r = new TargetKernel(target).ResolveUncached(layout); // a fresh kernel object: no cached resolutions or member maps
            root.Add(sw.Elapsed.TotalMilliseconds);
            // Then every struct field below it, recursively (what a view of task.se.load etc. resolves on first use).
            sw.Restart();
            nested = ResolveAll(layouts, layout, r, 0);
            closure.Add(sw.Elapsed.TotalMilliseconds + root[^1]);
        }
        Console.WriteLine($"{{\"tool\":\"btfbindings\",\"mode\":\"core-resolve\",\"type\":\"task_struct\",\"fields\":{layout.Fields.Count},\"generated_from\":\"{Path.GetFileName(btfFile)}\",\"target\":\"{Path.GetFileName(targetBtf)}\",\"target_load_ms\":{F(load)},\"essential_index_ms\":{F(index)},\"first_resolve_ms\":{F(first)},\"resolve_median_ms\":{F(Median(root))},\"resolve_min_ms\":{F(root.Min())},\"with_all_nested_structs_median_ms\":{F(Median(closure))},\"nested_resolutions\":{nested},\"runs\":{root.Count}}}");
    }

    static int ResolveAll(PlannedLayouts layouts, BtfTypeLayout layout, CoreTypeResolution r, int depth)
    {
        int n = 0;
        if (depth > 16) return 0;
        for (int i = 0; i < layout.Fields.Count; i++)
        {
            if (layout.Fields[i].Kind != BtfFieldKind.Struct || !r.Exists(i)) continue;
            var fl = layouts.FieldTypeLayout(layout, i);
            if (fl == null) continue;
            n += 1 + ResolveAll(layouts, fl, r.Nested(i, fl), depth + 1);
        }
        return n;
    }
}
