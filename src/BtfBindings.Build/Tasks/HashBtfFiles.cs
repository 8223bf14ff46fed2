using System;
using System.IO;
using BtfBindings.Build.Hashing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace BtfBindings.Build
{
    /// <summary>
    /// The SHA-256 of each BtfFile and Base for the manifest (as metadata FileHash, like GetFileHash), reused from
    /// <see cref="CacheFile"/> while a file's path, size and last-write time are unchanged: every build writes the manifest,
    /// and hashing a ~5 MB vmlinux each time cost a rebuild more than the rest of the targets.
    /// </summary>
    public sealed class HashBtfFiles : Task
    {
        /// <summary>The BtfFile items.</summary>
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>The distinct Base items.</summary>
        public ITaskItem[] Bases { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>The hashes of the last build (<see cref="FileHashCache"/>'s format).</summary>
        [Required] public string CacheFile { get; set; } = "";
        [Output] public ITaskItem[] HashedFiles { get; set; } = Array.Empty<ITaskItem>();
        [Output] public ITaskItem[] HashedBases { get; set; } = Array.Empty<ITaskItem>();
        /// <summary>Number of files actually hashed in this run (the rest came from the cache).</summary>
        [Output] public int Hashed { get; set; }

        public override bool Execute()
        {
            var cache = new FileHashCache(CacheFile);
            HashedFiles = Hash(Files, cache, "BtfFile");
            HashedBases = Hash(Bases, cache, "The Base");
            if (Log.HasLoggedErrors) return false;
            Hashed = cache.Hashed;
            Log.LogMessage(MessageImportance.Low, "BtfFile: hashed {0} of {1} files (the rest unchanged since {2})", Hashed, Files.Length + Bases.Length, CacheFile);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(CacheFile))!);
            cache.Save();
            return true;
        }

        private ITaskItem[] Hash(ITaskItem[] items, FileHashCache cache, string what)
        {
            var result = new ITaskItem[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                result[i] = new TaskItem(items[i]);
                try { result[i].SetMetadata("FileHash", cache.Hash(items[i].GetMetadata("FullPath"))); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogError(null, "BTFB012", null, items[i].ItemSpec, 0, 0, 0, 0, "{0} '{1}' cannot be read: {2}", what, items[i].ItemSpec, e.Message);
                }
            }
            return result;
        }
    }
}
