using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// The set of tasks in /proc (every /proc/&lt;tgid&gt;/task/&lt;tid&gt;), keyed by (tgid, tid) with the task's start time (field 22
    /// of its stat file, clock ticks since boot) so a tid reused by a new task is a different task.
    /// </summary>
    internal static class ProcTasks
    {
        public static Dictionary<(int tgid, int tid), long> Snapshot()
        {
            var tasks = new Dictionary<(int, int), long>();
            if (!Directory.Exists("/proc")) return tasks;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int tgid)) continue;
                IEnumerable<string> threads;
                try { threads = Directory.GetDirectories(dir + "/task"); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { continue; } // exited meanwhile
                foreach (var t in threads)
                {
                    if (!int.TryParse(Path.GetFileName(t), out int tid)) continue;
                    var stat = Read(t + "/stat");
                    if (stat == null) continue;
                    // comm (field 2) may hold spaces and parentheses: the fields after the last ')' start with field 3 (state).
                    var rest = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    tasks[(tgid, tid)] = long.Parse(rest[19]);
                }
            }
            return tasks;
        }

        public static string Comm(int tgid, int tid) => Read($"/proc/{tgid}/task/{tid}/comm")?.TrimEnd('\n') ?? "?";

        private static string? Read(string path)
        {
            try { return File.ReadAllText(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
        }

        private static readonly Lazy<bool> Hides = new Lazy<bool>(() =>
        {
            try { return File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" task_iter_hides", StringComparison.Ordinal)); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return false; }
        });

        /// <summary>
        /// True on kernels with the non-mainline <c>task_iter_hides()</c> (the sandbox VMs' 6.18 kernel): kernel/bpf/task_iter.c's
        /// task_seq_get_next() calls it for every candidate and skips thread group 1 (the VM's init/agent and its threads) unless
        /// the reader belongs to it, so a BPF task iterator never returns PID 1 there. Mainline kernels have no such symbol.
        /// </summary>
        public static bool KernelHidesInitGroup => Hides.Value;
    }

    /// <summary>/proc → dump: every task alive both before and after the dump must be in it (PID 1 included).</summary>
    internal sealed class TaskSetComparison
    {
        public int Stable, Dumped, Born, Exited, Transient;
        public List<(int tgid, int tid)> Missing = new List<(int, int)>(), Hidden = new List<(int, int)>();
        public bool Pid1Dumped, HidesInitGroup;

        /// <param name="dumped">(tgid, pid) of every dumped task.</param>
        /// <param name="before">/proc before the dump.</param>
        /// <param name="after">/proc after the dump.</param>
        /// <param name="leadersOnly">Compare thread-group leaders only (tgid == tid), e.g. for ps without -L.</param>
        /// <param name="hidesInitGroup">Whether thread group 1 may be missing; default: <see cref="ProcTasks.KernelHidesInitGroup"/>.</param>
        public static TaskSetComparison Compare(IEnumerable<(int tgid, int pid)> dumped, IReadOnlyDictionary<(int tgid, int tid), long> before,
            IReadOnlyDictionary<(int tgid, int tid), long> after, bool leadersOnly = false, bool? hidesInitGroup = null)
        {
            var seen = new HashSet<(int, int)>(dumped);
            var stable = before.Where(kv => (!leadersOnly || kv.Key.tgid == kv.Key.tid) && after.TryGetValue(kv.Key, out long s) && s == kv.Value)
                .Select(kv => kv.Key).ToList();
            var c = new TaskSetComparison { HidesInitGroup = hidesInitGroup ?? ProcTasks.KernelHidesInitGroup, Stable = stable.Count, Pid1Dumped = seen.Contains((1, 1)) };
            foreach (var k in stable.Where(k => !seen.Contains(k)).OrderBy(k => k))
                (c.HidesInitGroup && k.tgid == 1 ? c.Hidden : c.Missing).Add(k);
            c.Dumped = c.Stable - c.Missing.Count - c.Hidden.Count;
            foreach (var k in seen)
            {
                bool b = before.ContainsKey(k), a = after.ContainsKey(k);
                if (!b && a) c.Born++;
                else if (b && !a) c.Exited++;
                else if (!b && !a) c.Transient++;
            }
            return c;
        }

        public string Summary =>
            $"task set vs /proc: {Stable} alive before and after, {Dumped} dumped, {Missing.Count} missing; pid 1 {(Pid1Dumped ? "dumped" : "NOT dumped")}; " +
            $"born during the dump {Born}, exited {Exited}, born and exited {Transient}" +
            (HidesInitGroup ? $"; kernel has task_iter_hides(): {Hidden.Count} task(s) of thread group 1 hidden from BPF task iterators (tolerated)" : "");

        /// <summary>The failures: missing tasks, and PID 1 absent on a kernel that does not hide it.</summary>
        public List<string> Problems()
        {
            var p = Missing.Select(k => $"task tgid={k.tgid} tid={k.tid} ('{ProcTasks.Comm(k.tgid, k.tid)}') was alive before and after the dump but is not in it").ToList();
            if (!Pid1Dumped && !HidesInitGroup) p.Add("PID 1 is not in the dump (and the kernel has no task_iter_hides())");
            return p;
        }
    }
}
