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

    /// <summary>
    /// What the report task does first on every build whose assembly changed: scan it for uses. The first scan in a fresh
    /// process (as in a build: the task's code is compiled then) and the median of 20 more.
    /// </summary>
    public static void Scan(string assembly)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var cold = Stopwatch.StartNew();
        var scan = AssemblyUseScanner.Scan(assembly);
        cold.Stop();
        // What the scan leaves on the GC heap: in MSBuild's process enough of it makes the next target pay a collection.
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        var warm = Enumerable.Range(0, 20).Select(_ => { var sw = Stopwatch.StartNew(); AssemblyUseScanner.Scan(assembly); return sw.Elapsed.TotalMilliseconds; }).OrderBy(x => x).ToArray();
        Console.WriteLine($"scan of {Path.GetFileName(assembly)} ({scan.GeneratedTypes} generated types, {scan.Uses.Count} use sites): first {cold.Elapsed.TotalMilliseconds:F1} ms, " +
            $"then median {warm[warm.Length / 2]:F1} ms (min {warm[0]:F1}, max {warm[^1]:F1}); first call allocated {allocated / 1e6:F2} MB");
    }

    /// <summary>
    /// What a compiler process without the server does at the analyzer's start: read compat.verdicts. The first read in a
    /// fresh process and the median of 20 more. (The file's header names the package build: another build's reads as empty.)
    /// </summary>
    public static void Verdicts(string file)
    {
        var cold = Stopwatch.StartNew();
        int n = VerdictFile.Read(File.ReadAllText(file)).Count;
        cold.Stop();
        string text = File.ReadAllText(file);
        string own = VerdictFile.Header + text.Substring(text.IndexOf('\n')); // read as this build's, whatever wrote it
        var first = Stopwatch.StartNew();
        n = VerdictFile.Read(own).Count;
        first.Stop();
        var warm = Enumerable.Range(0, 20).Select(_ => { var sw = Stopwatch.StartNew(); VerdictFile.Read(own); return sw.Elapsed.TotalMilliseconds; }).OrderBy(x => x).ToArray();
        Console.WriteLine($"compat.verdicts ({new FileInfo(file).Length / 1024} KB, {n} verdicts): first read {cold.Elapsed.TotalMilliseconds + first.Elapsed.TotalMilliseconds:F1} ms, " +
            $"then median {warm[warm.Length / 2]:F1} ms (min {warm[0]:F1}, max {warm[^1]:F1})");
    }
}
