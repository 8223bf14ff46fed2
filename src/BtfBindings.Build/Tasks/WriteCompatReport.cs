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
        /// <summary>
        /// The project's manifest (BtfBindings.btfrefs): the BtfFile lines with their SHA-256 and the target lines
        /// HashBtfTargets wrote (hash, naming, raw copy). Read here, not passed as items: 40 targets' lines as MSBuild items
        /// were ~0.1 MB of garbage in MSBuild's process per build.
        /// </summary>
        [Required] public string Manifest { get; set; } = "";
        /// <summary>
        /// The compile's reference paths (ReferencePath): where the assemblies the scanned one references are, the types
        /// assembly among them (obj/ holds none of them). Framework references are skipped.
        /// </summary>
        public ITaskItem[] References { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>Where compat.json, compat.md and compat.verdicts go.</summary>
        [Required] public string OutputDirectory { get; set; } = "";

        public override bool Execute()
        {
            AssemblyUseScan scan;
            var references = new List<string>();
            foreach (var r in References)
                if (r.GetMetadata("FrameworkReferenceName").Length == 0) references.Add(r.GetMetadata("FullPath"));
            try { scan = AssemblyUseScanner.Scan(Assembly, references); }
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
            // Same uses at the same sites, same targets, same BtfFile, same package: the report would come out the same, so
            // an edit that adds no use (most incremental builds) reads no verdict and writes nothing.
            Directory.CreateDirectory(OutputDirectory);
            string json = Path.Combine(OutputDirectory, "compat.json"), md = Path.Combine(OutputDirectory, "compat.md");
            string stampFile = Path.Combine(OutputDirectory, CompatReportStamp.FileName);
            var stamping = CompatReportStamp.Begin(VerdictFile.Header, build, Manifest, Targets.Length);
            foreach (var t in Targets) stamping?.AddTarget(t.GetMetadata("FullPath"), t.GetMetadata("Release"), t.GetMetadata("Arch"));
            string? stamp = stamping?.Finish(scan.Uses);
            if (stamp != null && File.Exists(json) && File.Exists(md) && CompatReportStamp.Matches(stampFile, stamp))
            {
                Log.LogMessage(MessageImportance.Normal, "BtfTarget: compatibility report in {0} unchanged (same uses, sites, targets and BtfFile)", OutputDirectory);
                return true;
            }
            File.Delete(stampFile); // written again only after both reports are
            string? buildLine = ManifestLines(build, File.Exists(Manifest) ? File.ReadAllLines(Manifest) : Array.Empty<string>(), out var targetLines);

            string At(string[] p, int i) => p.Length > i ? p[i] : "";
            var targets = Targets.Select((item, i) =>
            {
                string path = item.GetMetadata("FullPath");
                var line = targetLines[i]?.Split('\t');
                var info = KernelTargetInfo.FromPath(path, NullIfEmpty(item.GetMetadata("Release")), NullIfEmpty(item.GetMetadata("Arch")));
                // The hash and raw copy HashBtfTargets wrote; without its line, hashed here.
                return new CompatTargetFile(path, info, line != null ? At(line, 2) : CompatCheck.Sha256(path), line != null ? At(line, 7) : null);
            }).ToArray();
            // The manifest already holds the BtfFile's SHA-256 (GetFileHash): hashing its ~5 MB again was most of an
            // incremental build's report time.
            string buildHash = buildLine != null ? At(buildLine.Split('\t'), 2) : CompatCheck.Sha256(build);
            var uses = scan.Grouped();

            string cacheFile = Path.Combine(OutputDirectory, VerdictFile.FileName);
            var cache = VerdictFile.Load(cacheFile);
            string Key(int t, int u) => VerdictFile.Key(targets[t].Sha256!, buildHash, uses[u].use);
            CompatResult[][] results;
            int parsed;
            try
            {
                results = CompatCheck.Classify(targets, uses.Select(x => x.use).ToArray(), LazyBuild(build), (t, u) => cache.TryGetValue(Key(t, u), out var r) ? r : null,
                    0, out parsed);
            }
            catch (Exception e) when (e is CompatInputException || e is CompatUseException)
            {
                // A target that cannot be read must not pass silently: its kernels are simply not checked.
                Log.LogWarning(null, "BTFB026", null, null, 0, 0, 0, 0, "BtfTarget: no compatibility check or report: {0}", e.Message);
                return true;
            }
            for (int u = 0; u < uses.Count; u++)
                for (int t = 0; t < targets.Length; t++) cache[Key(t, u)] = results[u][t];
            var report = CompatReport.Create(build, buildHash.ToLowerInvariant(), targets.Select(t => new CompatTarget(t.Info, t.Sha256!.ToLowerInvariant())).ToArray(),
                uses.Select((x, u) => (x.use, x.sites, (IReadOnlyList<CompatResult>)results[u])).ToArray());
            WriteIfChanged(json, CompatReportJson.Write(report));
            WriteIfChanged(md, CompatReportMarkdown.Write(report));
            WriteIfChanged(cacheFile, VerdictFile.Write(cache));
            if (stamp != null) File.WriteAllText(stampFile, stamp);
            Log.LogMessage(MessageImportance.Normal, "BtfTarget: compatibility report of {0} uses x {1} targets in {2} ({3} targets parsed, the rest from compat.verdicts)",
                uses.Count, Targets.Length, OutputDirectory, parsed);
            return true;
        }

        // The manifest lines for the BtfFile ("file", path, SHA-256) and for each target ("target", path, SHA-256, …, raw
        // copy; null where there is none), found without splitting every line.
        private string? ManifestLines(string build, string[] lines, out string?[] targetLines)
        {
            string? buildLine = null;
            string full = Path.GetFullPath(build);
            foreach (var l in lines)
            {
                int end = l.StartsWith("file\t", StringComparison.Ordinal) ? l.IndexOf('\t', 5) : -1;
                if (end > 5 && string.Equals(Path.GetFullPath(l.Substring(5, end - 5)), full, StringComparison.Ordinal)) { buildLine = l; break; }
            }
            targetLines = new string?[Targets.Length];
            for (int i = 0; i < Targets.Length; i++)
            {
                string path = Targets[i].GetMetadata("FullPath");
                foreach (var l in lines)
                    if (l.Length > 7 + path.Length && l.StartsWith("target\t", StringComparison.Ordinal) && string.CompareOrdinal(l, 7, path, 0, path.Length) == 0 && l[7 + path.Length] == '\t')
                    {
                        targetLines[i] = l;
                        break;
                    }
            }
            return buildLine;
        }

        // The BtfFile parsed once, and only when a verdict is not in compat.verdicts; an error names it, not a target.
        private static Func<Btf> LazyBuild(string path)
        {
            var lazy = new Lazy<Btf>(() =>
            {
                try { return Btf.Load(path); }
                catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
                {
                    throw new CompatInputException($"BtfFile '{path}' cannot be read as BTF: {e.Message}", e);
                }
            });
            return () => lazy.Value;
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

        private static void WriteIfChanged(string file, string text)
        {
            if (File.Exists(file) && File.ReadAllText(file) == text) return;
            File.WriteAllText(file, text, new UTF8Encoding(false));
        }
    }
}
