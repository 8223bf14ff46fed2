using System.Globalization;
using System.IO;
using System.Text;

namespace BtfBindings.Compatibility
{
    /// <summary>
    /// The machine-readable report: stable (targets and uses sorted, keys in a fixed order, no timestamps) so two runs
    /// on the same inputs give the same bytes. Written by hand (no reflection, no System.Text.Json dependency), so the
    /// CLI stays AOT-safe and the netstandard2.0 build task can link it.
    /// </summary>
    internal static class CompatReportJson
    {
        /// <summary>Schema version in the output.</summary>
        public const int Version = 1;

        public static string Write(CompatReport report)
        {
            var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            Write(report, w);
            return w.ToString();
        }

        public static void Write(CompatReport report, TextWriter w)
        {
            w.Write("{\n  \"version\": "); w.Write(Version.ToString(CultureInfo.InvariantCulture));
            w.Write(",\n  \"build\": ");
            if (report.BuildPath == null) w.Write("null");
            else { w.Write("{ \"path\": "); Str(w, report.BuildPath); w.Write(", \"sha256\": "); Str(w, report.BuildSha256); w.Write(" }"); }
            w.Write(",\n  \"targets\": [");
            for (int i = 0; i < report.Targets.Count; i++)
            {
                var t = report.Targets[i];
                w.Write(i == 0 ? "\n    { " : ",\n    { ");
                w.Write("\"index\": "); w.Write(i.ToString(CultureInfo.InvariantCulture));
                w.Write(", \"path\": "); Str(w, t.Info.Path);
                w.Write(", \"release\": "); Str(w, t.Info.Release);
                w.Write(", \"arch\": "); Str(w, t.Info.Arch);
                w.Write(", \"distro\": "); Str(w, t.Info.Distro);
                w.Write(", \"distroVersion\": "); Str(w, t.Info.DistroVersion);
                w.Write(", \"sha256\": "); Str(w, t.Sha256);
                w.Write(" }");
            }
            w.Write(report.Targets.Count == 0 ? "]" : "\n  ]");
            int problems = 0;
            foreach (var r in report.Rows) if (r.HasProblem) problems++;
            w.Write(",\n  \"summary\": { \"uses\": "); w.Write(report.Rows.Count.ToString(CultureInfo.InvariantCulture));
            w.Write(", \"targets\": "); w.Write(report.Targets.Count.ToString(CultureInfo.InvariantCulture));
            w.Write(", \"usesWithProblems\": "); w.Write(problems.ToString(CultureInfo.InvariantCulture));
            w.Write(" },\n  \"uses\": [");
            for (int u = 0; u < report.Rows.Count; u++)
            {
                var row = report.Rows[u];
                w.Write(u == 0 ? "\n    {" : ",\n    {");
                w.Write("\n      \"use\": "); Str(w, row.Use.Text);
                w.Write(",\n      \"kind\": "); Str(w, Kind(row.Use.Kind));
                w.Write(",\n      \"type\": "); Str(w, row.Use.TypeName);
                w.Write(",\n      \"member\": "); Str(w, row.Use.Member);
                w.Write(",\n      \"access\": "); Str(w, Access(row.Use.Access));
                w.Write(",\n      \"guarded\": "); w.Write(row.IsGuarded ? "true" : "false");
                w.Write(",\n      \"problem\": "); w.Write(row.HasProblem ? "true" : "false");
                w.Write(",\n      \"summary\": "); Str(w, row.Sentence);
                w.Write(",\n      \"sites\": [");
                for (int s = 0; s < row.Sites.Count; s++)
                {
                    var site = row.Sites[s];
                    w.Write(s == 0 ? " " : ", ");
                    w.Write("{ \"method\": "); Str(w, site.Method);
                    w.Write(", \"ilOffset\": "); w.Write(site.ILOffset.ToString(CultureInfo.InvariantCulture));
                    w.Write(", \"document\": "); Str(w, site.Document);
                    w.Write(", \"line\": "); w.Write(site.Line.ToString(CultureInfo.InvariantCulture));
                    w.Write(", \"guarded\": "); w.Write(site.Guarded ? "true" : "false");
                    w.Write(" }");
                }
                w.Write(row.Sites.Count == 0 ? "]" : " ]");
                w.Write(",\n      \"results\": [");
                for (int t = 0; t < row.Results.Count; t++)
                {
                    var r = row.Results[t];
                    w.Write(t == 0 ? "\n        { " : ",\n        { ");
                    w.Write("\"target\": "); w.Write(t.ToString(CultureInfo.InvariantCulture));
                    w.Write(", \"release\": "); Str(w, report.Targets[t].Info.Release);
                    w.Write(", \"verdict\": "); Str(w, TargetGrouping.Name(r.Verdict));
                    w.Write(", \"detail\": "); Str(w, r.Detail);
                    w.Write(" }");
                }
                w.Write(row.Results.Count == 0 ? "]" : "\n      ]");
                w.Write("\n    }");
            }
            w.Write(report.Rows.Count == 0 ? "]\n}\n" : "\n  ]\n}\n");
        }

        private static string Kind(CompatUseKind k) => k switch { CompatUseKind.Field => "field", CompatUseKind.EnumValue => "enumValue", _ => "type" };

        internal static string Access(CompatAccess a) => a switch { CompatAccess.Plain => "plain", CompatAccess.View => "view", _ => "unknown" };

        // RFC 8259 string: quote, backslash and control characters escaped; everything else as is (UTF-8 on write).
        private static void Str(TextWriter w, string? s)
        {
            if (s == null) { w.Write("null"); return; }
            var sb = new StringBuilder(s.Length + 2).Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20 || c == '\u2028' || c == '\u2029') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            w.Write(sb.Append('"').ToString());
        }
    }
}
