using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Compression;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

public class XzDecoderTests
{
    public enum DataKind
    {
        Random,
        Compressible,
        Mixed,
        Zeros,
    }

    private static byte[] MakeData(DataKind kind, int size, int seed)
    {
        switch (kind)
        {
            case DataKind.Random: return RandomBytes(size, seed);
            case DataKind.Compressible: return CompressibleBytes(size, seed);
            case DataKind.Mixed: return MixedBytes(size, seed);
            default: return new byte[size];
        }
    }

    private static void AssertRoundTrip(byte[] original, byte[] xz)
    {
        byte[] decoded = XzDecoder.Decompress(xz);
        Assert.Equal(original.Length, decoded.Length);
        Assert.True(original.AsSpan().SequenceEqual(decoded), "decompressed bytes differ from the original");
    }

    /// <summary>The 20 MiB cases belong to the full tier (a minute of xz on two cores).</summary>
    public static IEnumerable<object[]> TieredRoundTripCases() => RoundTripCases().Where(r => Tier.Full || (int)r[2] < 16 << 20);

    public static IEnumerable<object[]> RoundTripCases()
    {
        const int MiB = 1 << 20;
        // name, kind, size, xz options
        yield return new object[] { "empty", DataKind.Compressible, 0, "-6" };
        yield return new object[] { "one byte", DataKind.Random, 1, "-6" };
        yield return new object[] { "one byte -0 none", DataKind.Random, 1, "-0 --check=none" };
        yield return new object[] { "small text", DataKind.Compressible, 1000, "-6" };
        yield return new object[] { "1MiB random", DataKind.Random, MiB, "-6" };
        yield return new object[] { "1MiB compressible", DataKind.Compressible, MiB, "-6" };
        yield return new object[] { "1MiB zeros", DataKind.Zeros, MiB, "-6" };
        yield return new object[] { "check none", DataKind.Compressible, MiB, "--check=none" };
        yield return new object[] { "check crc32", DataKind.Compressible, MiB, "--check=crc32" };
        yield return new object[] { "check crc64", DataKind.Compressible, MiB, "--check=crc64" };
        yield return new object[] { "check sha256", DataKind.Compressible, MiB, "--check=sha256" };
        yield return new object[] { "check sha256 random", DataKind.Random, 300_001, "--check=sha256" };
        yield return new object[] { "preset 0", DataKind.Compressible, 2 * MiB, "-0" };
        yield return new object[] { "preset 9e", DataKind.Compressible, 2 * MiB, "-9e" };
        yield return new object[] { "preset 9e mixed", DataKind.Mixed, 2 * MiB, "-9e" };
        yield return new object[] { "mixed chunks", DataKind.Mixed, 3 * MiB, "-6" };
        yield return new object[] { "block size 64KiB", DataKind.Compressible, MiB, "--block-size=65536" };
        yield return new object[] { "block size odd", DataKind.Mixed, MiB, "--block-size=99999 --check=crc32" };
        yield return new object[] { "multithreaded blocks", DataKind.Compressible, 3 * MiB, "-T2 --block-size=400000" };
        yield return new object[] { "multithreaded mixed", DataKind.Mixed, 3 * MiB, "-T2 --block-size=500000 --check=sha256" };
        yield return new object[] { "block list", DataKind.Compressible, MiB, "--block-list=1,1000,100000,0" };
        yield return new object[] { "dict 4KiB", DataKind.Compressible, MiB, "--lzma2=dict=4KiB" };
        yield return new object[] { "dict 64KiB lc0 lp2 pb0", DataKind.Compressible, MiB, "--lzma2=dict=64KiB,lc=0,lp=2,pb=0" };
        yield return new object[] { "lc4 lp0 pb4", DataKind.Compressible, MiB, "--lzma2=lc=4,lp=0,pb=4" };
        yield return new object[] { "lc1 lp3 pb2 bt4 nice273", DataKind.Mixed, MiB, "--lzma2=lc=1,lp=3,pb=2,mf=bt4,nice=273,depth=0" };
        yield return new object[] { "fast mode hc3", DataKind.Compressible, MiB, "--lzma2=preset=1,mode=fast,mf=hc3" };
        yield return new object[] { "bt2 normal", DataKind.Compressible, MiB, "--lzma2=mf=bt2,mode=normal,nice=8" };
        yield return new object[] { "20MiB compressible", DataKind.Compressible, 20 * MiB, "-6 -T2 --block-size=8MiB" };
        yield return new object[] { "20MiB random", DataKind.Random, 20 * MiB, "-0 -T2" };
    }

