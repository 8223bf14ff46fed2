using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Bpf;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// Map values round-trip bit-exact against the BPF side's own reads: C# writes struct sample (bitfields, a union) and
    /// the program unpacks each field with the compiler's code into fields_out; C# writes unpacked fields and the program
    /// packs them into composed. Both are compared field by field and byte by byte with what C# computes.
    /// </summary>
    public class MapRoundTripTests
    {
        private static IEnumerable<(uint key, Sample s)> Samples()
        {
            var rng = new Random(12);
            for (uint key = 0; key < 64; key++)
            {
                var s = new Sample { Id = (uint)rng.Next(), PayloadU64 = (ulong)rng.NextInt64(), Tag = (byte)rng.Next(256), Small = (short)rng.Next(short.MinValue, short.MaxValue + 1) };
                // The extremes of every bitfield first, then random values.
                s.Kind = key == 0 ? 0 : key == 1 ? 7u : (uint)rng.Next(8);
                s.Flags = key == 0 ? 0 : key == 1 ? 31u : (uint)rng.Next(32);
                s.Delta = key == 0 ? -2048 : key == 1 ? 2047 : rng.Next(-2048, 2048);
                s.Wide = key == 0 ? 0 : key == 1 ? 4095u : (uint)rng.Next(4096);
                yield return (key, s);
            }
        }

        [SkippableFact]
        public unsafe void Bitfields_and_unions_round_trip_through_the_bpf_program_both_ways()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var values = obj.Map("values").AsHash<uint, Sample>();
            var composed = obj.Map("composed").AsHash<uint, Sample>();
            var fieldsIn = obj.Map("fields_in").AsArray<SampleFields>();
            var fieldsOut = obj.Map("fields_out").AsArray<SampleFields>();
            ref var bss = ref obj.Map(".bss").Global<Bss>();
            var echo = obj.Program("echo");

            foreach (var (key, s) in Samples())
            {
                values.Update(key, s);
                var f = new SampleFields
                {
                    Id = s.Id ^ 0xA5A5A5A5, Kind = s.Kind ^ 5, Flags = s.Flags ^ 17, Delta = -s.Delta - 1, Wide = s.Wide ^ 0xFFF,
                    Lo32 = (uint)(s.PayloadU64 >> 32), Hi32 = (uint)s.PayloadU64, Tag = (byte)~s.Tag, Small = -s.Small - 1,
                };
                fieldsIn.Update(key, f);
                bss.BssKey = key;                     // .bss written through the mmap'd map after Load
                echo.TestRun(BpfTestSupport.Packet);

                // C# → BPF: what the program read out of the C# bytes.
                var o = fieldsOut.Lookup(key);
                Assert.Equal((s.Id, s.Kind, s.Flags, s.Delta, s.Wide), (o.Id, o.Kind, o.Flags, o.Delta, o.Wide));
                Assert.Equal((s.PayloadU32[0], s.PayloadU32[1], s.PayloadU64, s.PayloadBytes[0], s.PayloadBytes[7]), (o.Lo32, o.Hi32, o.U64, o.Byte0, o.Byte7));
                Assert.Equal((s.Tag, (int)s.Small), (o.Tag, o.Small));

                // BPF → C#: what the program packed, read through the C# accessors, and the same bytes as C#'s packing.
                Assert.True(composed.TryLookup(key, out var c));
                Assert.Equal((f.Id, f.Kind, f.Flags, f.Delta, f.Wide), (c.Id, c.Kind, c.Flags, c.Delta, c.Wide));
                Assert.Equal((f.Lo32, f.Hi32, f.Tag, f.Small), (c.PayloadU32[0], c.PayloadU32[1], c.Tag, (int)c.Small));
                var mine = new Sample { Id = f.Id, Kind = f.Kind, Flags = f.Flags, Delta = f.Delta, Wide = f.Wide, Tag = f.Tag, Small = (short)f.Small };
                mine.PayloadU32[0] = f.Lo32;
                mine.PayloadU32[1] = f.Hi32;
                Assert.Equal(Bytes(mine), Bytes(c));
            }
        }

        [SkippableFact]
        public void Hash_map_update_flags_delete_and_key_enumeration_follow_the_kernel()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var values = obj.Map("values").AsHash<uint, Sample>();
            for (uint k = 100; k < 110; k++) values.Update(k, new Sample { Id = k * 3 });

            var keys = new List<uint>();
            foreach (var k in values.Keys) keys.Add(k);
            Assert.Equal(Enumerable.Range(100, 10).Select(i => (uint)i), keys.OrderBy(k => k));
            Assert.Equal(303u, values.Lookup(101).Id);

            var exists = Assert.Throws<BpfException>(() => values.Update(100, default, BpfUpdateFlags.NoExist));
            Assert.Equal(17, exists.Errno);       // EEXIST
            var missing = Assert.Throws<BpfException>(() => values.Update(5, default, BpfUpdateFlags.Exist));
            Assert.Equal(2, missing.Errno);       // ENOENT
            Assert.True(values.Delete(100));
            Assert.False(values.Delete(100));
            Assert.False(values.TryLookup(100, out _));
            Assert.Throws<KeyNotFoundException>(() => values.Lookup(100));
        }

        [SkippableFact]
        public void Per_cpu_values_reach_the_cpu_the_program_runs_on()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var array = obj.Map("percpu_array").AsPerCpuArray<ulong>();
            var hash = obj.Map("percpu_hash").AsPerCpuHash<uint, SmallValue>();   // 6-byte values: 8-byte slots
            int cpus = array.PossibleCpus;
            Assert.Equal(cpus, hash.PossibleCpus);
            var a = new ulong[cpus];
            var h = new SmallValue[cpus];
            for (int i = 0; i < cpus; i++)
            {
                a[i] = 0x1000_0000_0000UL + (ulong)i;
                h[i] = new SmallValue { A = (ushort)(100 + i), B = (ushort)(0xF000 | i), C = (ushort)(7 * i + 1) };
            }
            array.Update(2, a);
            hash.Update(2, h);

            ref var bss = ref obj.Map(".bss").Global<Bss>();
            bss.BssKey = 2;
            obj.Program("percpu").TestRun(BpfTestSupport.Packet);
            int cpu = (int)bss.BssCpu;
            Assert.InRange(cpu, 0, cpus - 1);
            Assert.Equal(a[cpu], bss.BssPercpu);
            Assert.Equal((h[cpu].A, h[cpu].B, h[cpu].C), ((ushort)bss.BssSmallA, (ushort)bss.BssSmallB, (ushort)bss.BssSmallC));

            var backA = new ulong[cpus];
            var backH = new SmallValue[cpus];
            array.Lookup(2, backA);
            Assert.True(hash.TryLookup(2, backH));
            Assert.Equal(a, backA);
            Assert.Equal(h, backH);
            Assert.False(hash.TryLookup(3, backH));
        }

        [SkippableFact]
        public void Typed_views_check_the_map_type_and_sizes()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var size = Assert.Throws<BpfException>(() => obj.Map("values").AsHash<uint, SampleFields>());
            Assert.Contains("24-byte values but SampleFields is 48 bytes", size.Message);
            var type = Assert.Throws<BpfException>(() => obj.Map("values").AsArray<Sample>());
            Assert.Contains("'values' is Hash, not Array", type.Message);
            var name = Assert.Throws<BpfException>(() => obj.Map("nope"));
            Assert.Contains("fields_in", name.Message);
            var prog = Assert.Throws<BpfException>(() => obj.Program("nope"));
            Assert.Contains("produce_perf", prog.Message);
        }

        private static unsafe byte[] Bytes<T>(T value) where T : unmanaged => new ReadOnlySpan<byte>(&value, sizeof(T)).ToArray();
    }
}
