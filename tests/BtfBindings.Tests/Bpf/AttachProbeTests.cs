using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using BtfBindings.Bpf;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// What attaches on this machine (the README's table comes from this test's output): each program of
    /// tests/bpf/runtime/attach_probe.bpf.c alone (AutoLoad off for the rest), loaded, attached or test-run, triggered, and
    /// its run counter read. Whatever attaches must also run; the program types the other tests rely on must work.
    /// </summary>
    public partial class AttachProbeTests
    {
        private readonly ITestOutputHelper _log;
        public AttachProbeTests(ITestOutputHelper log) => _log = log;

        [LibraryImport("libc", EntryPoint = "getpid")]
        private static partial int GetPid();

        private enum How { Attach, AttachIterator, TestRun }

        private static readonly (string program, int hit, How how)[] Programs =
        {
            ("tracepoint_getpid", 0, How.Attach), ("raw_tp_sys_enter", 1, How.Attach), ("tp_btf_sys_enter", 2, How.Attach),
            ("kprobe_openat2", 3, How.Attach), ("kretprobe_openat2", 4, How.Attach), ("fentry_openat2", 5, How.Attach),
            ("iter_task", 6, How.AttachIterator), ("test_run_xdp", 7, How.TestRun), ("test_run_socket", 8, How.TestRun),
            ("test_run_tc", 9, How.TestRun), ("test_run_syscall", 10, How.TestRun), ("test_run_raw_tp", 11, How.TestRun),
            ("tp_btf_exec", 12, How.Attach),
        };

        [SkippableFact]
        public void Reports_what_attaches_and_everything_attached_runs()
        {
            BpfTestSupport.RequireBpf();
            var table = new StringBuilder("| program | section | how | result |\n|---|---|---|---|\n");
            var works = new HashSet<string>();
            foreach (var (name, hit, how) in Programs)
            {
                string result;
                using var obj = BpfObject.Open(BpfTestSupport.Object("attach_probe"));
                foreach (var p in obj.Programs) p.AutoLoad = p.Name == name;
                var prog = obj.Program(name);
                try
                {
                    obj.Load();
                    if (how == How.TestRun)
                    {
                        prog.TestRun(name is "test_run_syscall" or "test_run_raw_tp" ? default : BpfTestSupport.Packet);
                    }
                    else
                    {
                        using var link = prog.Attach();
                        if (how == How.AttachIterator) { using var s = link.OpenIterator(); s.CopyTo(Stream.Null); }
                        for (int i = 0; i < 20; i++) { GetPid(); File.ReadAllBytes("/proc/self/stat"); }
                        if (name == "tp_btf_exec") ProcessRunner.Check("/bin/true", Array.Empty<string>());
                    }
                    ulong hits = obj.Map(".bss").GlobalReadOnly<Hits>()[hit];
                    Assert.True(hits > 0, $"{name} {(how == How.TestRun ? "test-ran" : "attached")} but never ran");
                    result = $"works ({hits} runs)";
                    works.Add(name);
                }
                catch (BpfException e)
                {
                    result = $"{(!obj.IsLoaded ? "load" : how == How.TestRun ? "test run" : "attach")} fails: errno {e.Errno} " + FirstLine(e);
                }
                table.Append($"| {name} | {prog.Section} | {(how == How.TestRun ? "BPF_PROG_TEST_RUN" : how == How.AttachIterator ? "attach + read" : "attach + trigger")} | {result} |\n");
            }
            _log.WriteLine($"kernel {Environment.OSVersion.Version} ({File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}):");
            _log.WriteLine(table.ToString());
            Assert.Contains("test_run_xdp", works);     // the map, globals and ring buffer tests run through it
            Assert.Contains("iter_task", works);
        }

        private static string FirstLine(BpfException e)
        {
            var msg = e.Message.Split('\n')[0];
            var log = e.LibbpfLog?.Split('\n', StringSplitOptions.RemoveEmptyEntries) ?? Array.Empty<string>();
            var why = Array.Find(log, l => l.Contains("failed to") || l.Contains("error"));
            return msg.Replace("|", "/") + (why != null ? " — libbpf: " + why.Trim().Replace("|", "/") : "");
        }

        [System.Runtime.CompilerServices.InlineArray(16)]
        private struct Hits { private ulong _e; }
    }
}
