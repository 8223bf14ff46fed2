using System;
using System.Collections.Generic;
using System.Globalization;
using BtfBindings.Compatibility;

namespace BtfBindings.Build
{
    /// <summary>
    /// <c>obj/…/btfbindings/compat.stamp</c>: a 64-bit FNV-1a hash of what the compatibility report is made from — the
    /// package build (its rule), the BtfFile's path and manifest line, each target's path, Release/Arch metadata and
    /// manifest line (the lines HashBtfTargets writes carry each file's SHA-256, naming and raw copy), and every use with
    /// every site (method, IL offset, file, line, guard) in scan order. Verdicts are a function of the package, the hashes
    /// and the use, so an equal stamp means an equal report: <see cref="WriteCompatReport"/> then classifies and writes
    /// nothing. Hashed as the fields come, with no text built: the check runs in MSBuild's own process after every
    /// compile, where the garbage a task leaves can cost the build a collection (tens of ms) — more than the check itself.
    /// </summary>
    internal sealed class CompatReportStamp
    {
        /// <summary>The file's name.</summary>
        public const string FileName = "compat.stamp";

        private ulong _hash = 14695981039346656037UL;

        private void Byte(int b) => _hash = (_hash ^ (uint)(b & 0xFF)) * 1099511628211UL;

        private void Add(long n)
        {
            for (int i = 0; i < 8; i++) Byte((int)(n >> (8 * i)));
        }

        // Length first, so that fields cannot run into each other; null (-1) is not "" (compat.json tells them apart).
        private void Add(string? s)
        {
            if (s == null) { Add(-1L); return; }
            Add((long)s.Length);
            foreach (char c in s) { Byte(c); Byte(c >> 8); }
        }

        /// <summary>
        /// The stamp of a report, or null when an input's content is not known from the manifest (a BtfFile or target
        /// without its line): such a report is always made again.
        /// </summary>
        /// <param name="package">The package build (<see cref="VerdictFile.Header"/>).</param>
        /// <param name="buildPath">The BtfFile.</param>
        /// <param name="buildLine">Its manifest line.</param>
        /// <param name="targets">Per target: its path, Release and Arch metadata, and its manifest line.</param>
        /// <param name="uses">The scan's uses, one per site, in scan order.</param>
        public static string? Of(string package, string buildPath, string? buildLine, IReadOnlyList<string?[]> targets,
            IReadOnlyList<(CompatUse use, CompatUseSite site)> uses)
        {
            if (buildLine == null) return null;
            var h = new CompatReportStamp();
            h.Add(package); h.Add(buildPath); h.Add(buildLine);
            h.Add(targets.Count);
            foreach (var t in targets)
            {
                if (t.Length < 4 || t[3] == null) return null;
                foreach (var part in t) h.Add(part);
            }
            h.Add(uses.Count);
            for (int i = 0; i < uses.Count; i++) // (indexed: a tuple enumerator is generic code compiled in each build process)
            {
                var (use, site) = uses[i];
                h.Add((int)use.Kind); h.Add((int)use.Access); h.Add(use.TypeKeyword); h.Add(use.TypeName); h.Add(use.Member);
                h.Add(site.Method); h.Add(site.ILOffset); h.Add(site.Document); h.Add(site.Line); h.Add(site.Guarded ? 1 : 0);
            }
            return h._hash.ToString("x16", CultureInfo.InvariantCulture);
        }
    }
}
