using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;

namespace BtfBindings.Compatibility
{
    /// <summary>A target or input file that cannot be used; the message names it.</summary>
    internal sealed class CompatInputException : Exception
    {
        public CompatInputException(string message, Exception? inner = null) : base(message, inner) { }
    }

    /// <summary>
    /// Runs a check: every use against every target, one target loaded at a time per worker (40 full kernels never
    /// sit in memory together), verdicts from <see cref="CompatibilityRule"/>, the result as a <see cref="CompatReport"/>.
    /// </summary>
    internal static class CompatCheck
    {
        /// <summary>
        /// The BTF files a target argument stands for: a file as is; a folder searched recursively for
        /// <c>*.btf</c>, <c>*.btf.tar.xz</c>, <c>*.btf.xz</c>, <c>*.btf.gz</c>, <c>*.btf.tar.gz</c> and <c>vmlinux*</c> (a BTFHub tree), sorted.
        /// </summary>
        /// <exception cref="CompatInputException">A path does not exist, or a folder holds no BTF file.</exception>
        public static IReadOnlyList<string> ExpandTargets(IEnumerable<string> paths)
        {
            var list = new List<string>();
            foreach (var p in paths)
            {
                if (File.Exists(p)) { list.Add(p); continue; }
                if (!Directory.Exists(p)) throw new CompatInputException($"target '{p}' does not exist");
                var found = Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Where(IsBtfName).OrderBy(f => f, StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new CompatInputException($"target folder '{p}' holds no BTF file (*.btf, *.btf.tar.xz, *.btf.xz, *.btf.gz, vmlinux*)");
                list.AddRange(found);
            }
            return list.Distinct(StringComparer.Ordinal).ToList();
        }

        private static bool IsBtfName(string path)
        {
            string n = Path.GetFileName(path);
            foreach (var s in new[] { ".btf", ".btf.tar.xz", ".btf.xz", ".btf.gz", ".btf.tar.gz" })
                if (n.EndsWith(s, StringComparison.OrdinalIgnoreCase)) return true;
            return n.StartsWith("vmlinux", StringComparison.Ordinal);
        }

        /// <summary>SHA-256 of a file, lower-case hex.</summary>
        public static string Sha256(string path)
        {
            using var f = File.OpenRead(path);
            return Convert.ToHexString(SHA256.HashData(f)).ToLowerInvariant();
        }

        /// <summary>
        /// Checks <paramref name="uses"/> (generated from <paramref name="buildTime"/>) against every target file.
        /// </summary>
        /// <exception cref="ArgumentException">A use names something <paramref name="buildTime"/> lacks.</exception>
        /// <exception cref="CompatInputException">A target cannot be read (the message names the file).</exception>
        public static CompatReport Run(Btf buildTime, string? buildPath, IReadOnlyList<string> targetPaths,
            IReadOnlyList<(CompatUse use, IReadOnlyList<CompatUseSite> sites)> uses, int parallelism = 0)
        {
            foreach (var (use, _) in uses) CompatibilityRule.Validate(use, buildTime);
            var targets = new CompatTarget[targetPaths.Count];
            var results = new CompatResult[uses.Count][];
            for (int u = 0; u < results.Length; u++) results[u] = new CompatResult[targetPaths.Count];
            var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount };
            var failures = new Exception?[targetPaths.Count];
            Parallel.For(0, targetPaths.Count, options, t =>
            {
                string path = targetPaths[t];
                var info = KernelTargetInfo.FromPath(path);
                Btf btf;
                try { btf = Btf.Load(path); }
                catch (Exception e) when (e is BtfException or IOException or UnauthorizedAccessException)
                {
                    failures[t] = new CompatInputException($"target '{path}' cannot be read as BTF: {e.Message}", e);
                    return;
                }
                targets[t] = new CompatTarget(info, Sha256(path));
                var kernel = new TargetKernel(btf, info.Label, info.Release);
                for (int u = 0; u < uses.Count; u++) results[u][t] = CompatibilityRule.Classify(kernel, uses[u].use, buildTime);
            });
            foreach (var f in failures) if (f != null) throw f; // the first bad target in the order given
            return CompatReport.Create(buildPath, buildPath != null && File.Exists(buildPath) ? Sha256(buildPath) : null, targets,
                uses.Select((x, u) => (x.use, x.sites, (IReadOnlyList<CompatResult>)results[u])).ToArray());
        }
    }
}
