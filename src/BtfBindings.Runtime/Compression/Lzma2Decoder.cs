#nullable enable
using System;
using System.Globalization;

namespace BtfBindings.Compression;

/// <summary>
/// LZMA2 chunk layer (xz filter 0x21). An LZMA2 stream is a sequence of chunks, each introduced by a
/// control byte:
/// <list type="bullet">
/// <item><c>0x00</c>: end of the LZMA2 stream.</item>
/// <item><c>0x01</c>: uncompressed chunk, dictionary reset; <c>0x02</c>: uncompressed chunk, no reset.
/// Followed by a 16-bit big-endian (size - 1) and the raw bytes.</item>
/// <item><c>0x80..0xFF</c>: LZMA chunk. Bits 0-4 are bits 16-20 of (uncompressed size - 1); bits 5-6 select
/// 0 = nothing reset, 1 = state reset, 2 = state reset + new properties, 3 = all that + dictionary reset.
/// Followed by 16 bits of (uncompressed size - 1), 16 bits of (compressed size - 1), the properties byte
/// when new properties are set, and the range-coded data.</item>
/// </list>
/// The first chunk must reset the dictionary, and the first LZMA chunk after a dictionary reset must set properties.
/// </summary>
internal sealed class Lzma2Decoder
{
    private readonly LzmaDecoder _lzma = new LzmaDecoder();

    /// <summary>Decodes the LZMA2 filter properties byte (dictionary size). Values above 40 are invalid.</summary>
    public static bool TryParseDictionarySize(byte props, out uint dictSize)
    {
        if (props > 40)
        {
            dictSize = 0;
            return false;
        }

        dictSize = props == 40 ? 0xFFFFFFFFu : (2u | (props & 1u)) << ((props / 2) + 11);
        return true;
    }

    /// <summary>
    /// Decodes one LZMA2 stream that starts at <paramref name="pos"/> and must end (with its end marker)
    /// before <paramref name="limit"/>. Output is appended to <paramref name="output"/>; the dictionary is
    /// the output produced since the last dictionary reset. <c>maxUncompressed</c> is the block's declared
    /// uncompressed size, or -1. Returns the offset just past the end marker.
    /// </summary>
    public int Decode(ReadOnlySpan<byte> input, int pos, int limit, OutputBuffer output, uint dictSize, long maxUncompressed, DecodeErrors errors)
    {
        int outStart = output.Length;
        int dictStart = outStart;
        bool needDictReset = true;
        bool needProps = true;

        while (true)
        {
            int chunkOffset = pos;
            if (pos >= limit)
            {
                throw Truncated(input, limit, errors, "LZMA2 chunk header", pos);
            }

            byte control = input[pos++];
            if (control == 0x00)
            {
                return pos;
            }

            if (control >= 0xE0 || control == 0x01)
            {
                needProps = true;
                needDictReset = false;
                dictStart = output.Length;
            }
            else if (needDictReset)
            {
                throw errors.At("first LZMA2 chunk does not reset the dictionary (control byte 0x" + control.ToString("X2", CultureInfo.InvariantCulture) + ")", chunkOffset);
            }

            int unpackedSize;
            if (control >= 0x80)
            {
                if (limit - pos < 4)
                {
                    throw Truncated(input, limit, errors, "LZMA2 chunk header", chunkOffset);
                }

                unpackedSize = ((control & 0x1F) << 16) + (input[pos] << 8) + input[pos + 1] + 1;
                int packedSize = (input[pos + 2] << 8) + input[pos + 3] + 1;
                pos += 4;

                if (control >= 0xC0)
                {
                    if (pos >= limit)
                    {
                        throw Truncated(input, limit, errors, "LZMA2 chunk header", chunkOffset);
                    }

                    byte props = input[pos++];
                    if (!LzmaDecoder.TryParseProperties(props, out int lc, out int lp, out int pb))
                    {
                        throw errors.At("invalid LZMA properties byte 0x" + props.ToString("X2", CultureInfo.InvariantCulture) + " (needs lc + lp <= 4, pb <= 4)", pos - 1);
                    }

                    needProps = false;
                    _lzma.SetProperties(lc, lp, pb);
                    _lzma.ResetState();
                }
                else if (needProps)
                {
                    throw errors.At("LZMA2 chunk after a dictionary reset does not set properties (control byte 0x" + control.ToString("X2", CultureInfo.InvariantCulture) + ")", chunkOffset);
                }
                else if (control >= 0xA0)
                {
                    _lzma.ResetState();
                }

                if (limit - pos < packedSize)
                {
                    throw Truncated(input, limit, errors, "LZMA2 chunk data", chunkOffset);
                }

                Reserve(output, outStart, unpackedSize, maxUncompressed, errors, chunkOffset);
                LzmaStatus status = _lzma.DecodeChunk(
                    input.Slice(pos, packedSize),
                    output.Buffer,
                    output.Length,
                    output.Length + unpackedSize,
                    dictStart,
                    dictSize,
                    out int produced);
                if (status != LzmaStatus.Ok)
                {
                    throw errors.At(Describe(status, packedSize, unpackedSize, output.Length + produced - outStart), chunkOffset);
                }

                pos += packedSize;
                output.Length += unpackedSize;
            }
            else
            {
                if (control > 0x02)
                {
                    throw errors.At("invalid LZMA2 control byte 0x" + control.ToString("X2", CultureInfo.InvariantCulture), chunkOffset);
                }

                if (limit - pos < 2)
                {
                    throw Truncated(input, limit, errors, "LZMA2 chunk header", chunkOffset);
                }

                unpackedSize = (input[pos] << 8) + input[pos + 1] + 1;
                pos += 2;
                if (limit - pos < unpackedSize)
                {
                    throw Truncated(input, limit, errors, "uncompressed LZMA2 chunk", chunkOffset);
                }

                Reserve(output, outStart, unpackedSize, maxUncompressed, errors, chunkOffset);
                input.Slice(pos, unpackedSize).CopyTo(output.Buffer.AsSpan(output.Length));
                pos += unpackedSize;
                output.Length += unpackedSize;
            }
        }
    }