    [Theory]
    [MemberData(nameof(TieredRoundTripCases))]
    public void Round_trip_matches_xz(string name, DataKind kind, int size, string options)
    {
        byte[] original = MakeData(kind, size, seed: name.GetHashCode(StringComparison.Ordinal) & 0xFFFF ^ size);
        byte[] xz = XzCompress(original, options.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(XzDecoder.IsXz(xz));
        AssertRoundTrip(original, xz);
    }

    [Fact]
    public void Concatenated_streams_are_joined()
    {
        byte[] a = CompressibleBytes(200_000, 1);
        byte[] b = RandomBytes(5000, 2);
        byte[] c = CompressibleBytes(77, 3);
        byte[] xz = Concat(
            XzCompress(a, "--check=crc32"),
            XzCompress(Array.Empty<byte>()),
            XzCompress(b, "--check=sha256"),
            XzCompress(c, "--check=none", "--block-size=10"));
        AssertRoundTrip(Concat(a, b, c), xz);
    }

    [Fact]
    public void Stream_padding_is_accepted()
    {
        byte[] a = CompressibleBytes(10_000, 4);
        byte[] b = CompressibleBytes(20_000, 5);
        byte[] xz = Concat(XzCompress(a), new byte[8], XzCompress(b), new byte[4]);
        AssertRoundTrip(Concat(a, b), xz);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    public void Stream_padding_not_multiple_of_four_is_rejected(int padding)
    {
        byte[] a = CompressibleBytes(10_000, 4);
        byte[] single = XzCompress(a);
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(Concat(single, new byte[padding])));
        Assert.Contains("padding", e.Message);
        Assert.Equal(single.Length, e.Offset);
        e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(Concat(single, new byte[padding], single)));
        Assert.Contains("padding", e.Message);
    }

