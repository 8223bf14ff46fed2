using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace BtfFuzz
{
    /// <summary>
    /// A quick in-process mutation loop, no AFL and no instrumentation (<c>BtfBindings.Fuzz mutate HARNESS SECONDS DIR|FILE...</c>):
    /// random byte flips, interesting values, copies and truncations of the seeds, thousands per second where a
    /// fork-server execution costs a process. It finds the shallow crashes fast; AFL (run.sh) finds the deep ones.
    /// A crash is saved to BTFFUZZ_MUTATE_OUT (default ./mutate-crashes) with its stack; a hang (20 s) too, then it exits;
    /// each input is written to <c>current</c> there before it runs (a stack overflow ends the process without a word).
    /// </summary>
    public static class Mutate
    {
        private static readonly int[] Interesting = { 0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, unchecked((int)0x80000000), -1, 12, 0x70000001 };

        public static int Run(string name, int seconds, string[] paths)
        {
            var harness = Harnesses.Get(name);
            if (harness == null) { Console.Error.WriteLine($"unknown harness '{name}'"); return 2; }
            var seeds = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p) : new[] { p }).OrderBy(f => f, StringComparer.Ordinal).Select(File.ReadAllBytes).Where(b => b.Length > 0).ToList();
            if (seeds.Count == 0) { Console.Error.WriteLine("no seeds"); return 2; }
            string outDir = Environment.GetEnvironmentVariable("BTFFUZZ_MUTATE_OUT") ?? "mutate-crashes";
            Directory.CreateDirectory(outDir);
            Harnesses.Prepare(name);
            var rng = new Random(Environment.TickCount);
            bool saveEach = Environment.GetEnvironmentVariable("BTFFUZZ_MUTATE_SAVE_EACH") != "0";
            var sw = Stopwatch.StartNew();
            long execs = 0;
            int crashes = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            byte[] current = Array.Empty<byte>();
            long started = 0;
            var watchdog = new Thread(() =>
            {
                while (true)
                {
                    Thread.Sleep(1000);
                    long s = Interlocked.Read(ref started);
                    if (s != 0 && sw.ElapsedMilliseconds - s > 20000)
                    {
                        File.WriteAllBytes(Path.Combine(outDir, "hang-" + Guid.NewGuid().ToString("N")[..8]), current);
                        Console.WriteLine($"HANG after {execs} executions; input saved in {outDir}");
                        Environment.Exit(1);
                    }
                }
            }) { IsBackground = true };
            watchdog.Start();
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                var data = Mutated(seeds[rng.Next(seeds.Count)], rng);
                current = data;
                if (saveEach) File.WriteAllBytes(Path.Combine(outDir, "current"), data); // a stack overflow kills the process: this is its input
                Interlocked.Exchange(ref started, sw.ElapsedMilliseconds);
                try { Contract.Check(name, harness, data); }
                catch (Exception e)
                {
                    // One file per distinct crash site (exception type + top frame).
                    string where = e.GetType().Name + " " + (e.StackTrace ?? "").Split('\n').FirstOrDefault()?.Trim();
                    if (seen.Add(where))
                    {
                        crashes++;
                        string file = Path.Combine(outDir, "crash-" + crashes);
                        File.WriteAllBytes(file, data);
                        File.WriteAllText(file + ".txt", e.ToString());
                        Console.WriteLine($"CRASH {file}: {where}");
                    }
                }
                Interlocked.Exchange(ref started, 0);
                execs++;
            }
            Console.WriteLine($"{name}: {execs} executions in {sw.Elapsed.TotalSeconds:0} s, {crashes} distinct crashes");
            return crashes == 0 ? 0 : 1;
        }

        private static byte[] Mutated(byte[] seed, Random rng)
        {
            var d = (byte[])seed.Clone();
            int n = 1 + rng.Next(rng.Next(2) == 0 ? 4 : 32);
            for (int i = 0; i < n && d.Length > 8; i++)
            {
                int at = rng.Next(d.Length);
                switch (rng.Next(6))
                {
                    case 0: d[at] ^= (byte)(1 << rng.Next(8)); break;
                    case 1: d[at] = (byte)rng.Next(256); break;
                    case 2:
                        if (at + 4 <= d.Length) BitConverter.TryWriteBytes(d.AsSpan(at), Interesting[rng.Next(Interesting.Length)]);
                        break;
                    case 3:
                        if (at + 2 <= d.Length) BitConverter.TryWriteBytes(d.AsSpan(at), (short)Interesting[rng.Next(Interesting.Length)]);
                        break;
                    case 4: d[at] = (byte)(d[at] + rng.Next(-16, 17)); break;
                    case 5:
                        {
                            int len = Math.Min(rng.Next(1, 64), d.Length - at);
                            int from = rng.Next(d.Length - len + 1);
                            Array.Copy(d, from, d, at, len);
                            break;
                        }
                }
            }
            if (rng.Next(20) == 0 && d.Length > 16) Array.Resize(ref d, rng.Next(5, d.Length));
            return d;
        }
    }
}
