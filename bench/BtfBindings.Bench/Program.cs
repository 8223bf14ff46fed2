using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using BtfBindings;

// Bench harness: prints one JSON line per measurement, the same shape as bench/peers/libbpf_parse.
// Modes:
//   parse FILE [ITER] [keep]  Btf.Load, touch every type's name, one lookup, Dispose (libbpf_parse's peer: the same steps);
//                             keep: no Dispose, every parse's buffers left to the GC
//   touch FILE            the parse bench's touch loop alone, over one loaded BTF (warm caches: the accessors' own cost)
//   generate BTF [TYPE]   parse + plan + emit TYPE's closure: first run in the process, then warm
//   rerun BTF [TYPE]      the source generator re-running after an unrelated edit
//   core-read BTF [TARGET]     task_struct generated from BTF: field read via the relocatable view vs the direct struct field
//   core-resolve BTF TARGET    resolving task_struct (generated from BTF) against the loaded TARGET kernel BTF
//   ringbuf OBJ ROUNDS RECORDS BtfBindings.Bpf ring buffer drain vs libbpf_ringbuf's (bench/peers/bpf_bench.bpf.o)
//   maps OBJ ROUNDS OPS        typed hash map lookup+update vs libbpf_ringbuf's maps mode
//   embed BUILD_BTF TREE TYPE...  every kernel under TREE as an Embed="true" BtfTarget: the generators' size report and time
//   compat-targets DIR BTF FIELD...  BtfTarget files under DIR: load time, verdicts of task_struct.FIELD (types from BTF), memory kept
// Every type's name length, kind and vlen: what the C peer touches per type.
static long TouchAll(Btf btf)
{
    long r = 0;
    for (int id = 1; id < btf.TypeCount; id++)
    {
        var t = btf[id];
        r += btf.StringLengthOf(t.NameOffset);
        r = r * 31 + (((int)t.Kind << 24) | t.Vlen);
    }
    return r;
}
static double Median(List<double> xs) { xs.Sort(); int n = xs.Count; return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2; }
static string F(double d) => d.ToString("0.000", CultureInfo.InvariantCulture);

var mode = args.Length > 0 ? args[0] : "parse";
switch (mode)
{
    case "parse":
    {
        string file = args[1];
        int iters = args.Length > 2 ? int.Parse(args[2]) : 50;
        long sum = 0;
        // Like the C peer's btf__free, each parse is disposed, so its buffers are reused by the next one;
        // "keep" leaves them to the garbage collector instead.
        bool dispose = !(args.Length > 3 && args[3] == "keep");
        long Run()
        {
            // What the C peer does, through our public API: parse (validating every record and string reference and
            // indexing data types' names), then visit every type and touch its name; one indexed lookup besides.
            var btf = Btf.Load(file);
            long r = TouchAll(btf);
            r += btf.FindTypes("task_struct", BtfKind.Struct).Count;
            if (dispose) btf.Dispose();
            return r;
        }
        // Warm up for two seconds so the measured code is fully optimised (tiered JIT, OSR), like the C peer's -O2.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2) sum += Run();
        var times = new List<double>();
        var quiet = new List<double>(); // iterations during which no garbage collection started
        long alloc = 0;
        for (int i = 0; i < iters; i++)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            int gc0 = GC.CollectionCount(0);
            var sw = Stopwatch.StartNew();
            sum += Run();
            sw.Stop();
            alloc = GC.GetAllocatedBytesForCurrentThread() - a0;
            times.Add(sw.Elapsed.TotalMilliseconds);
            if (GC.CollectionCount(0) == gc0) quiet.Add(sw.Elapsed.TotalMilliseconds);
        }
        long size = new System.IO.FileInfo(file).Length;
        Console.WriteLine($"{{\"tool\":\"btfbindings\",\"file\":\"{file}\",\"disposed\":{(dispose ? "true" : "false")},\"iterations\":{iters},\"median_ms\":{F(Median(times))},\"min_ms\":{F(times.Min())},\"no_gc_iterations\":{quiet.Count},\"no_gc_median_ms\":{(quiet.Count > 0 ? F(Median(quiet)) : "null")},\"alloc_bytes\":{alloc},\"file_bytes\":{size},\"alloc_ratio\":{F((double)alloc / size)},\"checksum\":{sum % 1000003}}}");
        break;
    }
    case "touch":
    {
        var btf = Btf.Load(args[1]);
        long Touch() => TouchAll(btf);
        long sum = 0;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2) sum += Touch();
        var times = new List<double>();
        for (int i = 0; i < 500; i++) { var sw = Stopwatch.StartNew(); sum += Touch(); times.Add(sw.Elapsed.TotalMilliseconds * 1000); }
        Console.WriteLine($"touch median {Median(times):0} us min {times.Min():0} us ({sum % 7})");
        break;
    }
    case "generate":
        GeneratorBench.Cold(args[1], args.Length > 2 ? args[2] : "task_struct");
        break;
    case "rerun":
        GeneratorBench.Rerun(args[1], args.Length > 2 ? args[2] : "task_struct");
        break;
    case "core-read":
        CoreBench.Read(args[1], args.Length > 2 ? args[2] : args[1]);
        break;
    case "core-resolve":
        CoreBench.Resolve(args[1], args.Length > 2 ? args[2] : args[1]);
        break;
    case "ringbuf":
        BpfBench.Ring(args[1], int.Parse(args[2]), int.Parse(args[3]));
        break;
    case "maps":
        BpfBench.Maps(args[1], int.Parse(args[2]), int.Parse(args[3]));
        break;
    case "embed":
        EmbedBench.Run(args[1], args[2], args.Skip(3).ToArray());
        break;
    case "compat-scan":
        CompatBench.Scan(args[1]);
        break;
    case "compat-verdicts":
        CompatBench.Verdicts(args[1]);
        break;
    case "compat-targets":
        CompatBench.Targets(args[1], args[2], args.Skip(3).ToArray());
        break;
    default:
        Console.Error.WriteLine("usage: bench parse FILE [ITER] | generate BTF [TYPE] | rerun BTF [TYPE] | core-read BTF [TARGET] | core-resolve BTF TARGET | ringbuf OBJ ROUNDS RECORDS | maps OBJ ROUNDS OPS | embed BUILD_BTF TREE TYPE... | compat-targets DIR BTF FIELD... | compat-scan ASSEMBLY | compat-verdicts FILE");
        return 2;
}
return 0;
