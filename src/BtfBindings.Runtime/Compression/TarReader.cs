#nullable enable
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace BtfBindings.Compression;

/// <summary>Kind of a tar archive member.</summary>
internal enum TarEntryType
{
    /// <summary>A regular file (type flag '0', NUL or '7'); its contents are in <see cref="TarEntry.Data"/>.</summary>
    RegularFile,

    /// <summary>A directory (type flag '5').</summary>
    Directory,

    /// <summary>A symbolic link (type flag '2'); the target is <see cref="TarEntry.LinkName"/>.</summary>
    SymbolicLink,

    /// <summary>A hard link to an earlier member (type flag '1'); the target is <see cref="TarEntry.LinkName"/>.</summary>
    HardLink,

    /// <summary>A character device (type flag '3').</summary>
    CharacterDevice,

    /// <summary>A block device (type flag '4').</summary>
    BlockDevice,

    /// <summary>A FIFO (type flag '6').</summary>
    Fifo,

    /// <summary>Anything else (GNU sparse files, volume labels, vendor extensions); see <see cref="TarEntry.TypeFlag"/>.</summary>
    Other,
}

/// <summary>One member of a tar archive, as returned by <see cref="TarReader.ReadEntries"/>.</summary>
internal sealed class TarEntry
{
    internal TarEntry(string name, TarEntryType type, char typeFlag, string? linkName, int mode, DateTimeOffset modificationTime, long headerOffset, ReadOnlyMemory<byte> data)
    {
        Name = name;
        Type = type;
        TypeFlag = typeFlag;
        LinkName = linkName;
        Mode = mode;
        ModificationTime = modificationTime;
        HeaderOffset = headerOffset;
        Data = data;
    }

    /// <summary>Member path as stored (after applying GNU long names, pax <c>path</c> records and the ustar prefix), e.g. <c>./dir/file</c>.</summary>
    public string Name { get; }

    /// <summary>Kind of member.</summary>
    public TarEntryType Type { get; }

    /// <summary>The raw type flag character from the header ('0', '5', ...; NUL is reported as '0').</summary>
    public char TypeFlag { get; }

    /// <summary>Link target for symbolic and hard links, otherwise null.</summary>
    public string? LinkName { get; }

    /// <summary>Permission bits (e.g. 0x1A4 for octal 644).</summary>
    public int Mode { get; }

    /// <summary>Modification time (whole seconds).</summary>
    public DateTimeOffset ModificationTime { get; }

    /// <summary>Offset of this member's (last) header block in the archive.</summary>
    public long HeaderOffset { get; }

    /// <summary>Size of <see cref="Data"/> in bytes.</summary>
    public long Size => Data.Length;

    /// <summary>The member's contents (a slice of the archive buffer; empty for links, devices and most directories).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <inheritdoc />
    public override string ToString() => Type + " " + Name + " (" + Size + " bytes)";
}

/// <summary>
/// Minimal reader for tar archives held in memory: POSIX ustar (including the name prefix field),
/// GNU (including <c>././@LongLink</c> long names and link names, type 'L' and 'K') and pax
/// (extended headers 'x' with <c>path</c>, <c>linkpath</c>, <c>size</c> and <c>mtime</c> records; global
/// headers 'g' are honoured for the same keys). Header checksums are verified; malformed or truncated
/// archives raise <see cref="BtfException"/> with the offset of the bad header and, when given,
/// the source name.
/// </summary>
internal static class TarReader
{
    private const int BlockSize = 512;

    /// <summary>
    /// Returns true when <paramref name="data"/> starts with a tar header: a 512-byte block whose checksum
    /// is valid and whose magic is ustar, GNU or (for old V7 archives) empty.
    /// </summary>
    public static bool IsTar(ReadOnlySpan<byte> data)
    {
        if (data.Length < BlockSize)
        {
            return false;
        }

        ReadOnlySpan<byte> header = data.Slice(0, BlockSize);
        if (IsZeroBlock(header) || !TryParseOctal(header.Slice(148, 8), out long stored))
        {
            return false;
        }

        ComputeChecksums(header, out long unsignedSum, out long signedSum);
        return (stored == unsignedSum || stored == signedSum) && GetFormat(header) != HeaderFormat.Unknown;
    }

