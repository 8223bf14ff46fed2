#nullable enable
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;

namespace BtfBindings.Compression;

/// <summary>
/// Strict, fully managed decoder for the .xz container format (xz-file-format 1.x) with the LZMA2
/// filter, optionally preceded by the delta filter or a BCJ filter (x86, PowerPC, IA-64, ARM,
/// ARM-Thumb, SPARC, ARM64).
/// </summary>
/// <remarks>
/// <para>
/// Everything in the file is validated: stream header and footer (magic, flags, CRC32, backward size),
/// every block header (CRC32, reserved bits, filter chain, declared sizes), block padding, the
/// integrity check of every block (none, CRC32, CRC64 or SHA-256), the index (record count, every
/// record against the block actually decoded, padding, CRC32), concatenated streams and stream
/// padding. Any problem, including truncated input, raises <see cref="BtfException"/> whose
/// message names the problem, its byte offset in the input and, when given, the source name, e.g.
/// <c>xz: block 2: CRC64 mismatch (...) at offset 123456 in foo.btf.tar.xz</c>.
/// </para>
/// <para>
/// The whole input and output are held in memory. Output is capped by <c>maxOutputBytes</c>, so a
/// decompression bomb fails with <see cref="BtfException"/> instead of exhausting memory;
/// when the index declares more than the cap, decoding fails before any data is decompressed.
/// </para>
/// <para>
/// Not supported (rejected with a message naming the feature): the RISC-V BCJ filter (0x0B, xz 5.6+),
/// custom/unknown filters, integrity check types other than the four defined ones, the legacy
/// <c>.lzma</c> format and raw LZMA/LZMA2 streams without the xz container.
/// </para>
/// <para>Thread safety: all members are static and may be called concurrently.</para>
/// </remarks>
internal static class XzDecoder
{
    /// <summary>Default output cap used by the <c>Decompress</c> overloads: 1 GiB.</summary>
    public const long DefaultMaxOutputBytes = 1L << 30;

    /// <summary>The largest output that can be produced at all (the maximum length of a byte array).</summary>
    public const long MaxSupportedOutputBytes = 0x7FFFFFC7;

    private const int StreamHeaderSize = 12;
    private const int StreamFooterSize = 12;
    private const ulong FilterLzma2 = 0x21;
    private const int CheckNone = 0, CheckCrc32 = 1, CheckCrc64 = 4, CheckSha256 = 10;

