using System.Globalization;
using System.IO;
using System.Text;

namespace BtfBindings.Compatibility
{
    /// <summary>
    /// The human report: the grouped sentence per use, then a matrix with one row per kernel and one column per use
    /// (symbols in the legend), then the detail of every verdict that is not ok. Stable like the JSON.
    /// </summary>
    internal static class CompatReportMarkdown
    {
        /// <summary>The symbol a matrix cell shows.</summary>
        public static string Symbol(CompatVerdict v) => v switch
        {
            CompatVerdict.Ok => "✓",
            CompatVerdict.Moved => "moved",
            CompatVerdict.Missing => "**missing**",
            CompatVerdict.Incompatible => "**incompatible**",
            _ => "**ambiguous**",
        };

        public static string Write(CompatReport report)
        {
            var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            Write(report, w);
            return w.ToString();
        }

        public static void Write(CompatReport report, TextWriter w)
        {
            int problems = 0;
            foreach (var r in report.Rows) if (r.HasProblem) problems++;
            w.WriteLine("# Kernel compatibility");
            w.WriteLine();
            w.WriteLine($"{report.Rows.Count} uses checked against {report.Targets.Count} target kernels{(report.BuildPath != null ? " (generated from `" + Cell(report.BuildPath) + "`)" : "")}: {(problems == 0 ? "no problem" : problems + " with problems")}.");
            w.WriteLine();
            foreach (var r in report.Rows)
                w.WriteLine($"- {(r.HasProblem ? "**problem**" : "ok")}: {Cell(r.Sentence)}{(r.Use.Access == CompatAccess.Unknown ? "" : " (" + CompatReportJson.Access(r.Use.Access) + " access" + (r.IsGuarded ? ", guarded by Has_" + LastMember(r.Use) : "") + ")")}");
            w.WriteLine();
            w.WriteLine("Legend: ✓ ok (same place as at build time) · moved (present elsewhere: fine through a View, wrong for a plain struct read) · **missing** (type, field or enumerator absent) · **incompatible** (type changed kind, or unreadable as the generated type) · **ambiguous** (same-named types disagree). Uses are columns, numbered as in the list above.");
            w.WriteLine();
            var head = new StringBuilder("| Kernel | Arch | Distro |");
            var rule = new StringBuilder("|---|---|---|");
            for (int u = 0; u < report.Rows.Count; u++)
            {
                head.Append(' ').Append(u + 1).Append(". `").Append(Cell(report.Rows[u].Use.Text)).Append('`').Append(report.Rows[u].Use.Access == CompatAccess.Plain ? " (plain)" : "").Append(" |");
                rule.Append("---|");
            }
            w.WriteLine(head.ToString());
            w.WriteLine(rule.ToString());
            for (int t = 0; t < report.Targets.Count; t++)
            {
                var info = report.Targets[t].Info;
                var line = new StringBuilder("| ").Append(Cell(info.Release)).Append(" | ").Append(Cell(info.Arch ?? "?")).Append(" | ").Append(Cell(info.DistroLabel ?? "")).Append(" |");
                foreach (var r in report.Rows) line.Append(' ').Append(Symbol(r.Results[t].Verdict)).Append(" |");
                w.WriteLine(line.ToString());
            }
            bool header = false;
            foreach (var r in report.Rows)
                for (int t = 0; t < r.Results.Count; t++)
                {
                    var res = r.Results[t];
                    if (res.Verdict == CompatVerdict.Ok) continue;
                    if (!header) { w.WriteLine(); w.WriteLine("## Details"); w.WriteLine(); header = true; }
                    w.WriteLine($"- `{Cell(r.Use.Text)}` on {Cell(report.Targets[t].Info.Label)}: {TargetGrouping.Name(res.Verdict)}: {Cell(res.Detail)}");
                }
        }

        internal static string LastMember(CompatUse use)
        {
            string m = use.Member ?? "";
            int dot = m.LastIndexOf('.');
            return dot < 0 ? m : m.Substring(dot + 1);
        }

        // Table-safe text: pipes escaped, line breaks flattened.
        private static string Cell(string s) => s.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
    }
}
