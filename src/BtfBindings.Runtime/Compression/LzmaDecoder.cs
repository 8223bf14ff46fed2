#nullable enable
using System;
using System.Runtime.CompilerServices;

namespace BtfBindings.Compression;

/// <summary>Outcome of decoding one LZMA chunk.</summary>
internal enum LzmaStatus
{
    /// <summary>The chunk decoded cleanly.</summary>
    Ok,

    /// <summary>The first range coder byte was not zero.</summary>
    BadRangeCoderInit,

    /// <summary>A match referred to data before the start of the dictionary.</summary>
    DistanceTooFar,

    /// <summary>A match extended past the chunk's declared uncompressed size.</summary>
    MatchPastChunkEnd,

    /// <summary>An end-of-payload marker was found (not allowed in LZMA2).</summary>
    EndMarker,

    /// <summary>The decoder needed more compressed bytes than the chunk holds.</summary>
    InputOverrun,

    /// <summary>The chunk's compressed bytes were not all used.</summary>
    InputNotConsumed,

    /// <summary>The range decoder did not finish in its final state (code must be zero).</summary>
    RangeCoderNotFinished,
}

/// <summary>
/// LZMA decoder used by the LZMA2 layer. Decodes one chunk at a time directly into the output
/// buffer, which doubles as the dictionary (all output since the last dictionary reset is kept in
/// memory, so no sliding window or copying is needed). Probabilities, state and the four most
/// recent match distances persist across chunks until <see cref="ResetState"/> is called.
/// </summary>
internal sealed class LzmaDecoder
{
    private const int States = 12;
    private const int PosStatesMax = 16;
    private const int LiteralStates = 7;
    private const int MatchMinLength = 2;
    private const int EndPosModelIndex = 14;
    private const int FullDistances = 128;
    private const int AlignBits = 4;

    // Layout of the single probability array.
    private const int IsMatch = 0;
    private const int IsRep = IsMatch + (States * PosStatesMax);
    private const int IsRepG0 = IsRep + States;
    private const int IsRepG1 = IsRepG0 + States;
    private const int IsRepG2 = IsRepG1 + States;
    private const int IsRep0Long = IsRepG2 + States;
    private const int PosSlot = IsRep0Long + (States * PosStatesMax);
    private const int SpecPos = PosSlot + (4 * 64);
    private const int Align = SpecPos + (FullDistances - EndPosModelIndex);
    private const int LenCoder = Align + (1 << AlignBits);
    private const int RepLenCoder = LenCoder + LenCoderSize;
    private const int Literal = RepLenCoder + LenCoderSize;
    private const int LiteralCoderSize = 0x300;

    // Layout inside a length coder.
    private const int LenChoice = 0;
    private const int LenChoice2 = 1;
    private const int LenLow = 2;
    private const int LenMid = LenLow + (PosStatesMax * 8);
    private const int LenHigh = LenMid + (PosStatesMax * 8);
    private const int LenCoderSize = LenHigh + 256;

    private const ushort ProbabilityInit = 1024;

    private readonly ushort[] _probs = new ushort[Literal + (LiteralCoderSize << 4)];
    private int _lc;
    private int _lp;
    private int _pb;
    private int _state;
    private uint _rep0;
    private uint _rep1;
    private uint _rep2;
    private uint _rep3;

    /// <summary>Literal context bits (0..8).</summary>
    public int LiteralContextBits => _lc;

    /// <summary>Literal position bits (0..4).</summary>
    public int LiteralPositionBits => _lp;

    /// <summary>Position bits (0..4).</summary>
    public int PositionBits => _pb;

    /// <summary>
    /// Decodes an LZMA properties byte <c>(pb * 5 + lp) * 9 + lc</c>. Returns false when it is out of
    /// range or when <c>lc + lp &gt; 4</c> (an LZMA2 restriction).
    /// </summary>
    public static bool TryParseProperties(byte props, out int lc, out int lp, out int pb)
    {
        int v = props;
        lc = v % 9;
        v /= 9;
        lp = v % 5;
        pb = v / 5;
        return props < 9 * 5 * 5 && lc + lp <= 4;
    }

