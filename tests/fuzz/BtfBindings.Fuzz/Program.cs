using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace BtfFuzz
{
    /// <summary>
    /// Entry point. Usage:
    /// <list type="bullet">
    /// <item><c>BtfBindings.Fuzz HARNESS</c> — under afl-fuzz (SharpFuzz out-of-process fork server; input on stdin).
    /// Outside afl-fuzz it runs the harness once on stdin.</item>
    /// <item><c>BtfBindings.Fuzz run HARNESS FILE|DIR…</c> — runs every file through the harness without AFL and
    /// prints one line per file (ok / the accepted exception / CRASH with the stack / HANG); exit 1 on any crash or hang.</item>
    /// <item><c>BtfBindings.Fuzz mutate HARNESS SECONDS FILE|DIR…</c> — in-process random mutations of the files (see <see cref="Mutate"/>).</item>
    /// <item><c>BtfBindings.Fuzz list</c> — the harness names.</item>
    /// </list>
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length == 0 || args[0] == "-h" || args[0] == "--help")
            {
                Console.Error.WriteLine("usage: BtfBindings.Fuzz HARNESS            (under afl-fuzz; input on stdin)");
                Console.Error.WriteLine("       BtfBindings.Fuzz run HARNESS FILE|DIR...   (replay without AFL; exit 1 on a crash or hang)");
                Console.Error.WriteLine("       BtfBindings.Fuzz mutate HARNESS SECONDS FILE|DIR...   (in-process random mutations, no AFL)");
                Console.Error.WriteLine("       BtfBindings.Fuzz list");
                Console.Error.WriteLine("harnesses: " + string.Join(" ", Harnesses.Names));
                return 2;
            }
            if (args[0] == "list")
            {
                foreach (var n in Harnesses.Names) Console.WriteLine(n);
                return 0;
            }
            if (args[0] == "mutate")
            {
                if (args.Length < 4 || !int.TryParse(args[2], out int seconds)) { Console.Error.WriteLine("usage: BtfBindings.Fuzz mutate HARNESS SECONDS FILE|DIR..."); return 2; }
                return Mutate.Run(args[1], seconds, args.Skip(3).ToArray());
            }
            if (args[0] == "run")
            {
                if (args.Length < 3) { Console.Error.WriteLine("usage: BtfBindings.Fuzz run HARNESS FILE|DIR..."); return 2; }
                return Replay(args[1], args.Skip(2).ToArray());
            }

            var harness = Harnesses.Get(args[0]);
            if (harness == null) { Console.Error.WriteLine($"unknown harness '{args[0]}'; harnesses: {string.Join(" ", Harnesses.Names)}"); return 2; }
            UnderAflOrNot(); // Prepare runs instrumented code before the fork server maps AFL's trace map
            Harnesses.Prepare(args[0]);
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                var ms = new MemoryStream();
                stream.CopyTo(ms);
                Contract.Check(args[0], harness, ms.ToArray());
            });
            return 0;
        }

        /// <summary>Per-file timeout of the replay mode (a hang under AFL is its -t, see run.sh).</summary>
        private static readonly TimeSpan ReplayTimeout = TimeSpan.FromSeconds(
            int.TryParse(Environment.GetEnvironmentVariable("BTFFUZZ_REPLAY_TIMEOUT"), out var s) && s > 0 ? s : 20);

        /// <summary>
        /// Instrumented assemblies (run.sh's copies) write every branch to SharpFuzz's trace map, which only the fork
        /// server sets up: outside AFL give them a map of their own, so the same binaries replay inputs too. Through
        /// reflection: an assembly that references SharpFuzz.Common counts as instrumented already, and this one
        /// (the linked emitter) is instrumented by run.sh.
        /// </summary>
        private static unsafe void UnderAflOrNot()
        {
            var field = Type.GetType("SharpFuzz.Common.Trace, SharpFuzz.Common")?.GetField("SharedMem");
            if (field == null) return;
            if (System.Reflection.Pointer.Unbox(field.GetValue(null)!) == null)
                field.SetValue(null, System.Reflection.Pointer.Box(System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16), typeof(byte*)));
        }

        private static int Replay(string name, string[] paths)
        {
            var harness = Harnesses.Get(name);
            if (harness == null) { Console.Error.WriteLine($"unknown harness '{name}'; harnesses: {string.Join(" ", Harnesses.Names)}"); return 2; }
            Harnesses.Prepare(name);
            UnderAflOrNot();
            var files = new List<string>();
            foreach (var p in paths)
            {
                if (Directory.Exists(p)) files.AddRange(Directory.GetFiles(p).Where(f => !Path.GetFileName(f).StartsWith(".", StringComparison.Ordinal)
                                                                                        && !Path.GetFileName(f).Equals("README.md", StringComparison.Ordinal)).OrderBy(f => f, StringComparer.Ordinal));
                else if (File.Exists(p)) files.Add(p);
                else { Console.Error.WriteLine($"{p}: no such file or directory"); return 2; }
            }
            int bad = 0;
            foreach (var f in files)
            {
                var data = File.ReadAllBytes(f);
                Exception? crash = null;
                var t = new Thread(() =>
                {
                    try { Contract.Check(name, harness, data); }
                    catch (Exception e) { crash = e; }
                }, 8 << 20); // the main thread's stack (ulimit -s), which is what the harness gets under AFL
                t.IsBackground = true;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                t.Start();
                if (!t.Join(ReplayTimeout))
                {
                    Console.WriteLine($"HANG  {name} {f}: still running after {ReplayTimeout.TotalSeconds:0} s");
                    Console.Out.Flush();
                    Environment.Exit(1); // the thread cannot be stopped; nothing after it can be trusted
                }
                if (crash != null)
                {
                    bad++;
                    Console.WriteLine($"CRASH {name} {f}:");
                    Console.WriteLine(crash.ToString());
                }
                else Console.WriteLine($"ok    {name} {f} ({sw.ElapsedMilliseconds} ms){(Contract.LastAccepted is { } a ? ": " + a : "")}");
            }
            Console.WriteLine($"{name}: {files.Count} files, {bad} crashes");
            return bad == 0 ? 0 : 1;
        }
    }
}
