using System;
using System.Collections.Generic;

namespace BtfBindings.Generator
{
    /// <summary>
    /// Parsed BTF shared by every generator run in the process (compiler server, IDE), keyed by path and content
    /// hash (and, for split BTF, the base's path and content hash), so an unchanged file is read and parsed once
    /// however many compilations use it.
    /// </summary>
    internal static class BtfCache
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, Btf> Entries = new Dictionary<string, Btf>(StringComparer.Ordinal);
        private static readonly LinkedList<string> Order = new LinkedList<string>();
        private const int Capacity = 8;

        /// <summary>Number of times a file was actually read and parsed (tests use it to prove caching).</summary>
        public static int ParseCount;

        public static Btf Get(BtfFileRef file)
        {
            // The base's content hash too: split BTF parsed over an old base must not be served after the base changed.
            string key = file.Path + "|" + file.Hash + "|" + file.BasePath + "|" + file.BaseHash;
            lock (Gate)
            {
                if (Entries.TryGetValue(key, out var hit)) return hit;
            }
            // Parse outside the lock: vmlinux takes milliseconds, and other keys should not wait.
            Btf? baseBtf = file.BasePath == null ? null : BtfContainer.Load(file.BasePath);
            var btf = BtfContainer.Load(file.Path, baseBtf);
            System.Threading.Interlocked.Increment(ref ParseCount);
            lock (Gate)
            {
                if (Entries.TryGetValue(key, out var raced)) return raced;
                Entries[key] = btf;
                Order.AddLast(key);
                while (Order.Count > Capacity) { Entries.Remove(Order.First!.Value); Order.RemoveFirst(); }
                return btf;
            }
        }

        /// <summary>Forgets everything (tests).</summary>
        public static void Clear()
        {
            lock (Gate) { Entries.Clear(); Order.Clear(); }
        }
    }
}
