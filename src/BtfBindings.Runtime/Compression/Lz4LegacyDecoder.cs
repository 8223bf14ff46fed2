using System;
using System.Buffers.Binary;

namespace BtfBindings.Compression
{
    /// <summary>
    /// Managed decoder for the LZ4 "legacy" frame format (magic <c>02 21 4C 18</c>), the format <c>lz4 -l</c>
    /// writes and Linux uses for LZ4-compressed kernel images (<c>CONFIG_KERNEL_LZ4</c>, e.g. Debian's 6.1
    /// x86-64 kernels): a magic number, then blocks of <c>u32 compressed size</c> + an LZ4 block that
    /// decompresses to at most 8 MiB. Blocks are independent. Decoding stops cleanly at the end of the input,
    /// at a size field that cannot be a block (the 4-byte uncompressed size the kernel build appends, or
    /// trailing data), and continues across a repeated magic (concatenated frames).
    /// </summary>
    internal static class Lz4LegacyDecoder
    {
        /// <summary>The frame magic, little-endian <c>0x184C2102</c>.</summary>
        public const uint Magic = 0x184C2102;

        private const int MaxBlockOutput = 8 << 20;

        /// <summary>True if <paramref name="data"/> starts with the legacy frame magic.</summary>
        public static bool IsLz4Legacy(ReadOnlySpan<byte> data) => data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == Magic;

        /// <summary>
        /// Decompresses a legacy LZ4 frame. <paramref name="consumed"/> is the number of input bytes used (trailing
        /// bytes after the last block are not consumed).
        /// </summary>
        /// <param name="data">Input starting with the magic.</param>
        /// <param name="maxOutput">Cap on the decompressed size.</param>
        /// <param name="consumed">Input bytes consumed.</param>
        /// <param name="progress">Called after each block with (input position, input length).</param>
        /// <param name="sourceName">Names the input in errors.</param>
        /// <exception cref="BtfException">The magic is missing, the first block is corrupt, or the output exceeds the cap
        /// (with the offset in <paramref name="data"/> of the block at fault).</exception>
        public static byte[] Decompress(ReadOnlySpan<byte> data, long maxOutput, out int consumed, Action<long, long>? progress = null, string? sourceName = null)
        {
            if (!IsLz4Legacy(data)) throw new BtfException("lz4: missing legacy frame magic 02 21 4c 18", sourceName, 0);
            int pos = 4;
            var output = new byte[Math.Min(Math.Max(data.Length * 3L, 1 << 16), Math.Min(maxOutput, 0x7FFFFFC7))];
            int outLen = 0;
            int blocks = 0;
            while (data.Length - pos >= 4)
            {
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pos));
                if (size == Magic) { pos += 4; continue; }
                if (size == 0 || size > (uint)(data.Length - pos - 4) || size > MaxBlockOutput + MaxBlockOutput / 255 + 16) break;
                var block = data.Slice(pos + 4, (int)size);
                EnsureCapacity(ref output, outLen + MaxBlockOutput, maxOutput, outLen, sourceName, pos);
                int n;
                try { n = DecodeBlock(block, output, outLen, MaxBlockOutput); }
                catch (BtfException) when (blocks > 0) { break; } // trailing data that happened to look like a size
                catch (BtfException e) { throw new BtfException(e.Message, sourceName, pos, inner: e); }
                outLen += n;
                if (outLen > maxOutput) throw new BtfException($"lz4: output exceeds {maxOutput} bytes", sourceName, pos);
                pos += 4 + (int)size;
                blocks++;
                progress?.Invoke(pos, data.Length);
            }
            if (blocks == 0) throw new BtfException("lz4: no valid block after the legacy frame magic", sourceName, 4);
            consumed = pos;
            var result = new byte[outLen];
            Buffer.BlockCopy(output, 0, result, 0, outLen);
            return result;
        }

        private static void EnsureCapacity(ref byte[] buf, long needed, long max, int used, string? sourceName, int pos)
        {
            if (buf.Length >= needed) return;
            const long MaxArray = 0x7FFFFFC7L;
            if (needed > MaxArray) throw new BtfException("lz4: output too large", sourceName, pos);
            long cap = Math.Min(Math.Max(needed, (long)buf.Length * 2), MaxArray);
            var n = new byte[cap];
            Buffer.BlockCopy(buf, 0, n, 0, used);
            buf = n;
        }

        /// <summary>Decodes one raw LZ4 block into <paramref name="dst"/> at <paramref name="dstStart"/>; matches may only reach back within the block.</summary>
        /// <returns>The number of bytes written.</returns>
        /// <exception cref="BtfException">The block is corrupt (the message only: the caller knows where the block is).</exception>
        public static int DecodeBlock(ReadOnlySpan<byte> src, byte[] dst, int dstStart, int maxOut)
        {
            int ip = 0, op = dstStart;
            int limit = (int)Math.Min((long)dstStart + maxOut, dst.Length);
            while (true)
            {
                if (ip >= src.Length) throw new BtfException("lz4: block ends inside a sequence");
                int token = src[ip++];
                int lit = token >> 4;
                if (lit == 15)
                {
                    int b;
                    do
                    {
                        if (ip >= src.Length) throw new BtfException("lz4: truncated literal length");
                        b = src[ip++];
                        lit += b;
                        if (lit > maxOut) throw new BtfException("lz4: literal run too long");
                    } while (b == 255);
                }
                if (lit > src.Length - ip) throw new BtfException("lz4: literals run past the block");
                if (lit > limit - op) throw new BtfException("lz4: block output too large");
                src.Slice(ip, lit).CopyTo(dst.AsSpan(op));
                ip += lit; op += lit;
                if (ip == src.Length) return op - dstStart; // the last sequence has literals only
                if (src.Length - ip < 2) throw new BtfException("lz4: truncated match offset");
                int offset = src[ip] | (src[ip + 1] << 8);
                ip += 2;
                if (offset == 0 || offset > op - dstStart) throw new BtfException("lz4: match offset out of range");
                int len = token & 15;
                if (len == 15)
                {
                    int b;
                    do
                    {
                        if (ip >= src.Length) throw new BtfException("lz4: truncated match length");
                        b = src[ip++];
                        len += b;
                        if (len > maxOut) throw new BtfException("lz4: match too long");
                    } while (b == 255);
                }
                len += 4;
                if (len > limit - op) throw new BtfException("lz4: block output too large");
                int from = op - offset;
                if (offset >= len) { Buffer.BlockCopy(dst, from, dst, op, len); op += len; }
                else for (int i = 0; i < len; i++) dst[op++] = dst[from + i];
            }
        }
    }
}