    /// <summary>
    /// Enumerates the members of the tar archive in <paramref name="tar"/>, lazily and in archive order.
    /// GNU long-name and pax extended headers are consumed and applied to the member they describe;
    /// they are not returned themselves. Enumeration stops at the first all-zero block (end-of-archive
    /// marker) or at the end of the buffer if it ends exactly on a header boundary.
    /// </summary>
    /// <param name="tar">The whole archive (uncompressed).</param>
    /// <param name="sourceName">Name used in error messages, or null.</param>
    /// <exception cref="BtfException">A header is corrupt (bad checksum, bad number, unknown format),
    /// a member's data extends past the end of the archive, or a pax record is malformed. Thrown during enumeration.</exception>
    public static IEnumerable<TarEntry> ReadEntries(ReadOnlyMemory<byte> tar, string? sourceName = null)
    {
        var errors = new DecodeErrors("tar", sourceName);
        return Iterate(tar, errors);
    }

    /// <summary>Reads all members into a list (see <see cref="ReadEntries"/>).</summary>
    public static IReadOnlyList<TarEntry> ReadAllEntries(ReadOnlyMemory<byte> tar, string? sourceName = null)
    {
        return new List<TarEntry>(ReadEntries(tar, sourceName));
    }

    private enum HeaderFormat
    {
        Unknown,
        V7,
        Ustar,
        Gnu,
    }

    private struct Header
    {
        public string Name;
        public string LinkName;
        public int Mode;
        public long Size;
        public long MTime;
        public char TypeFlag;
    }

    private static IEnumerable<TarEntry> Iterate(ReadOnlyMemory<byte> tar, DecodeErrors errors)
    {
        int pos = 0;
        string? longName = null;
        string? longLink = null;
        Dictionary<string, string>? pax = null;
        Dictionary<string, string>? paxGlobal = null;

        while (true)
        {
            if (pos == tar.Length)
            {
                CheckNothingPending(longName, longLink, pax, errors, pos);
                yield break;
            }

            if (tar.Length - pos < BlockSize)
            {
                throw errors.At("truncated header (" + (tar.Length - pos) + " bytes left, a header needs 512)", pos);
            }

            if (IsZeroBlock(tar.Span.Slice(pos, BlockSize)))
            {
                CheckNothingPending(longName, longLink, pax, errors, pos);
                yield break;
            }

            Header h = ParseHeader(tar.Span.Slice(pos, BlockSize), pos, errors);
            int headerOffset = pos;
            bool isMeta = h.TypeFlag == 'L' || h.TypeFlag == 'K' || h.TypeFlag == 'x' || h.TypeFlag == 'g';

            long size = h.Size;
            if (!isMeta)
            {
                string? paxSize = Lookup(pax, paxGlobal, "size");
                if (paxSize != null)
                {
                    size = ParsePaxInteger(paxSize, "size", errors, headerOffset);
                }

                // These types never have data blocks; their size field is ignored (POSIX).
                if (h.TypeFlag == '1' || h.TypeFlag == '2' || h.TypeFlag == '3' || h.TypeFlag == '4' || h.TypeFlag == '6')
                {
                    size = 0;
                }
            }

            int dataStart = pos + BlockSize;
            if (size < 0 || size > tar.Length - dataStart)
            {
                throw errors.At("data of member '" + (longName ?? h.Name) + "' (" + size + " bytes) extends past the end of the archive", headerOffset);
            }

            ReadOnlyMemory<byte> data = tar.Slice(dataStart, (int)size);
            long next = dataStart + ((size + BlockSize - 1) & ~(long)(BlockSize - 1));
            if (next > tar.Length)
            {
                throw errors.At("padding after the data of member '" + (longName ?? h.Name) + "' is truncated", headerOffset);
            }

            pos = (int)next;

            switch (h.TypeFlag)
            {
                case 'L':
                    longName = DecodeString(data.Span);
                    continue;
                case 'K':
                    longLink = DecodeString(data.Span);
                    continue;
                case 'x':
                    pax = ParsePax(data.Span, errors, dataStart, pax);
                    continue;
                case 'g':
                    paxGlobal = ParsePax(data.Span, errors, dataStart, paxGlobal);
                    continue;
            }

            string name = Lookup(pax, null, "path") ?? longName ?? h.Name;
            string linkName = Lookup(pax, null, "linkpath") ?? longLink ?? h.LinkName;
            long mtime = h.MTime;
            string? paxTime = Lookup(pax, paxGlobal, "mtime");
            if (paxTime != null)
            {
                int dot = paxTime.IndexOf('.');
                mtime = ParsePaxInteger(dot >= 0 ? paxTime.Substring(0, dot) : paxTime, "mtime", errors, headerOffset);
            }

            longName = null;
            longLink = null;
            pax = null;

            TarEntryType type = ToEntryType(h.TypeFlag);
            bool isLink = type == TarEntryType.SymbolicLink || type == TarEntryType.HardLink;
            yield return new TarEntry(name, type, h.TypeFlag, isLink ? linkName : null, h.Mode, ToTime(mtime), headerOffset, data);
        }
    }

