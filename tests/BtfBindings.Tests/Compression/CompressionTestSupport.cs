using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Compression;

/// <summary>Runs the xz and tar command-line tools and generates test data.</summary>
internal static class CompressionTestSupport
{
    /// <summary>Runs <paramref name="tool"/> with <paramref name="args"/>, feeding <paramref name="stdin"/>; returns stdout (a non-zero exit throws).</summary>
    public static byte[] Run(string tool, IEnumerable<string> args, byte[]? stdin = null, string? workingDirectory = null)
        => ProcessRunner.Check(tool, args, workingDirectory, TimeSpan.FromMinutes(10), stdin: stdin).StdOutBytes;

    /// <summary>Compresses <paramref name="data"/> with <c>xz -c</c> and the given options.</summary>
    public static byte[] XzCompress(byte[] data, params string[] options)
    {
        var args = new List<string> { "-c", "-q" };
        args.AddRange(options);
        return Run("xz", args, data);
    }

    /// <summary>Random bytes (incompressible).</summary>
    public static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>
    /// Compressible data resembling what we decompress in practice: text, little-endian records
    /// with small and repeating values, runs of zeros, and occasional random bytes.
    /// </summary>
    public static byte[] CompressibleBytes(int size, int seed)
    {
        var rng = new Random(seed);
        var output = new MemoryStream(size + 4096);
        string[] words =
        {
            "struct", "task_struct", "int", "unsigned", "long", "char", "const", "volatile", "btf", "kernel",
            "sched_entity", "list_head", "spinlock_t", "__u32", "__u64", "pid", "tgid", "mm_struct", "file",
            "inode", "dentry", "super_block", "page", "cgroup", "bpf_prog", "map", "ringbuf", "perf_event",
        };
        var text = new StringBuilder();
        while (output.Length < size)
        {
            switch (rng.Next(4))
            {
                case 0:
                    text.Clear();
                    int count = rng.Next(5, 60);
                    for (int i = 0; i < count; i++)
                    {
                        text.Append(words[rng.Next(words.Length)]);
                        text.Append(rng.Next(8) == 0 ? "\n" : " ");
                        if (rng.Next(10) == 0)
                        {
                            text.Append(rng.Next(100000));
                        }
                    }

                    byte[] t = Encoding.ASCII.GetBytes(text.ToString());
                    output.Write(t, 0, t.Length);
                    break;
                case 1:
                    int records = rng.Next(4, 40);
                    int baseValue = rng.Next(1 << 20);
                    for (int i = 0; i < records; i++)
                    {
                        WriteInt(output, baseValue + i);
                        WriteInt(output, rng.Next(4) == 0 ? rng.Next(1 << 16) : 0);
                        WriteInt(output, (i % 7) << 24 | rng.Next(3));
                    }

                    break;
                case 2:
                    int zeros = rng.Next(1, 300);
                    for (int i = 0; i < zeros; i++)
                    {
                        output.WriteByte(0);
                    }

                    break;
                default:
                    int noise = rng.Next(1, 24);
                    for (int i = 0; i < noise; i++)
                    {
                        output.WriteByte((byte)rng.Next(256));
                    }

                    break;
            }
        }

        byte[] result = output.ToArray();
        Array.Resize(ref result, size);
        return result;
    }

    /// <summary>Alternating incompressible and compressible segments (exercises uncompressed LZMA2 chunks and state resets).</summary>
    public static byte[] MixedBytes(int size, int seed)
    {
        var rng = new Random(seed);
        var result = new byte[size];
        int pos = 0;
        int segment = 0;
        while (pos < size)
        {
            int length = Math.Min(size - pos, rng.Next(1000, 300_000));
            byte[] part = (segment++ & 1) == 0 ? RandomBytes(length, rng.Next()) : CompressibleBytes(length, rng.Next());
            Buffer.BlockCopy(part, 0, result, pos, length);
            pos += length;
        }

        return result;
    }

    /// <summary>
    /// Bytes drawn mostly from opcode/prefix values that the BCJ filters look for (E8/E9, EB, F0/F8, 48,
    /// 40/7F, 94/90, 00/FF ...) so every converter gets plenty of work.
    /// </summary>
    public static byte[] BranchHeavyBytes(int size, int seed)
    {
        byte[] alphabet = { 0x00, 0xFF, 0xE8, 0xE9, 0xEB, 0xF0, 0xF7, 0xF8, 0xFF, 0x48, 0x49, 0x4B, 0x40, 0x7F, 0x94, 0x97, 0x90, 0xB0, 0x10, 0x05, 0x0A, 0x01, 0x02, 0xC0 };
        var rng = new Random(seed);
        var data = new byte[size];
        for (int i = 0; i < size; i++)
        {
            data[i] = rng.Next(3) == 0 ? (byte)rng.Next(256) : alphabet[rng.Next(alphabet.Length)];
        }

        return data;
    }

    private static void WriteInt(Stream s, int value)
    {
        s.WriteByte((byte)value);
        s.WriteByte((byte)(value >> 8));
        s.WriteByte((byte)(value >> 16));
        s.WriteByte((byte)(value >> 24));
    }
}
