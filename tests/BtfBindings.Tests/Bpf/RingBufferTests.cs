using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BtfBindings.Bpf;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// The ring buffer delivers every record the program produced, in order, none lost: bursts of test runs (repeat = one
    /// record per run) against a consumer polling on another thread, counted on both sides.
    /// </summary>
    public class RingBufferTests
    {
        private const uint RingMagic = 0x52494e47;

        [SkippableFact]
        public void A_burst_is_delivered_complete_and_in_order_while_being_produced()
        {
            using var obj = BpfTestSupport.Load("maps_globals", o => o.Map(".rodata").Global<Rodata>().RodataFactor = 3);
            using var ring = obj.Map("events").AsRingBuffer();
            var produce = obj.Program("produce");
            const int bursts = 20, perBurst = 10_000, total = bursts * perBurst;

            long consumed = 0, outOfOrder = 0, bad = 0;
            ulong expected = 0;
            var done = new ManualResetEventSlim();
            var consumer = Task.Run(() =>
            {
                BpfRecordHandler<Event> check = (ref readonly Event e) =>
                {
                    if (e.Seq != expected) outOfOrder++;
                    if (e.Magic != RingMagic || e.Payload != e.Seq * 3) bad++;
                    expected = e.Seq + 1;
                    consumed++;
                };
                while (Volatile.Read(ref consumed) < total && !done.IsSet) ring.Poll(50, check);
                ring.Poll(0, check);
            });
            const long capacity = 4 * 1024 * 1024 / 32;   // records of 24 bytes + 8 of header
            for (int b = 0; b < bursts; b++)
            {
                // Flow control, as a real producer cannot have: never start a burst that could overrun what is unread.
                while (b * (long)perBurst - Volatile.Read(ref consumed) > capacity - perBurst) Thread.Sleep(1);
                produce.TestRun(BpfTestSupport.Packet, repeat: perBurst);
            }
            var bss = obj.Map(".bss").GlobalReadOnly<Bss>();
            if (!consumer.Wait(TimeSpan.FromSeconds(30))) { done.Set(); consumer.Wait(); }

            Assert.Equal(0UL, bss.BssDropped);           // the ring never filled, so every run produced a record
            Assert.Equal((ulong)total, bss.BssSeq);
            Assert.Equal(total, consumed);
            Assert.Equal(0, outOfOrder);
            Assert.Equal(0, bad);
            Assert.Equal(RingMagic, bss.LastEvent.Magic);
        }

        [SkippableFact]
        public void A_full_ring_drops_at_the_producer_and_the_consumer_gets_exactly_what_was_produced()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var ring = obj.Map("events").AsRingBuffer();
            // 4 MiB / 32 bytes per record = 131072 records fit; nobody consumes during the burst.
            obj.Program("produce").TestRun(BpfTestSupport.Packet, repeat: 140_000);
            var bss = obj.Map(".bss").GlobalReadOnly<Bss>();
            // The kernel refuses a reservation that would fill the ring to the byte, so one record short of 4 MiB / 32.
            Assert.Equal(4 * 1024 * 1024 / 32 - 1, (long)bss.BssSeq);
            Assert.Equal(140_000UL - bss.BssSeq, bss.BssDropped);
            int n = 0;
            ulong last = ulong.MaxValue;
            while (ring.Poll(0, (ReadOnlySpan<byte> r) => { Assert.Equal(24, r.Length); last = BitConverter.ToUInt64(r); n++; }) > 0) { }
            Assert.Equal((int)bss.BssSeq, n);
            Assert.Equal(bss.BssSeq - 1, last);
        }

        [SkippableFact]
        public void Polling_allocates_nothing_per_record()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var ring = obj.Map("events").AsRingBuffer();
            var produce = obj.Program("produce");
            long sum = 0;
            BpfRecordHandler<Event> handler = (ref readonly Event e) => sum += (long)e.Seq;
            produce.TestRun(BpfTestSupport.Packet, repeat: 100);
            ring.Poll(0, handler);                     // first use maps the ring and JIT-compiles the path
            produce.TestRun(BpfTestSupport.Packet, repeat: 50_000);
            long before = GC.GetAllocatedBytesForCurrentThread();
            int n = ring.Poll(0, handler);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(50_000, n);
            Assert.Equal(0, allocated);
        }

        [SkippableFact]
        public async Task ReadAllAsync_streams_typed_copies_until_cancelled()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var ring = obj.Map("events").AsRingBuffer();
            obj.Program("produce").TestRun(BpfTestSupport.Packet, repeat: 1000);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var seen = new List<ulong>();
            await foreach (var e in ring.ReadAllAsync<Event>(cts.Token))
            {
                seen.Add(e.Seq);
                if (seen.Count == 1000) break;
            }
            Assert.Equal(1000, seen.Count);
            for (int i = 0; i < seen.Count; i++) Assert.Equal((ulong)i, seen[i]);
        }

        [SkippableFact]
        public void A_handler_that_throws_stops_the_poll_and_the_next_poll_goes_on_after_its_record()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var ring = obj.Map("events").AsRingBuffer();
            obj.Program("produce").TestRun(BpfTestSupport.Packet, repeat: 10);
            var seen = new List<ulong>();
            var e = Assert.Throws<InvalidOperationException>(() => ring.Poll(0, (ref readonly Event ev) =>
            {
                if (ev.Seq == 3) throw new InvalidOperationException("boom");
                seen.Add(ev.Seq);
            }));
            Assert.Equal("boom", e.Message);
            Assert.Equal(new ulong[] { 0, 1, 2 }, seen);
            Assert.Equal(6, ring.Poll(0, (ref readonly Event ev) => seen.Add(ev.Seq)));   // as libbpf: the failed record counts as consumed
            Assert.Equal(new ulong[] { 0, 1, 2, 4, 5, 6, 7, 8, 9 }, seen);
            var shortRecord = Assert.Throws<BpfException>(() =>
            {
                obj.Program("produce").TestRun(BpfTestSupport.Packet);
                ring.Poll(0, (ref readonly Sample _) => { });                              // 24-byte records, 24-byte Sample: fine
                obj.Program("produce").TestRun(BpfTestSupport.Packet);
                ring.Poll(0, (ref readonly SampleFields _) => { });                        // 48 bytes: refused, not read past the record
            });
            Assert.Contains("24-byte record is shorter than SampleFields (48 bytes)", shortRecord.Message);
        }

        [SkippableFact]
        public async Task Perf_buffer_ReadAllAsync_streams_the_records()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var perf = obj.Map("perf_events").AsPerfBuffer();
            perf.Poll(0, (ReadOnlySpan<byte> _) => { });
            obj.Program("produce_perf").TestRun(BpfTestSupport.Packet, repeat: 100);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var seen = new List<ulong>();
            await foreach (var e in perf.ReadAllAsync<Event>(cts.Token))
            {
                seen.Add(e.Seq);
                if (seen.Count == 100) break;
            }
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (ulong)i), seen);
        }

        [SkippableFact]
        public void Perf_buffer_delivers_every_record_with_its_lost_count()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var perf = obj.Map("perf_events").AsPerfBuffer(64);
            var produce = obj.Program("produce_perf");
            perf.Poll(0, (ReadOnlySpan<byte> _) => { });      // create the per-CPU rings before the first record
            produce.TestRun(BpfTestSupport.Packet, repeat: 2000);
            var seqs = new List<ulong>();
            while (perf.Poll(100, (ref readonly Event e) => { Assert.Equal(0x50455246u, e.Magic); seqs.Add(e.Seq); }) > 0) { }
            var bss = obj.Map(".bss").GlobalReadOnly<Bss>();
            Assert.Equal(2000UL, bss.BssSeq);
            Assert.Equal(0UL, bss.BssDropped);
            Assert.Equal(0, perf.LostSamples);
            Assert.Equal(2000 - (int)bss.BssDropped, seqs.Count);
            for (int i = 1; i < seqs.Count; i++) Assert.True(seqs[i] > seqs[i - 1]);
        }
    }
}
