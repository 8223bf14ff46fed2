#nullable enable
using System;
using System.Buffers.Binary;

namespace BtfBindings.Compression;

/// <summary>
/// CRC-32 as used by xz, gzip and zlib (IEEE 802.3 polynomial, reflected form 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF). Table-driven, eight bytes per step.
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;

    // Eight 256-entry tables: table k gives the CRC contribution of a byte followed by k zero bytes.
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[i] = c;
        }

        for (int i = 0; i < 256; i++)
        {
            uint c = table[i];
            for (int k = 1; k < 8; k++)
            {
                c = (c >> 8) ^ table[c & 0xFF];
                table[(k * 256) + i] = c;
            }
        }

        return table;
    }

    /// <summary>Computes the CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC-32 computation: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        uint c = ~crc;
        while (data.Length >= 8)
        {
            uint lo = c ^ BinaryPrimitives.ReadUInt32LittleEndian(data);
            uint hi = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(4));
            c = t[(7 * 256) + (lo & 0xFF)]
                ^ t[(6 * 256) + ((lo >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((lo >> 16) & 0xFF)]
                ^ t[(4 * 256) + (lo >> 24)]
                ^ t[(3 * 256) + (hi & 0xFF)]
                ^ t[(2 * 256) + ((hi >> 8) & 0xFF)]
                ^ t[256 + ((hi >> 16) & 0xFF)]
                ^ t[hi >> 24];
            data = data.Slice(8);
        }

        for (int i = 0; i < data.Length; i++)
        {
            c = (c >> 8) ^ t[(c ^ data[i]) & 0xFF];
        }

        return ~c;
    }
}