    private static ReadOnlySpan<byte> HeaderMagic => new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00 };

    /// <summary>Returns true when <paramref name="data"/> starts with the xz stream header magic bytes (FD 37 7A 58 5A 00).</summary>
    public static bool IsXz(ReadOnlySpan<byte> data) => data.Length >= 6 && data.Slice(0, 6).SequenceEqual(HeaderMagic);

    /// <summary>Decompresses a complete .xz file held in memory.</summary>
    /// <param name="xz">The whole .xz file (one or more concatenated streams, optionally with stream padding).</param>
    /// <param name="sourceName">Name used in error messages (typically the file name), or null.</param>
    /// <param name="maxOutputBytes">Maximum number of decompressed bytes; more fails with <see cref="BtfException"/>.
    /// Values above <see cref="MaxSupportedOutputBytes"/> are clamped to it.</param>
    /// <returns>The decompressed bytes.</returns>
    /// <exception cref="BtfException">The input is not a valid .xz file, is truncated or corrupt, uses an
    /// unsupported feature, or decompresses to more than <paramref name="maxOutputBytes"/> bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxOutputBytes"/> is negative.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> xz, string? sourceName = null, long maxOutputBytes = DefaultMaxOutputBytes)
    {
        if (maxOutputBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxOutputBytes), "The output limit must not be negative.");
        }

        var errors = new DecodeErrors("xz", sourceName);
        try
        {
            return new XzReader(xz, errors, Math.Min(maxOutputBytes, MaxSupportedOutputBytes)).Run(singleStream: false, out _);
        }
        catch (Exception e) when (e is IndexOutOfRangeException || e is ArgumentOutOfRangeException || e is OverflowException)
        {
            // Defensive: every input should be rejected by an explicit check before this can happen.
            throw new BtfException("xz: internal decoder error on malformed input", sourceName, inner: e);
        }
    }

    /// <summary>
    /// Decompresses the one xz stream that starts at the beginning of <paramref name="data"/> and ignores
    /// whatever follows it. Meant for xz streams embedded in other files, such as the payload of a
    /// compressed Linux kernel image (which is followed by its 4-byte uncompressed size) once its start
    /// has been located via the magic bytes. The stream itself is validated exactly as by
    /// <see cref="Decompress(ReadOnlySpan{byte}, string, long)"/>.
    /// </summary>
    /// <param name="data">Bytes starting with an xz stream header.</param>
    /// <param name="bytesConsumed">Receives the length of the stream (header through footer, without stream padding).</param>
    /// <param name="sourceName">Name used in error messages, or null.</param>
    /// <param name="maxOutputBytes">Maximum number of decompressed bytes.</param>
    /// <exception cref="BtfException">The stream is corrupt, truncated, unsupported or too large.</exception>
    public static byte[] DecompressSingleStream(ReadOnlySpan<byte> data, out int bytesConsumed, string? sourceName = null, long maxOutputBytes = DefaultMaxOutputBytes)
    {
        if (maxOutputBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxOutputBytes), "The output limit must not be negative.");
        }

        var errors = new DecodeErrors("xz", sourceName);
        try
        {
            return new XzReader(data, errors, Math.Min(maxOutputBytes, MaxSupportedOutputBytes)).Run(singleStream: true, out bytesConsumed);
        }
        catch (Exception e) when (e is IndexOutOfRangeException || e is ArgumentOutOfRangeException || e is OverflowException)
        {
            throw new BtfException("xz: internal decoder error on malformed input", sourceName, inner: e);
        }
    }

    /// <summary>Reads <paramref name="input"/> to its end and decompresses it (see <see cref="Decompress(ReadOnlySpan{byte}, string, long)"/>).</summary>
    /// <param name="input">Stream positioned at the start of the .xz data; it is read to the end and not closed.</param>
    /// <param name="sourceName">Name used in error messages, or null.</param>
    /// <param name="maxOutputBytes">Maximum number of decompressed bytes.</param>
    /// <exception cref="BtfException">See <see cref="Decompress(ReadOnlySpan{byte}, string, long)"/>.</exception>
    public static byte[] Decompress(Stream input, string? sourceName = null, long maxOutputBytes = DefaultMaxOutputBytes)
    {
        if (input is null)
        {
            throw new ArgumentNullException(nameof(input));
        }

        if (input is MemoryStream ms && ms.TryGetBuffer(out ArraySegment<byte> segment))
        {
            int start = (int)Math.Min(ms.Position, ms.Length);
            int offset = segment.Offset + start;
            int count = (int)ms.Length - start;
            ms.Position = ms.Length;
            return Decompress(new ReadOnlySpan<byte>(segment.Array, offset, count), sourceName, maxOutputBytes);
        }

        var copy = new MemoryStream();
        input.CopyTo(copy);
        return Decompress(new ReadOnlySpan<byte>(copy.GetBuffer(), 0, (int)copy.Length), sourceName, maxOutputBytes);
    }

    /// <summary>Reads and decompresses the .xz file at <paramref name="path"/>; error messages name the path.</summary>
    /// <exception cref="BtfException">See <see cref="Decompress(ReadOnlySpan{byte}, string, long)"/>.</exception>
    public static byte[] DecompressFile(string path, long maxOutputBytes = DefaultMaxOutputBytes)
    {
        if (path is null)
        {
            throw new ArgumentNullException(nameof(path));
        }

        return Decompress(File.ReadAllBytes(path), path, maxOutputBytes);
    }

    private struct BlockRecord
    {
        public long UnpaddedSize;
        public long UncompressedSize;
        public int HeaderOffset;
    }

    private struct Filter
    {
        public ulong Id;
        public uint Parameter;
    }

    private ref struct XzReader
    {
        private readonly ReadOnlySpan<byte> _in;
        private readonly DecodeErrors _errors;
        private readonly long _maxOutput;
        private OutputBuffer? _output;
        private Lzma2Decoder? _lzma2;
        private int _blockNumber;
        private string _streamPrefix;

        public XzReader(ReadOnlySpan<byte> input, DecodeErrors errors, long maxOutput)
        {
            _in = input;
            _errors = errors;
            _maxOutput = maxOutput;
            _output = null;
            _lzma2 = null;
            _blockNumber = 0;
            _streamPrefix = string.Empty;
        }

        public byte[] Run(bool singleStream, out int consumed)
        {
            consumed = 0;
            if (_in.Length == 0)
            {
                throw _errors.At("input is empty", 0);
            }

            if (!IsXz(_in))
            {
                throw _errors.At("not an xz file (bad magic bytes)", 0);
            }

            // With trailing foreign data (single-stream mode) the backward walk simply finds nothing.
            long declared = DeclaredUncompressedSize(_in, out int lastIndexOffset);
            if (declared > _maxOutput)
            {
                throw _errors.At("the index declares " + declared + " uncompressed bytes, more than the output limit of " + _maxOutput + " bytes", lastIndexOffset);
            }

            // Trust the declared size for the initial allocation only up to a plausible compression
            // ratio, so a small file with a lying index cannot force a huge allocation up front.
            long plausible = Math.Max(64L << 20, (long)_in.Length * 64);
            long initialCapacity = declared >= 0 ? Math.Min(declared, plausible) : Math.Max(1L << 16, (long)_in.Length * 4);
            _output = new OutputBuffer(initialCapacity, _maxOutput);

            int pos = 0;
            int streamNumber = 0;
            while (true)
            {
                streamNumber++;
                _streamPrefix = streamNumber > 1 ? "stream " + streamNumber + " " : string.Empty;
                pos = DecodeStream(pos);
                _errors.Context = null;
                if (singleStream)
                {
                    consumed = pos;
                    break;
                }

                int paddingStart = pos;
                while (pos < _in.Length && _in[pos] == 0)
                {
                    pos++;
                }

                if (((pos - paddingStart) & 3) != 0)
                {
                    throw _errors.At("stream padding of " + (pos - paddingStart) + " bytes is not a multiple of four", paddingStart);
                }

                if (pos == _in.Length)
                {
                    consumed = pos;
                    break;
                }

                if (!IsXz(_in.Slice(pos)))
                {
                    throw _errors.At("unexpected data after the end of stream " + streamNumber + " (expected stream padding or another xz stream)", pos);
                }
            }

            return _output.ToArray();
        }

        private int DecodeStream(int pos)
        {
            _errors.Context = _streamPrefix.Length > 0 ? _streamPrefix + "header" : "stream header";
            Require(pos, StreamHeaderSize, "stream header");
            ReadOnlySpan<byte> flags = _in.Slice(pos + 6, 2);
            if (Crc32.Compute(flags) != BinaryPrimitives.ReadUInt32LittleEndian(_in.Slice(pos + 8)))
            {
                throw _errors.At("CRC32 mismatch", pos + 8);
            }

            if (flags[0] != 0 || (flags[1] & 0xF0) != 0)
            {
                throw _errors.At("unsupported stream flags 0x" + flags[0].ToString("X2") + flags[1].ToString("X2") + " (written by a newer xz version?)", pos + 6);
            }

            int checkType = flags[1] & 0x0F;
            int checkSize;
            switch (checkType)
            {
                case CheckNone: checkSize = 0; break;
                case CheckCrc32: checkSize = 4; break;
                case CheckCrc64: checkSize = 8; break;
                case CheckSha256: checkSize = 32; break;
                default:
                    throw _errors.At("unsupported integrity check type " + checkType + " (supported: none, CRC32, CRC64, SHA-256)", pos + 7);
            }

            pos += StreamHeaderSize;

            var blocks = new List<BlockRecord>();
            _blockNumber = 0;
            while (true)
            {
                _errors.Context = _streamPrefix.Length > 0 ? _streamPrefix.TrimEnd() : null;
                Require(pos, 1, "block header or index");
                if (_in[pos] == 0)
                {
                    break;
                }

                _blockNumber++;
                _errors.Context = _streamPrefix + "block " + _blockNumber;
                pos = DecodeBlock(pos, checkType, checkSize, blocks);
            }

            int indexStart = pos;
            int indexSize = DecodeIndex(pos, blocks);
            pos += indexSize;

            _errors.Context = _streamPrefix.Length > 0 ? _streamPrefix + "footer" : "stream footer";
            Require(pos, StreamFooterSize, "stream footer");
            ReadOnlySpan<byte> footer = _in.Slice(pos, StreamFooterSize);
            if (footer[10] != (byte)'Y' || footer[11] != (byte)'Z')
            {
                throw _errors.At("bad magic bytes", pos + 10);
            }

            if (Crc32.Compute(footer.Slice(4, 6)) != BinaryPrimitives.ReadUInt32LittleEndian(footer))
            {
                throw _errors.At("CRC32 mismatch", pos);
            }

            if (footer[8] != flags[0] || footer[9] != flags[1])
            {
                throw _errors.At("stream flags differ from the stream header's", pos + 8);
            }

            long backwardSize = ((long)BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(4)) + 1) * 4;
            if (backwardSize != indexSize)
            {
                throw _errors.At("backward size " + backwardSize + " does not match the index size " + indexSize + " (index at offset " + indexStart + ")", pos + 4);
            }

            return pos + StreamFooterSize;
        }

        private int DecodeBlock(int blockStart, int checkType, int checkSize, List<BlockRecord> blocks)
        {
            int headerSize = (_in[blockStart] + 1) * 4;
            Require(blockStart, headerSize, "block header");
            ReadOnlySpan<byte> header = _in.Slice(blockStart, headerSize);
            int headerEnd = headerSize - 4;
            uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(headerEnd));
            if (Crc32.Compute(header.Slice(0, headerEnd)) != storedCrc)
            {
                throw _errors.At("block header CRC32 mismatch", blockStart + headerEnd);
            }

            byte blockFlags = header[1];
            if ((blockFlags & 0x3C) != 0)
            {
                throw _errors.At("unsupported block flags 0x" + blockFlags.ToString("X2") + " (reserved bits set)", blockStart + 1);
            }

            int hp = blockStart + 2;
            int hend = blockStart + headerEnd;
            long declaredCompressed = -1;
            long declaredUncompressed = -1;
            if ((blockFlags & 0x40) != 0)
            {
                int at = hp;
                declaredCompressed = (long)ReadVli(ref hp, hend, "block compressed size");
                if (declaredCompressed == 0)
                {
                    throw _errors.At("block header declares a compressed size of zero", at);
                }
            }

            if ((blockFlags & 0x80) != 0)
            {
                declaredUncompressed = (long)ReadVli(ref hp, hend, "block uncompressed size");
            }

            int filterCount = (blockFlags & 3) + 1;
            var filters = new Filter[filterCount];
            uint dictSize = 0;
            for (int i = 0; i < filterCount; i++)
            {
                int filterOffset = hp;
                ulong id = ReadVli(ref hp, hend, "filter ID");
                ulong propsSize = ReadVli(ref hp, hend, "filter properties size");
                if (propsSize > (ulong)(hend - hp))
                {
                    throw _errors.At("filter properties extend past the end of the block header", hp);
                }

                ReadOnlySpan<byte> props = _in.Slice(hp, (int)propsSize);
                hp += (int)propsSize;
                filters[i].Id = id;
                bool last = i == filterCount - 1;
                if (id == FilterLzma2)
                {
                    if (!last)
                    {
                        throw _errors.At("LZMA2 must be the last filter in the chain", filterOffset);
                    }

                    if (props.Length != 1)
                    {
                        throw _errors.At("LZMA2 filter properties must be 1 byte, not " + props.Length, filterOffset);
                    }

                    if (!Lzma2Decoder.TryParseDictionarySize(props[0], out dictSize))
                    {
                        throw _errors.At("invalid LZMA2 dictionary size byte 0x" + props[0].ToString("X2"), hp - 1);
                    }
                }
                else if (last)
                {
                    throw _errors.At("the last filter is " + BranchFilters.Name(id) + ", but only LZMA2 can end a filter chain", filterOffset);
                }
                else if (id == BranchFilters.Delta)
                {
                    if (props.Length != 1)
                    {
                        throw _errors.At("delta filter properties must be 1 byte, not " + props.Length, filterOffset);
                    }

                    filters[i].Parameter = (uint)props[0] + 1;
                }
                else if (id >= BranchFilters.X86 && id <= BranchFilters.Arm64)
                {
                    if (props.Length == 4)
                    {
                        filters[i].Parameter = BinaryPrimitives.ReadUInt32LittleEndian(props);
                    }
                    else if (props.Length != 0)
                    {
                        throw _errors.At(BranchFilters.Name(id) + " filter properties must be 0 or 4 bytes, not " + props.Length, filterOffset);
                    }
                }
                else
                {
                    throw _errors.At("unsupported filter " + BranchFilters.Name(id) + " (supported: LZMA2, delta, x86, PowerPC, IA-64, ARM, ARM-Thumb, SPARC and ARM64 BCJ)", filterOffset);
                }
            }

            for (; hp < hend; hp++)
            {
                if (_in[hp] != 0)
                {
                    throw _errors.At("non-zero block header padding", hp);
                }
            }

            int dataStart = blockStart + headerSize;
            int limit = _in.Length;
            if (declaredCompressed >= 0)
            {
                if (declaredCompressed > _in.Length - dataStart)
                {
                    throw _errors.At("unexpected end of input: the block header declares " + declaredCompressed + " compressed bytes but only " + (_in.Length - dataStart) + " remain", dataStart);
                }

                limit = dataStart + (int)declaredCompressed;
            }

            OutputBuffer output = _output!;
            int outStart = output.Length;
            _lzma2 ??= new Lzma2Decoder();
            int dataEnd = _lzma2.Decode(_in, dataStart, limit, output, dictSize, declaredUncompressed, _errors);
            long compressedSize = dataEnd - dataStart;
            if (declaredCompressed >= 0 && compressedSize != declaredCompressed)
            {
                throw _errors.At("LZMA2 data ends after " + compressedSize + " bytes but the block header declares " + declaredCompressed, dataEnd);
            }

            int uncompressedSize = output.Length - outStart;
            if (declaredUncompressed >= 0 && uncompressedSize != declaredUncompressed)
            {
                throw _errors.At("block decoded to " + uncompressedSize + " bytes but its header declares " + declaredUncompressed, dataEnd);
            }

            Span<byte> data = output.Buffer.AsSpan(outStart, uncompressedSize);
            for (int i = filterCount - 2; i >= 0; i--)
            {
                if (filters[i].Id == BranchFilters.Delta)
                {
                    BranchFilters.DecodeDelta(data, (int)filters[i].Parameter);
                }
                else
                {
                    BranchFilters.DecodeBranch(filters[i].Id, data, filters[i].Parameter);
                }
            }

            int pos = dataEnd;
            while (((pos - blockStart) & 3) != 0)
            {
                Require(pos, 1, "block padding");
                if (_in[pos] != 0)
                {
                    throw _errors.At("non-zero block padding", pos);
                }

                pos++;
            }

            Require(pos, checkSize, "block check");
            VerifyCheck(checkType, data, _in.Slice(pos, checkSize), pos);
            pos += checkSize;

            blocks.Add(new BlockRecord
            {
                UnpaddedSize = headerSize + compressedSize + checkSize,
                UncompressedSize = uncompressedSize,
                HeaderOffset = blockStart,
            });
            return pos;
        }

        private void VerifyCheck(int checkType, ReadOnlySpan<byte> data, ReadOnlySpan<byte> stored, int offset)
        {
            switch (checkType)
            {
                case CheckCrc32:
                {
                    uint expected = BinaryPrimitives.ReadUInt32LittleEndian(stored);
                    uint actual = Crc32.Compute(data);
                    if (actual != expected)
                    {
                        throw _errors.At("CRC32 mismatch (stored " + expected.ToString("X8") + ", computed " + actual.ToString("X8") + ")", offset);
                    }

                    break;
                }

                case CheckCrc64:
                {
                    ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(stored);
                    ulong actual = Crc64.Compute(data);
                    if (actual != expected)
                    {
                        throw _errors.At("CRC64 mismatch (stored " + expected.ToString("X16") + ", computed " + actual.ToString("X16") + ")", offset);
                    }

                    break;
                }

                case CheckSha256:
                {
                    byte[] actual;
                    using (SHA256 sha = SHA256.Create())
                    {
                        actual = sha.ComputeHash(_output!.Buffer, _output.Length - data.Length, data.Length);
                    }

                    if (!stored.SequenceEqual(actual))
                    {
                        throw _errors.At("SHA-256 mismatch", offset);
                    }

                    break;
                }
            }
        }

        /// <summary>Parses and validates the index at <paramref name="indexStart"/>; returns its size in bytes.</summary>
        private int DecodeIndex(int indexStart, List<BlockRecord> blocks)
        {
            _errors.Context = _streamPrefix + "index";
            int pos = indexStart + 1;
            int countOffset = pos;
            ulong count = ReadVli(ref pos, _in.Length, "number of index records");
            if (count != (ulong)blocks.Count)
            {
                throw _errors.At("index lists " + count + " blocks but the stream contains " + blocks.Count, countOffset);
            }

            for (int i = 0; i < blocks.Count; i++)
            {
                int recordOffset = pos;
                ulong unpadded = ReadVli(ref pos, _in.Length, "index record");
                ulong uncompressed = ReadVli(ref pos, _in.Length, "index record");
                BlockRecord block = blocks[i];
                if (unpadded != (ulong)block.UnpaddedSize || uncompressed != (ulong)block.UncompressedSize)
                {
                    throw _errors.At(
                        "index record " + (i + 1) + " (unpadded size " + unpadded + ", uncompressed size " + uncompressed
                        + ") does not match the block at offset " + block.HeaderOffset + " (unpadded size " + block.UnpaddedSize
                        + ", uncompressed size " + block.UncompressedSize + ")",
                        recordOffset);
                }
            }

            while (((pos - indexStart) & 3) != 0)
            {
                Require(pos, 1, "index padding");
                if (_in[pos] != 0)
                {
                    throw _errors.At("non-zero index padding", pos);
                }

                pos++;
            }

            Require(pos, 4, "index CRC32");
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(_in.Slice(pos));
            if (Crc32.Compute(_in.Slice(indexStart, pos - indexStart)) != stored)
            {
                throw _errors.At("CRC32 mismatch", pos);
            }

            return pos + 4 - indexStart;
        }

        /// <summary>Reads a variable-length integer (7 bits per byte, little-endian, at most 9 bytes, minimally encoded).</summary>
        private ulong ReadVli(ref int pos, int end, string what)
        {
            int start = pos;
            ulong value = 0;
            for (int i = 0; i < 9; i++)
            {
                if (pos >= end)
                {
                    throw end >= _in.Length
                        ? _errors.At("unexpected end of input in " + what, start)
                        : _errors.At(what + " extends past the end of the block header", start);
                }

                byte b = _in[pos++];
                value |= (ulong)(b & 0x7F) << (7 * i);
                if ((b & 0x80) == 0)
                {
                    if (b == 0 && i > 0)
                    {
                        throw _errors.At(what + " is not minimally encoded", start);
                    }

                    return value;
                }
            }

            throw _errors.At(what + " is longer than 9 bytes", start);
        }

        private void Require(int pos, int count, string what)
        {
            if (_in.Length - pos < count)
            {
                throw _errors.At("unexpected end of input in " + what + " (needs " + count + " bytes, " + Math.Max(0, _in.Length - pos) + " left)", pos);
            }
        }
    }

    /// <summary>
    /// Walks the streams backwards from the end of the file using the stream footers and indexes and
    /// returns the total uncompressed size they declare, or -1 when the structure cannot be followed
    /// (the forward decoder then reports the actual problem). Used only to size the output buffer and to
    /// reject decompression bombs before decoding.
    /// </summary>
    private static long DeclaredUncompressedSize(ReadOnlySpan<byte> xz, out int lastIndexOffset)
    {
        lastIndexOffset = 0;
        long total = 0;
        int end = xz.Length;
        bool first = true;
        while (end > 0)
        {
            while (end >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(xz.Slice(end - 4)) == 0)
            {
                end -= 4;
            }

            if (end < StreamHeaderSize + 8 + StreamFooterSize)
            {
                return -1;
            }

            ReadOnlySpan<byte> footer = xz.Slice(end - StreamFooterSize, StreamFooterSize);
            if (footer[10] != (byte)'Y' || footer[11] != (byte)'Z'
                || Crc32.Compute(footer.Slice(4, 6)) != BinaryPrimitives.ReadUInt32LittleEndian(footer))
            {
                return -1;
            }

            long indexSize = ((long)BinaryPrimitives.ReadUInt32LittleEndian(footer.Slice(4)) + 1) * 4;
            long indexStart = end - StreamFooterSize - indexSize;
            if (indexStart < StreamHeaderSize)
            {
                return -1;
            }

            ReadOnlySpan<byte> index = xz.Slice((int)indexStart, (int)indexSize);
            if (index[0] != 0 || Crc32.Compute(index.Slice(0, index.Length - 4)) != BinaryPrimitives.ReadUInt32LittleEndian(index.Slice(index.Length - 4)))
            {
                return -1;
            }

            if (first)
            {
                lastIndexOffset = (int)indexStart;
                first = false;
            }

            int p = 1;
            int recordsEnd = index.Length - 4;
            if (!TryReadVli(index, ref p, recordsEnd, out ulong count))
            {
                return -1;
            }

            long blocksSize = 0;
            for (ulong i = 0; i < count; i++)
            {
                if (!TryReadVli(index, ref p, recordsEnd, out ulong unpadded) || !TryReadVli(index, ref p, recordsEnd, out ulong uncompressed)
                    || unpadded > int.MaxValue || uncompressed > long.MaxValue / 4)
                {
                    return -1;
                }

                blocksSize += (long)((unpadded + 3) & ~3UL);
                total += (long)uncompressed;
                if (blocksSize > xz.Length || total > long.MaxValue / 4)
                {
                    return -1;
                }
            }

            long streamStart = indexStart - blocksSize - StreamHeaderSize;
            if (streamStart < 0 || !IsXz(xz.Slice((int)streamStart)))
            {
                return -1;
            }

            end = (int)streamStart;
        }

        return total;
    }

    private static bool TryReadVli(ReadOnlySpan<byte> data, ref int pos, int end, out ulong value)
    {
        value = 0;
        for (int i = 0; i < 9 && pos < end; i++)
        {
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