    private static void CheckNothingPending(string? longName, string? longLink, Dictionary<string, string>? pax, DecodeErrors errors, int pos)
    {
        if (longName != null || longLink != null || pax != null)
        {
            throw errors.At("archive ends after a GNU long name or pax extended header that describes no member", pos);
        }
    }

    private static string? Lookup(Dictionary<string, string>? local, Dictionary<string, string>? global, string key)
    {
        if (local != null && local.TryGetValue(key, out string? value))
        {
            return value;
        }

        if (global != null && global.TryGetValue(key, out value))
        {
            return value;
        }

        return null;
    }

    private static Header ParseHeader(ReadOnlySpan<byte> header, int offset, DecodeErrors errors)
    {
        if (!TryParseOctal(header.Slice(148, 8), out long stored))
        {
            throw errors.At("header checksum field is not an octal number", offset + 148);
        }

        ComputeChecksums(header, out long unsignedSum, out long signedSum);
        if (stored != unsignedSum && stored != signedSum)
        {
            throw errors.At("header checksum mismatch (stored " + stored + ", computed " + unsignedSum + ")", offset);
        }

        HeaderFormat format = GetFormat(header);
        if (format == HeaderFormat.Unknown)
        {
            throw errors.At("unrecognized header format (magic is neither ustar nor GNU)", offset + 257);
        }

        var h = default(Header);
        h.Name = DecodeString(header.Slice(0, 100));
        if (format == HeaderFormat.Ustar && header[345] != 0)
        {
            h.Name = DecodeString(header.Slice(345, 155)) + "/" + h.Name;
        }

        h.LinkName = DecodeString(header.Slice(157, 100));
        h.Mode = (int)(ParseNumber(header.Slice(100, 8), "mode", errors, offset + 100) & 0xFFFF);
        h.Size = ParseNumber(header.Slice(124, 12), "size", errors, offset + 124);
        h.MTime = ParseNumber(header.Slice(136, 12), "mtime", errors, offset + 136);
        byte flag = header[156];
        h.TypeFlag = flag == 0 ? '0' : (char)flag;
        return h;
    }

    private static HeaderFormat GetFormat(ReadOnlySpan<byte> header)
    {
        ReadOnlySpan<byte> magic = header.Slice(257, 8);
        if (magic[0] == 'u' && magic[1] == 's' && magic[2] == 't' && magic[3] == 'a' && magic[4] == 'r')
        {
            if (magic[5] == 0)
            {
                return HeaderFormat.Ustar;
            }

            if (magic[5] == ' ' && magic[6] == ' ' && magic[7] == 0)
            {
                return HeaderFormat.Gnu;
            }

            return HeaderFormat.Unknown;
        }

        for (int i = 0; i < magic.Length; i++)
        {
            if (magic[i] != 0)
            {
                return HeaderFormat.Unknown;
            }
        }

        return HeaderFormat.V7;
    }

