using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using BtfBindings.Build.Hashing;
using BtfBindings.Compatibility;
using Microsoft.Build.Utilities;

namespace BtfBindings.Build
{
    /// <summary>
    /// Writes the manifest's <c>target</c> lines for the project's <c>&lt;BtfTarget&gt;</c> items (format in the generator's
    /// BtfFileManifest.cs): full path, SHA-256, Embed, release, arch, distro/version (metadata, else the path by
    /// <see cref="KernelTargetInfo"/>). A BTFHub tree is tens of files of
    /// megabytes each, so a file's hash is reused from <see cref="CacheFile"/> while its path, size and modification time are
    /// those the hash was taken at; and when no item, file time or size, nor this assembly changed since the last run
    /// (<see cref="StampFile"/>), nothing is read at all. (That check was MSBuild items and conditions once: ~0.35 MB of
    /// garbage in MSBuild's process per build for 40 targets, enough to tip it into a collection.)
    /// </summary>
    public sealed class HashBtfTargets : Task
    {
        /// <summary>The BtfTarget items (metadata Embed, Release, Arch).</summary>
        [Required] public ITaskItem[] Targets { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>Hashes already taken: path, size, last-write ticks (UTC), SHA-256, tab-separated, one file per line.</summary>
        [Required] public string CacheFile { get; set; } = "";
        /// <summary>Where the manifest lines go (WriteBtfManifest copies them into the manifests).</summary>
        [Required] public string OutputFile { get; set; } = "";
        /// <summary>The hash of the last run's inputs (items, their files' times and sizes, this assembly, the raw cache).</summary>
        [Required] public string StampFile { get; set; } = "";
        /// <summary>
        /// A folder for the raw BTF of compressed targets (BTFHub's .btf.tar.xz), as <c>SHA-256.btf</c> of the original: the
        /// compiler's analyzer parses that instead of decompressing xz in every fresh compiler process (about 10x faster). Empty:
        /// no copies.
        /// </summary>
        public string RawCache { get; set; } = "";
        /// <summary>Number of files actually hashed in this run (the rest came from the cache).</summary>
        [Output] public int Hashed { get; set; }

        public override bool Execute()
        {
            var key = new Fnv64();
            key.Add(typeof(HashBtfTargets).Assembly.ManifestModule.ModuleVersionId.ToString("N")); // (a new package may write other lines)
            key.Add(RawCache);
            key.Add(Targets.Length);
            foreach (var item in Targets)
            {
                string path = item.GetMetadata("FullPath");
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    Log.LogError(null, "BTFB012", null, item.ItemSpec, 0, 0, 0, 0, "BtfTarget '{0}' does not exist.", item.ItemSpec);
                    continue;
                }
                key.Add(path); key.Add(info.Length); key.Add(info.LastWriteTimeUtc.Ticks);
                key.Add(item.GetMetadata("Embed")); key.Add(item.GetMetadata("Release")); key.Add(item.GetMetadata("Arch"));
            }
            if (Log.HasLoggedErrors) return false;
            string stamp = key.ToString();
            if (File.Exists(OutputFile) && Fnv64.FileHolds(StampFile, stamp))
            {
                Log.LogMessage(MessageImportance.Low, "BtfTarget: {0} unchanged (same items, files and package)", OutputFile);
                return true;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(StampFile))!);
            File.Delete(StampFile); // written again only after the lines are

            var cache = new FileHashCache(CacheFile);
            var lines = new StringBuilder();
            foreach (var item in Targets)
            {
                string path = item.GetMetadata("FullPath");
                string hash;
                try { hash = cache.Hash(path); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(null, "BTFB012", null, item.ItemSpec, 0, 0, 0, 0, "BtfTarget '{0}' cannot be read: {1}", item.ItemSpec, e.Message);
                    continue;
                }
                string embed = string.Equals(item.GetMetadata("Embed"), "true", StringComparison.OrdinalIgnoreCase) ? "true" : "false";
                // Release and arch as the item says, else by the one naming rule (a BTFHub tree's <distro>/<version>/<arch>/<release>.btf…).
                var kernel = KernelTargetInfo.FromPath(path, NullIfEmpty(item.GetMetadata("Release")), NullIfEmpty(item.GetMetadata("Arch")));
                string release = kernel.Release, arch = kernel.Arch ?? "", distro = kernel.DistroLabel ?? "";
                string raw = RawCopy(path, hash);
                lines.Append("target\t").Append(path).Append('\t').Append(hash).Append('\t').Append(embed).Append('\t')
                    .Append(release).Append('\t').Append(arch).Append('\t').Append(distro).Append('\t').Append(raw).Append('\n');
            }
            if (Log.HasLoggedErrors) return false;
            Hashed = cache.Hashed;
            Log.LogMessage(MessageImportance.Normal, "BtfTarget: hashed {0} of {1} files (the rest unchanged since {2})", Hashed, Targets.Length, CacheFile);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(OutputFile))!);
            cache.Save();
            FileHashCache.WriteIfChanged(OutputFile, lines.ToString());
            File.WriteAllText(StampFile, stamp);
            return true;
        }

        /// <summary>
        /// The raw BTF of a compressed or archived target in <see cref="RawCache"/> (written once per content hash, atomically),
        /// or "" for a raw or ELF file (already fast to parse), with no cache, or when it cannot be written (not an error:
        /// the analyzer then reads the original).
        /// </summary>
        private string RawCopy(string path, string hash)
        {
            if (RawCache.Length == 0) return "";
            string dest = Path.Combine(RawCache, hash + ".btf");
            if (File.Exists(dest)) return dest;
            try
            {
                var head = new byte[512];
                int n;
                using (var f = File.OpenRead(path)) n = f.Read(head, 0, head.Length);
                if (!Containers.KernelImage.IsCompressedOrArchive(new ReadOnlySpan<byte>(head, 0, n))) return "";
                var found = Containers.KernelImage.FindBtf(File.ReadAllBytes(path), path);
                Directory.CreateDirectory(RawCache);
                string tmp = dest + "." + Guid.NewGuid().ToString("N") + ".tmp";
                File.WriteAllBytes(tmp, found.Data);
                File.Move(tmp, dest);
                return dest;
            }
            catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
            {
                Log.LogMessage(MessageImportance.Low, "BtfTarget '{0}': no raw copy in {1}: {2}", path, RawCache, e.Message);
                return File.Exists(dest) ? dest : "";   // another build may have won the race
            }
        }

        private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
    }
}
