using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// samples/execsnoop for real: `dotnet build` compiles execsnoop.bpf.c with clang against the vmlinux.h the build writes
    /// from the x86_64-6.12 fixture, generates its skeleton, and the program loads it, attaches it (tp_btf) and prints one
    /// typed ring-buffer event per exec. The test execs /bin/true itself and finds those processes, by PID and file name, in
    /// the output. Skips with the reason where bpf() is refused.
    /// </summary>
    public class ExecsnoopSampleTests
    {
        private readonly ITestOutputHelper _out;
        public ExecsnoopSampleTests(ITestOutputHelper output) { _out = output; }

        [FullSkippableFact]
        public void Execsnoop_sample_builds_from_C_and_streams_the_execs_it_sees()
        {
            var sample = Path.Combine(Fixtures.RepoRoot, "samples", "execsnoop");
            var outDir = Path.Combine(Path.GetTempPath(), "btfb-execsnoop-" + Guid.NewGuid().ToString("N"));
            try
            {
                var build = ProcessRunner.Run(ProcessRunner.Dotnet, ["build", sample, "-c", "Release", "-o", outDir, "-nologo"], sample, TimeSpan.FromMinutes(10));
                Assert.True(build.ExitCode == 0, build.StdOut + build.StdErr);
                Assert.Matches(@"\b0 Warning\(s\)", build.StdOut);

                var psi = ProcessRunner.StartInfo(ProcessRunner.Dotnet, [Path.Combine(outDir, "execsnoop.dll"), "-n", "200"]);
                using var p = Process.Start(psi)!;
                var stdout = new List<string>();
                var header = new ManualResetEventSlim();
                p.OutputDataReceived += (_, e) => { if (e.Data == null) return; lock (stdout) stdout.Add(e.Data); if (e.Data.Contains("FILENAME")) header.Set(); };
                var stderr = p.StandardError.ReadToEndAsync();
                p.BeginOutputReadLine();
                if (!header.Wait(60_000))
                {
                    p.WaitForExit(10_000);
                    if (p.HasExited && p.ExitCode == 77) throw new SkipTestException("execsnoop: " + stderr.Result.Trim());
                    try { p.Kill(true); } catch (InvalidOperationException) { }
                    Assert.Fail("execsnoop did not start: " + stderr.Result);
                }
                // Loaded and attached: exec /bin/true a few times; each must come back as an event with its PID.
                var pids = new List<int>();
                for (int i = 0; i < 5; i++)
                {
                    using var t = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
                    pids.Add(t.Id);
                    t.WaitForExit();
                }
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (DateTime.UtcNow < deadline)
                {
                    lock (stdout) if (pids.All(pid => stdout.Any(l => IsEventFor(l, pid)))) break;
                    Thread.Sleep(100);
                }
                try { p.Kill(true); } catch (InvalidOperationException) { }
                p.WaitForExit();
                lock (stdout)
                {
                    foreach (var l in stdout.Take(30)) _out.WriteLine(l);
                    foreach (var pid in pids)
                        Assert.True(stdout.Any(l => IsEventFor(l, pid)), $"no event for /bin/true pid {pid} in:\n{string.Join("\n", stdout.Take(50))}\n{stderr.Result}");
                }
            }
            finally { try { Directory.Delete(outDir, true); } catch (IOException) { } }
        }

        // "    PID    PPID    UID COMM             FILENAME": comm "true", file /bin/true.
        private static bool IsEventFor(string line, int pid)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return f.Length >= 5 && f[0] == pid.ToString() && f[3] == "true" && f[4] == "/bin/true";
        }
    }
}
