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
            var sb = new StringBuilder();
            // Escaped so that fields cannot run into each other; null ("\0") is not "" (compat.json tells them apart).
            void Field(object? v) => sb.Append(v == null ? "\\0" : Convert.ToString(v, CultureInfo.InvariantCulture)!.Replace("\\", "\\\\").Replace("\t", "\\t").Replace("\n", "\\n").Replace("\r", "\\r")).Append('\t');
            Field(package); Field(buildPath); Field(buildHash.ToUpperInvariant()); sb.Append('\n');
            foreach (var t in targets)
            {
                Field(t.Path); Field(t.Sha256?.ToUpperInvariant()); Field(t.Info.Label); Field(t.Info.Release); Field(t.Info.Arch);
                Field(t.Info.Distro); Field(t.Info.DistroVersion); sb.Append('\n');
            }
            foreach (var (use, sites) in uses)
            {
                Field((int)use.Kind); Field((int)use.Access); Field(use.TypeKeyword); Field(use.TypeName); Field(use.Member); sb.Append('\n');
                foreach (var s in sites)
                {
                    sb.Append(' ');
                    Field(s.Method); Field(s.ILOffset); Field(s.Document); Field(s.Line); Field(s.Guarded); sb.Append('\n');
                }
            }
            return sb.ToString();
        }
    }
}
