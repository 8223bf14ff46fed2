using System;
using System.Collections.Generic;
using System.Linq;

namespace BtfBindings.Compatibility
{
    /// <summary>One target kernel of a check: what its path says, and the hash of its file.</summary>
    internal sealed class CompatTarget
    {
        public CompatTarget(KernelTargetInfo info, string sha256)
        {
            Info = info ?? throw new ArgumentNullException(nameof(info));
            Sha256 = sha256 ?? "";
        }

        /// <summary>Path, release, arch, distro.</summary>
        public KernelTargetInfo Info { get; }
        /// <summary>SHA-256 of the file as given (hex, lower case).</summary>
        public string Sha256 { get; }
    }

    /// <summary>One use across every target: its sites in the program and the verdict per target.</summary>
    internal sealed class CompatReportRow
    {
        public CompatReportRow(CompatUse use, IReadOnlyList<CompatUseSite> sites, IReadOnlyList<CompatResult> results, string sentence)
        {
            Use = use; Sites = sites; Results = results; Sentence = sentence;
        }

        /// <summary>The use.</summary>
        public CompatUse Use { get; }
        /// <summary>Where the program uses it (empty for a path given on the command line).</summary>
        public IReadOnlyList<CompatUseSite> Sites { get; }
        /// <summary>Per target, in <see cref="CompatReport.Targets"/> order.</summary>
        public IReadOnlyList<CompatResult> Results { get; }
        /// <summary>The grouped sentence (<see cref="TargetGrouping.Sentence"/>).</summary>
        public string Sentence { get; }
        /// <summary>True when every site checks the member first (<see cref="CompatUseSite.Guarded"/>).</summary>
        public bool IsGuarded => Sites.Count > 0 && Sites.All(s => s.Guarded);

        /// <summary>True when the program breaks on some target (<see cref="CompatResult.IsProblemFor"/>).</summary>
        public bool HasProblem => Results.Any(r => r.IsProblemFor(Use.Access, IsGuarded));
    }

    /// <summary>
    /// The result of a compatibility check: the targets (sorted by arch, version, path) and one row per use (sorted by
    /// use text, then access). What the JSON and Markdown writers print; built by <c>CompatCheck</c> (CLI) or the build.
    /// </summary>
    internal sealed class CompatReport
    {
        /// <summary>Sorts the targets and rows; each row holds one result per target, in the order of <paramref name="targets"/>.</summary>
        public static CompatReport Create(string? buildPath, string? buildSha256, IReadOnlyList<CompatTarget> targets,
            IReadOnlyList<(CompatUse use, IReadOnlyList<CompatUseSite> sites, IReadOnlyList<CompatResult> results)> rows)
        {
            var order = Enumerable.Range(0, targets.Count).OrderBy(i => i, Comparer<int>.Create((a, b) => TargetGrouping.Compare(targets[a].Info, targets[b].Info))).ToArray();
            var sortedTargets = order.Select(i => targets[i]).ToArray();
            var infos = sortedTargets.Select(t => t.Info).ToArray();
            var sortedRows = rows.OrderBy(r => r.use).Select(r =>
            {
                if (r.results.Count != targets.Count) throw new ArgumentException($"{r.use.Text}: {r.results.Count} results for {targets.Count} targets", nameof(rows));
                var res = order.Select(i => r.results[i]).ToArray();
                var sites = r.sites.OrderBy(s => s.Method, StringComparer.Ordinal).ThenBy(s => s.ILOffset).ToArray();
                return new CompatReportRow(r.use, sites, res, TargetGrouping.Sentence(r.use.Text, infos, res.Select(x => x.Verdict).ToArray()));
            }).ToArray();
            return new CompatReport(buildPath, buildSha256, sortedTargets, sortedRows);
        }

        private CompatReport(string? buildPath, string? buildSha256, IReadOnlyList<CompatTarget> targets, IReadOnlyList<CompatReportRow> rows)
        {
            BuildPath = buildPath; BuildSha256 = buildSha256; Targets = targets; Rows = rows;
        }

        /// <summary>The build-time BTF the uses were generated from, when known.</summary>
        public string? BuildPath { get; }
        /// <summary>Its SHA-256.</summary>
        public string? BuildSha256 { get; }
        /// <summary>The targets, sorted.</summary>
        public IReadOnlyList<CompatTarget> Targets { get; }
        /// <summary>The uses, sorted.</summary>
        public IReadOnlyList<CompatReportRow> Rows { get; }
        /// <summary>True when some use breaks on some target (the CLI's exit code 1).</summary>
        public bool HasProblems => Rows.Any(r => r.HasProblem);
    }
}
