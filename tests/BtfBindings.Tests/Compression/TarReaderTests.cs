using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using BtfBindings.Compression;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

public class TarReaderTests
{
    private const string LongDir = "a-directory-name-that-is-quite-long-to-push-the-path-past-one-hundred-chars";
    private const string LongFile = "and-a-file-name-that-is-also-rather-long.btf";

    /// <summary>Creates a tree under dir/top and returns relative path → contents for its regular files.</summary>
    private static Dictionary<string, byte[]> CreateTree(string dir, bool longComponent)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["top/a.txt"] = Encoding.UTF8.GetBytes("hello tar\n"),
            ["top/empty"] = Array.Empty<byte>(),
            ["top/exact512.bin"] = RandomBytes(512, 1),
            ["top/sub/nested/data.bin"] = RandomBytes(10_000, 2),
            [$"top/{LongDir}/{LongFile}"] = CompressibleBytes(70_000, 3),
            ["top/ünïcødé-名前.txt"] = Encoding.UTF8.GetBytes("unicode"),
        };
        if (longComponent)
        {
            files["top/" + new string('g', 150) + ".txt"] = Encoding.UTF8.GetBytes("long component");
        }

        foreach (var (path, contents) in files)
        {
            string full = Path.Combine(dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, contents);
        }

        Directory.CreateDirectory(Path.Combine(dir, "top", "emptydir"));
        File.CreateSymbolicLink(Path.Combine(dir, "top", "link-to-a"), "a.txt");
        return files;
    }

    [Theory]
    [InlineData("gnu", true)]
    [InlineData("pax", true)]
    [InlineData("ustar", false)]
    [InlineData("oldgnu", true)]
    public void Reads_archives_created_by_tar(string format, bool longComponent)
    {
        using var tmp = new TempDir("compression");
        Dictionary<string, byte[]> files = CreateTree(tmp.Path, longComponent);
        byte[] tar = Run("tar", new[] { "--format=" + format, "-cf", "-", "-C", tmp.Path, "top" });
        Assert.True(TarReader.IsTar(tar));

        IReadOnlyList<TarEntry> entries = TarReader.ReadAllEntries(tar, "test.tar");
        var byName = entries.ToDictionary(e => e.Name.TrimEnd('/'));

        foreach (var (path, contents) in files)
        {
            Assert.True(byName.TryGetValue(path, out TarEntry? entry), $"{format}: missing {path}; have {string.Join(", ", byName.Keys)}");
            Assert.Equal(TarEntryType.RegularFile, entry!.Type);
            Assert.Equal(contents.Length, entry.Size);
            Assert.True(contents.AsSpan().SequenceEqual(entry.Data.Span), path);
            Assert.True(entry.ModificationTime > new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero));
        }

        Assert.Contains(files.Keys, k => k.Length > 100);
        foreach (string dir in new[] { "top", "top/sub", "top/sub/nested", "top/emptydir", "top/" + LongDir })
        {
            Assert.Equal(TarEntryType.Directory, byName[dir].Type);
            Assert.Equal(0, byName[dir].Size);
        }

        TarEntry link = byName["top/link-to-a"];
        Assert.Equal(TarEntryType.SymbolicLink, link.Type);
        Assert.Equal("a.txt", link.LinkName);
        Assert.Equal(files.Count + 6, entries.Count);
    }

    [Fact]
    public void Reads_tar_xz_and_hard_links()
    {
        using var tmp = new TempDir("compression");
        Dictionary<string, byte[]> files = CreateTree(tmp.Path, longComponent: true);
        File.CreateSymbolicLink(Path.Combine(tmp.Path, "top", "dangling"), new string('t', 180));
        Run("ln", new[] { Path.Combine(tmp.Path, "top", "a.txt"), Path.Combine(tmp.Path, "top", "hard") });
        byte[] tarXz = Run("tar", new[] { "--format=gnu", "-cJf", "-", "-C", tmp.Path, "top" });
        byte[] tar = XzDecoder.Decompress(tarXz);
        var byName = TarReader.ReadEntries(tar).ToDictionary(e => e.Name.TrimEnd('/'));

        // GNU long link name (type 'K').
        Assert.Equal(new string('t', 180), byName["top/dangling"].LinkName);

        // One of the two names is stored as a hard link to the other.
        TarEntry a = byName["top/a.txt"], hard = byName["top/hard"];
        TarEntry linkEntry = a.Type == TarEntryType.HardLink ? a : hard;
        TarEntry fileEntry = a.Type == TarEntryType.HardLink ? hard : a;
        Assert.Equal(TarEntryType.HardLink, linkEntry.Type);
        Assert.Equal(fileEntry.Name, linkEntry.LinkName);
        Assert.Equal(0, linkEntry.Size);
        Assert.Equal(files["top/a.txt"], fileEntry.Data.ToArray());
    }

    [Fact]
    public void Corrupt_and_truncated_archives_are_rejected()
    {
        using var tmp = new TempDir("compression");
        CreateTree(tmp.Path, longComponent: true);
        byte[] tar = Run("tar", new[] { "--format=gnu", "-cf", "-", "-C", tmp.Path, "top" });

        byte[] badChecksum = (byte[])tar.Clone();
        badChecksum[0] ^= 0x20;
        var e = Assert.Throws<BtfException>(() => TarReader.ReadAllEntries(badChecksum, "bad.tar"));
        Assert.Equal($"bad.tar at byte offset 0 (0x0): tar: header checksum mismatch (stored {ReadOctal(tar, 148, 8)}, computed {Checksum(badChecksum)})", e.Message);
        Assert.Equal("bad.tar", e.SourceName);
        Assert.Equal(0, e.Offset);

        // Truncate inside the data of the large member.
        List<TarEntry> entries = TarReader.ReadEntries(tar).ToList();
        TarEntry big = entries.Single(x => x.Name.EndsWith(LongFile, StringComparison.Ordinal));
        int cut = (int)big.HeaderOffset + 512 + 1000;
        e = Assert.Throws<BtfException>(() => TarReader.ReadAllEntries(tar.AsSpan(0, cut).ToArray()));
        Assert.Contains("extends past the end of the archive", e.Message);

        // Truncate inside a header.
        e = Assert.Throws<BtfException>(() => TarReader.ReadAllEntries(tar.AsSpan(0, (int)big.HeaderOffset + 100).ToArray()));
        Assert.Contains("truncated header", e.Message);

        // Every truncation and many byte flips: only BtfException (or a shorter listing).
        var rng = new Random(3);
        for (int i = 0; i < 400; i++)
        {
            byte[] damaged = i % 2 == 0 ? tar.AsSpan(0, rng.Next(tar.Length)).ToArray() : (byte[])tar.Clone();
            if (i % 2 == 1)
            {
                damaged[rng.Next(Math.Min(damaged.Length, 8192))] ^= (byte)rng.Next(1, 256);
            }

            try
            {
                foreach (TarEntry entry in TarReader.ReadEntries(damaged))
                {
                    _ = entry.Data.Length;
                }
            }
            catch (BtfException)
            {
            }
        }
    }

    [Fact]
    public void Pax_size_and_path_records_and_base_256_are_honoured()
    {
        var archive = new MemoryStream();
        byte[] data = RandomBytes(1500, 4);
        string longPath = "pax/" + new string('p', 200) + "/file.btf";
        string records = PaxRecord("path", longPath) + PaxRecord("size", data.Length.ToString()) + PaxRecord("mtime", "1700000000.5");
        WriteEntry(archive, "PaxHeaders/x", 'x', Encoding.UTF8.GetBytes(records));
        // The ustar header claims size 0 (as for >8 GiB members); the pax size wins.
        WriteHeader(archive, "short-name", '0', 0);
        archive.Write(data);
        Pad(archive);

        // A member whose size is stored in GNU base-256.
        byte[] second = RandomBytes(700, 5);
        byte[] header = MakeHeader("base256.bin", '0', 0);
        header[124] = 0x80;
        Array.Clear(header, 125, 11);
        header[134] = (byte)(second.Length >> 8);
        header[135] = (byte)second.Length;
        FixChecksum(header);
        archive.Write(header);
        archive.Write(second);
        Pad(archive);
        archive.Write(new byte[1024]);

        List<TarEntry> entries = TarReader.ReadEntries(archive.ToArray()).ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(longPath, entries[0].Name);
        Assert.Equal(data, entries[0].Data.ToArray());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), entries[0].ModificationTime);
        Assert.Equal("base256.bin", entries[1].Name);
        Assert.Equal(second, entries[1].Data.ToArray());
    }

    [Fact]
    public void Malformed_pax_record_is_rejected()
    {
        var archive = new MemoryStream();
        WriteEntry(archive, "PaxHeaders/x", 'x', Encoding.UTF8.GetBytes("99 path=x\n"));
        WriteHeader(archive, "f", '0', 0);
        archive.Write(new byte[1024]);
        var e = Assert.Throws<BtfException>(() => TarReader.ReadAllEntries(archive.ToArray(), "pax.tar"));
        Assert.Contains("pax record", e.Message);
        Assert.StartsWith("pax.tar at byte offset 512 (0x200): ", e.Message);
        Assert.Equal(("pax.tar", 512L), (e.SourceName, e.Offset));
    }

    [Fact]
    public void Empty_archive_has_no_entries()
    {
        Assert.Empty(TarReader.ReadAllEntries(new byte[10240]));
        Assert.Empty(TarReader.ReadAllEntries(Array.Empty<byte>()));
        Assert.False(TarReader.IsTar(new byte[10240]));
    }

    private static string PaxRecord(string key, string value)
    {
        int payload = Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value) + 3;
        int length = payload + 1;
        while (length.ToString().Length + payload != length)
        {
            length++;
        }

        return $"{length} {key}={value}\n";
    }

    private static byte[] MakeHeader(string name, char type, long size)
    {
        var h = new byte[512];
        Encoding.UTF8.GetBytes(name).CopyTo(h, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(h, 100);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(h, 124);
        Encoding.ASCII.GetBytes("14531707025\0").CopyTo(h, 136);
        h[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(h, 257);
        FixChecksum(h);
        return h;
    }

    private static void FixChecksum(byte[] h)
    {
        Encoding.ASCII.GetBytes(Convert.ToString(Checksum(h), 8).PadLeft(6, '0') + "\0 ").CopyTo(h, 148);
    }

    private static int Checksum(byte[] h)
    {
        int sum = 0;
        for (int i = 0; i < 512; i++)
        {
            sum += i >= 148 && i < 156 ? ' ' : h[i];
        }

        return sum;
    }

    private static long ReadOctal(byte[] b, int offset, int length)
    {
        string s = Encoding.ASCII.GetString(b, offset, length).Trim('\0', ' ');
        return Convert.ToInt64(s, 8);
    }

    private static void WriteHeader(Stream s, string name, char type, long size) => s.Write(MakeHeader(name, type, size));

    private static void WriteEntry(Stream s, string name, char type, byte[] data)
    {
        WriteHeader(s, name, type, data.Length);
        s.Write(data);
        Pad(s);
    }

    private static void Pad(Stream s)
    {
        while (s.Length % 512 != 0)
        {
            s.WriteByte(0);
        }
    }
}
