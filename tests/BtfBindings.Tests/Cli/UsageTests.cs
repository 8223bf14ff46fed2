using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>Every command has --help (exit 0, on stdout); usage errors go to stderr with exit code 2.</summary>
    public class UsageTests
    {
        [Theory]
        [InlineData("generate", "same code the BtfBindings source generator writes")]
        [InlineData("list", "--kind")]
        [InlineData("show", "pahole")]
        [InlineData("diff", "Exit code")]
        [InlineData("extract", "kernel image")]
        [InlineData("minimize", "min_core_btf")]
        [InlineData("dump", "bpftool")]
        public void Each_command_has_help(string command, string mentions)
        {
            var r = CliSupport.Check(0, command, "--help");
            Assert.Contains(mentions, r.StdOut);
            Assert.Contains("Usage:", r.StdOut);
        }

        [Fact]
        public void Root_help_lists_every_command()
        {
            var r = CliSupport.Check(0, "--help");
            foreach (var c in new[] { "generate", "dump", "list", "show", "diff", "extract", "minimize" }) Assert.Contains(c, r.StdOut);
        }

        [Theory]
        [InlineData("show")]
        [InlineData("extract", "x")]
        [InlineData("minimize", "task_struct")]
        [InlineData("list", "a*", "b*")]
        [InlineData("show", "iphdr", "--cacheline")]
        [InlineData("frobnicate", "--btf")]
        public void Usage_errors_exit_2_on_stderr(params string[] args)
        {
            var r = CliSupport.Check(2, args);
            Assert.Contains("btfgen: error:", r.StdErr);
            Assert.Empty(r.StdOutBytes);
        }

        [Fact]
        public void Dump_keeps_its_behaviour()
        {
            var r = CliSupport.Check(0, "dump", Fixtures.Path("elf32be-ppc.o"));
            Assert.Equal(Bpftool.Dump(Fixtures.Path("elf32be-ppc.o")).StdOut, r.StdOut);
        }
    }
}
