#nullable enable
using System;
using System.IO;

namespace BtfBindings.Compression;

/// <summary>
/// Growable output buffer with a hard size limit. The LZMA decoder writes straight into
/// <see cref="Buffer"/> and uses what is already there as its dictionary.
/// </summary>
internal sealed class OutputBuffer
{
    private const int MaxArrayLength = 0x7FFFFFC7;
    private readonly long _limit;

    public OutputBuffer(long initialCapacity, long limit)
    {
        _limit = Math.Min(limit, MaxArrayLength);
        long cap = Math.Max(0, Math.Min(initialCapacity, _limit));
        Buffer = cap == 0 ? Array.Empty<byte>() : new byte[cap];
    }

    /// <summary>The backing array; bytes <c>[0, Length)</c> are the output so far.</summary>
    public byte[] Buffer;

    /// <summary>Number of valid output bytes.</summary>
    public int Length;

    /// <summary>The maximum number of bytes this buffer may hold.</summary>
    public long Limit => _limit;

    /// <summary>
    /// Makes room for <paramref name="count"/> more bytes. Returns false (and changes nothing)
    /// when that would exceed the limit.
    /// </summary>
    public bool TryReserve(int count)
    {
        long needed = (long)Length + count;
        if (needed > _limit)
        {
            return false;
        }

        if (needed > Buffer.Length)
        {
            long newCapacity = Math.Max(needed, Math.Max(4096L, (long)Buffer.Length * 2));
            newCapacity = Math.Min(newCapacity, _limit);
            var bigger = new byte[newCapacity];
            System.Buffer.BlockCopy(Buffer, 0, bigger, 0, Length);
            Buffer = bigger;
        }

        return true;
    }

    /// <summary>Returns the output as an exactly sized array (the backing array itself when it fits exactly).</summary>
    public byte[] ToArray()
    {
        if (Length == Buffer.Length)
        {
            return Buffer;
        }

        if (Length == 0)
        {
            return Array.Empty<byte>();
        }

        var result = new byte[Length];
        System.Buffer.BlockCopy(Buffer, 0, result, 0, Length);
        return result;
    }
}

/// <summary>Builds the codecs' errors: a <see cref="BtfException"/> naming the source and offset, "xz: [context: ]what".</summary>
internal sealed class DecodeErrors
{
    private readonly string _format;
    private readonly string? _source;

    public DecodeErrors(string format, string? source)
    {
        _format = format;
        _source = source;
    }

    /// <summary>Optional prefix such as "block 3" describing where in the file we are.</summary>
    public string? Context { get; set; }

    public BtfException At(string what, long offset)
    {
        string context = Context is null ? string.Empty : Context + ": ";
        return new BtfException(_format + ": " + context + what, _source, offset);
    }
}
