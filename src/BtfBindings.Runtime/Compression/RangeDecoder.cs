#nullable enable
using System;
using System.Runtime.CompilerServices;

namespace BtfBindings.Compression;

/// <summary>
/// The LZMA binary range decoder over one LZMA2 chunk's compressed bytes.
/// Probabilities are 11-bit counters adapted by 1/32 of the distance to the bound.
/// The decoder is normalized eagerly after every bit, so once the last symbol of a
/// well-formed chunk has been decoded it has consumed exactly the chunk's compressed size
/// and <see cref="Code"/> is zero. Reads past the end of the input yield zero bytes and are
/// counted in <see cref="Position"/> so the caller can report the overrun; they are bounded
/// because the caller bounds the number of symbols decoded.
/// </summary>
internal ref struct RangeDecoder
{
    private const uint TopValue = 1u << 24;
    private const int ProbabilityBits = 11;
    private const uint ProbabilityOne = 1u << ProbabilityBits;
    private const int MoveBits = 5;

    private readonly ReadOnlySpan<byte> _input;

    /// <summary>Number of input bytes consumed so far (may exceed the input length after an overrun).</summary>
    public int Position;

    /// <summary>Current range.</summary>
    public uint Range;

    /// <summary>Current code value (offset of the encoded point inside the range).</summary>
    public uint Code;

    /// <summary>Creates a decoder and consumes the five initialization bytes.</summary>
    public RangeDecoder(ReadOnlySpan<byte> input)
    {
        _input = input;
        Position = 0;
        Range = 0xFFFFFFFFu;
        Code = 0;
        for (int i = 0; i < 5; i++)
        {
            Code = (Code << 8) | NextByte();
        }
    }

    /// <summary>True when the first initialization byte was zero (it always is for valid data).</summary>
    public readonly bool FirstByteIsZero => _input.Length > 0 && _input[0] == 0;

    /// <summary>True when more bytes were requested than the input holds.</summary>
    public readonly bool Overrun => Position > _input.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint NextByte()
    {
        int p = Position++;
        return (uint)p < (uint)_input.Length ? _input[p] : 0u;
    }

    /// <summary>Decodes one bit with the adaptive probability <paramref name="prob"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bit(ref ushort prob)
    {
        uint p = prob;
        uint bound = (Range >> ProbabilityBits) * p;
        uint bit;
        if (Code < bound)
        {
            Range = bound;
            prob = (ushort)(p + ((ProbabilityOne - p) >> MoveBits));
            bit = 0;
        }
        else
        {
            Range -= bound;
            Code -= bound;
            prob = (ushort)(p - (p >> MoveBits));
            bit = 1;
        }

        if (Range < TopValue)
        {
            Range <<= 8;
            Code = (Code << 8) | NextByte();
        }

        return bit;
    }

    /// <summary>Decodes <paramref name="count"/> bits with fixed probability one half, most significant first.</summary>
    public uint DirectBits(int count)
    {
        uint result = 0;
        for (int i = 0; i < count; i++)
        {
            Range >>= 1;
            uint mask = Code >= Range ? 1u : 0u;
            Code -= Range & (0u - mask);
            result = (result << 1) | mask;
            if (Range < TopValue)
            {
                Range <<= 8;
                Code = (Code << 8) | NextByte();
            }
        }

        return result;
    }

    /// <summary>Decodes a <paramref name="bits"/>-bit symbol MSB first with the tree of probabilities at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint BitTree(ushort[] probs, int offset, int bits)
    {
        uint symbol = 1;
        for (int i = 0; i < bits; i++)
        {
            symbol = (symbol << 1) | Bit(ref probs[offset + (int)symbol]);
        }

        return symbol - (1u << bits);
    }

    /// <summary>Decodes a <paramref name="bits"/>-bit symbol LSB first with the tree of probabilities at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReverseBitTree(ushort[] probs, int offset, int bits)
    {
        uint symbol = 1;
        uint result = 0;
        for (int i = 0; i < bits; i++)
        {
            uint bit = Bit(ref probs[offset + (int)symbol]);
            symbol = (symbol << 1) | bit;
            result |= bit << i;
        }

        return result;
    }
}
