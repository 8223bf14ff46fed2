using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text;
using BtfBindings.Cli;
using BtfBindings.Cli.Commands;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// The hand-parsed fast path for <c>btfgen [generate] TYPE… [options]</c> must behave exactly like System.CommandLine:
    /// same exit code, stdout and stderr for what it accepts, and it must decline everything else.
    /// </summary>
    public class FastPathTests
    {
        private static (int code, byte[] stdout, string stderr) Run(string[] args, bool fast)
        {
            var stdoutStream = new MemoryStream();
            var stdout = new StreamWriter(stdoutStream, new UTF8Encoding(false), 1 << 16) { AutoFlush = false, NewLine = "\n" };
            var stderr = new StringWriter();
            int rc = BtfGenCommand.RunCore(args, new CliContext(stdoutStream, stdout, stderr), fast);
            stdout.Flush();
            return (rc, stdoutStream.ToArray(), stderr.ToString());
        }

        public static IEnumerable<object[]> Cases()
        {
            string a = Fixtures.Path("aarch64-6.1"), f = Fixtures.Path("bpf-features.o");
            // Taken by the fast path.
            yield return new object[] { true, new[] { "iphdr", "--btf", a } };
            yield return new object[] { true, new[] { "generate", "iphdr", "-b", a, "-n", "My.Kernel", "-c", "Kernel" } };
            yield return new object[] { true, new[] { "--namespace", "N", "iphdr", "--class", "K", "--btf", a, "task_struct", "--no-unsafe" } };
            yield return new object[] { true, new[] { "iphdr", "--follow-pointers", "--btf", a } };
            yield return new object[] { true, new[] { "--all", "--btf", f } };
            yield return new object[] { true, new[] { "iphdr", "--btf", f, "--all" } };           // warning: names ignored
            yield return new object[] { true, new[] { "task_strct", "iphdr", "--btf", a } };      // unknown type: exit 1
            yield return new object[] { true, new[] { "iphdr", "--btf", a + ".missing" } };       // unreadable: exit 2
            yield return new object[] { true, new[] { "--btf", a } };                            // no names: exit 2
            yield return new object[] { true, new[] { "generate" } };
            yield return new object[] { true, new[] { "iphdr", "--btf", a, "--base", a } };
            yield return new object[] { true, new[] { "iphdr", "--btf", a, "--class", "1x" } };            // bad names: exit 2 before loading
            yield return new object[] { true, new[] { "generate", "iphdr", "--btf", a, "-n", "My..Kernel" } };
            yield return new object[] { true, new[] { "lsit", "--btf", a } };                             // a mistyped command: exit 2
            // Declined: System.CommandLine decides.
            yield return new object[] { false, Array.Empty<string>() };
            yield return new object[] { false, new[] { "--help" } };
            yield return new object[] { false, new[] { "generate", "--help" } };
            yield return new object[] { false, new[] { "-h" } };
            yield return new object[] { false, new[] { "--version" } };
            yield return new object[] { false, new[] { "iphdr", "--btf=" + a } };
            yield return new object[] { false, new[] { "iphdr", "--btf", a, "--btf", a } };
            yield return new object[] { false, new[] { "iphdr", "--btf", a, "--all", "true" } };
            yield return new object[] { false, new[] { "iphdr", "--btf", a, "--all", "--all" } };
            yield return new object[] { false, new[] { "iphdr", "--btf" } };
            yield return new object[] { false, new[] { "iphdr", "--btf", "-" } };
            yield return new object[] { false, new[] { "iphdr", "--frobnicate", "--btf", a } };
            yield return new object[] { false, new[] { "generate", "iphdr", "--btf", a, "--bogus" } };
            yield return new object[] { false, new[] { "list", "iphdr", "--btf", a } };
            yield return new object[] { false, new[] { "iphdr", "show", "--btf", a } };
            yield return new object[] { false, new[] { "iphdr", "--btf", "list" } };
            yield return new object[] { false, new[] { "@args.rsp" } };
            yield return new object[] { false, new[] { "[diagram]", "iphdr" } };
            yield return new object[] { false, new[] { "iphdr", "" } };
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Same_result_as_System_CommandLine(bool taken, string[] args)
        {
            Assert.Equal(taken, GenerateCommand.TryParseFast(args, out _));
            var slow = Run(args, fast: false);
            var fast = Run(args, fast: true);
            Assert.Equal(slow.code, fast.code);
            Assert.Equal(slow.stderr, fast.stderr);
            Assert.True(slow.stdout.AsSpan().SequenceEqual(fast.stdout), "stdout differs");
            if (taken && slow.code == 0) Assert.NotEmpty(fast.stdout);
        }

        [Fact]
        public void Output_file_is_the_same()
        {
            var dir = CliSupport.Scratch("fast");
            var file = Path.Combine(dir, "k.cs");
            var args = new[] { "task_struct", "--btf", Fixtures.Path("x86_64-6.12"), "-o", file, "--class", "Kernel" };
            Assert.True(GenerateCommand.TryParseFast(args, out _));
            var slow = Run(args, fast: false);
            var slowText = File.ReadAllBytes(file);
            File.Delete(file);
            var fast = Run(args, fast: true);
            Assert.Equal(0, fast.code);
            Assert.Equal(slow.stderr, fast.stderr);
            Assert.True(slowText.AsSpan().SequenceEqual(File.ReadAllBytes(file)));
            Directory.Delete(dir, true);
        }

        [Fact]
        public void Fast_path_knows_exactly_the_commands_and_generate_options_of_the_tree()
        {
            var root = BtfGenCommand.BuildRoot(new CliContext(Stream.Null, new StreamWriter(Stream.Null), TextWriter.Null));
            Assert.Equal(GenerateCommand.CommandNames.OrderBy(n => n), root.Subcommands.Select(c => c.Name).OrderBy(n => n));
            var generate = root.Subcommands.Single(c => c.Name == "generate");
            foreach (var cmd in new Command[] { root, generate })
            {
                var options = cmd.Options.Where(o => o.Name != "--help" && o.Name != "--version").ToList();
                var flags = options.Where(o => o.ValueType == typeof(bool)).SelectMany(o => o.Aliases.Prepend(o.Name));
                var values = options.Where(o => o.ValueType != typeof(bool)).SelectMany(o => o.Aliases.Prepend(o.Name));
                Assert.Equal(GenerateCommand.FlagOptions.OrderBy(n => n), flags.OrderBy(n => n));
                Assert.Equal(GenerateCommand.ValueOptions.OrderBy(n => n), values.OrderBy(n => n));
                Assert.Single(cmd.Arguments);
            }
        }
    }
}
