using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.CoRe;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// samples/ps for real: a `dotnet build` of the sample (types generated from the x86_64-6.12 fixture, relocated at
    /// start-up), run against the live kernel through tests/bpf/run.sh, its output checked against /proc. Skips with
    /// run.sh's reason where bpf()/bpftool iter pin is refused or bpftool/clang are missing.
    /// </summary>
    public class PsSampleTests
    {
        private readonly ITestOutputHelper _out;
        public PsSampleTests(ITestOutputHelper output) { _out = output; }

        private static (int code, string stdout, string stderr) Run(string file, string[] args, string workDir, bool clearKernelBtf = false)
        {
            // clearKernelBtf: relocate against the running kernel.
            var env = clearKernelBtf ? new Dictionary<string, string?> { [KernelBtfOptions.DefaultEnvironmentVariable] = null } : null;
            var r = ProcessRunner.Run(file, args, workDir, TimeSpan.FromMinutes(10), env);
            return (r.ExitCode, r.StdOut, r.StdErr);
        }

        // "   tgid     pid S PRIO  NI CPU      TIME   MINFLT COMMAND" (COMMAND may hold spaces; kernel threads are [bracketed]).
        private static readonly Regex RowRe = new Regex(@"^\s*(\d+)\s+(\d+)\s+(\S)\s+(-?\d+)\s+(-?\d+)\s+(\S+)\s+(\S+)\s+(\d+) (.*)$", RegexOptions.CultureInvariant);

        private static string? ReadProc(string path)
        {
            try { return File.ReadAllText(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
        }

        private static int? PPid(int pid)
        {
            var status = ReadProc($"/proc/{pid}/status");
            var line = status?.Split('\n').FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            return line == null ? null : int.Parse(line.Substring(5).Trim());
        }

        [FullSkippableFact]
        public void Ps_sample_lists_the_machines_processes_as_proc_does()
        {
            // The same environment probe the live-kernel tests use (tests/bpf/run.sh once per test run; skip with its reason).
            LiveTaskDump.Records(out var probe);
            _out.WriteLine("probe: " + probe);
            // The checks below expect relocation against the kernel's own BTF (a BPF task iterator needs it anyway).
            if (!File.Exists("/sys/kernel/btf/vmlinux")) throw new SkipTestException("no /sys/kernel/btf/vmlinux: ps would run non-portable");

            var root = Fixtures.RepoRoot;
            var sample = Path.Combine(root, "samples", "ps");
            var outDir = Path.Combine(Path.GetTempPath(), "btfb-ps-" + Guid.NewGuid().ToString("N"));
            try
            {
                var (code, bout, berr) = Run("dotnet", ["build", sample, "-c", "Release", "-o", outDir, "-nologo"], sample);
                Assert.True(code == 0, bout + berr);
                Assert.Matches(@"\b0 Warning\(s\)", bout);

                var before = ProcTasks.Snapshot();
                var (rc, stdout, stderr) = Run("dotnet", [Path.Combine(outDir, "ps.dll"), "--script", Path.Combine(root, "tests", "bpf", "run.sh")], outDir, clearKernelBtf: true);
                var after = ProcTasks.Snapshot();
                _out.WriteLine(stderr.Trim());
                if (rc == 77) throw new SkipTestException("samples/ps cannot read kernel memory here: " + stderr.Trim());
                Assert.True(rc == 0, $"ps exited {rc}:\n{stderr}\n{stdout}");
                Assert.DoesNotContain("unverified", stderr);           // relocated against real kernel BTF, not non-portable mode
                Assert.Contains("(/sys/kernel/btf/vmlinux", stderr);

                var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.StartsWith("    PID     TID S PRIO  NI CPU", lines[0]);
                var rows = new List<(int tgid, int pid, string comm, bool kthread)>();
                foreach (var line in lines.Skip(1))
                {
                    var m = RowRe.Match(line);
                    Assert.True(m.Success, "unparsable ps row: " + line);
                    string comm = m.Groups[9].Value;
                    bool kthread = comm.Length >= 2 && comm[0] == '[' && comm[comm.Length - 1] == ']';
                    rows.Add((int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), kthread ? comm.Substring(1, comm.Length - 2) : comm, kthread));
                }
                var summary = Regex.Match(stderr, @"ps: (\d+) processes;");
                Assert.True(summary.Success, stderr);
                Assert.Equal(int.Parse(summary.Groups[1].Value), rows.Count);

                // Without -L only thread-group leaders are listed, each once.
                Assert.All(rows, r => Assert.Equal(r.tgid, r.pid));
                Assert.Equal(rows.Count, rows.Select(r => r.pid).Distinct().Count());

                // Every listed process that still exists has /proc's comm (kernel threads: /proc may show the longer
                // workqueue name, "kworker/0:1-events", of which task->comm is a prefix), and kernel threads are children
                // of kthreadd (pid 2) or kthreadd itself.
                int same = 0, prefix = 0, gone = 0;
                var problems = new List<string>();
                foreach (var r in rows)
                {
                    var pcomm = ReadProc($"/proc/{r.pid}/comm")?.TrimEnd('\n');
                    if (pcomm == null) { gone++; continue; }
                    if (pcomm == r.comm) same++;
                    else if (r.kthread && r.comm.Length > 0 && pcomm.StartsWith(r.comm, StringComparison.Ordinal)) prefix++;
                    else { problems.Add($"pid {r.pid}: ps says '{r.comm}', /proc says '{pcomm}'"); continue; }
                    if (r.kthread && r.pid != 2 && PPid(r.pid) is int pp && pp != 2) problems.Add($"pid {r.pid} '{r.comm}' shown as a kernel thread but its parent is {pp}");
                }
                // /proc → ps: every process alive before and after ps ran is listed, PID 1 included (unless the kernel hides it).
                var set = TaskSetComparison.Compare(rows.Select(r => (r.tgid, r.pid)), before, after, leadersOnly: true);
                problems.AddRange(set.Problems());
                string tally = $"ps: {rows.Count} processes ({rows.Count(r => r.kthread)} kernel threads); {same} comm equal, {prefix} kthread prefix, {gone} gone; " +
                    $"/proc had {before.Keys.Count(k => k.tgid == k.tid)} before and {after.Keys.Count(k => k.tgid == k.tid)} after; {set.Summary}";
                _out.WriteLine(tally);
                Assert.True(problems.Count == 0, tally + "\n" + string.Join("\n", problems.Take(20)));

                // This test's own process was alive throughout, so it must be listed with its comm; so must its parent (dotnet test / vstest).
                int self = Environment.ProcessId;
                var selfRow = rows.Where(r => r.pid == self).ToList();
                Assert.True(selfRow.Count == 1, $"the test process {self} ({ReadProc("/proc/self/comm")?.Trim()}) is not in ps's output");
                Assert.False(selfRow[0].kthread);
                if (PPid(self) is int parent && parent > 1 && ReadProc($"/proc/{parent}/comm") != null)
                    Assert.Contains(rows, r => r.pid == parent);

                Assert.True(set.Stable > 0, tally);
                Assert.True(same + prefix >= rows.Count * 9 / 10, tally);
                if (set.HidesInitGroup && !set.Pid1Dumped) Assert.Contains("PID 1 is not visible", stderr); // ps says why it is not listed
                else Assert.Contains(rows, r => r.pid == 1);
            }
            finally
            {
                try { Directory.Delete(outDir, true); } catch (IOException) { }
            }
        }
    }
}
