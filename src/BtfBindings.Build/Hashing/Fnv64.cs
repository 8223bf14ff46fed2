using System;
using System.Globalization;
using System.IO;

namespace BtfBindings.Build.Hashing
{
    /// <summary>
    /// A 64-bit FNV-1a hash fed field by field, for the stamps that let a rebuild skip work (targets.stamp, compat.stamp,
    /// the manifests). These checks run in MSBuild's own process on every build, where the garbage a task leaves can cost
    /// the build a collection (tens of ms): so nothing here builds text, and files are read through a small buffer.
    /// </summary>
    internal sealed class Fnv64
    {
        private ulong _hash = 14695981039346656037UL;
        private byte[]? _buffer;

        public void Add(byte b) => _hash = (_hash ^ b) * 1099511628211UL;

        public void Add(long n)
        {
            for (int i = 0; i < 8; i++) Add((byte)(n >> (8 * i)));
        }

        /// <summary>Length first, so that fields cannot run into each other; null (-1) is not "".</summary>
        public void Add(string? s)
        {
            if (s == null) { Add(-1L); return; }
            Add((long)s.Length);
            foreach (char c in s) { Add((byte)c); Add((byte)(c >> 8)); }
        }

        /// <summary>Adds a file's length and bytes; false (nothing more added) when it cannot be read.</summary>
        public bool AddFile(string path) => Read(path, withLength: true);

        /// <summary>Adds a file's bytes only (as if they came after what was added before); false when it cannot be read.</summary>
        public bool AddBytes(string path) => Read(path, withLength: false);

        private bool Read(string path, bool withLength)
        {
            try
            {
                using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
                if (withLength) Add(f.Length);
                var buffer = _buffer ??= new byte[1024];
                int n;
                while ((n = f.Read(buffer, 0, buffer.Length)) > 0)
                    for (int i = 0; i < n; i++) Add(buffer[i]);
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return false; }
        }

        /// <summary>The hash.</summary>
        public ulong Value => _hash;

        /// <summary>The hash as 16 lower-case hex digits.</summary>
        public override string ToString() => _hash.ToString("x16", CultureInfo.InvariantCulture);

        /// <summary>
        /// True when <paramref name="file"/> holds exactly <paramref name="stamp"/> (ASCII): read through a buffer of the
        /// stamp's size, not File.ReadAllText's 8 KB of stream and reader buffers for 16 bytes.
        /// </summary>
        public static bool FileHolds(string file, string stamp)
        {
            try
            {
                using var f = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
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
