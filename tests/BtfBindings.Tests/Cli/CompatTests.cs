using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Compatibility;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// <c>btfgen compat</c> over the BTFHub tree the committed script makes from the six fixtures: verdicts per target
    /// in the JSON (checked against bpftool's dump of the 5.10 target), the Markdown file, the exit codes, the errors;
    /// and an assembly checked by the tool run as its own process.
    /// </summary>
    public class CompatTests
    {
        private static string X612 => Fixtures.Path("x86_64-6.12");

        [Fact]
        public void Paths_against_a_btfhub_tree_give_per_target_verdicts_and_exit_1()
        {
            var tree = BtfHubTree.Make();
            var dir = CliSupport.Scratch("compat");
            string json = Path.Combine(dir, "compat.json"), md = Path.Combine(dir, "compat.md");
            var r = CliSupport.Check(1, "compat", "--targets", tree, "--btf", X612, "task_struct.__state", "task_struct.pid", "struct iphdr", "--json", json, "--markdown", md);
            Assert.Contains("problem  'task_struct.__state' is missing on x86_64 5.10 (1 of 6 targets)", r.StdOut);
            Assert.Contains("ok       'struct iphdr' is ok on all 6 targets", r.StdOut);
            Assert.StartsWith("3 uses against 6 target kernels (aarch64, armv7l, i686, s390x, x86_64): 1 with problems", r.StdOut);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
            var targets = doc.RootElement.GetProperty("targets").EnumerateArray().ToArray();
            Assert.Equal(6, targets.Length);
            Assert.Equal(BtfHubTree.Kernels.Select(k => k.release).OrderBy(x => x, StringComparer.Ordinal), targets.Select(t => t.GetProperty("release").GetString()).OrderBy(x => x, StringComparer.Ordinal));
            int t510 = Array.FindIndex(targets, t => t.GetProperty("release").GetString() == "5.10.0-46-amd64");
            // bpftool: 5.10's task_struct has no __state; pid is at bits_offset / 8
            var b = Bpftool.Types(Fixtures.Path("x86_64-5.10"));
            var ts = b.Composite("task_struct");
            Assert.DoesNotContain(ts.Members, m => m.Name == "__state");
            long pidBits = ts.Members.Single(m => m.Name == "pid").BitsOffset;
            var uses = doc.RootElement.GetProperty("uses").EnumerateArray().ToDictionary(u => u.GetProperty("use").GetString()!);
            Assert.Equal("missing", uses["task_struct.__state"].GetProperty("results")[t510].GetProperty("verdict").GetString());
            var pid = uses["task_struct.pid"].GetProperty("results")[t510];
            Assert.Equal("moved", pid.GetProperty("verdict").GetString());
            Assert.StartsWith($"offset {pidBits / 8}, size 4;", pid.GetProperty("detail").GetString());
            Assert.Contains("| 5.10.0-46-amd64 | x86_64 | debian/11 |", File.ReadAllText(md));

            var ok = CliSupport.Check(0, "compat", "-t", tree, "-b", X612, "struct iphdr", "pid_type::PIDTYPE_TGID", "--json", "-");
            using var okDoc = ok.Json();
            Assert.Equal(0, okDoc.RootElement.GetProperty("summary").GetProperty("usesWithProblems").GetInt32());
        }

        [Fact]
        public void Errors_exit_2_and_name_the_input()
        {
            var tree = BtfHubTree.Make();
            var dir = CliSupport.Scratch("compat-errors");
            var missing = Path.Combine(dir, "nope");
            Assert.Contains($"target '{missing}' does not exist", CliSupport.Check(2, "compat", "-t", missing, "-b", X612, "task_struct.pid").StdErr);
            var junk = Path.Combine(dir, "5.4.0-1-generic.btf");
            File.WriteAllBytes(junk, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
            Assert.Contains($"target '{junk}' cannot be read as BTF", CliSupport.Check(2, "compat", "-t", junk, "-b", X612, "task_struct.pid").StdErr);
            var e = CliSupport.Check(2, "compat", "-t", tree, "-b", X612, "task_struct.no_such").StdErr;
            Assert.Contains("no_such", e);
            Assert.Contains("x86_64-6.12", e);
            Assert.DoesNotContain("(Parameter", e); // the user's use, not an API parameter
            Assert.Contains("task_struct..pid", CliSupport.Check(2, "compat", "-t", tree, "-b", X612, "task_struct..pid").StdErr);
            Assert.Contains("nothing to check", CliSupport.Check(2, "compat", "-t", tree, "-b", X612).StdErr);
            Assert.Contains("not both", CliSupport.Check(2, "compat", "-t", tree, "-b", X612, "-a", X612, "task_struct.pid").StdErr);
            Assert.Contains("is not a .NET assembly", CliSupport.Check(2, "compat", "-t", tree, "-b", X612, "-a", X612).StdErr);
            Assert.Contains("--targets", CliSupport.Check(2, "compat", "task_struct.pid").StdErr);
        }

        [Fact]
        public void An_assembly_is_checked_by_the_tool_process_with_its_source_lines()
        {
            var (dll, src) = AssemblyUseScannerTests.Build(OptimizationLevel.Release, pdb: true);
            var tree = BtfHubTree.Make();
            var dir = CliSupport.Scratch("compat-asm");
            string json = Path.Combine(dir, "c.json");
            var noBtf = CliSupport.RunProcess(dir, 120_000, "compat", "-t", tree, "-a", dll);
            Assert.Equal(2, noBtf.ExitCode);
            Assert.Contains("come from x86_64-6.12.btf: give that build-time BTF with --btf", noBtf.StdErr);

            var r = CliSupport.RunProcess(dir, 120_000, "compat", "-t", tree, "-b", X612, "-a", dll, "--json", json);
            Assert.True(r.ExitCode == 1, r.ToString());
            // plain reads of moved fields are problems; the enumerator 5.10 lacks is one; each at its line
            int line = Array.FindIndex(AssemblyUseScannerTests.UserSource.Split('\n'), l => l.Contains("// use: task_struct.pid plain", StringComparison.Ordinal)) + 1;
            Assert.Contains($"problem  'task_struct.pid' is moved on ", r.StdOut);
            Assert.Contains($"[plain struct read]\n         at {src}({line}): App.Probe.Plain", r.StdOut);
            Assert.Contains("problem  'enum bpf_func_id::BPF_FUNC_user_ringbuf_drain' is missing on x86_64 5.10 (1 of 6 targets) [view]", r.StdOut);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
            var scanned = AssemblyUseScanner.Scan(dll).Grouped();
            Assert.Equal(scanned.Count, doc.RootElement.GetProperty("uses").GetArrayLength());
            var tgid = doc.RootElement.GetProperty("uses").EnumerateArray().Single(u => u.GetProperty("use").GetString() == "task_struct.tgid");
            Assert.Equal("view", tgid.GetProperty("access").GetString());
            Assert.False(tgid.GetProperty("problem").GetBoolean());
            Assert.Equal(src, tgid.GetProperty("sites")[0].GetProperty("document").GetString());
            var flags = doc.RootElement.GetProperty("uses").EnumerateArray().Single(u => u.GetProperty("use").GetString() == "task_struct.flags");
            Assert.True(flags.GetProperty("guarded").GetBoolean());
            Assert.Contains("[view, guarded by Has_flags]", r.StdOut);
        }
    }
}
