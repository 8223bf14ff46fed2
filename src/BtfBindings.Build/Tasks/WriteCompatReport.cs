using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BtfBindings.Compatibility;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace BtfBindings.Build
{
    /// <summary>
    /// After compile: the compatibility report of the just-built assembly against the project's <c>&lt;BtfTarget&gt;</c>
    /// kernels, <c>compat.json</c> and <c>compat.md</c>, from compat-engine's assembly scanner, classification rule and
    /// writers (so it says what <c>btfgen compat --assembly</c> says). Verdicts are kept in <c>compat.verdicts</c> beside
    /// them (<see cref="VerdictFile"/>), keyed by both files' content hashes and the use, so a rebuild whose uses did not change parses no target.
    /// </summary>
    public sealed class WriteCompatReport : Task
    {
        /// <summary>The compiled assembly (its portable PDB beside it gives source lines).</summary>
        [Required] public string Assembly { get; set; } = "";
        /// <summary>The BtfFile items (the build-time BTF; the one the assembly's generated types name is used).</summary>
        [Required] public ITaskItem[] BtfFiles { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>The BtfTarget items (metadata Release, Arch).</summary>
        [Required] public ITaskItem[] Targets { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>The manifest's target lines (the hashes and raw copies HashBtfTargets wrote), tab-separated.</summary>
        public string[] TargetLines { get; set; } = Array.Empty<string>();
        /// <summary>Where compat.json, compat.md and compat.verdicts go.</summary>
        [Required] public string OutputDirectory { get; set; } = "";

        public override bool Execute()
        {
            AssemblyUseScan scan;
            try { scan = AssemblyUseScanner.Scan(Assembly); }
            catch (Exception e) when (e is BadImageFormatException || e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogMessage(MessageImportance.High, "BtfTarget: no compatibility report: cannot read {0}: {1}", Assembly, e.Message);
                return true;
            }
            var build = BuildFile(scan);
            if (build == null)
            {
                Log.LogMessage(MessageImportance.Normal, "BtfTarget: no compatibility report: the assembly's generated types come from {0}, not exactly one of the BtfFile items",
                    scan.SourceFiles.Count == 0 ? "no BtfFile" : string.Join(", ", scan.SourceFiles));
                return true;
            }
            var lines = TargetLines.Select(l => l.Split('\t')).Where(p => p.Length > 2 && p[0] == "target").ToDictionary(p => p[1], p => p, StringComparer.Ordinal);
            string At(string[] p, int i) => p.Length > i ? p[i] : "";
            Directory.CreateDirectory(OutputDirectory);
            string cacheFile = Path.Combine(OutputDirectory, VerdictFile.FileName);
            var cache = VerdictFile.Load(cacheFile);
            // The manifest already holds the BtfFile's SHA-256 (GetFileHash): hashing its ~5 MB again was most of an
            // incremental build's report time.
            string buildHash = TargetLines.Select(l => l.Split('\t')).FirstOrDefault(p => p.Length > 2 && p[0] == "file"
                && string.Equals(Path.GetFullPath(p[1]), Path.GetFullPath(build), StringComparison.Ordinal))?[2] ?? Sha256(build);
            var uses = scan.Grouped();
            int parsed = 0;
            var buildBtf = new Lazy<Btf>(() => Btf.Load(build));
            var targets = new CompatTarget[Targets.Length];
            var results = uses.Select(_ => new CompatResult[Targets.Length]).ToArray();
            var found = new Dictionary<string, CompatResult>[Targets.Length];
            string? failure = null;
            // One target per worker (a clean build parses them all: two cores halve it); verdicts merged afterwards.
            System.Threading.Tasks.Parallel.For(0, Targets.Length, t =>
            {
                string path = Targets[t].GetMetadata("FullPath");
                lines.TryGetValue(path, out var line);
                string hash = line != null ? At(line, 2) : Sha256(path);
                var info = KernelTargetInfo.FromPath(path, NullIfEmpty(Targets[t].GetMetadata("Release")), NullIfEmpty(Targets[t].GetMetadata("Arch")));
                targets[t] = new CompatTarget(info, hash.ToLowerInvariant());
                found[t] = new Dictionary<string, CompatResult>(StringComparer.Ordinal);
                TargetKernel? kernel = null;
                try
                {
                    for (int u = 0; u < uses.Count; u++)
                    {
                        string key = VerdictFile.Key(hash, buildHash, uses[u].use);
                        if (cache.TryGetValue(key, out var known)) { results[u][t] = known; continue; }
                        if (kernel == null)
                        {
                            string raw = line != null ? At(line, 7) : "";
                            kernel = new TargetKernel(Btf.Load(raw.Length > 0 && File.Exists(raw) ? raw : path), info.Label, info.Release);
                            System.Threading.Interlocked.Increment(ref parsed);
                        }
                        found[t][key] = results[u][t] = CompatibilityRule.Classify(kernel, uses[u].use, buildBtf.Value);
                    }
                }
                catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException || e is ArgumentException)
                {
                    failure = path + ": " + e.Message;
                }
            });
            if (failure != null)
            {
                // A target that cannot be read must not pass silently: its kernels are simply not checked.
                Log.LogWarning(null, "BTFB026", null, null, 0, 0, 0, 0, "BtfTarget: no compatibility check or report: {0}", failure);
                return true;
            }
            foreach (var d in found) foreach (var kv in d) cache[kv.Key] = kv.Value;
            var report = CompatReport.Create(build, buildHash.ToLowerInvariant(), targets,
                uses.Select((x, u) => (x.use, x.sites, (IReadOnlyList<CompatResult>)results[u])).ToArray());
            WriteIfChanged(Path.Combine(OutputDirectory, "compat.json"), CompatReportJson.Write(report));
            WriteIfChanged(Path.Combine(OutputDirectory, "compat.md"), CompatReportMarkdown.Write(report));
            WriteIfChanged(cacheFile, VerdictFile.Write(cache));
            Log.LogMessage(MessageImportance.Normal, "BtfTarget: compatibility report of {0} uses x {1} targets in {2} ({3} targets parsed, the rest from compat.verdicts)",
                uses.Count, Targets.Length, OutputDirectory, parsed);
            return true;
        }

        /// <summary>The BtfFile the generated types name (by file name), or the only one.</summary>
        private string? BuildFile(AssemblyUseScan scan)
        {
            var files = BtfFiles.Select(f => f.GetMetadata("FullPath")).ToArray();
            if (scan.SourceFiles.Count == 1)
            {
                var match = files.Where(f => Path.GetFileName(f) == Path.GetFileName(scan.SourceFiles[0])).ToArray();
                if (match.Length == 1) return match[0];
            }
            return files.Length == 1 && scan.SourceFiles.Count <= 1 ? files[0] : null;
        }

        private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

        private static string Sha256(string path)
        {
            using var s = File.OpenRead(path);
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(s));
        }

        private static void WriteIfChanged(string file, string text)
        {
            if (File.Exists(file) && File.ReadAllText(file) == text) return;
            File.WriteAllText(file, text, new UTF8Encoding(false));
        }
    }
}
