using System;
using System.CommandLine;
using System.IO;
using BtfBindings.Cli.Commands;

namespace BtfBindings.Cli
{
    /// <summary>The <c>btfgen</c> command line: one subcommand per job, shared option parsing and error reporting.</summary>
    /// <remarks>
    /// Exit codes: 0 success; 1 a negative answer (unknown type name, <c>diff</c> found differences); 2 an error
    /// (unreadable input, bad usage).
    /// </remarks>
    public static class BtfGenCommand
    {
        /// <summary>Default BTF when none is given: the running kernel's.</summary>
        public const string DefaultKernelBtf = "/sys/kernel/btf/vmlinux";

        /// <summary>Exit code for errors (unreadable input, bad usage).</summary>
        public const int ExitError = 2;

        /// <summary>Runs the CLI with <paramref name="args"/>; returns the process exit code.</summary>
        public static int Run(string[] args, Stream stdoutStream, TextWriter stderr)
        {
            var stdout = new StreamWriter(stdoutStream, new System.Text.UTF8Encoding(false), 1 << 16) { AutoFlush = false, NewLine = "\n" };
            try { return RunCore(args, new CliContext(stdoutStream, stdout, stderr)); }
            finally { stdout.Flush(); }
        }

        internal static int RunCore(string[] args, CliContext ctx, bool allowFastPath = true)
        {
            // 'btfgen task_struct …', the common case, skips building the System.CommandLine tree when its arguments are plain.
            if (allowFastPath && GenerateCommand.TryParseFast(args, out var request))
                return Guard(ctx, () => GenerateCommand.Execute(request, ctx));

            var root = BuildRoot(ctx);
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var e in parsed.Errors) ctx.Error(e.Message);
                var cmd = parsed.CommandResult.Command;
                ctx.Err.WriteLine($"Try '{(cmd == root ? "btfgen" : "btfgen " + cmd.Name)} --help'.");
                return ExitError;
            }
            var config = new InvocationConfiguration { Output = ctx.Out, Error = ctx.Err, EnableDefaultExceptionHandler = false };
            try
            {
                return parsed.Invoke(config);
            }
            catch (BtfException e)
            {
                ctx.Error(e.Message);
                return ExitError;
            }
        }

        /// <summary>The command tree: generation as the root's own action, and one subcommand per job.</summary>
        internal static RootCommand BuildRoot(CliContext ctx)
        {
            var root = new RootCommand("btfgen: C# bindings and tools for Linux kernel BTF (BPF Type Format).\n"
                + "With no command, generates C# for the named types (see 'generate').");
            GenerateCommand.ConfigureRoot(root, ctx);
            root.Subcommands.Add(GenerateCommand.Create(ctx));
            root.Subcommands.Add(DumpCommand.Create(ctx));
            root.Subcommands.Add(ListCommand.Create(ctx));
            root.Subcommands.Add(ShowCommand.Create(ctx));
            root.Subcommands.Add(DiffCommand.Create(ctx));
            root.Subcommands.Add(ExtractCommand.Create(ctx));
            root.Subcommands.Add(MinimizeCommand.Create(ctx));
            root.Subcommands.Add(HeaderCommand.Create(ctx));
            root.Subcommands.Add(CompatCommand.Create(ctx));
            return root;
        }

        /// <summary>
        /// Makes a token starting with '-' given to <paramref name="argument"/> a usage error naming it: System.CommandLine
        /// hands an unknown option to an argument that takes several values (<c>btfgen generate task_struct --bogus</c> would
        /// look up a type named '--bogus'). A lone '-' is left to the command (no type is named '-'; as a file it does not exist).
        /// </summary>
        internal static void RejectOptionLikeTokens(Argument argument, bool typeNames)
        {
            argument.Validators.Add(result =>
            {
                foreach (var t in result.Tokens)
                {
                    string v = t.Value;
                    if (v.Length > 1 && v[0] == '-')
                    {
                        result.AddError($"unknown option '{v}'" + (typeNames ? " (type names never start with '-')" : " (to name a file starting with '-', write ./" + v + ")"));
                        return;
                    }
                }
            });
        }

        internal static Option<string?> BaseOption() => new("--base", "-B") { Description = "Base BTF (vmlinux) for split BTF such as a kernel module's." };

        internal static Option<string> BtfOption() => new("--btf", "-b")
        {
            Description = "BTF input: raw, ELF (vmlinux, .ko), gzip/xz, BTFHub .btf.tar.xz, or a kernel image. Default: " + DefaultKernelBtf + ".",
            DefaultValueFactory = _ => DefaultKernelBtf,
            HelpName = "FILE",
        };

        internal static Option<bool> JsonOption(string what) => new("--json") { Description = "Write " + what + " as JSON." };

        internal static Btf LoadWithBase(string file, string? basePath)
        {
            Btf? b = basePath == null ? null : Btf.Load(basePath);
            return Btf.Load(file, b);
        }

        /// <summary>Loads BTF from any input the tool accepts: what <see cref="Btf.Load"/> reads, plus kernel images.</summary>
        internal static Btf LoadAny(string file, string? basePath, CliContext ctx)
        {
            // Btf.Load reads every container, kernel images included; the CLI only adds progress output.
            Btf? b = basePath == null ? null : BtfContainer.Load(basePath, null, ctx.Progress);
            return BtfContainer.Load(file, b, ctx.Progress);
        }

        internal static int Guard(CliContext ctx, Func<int> body)
        {
            try { return body(); }
            catch (BtfException e) { ctx.Error(e.Message); return ExitError; }
            catch (IOException e) { ctx.Error(e.Message); return ExitError; }
            catch (UnauthorizedAccessException e) { ctx.Error(e.Message); return ExitError; }
            catch (InvalidDataException e) { ctx.Error(e.Message); return ExitError; }
        }
    }

    /// <summary>Where a command writes: stdout (as text and as a raw stream) and stderr.</summary>
    internal sealed class CliContext
    {
        public Stream StdoutStream { get; }
        public StreamWriter Out { get; }
        public TextWriter Err { get; }
        public bool Quiet { get; set; }

        public CliContext(Stream stdoutStream, StreamWriter stdout, TextWriter stderr) { StdoutStream = stdoutStream; Out = stdout; Err = stderr; }

        public void Error(string message) => Err.WriteLine("btfgen: error: " + message);
        public void Warning(string message) => Err.WriteLine("btfgen: warning: " + message);
        public void Progress(string message) { if (!Quiet) { Err.WriteLine("btfgen: " + message); Err.Flush(); } }
    }
}
