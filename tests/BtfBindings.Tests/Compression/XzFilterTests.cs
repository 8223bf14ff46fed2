using System;
using System.Collections.Generic;
using System.IO;
using BtfBindings.Compression;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

/// <summary>Filter chains with BCJ and delta filters in front of LZMA2.</summary>
public class XzFilterTests
{
    public static IEnumerable<object[]> FilterCases()
    {
        // Sizes deliberately not multiples of 4 or 16 so the unconverted tails are exercised.
        yield return new object[] { "--x86 --lzma2" };
        yield return new object[] { "--x86=start=4096 --lzma2" };
        yield return new object[] { "--x86=start=3 --lzma2=preset=0" };
        yield return new object[] { "--powerpc --lzma2" };
        yield return new object[] { "--powerpc=start=1004 --lzma2" };
        yield return new object[] { "--ia64 --lzma2" };
        yield return new object[] { "--ia64=start=256 --lzma2" };
        yield return new object[] { "--arm --lzma2" };
        yield return new object[] { "--arm=start=1028 --lzma2" };
        yield return new object[] { "--armthumb --lzma2" };
        yield return new object[] { "--armthumb=start=2050 --lzma2" };
        yield return new object[] { "--sparc --lzma2" };
        yield return new object[] { "--sparc=start=65540 --lzma2" };
        yield return new object[] { "--arm64 --lzma2" };
        yield return new object[] { "--arm64=start=1048576 --lzma2" };
        yield return new object[] { "--delta=dist=1 --lzma2" };
        yield return new object[] { "--delta=dist=4 --lzma2" };
        yield return new object[] { "--delta=dist=256 --lzma2" };
        yield return new object[] { "--delta=dist=2 --x86 --lzma2" };
        yield return new object[] { "--x86 --delta=dist=7 --lzma2" };
        yield return new object[] { "--delta=dist=3 --arm64 --delta=dist=1 --lzma2" };
        yield return new object[] { "--x86 --lzma2 --check=sha256 --block-size=50000" };
        yield return new object[] { "-T2 --block-size=70001 --arm --lzma2 --check=crc32" };
    }

    [Theory]
    [MemberData(nameof(FilterCases))]
    public void Filter_chain_round_trips(string options)
    {
        string[] args = options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (byte[] original in new[] { BranchHeavyBytes(262_147, 42), CompressibleBytes(100_003, 43), RandomBytes(3, 44), Array.Empty<byte>() })
        {
            byte[] xz = XzCompress(original, args);
            byte[] decoded = XzDecoder.Decompress(xz);
            Assert.True(original.AsSpan().SequenceEqual(decoded), $"mismatch for {options} on {original.Length} bytes");
        }
    }

    [FullFact]
    public void X86_filter_on_real_machine_code()
    {
        // A real x86-64 (or whatever this machine runs) executable: what the BCJ filter is designed for.
        string? binary = null;
        foreach (string candidate in new[] { "/bin/bash", "/usr/bin/bash", "/bin/sh", "/usr/bin/env" })
        {
            if (File.Exists(candidate))
            {
                binary = candidate;
                break;
            }
        }

        byte[] original = binary != null ? File.ReadAllBytes(binary) : BranchHeavyBytes(1 << 20, 45);
        foreach (string filter in new[] { "--x86", "--arm64", "--arm", "--ia64" })
        {
            byte[] xz = XzCompress(original, filter, "--lzma2=preset=6", "--check=crc64");
            Assert.True(original.AsSpan().SequenceEqual(XzDecoder.Decompress(xz)), filter + " on " + (binary ?? "synthetic data"));
        }
    }

    [FullFact]
    public void Kernel_module_style_settings_round_trip()
    {
        // scripts/Makefile.modinst: xz --check=crc32 --lzma2=dict=1MiB (no BCJ for modules);
        // scripts/xz_wrap.sh for vmlinux: --check=crc32 --x86 --lzma2=,dict=32MiB.
        byte[] original = MixedBytes(3 << 20, 46);
        Assert.Equal(original, XzDecoder.Decompress(XzCompress(original, "--check=crc32", "--lzma2=dict=1MiB")));
        byte[] payload = XzCompress(original, "--check=crc32", "--x86", "--lzma2=,dict=32MiB");
        Assert.Equal(original, XzDecoder.Decompress(payload));

        // In a bzImage the payload is followed by its 4-byte uncompressed size (and more data after it):
        // a strict whole-file decode rejects that, the single-stream API stops at the stream's end.
        byte[] embedded = XzDecoderTests.Concat(payload, BitConverter.GetBytes(original.Length), RandomBytes(1000, 47));
        Assert.Throws<BtfException>(() => XzDecoder.Decompress(embedded));
        Assert.Equal(original, XzDecoder.DecompressSingleStream(embedded, out int consumed));
        Assert.Equal(payload.Length, consumed);

        // A corrupt embedded stream is still rejected.
        embedded[payload.Length - 20] ^= 1;
        Assert.Throws<BtfException>(() => XzDecoder.DecompressSingleStream(embedded, out _, "vmlinuz"));
    }
}