    /// <summary>Sets lc/lp/pb. Must be followed by <see cref="ResetState"/>.</summary>
    public void SetProperties(int lc, int lp, int pb)
    {
        _lc = lc;
        _lp = lp;
        _pb = pb;
    }

    /// <summary>Resets all probabilities, the state machine and the match distances.</summary>
    public void ResetState()
    {
        _probs.AsSpan(0, Literal + (LiteralCoderSize << (_lc + _lp))).Fill(ProbabilityInit);
        _state = 0;
        _rep0 = _rep1 = _rep2 = _rep3 = 0;
    }

    /// <summary>
    /// Decodes one LZMA chunk whose compressed bytes are exactly <paramref name="input"/>, producing
    /// the bytes <c>buffer[pos..end)</c>. <paramref name="dictStart"/> is where the current dictionary
    /// begins in <paramref name="buffer"/>; matches may reach back at most
    /// <c>min(pos - dictStart, dictSize)</c> bytes. <c>failPosition</c> receives the number of bytes
    /// produced before decoding stopped.
    /// </summary>
    public LzmaStatus DecodeChunk(ReadOnlySpan<byte> input, byte[] buffer, int pos, int end, int dictStart, uint dictSize, out int failPosition)
    {
        var rc = new RangeDecoder(input);
        int start = pos;
        failPosition = 0;
        if (!rc.FirstByteIsZero)
        {
            return LzmaStatus.BadRangeCoderInit;
        }

        ushort[] probs = _probs;
        int state = _state;
        uint rep0 = _rep0, rep1 = _rep1, rep2 = _rep2, rep3 = _rep3;
        int pbMask = (1 << _pb) - 1;
        int lpMask = (1 << _lp) - 1;
        int lc = _lc;
        int literalShift = 8 - lc;
        LzmaStatus status = LzmaStatus.Ok;

        while (pos < end)
        {
            int rel = pos - dictStart;
            int posState = rel & pbMask;

            if (rc.Bit(ref probs[IsMatch + (state << 4) + posState]) == 0)
            {
                // Literal.
                int prevByte = rel > 0 ? buffer[pos - 1] : 0;
                int lit = Literal + (LiteralCoderSize * (((rel & lpMask) << lc) + (prevByte >> literalShift)));
                uint symbol = 1;
                if (state < LiteralStates)
                {
                    do
                    {
                        symbol = (symbol << 1) | rc.Bit(ref probs[lit + (int)symbol]);
                    }
                    while (symbol < 0x100);
                }
                else
                {
                    // "Matched" literal: the byte at distance rep0 steers the probabilities until the
                    // first bit that differs from it.
                    if (rep0 >= (uint)rel)
                    {
                        status = LzmaStatus.DistanceTooFar;
                        break;
                    }

                    uint matchByte = buffer[pos - (int)rep0 - 1];
                    uint offs = 0x100;
                    do
                    {
                        matchByte <<= 1;
                        uint matchBit = matchByte & offs;
                        uint bit = rc.Bit(ref probs[lit + (int)(offs + matchBit + symbol)]);
                        symbol = (symbol << 1) | bit;
                        offs = bit != 0 ? matchBit : offs & ~matchBit;
                    }
                    while (symbol < 0x100);
                }

                buffer[pos++] = (byte)symbol;
                state = state < 4 ? 0 : (state < 10 ? state - 3 : state - 6);
                continue;
            }

            uint len;
            if (rc.Bit(ref probs[IsRep + state]) == 0)
            {
                // Simple match with a newly coded distance.
                len = DecodeLength(ref rc, probs, LenCoder, posState);
                state = state < LiteralStates ? 7 : 10;
                rep3 = rep2;
                rep2 = rep1;
                rep1 = rep0;

                int lenState = len < 3 ? (int)len : 3;
                uint slot = rc.BitTree(probs, PosSlot + (lenState << 6), 6);
                if (slot < 4)
                {
                    rep0 = slot;
                }
                else
                {
                    int directBits = (int)(slot >> 1) - 1;
                    uint dist = (2u | (slot & 1)) << directBits;
                    if (slot < EndPosModelIndex)
                    {
                        dist += rc.ReverseBitTree(probs, SpecPos + (int)dist - (int)slot - 1, directBits);
                    }
                    else
                    {
                        dist += rc.DirectBits(directBits - AlignBits) << AlignBits;
                        dist += rc.ReverseBitTree(probs, Align, AlignBits);
                        if (dist == 0xFFFFFFFFu)
                        {
                            status = LzmaStatus.EndMarker;
                            break;
                        }
                    }

                    rep0 = dist;
                }
            }
            else
            {
                if (rc.Bit(ref probs[IsRepG0 + state]) == 0)
                {
                    if (rc.Bit(ref probs[IsRep0Long + (state << 4) + posState]) == 0)
                    {
                        // Short rep: one byte at distance rep0.
                        if (rep0 >= Available(pos, dictStart, dictSize))
                        {
                            status = LzmaStatus.DistanceTooFar;
                            break;
                        }

                        state = state < LiteralStates ? 9 : 11;
                        buffer[pos] = buffer[pos - (int)rep0 - 1];
                        pos++;
                        continue;
                    }
                }
                else
                {
                    uint dist;
                    if (rc.Bit(ref probs[IsRepG1 + state]) == 0)
                    {
                        dist = rep1;
                    }
                    else
                    {
                        if (rc.Bit(ref probs[IsRepG2 + state]) == 0)
                        {
                            dist = rep2;
                        }
                        else
                        {
                            dist = rep3;
                            rep3 = rep2;
                        }

                        rep2 = rep1;
                    }

                    rep1 = rep0;
                    rep0 = dist;
                }

                len = DecodeLength(ref rc, probs, RepLenCoder, posState);
                state = state < LiteralStates ? 8 : 11;
            }

            if (rep0 >= Available(pos, dictStart, dictSize))
            {
                status = LzmaStatus.DistanceTooFar;
                break;
            }

            int length = (int)len + MatchMinLength;
            if (length > end - pos)
            {
                status = LzmaStatus.MatchPastChunkEnd;
                break;
            }

            int src = pos - (int)rep0 - 1;
            if (rep0 + 1 >= (uint)length && length > 16)
            {
                // Source and destination do not overlap.
                Buffer.BlockCopy(buffer, src, buffer, pos, length);
                pos += length;
            }
            else
            {
                int stop = pos + length;
                do
                {
                    buffer[pos++] = buffer[src++];
                }
                while (pos < stop);
            }
        }

        _state = state;
        _rep0 = rep0;
        _rep1 = rep1;
        _rep2 = rep2;
        _rep3 = rep3;

        if (status == LzmaStatus.Ok)
        {
            if (rc.Overrun)
            {
                status = LzmaStatus.InputOverrun;
            }
            else if (rc.Position != input.Length)
            {
                status = LzmaStatus.InputNotConsumed;
            }
            else if (rc.Code != 0)
            {
                status = LzmaStatus.RangeCoderNotFinished;
            }
        }
        else if (rc.Overrun)
        {
            // A corrupt chunk usually derails well before the symbol that is finally rejected;
            // running out of input is the more telling diagnosis.
            status = LzmaStatus.InputOverrun;
        }

        failPosition = pos - start;
        return status;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Available(int pos, int dictStart, uint dictSize)
    {
        uint available = (uint)(pos - dictStart);
        return available < dictSize ? available : dictSize;
    }

    /// <summary>Decodes a match length minus two (0..271).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint DecodeLength(ref RangeDecoder rc, ushort[] probs, int coder, int posState)
    {
        if (rc.Bit(ref probs[coder + LenChoice]) == 0)
        {
            return rc.BitTree(probs, coder + LenLow + (posState << 3), 3);
        }

        if (rc.Bit(ref probs[coder + LenChoice2]) == 0)
        {
            return 8 + rc.BitTree(probs, coder + LenMid + (posState << 3), 3);
        }

        return 16 + rc.BitTree(probs, coder + LenHigh, 8);
    }
}
