#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace BtfBindings.Compression;

/// <summary>
/// Reads BTFHub archives: <c>&lt;kernel&gt;.btf.tar.xz</c> files holding exactly one <c>*.btf</c> member
/// (the kernel's raw BTF blob).
/// </summary>
internal static class BtfHubArchive
{
    /// <summary>
    /// Extracts the single regular-file member whose name ends in <c>.btf</c> from a BTFHub archive.
    /// The archive may be xz-compressed (the usual <c>.btf.tar.xz</c>) or a plain tar. As a convenience,
    /// a bare BTF blob (optionally xz-compressed, e.g. <c>vmlinux.btf.xz</c>) is returned as is.
    /// </summary>
    /// <param name="archive">The archive bytes.</param>
    /// <param name="sourceName">Name used in error messages (typically the archive's file name), or null.</param>
    /// <param name="maxOutputBytes">Cap on the decompressed tar size (see <see cref="XzDecoder.Decompress(ReadOnlySpan{byte}, string, long)"/>).</param>
    /// <returns>The BTF member's contents.</returns>
    /// <exception cref="InvalidDataException">The archive is corrupt, or it holds no or more than one <c>*.btf</c> member.</exception>
    public static byte[] ExtractBtf(ReadOnlySpan<byte> archive, string? sourceName = null, long maxOutputBytes = XzDecoder.DefaultMaxOutputBytes)
    {
        return ExtractBtf(archive, out _, sourceName, maxOutputBytes);
    }

    /// <summary>
    /// As <see cref="ExtractBtf(ReadOnlySpan{byte}, string, long)"/>, also returning the member's name
    /// (empty when the input was a bare BTF blob rather than a tar archive).
    /// </summary>
    public static byte[] ExtractBtf(ReadOnlySpan<byte> archive, out string memberName, string? sourceName = null, long maxOutputBytes = XzDecoder.DefaultMaxOutputBytes)
    {
        byte[] tar = XzDecoder.IsXz(archive) ? XzDecoder.Decompress(archive, sourceName, maxOutputBytes) : archive.ToArray();
        string where = sourceName is null ? string.Empty : " in " + sourceName;
        if (!TarReader.IsTar(tar))
        {
            // Also accept a bare (optionally xz-compressed) BTF blob, e.g. "vmlinux.btf.xz".
            if (IsRawBtf(tar))
            {
                memberName = string.Empty;
                return tar;
            }

            throw new InvalidDataException("tar: not a tar archive (nor xz-compressed tar, nor raw BTF) at offset 0" + where);
        }

        TarEntry? found = null;
        var names = new List<string>();
        var matches = new List<string>();
        foreach (TarEntry entry in TarReader.ReadEntries(tar, sourceName))
        {
            names.Add(entry.Name);
            if (entry.Type == TarEntryType.RegularFile && entry.Name.EndsWith(".btf", StringComparison.Ordinal))
            {
                matches.Add(entry.Name);
                found = entry;
            }
        }

        if (matches.Count == 0)
        {
            throw new InvalidDataException("tar: no *.btf member found" + where + " (members: " + Describe(names) + ")");
        }

        if (matches.Count > 1)
        {
            throw new InvalidDataException("tar: more than one *.btf member found" + where + " (" + Describe(matches) + ")");
        }

        memberName = found!.Name;
        return found.Data.ToArray();
    }

    /// <summary>Reads the file at <paramref name="path"/> and extracts its BTF member (see <see cref="ExtractBtf(ReadOnlySpan{byte}, string, long)"/>).</summary>
    public static byte[] ExtractBtfFile(string path, long maxOutputBytes = XzDecoder.DefaultMaxOutputBytes)
    {
        if (path is null)
        {
            throw new ArgumentNullException(nameof(path));
        }

        return ExtractBtf(File.ReadAllBytes(path), path, maxOutputBytes);
    }

    /// <summary>BTF header magic 0xEB9F in either byte order, followed by version 1.</summary>
    private static bool IsRawBtf(byte[] data)
    {
        return data.Length >= 24
            && ((data[0] == 0x9F && data[1] == 0xEB) || (data[0] == 0xEB && data[1] == 0x9F))
            && data[2] == 1;
    }

    private static string Describe(List<string> names)
    {
        if (names.Count == 0)
        {
            return "none";
        }

        var sb = new StringBuilder();
        for (int i = 0; i < names.Count && i < 10; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append(names[i]);
        }

        if (names.Count > 10)
        {
            sb.Append(", ... (").Append(names.Count).Append(" in all)");
        }

        return sb.ToString();
    }
}
