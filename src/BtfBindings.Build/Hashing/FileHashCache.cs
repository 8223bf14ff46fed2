using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace BtfBindings.Build.Hashing
{
    /// <summary>
    /// SHA-256 of files, reused from a small cache file while a file's full path, size and last-write time are those the hash
    /// was taken at (a BTF file is megabytes: hashing it on every build costs more than the rest of the targets). The cache
    /// file holds path, size, last-write ticks (UTC) and hash, tab-separated, one file per line; it is rewritten only when
    /// it changes, and holds exactly the files of the last run.
    /// </summary>
    internal sealed class FileHashCache
    {
        private readonly string _file;
        private readonly Dictionary<string, (long size, long ticks, string hash)> _old;
        private readonly StringBuilder _new = new StringBuilder();
        private readonly HashSet<string> _written = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Files actually hashed so far (the rest came from the cache).</summary>
        public int Hashed { get; private set; }

        public FileHashCache(string file)
        {
            _file = file;
            _old = Read(file);
        }

        /// <summary>The upper-case hex SHA-256 of <paramref name="fullPath"/>; throws IOException/UnauthorizedAccessException.</summary>
        public string Hash(string fullPath)
        {
            var info = new FileInfo(fullPath);
            long size = info.Length, ticks = info.LastWriteTimeUtc.Ticks;
            string hash;
            if (_old.TryGetValue(fullPath, out var c) && c.size == size && c.ticks == ticks) hash = c.hash;
            else
            {
                hash = Sha256(fullPath);
                Hashed++;
            }
            if (_written.Add(fullPath))
                _new.Append(fullPath).Append('\t').Append(size.ToString(CultureInfo.InvariantCulture)).Append('\t')
                    .Append(ticks.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(hash).Append('\n');
            return hash;
        }

        /// <summary>Writes the cache file (its folder must exist), unless it holds this already.</summary>
        public void Save() => WriteIfChanged(_file, _new.ToString());

        internal static void WriteIfChanged(string file, string text)
        {
            if (File.Exists(file) && File.ReadAllText(file) == text) return;
            File.WriteAllText(file, text, new UTF8Encoding(false));
        }

        private static Dictionary<string, (long, long, string)> Read(string file)
        {
            var d = new Dictionary<string, (long, long, string)>(StringComparer.Ordinal);
            if (!File.Exists(file)) return d;
            foreach (var line in File.ReadAllLines(file))
            {
                var p = line.Split('\t');
                if (p.Length == 4 && long.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size)
                    && long.TryParse(p[2], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks) && p[3].Length == 64)
                    d[p[0]] = (size, ticks, p[3]);
            }
            return d;
        }

        private static string Sha256(string path)
        {
            using var sha = SHA256.Create();
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var h = sha.ComputeHash(s);
            var sb = new StringBuilder(64);
            foreach (var b in h) sb.Append(b.ToString("X2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }
    }
}
