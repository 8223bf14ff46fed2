using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using BtfBindings;
using BtfBindings.Compatibility;

/// <summary>
/// What the build-time check does in the compiler process for a set of BtfTarget files, step by step: load (decompress and
/// parse) each target, the verdicts of the uses against each, and the memory the loaded targets keep (what VBCSCompiler
/// holds while they stay cached).
/// </summary>
static class CompatBench
{
    public static void Targets(string dir, string buildBtf, string[] fields)
    {
        var files = Directory.GetFiles(dir, "*.btf*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        var build = Btf.Load(buildBtf);
        var uses = fields.Select(f => new CompatUse(CompatUseKind.Field, "task_struct", f, CompatAccess.View)).ToArray();
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long before = GC.GetTotalMemory(true);
        var load = Stopwatch.StartNew();
        var kernels = files.Select(f => new TargetKernel(Btf.Load(f), Path.GetFileName(f))).ToArray();
        load.Stop();
        long loaded = GC.GetTotalMemory(true);
        var verdict = Stopwatch.StartNew();
        int problems = 0;
        foreach (var k in kernels)
            foreach (var u in uses)
                if (CompatibilityRule.Classify(k, u, build).IsProblemFor(CompatAccess.View)) problems++;
        verdict.Stop();
        long after = GC.GetTotalMemory(true);
        GC.KeepAlive(kernels);
        string Mb(long b) => (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine($"{files.Length} targets ({Mb(files.Sum(f => new FileInfo(f).Length))} MB on disk): load {load.ElapsedMilliseconds} ms " +
            $"({load.ElapsedMilliseconds / Math.Max(1, files.Length)} ms each, one thread); {uses.Length} uses x {files.Length} targets = {uses.Length * files.Length} verdicts " +
            $"in {verdict.ElapsedMilliseconds} ms ({problems} problems); managed memory kept: {Mb(loaded - before)} MB loaded, {Mb(after - before)} MB with the resolutions");
    }
}