    [Fact]
    public void Trailing_garbage_is_rejected()
    {
        byte[] single = XzCompress(CompressibleBytes(10_000, 4));
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(Concat(single, new byte[] { 1, 2, 3, 4 }), "x.xz"));
        Assert.Contains("after the end of stream 1", e.Message);
        Assert.Equal("x.xz", e.SourceName);
        Assert.NotNull(e.Offset);
    }

    [Fact]
    public void Not_xz_is_rejected()
    {
        Assert.False(XzDecoder.IsXz(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A }));
        Assert.False(XzDecoder.IsXz(new byte[] { 0x1F, 0x8B, 0, 0, 0, 0, 0 }));
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(Array.Empty<byte>(), "empty.xz"));
        Assert.Equal("empty.xz at byte offset 0 (0x0): xz: input is empty", e.Message);
        e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.Contains("not an xz file", e.Message);

        // The legacy .lzma format is not xz.
        byte[] lzma = XzCompress(CompressibleBytes(1000, 9), "--format=lzma");
        Assert.False(XzDecoder.IsXz(lzma));
        Assert.Throws<BtfException>(() => XzDecoder.Decompress(lzma));
    }

    [Fact]
    public void Output_limit_is_enforced()
    {
        byte[] original = CompressibleBytes(1 << 20, 10);
        byte[] xz = XzCompress(original);
        Assert.Equal(original, XzDecoder.Decompress(xz, maxOutputBytes: original.Length));
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(xz, "bomb.xz", maxOutputBytes: original.Length - 1));
        Assert.Contains("limit", e.Message);
        Assert.Contains("bomb.xz", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => XzDecoder.Decompress(xz, maxOutputBytes: -1));
    }

    [Fact]
    public void Decompression_bomb_fails_cleanly()
    {
        // 256 MiB of zeros compresses to ~40 KiB.
        byte[] bomb = XzCompress(new byte[256 << 20], "-6", "-T2");
        Assert.True(bomb.Length < 1 << 20);
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(bomb, maxOutputBytes: 16 << 20));
        Assert.Contains("limit", e.Message);

        // Without a usable index (trailing garbage hides it) the cap is enforced while decoding.
        byte[] withGarbage = Concat(bomb, new byte[] { 1, 2, 3, 4 });
        e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(withGarbage, maxOutputBytes: 16 << 20));
        Assert.Contains("exceeds the output limit", e.Message);
    }

    [Fact]
    public void Stream_and_file_overloads_work()
    {
        byte[] original = CompressibleBytes(300_000, 11);
        byte[] xz = XzCompress(original, "--check=crc32");

        Assert.Equal(original, XzDecoder.Decompress(new MemoryStream(xz)));

        using (var nonSeekable = new BufferedStream(new MemoryStream(xz)))
        {
            Assert.Equal(original, XzDecoder.Decompress(nonSeekable));
        }

        var prefixed = new MemoryStream(Concat(new byte[] { 9, 9, 9 }, xz), 0, xz.Length + 3, writable: false, publiclyVisible: true);
        prefixed.Position = 3;
        Assert.Equal(original, XzDecoder.Decompress(prefixed));

        using var dir = new TempDir("compression");
        string path = dir.File("data.xz");
        File.WriteAllBytes(path, xz);
        Assert.Equal(original, XzDecoder.DecompressFile(path));

        byte[] broken = (byte[])xz.Clone();
        broken[broken.Length / 2] ^= 0x55;
        File.WriteAllBytes(path, broken);
        var e = Assert.Throws<BtfException>(() => XzDecoder.DecompressFile(path));
        Assert.Equal(path, e.SourceName);
        Assert.StartsWith(path + " at byte offset ", e.Message);
    }

    [Fact]
    public void Block_check_mismatch_names_block_offset_and_source()
    {
        byte[] original = CompressibleBytes(100_000, 12);
        byte[] xz = XzCompress(original, "--check=crc64", "--block-size=40000");
        // Locate the first block's check: with stored sizes we can walk the file, but simply
        // corrupting the CRC64 of the last block (right before the index) is enough. The index
        // follows the last check; find it via the backward size in the footer.
        int backward = (BitConverter.ToInt32(xz, xz.Length - 8) + 1) * 4;
        int indexStart = xz.Length - 12 - backward;
        int checkOffset = indexStart - 8;
        xz[checkOffset] ^= 1;
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(xz, "foo.btf.tar.xz"));
        Assert.Matches(@"^foo\.btf\.tar\.xz at byte offset " + checkOffset + @" \(0x[0-9a-f]+\): xz: block 3: CRC64 mismatch \(stored [0-9A-F]{16}, computed [0-9A-F]{16}\)$", e.Message);
        Assert.Equal(("foo.btf.tar.xz", (long)checkOffset), (e.SourceName, e.Offset));
    }

    [Fact]
    public void Errors_in_later_streams_name_the_stream()
    {
        byte[] first = XzCompress(CompressibleBytes(5000, 14), "--check=crc32");
        byte[] second = XzCompress(CompressibleBytes(5000, 15), "--check=crc32");
        int backward = (BitConverter.ToInt32(second, second.Length - 8) + 1) * 4;
        int checkOffset = second.Length - 12 - backward - 4;
        second[checkOffset] ^= 0x40;
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(Concat(first, new byte[4], second), "two.xz"));
        Assert.StartsWith("xz: stream 2 block 1: CRC32 mismatch", e.Detail);
        Assert.Equal(("two.xz", (long)(first.Length + 4 + checkOffset)), (e.SourceName, e.Offset));

        var truncated = Concat(first, second.AsSpan(0, 12).ToArray());
        e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(truncated));
        Assert.Equal("xz: stream 2: unexpected end of input in block header or index (needs 1 bytes, 0 left)", e.Detail);
        Assert.Equal(truncated.Length, e.Offset);
    }

    [Fact]
    public void Index_mismatch_is_detected()
    {
        // Two streams; swap their indexes' record contents by splicing a different stream's index is hard,
        // so instead build a file whose index lists more blocks than were decoded: drop the first block.
        byte[] original = CompressibleBytes(100_000, 13);
        byte[] xz = XzCompress(original, "--check=crc32", "-T2", "--block-size=30000");
        int firstBlockSize = FirstBlockTotalSize(xz);
        byte[] dropped = Concat(xz.AsSpan(0, 12).ToArray(), xz.AsSpan(12 + firstBlockSize).ToArray());
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(dropped));
        Assert.Contains("index", e.Message);
    }

    /// <summary>Size of the first block (header + data + padding + check) for files whose block headers store sizes.</summary>
    private static int FirstBlockTotalSize(byte[] xz)
    {
        int headerSize = (xz[12] + 1) * 4;
        byte flags = xz[13];
        Assert.True((flags & 0x40) != 0, "test needs a block header that stores the compressed size (xz -T2)");
        int p = 14;
        long compressed = 0;
        int shift = 0;
        while (true)
        {
            byte b = xz[p++];
            compressed |= (long)(b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        int checkSize = (xz[7] & 0xF) switch { 0 => 0, 1 => 4, 4 => 8, _ => 32 };
        return headerSize + (int)((compressed + 3) & ~3L) + checkSize;
    }

    internal static byte[] Concat(params byte[][] parts)
    {
        return parts.SelectMany(p => p).ToArray();
    }
}
