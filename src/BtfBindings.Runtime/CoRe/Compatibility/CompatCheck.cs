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
    /// A use names a type, member or enumerator the build-time BTF lacks (the message names the BTF): the user's input,
    /// reported as an error, where any other ArgumentException is a bug and must not pass for one.
    /// </summary>
    internal sealed class CompatUseException : ArgumentException
    {
        public CompatUseException(string message, Exception? inner = null) : base(message, inner) { }
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
        /// <exception cref="CompatUseException">A use names something <paramref name="buildTime"/> lacks.</exception>
        /// <exception cref="CompatInputException">A target cannot be read (the message names the file).</exception>
        public static CompatReport Run(Btf buildTime, string? buildPath, IReadOnlyList<string> targetPaths,
            IReadOnlyList<(CompatUse use, IReadOnlyList<CompatUseSite> sites)> uses, int parallelism = 0)
        {
            foreach (var (use, _) in uses) CompatibilityRule.Validate(use, buildTime);
            var targets = targetPaths.Select(p => new CompatTargetFile(p, KernelTargetInfo.FromPath(p))).ToArray();
            var results = Classify(targets, uses.Select(u => u.use).ToArray(), () => buildTime, null, parallelism, out _);
            return CompatReport.Create(buildPath, buildPath != null && File.Exists(buildPath) ? Sha256(buildPath) : null,
                targets.Select(t => new CompatTarget(t.Info, t.Sha256!)).ToArray(),
                uses.Select((x, u) => (x.use, x.sites, (IReadOnlyList<CompatResult>)results[u])).ToArray());
        }

        /// <summary>
        /// The verdict of every use on every target, <c>[use][target]</c>: one target read at a time per worker, and only
        /// when <paramref name="known"/> (target index, use index; null: none known) lacks one of its verdicts;
        /// <paramref name="buildTime"/> is asked for only when a verdict is computed. A target's <see cref="CompatTargetFile.Sha256"/>
        /// is filled in when it was not given; <paramref name="parsed"/> says how many targets were read.
        /// </summary>
        /// <exception cref="CompatUseException">A use names something the build-time BTF lacks.</exception>
        /// <exception cref="CompatInputException">A target cannot be read (the first in the order given; the message names the file),
        /// or <paramref name="buildTime"/> threw it.</exception>
        public static CompatResult[][] Classify(IReadOnlyList<CompatTargetFile> targets, IReadOnlyList<CompatUse> uses, Func<Btf> buildTime,
            Func<int, int, CompatResult?>? known, int parallelism, out int parsed)
        {
            var results = new CompatResult[uses.Count][];
            for (int u = 0; u < results.Length; u++) results[u] = new CompatResult[targets.Count];
            var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount };
            var failures = new Exception?[targets.Count];
            int count = 0;
            Parallel.For(0, targets.Count, options, t =>
            {
                var target = targets[t];
                TargetKernel? kernel = null;
                try
                {
                    target.Sha256 ??= Sha256(target.Path);
                    for (int u = 0; u < uses.Count; u++)
                    {
                        if (known?.Invoke(t, u) is CompatResult r) { results[u][t] = r; continue; }
                        if (kernel == null)
                        {
                            kernel = new TargetKernel(Load(target), target.Info.Label, target.Info.Release);
                            System.Threading.Interlocked.Increment(ref count);
                        }
                        results[u][t] = CompatibilityRule.Classify(kernel, uses[u], buildTime());
                    }
                }
                catch (Exception e) when (e is BtfException or IOException or UnauthorizedAccessException)
                {
                    failures[t] = new CompatInputException($"target '{target.Path}' cannot be read as BTF: {e.Message}", e);
                }
                catch (Exception e) when (e is CompatUseException or CompatInputException) { failures[t] = e; }
            });
            foreach (var f in failures) if (f != null) throw f; // the first bad target in the order given
            parsed = count;
            return results;
        }

        // The raw copy when there is one (decompressing a .btf.tar.xz costs ~10x its parse); a damaged copy: the original.
        private static Btf Load(CompatTargetFile target)
        {
            if (target.ReadFrom == target.Path || !File.Exists(target.ReadFrom)) return Btf.Load(target.Path);
            try { return Btf.Load(target.ReadFrom); }
            catch (BtfException) { return Btf.Load(target.Path); }
        }
    }

    /// <summary>A target kernel's BTF file to check: how reports name it, its SHA-256, and where its BTF is read from.</summary>
    internal sealed class CompatTargetFile
    {
        public CompatTargetFile(string path, KernelTargetInfo info, string? sha256 = null, string? readFrom = null)
        {
            Path = path; Info = info; Sha256 = sha256; ReadFrom = string.IsNullOrEmpty(readFrom) ? path : readFrom!;
        }

        /// <summary>The target as the project or command line names it.</summary>
        public string Path { get; }
        /// <summary>Release and architecture, as reports and messages name the target.</summary>
        public KernelTargetInfo Info { get; }
        /// <summary>The file's SHA-256 (hex); null until <see cref="CompatCheck.Classify"/> computes it.</summary>
        public string? Sha256 { get; set; }
        /// <summary>The same BTF uncompressed (a raw copy), else <see cref="Path"/>.</summary>
        public string ReadFrom { get; }
    }
}
