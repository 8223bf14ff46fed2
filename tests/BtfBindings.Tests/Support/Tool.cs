using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace BtfBindings.Tests.Support
{
    /// <summary>Runs external oracles (bpftool, pahole, gcc, clang). A missing tool fails the test with how to install it: .ci/run installs them.</summary>
    public static class Tool
    {
        public sealed record Result(int ExitCode, string StdOut, string StdErr, byte[] StdOutBytes);

        public static string Find(string name)
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(new[] { "/usr/sbin", "/sbin" }))
            {
                var p = System.IO.Path.Combine(dir, name);
                if (File.Exists(p)) return p;
            }
            throw new InvalidOperationException($"'{name}' is not installed (apt-get install {(name == "bpftool" ? "bpftool" : name == "pahole" ? "dwarves" : name)}); .ci/run installs it");
        }

        public static Result Run(string tool, string args, string? workDir = null, int timeoutMs = 300_000)
        {
            var psi = new ProcessStartInfo(Find(tool), args)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                WorkingDirectory = workDir ?? Environment.CurrentDirectory,
            };
            using var p = Process.Start(psi)!;
            var ms = new MemoryStream();
            var outTask = p.StandardOutput.BaseStream.CopyToAsync(ms);
            var errTask = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs)) { try { p.Kill(true); } catch { } throw new TimeoutException($"{tool} {args} did not finish in {timeoutMs} ms"); }
            Task.WaitAll(outTask, errTask);
            var bytes = ms.ToArray();
            return new Result(p.ExitCode, System.Text.Encoding.UTF8.GetString(bytes), errTask.Result, bytes);
        }

        public static Result Check(string tool, string args, string? workDir = null)
        {
            var r = Run(tool, args, workDir);
            if (r.ExitCode != 0) throw new InvalidOperationException($"{tool} {args} failed ({r.ExitCode}): {r.StdErr}");
            return r;
        }
    }
}
