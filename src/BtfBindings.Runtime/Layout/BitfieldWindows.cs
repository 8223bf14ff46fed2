namespace BtfBindings.Layout
{
    /// <summary>
    /// The one load-window rule: libbpf's <c>bpf_core_calc_field_relo</c> (<c>relo_core.c</c>) for
    /// <c>FIELD_BYTE_OFFSET</c>, <c>FIELD_BYTE_SIZE</c>, <c>FIELD_LSHIFT_U64</c> and <c>FIELD_RSHIFT_U64</c>. Read by the
    /// layout planner (<see cref="PlannedField.Window"/>), the CO-RE resolver (every target field, nested members
    /// rebased to their root) and the non-portable resolution built from generated metadata.
    /// </summary>
    /// <remarks>
    /// libbpf computes the window from the bit offset accumulated from the ROOT type of the access (the struct the
    /// program holds a pointer to) through every member on the way, not from the innermost struct: a u64 bitfield in a
    /// struct placed at an offset that is not a multiple of 8 (32-bit targets align u64 to 4) gets a window aligned in
    /// the root, which can start before that struct or not fit at all. Pass the root-relative offset.
    /// </remarks>
    internal static class BitfieldWindows
    {
        /// <summary>
        /// A bitfield's window: <c>byte_sz</c> starts as the member type's size (<paramref name="memberTypeSize"/>, libbpf's
        /// <c>mt-&gt;size</c>), <c>byte_off = bit_off / 8 / byte_sz * byte_sz</c>; while the field's end is past the window,
        /// the size doubles (libbpf fails, "can't be satisfied for bitfield", when it would grow past 8 bytes: then
        /// <see cref="BitfieldWindow.Fits"/> is false and the window is the last one tried, shifts 0). A member type larger than 8 bytes (<c>__int128</c>) whose
        /// field fits its naturally aligned unit keeps that size, as in libbpf, which no 1/2/4/8-byte load can serve
        /// (<see cref="BitfieldWindow.IsLoadable"/> is false). Shifts are for a u64 load in the target's byte order.
        /// </summary>
        /// <param name="rootBitOffset">The field's bit offset from the start of the root type.</param>
        /// <param name="bitSize">The bitfield's width.</param>
        /// <param name="memberTypeSize">Size of the member's type after typedefs and qualifiers (0: no window).</param>
        /// <param name="bigEndian">The target's byte order.</param>
        public static BitfieldWindow Bitfield(ulong rootBitOffset, uint bitSize, uint memberTypeSize, bool bigEndian)
        {
            var w = new BitfieldWindow();
            if (memberTypeSize == 0) { w.ByteOffset = (uint)(rootBitOffset / 8); return w; } // libbpf would divide by zero; no int or enum has size 0
            ulong byteSz = memberTypeSize;
            ulong byteOff = rootBitOffset / 8 / byteSz * byteSz;
            while (rootBitOffset + bitSize - byteOff * 8 > byteSz * 8)
            {
                if (byteSz >= 8)
                {
                    // libbpf fails here; the window it last tried is kept for reports.
                    w.ByteOffset = (uint)byteOff;
                    w.ByteSize = (uint)byteSz;
                    return w;
                }
                byteSz *= 2;
                byteOff = rootBitOffset / 8 / byteSz * byteSz;
            }
            w.Fits = true;
            w.ByteOffset = (uint)byteOff;
            w.ByteSize = (uint)byteSz;
            // libbpf's u32 arithmetic, kept as signed ints (only meaningful when the window is loadable).
            w.LeftShift = bigEndian
                ? (int)((8 - (long)byteSz) * 8 + (long)(rootBitOffset - byteOff * 8))
                : (int)(64 - (long)(rootBitOffset + bitSize - byteOff * 8));
            w.RightShift = (int)(64 - bitSize);
            return w;
        }

        /// <summary>
        /// A plain (non-bitfield) field: libbpf's <c>byte_off = bit_off / 8</c>, <c>byte_sz</c> = the type's size and
        /// <c>bit_sz = 8 * byte_sz</c> put through the same shift formulas (shifts 0 when the size is not 1..8).
        /// </summary>
        public static BitfieldWindow Plain(uint byteOffset, uint byteSize, bool bigEndian)
        {
            var w = new BitfieldWindow { ByteOffset = byteOffset, ByteSize = byteSize, Fits = true };
            if (byteSize > 0 && byteSize <= 8)
            {
                w.LeftShift = bigEndian ? (int)((8 - byteSize) * 8) : (int)(64 - byteSize * 8);
                w.RightShift = (int)(64 - byteSize * 8);
            }
            return w;
        }
    }
}
