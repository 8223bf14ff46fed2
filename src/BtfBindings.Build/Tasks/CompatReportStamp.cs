using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using BtfBindings.Compatibility;

namespace BtfBindings.Build
{
    /// <summary>
    /// <c>obj/…/btfbindings/compat.stamp</c>: what the compatibility report was made from — the package build (its rule),
    /// the BtfFile and its hash, each target's path, hash and naming, each use with every site (method, IL offset, file,
    /// line, guard) — as text, one line each (tens of KB for hundreds of uses; comparing it costs less than starting a
    /// hash algorithm in a fresh build process). Verdicts are a function of the package, the hashes and the use, so an
    /// equal stamp means an equal report: <see cref="WriteCompatReport"/> then classifies and writes nothing.
    /// </summary>
    internal static class CompatReportStamp
    {
        /// <summary>The file's name.</summary>
        public const string FileName = "compat.stamp";

        /// <summary>The stamp of a report.</summary>
        public static string Of(string package, string buildPath, string buildHash, IReadOnlyList<CompatTargetFile> targets,
            IReadOnlyList<(CompatUse use, IReadOnlyList<CompatUseSite> sites)> uses)
        {
            var sb = new StringBuilder(16 * 1024);
            // Escaped so that fields cannot run into each other; null ("\0") is not "" (compat.json tells them apart).
            void Text(string? v)
            {
                if (v == null) { sb.Append("\\0\t"); return; }
                foreach (char c in v)
                    switch (c)
                    {
                        case '\\': sb.Append("\\\\"); break;
                        case '\t': sb.Append("\\t"); break;
                        case '\n': sb.Append("\\n"); break;
                        case '\r': sb.Append("\\r"); break;
                        default: sb.Append(c); break;
                    }
                sb.Append('\t');
            }
            void Number(int v) => sb.Append(v.ToString(CultureInfo.InvariantCulture)).Append('\t');
            Text(package); Text(buildPath); Text(buildHash.ToUpperInvariant()); sb.Append('\n');
            foreach (var t in targets)
            {
                Text(t.Path); Text(t.Sha256?.ToUpperInvariant()); Text(t.Info.Label); Text(t.Info.Release); Text(t.Info.Arch);
                Text(t.Info.Distro); Text(t.Info.DistroVersion); sb.Append('\n');
            }
            for (int u = 0; u < uses.Count; u++) // (indexed: a tuple enumerator is generic code compiled in each build process)
            {
                var (use, sites) = uses[u];
                Number((int)use.Kind); Number((int)use.Access); Text(use.TypeKeyword); Text(use.TypeName); Text(use.Member); sb.Append('\n');
                foreach (var s in sites)
                {
                    sb.Append(' ');
                    Text(s.Method); Number(s.ILOffset); Text(s.Document); Number(s.Line); Text(s.Guarded ? "True" : "False"); sb.Append('\n');
                }
            }
            return sb.ToString();
        }
    }
}
