using System;
using System.CommandLine;
using System.IO;
using BtfBindings.Dump;

namespace BtfBindings.Cli
{
    /// <summary>The <c>btfgen</c> command line: one subcommand per job, shared option parsing and error reporting.</summary>
    public static class BtfGenCommand
    {
        /// <summary>Default BTF when none is given: the running kernel's.</summary>
        public const string DefaultKernelBtf = "/sys/kernel/btf/vmlinux";

        /// <summary>Runs the CLI with <paramref name="args"/>; returns the process exit code.</summary>
        public static int Run(string[] args, Stream stdoutStream, TextWriter stderr)
        {
            var stdout = new StreamWriter(stdoutStream, new System.Text.UTF8Encoding(false), 1 << 16) { AutoFlush = false };
            try { return RunCore(args, stdoutStream, stdout, stderr); }
            finally { stdout.Flush(); }
        }

        private static int RunCore(string[] args, Stream stdoutStream, StreamWriter stdout, TextWriter stderr)
        {
            var root = new RootCommand("btfgen: C# bindings and tools for Linux kernel BTF (BPF Type Format).");
            root.Subcommands.Add(DumpCommand(stdoutStream, stdout, stderr));
            var config = new InvocationConfiguration { Output = stdout, Error = stderr };
            try
            {
                return root.Parse(args).Invoke(config);
            }
            catch (BtfException e)
            {
                stderr.WriteLine("btfgen: error: " + e.Message);
                return 2;
            }
        }

        internal static Option<string?> BaseOption() => new("--base", "-B") { Description = "Base BTF (vmlinux) for split BTF such as a kernel module's." };

        internal static Btf LoadWithBase(string file, string? basePath)
        {
            Btf? b = basePath == null ? null : Btf.Load(basePath);
            return Btf.Load(file, b);
        }

        private static Command DumpCommand(Stream stdoutStream, TextWriter stdout, TextWriter stderr)
        {
            var file = new Argument<string>("FILE") { Description = "BTF file: raw, ELF (.BTF section), gzip/xz, or BTFHub .btf.tar.xz." };
            var baseOpt = BaseOption();
            var format = new Option<string>("--format", "-f") { Description = "raw: bpftool's text form; json: bpftool -j's JSON.", DefaultValueFactory = _ => "raw" };
            format.AcceptOnlyFromAmong("raw", "json");
            var cmd = new Command("dump", "Print every type of a BTF file exactly as 'bpftool btf dump file FILE format raw' does.") { file, baseOpt, format };
            cmd.SetAction(pr => Guard(stderr, () =>
            {
                var btf = LoadWithBase(pr.GetValue(file)!, pr.GetValue(baseOpt));
                stdout.Flush();
                if (pr.GetValue(format) == "json") BtfRawDump.WriteJson(btf, stdoutStream);
                else BtfRawDump.WriteText(btf, stdoutStream);
                stdoutStream.Flush();
                return 0;
            }));
            return cmd;
        }

        internal static int Guard(TextWriter stderr, Func<int> body)
        {
            try { return body(); }
            catch (BtfException e) { stderr.WriteLine("btfgen: error: " + e.Message); return 2; }
            catch (IOException e) { stderr.WriteLine("btfgen: error: " + e.Message); return 2; }
        }
    }
}
