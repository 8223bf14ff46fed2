using System;
using System.Collections.Generic;
using System.IO;

namespace BtfFuzz
{
    /// <summary>
    /// Wraps raw LZMA2 data in a valid .xz container (stream header, block header with a filter chain, all CRCs
    /// right, check type none), so mutations reach the LZMA2/LZMA/range decoders and the branch filters instead of
    /// stopping at a CRC. The index and footer are left out: the block is decoded before the index is read.
    /// </summary>
    public static class XzWrap
    {
        // Filter chains chosen by the selector byte: LZMA2 alone, delta, or a BCJ filter before it.
        private static readonly ulong[] Filters = { 0, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A };

        /// <summary>
        /// <paramref name="input"/>[0]: filter (low nibble mod 9) and, for delta, distance - 1 (high nibble); [1]: the
        /// LZMA2 dictionary-size byte (mod 41); the rest: the raw LZMA2 chunks.
        /// </summary>
        public static byte[] Wrap(byte[] input)
        {
            byte sel = input.Length > 0 ? input[0] : (byte)0;
            byte dict = (byte)((input.Length > 1 ? input[1] : 0) % 41);
            var payload = input.AsSpan(Math.Min(input.Length, 2));
            ulong filter = Filters[(sel & 0x0f) % Filters.Length];

            var o = new MemoryStream();
            // Stream header: magic, flags 00 00 (check none), CRC32 of the flags.
            o.Write(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x00 });
            WriteU32(o, Crc32(new byte[] { 0, 0 }));
            // Block header: size, flags (filter count - 1), filters, padding, CRC32.
            var h = new List<byte> { 0, (byte)(filter == 0 ? 0 : 1) };
            if (filter == 0x03) { h.Add(0x03); h.Add(1); h.Add((byte)(sel >> 4)); }
            else if (filter != 0) { h.Add((byte)filter); h.Add(0); }
            h.Add(0x21); h.Add(1); h.Add(dict);
            while ((h.Count + 4) % 4 != 0) h.Add(0);
            h[0] = (byte)((h.Count + 4) / 4 - 1);
            var hb = h.ToArray();
            o.Write(hb);
            WriteU32(o, Crc32(hb));
            o.Write(payload);
            return o.ToArray();
        }

        private static void WriteU32(Stream s, uint v) { s.WriteByte((byte)v); s.WriteByte((byte)(v >> 8)); s.WriteByte((byte)(v >> 16)); s.WriteByte((byte)(v >> 24)); }

        private static readonly uint[] Table = MakeTable();

        private static uint[] MakeTable()
        {
            var t = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[i] = c;
            }
            return t;
        }

        private static uint Crc32(ReadOnlySpan<byte> data)
        {
            uint c = 0xFFFFFFFFu;
            foreach (var b in data) c = Table[(c ^ b) & 0xff] ^ (c >> 8);
            return ~c;
        }
    }
}
