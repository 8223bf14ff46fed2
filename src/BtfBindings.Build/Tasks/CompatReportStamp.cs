using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
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
        /// Starts the stamp of a report, or returns null when the BtfFile's content is not known from the manifest (no
        /// line): such a report is always made again. Then <see cref="AddTarget"/> for each target, then <see cref="Finish"/>.
        /// </summary>
        /// <param name="package">The package build (<see cref="VerdictFile.Header"/>).</param>
        /// <param name="buildPath">The BtfFile.</param>
        /// <param name="buildLine">Its manifest line.</param>
        /// <param name="targets">How many targets follow.</param>
        public static CompatReportStamp? Begin(string package, string buildPath, string? buildLine, int targets)
        {
            if (buildLine == null) return null;
            var h = new CompatReportStamp();
            h.Add(package); h.Add(buildPath); h.Add(buildLine);
            h.Add(targets);
            return h;
        }

        /// <summary>Adds a target: its path, Release and Arch metadata and manifest line; false (no stamp) when it has no line.</summary>
        public bool AddTarget(string path, string? release, string? arch, string? line)
        {
            if (line == null) return false;
            Add(path); Add(release); Add(arch); Add(line);
            return true;
        }

        /// <summary>Adds the scan's uses, one per site, in scan order, and returns the stamp.</summary>
        public string Finish(IReadOnlyList<(CompatUse use, CompatUseSite site)> uses)
        {
            Add(uses.Count);
            for (int i = 0; i < uses.Count; i++) // (indexed: a tuple enumerator is generic code compiled in each build process)
            {
                var (use, site) = uses[i];
                Add((int)use.Kind); Add((int)use.Access); Add(use.TypeKeyword); Add(use.TypeName); Add(use.Member);
                Add(site.Method); Add(site.ILOffset); Add(site.Document); Add(site.Line); Add(site.Guarded ? 1 : 0);
            }
            return _hash.ToString("x16", CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// True when <paramref name="file"/> holds <paramref name="stamp"/>: read through a buffer of the stamp's size, not
        /// File.ReadAllText's 8 KB of stream and reader buffers for 16 bytes (garbage in MSBuild's process; see above).
        /// </summary>
        public static bool Matches(string file, string stamp)
        {
            try
            {
                using var f = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
                var bytes = new byte[stamp.Length + 1]; // one more: a longer file is not a match
                int n = 0, r;
                while (n < bytes.Length && (r = f.Read(bytes, n, bytes.Length - n)) > 0) n += r;
                if (n != stamp.Length) return false;
                for (int i = 0; i < n; i++) if (bytes[i] != stamp[i]) return false;
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return false; }
        }
    }
}
