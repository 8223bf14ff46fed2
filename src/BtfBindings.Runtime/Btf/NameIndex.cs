using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>
    /// Index from a type's name (or essential name) to its ids: (hash, id) pairs in one 64-bit word each,
    /// radix-sorted by hash, looked up by binary search. No per-type objects (about 0.6 MB for vmlinux),
    /// and built with sequential passes only, which keeps it cheap next to parsing.
    /// </summary>
    internal sealed class NameIndex
    {
        private readonly ulong[] _entries; // (hash << 32) | id, sorted
        private readonly bool _essential;

        private NameIndex(ulong[] entries, bool essential) { _entries = entries; _essential = essential; }

        /// <summary>Builds the index from per-record hashes (0 = anonymous) of types <paramref name="firstId"/>…</summary>
        public static NameIndex FromHashes(uint[] hashes, int count, int named, int firstId, bool essential = false)
        {
            var a = new ulong[named];
            int k = 0;
            for (int i = 0; i < count; i++) if (hashes[i] != 0) a[k++] = ((ulong)hashes[i] << 32) | (uint)(firstId + i);
            RadixSortByHigh32(a);
            return new NameIndex(a, essential);
        }

        private static void RadixSortByHigh32(ulong[] a)
        {
            if (a.Length < 2) return;
            var pool = System.Buffers.ArrayPool<ulong>.Shared;
            var tmp = pool.Rent(a.Length);
            var counts = new int[2048];
            try
            {
                ulong[] src = a, dst = tmp;
                // Three 11-bit passes over the hash (bits 32..64); ids within equal hashes keep their order.
                for (int shift = 32; shift < 64; shift += 11)
                {
                    Array.Clear(counts, 0, counts.Length);
                    for (int i = 0; i < a.Length; i++) counts[(int)(src[i] >> shift) & 2047]++;
                    int sum = 0;
                    for (int b = 0; b < 2048; b++) { int c = counts[b]; counts[b] = sum; sum += c; }
                    for (int i = 0; i < a.Length; i++) { ulong e = src[i]; dst[counts[(int)(e >> shift) & 2047]++] = e; }
                    var t = src; src = dst; dst = t;
                }
                if (!ReferenceEquals(src, a)) Array.Copy(src, a, a.Length);
            }
            finally { pool.Return(tmp); }
        }

        /// <summary>Index by essential name (CO-RE flavors stripped); built on first use.</summary>
        public static NameIndex BuildEssential(Btf btf)
        {
            int n = btf.TypeCount - btf.FirstTypeId, named = 0;
            var hashes = new uint[n];
            for (int i = 0; i < n; i++)
            {
                uint nameOff = btf.Word(btf.FirstTypeId + i, 0);
                if (nameOff == 0) continue;
                var name = btf.StringBytes(nameOff);
                hashes[i] = Hash(name.Slice(0, FlavorRules.EssentialLength(name)));
                named++;
            }
            return FromHashes(hashes, n, named, btf.FirstTypeId, essential: true);
        }

        public void Collect(Btf btf, ReadOnlySpan<byte> name, BtfKind? kind, List<BtfType> into)
        {
            uint h = Hash(name);
            ulong key = (ulong)h << 32;
            int lo = 0, hi = _entries.Length;
            while (lo < hi) { int mid = (lo + hi) >> 1; if (_entries[mid] < key) lo = mid + 1; else hi = mid; }
            for (int i = lo; i < _entries.Length && (uint)(_entries[i] >> 32) == h; i++)
            {
                int id = (int)(uint)_entries[i];
                var n = btf.StringBytes(btf.Word(id, 0));
                if (_essential) n = n.Slice(0, FlavorRules.EssentialLength(n));
                if (n.SequenceEqual(name))
                {
                    var t = new BtfType(btf, id);
                    if (kind == null || t.Kind == kind.Value) into.Add(t);
                }
            }
        }

        // Word-at-a-time hash of a name's bytes. HashZ hashes a NUL-terminated string in place (finding the
        // NUL eight bytes at a time) and must agree exactly with Hash over the same bytes.
        private const ulong K1 = 0x9E3779B97F4A7C15, K2 = 0xff51afd7ed558ccd;

        internal static unsafe uint Hash(ReadOnlySpan<byte> s)
        {
            ulong h = K1;
            int i = 0;
            fixed (byte* p = s)
            {
                for (; i + 8 <= s.Length; i += 8) h = Round(h, *(ulong*)(p + i));
                ulong last = 0;
                for (int j = s.Length - 1; j >= i; j--) last = (last << 8) | p[j];
                return Final(h, last, s.Length);
            }
        }

        internal static unsafe uint HashZ(byte* s, byte* limit)
        {
            ulong h = K1;
            byte* p = s;
            while (p + 8 <= limit)
            {
                ulong w = *(ulong*)p;
                ulong z = (w - 0x0101010101010101UL) & ~w & 0x8080808080808080UL;
                if (z != 0)
                {
                    int n = TrailingZeroBytes(z);
                    ulong part = n == 0 ? 0 : w & ((1UL << (8 * n)) - 1);
                    return Final(h, part, (int)(p - s) + n);
                }
                h = Round(h, w);
                p += 8;
            }
            // Near the end of the buffer: finish byte by byte (the section is NUL-terminated).
            ulong last = 0;
            int k = 0;
            while (p + k < limit && p[k] != 0) k++;
            for (int j = k - 1; j >= 0; j--) last = (last << 8) | p[j];
            return Final(h, last, (int)(p - s) + k);
        }

        private static ulong Round(ulong h, ulong w) { h = (h ^ w) * K2; return h ^ (h >> 32); }

        private static uint Final(ulong h, ulong last, int len)
        {
            h = (h ^ last ^ ((ulong)len << 56)) * K2;
            h ^= h >> 29;
            uint r = (uint)(h ^ (h >> 32));
            return r == 0 ? 1 : r;
        }

        private static int TrailingZeroBytes(ulong z)
        {
#if NET
            return System.Numerics.BitOperations.TrailingZeroCount(z) >> 3;
#else
            int n = 0;
            while ((z & 0xff) == 0) { z >>= 8; n++; }
            return n;
#endif
        }
    }

    /// <summary>libbpf's CO-RE "flavor" rule: <c>name___suffix</c> is the same type as <c>name</c>.</summary>
    public static class FlavorRules
    {
        /// <summary>
        /// Length of the essential part of a name: the text before the last <c>___</c> that has a
        /// non-underscore character on both sides (libbpf <c>bpf_core_essential_name_len</c>).
        /// </summary>
        public static int EssentialLength(ReadOnlySpan<byte> name)
        {
            int n = name.Length;
            for (int i = n - 5; i >= 0; i--)
            {
                if (name[i] != (byte)'_' && name[i + 1] == (byte)'_' && name[i + 2] == (byte)'_' && name[i + 3] == (byte)'_' && name[i + 4] != (byte)'_')
                    return i + 1;
            }
            return n;
        }

        /// <summary>The essential name of <paramref name="name"/> (see <see cref="EssentialLength(ReadOnlySpan{byte})"/>).</summary>
        public static string EssentialName(string name)
        {
            int n = name.Length;
            for (int i = n - 5; i >= 0; i--)
            {
                if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
                    return name.Substring(0, i + 1);
            }
            return name;
        }
    }
}
