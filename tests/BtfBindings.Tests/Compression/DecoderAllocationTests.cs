using System;
using System.IO;
using System.Linq;
using BtfBindings.Compression;
using BtfBindings.Containers;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

/// <summary>
/// The decoders allocate what the input can back and grow with the output really produced: a size a small input
/// declares (an xz index, an LZ4 block's maximum) is never allocated ahead of the data. Measured with the runtime's
/// own allocation counter; the inputs are the fuzzing regressions (tests/fuzz/regressions) and tool-made files.
/// </summary>
public class DecoderAllocationTests
{
    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static string Regression(string rel) => Path.Combine(Fixtures.RepoRoot, "tests", "fuzz", "regressions", rel);

    [Fact]
    public void Xz_whose_index_declares_60_MiB_is_rejected_without_allocating_it()
    {
        var xz = File.ReadAllBytes(Regression("xz/xzdecoder-index-declares-60MiB-allocated-up-front.xz"));
        Assert.Equal(56, xz.Length);
        Exception? error = null;
        long used = Allocated(() => error = Record.Exception(() => XzDecoder.Decompress(xz, "lying.xz", 64L << 20)));
        Assert.NotNull(error);
        Assert.Contains("uncompressed size 62914560) does not match the block", error!.Message);
        Assert.True(used < 1 << 20, $"allocated {used} bytes for a 56-byte input (was 60 MiB before the fix)");
    }

    [Fact]
    public void Xz_output_grows_to_the_declared_size_exactly()
    {
        // Compresses ~40:1, so the first buffer (4 x the input) is far too small: growth is what is measured here.
        var original = CompressibleBytes(6 << 20, 7);
        var xz = XzCompress(original, "-6");
        byte[]? decoded = null;
        long used = Allocated(() => decoded = XzDecoder.Decompress(xz));
        Assert.True(original.AsSpan().SequenceEqual(decoded), "decompressed bytes differ from xz's input");
        // Doubling up to the declared size, whose last step stops there (no final copy): at most ~2x the output.
        Assert.True(used < 2.5 * original.Length, $"allocated {used} bytes for {original.Length} bytes of output ({xz.Length} compressed)");
    }

    [Fact]
    public void Lz4_frame_of_one_tiny_block_does_not_reserve_a_whole_block_maximum()
    {
        var frame = File.ReadAllBytes(Regression("lz4/lz4-reserved-8MiB-before-a-6-byte-block.lz4"));
        byte[]? decoded = null;
        long used = Allocated(() => decoded = Lz4LegacyDecoder.Decompress(frame, 64L << 20, out _));
        Assert.Equal("hello"u8.ToArray(), decoded);
        Assert.True(used < 256 << 10, $"allocated {used} bytes for a {frame.Length}-byte frame (was 8 MiB before the fix)");
    }

    [Fact]
    public void Lz4_frames_from_the_lz4_tool_decode_across_full_8_MiB_blocks()
    {
        // 20 MiB of compressible data: two full 8 MiB blocks and a partial one, as `lz4 -l` writes kernel images.
        var original = CompressibleBytes(20 << 20, 11);
        var frame = Run("lz4", new[] { "-l", "-c" }, original);
        int consumed = 0;
        byte[]? decoded = null;
        long used = Allocated(() => decoded = Lz4LegacyDecoder.Decompress(frame, 64L << 20, out consumed));
        Assert.Equal(frame.Length, consumed);
        Assert.True(original.AsSpan().SequenceEqual(decoded), "decompressed bytes differ from lz4's input");
        Assert.True(used < 3.5 * original.Length, $"allocated {used} bytes for {original.Length} bytes of output");
    }
}
