using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Text;
using BtfBindings;

namespace Ps;

/// <summary>
/// The kernel type this program reads, generated at build time from x86_64-6.12's BTF. At run time its fields are
/// found in the running kernel's BTF (CO-RE), so the same binary reads task_struct on any kernel.
/// </summary>
[BtfTypes("task_struct")]
public static partial class Kernel { }

/// <summary>
/// <c>ps</c> from kernel memory: a BPF task iterator (tests/bpf/run.sh) copies every task's raw task_struct out of
/// the kernel, and the generated relocatable view reads it at the offsets of the running kernel.
/// </summary>
public static class Program
{
    private const uint PfKthread = 0x00200000;

    public static int Main(string[] args)
    {
        string? btf = null, dump = null, script = null;
        bool threads = false, report = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--btf": btf = args[++i]; break;
                case "--dump": dump = args[++i]; break;
                case "--script": script = args[++i]; break;
                case "-L": case "--threads": threads = true; break;
                case "--report": report = true; break;
                case "-h": case "--help":
                    Console.WriteLine("usage: ps [-L] [--report] [--btf KERNEL_BTF] [--dump TASK_DUMP | --script tests/bpf/run.sh]");
                    Console.WriteLine("  Lists tasks read from kernel memory with a task_struct generated from x86_64-6.12 and relocated to this kernel.");
                    Console.WriteLine("  -L          every thread, not only thread-group leaders");
                    Console.WriteLine("  --report    print what moved between the build-time and the running kernel's task_struct");
                    Console.WriteLine("  --btf F     kernel BTF to relocate against (default: discovery, or $" + KernelBtfOptions.DefaultEnvironmentVariable + ")");
                    Console.WriteLine("  --dump F    read a task dump made by tests/bpf/run.sh instead of running it");
                    return 0;
                default: Console.Error.WriteLine("unknown argument " + args[i] + " (try --help)"); return 2;
            }
        }

        // 1. The running kernel's BTF, and task_struct resolved against it once.
        var kernel = TargetKernel.Current(new KernelBtfOptions { ExplicitPath = btf });
        Console.Error.WriteLine("ps: " + kernel.Description);
        var task = kernel.Resolve<Kernel.task_struct>();
        if (report) Console.Error.Write(task.Report());
        if (!task.IsVerified) Console.Error.WriteLine("ps: warning: reading at x86_64-6.12's offsets unverified; the output may be garbage");

        // 2. Every task's raw task_struct, copied out of the kernel by the BPF iterator.
        byte[] file;
        if (dump != null) file = File.ReadAllBytes(dump);
        else
        {
            script ??= FindScript();
            if (script == null) { Console.Error.WriteLine("ps: cannot find tests/bpf/run.sh (pass --script or --dump)"); return 2; }
            var tmp = Path.Combine(Path.GetTempPath(), $"ps-tasks-{Environment.ProcessId}.bin");
            try
            {
                var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
                psi.ArgumentList.Add(script);
                psi.ArgumentList.Add(tmp);
                using var p = Process.Start(psi)!;
                string err = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode == 77) { Console.Error.WriteLine("ps: cannot read kernel memory here: " + err.Trim()); return 77; }
                if (p.ExitCode != 0) { Console.Error.WriteLine("ps: " + script + " failed:\n" + err); return 1; }
                file = File.ReadAllBytes(tmp);
            }
            finally { File.Delete(tmp); } // the dump holds kernel addresses
        }

        // 3. Read the fields through the relocatable view, like ps.
        var rows = new List<(int tgid, int pid, string line)>();
        bool sawInit = false;
        int pos = 0;
        while (pos + 48 <= file.Length)
        {
            uint magic = BitConverter.ToUInt32(file, pos), recLen = BitConverter.ToUInt32(file, pos + 4), dataLen = BitConverter.ToUInt32(file, pos + 44);
            int hdrLen = BitConverter.ToUInt16(file, pos + 12);
            if (magic != 0x4B534154 || recLen != hdrLen + dataLen || pos + recLen > file.Length) { Console.Error.WriteLine($"ps: malformed dump at byte {pos}"); return 1; }
            var t = new Kernel.task_struct.View(file.AsSpan(pos + hdrLen, (int)dataLen), task);
            if (threads || t.pid == t.tgid) rows.Add((t.tgid, t.pid, Row(t)));
            sawInit |= t.tgid == 1;
            pos += (int)recLen;
        }
        Console.WriteLine($"{"PID",7} {"TID",7} S {"PRIO",4} {"NI",3} {"CPU",3} {"TIME",9} {"MINFLT",8} COMMAND");
        foreach (var r in rows.OrderBy(r => r.tgid).ThenBy(r => r.pid)) Console.WriteLine(r.line);
        if (!sawInit && KernelHidesInitGroup())
            Console.Error.WriteLine("ps: note: PID 1 is not visible: this kernel's task_iter_hides() hides thread group 1 from BPF task iterators");
        Console.Error.WriteLine($"ps: {rows.Count} {(threads ? "threads" : "processes")}; task_struct generated from x86_64-6.12 ({Kernel.task_struct.BtfLayout.Size} bytes), read at {kernel.Name}'s layout ({task.Size} bytes)");
        return 0;
    }

    private static string Row(Kernel.task_struct.View t)
    {
        string comm = t.comm.ToCString(); // char comm[16]: the bytes up to the NUL, at the running kernel's offset
        if ((t.flags & PfKthread) != 0) comm = "[" + comm + "]";
        // Optional fields: the view says whether this kernel has them (Has_x) instead of reading garbage.
        char state = t.Has___state ? State(t.__state, t.Has_exit_state ? t.exit_state : 0) : '?';
        string cpu = t.Has_thread_info && t.thread_info.Has_cpu ? t.thread_info.cpu.ToString() : t.Has_wake_cpu ? t.wake_cpu.ToString() : "-";
        ulong ns = t.se.sum_exec_runtime; // a nested view: sched_entity relocated against the running kernel's member type
        string time = $"{ns / 60_000_000_000UL}:{ns / 1_000_000_000UL % 60:00}.{ns / 10_000_000UL % 100:00}";
        return $"{t.tgid,7} {t.pid,7} {state} {t.prio,4} {t.static_prio - 120,3} {cpu,3} {time,9} {t.min_flt,8} {comm}";
    }

    /// <summary>The kernel's task_state_index(): __state &amp; TASK_REPORT | exit_state, TASK_IDLE shown as I.</summary>
    private static char State(uint state, int exitState)
    {
        if (state == 0x402) return 'I'; // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
        uint s = (state & 0x7f) | (uint)exitState;
        int idx = s == 0 ? 0 : 32 - BitOperations.LeadingZeroCount(s);
        return "RSDTtXZPI"[Math.Min(idx, 8)];
    }

    /// <summary>
    /// Some sandbox kernels (not mainline) carry task_iter_hides() in kernel/bpf/task_iter.c: the task iterator skips thread
    /// group 1 (the VM's init/agent) for every reader outside it, so PID 1 is never in the dump there.
    /// </summary>
    private static bool KernelHidesInitGroup()
    {
        try { return File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" task_iter_hides", StringComparison.Ordinal)); }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return false; }
    }

    private static string? FindScript()
    {
        var env = Environment.GetEnvironmentVariable("BTFBINDINGS_TASK_DUMP_SCRIPT");
        if (env != null) return env;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "tests", "bpf", "run.sh");
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
