#nullable enable
using System;
using System.Buffers.Binary;

namespace BtfBindings.Compression;

/// <summary>
/// CRC-64 as used by xz (ECMA-182 polynomial, reflected form 0xC96C5795D7870F42,
/// initial value and final XOR all ones). Table-driven, eight bytes per step.
/// </summary>
internal static class Crc64
{
    private const ulong Polynomial = 0xC96C5795D7870F42ul;

    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        var table = new ulong[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            ulong c = i;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[i] = c;
        }

        for (int i = 0; i < 256; i++)
        {
            ulong c = table[i];
            for (int k = 1; k < 8; k++)
            {
                c = (c >> 8) ^ table[(int)(c & 0xFF)];
                table[(k * 256) + i] = c;
            }
        }

        return table;
    }

    /// <summary>Computes the CRC-64 of <paramref name="data"/>.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC-64 computation: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    public static ulong Append(ulong crc, ReadOnlySpan<byte> data)
    {
        ulong[] t = Table;
        ulong c = ~crc;
        while (data.Length >= 8)
        {
            c ^= BinaryPrimitives.ReadUInt64LittleEndian(data);
            c = t[(7 * 256) + (int)(c & 0xFF)]
                ^ t[(6 * 256) + (int)((c >> 8) & 0xFF)]
                ^ t[(5 * 256) + (int)((c >> 16) & 0xFF)]
                ^ t[(4 * 256) + (int)((c >> 24) & 0xFF)]
                ^ t[(3 * 256) + (int)((c >> 32) & 0xFF)]
                ^ t[(2 * 256) + (int)((c >> 40) & 0xFF)]
                ^ t[256 + (int)((c >> 48) & 0xFF)]
                ^ t[(int)(c >> 56)];
            data = data.Slice(8);
        }

        for (int i = 0; i < data.Length; i++)
        {
            c = (c >> 8) ^ t[(int)((c ^ data[i]) & 0xFF)];
        }

        return ~c;
    }
}