    private static void Reserve(OutputBuffer output, int outStart, int count, long maxUncompressed, DecodeErrors errors, int chunkOffset)
    {
        if (maxUncompressed >= 0 && (long)output.Length - outStart + count > maxUncompressed)
        {
            throw errors.At("LZMA2 data is larger than the uncompressed size " + maxUncompressed + " declared in the block header", chunkOffset);
        }

        if (!output.TryReserve(count))
        {
            throw errors.At("decompressed data exceeds the output limit of " + output.Limit + " bytes", chunkOffset);
        }
    }

    private static BtfException Truncated(ReadOnlySpan<byte> input, int limit, DecodeErrors errors, string what, int offset)
    {
        return limit >= input.Length
            ? errors.At("unexpected end of input in " + what, offset)
            : errors.At(what + " extends past the compressed size declared in the block header", offset);
    }

    private static string Describe(LzmaStatus status, int packedSize, int unpackedSize, long blockOutputPosition)
    {
        string where = " (LZMA chunk of " + packedSize + " compressed / " + unpackedSize + " uncompressed bytes, block output position " + blockOutputPosition + ")";
        string what = status switch
        {
            LzmaStatus.BadRangeCoderInit => ": first range coder byte is not zero",
            LzmaStatus.DistanceTooFar => ": match distance reaches before the start of the dictionary",
            LzmaStatus.MatchPastChunkEnd => ": match extends past the end of the chunk",
            LzmaStatus.EndMarker => ": end-of-payload marker is not allowed in LZMA2",
            LzmaStatus.InputOverrun => ": chunk needs more compressed bytes than it declares",
            LzmaStatus.InputNotConsumed => ": chunk ends before using all its compressed bytes",
            LzmaStatus.RangeCoderNotFinished => ": range decoder did not finish cleanly",
            _ => "",
        };
        return "corrupt LZMA data" + what + where;
    }
}
