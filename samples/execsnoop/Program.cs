using System;
using System.Threading;

namespace Execsnoop;

/// <summary>
/// execsnoop: every exec on the machine as it happens. The BPF program (execsnoop.bpf.c) is compiled by the build against a
/// vmlinux.h written from the project's BtfFile, and the generated skeleton (class <c>Execsnoop</c>, from the object's BTF)
/// loads it, attaches it to the sched_process_exec tracepoint and reads its ring buffer as typed <c>event</c> records.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        int count = 0, max = -1, ppid = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-n": max = int.Parse(args[++i]); break;
                case "--ppid": ppid = int.Parse(args[++i]); break;
                case "-h": case "--help":
                    Console.WriteLine("usage: execsnoop [-n COUNT] [--ppid PID]   (needs root/CAP_BPF)");
                    return 0;
                default: Console.Error.WriteLine("unknown argument " + args[i]); return 2;
            }
        }
        using var skel = Execsnoop.Open();
        skel.Rodata.target_ppid = ppid;          // a const volatile global, set before Load
        try { skel.Load(); skel.Attach(); }
        catch (BtfBindings.Bpf.BpfException e) when (e.IsBpfRefused)
        {
            Console.Error.WriteLine("execsnoop: bpf() refused here: " + e.Message);
            return 77;
        }
        Console.WriteLine($"{"PID",7} {"PPID",7} {"UID",6} {"COMM",-16} FILENAME");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        while (!stop.IsCancellationRequested && (max < 0 || count < max))
        {
            skel.Maps.events.Poll<Execsnoop.@event>(100, (ref readonly Execsnoop.@event e) =>
            {
                if (max >= 0 && count >= max) return;
                count++;
                Console.WriteLine($"{e.pid,7} {e.ppid,7} {e.uid,6} {e.comm.ToCString(),-16} {e.filename.ToCString()}{(e.truncated != 0 ? "..." : "")}");
            });
        }
        Console.Error.WriteLine($"execsnoop: {count} shown, {skel.Bss.seen} seen by the program, {skel.Bss.dropped} dropped");
        foreach (var uid in skel.Maps.execs_per_uid.Keys)
            Console.Error.WriteLine($"execsnoop: uid {uid}: {skel.Maps.execs_per_uid.Lookup(uid)} execs");
        return 0;
    }
}
