using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Text;
using BtfBindings;

namespace Ps;

/// <summary>
/// <c>ps</c> from kernel memory: a BPF task iterator (task_dump.bpf.c, compiled by the build, loaded through its generated
/// skeleton <see cref="TaskDump"/>) copies every task's raw task_struct out of the kernel, and the generated relocatable
/// view reads it at the offsets of the running kernel.
/// </summary>
public static class Program
{
    private const uint PfKthread = 0x00200000;

    public static int Main(string[] args)
    {
        string? btf = null, dump = null;
        bool threads = false, report = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--btf": btf = args[++i]; break;
                case "--dump": dump = args[++i]; break;
                case "-L": case "--threads": threads = true; break;
                case "--report": report = true; break;
                case "-h": case "--help":
                    Console.WriteLine("usage: ps [-L] [--report] [--btf KERNEL_BTF] [--dump TASK_DUMP]");
                    Console.WriteLine("  Lists tasks read from kernel memory with a task_struct generated from x86_64-6.12 and relocated to this kernel.");
                    Console.WriteLine("  -L          every thread, not only thread-group leaders");
                    Console.WriteLine("  --report    print what moved between the build-time and the running kernel's task_struct");
                    Console.WriteLine("  --btf F     kernel BTF to relocate against (default: discovery, or $" + KernelBtfOptions.DefaultEnvironmentVariable + ")");
                    Console.WriteLine("  --dump F    read a task dump (tests/bpf/run.sh's format) instead of running the iterator");
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
            try { file = RunIterator(); }
            catch (BtfBindings.Bpf.BpfException e) when (e.IsBpfRefused)
            {
                Console.Error.WriteLine("ps: cannot read kernel memory here: " + e.Message.Split('\n')[0]);
                return 77;
            }
        }

        // 3. Read the fields through the relocatable view, like ps.
        var rows = new List<(int tgid, int pid, string line)>();
        bool sawInit = false;
        int pos = 0;
        int hdrSize = Unsafe.SizeOf<TaskDump.task_dump_hdr>();
        while (pos + hdrSize <= file.Length)
        {
            // The record header is the BPF side's struct task_dump_hdr, generated from the object's BTF.
            ref readonly var h = ref MemoryMarshal.AsRef<TaskDump.task_dump_hdr>(file.AsSpan(pos));
            uint recLen = h.record_len, dataLen = h.data_len;
            int hdrLen = h.header_len;
            if (h.magic != 0x4B534154 || hdrLen != hdrSize || recLen != hdrLen + dataLen || pos + recLen > file.Length) { Console.Error.WriteLine($"ps: malformed dump at byte {pos}"); return 1; }
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

    /// <summary>Loads the task iterator, attaches it, and reads one pass of its output (the dump holds kernel addresses: kept in memory only).</summary>
    private static byte[] RunIterator()
    {
        using var skel = TaskDump.Open();
        skel.Load();
        using var link = skel.Programs.dump_task.Attach();
        using var stream = link.OpenIterator();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
