using System;
using System.IO;
using System.Threading.Tasks;
using BtfBindings.Compression;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

/// <summary>
/// Corrupt and truncated inputs must fail with <see cref="BtfException"/> (never another exception,
/// never a hang); a corruption covered by an integrity check must never produce wrong output.
/// </summary>
public class XzCorruptionTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    private enum Outcome
    {
        Rejected,
        Identical,
        Different,
    }

    /// <summary>Decodes and classifies the result; any exception other than a clean BtfException fails the test.</summary>
    private static Outcome Decode(byte[] input, byte[] original, string what)
    {
        byte[] output;
        try
        {
            output = XzDecoder.Decompress(input, "corrupt.xz", maxOutputBytes: 64 << 20);
        }
        catch (BtfException e)
        {
            Assert.False(e.Message.Contains("internal decoder error", StringComparison.Ordinal), what + ": " + e.Message + "\n" + e.InnerException);
            Assert.StartsWith("xz: ", e.Detail);
            Assert.Equal("corrupt.xz", e.SourceName);
            Assert.NotNull(e.Offset);
            Assert.InRange(e.Offset!.Value, 0, input.Length);
            return Outcome.Rejected;
        }
        catch (Exception e)
        {
            Assert.Fail(what + ": unexpected " + e);
            throw;
        }

        return original.AsSpan().SequenceEqual(output) ? Outcome.Identical : Outcome.Different;
    }

    private static void WithTimeout(Action action)
    {
        Task task = Task.Run(action);
        Assert.True(task.Wait(Budget), "decoding corrupt input did not finish in time (hang?)");
        task.GetAwaiter().GetResult();
    }

    [Theory]
    [InlineData("--check=crc64 --block-size=6000")]
    [InlineData("--check=crc32")]
    [InlineData("--check=sha256 -T2 --block-size=9000")]
    [InlineData("--check=crc32 --x86 --lzma2=preset=6")]
    [InlineData("--check=crc64 --delta=dist=4 --lzma2=preset=1")]
    public void Every_byte_flip_covered_by_checks_is_detected(string options)
    {
        byte[] original = MixedBytes(16_000, 100);
        byte[] xz = XzCompress(original, options.Split(' '));
        Assert.True(xz.Length < 30_000);
        WithTimeout(() =>
        {
            var rng = new Random(1234);
            int rejected = 0;
            for (int pos = 0; pos < xz.Length; pos++)
            {
                foreach (byte mask in new[] { (byte)0x01, (byte)0x80, (byte)rng.Next(1, 256) })
                {
                    byte[] corrupted = (byte[])xz.Clone();
                    corrupted[pos] ^= mask;
                    Outcome outcome = Decode(corrupted, original, $"flip 0x{mask:X2} at {pos}");
                    Assert.True(outcome != Outcome.Different, $"{options}: flip 0x{mask:X2} at offset {pos} of {xz.Length} produced wrong output without an error");
                    rejected += outcome == Outcome.Rejected ? 1 : 0;
                }
            }

            Assert.True(rejected > xz.Length * 2, "most flips must be rejected");
        });
    }

    [Fact]
    public void Byte_flips_without_integrity_check_never_crash()
    {
        byte[] original = MixedBytes(40_000, 101);
        byte[] xz = XzCompress(original, "--check=none", "--block-size=15000");
        WithTimeout(() =>
        {
            var rng = new Random(99);
            for (int pos = 0; pos < xz.Length; pos++)
            {
                byte[] corrupted = (byte[])xz.Clone();
                corrupted[pos] ^= (byte)rng.Next(1, 256);
                Decode(corrupted, original, $"flip at {pos}");
            }
        });
    }

    [Theory]
    [InlineData("--check=crc64")]
    [InlineData("--check=none -T2 --block-size=3000")]
    [InlineData("--check=sha256 --arm64 --lzma2")]
    public void Every_truncation_is_rejected(string options)
    {
        byte[] original = MixedBytes(20_000, 102);
        byte[] xz = XzCompress(original, options.Split(' '));
        WithTimeout(() =>
        {
            for (int length = 0; length < xz.Length; length++)
            {
                Assert.Equal(Outcome.Rejected, Decode(xz.AsSpan(0, length).ToArray(), original, $"truncated to {length}"));
            }
        });
    }

    [Fact]
    public void Truncations_of_a_large_multi_block_file_are_rejected()
    {
        byte[] original = MixedBytes(2 << 20, 103);
        byte[] xz = XzCompress(original, "-T2", "--block-size=300000", "--check=crc64");
        WithTimeout(() =>
        {
            var rng = new Random(5);
            for (int i = 0; i < 60; i++)
            {
                int length = rng.Next(xz.Length);
                Assert.Equal(Outcome.Rejected, Decode(xz.AsSpan(0, length).ToArray(), original, $"truncated to {length}"));
            }
        });
    }

    [Fact]
    public void Random_overwrites_and_garbage_never_crash()
    {
        byte[] original = CompressibleBytes(30_000, 104);
        byte[] xz = XzCompress(original, "--check=crc32", "--block-size=8000");
        WithTimeout(() =>
        {
            var rng = new Random(77);
            for (int i = 0; i < 3000; i++)
            {
                byte[] corrupted = (byte[])xz.Clone();
                int runs = rng.Next(1, 4);
                for (int r = 0; r < runs; r++)
                {
                    int start = rng.Next(corrupted.Length);
                    int length = Math.Min(corrupted.Length - start, rng.Next(1, 32));
                    for (int k = 0; k < length; k++)
                    {
                        corrupted[start + k] = (byte)rng.Next(256);
                    }
                }

                Assert.NotEqual(Outcome.Different, Decode(corrupted, original, $"overwrite #{i}"));
            }

            // A valid stream header followed by garbage, and pure garbage of many lengths.
            for (int i = 0; i < 500; i++)
            {
                byte[] garbage = new byte[rng.Next(0, 3000)];
                rng.NextBytes(garbage);
                if (i % 2 == 0 && garbage.Length >= 12)
                {
                    Array.Copy(xz, garbage, 12);
                }

                Decode(garbage, original, $"garbage #{i}");
            }
        });
    }

    [Fact]
    public void Hand_made_blocks_with_bad_fields_are_rejected()
    {
        // Build a valid file, then corrupt semantic fields while fixing up the header CRC32 so
        // the specific validation (not the CRC) has to catch them.
        byte[] original = CompressibleBytes(5000, 105);
        byte[] xz = XzCompress(original, "--check=crc32");

        // Reserved block flag bit.
        AssertRejectedWithFixedHeaderCrc(xz, b => b[13] |= 0x04, "reserved");
        // Unknown filter ID (LZMA2 = 0x21 → 0x22).
        AssertRejectedWithFixedHeaderCrc(xz, b => b[14] = 0x22, "filter");
        // Dictionary size byte out of range.
        AssertRejectedWithFixedHeaderCrc(xz, b => b[16] = 41, "dictionary");
    }

    private static void AssertRejectedWithFixedHeaderCrc(byte[] xz, Action<byte[]> mutate, string expectedInMessage)
    {
        byte[] copy = (byte[])xz.Clone();
        mutate(copy);
        int headerSize = (copy[12] + 1) * 4;
        uint crc = Crc32(copy.AsSpan(12, headerSize - 4));
        BitConverter.TryWriteBytes(copy.AsSpan(12 + headerSize - 4), crc);
        var e = Assert.Throws<BtfException>(() => XzDecoder.Decompress(copy));
        Assert.Contains(expectedInMessage, e.Message);
        Assert.Contains("block 1", e.Message);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
