using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using BtfBindings.Bpf;

/// <summary>
/// The BtfBindings.Bpf side of bench/run.sh section 6, step for step what bench/peers/libbpf_ringbuf.c does over the same
/// object: fill the ring with test runs (untimed), time draining it; time lookup+update pairs on the hash map.
/// </summary>
internal static class BpfBench
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Event { public ulong Seq; public uint Cpu, Magic; public ulong Payload; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Value { public ulong Count, Bytes; public uint Pid, Flags; }

    private static readonly byte[] Packet = new byte[64];
    private static ulong _sum, _expect, _bad;

    private static void OnRecord(ref readonly Event e)
    {
        if (e.Seq != _expect) _bad++;
        _expect = e.Seq + 1;
        _sum += e.Payload;
    }

    public static void Ring(string obj, int rounds, int records)
    {
        using var o = BpfObject.Open(obj);
        o.Load();
        var produce = o.Program("produce");
        using var ring = o.Map("events").AsRingBuffer();
        BpfRecordHandler<Event> handler = OnRecord;
        // Warm-up: the JIT's tiers settle on the drain loop before anything is timed.
        for (int w = 0; w < 5; w++) { produce.TestRun(Packet, repeat: records); while (ring.Poll(0, handler) > 0) { } }
        var rates = new List<double>();
        long allocated = 0, events = 0;
        for (int r = 0; r < rounds; r++)
        {
            produce.TestRun(Packet, repeat: records);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            long got = 0;
            while (got < records) got += ring.Poll(0, handler);
            double s = sw.Elapsed.TotalSeconds;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            events += got;
            rates.Add(records / s);
        }
        Console.WriteLine($"{{\"tool\":\"BtfBindings.Bpf ring buffer Poll<T>\",\"events_per_s\":{Median(rates):0},\"rounds\":{rounds},\"records\":{records},\"out_of_order\":{_bad},\"alloc_bytes_per_event\":{(double)allocated / events:0.###},\"check\":{_sum}}}");
    }

    public static void Maps(string obj, int rounds, int ops)
    {
        using var o = BpfObject.Open(obj);
        o.Load();
        var map = o.Map("values").AsHash<uint, Value>();
        for (uint k = 0; k < 1024; k++) map.Update(k, default);
        var rates = new List<double>();
        long allocated = 0;
        for (int r = 0; r < rounds + 1; r++)   // round 0 warms up
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < ops; i++)
            {
                uint k = (uint)i & 1023;
                if (!map.TryLookup(k, out var v)) throw new InvalidOperationException("key missing");
                v.Count++;
                v.Bytes += k;
                map.Update(k, v);
            }
            double s = sw.Elapsed.TotalSeconds;
            if (r == 0) continue;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            rates.Add(ops / s);
        }
        Console.WriteLine($"{{\"tool\":\"BtfBindings.Bpf BpfHashMap TryLookup+Update\",\"ops_per_s\":{Median(rates):0},\"rounds\":{rounds},\"ops\":{ops},\"alloc_bytes_per_op\":{(double)allocated / ((long)rounds * ops):0.###}}}");
    }

    private static double Median(List<double> xs) { xs.Sort(); int n = xs.Count; return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2; }
}
