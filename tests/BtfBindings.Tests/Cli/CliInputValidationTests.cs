using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using BtfBindings.Cli;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Cli
{
    /// <summary>Crafted inputs and bad usage, each in a scratch folder the tool runs in (so messages hold short relative names).</summary>
    public sealed class CraftedInputs : IDisposable
    {
        public string Dir { get; } = CliSupport.Scratch("inputs");

        public CraftedInputs()
        {
            File.WriteAllBytes(Path.Combine(Dir, "empty.btf"), Array.Empty<byte>());
            Directory.CreateDirectory(Path.Combine(Dir, "somedir"));
            var random = new byte[4096];
            new Random(42).NextBytes(random);
            File.WriteAllBytes(Path.Combine(Dir, "random.bin"), random);
            var full = Fixtures.Bytes("aarch64-6.1");
            File.WriteAllBytes(Path.Combine(Dir, "aarch64.btf"), full);
            File.WriteAllBytes(Path.Combine(Dir, "trunc.btf"), full.AsSpan(0, 1000).ToArray());
            var gz = File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "aarch64-6.1.btf.gz"));
            File.WriteAllBytes(Path.Combine(Dir, "trunc.btf.gz"), gz.AsSpan(0, 20000).ToArray());
            File.CreateSymbolicLink(Path.Combine(Dir, "dangling"), "missing-target");
            ProcessRunner.Check("mkfifo", [Path.Combine(Dir, "fifo")]);
            // Kept open: .NET removes a Unix socket's file when the socket is closed.
            _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(Dir, "sock")));
        }

        private readonly Socket _socket;

        public void Dispose()
        {
            _socket.Dispose();
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Every input check and usage check, through the real tool as a separate process: one row per case (input, command, exit
    /// code, first line of standard error). Errors are one line naming the file (and the offset where it matters), exit code 2,
    /// and come before any work; a FIFO or a device never makes the tool wait or read forever (each run is killed after a timeout).
    /// </summary>
    public class CliInputValidationTests : IClassFixture<CraftedInputs>
    {
        private const int TimeoutMs = 60_000;
        private const string Commands = "generate, dump, list, show, diff, extract, minimize, header, compat";

        public sealed record Row(string[] Args, int Exit, string FirstLine);

        /// <summary>The table: label -> (arguments, expected exit code, expected first line of stderr).</summary>
        public static readonly Dictionary<string, Row> Table = new Dictionary<string, Row>
        {
            ["missing file"] = new(new[] { "dump", "missing.btf" }, 2, "btfgen: error: missing.btf: no such file"),
            ["empty file"] = new(new[] { "dump", "empty.btf" }, 2, "btfgen: error: empty.btf: is empty (0 bytes), not a BTF file"),
            ["directory"] = new(new[] { "list", "--btf", "somedir" }, 2, "btfgen: error: somedir: is a directory, not a BTF file"),
            ["directory (extract)"] = new(new[] { "extract", "somedir", "-o", "out.btf" }, 2, "btfgen: error: somedir: is a directory, not a BTF file"),
            ["FIFO"] = new(new[] { "show", "iphdr", "--btf", "fifo" }, 2, "btfgen: error: fifo: is a FIFO (named pipe), not a BTF file: pass a regular file (save the stream to a file first)"),
            ["FIFO as --base"] = new(new[] { "generate", "iphdr", "--btf", "aarch64.btf", "--base", "fifo" }, 2, "btfgen: error: fifo: is a FIFO (named pipe), not a BTF file: pass a regular file (save the stream to a file first)"),
            ["FIFO (extract)"] = new(new[] { "extract", "fifo", "-o", "out.btf" }, 2, "btfgen: error: fifo: is a FIFO (named pipe), not a BTF file: pass a regular file (save the stream to a file first)"),
            ["FIFO (diff NEW)"] = new(new[] { "diff", "aarch64.btf", "fifo" }, 2, "btfgen: error: fifo: is a FIFO (named pipe), not a BTF file: pass a regular file (save the stream to a file first)"),
            ["/dev/null"] = new(new[] { "dump", "/dev/null" }, 2, "btfgen: error: /dev/null: is a character device, not a BTF file: pass a regular file"),
            ["/dev/zero (extract)"] = new(new[] { "extract", "/dev/zero", "-o", "out.btf" }, 2, "btfgen: error: /dev/zero: is a character device, not a BTF file: pass a regular file"),
            ["/dev/zero (minimize)"] = new(new[] { "minimize", "--btf", "/dev/zero", "-o", "out.btf", "iphdr" }, 2, "btfgen: error: /dev/zero: is a character device, not a BTF file: pass a regular file"),
            ["socket"] = new(new[] { "dump", "sock" }, 2, "btfgen: error: sock: is a socket, not a BTF file: pass a regular file"),
            ["dangling symlink"] = new(new[] { "dump", "dangling" }, 2, "btfgen: error: dangling: is a dangling symbolic link to 'missing-target', not a BTF file"),
            ["random bytes"] = new(new[] { "dump", "random.bin" }, 2, "btfgen: error: random.bin at byte offset 0 (0x0): not BTF: no BTF magic (0xeb9f), ELF, gzip, xz or tar header, and not a kernel image with BTF inside (no BTF found: not raw BTF, no ELF .BTF section, no valid BTF header anywhere in the data; was the kernel built with CONFIG_DEBUG_INFO_BTF=y?)"),
            ["truncated raw BTF"] = new(new[] { "dump", "trunc.btf" }, 2, "btfgen: error: trunc.btf at byte offset 16 (0x10): truncated raw BTF: the string section [2812024, +2008547) runs past the end of the data (976 bytes after the header)"),
            ["truncated .gz"] = new(new[] { "list", "--btf", "trunc.btf.gz" }, 2, "btfgen: error: trunc.btf.gz at byte offset 20000 (0x4e20): truncated gzip stream: the file ends before the gzip stream does"),
            ["truncated .gz (extract)"] = new(new[] { "extract", "-q", "trunc.btf.gz", "-o", "out.btf" }, 2, "btfgen: error: trunc.btf.gz at byte offset 20000 (0x4e20): truncated gzip stream: the file ends before the gzip stream does"),
            // Usage: checked before any BTF is read (missing.btf would be reported otherwise).
            ["bad --namespace"] = new(new[] { "generate", "iphdr", "--btf", "missing.btf", "--namespace", "a b;" }, 2, "btfgen: error: --namespace 'a b;' is not a C# namespace name: it contains a space, which cannot be part of a C# identifier"),
            ["bad --namespace (empty part)"] = new(new[] { "iphdr", "--btf", "missing.btf", "-n", "My..Kernel" }, 2, "btfgen: error: --namespace 'My..Kernel' is not a C# namespace name: it has an empty part between two dots ('..')"),
            ["bad --class"] = new(new[] { "iphdr", "--btf", "missing.btf", "--class", "1x" }, 2, "btfgen: error: --class '1x' is not a C# class name: it starts with '1'; an identifier starts with a letter or '_'"),
            ["keyword --class"] = new(new[] { "generate", "iphdr", "--btf", "missing.btf", "--class", "class" }, 2, "btfgen: error: --class 'class' is not a C# class name: 'class' is a C# keyword: escape it as '@class' (on the command line: --class=@class)"),
            ["--class naming a generated type"] = new(new[] { "iphdr", "--btf", "aarch64.btf", "--class", "iphdr" }, 2, "btfgen: error: --class 'iphdr' is also the name of a generated type (struct iphdr), which C# does not allow inside a class of that name: choose another"),
            ["--no-unsafe (nothing to turn off)"] = new(new[] { "generate", "iphdr", "--btf", "missing.btf", "--no-unsafe" }, 2, "btfgen: error: --no-unsafe is not needed: generated code never uses unsafe (C arrays are inline arrays) and builds without AllowUnsafeBlocks; remove the option"),
            ["unknown option after generate"] = new(new[] { "generate", "task_struct", "--bogus" }, 2, "btfgen: error: unknown option '--bogus' (type names never start with '-')"),
            ["unknown option (show)"] = new(new[] { "show", "iphdr", "-x", "--btf", "missing.btf" }, 2, "btfgen: error: unknown option '-x' (type names never start with '-')"),
            ["unknown option for a file (dump)"] = new(new[] { "dump", "--bogus" }, 2, "btfgen: error: unknown option '--bogus' (to name a file starting with '-', write ./--bogus)"),
            ["unknown subcommand close to one"] = new(new[] { "lsit", "--btf", "aarch64.btf" }, 2, "btfgen: error: unknown command 'lsit'; did you mean 'list'? (as a type name, 'lsit' is not in aarch64.btf either)"),
            ["unknown subcommand"] = new(new[] { "frobnicate", "--btf", "aarch64.btf" }, 1, "btfgen: error: 'frobnicate' is neither a command (" + Commands + ") nor a type in aarch64.btf"), // no type name is within a plausible edit distance: none suggested
        };

        public static IEnumerable<object[]> Rows() => Table.Keys.Select(k => new object[] { k });

        private readonly CraftedInputs _inputs;
        private readonly ITestOutputHelper _out;

        public CliInputValidationTests(CraftedInputs inputs, ITestOutputHelper output) { _inputs = inputs; _out = output; }

        [Theory]
        [MemberData(nameof(Rows))]
        public void Input_and_usage_errors(string label)
        {
            var row = Table[label];
            var r = CliSupport.RunProcess(_inputs.Dir, TimeoutMs, row.Args);
            string firstLine = r.StdErr.Split('\n')[0];
            _out.WriteLine($"| {label} | btfgen {string.Join(" ", row.Args.Select(a => a.Contains(' ') || a.Length == 0 ? "'" + a + "'" : a))} | {r.ExitCode} | {firstLine} |");
            Assert.True(row.Exit == r.ExitCode, $"{label}: expected exit {row.Exit}\n{r}");
            Assert.Equal(row.FirstLine, firstLine);
            Assert.Empty(r.StdOutBytes);
            Assert.False(File.Exists(Path.Combine(_inputs.Dir, "out.btf")), "no output file on error");
        }

        [Theory]
        [InlineData("fifo")]
        [InlineData("/dev/zero")]
        [InlineData("somedir")]
        public void Library_load_rejects_non_regular_files(string name)
        {
            string path = name.StartsWith('/') ? name : Path.Combine(_inputs.Dir, name);
            var e = Assert.Throws<BtfException>(() => Btf.Load(path));
            Assert.StartsWith(path + ": is a ", e.Message);
            Assert.Equal(path, e.SourceName);
        }

        /// <summary>Whole gzip files still load: one member, trailing zero padding, trailing garbage (gzip(1) ignores it too), two members.</summary>
        [Fact]
        public void Whole_gzip_files_with_padding_garbage_or_several_members_load()
        {
            var gz = File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "aarch64-6.1.btf.gz"));
            
            var raw = Fixtures.Bytes("aarch64-6.1");
            int types = Btf.Parse((byte[])raw.Clone(), "raw").TypeCount;
            var twoMembers = new MemoryStream();
            foreach (var half in new[] { raw.AsSpan(0, raw.Length / 2).ToArray(), raw.AsSpan(raw.Length / 2).ToArray() })
                using (var z = new System.IO.Compression.GZipStream(twoMembers, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                    z.Write(half);
            var cases = new (string name, byte[] data)[]
            {
                ("plain", gz),
                ("zero padding", gz.Concat(new byte[100]).ToArray()),
                ("garbage", gz.Concat(System.Text.Encoding.ASCII.GetBytes("hello\n")).ToArray()),
                ("two members", twoMembers.ToArray()),
            };
            foreach (var (name, data) in cases)
            {
                var path = Path.Combine(_inputs.Dir, name.Replace(' ', '-') + ".gz");
                File.WriteAllBytes(path, data);
                Assert.True(types == BtfContainer.Load(path).TypeCount, name);
            }
            // Every cut of the file short of its end is a truncated stream (the trailer, too).
            foreach (int cut in new[] { 11, 100, gz.Length / 2, gz.Length - 9, gz.Length - 8, gz.Length - 4, gz.Length - 1 })
            {
                var path = Path.Combine(_inputs.Dir, $"cut-{cut}.gz");
                File.WriteAllBytes(path, gz.AsSpan(0, cut).ToArray());
                var e = Assert.Throws<BtfException>(() => BtfContainer.Load(path));
                Assert.True(e.Message.Contains("truncated gzip stream") || e.Message.Contains("corrupt gzip data"), $"cut at {cut}: {e.Message}");
            }
        }
    }
}
