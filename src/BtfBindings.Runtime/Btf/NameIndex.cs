using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>
    /// Index from a type's name (or essential name) to its ids: an open-addressing hash table of record numbers with
    /// linear probing, at most 70% full, built with one pass over the names' hashes (0.5 MB for vmlinux, no per-type
    /// objects). Names are compared on lookup, so the hashes are not kept.
    /// </summary>
    internal sealed class NameIndex
    {
        private readonly int[] _slots; // 1 + record index (0 = empty); power-of-two length
        private readonly int _firstId;
        private readonly bool _essential;

        private NameIndex(int[] slots, int firstId, bool essential) { _slots = slots; _firstId = firstId; _essential = essential; }

        /// <summary>Gives the table back to the buffer pool (the owning <see cref="Btf"/> was disposed).</summary>
        public void Release() => BufferPool<int>.Return(_slots);

        /// <summary>Builds the index from per-record hashes (0 = anonymous) of types <paramref name="firstId"/>…</summary>
        public static NameIndex FromHashes(uint[] hashes, int count, int named, int firstId, bool essential = false)
        {
            // The records with a hash, as one chunk (the lazily built indexes; parsing hands over its chunk lists instead).
            var at = new int[named];
            int k = 0;
            for (int i = 0; i < count && k < named; i++) if (hashes[i] != 0) at[k++] = i;
            return FromChunks(hashes, at, new[] { k }, 1, 0, firstId, essential);
        }

        /// <summary>
        /// Builds the index from per-record hashes and, per chunk <c>c</c> of <paramref name="chunkSize"/> records, the
        /// <c>chunkNamed[c]</c> records with a name listed from <c>namedAt[c * chunkSize]</c> on (as validation found them),
        /// so the records without one are never visited.
        /// </summary>
        public static NameIndex FromChunks(uint[] hashes, int[] namedAt, int[] chunkNamed, int chunks, int chunkSize, int firstId, bool essential = false)
        {
            int named = 0;
            for (int c = 0; c < chunks; c++) named += chunkNamed[c];
            int n = 16;
            while (n < named + named / 2 + 1 && n < (1 << 30)) n <<= 1;
            var slots = BufferPool<int>.Rent(n, 0, clear: true);
            var list = new Chunks(hashes, namedAt, chunkNamed, chunks, chunkSize);
            if (named < 65536 || Environment.ProcessorCount < 2) // a second thread pays only for big tables
            {
                Insert(list, slots, 0, n, null);
            }
            else
            {
                // Two threads, each filling its half of the table; an entry whose probe would leave its half is
                // inserted afterwards. Every entry still sits at the first free slot at or after its home slot, all
                // slots in between being full, which is all a linear-probing lookup relies on.
                var spillHigh = new List<int>();
                var high = new SharedWork(() => Insert(list, slots, n / 2, n, spillHigh));
                var spill = new List<int>();
                Insert(list, slots, 0, n / 2, spill);
                high.Join();
                spill.AddRange(spillHigh);
                uint mask = (uint)n - 1;
                foreach (int i in spill)
                {
                    uint s = hashes[i] & mask;
                    while (slots[s] != 0) s = (s + 1) & mask;
                    slots[s] = i + 1;
                }
            }
            return new NameIndex(slots, firstId, essential);
        }

        private readonly struct Chunks
        {
            public readonly uint[] Hashes; public readonly int[] NamedAt, ChunkNamed; public readonly int Count, Size;
            public Chunks(uint[] hashes, int[] namedAt, int[] chunkNamed, int count, int size) { Hashes = hashes; NamedAt = namedAt; ChunkNamed = chunkNamed; Count = count; Size = size; }
        }

        /// <summary>Inserts the records whose home slot lies in [lo, hi); with <paramref name="spill"/>, probes stop at hi instead of wrapping.</summary>
        private static void Insert(in Chunks list, int[] slots, int lo, int hi, List<int>? spill)
        {
            uint mask = (uint)slots.Length - 1;
            uint[] hashes = list.Hashes;
            int[] namedAt = list.NamedAt;
            for (int c = 0; c < list.Count; c++)
            {
                for (int k = c * list.Size, end = k + list.ChunkNamed[c]; k < end; k++)
                {
                    int i = namedAt[k];
                    uint s = hashes[i] & mask;
                    if (s < (uint)lo || s >= (uint)hi) continue;
                    if (spill == null) { while (slots[s] != 0) s = (s + 1) & mask; }
                    else
                    {
                        while (s < (uint)hi && slots[s] != 0) s++;
                        if (s == (uint)hi) { spill.Add(i); continue; }
                    }
                    slots[s] = i + 1;
                }
            }
        }

        /// <summary>Index of the names of FUNC, VAR, DATASEC and DECL_TAG records (see <see cref="Btf.IsSymbolKind"/>); built on first use.</summary>
        public static NameIndex BuildSymbols(Btf btf)
        {
            int n = btf.TypeCount - btf.FirstTypeId, named = 0;
            var hashes = new uint[n];
            for (int i = 0; i < n; i++)
            {
                int id = btf.FirstTypeId + i;
                if (!Btf.IsSymbolKind(btf.KindOf(id))) continue;
                uint nameOff = btf.Word(id, 0);
                if (nameOff == 0) continue;
                hashes[i] = Hash(btf.StringBytes(nameOff));
                named++;
            }
            return FromHashes(hashes, n, named, btf.FirstTypeId);
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

        /// <summary>Adds every type named <paramref name="name"/> (optionally of one kind) to <paramref name="into"/>, in no particular order.</summary>
        public void Collect(Btf btf, ReadOnlySpan<byte> name, BtfKind? kind, List<BtfType> into)
        {
            uint mask = (uint)_slots.Length - 1;
            for (uint s = Hash(name) & mask; _slots[s] != 0; s = (s + 1) & mask)
            {
                int id = _firstId + _slots[s] - 1;
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
    internal static class FlavorRules
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
