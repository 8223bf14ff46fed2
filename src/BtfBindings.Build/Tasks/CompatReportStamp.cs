using System.Collections.Generic;
using BtfBindings.Build.Hashing;
using BtfBindings.Compatibility;

namespace BtfBindings.Build
{
    /// <summary>
    /// <c>obj/…/btfbindings/compat.stamp</c>: a 64-bit FNV-1a hash (<see cref="Fnv64"/>) of what the compatibility report is
    /// made from — the package build (its rule), the BtfFile's path, the project's manifest (its lines carry the SHA-256 of
    /// every BtfFile and target, their naming and raw copies), each target's path and Release/Arch metadata, and every use
    /// with every site (method, IL offset, file, line, guard) in scan order. Verdicts are a function of the package, the
    /// hashes and the use, so an equal stamp means an equal report: <see cref="WriteCompatReport"/> then classifies and
    /// writes nothing. Hashed as the fields come, with no text built: the check runs in MSBuild's own process after every
    /// compile, where the garbage a task leaves can cost the build a collection (tens of ms) — more than the check itself.
    /// </summary>
    internal sealed class CompatReportStamp
    {
        /// <summary>The file's name.</summary>
        public const string FileName = "compat.stamp";

        private readonly Fnv64 _hash = new Fnv64();

        /// <summary>
        /// Starts the stamp of a report, or returns null when the manifest cannot be read (the report is then always made
        /// again). Then <see cref="AddTarget"/> for each target, then <see cref="Finish"/>.
        /// </summary>
        /// <param name="package">The package build (<see cref="VerdictFile.Header"/>).</param>
        /// <param name="buildPath">The BtfFile.</param>
        /// <param name="manifest">The project's manifest (BtfBindings.btfrefs).</param>
        /// <param name="targets">How many targets follow.</param>
        public static CompatReportStamp? Begin(string package, string buildPath, string manifest, int targets)
        {
            var s = new CompatReportStamp();
            s._hash.Add(package); s._hash.Add(buildPath);
            if (!s._hash.AddFile(manifest)) return null;
            s._hash.Add(targets);
            return s;
        }

        /// <summary>Adds a target: its path and its Release and Arch metadata as given.</summary>
        public void AddTarget(string path, string? release, string? arch)
        {
            _hash.Add(path); _hash.Add(release); _hash.Add(arch);
        }

        /// <summary>Adds the scan's uses, one per site, in scan order, and returns the stamp.</summary>
        public string Finish(IReadOnlyList<(CompatUse use, CompatUseSite site)> uses)
        {
            _hash.Add(uses.Count);
            for (int i = 0; i < uses.Count; i++) // (indexed: a tuple enumerator is generic code compiled in each build process)
            {
                var (use, site) = uses[i];
                _hash.Add((int)use.Kind); _hash.Add((int)use.Access); _hash.Add(use.TypeKeyword); _hash.Add(use.TypeName); _hash.Add(use.Member);
                _hash.Add(site.Method); _hash.Add(site.ILOffset); _hash.Add(site.Document); _hash.Add(site.Line); _hash.Add(site.Guarded ? 1 : 0);
            }
            return _hash.ToString();
        }

        /// <summary>True when <paramref name="file"/> holds <paramref name="stamp"/>.</summary>
        public static bool Matches(string file, string stamp) => Fnv64.FileHolds(file, stamp);
    }
}
