using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using BtfBindings.Compatibility;

namespace BtfBindings
{
    /// <summary>
    /// <c>obj/…/btfbindings/compat.verdicts</c>: the verdicts the build's report computed, one per line —
    /// target SHA-256, build-time BTF SHA-256, use text, verdict number, detail (tab-separated) — so the next compile's
    /// analyzer (a fresh compiler process without the server, CI) and the next report parse no target for a known use.
    /// Written by the report task, read by it and by the analyzer (by path, beside the manifest: not a compiler input,
    /// since it changes no result, only how fast it comes); keyed by content hashes, so a stale line is never used for a
    /// changed file, and headed by the package build, so another version's rule is never trusted.
    /// </summary>
    internal static class VerdictFile
    {
        /// <summary>The file's name.</summary>
        public const string FileName = "compat.verdicts";

        /// <summary>The key of a verdict: both hashes (as the manifest writes them) and the use.</summary>
        public static string Key(string targetHash, string buildHash, CompatUse use)
            => targetHash.ToUpperInvariant() + "\t" + buildHash.ToUpperInvariant() + "\t" + use.Text;

        // The package build that wrote the file (the generator and the task assembly are built together).
        private static readonly string Header = "# BtfBindings " + (typeof(VerdictFile).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?");

        /// <summary>Where the file is for a manifest (<c>obj/…/BtfBindings.btfrefs</c>): <c>obj/…/btfbindings/compat.verdicts</c>.</summary>
        public static string PathFor(string manifest) => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(manifest) ?? "", "btfbindings", FileName);

        /// <summary>The verdicts in the file at <paramref name="path"/>; none when it is missing, unreadable or another build's.</summary>
        public static Dictionary<string, CompatResult> Load(string path)
        {
            try { return System.IO.File.Exists(path) ? Read(System.IO.File.ReadAllText(path)) : new Dictionary<string, CompatResult>(StringComparer.Ordinal); }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException) { return new Dictionary<string, CompatResult>(StringComparer.Ordinal); }
        }

        /// <summary>The verdicts in <paramref name="text"/> (malformed lines skipped; none when another build wrote it).</summary>
        public static Dictionary<string, CompatResult> Read(string text)
        {
            var d = new Dictionary<string, CompatResult>(StringComparer.Ordinal);
            var lines = text.Split('\n');
            if (lines[0].TrimEnd('\r') != Header) return d;
            foreach (var line in lines)
            {
                var p = line.TrimEnd('\r').Split('\t');
                if (p.Length == 5 && int.TryParse(p[3], NumberStyles.None, CultureInfo.InvariantCulture, out int v) && Enum.IsDefined(typeof(CompatVerdict), v))
                    d[p[0] + "\t" + p[1] + "\t" + p[2]] = new CompatResult((CompatVerdict)v, p[4]);
            }
            return d;
        }

        /// <summary>The file's text, sorted (so it is rewritten only when a verdict is added).</summary>
        public static string Write(IEnumerable<KeyValuePair<string, CompatResult>> verdicts)
        {
            var sb = new StringBuilder(Header).Append('\n');
            foreach (var kv in verdicts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append(kv.Key).Append('\t').Append(((int)kv.Value.Verdict).ToString(CultureInfo.InvariantCulture)).Append('\t')
                  .Append(kv.Value.Detail.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ')).Append('\n');
            return sb.ToString();
        }
    }
}