    private static void ComputeChecksums(ReadOnlySpan<byte> header, out long unsignedSum, out long signedSum)
    {
        unsignedSum = 0;
        signedSum = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = (i >= 148 && i < 156) ? (byte)' ' : header[i];
            unsignedSum += b;
            signedSum += (sbyte)b;
        }
    }

    private static bool IsZeroBlock(ReadOnlySpan<byte> block)
    {
        for (int i = 0; i < block.Length; i++)
        {
            if (block[i] != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses an octal field (optionally space/NUL padded) or a GNU base-256 field.</summary>
    private static long ParseNumber(ReadOnlySpan<byte> field, string what, DecodeErrors errors, int offset)
    {
        if ((field[0] & 0x80) != 0)
        {
            // GNU base-256: big-endian two's complement in the remaining bits.
            if ((field[0] & 0x40) != 0)
            {
                throw errors.At("negative base-256 value in the " + what + " field", offset);
            }

            long value = field[0] & 0x3F;
            for (int i = 1; i < field.Length; i++)
            {
                if (value > (long.MaxValue >> 8))
                {
                    throw errors.At("base-256 value in the " + what + " field is too large", offset);
                }

                value = (value << 8) | field[i];
            }

            return value;
        }

        if (!TryParseOctal(field, out long result))
        {
            throw errors.At("invalid octal number in the " + what + " field", offset);
        }

        return result;
    }

    private static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        int i = 0;
        while (i < field.Length && field[i] == ' ')
        {
            i++;
        }

        for (; i < field.Length; i++)
        {
            byte c = field[i];
            if (c == 0 || c == ' ')
            {
                break;
            }

            if (c < '0' || c > '7' || value > (long.MaxValue >> 3))
            {
                return false;
            }

            value = (value << 3) | (long)(c - '0');
        }

        // Anything after the terminator must be padding.
        for (; i < field.Length; i++)
        {
            if (field[i] != 0 && field[i] != ' ')
            {
                return false;
            }
        }

        return true;
    }

    private static string DecodeString(ReadOnlySpan<byte> field)
    {
        int length = field.IndexOf((byte)0);
        if (length < 0)
        {
            length = field.Length;
        }

        return length == 0 ? string.Empty : Encoding.UTF8.GetString(field.Slice(0, length).ToArray());
    }

    /// <summary>Parses pax records "LENGTH KEY=VALUE\n" into <paramref name="into"/> (created if null).</summary>
    private static Dictionary<string, string> ParsePax(ReadOnlySpan<byte> data, DecodeErrors errors, int offset, Dictionary<string, string>? into)
    {
        var result = into ?? new Dictionary<string, string>(StringComparer.Ordinal);
        int p = 0;
        while (p < data.Length)
        {
            int q = p;
            long length = 0;
            while (q < data.Length && data[q] >= '0' && data[q] <= '9')
            {
                length = (length * 10) + (data[q] - '0');
                if (length > data.Length)
                {
                    throw errors.At("pax record length exceeds the extended header", offset + p);
                }

                q++;
            }

            if (q == p || q >= data.Length || data[q] != ' ' || length <= q - p + 1 || length > data.Length - p)
            {
                throw errors.At("malformed pax record", offset + p);
            }

            int end = p + (int)length;
            if (data[end - 1] != '\n')
            {
                throw errors.At("pax record does not end with a newline", offset + p);
            }

            ReadOnlySpan<byte> record = data.Slice(q + 1, end - 1 - (q + 1));
            int eq = record.IndexOf((byte)'=');
            if (eq <= 0)
            {
                throw errors.At("pax record has no key", offset + p);
            }

            string key = Encoding.UTF8.GetString(record.Slice(0, eq).ToArray());
            string value = Encoding.UTF8.GetString(record.Slice(eq + 1).ToArray());
            result[key] = value;
            p = end;
        }

        return result;
    }

    private static long ParsePaxInteger(string text, string key, DecodeErrors errors, int offset)
    {
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || (key == "size" && value < 0))
        {
            throw errors.At("invalid pax " + key + " value '" + text + "'", offset);
        }

        return value;
    }

    private static TarEntryType ToEntryType(char flag)
    {
        switch (flag)
        {
            case '0':
            case '7':
                return TarEntryType.RegularFile;
            case '1': return TarEntryType.HardLink;
            case '2': return TarEntryType.SymbolicLink;
            case '3': return TarEntryType.CharacterDevice;
            case '4': return TarEntryType.BlockDevice;
            case '5': return TarEntryType.Directory;
            case '6': return TarEntryType.Fifo;
            case 'D': return TarEntryType.Directory; // GNU dumpdir: a directory with a listing as data
            default: return TarEntryType.Other;
        }
    }

    private static DateTimeOffset ToTime(long unixSeconds)
    {
        const long Min = -62135596800L; // 0001-01-01
        const long Max = 253402300799L; // 9999-12-31
        if (unixSeconds < Min)
        {
            unixSeconds = Min;
        }
        else if (unixSeconds > Max)
        {
            unixSeconds = Max;
        }

        return DateTimeOffset.FromUnixTimeSeconds(unixSeconds);
    }
}
