using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Writes through relocatable views generated from x86_64-6.12 into objects of another kernel, checked byte by byte
    /// against bpftool's dump of that kernel: each field lands at the target's offset in the target's byte order, bitfields
    /// at the bits libbpf's rules give for bpftool's bits_offset/bitfield_size, and no other byte changes.
    /// </summary>
    public class ViewWriteTests
    {
        private readonly ITestOutputHelper _out;
        public ViewWriteTests(ITestOutputHelper output) { _out = output; }

        private const string Source = @"
using System;
using System.Runtime.InteropServices;
using System.Text;
using BtfBindings;
namespace GenWrite
{
    [BtfTypes(""task_struct"", ""iphdr"")]
    public static partial class K { }

    public static class Probe
    {
        public static void WriteTask(byte[] d, TargetKernel k, long pid, long tgid, long flags, long prio, ulong vruntime, string comm, long inExecve, long inIowait)
        {
            var t = new K.task_struct.View(d, k);
            t.pid = (int)pid;
            t.tgid = (int)tgid;
            t.flags = (uint)flags;
            t.prio = (int)prio;
            var se = t.se;
            se.vruntime = vruntime;
            var c = MemoryMarshal.AsBytes(t.comm);
            c.Clear();
            Encoding.ASCII.GetBytes(comm).CopyTo(c);
            t.in_execve = (uint)inExecve;
            t.in_iowait = (uint)inIowait;
        }

        public static string ReadTask(byte[] d, TargetKernel k)
        {
            var t = new K.task_struct.View(d, k);
            var c = MemoryMarshal.AsBytes(t.comm);
            int n = c.IndexOf((byte)0);
            return $""{t.pid} {t.tgid} 0x{t.flags:x} {t.prio} 0x{t.se.vruntime:x} {Encoding.ASCII.GetString(n < 0 ? c : c.Slice(0, n))} {t.in_execve} {t.in_iowait}"";
        }

        public static void WriteIp(byte[] d, TargetKernel k, long ihl, long version, long totLen, long ttl)
        {
            var ip = new K.iphdr.View(d, k);
            ip.ihl = (byte)ihl;
            ip.version = (byte)version;
            ip.tot_len = (ushort)totLen;
            ip.ttl = (byte)ttl;
        }

        public static string ReadIp(byte[] d, TargetKernel k)
        {
            var ip = new K.iphdr.View(d, k);
            return $""{ip.ihl} {ip.version} {ip.tot_len} {ip.ttl}"";
        }
    }
}";

        private static Assembly Asm() => GeneratedAssemblies.Build(Fixtures.Path("x86_64-6.12"), Source);

        /// <summary>The expected bytes, built from bpftool's dump of the target only.</summary>
        private sealed class Expected
        {
            private readonly BpftoolOracle _o;
            private readonly BpftoolType _root;
            public readonly byte[] Bytes;
            public readonly List<(string field, long from, long to)> Touched = new List<(string, long, long)>();

            public Expected(BpftoolOracle o, BpftoolType root, byte[] background) { _o = o; _root = root; Bytes = (byte[])background.Clone(); }

            /// <summary>bpftool's absolute bits_offset, bitfield_size (0: not a bitfield) and byte size of a member path.</summary>
            public (long bitOffset, int bitfieldSize, long size) At(string path)
            {
                var t = _root;
                long bits = 0;
                var parts = path.Split('.');
                for (int i = 0; ; i++)
                {
                    var hit = _o.Find(t, parts[i]) ?? throw new InvalidOperationException($"{_o.Name}: no {path}");
                    bits += hit.bitOffset;
                    if (i == parts.Length - 1) return (bits, hit.member.BitfieldSize, _o.SizeOf(hit.member.TypeId));
                    t = _o.Skip(hit.member.TypeId);
                }
            }

            /// <summary>A plain member: <paramref name="size"/> bytes at bits_offset / 8, in the target's byte order.</summary>
            public void Plain(string path, ulong value)
            {
                var (bits, bf, size) = At(path);
                Assert.Equal(0, bf);
                Assert.Equal(0, bits % 8);
                long off = bits / 8;
                for (int i = 0; i < size; i++) Bytes[off + (_o.BigEndian ? size - 1 - i : i)] = (byte)(value >> (8 * i));
                Touched.Add((path, off, off + size));
            }

            public void Raw(string path, byte[] content)
            {
                var (bits, _, size) = At(path);
                Array.Clear(Bytes, (int)(bits / 8), (int)size);
                content.CopyTo(Bytes, bits / 8);
                Touched.Add((path, bits / 8, bits / 8 + size));
            }

            /// <summary>
            /// A bitfield as BTF describes it (what libbpf's CO-RE field relocation reads and writes): on a little-endian
            /// target bit k of the value is bit bits_offset + k counted from the least significant bit of byte 0; on a
            /// big-endian target the value's most significant bit is bit bits_offset counted from the most significant bit
            /// of byte 0, so bit k of the value is bit bits_offset + size - 1 - k.
            /// </summary>
            public void Bitfield(string path, ulong value, int expectSize)
            {
                var (bits, bf, _) = At(path);
                Assert.Equal(expectSize, bf);
                for (int k = 0; k < bf; k++)
                {
                    long p = _o.BigEndian ? bits + bf - 1 - k : bits + k;
                    int shift = _o.BigEndian ? 7 - (int)(p % 8) : (int)(p % 8);
                    if (((value >> k) & 1) != 0) Bytes[p / 8] |= (byte)(1 << shift); else Bytes[p / 8] &= (byte)~(1 << shift);
                }
                Touched.Add((path, bits / 8, (bits + bf + 7) / 8));
            }

            /// <summary>The bit of a 1-bit field in <see cref="Bytes"/>.</summary>
            public int Bit(string path)
            {
                var (bits, _, _) = At(path);
                int shift = _o.BigEndian ? 7 - (int)(bits % 8) : (int)(bits % 8);
                return (Bytes[bits / 8] >> shift) & 1;
            }
        }

        private static void AssertSameBytes(byte[] expected, byte[] actual, byte[] background, Expected e, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            var bad = new List<string>();
            for (int i = 0; i < expected.Length && bad.Count < 10; i++)
                if (expected[i] != actual[i])
                {
                    var f = e.Touched.Where(t => i >= t.from && i < t.to).Select(t => t.field).FirstOrDefault() ?? "(no field written here)";
                    bad.Add($"byte {i} [{f}]: expected 0x{expected[i]:x2}, got 0x{actual[i]:x2} (was 0x{background[i]:x2})");
                }
            Assert.True(bad.Count == 0, what + ":\n" + string.Join("\n", bad));
            // Bytes outside every written field are untouched (implied above; said explicitly for the failure message's sake).
            for (int i = 0; i < actual.Length; i++)
                if (!e.Touched.Any(t => i >= t.from && i < t.to)) Assert.True(actual[i] == background[i], $"{what}: byte {i} outside every field changed");
        }

        public static IEnumerable<object[]> Targets() => Tier.Rows(new[] { "x86_64-6.12", "x86_64-5.10", "s390x-6.12" }.Select(k => new object[] { k }));

        [Theory]
        [MemberData(nameof(Targets))]
        public void Task_struct_writes_land_at_the_targets_offsets_in_its_byte_order_and_nothing_else_changes(string kernel)
        {
            var asm = Asm();
            var oracle = BpftoolOracle.For(Fixtures.Path(kernel), CoreFixtures.IsBigEndian(kernel));
            var task = oracle.Candidates("task_struct", "STRUCT").Single();
            var background = new byte[task.Size];
            new Random(12345).NextBytes(background);
            var e = new Expected(oracle, task, background);

            // Each 1-bit field is written as the opposite of what the background holds there, so the write must change it.
            long inExecve = 1 - e.Bit("in_execve"), inIowait = 1 - e.Bit("in_iowait");
            e.Plain("pid", unchecked((uint)-4321));
            e.Plain("tgid", 0x01020304);
            e.Plain("flags", 0x80200041);
            e.Plain("prio", 120);
            e.Plain("se.vruntime", 0x1122334455667788);
            var comm = new byte[16];
            Encoding.ASCII.GetBytes("kworker/u8:3").CopyTo(comm, 0);
            e.Raw("comm", comm);
            e.Bitfield("in_execve", (ulong)inExecve, 1);
            e.Bitfield("in_iowait", (ulong)inIowait, 1);
            var (execBits, _, _) = e.At("in_execve");
            var (iowaitBits, _, _) = e.At("in_iowait");
            _out.WriteLine($"{kernel}: task_struct size {task.Size}; pid at {e.At("pid").bitOffset / 8}, se.vruntime at {e.At("se.vruntime").bitOffset / 8}, " +
                           $"in_execve at bit {execBits}, in_iowait at bit {iowaitBits} ({(oracle.BigEndian ? "big" : "little")}-endian)");

            var data = (byte[])background.Clone();
            var target = new TargetKernel(CoreFixtures.Kernel(kernel), kernel);
            GeneratedAssemblies.Call(asm, "GenWrite.Probe", "WriteTask", data, target, -4321L, 0x01020304L, 0x80200041L, 120L, 0x1122334455667788UL, "kworker/u8:3", inExecve, inIowait);
            AssertSameBytes(e.Bytes, data, background, e, kernel + " task_struct");
            Assert.Equal($"-4321 16909060 0x80200041 120 0x1122334455667788 kworker/u8:3 {inExecve} {inIowait}",
                GeneratedAssemblies.Call(asm, "GenWrite.Probe", "ReadTask", data, target));

            // And back: the other value of each bit, the rest unchanged.
            var e2 = new Expected(oracle, task, e.Bytes);
            e2.Bitfield("in_execve", (ulong)(1 - inExecve), 1);
            e2.Bitfield("in_iowait", (ulong)(1 - inIowait), 1);
            e2.Touched.AddRange(e.Touched);
            var before = (byte[])data.Clone();
            GeneratedAssemblies.Call(asm, "GenWrite.Probe", "WriteTask", data, target, -4321L, 0x01020304L, 0x80200041L, 120L, 0x1122334455667788UL, "kworker/u8:3", 1 - inExecve, 1 - inIowait);
            AssertSameBytes(e2.Bytes, data, background, e2, kernel + " task_struct, bits flipped back");
            Assert.Equal(2, Enumerable.Range(0, data.Length).Sum(i => System.Numerics.BitOperations.PopCount((uint)(before[i] ^ data[i]))));
        }

        [Theory]
        [MemberData(nameof(Targets))]
        public void Iphdr_nibbles_follow_the_targets_bitfield_layout(string kernel)
        {
            // x86 declares ihl:4 before version:4 (bits 0 and 4), s390x the other way round (version at bit 0, counted from
            // the most significant bit): written through a view generated from x86, both give the wire byte 0x45.
            var asm = Asm();
            var oracle = BpftoolOracle.For(Fixtures.Path(kernel), CoreFixtures.IsBigEndian(kernel));
            var ip = oracle.Candidates("iphdr", "STRUCT").Single();
            var background = new byte[ip.Size];
            new Random(777).NextBytes(background);
            var e = new Expected(oracle, ip, background);
            e.Bitfield("ihl", 5, 4);
            e.Bitfield("version", 4, 4);
            e.Plain("tot_len", 0x1234);
            e.Plain("ttl", 64);
            Assert.Equal(0x45, e.Bytes[0]);
            var data = (byte[])background.Clone();
            var target = new TargetKernel(CoreFixtures.Kernel(kernel), kernel);
            GeneratedAssemblies.Call(asm, "GenWrite.Probe", "WriteIp", data, target, 5L, 4L, 0x1234L, 64L);
            AssertSameBytes(e.Bytes, data, background, e, kernel + " iphdr");
            Assert.Equal(oracle.BigEndian ? new byte[] { 0x12, 0x34 } : new byte[] { 0x34, 0x12 }, data.AsSpan(2, 2).ToArray());
            Assert.Equal("5 4 4660 64", GeneratedAssemblies.Call(asm, "GenWrite.Probe", "ReadIp", data, target));
        }
    }
}
