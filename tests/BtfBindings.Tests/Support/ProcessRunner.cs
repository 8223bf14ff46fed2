using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;

namespace BtfBindings.Tests.Support
{
    /// <summary>What a finished process printed and returned, with the command line that ran it (for failure messages).</summary>
    public sealed record ProcessResult(string CommandLine, int ExitCode, byte[] StdOutBytes, string StdErr)
    {
        public string StdOut => Encoding.UTF8.GetString(StdOutBytes);

        /// <summary>Standard output then standard error, as a terminal would show them (minus interleaving).</summary>
        public string Output => StdOut + StdErr;

        /// <summary>The command line, the exit code and the last lines of stderr (and stdout): what a failed assertion should show.</summary>
        public string Describe() => $"`{CommandLine}` exited {ExitCode}\nstderr (tail):\n{ProcessRunner.Tail(StdErr)}\nstdout (tail):\n{ProcessRunner.Tail(StdOut)}";

        public override string ToString() => Describe();
    }

    /// <summary>
    /// The one way tests start a process (dotnet, bpftool, clang, gcc, pahole, xz, tar, bash…): arguments as a list (no
    /// shell quoting), a timeout after which the whole process tree is killed, stdout and stderr captured concurrently (a
    /// full pipe never deadlocks the child), standard input fed or closed, environment variables set or removed. A missing
    /// tool fails with how to install it: .ci/run installs every tool the tests use.
    /// </summary>
    public static class ProcessRunner
    {
        /// <summary>Five minutes: long enough for a cold <c>dotnet build</c> on the shared 2-core machine.</summary>
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

        /// <summary>The dotnet host running the tests (DOTNET_HOST_PATH under <c>dotnet test</c>), else <c>dotnet</c> on PATH.</summary>
        public static string Dotnet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is string host && File.Exists(host) ? host : "dotnet";

        /// <summary>The full path of <paramref name="tool"/> on PATH or in /usr/sbin, /sbin (where Debian puts bpftool); throws with how to install it.</summary>
        public static string Find(string tool)
        {
            if (tool.Contains('/')) return tool;
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(new[] { "/usr/sbin", "/sbin" }))
            {
                if (dir.Length == 0) continue;
                var p = Path.Combine(dir, tool);
                if (File.Exists(p)) return p;
            }
            throw new InvalidOperationException($"'{tool}' is not installed (apt-get install {Package(tool)}); .ci/run installs it");
        }

        /// <summary>True when <paramref name="tool"/> can be found (for tests that skip rather than fail without it).</summary>
        public static bool Exists(string tool)
        {
            try { Find(tool); return true; }
            catch (InvalidOperationException) { return false; }
        }

        private static string Package(string tool) => tool switch
        {
            "pahole" => "dwarves",
            "xz" => "xz-utils",
            "llvm-objcopy" => "llvm",
            "dotnet" => "dotnet-sdk-10.0",
            _ => tool,
        };

        /// <summary>
        /// Runs <paramref name="file"/> (a bare name is looked up with <see cref="Find"/>) and returns whatever it exits with.
        /// <paramref name="environment"/> entries set variables, or remove them when the value is null. Standard input gets
        /// <paramref name="stdin"/>, else is closed at once (nothing may wait for a terminal). On timeout the process tree is
        /// killed and a <see cref="TimeoutException"/> names the command line and the stderr seen so far.
        /// </summary>
        public static ProcessResult Run(string file, IEnumerable<string> args, string? workDir = null, TimeSpan? timeout = null,
            IEnumerable<KeyValuePair<string, string?>>? environment = null, byte[]? stdin = null)
        {
            var argList = args.ToList();
            string commandLine = CommandLine(file, argList);
            var psi = StartInfo(file, argList, workDir, environment);
            Process p;
            try { p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + commandLine); }
            catch (Win32Exception e) { throw new InvalidOperationException($"could not start `{commandLine}`: {e.Message}", e); }
            using (p)
            {
                var stdout = new MemoryStream();
                var stderr = new StringBuilder();
                var outTask = p.StandardOutput.BaseStream.CopyToAsync(stdout);
                var errTask = Task.Run(() =>
                {
                    var buf = new char[4096];
                    int n;
                    while ((n = p.StandardError.Read(buf, 0, buf.Length)) > 0)
                        lock (stderr) stderr.Append(buf, 0, n);
                });
                var inTask = Task.Run(() =>
                {
                    try
                    {
                        if (stdin != null) p.StandardInput.BaseStream.Write(stdin, 0, stdin.Length);
                        p.StandardInput.Close();
                    }
                    catch (IOException) { } // the child exited (or closed its stdin) early; its exit code says why
                });
                var limit = timeout ?? DefaultTimeout;
                if (!p.WaitForExit((int)Math.Min(int.MaxValue, limit.TotalMilliseconds)))
                {
                    try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } // exited meanwhile
                    p.WaitForExit(10_000);
                    string seen;
                    lock (stderr) seen = stderr.ToString();
                    throw new TimeoutException($"`{commandLine}` did not finish in {limit.TotalSeconds:0} s (process tree killed)\nstderr (tail):\n{Tail(seen)}");
                }
                Task.WaitAll(outTask, errTask, inTask);
                return new ProcessResult(commandLine, p.ExitCode, stdout.ToArray(), stderr.ToString());
            }
        }

        /// <summary>
        /// The start info every process of the tests uses (all streams redirected, arguments as a list, telemetry off,
        /// <paramref name="environment"/> applied: a null value removes the variable). <see cref="Run"/> uses it; a
        /// long-lived conversation (the language server's LspClient) starts from it too.
        /// </summary>
        public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, string? workDir = null, IEnumerable<KeyValuePair<string, string?>>? environment = null)
        {
            var psi = new ProcessStartInfo(file == "dotnet" ? Dotnet : Find(file))
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                WorkingDirectory = workDir ?? Environment.CurrentDirectory,
            };
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            if (environment != null)
                foreach (var (k, v) in environment)
                {
                    if (v == null) psi.Environment.Remove(k);
                    else psi.Environment[k] = v;
                }
            return psi;
        }

        /// <summary><see cref="Run"/>, then throws unless the exit code is 0, with the command line and the stderr tail.</summary>
        public static ProcessResult Check(string file, IEnumerable<string> args, string? workDir = null, TimeSpan? timeout = null,
            IEnumerable<KeyValuePair<string, string?>>? environment = null, byte[]? stdin = null)
        {
            var r = Run(file, args, workDir, timeout, environment, stdin);
            if (r.ExitCode != 0) throw new InvalidOperationException(r.Describe());
            return r;
        }

        /// <summary>The command line as a shell would read it (for messages only; nothing is ever run through a shell by this).</summary>
        public static string CommandLine(string file, IEnumerable<string> args)
            => string.Join(" ", new[] { file }.Concat(args).Select(Quote));

        private static string Quote(string a)
            => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";

        /// <summary>The last <paramref name="lines"/> lines of <paramref name="text"/>.</summary>
        public static string Tail(string text, int lines = 40)
        {
            var all = text.TrimEnd().Split('\n');
            return all.Length <= lines ? string.Join("\n", all) : "…\n" + string.Join("\n", all.Skip(all.Length - lines));
        }
    }
}
