using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Cli;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>Runs btfgen in-process (the same entry point as the tool) and helps with bpftool's JSON as an oracle.</summary>
    internal static class CliSupport
    {
        public sealed record CliResult(int ExitCode, byte[] StdOutBytes, string StdErr)
        {
            public string StdOut => Encoding.UTF8.GetString(StdOutBytes);
            public JsonDocument Json() => JsonDocument.Parse(StdOutBytes, new JsonDocumentOptions { MaxDepth = 256 });
            public override string ToString() => $"exit {ExitCode}\nstderr: {StdErr}\nstdout: {(StdOut.Length > 2000 ? StdOut.Substring(0, 2000) + "..." : StdOut)}";
        }

        public static CliResult Run(params string[] args)
        {
            var stdout = new MemoryStream();
            var stderr = new StringWriter();
            int rc = BtfGenCommand.Run(args, stdout, stderr);
            return new CliResult(rc, stdout.ToArray(), stderr.ToString());
        }

        /// <summary>Runs and asserts the exit code.</summary>
        public static CliResult Check(int expected, params string[] args)
        {
            var r = Run(args);
            Assert.True(r.ExitCode == expected, $"btfgen {string.Join(" ", args)}: expected exit {expected}\n{r}");
            return r;
        }

        /// <summary>
        /// Runs the built tool as its own process (<c>dotnet btfgen.dll</c>, copied next to the tests) in <paramref name="workDir"/>,
        /// with standard input closed; a run that takes longer than <paramref name="timeoutMs"/> is killed and fails the test
        /// (a FIFO or a device must never make btfgen wait or read forever).
        /// </summary>
        public static CliResult RunProcess(string workDir, int timeoutMs, params string[] args)
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "btfgen.dll");
            Assert.True(File.Exists(dll), "btfgen.dll is not next to the tests: " + dll);
            var p = ProcessRunner.Run("dotnet", [dll, .. args], workDir, TimeSpan.FromMilliseconds(timeoutMs));
            return new CliResult(p.ExitCode, p.StdOutBytes, p.StdErr);
        }

        public static string Scratch(string name)
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfgen-cli-tests", name + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(dir);
            return dir;
        }

        public sealed record Field(string Path, long BitOffset, long BitSize, bool Bitfield);

        /// <summary>
        /// Fields of a struct/union in bpftool's dump the way a C programmer reaches them: members of anonymous members
        /// flattened into the parent, members of a named member of anonymous type as 'member.field' (an anonymous composite
        /// that a typedef names is a type of its own, as the planner names it after the typedef).
        /// </summary>
        public static List<Field> Flatten(BpftoolTypes b, BpftoolType composite)
        {
            var list = new List<Field>();
            Walk(b, b.LongSize ?? 8, composite, "", 0, list, 0);
            return list;
        }

        private static void Walk(BpftoolTypes b, int pointerSize, BpftoolType t, string prefix, long baseBits, List<Field> into, int depth)
        {
            foreach (var m in t.Members)
            {
                long bits = baseBits + m.BitsOffset;
                int bf = m.BitfieldSize;
                int target = b.Resolve(m.TypeId);
                var tt = target == 0 ? null : b[target];
                bool composite = tt != null && tt.IsComposite;
                bool anonType = composite && tt!.Name.Length == 0 && b.TypedefNamesOf(target).Count == 0;
                if (m.Name.Length == 0)
                {
                    if (composite && bf == 0) Walk(b, pointerSize, tt!, prefix, bits, into, depth + 1);
                    continue;
                }
                into.Add(new Field(prefix + m.Name, bits, bf != 0 ? bf : b.SizeOf(m.TypeId, pointerSize) * 8, bf != 0));
                if (anonType && depth < 32) Walk(b, pointerSize, tt!, prefix + m.Name + ".", bits, into, depth + 1);
            }
        }
    }
}
