using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace BtfBindings
{
    // The view table generated views read through (see <see cref="CoreView"/>): per-field fast offsets and read slots.
    partial class CoreTypeResolution // accessibility: see the main part
    {
        private static bool IsScalar(BtfFieldKind k) => k == BtfFieldKind.Int || k == BtfFieldKind.Enum || k == BtfFieldKind.Float || k == BtfFieldKind.Pointer;

        /// <summary>
        /// Appends <paramref name="r"/>'s block and its members' blocks to a view table; returns the block's first entry.
        /// <paramref name="start"/>: where r's object starts in the outermost one; <paramref name="member"/>: the same, or -1 for the outermost.
        /// </summary>
        private static int Place(CoreTypeResolution r, List<int> table, List<CoreTypeResolution> closure, long member, long start)
        {
            int n = r._fields.Length;
            int at = table.Count + TableBase;
            table.Add((int)member);
            table.Add(member < 0 ? (int)Math.Min(r.Size, int.MaxValue) : 0);
            table.Add(closure.Count);
            closure.Add(r);
            for (int i = 0; i < 2 * n; i++) table.Add(-1);
            for (int i = 0; i < n; i++)
            {
                var f = r._fields[i];
                int o = r.FastOffsets[i];
                if (o < 0) continue;
                long at0 = start + o;
                if (IsScalar(f.Local.Kind))
                {
                    if (at0 + f.ByteSize <= int.MaxValue) table[at + i] = (int)(at0 + f.ByteSize);
                }
                else if ((f.Local.Kind == BtfFieldKind.Struct || f.Local.Kind == BtfFieldKind.Union) && r._members[i] is CoreTypeResolution q
                         && at0 + f.ByteSize <= int.MaxValue)
                {
                    int b = Place(q, table, closure, at0, at0);
                    table[b - 2] = (int)f.ByteSize; // the member's size in the target
                    table[at + n + i] = b - at;
                }
            }
            return at;
        }

        // The view table (see <see cref="CoreView"/>).</summary>
        /// <summary>The first block's entries in the pinned table (see <see cref="CoreView"/>).</summary>
        internal unsafe int* Entries
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => _entries;
        }

        /// <summary>The resolution of the block with id <paramref name="id"/> in this resolution's fast table.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal CoreTypeResolution ClosureAt(int id) => _closure[id];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal ref readonly ReadSlot SlotAt(int index) => ref _slots[index];

        /// <summary>
        /// What <see cref="Read(int, ReadOnlySpan{byte})"/> does for a field, as numbers an inlined read
        /// can use: load <c>Size</c> bytes at <c>Offset</c> (byte k shifted by <c>FirstShift + k * ShiftStep</c>, the
        /// target's byte order), shift left then right, and fail when bits under <c>FitMask</c> are set. Size 0: Read throws.
        /// </summary>
        internal readonly struct ReadSlot
        {
            public readonly int Offset, Size, FirstShift, ShiftStep, LeftShift, RightShift;
            public readonly bool Signed;
            public readonly ulong FitMask;

            public ReadSlot(int offset, int size, bool bigEndian, int left, int right, bool signed, ulong fitMask)
            {
                Offset = offset; Size = size; LeftShift = left; RightShift = right; Signed = signed; FitMask = fitMask;
                FirstShift = bigEndian ? (size - 1) * 8 : 0;
                ShiftStep = bigEndian ? -8 : 8;
            }
        }

        private ReadSlot Slot(CoreFieldResolution f)
        {
            uint size = f.ByteSize;
            if (!f.IsReadable || size == 0 || size > 8 || f.ByteOffset > int.MaxValue) return default;
            var lf = f.Local;
            ulong fit = !lf.IsBitfield && !f.IsBitfield && lf.ByteSize < size && lf.ByteSize < 8 ? ulong.MaxValue << (int)(lf.ByteSize * 8) : 0;
            return new ReadSlot(f.WindowOffset, (int)size, _bigEndian, f.LeftShift, f.RightShift, f.IsSigned, fit);
        }

        private int FastOffset(CoreFieldResolution f)
        {
            var lf = f.Local;
            if (!f.Exists || !f.IsReadable) return -1;
            switch (lf.Kind)
            {
                case BtfFieldKind.Int: case BtfFieldKind.Enum: case BtfFieldKind.Float: case BtfFieldKind.Pointer:
                    if (lf.IsBitfield || f.IsBitfield || f.ByteSize != lf.ByteSize) return -1;
                    if (_swap && f.ByteSize > 1) return -1;
                    return (int)f.ByteOffset;
                case BtfFieldKind.Struct: case BtfFieldKind.Union: case BtfFieldKind.Array: case BtfFieldKind.FlexibleArray: case BtfFieldKind.Bytes:
                    return f.IsBitfield ? -1 : (int)f.ByteOffset;
                default:
                    return -1;
            }
        }
    }
}
