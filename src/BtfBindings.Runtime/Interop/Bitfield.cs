using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace BtfBindings
{
    /// <summary>
    /// Bitfield access over raw struct bytes, as the target lays bits out: little-endian targets count bit
    /// offsets from the least significant bit of the first byte, big-endian ones (s390x) from the most
    /// significant. Touches only the bytes that hold the field, so it never reads past the struct.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static class Bitfield
    {
        /// <summary>Reads an unsigned field of <paramref name="bits"/> bits at <paramref name="bitOffset"/> from <paramref name="start"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong ReadUnsigned(ref byte start, uint bitOffset, int bits, bool bigEndian)
        {
            UInt128 raw = Load(ref Unsafe.Add(ref start, (nint)(bitOffset >> 3)), bitOffset & 7, bits, bigEndian, out int shift);
            ulong v = (ulong)(raw >> shift);
            return bits == 64 ? v : v & ((1UL << bits) - 1);
        }

        /// <summary>Reads a signed (sign-extended) field.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static long ReadSigned(ref byte start, uint bitOffset, int bits, bool bigEndian)
        {
            ulong v = ReadUnsigned(ref start, bitOffset, bits, bigEndian);
            int up = 64 - bits;
            return (long)(v << up) >> up;
        }

        /// <summary>Writes the low <paramref name="bits"/> bits of <paramref name="value"/>, leaving every other bit unchanged.</summary>
        public static void Write(ref byte start, uint bitOffset, int bits, bool bigEndian, ulong value)
        {
            ref byte first = ref Unsafe.Add(ref start, (nint)(bitOffset >> 3));
            int inByte = (int)(bitOffset & 7);
            int n = (inByte + bits + 7) >> 3;
            UInt128 raw = Load(ref first, (uint)inByte, bits, bigEndian, out int shift);
            UInt128 mask = (bits == 64 ? (UInt128)ulong.MaxValue : (UInt128)((1UL << bits) - 1)) << shift;
            UInt128 v = (raw & ~mask) | (((UInt128)value << shift) & mask);
            for (int i = 0; i < n; i++)
            {
                int byteShift = bigEndian ? 8 * (n - 1 - i) : 8 * i;
                Unsafe.Add(ref first, i) = (byte)(v >> byteShift);
            }
        }

        /// <summary>Reads an unsigned field wider than 64 bits (up to 128: <c>__int128</c> bitfields such as s390x's <c>tod_clock.eitod</c>).</summary>
        public static UInt128 ReadUnsigned128(ref byte start, uint bitOffset, int bits, bool bigEndian)
        {
            if (bits <= 0 || bits > 128) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bitfield width must be 1..128");
            UInt128 v = 0;
            // Bit by bit: such fields are rare, and this never touches a byte outside the field.
            for (int i = 0; i < bits; i++)
                if (GetBit(ref start, bitOffset + (uint)i, bigEndian)) v |= Bit(bits, i, bigEndian);
            return v;
        }

        /// <summary>Reads a signed (sign-extended) field wider than 64 bits.</summary>
        public static Int128 ReadSigned128(ref byte start, uint bitOffset, int bits, bool bigEndian)
        {
            UInt128 v = ReadUnsigned128(ref start, bitOffset, bits, bigEndian);
            int up = 128 - bits;
            return (Int128)(v << up) >> up;
        }

        /// <summary>Writes a field wider than 64 bits, leaving every other bit unchanged.</summary>
        public static void Write128(ref byte start, uint bitOffset, int bits, bool bigEndian, UInt128 value)
        {
            if (bits <= 0 || bits > 128) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bitfield width must be 1..128");
            for (int i = 0; i < bits; i++)
            {
                uint b = bitOffset + (uint)i;
                ref byte target = ref Unsafe.Add(ref start, (nint)(b >> 3));
                int pos = bigEndian ? 7 - (int)(b & 7) : (int)(b & 7);
                bool set = (value & Bit(bits, i, bigEndian)) != 0;
                target = set ? (byte)(target | (1 << pos)) : (byte)(target & ~(1 << pos));
            }
        }

        // Field bit i (counting in memory order) is value bit i on little-endian targets and bit (bits-1-i) on
        // big-endian ones, where the first bit in memory is the most significant.
        private static UInt128 Bit(int bits, int i, bool bigEndian) => (UInt128)1 << (bigEndian ? bits - 1 - i : i);

        private static bool GetBit(ref byte start, uint b, bool bigEndian)
        {
            byte by = Unsafe.Add(ref start, (nint)(b >> 3));
            int pos = bigEndian ? 7 - (int)(b & 7) : (int)(b & 7);
            return ((by >> pos) & 1) != 0;
        }

        // Loads the n (<= 9) bytes holding the field as one integer in the target's byte order, and the shift
        // that brings the field down to bit 0.
        private static UInt128 Load(ref byte first, uint inByte, int bits, bool bigEndian, out int shift)
        {
            if (bits <= 0 || bits > 64) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bitfield width must be 1..64");
            int n = ((int)inByte + bits + 7) >> 3;
            UInt128 raw = 0;
            if (bigEndian)
            {
                for (int i = 0; i < n; i++) raw = (raw << 8) | Unsafe.Add(ref first, i);
                shift = n * 8 - (int)inByte - bits;
            }
            else
            {
                for (int i = n - 1; i >= 0; i--) raw = (raw << 8) | Unsafe.Add(ref first, i);
                shift = (int)inByte;
            }
            return raw;
        }
    }
}
