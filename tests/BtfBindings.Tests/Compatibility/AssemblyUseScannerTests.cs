using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Generator;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>
    /// The assembly scanner (contract (e)) on a real build: the generator over x86_64-6.12, user code compiled with a
    /// portable PDB in Debug and Release, scanned from the files on disk. Each expected use is marked in the source by a
    /// comment <c>// use: TEXT ACCESS</c> on its line: the truth is the code as written.
    /// </summary>
    public class AssemblyUseScannerTests
    {
        internal const string UserSource = @"using System;
using BtfBindings;
namespace App
{
    [BtfTypes(""task_struct"", ""iphdr"", ""pid_type"", ""bpf_func_id"")]
    public static partial class K { }

    public static class Probe
    {
        public static long Plain(ref K.task_struct t, ref K.iphdr h)
        {
            long s = t.pid; // use: task_struct.pid plain
            s += (long)t.se.vruntime; // use: task_struct.se.vruntime plain
            t.prio = 5; // use: task_struct.prio plain
            s += h.ihl; // use: iphdr.ihl plain
            s += h.addrs.saddr; // use: iphdr.addrs.saddr plain
            ref var a = ref h.addrs; // use: iphdr.addrs plain
            s += a.daddr; // use: iphdr.addrs.daddr plain
            return s;
        }

        public static long Viewed(byte[] d, TargetKernel k)
        {
            var v = new K.task_struct.View(d, k);
            long s = v.tgid; // use: task_struct.tgid view
            s += (long)v.se.vruntime; // use: task_struct.se.vruntime view
            if (v.Has_flags) s += v.flags; // use: task_struct.flags view
            v.prio = 3; // use: task_struct.prio view
            s += (long)k.ValueOf(K.pid_type.PIDTYPE_TGID); // use: enum pid_type::PIDTYPE_TGID view
            if (k.EnumValueExists(K.bpf_func_id.BPF_FUNC_user_ringbuf_drain)) s++; // use: enum bpf_func_id::BPF_FUNC_user_ringbuf_drain view
            Func<long> f = () => v2(d, k);
            return s + f();
        }

        private static long v2(byte[] d, TargetKernel k) => new K.iphdr.View(d, k).ttl; // use: iphdr.ttl view
    }
}
";

        internal static (string dll, string source) Build(OptimizationLevel level, bool pdb)
        {
            var dir = Directory.CreateTempSubdirectory("compat-scan-").FullName;
            string src = Path.Combine(dir, "Probe.cs");
            File.WriteAllText(src, UserSource);
            var btf = Fixtures.Path("x86_64-6.12");
            var info = new FileInfo(btf);
            var driver = GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((btf, info.Length + "-" + info.LastWriteTimeUtc.Ticks)));
            var tree = CSharpSyntaxTree.ParseText(UserSource, TestCompilation.Parse(LanguageVersion.CSharp12, DocumentationMode.Parse), src, System.Text.Encoding.UTF8);
            var compilation = TestCompilation.Create("ScanProbe", new[] { tree }, options: TestCompilation.CompilationOptions(true, 4).WithOptimizationLevel(level));
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diags);
            Assert.DoesNotContain(diags, d => d.Severity == DiagnosticSeverity.Error);
            string dll = Path.Combine(dir, "ScanProbe.dll");
            using (var pe = File.Create(dll))
            using (var pdbStream = pdb ? File.Create(Path.Combine(dir, "ScanProbe.pdb")) : null)
            {
                var r = output.Emit(pe, pdbStream, options: pdb ? new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb, pdbFilePath: "ScanProbe.pdb") : null);
                Assert.True(r.Success, string.Join("\n", r.Diagnostics.Where(x => x.Severity == DiagnosticSeverity.Error).Take(10)));
            }
            return (dll, src);
        }

        // (use text, access, 1-based line) from the // use: comments.
        private static List<(string, CompatAccess, int)> Expected()
        {
            var list = new List<(string, CompatAccess, int)>();
            var lines = UserSource.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                int at = lines[i].IndexOf("// use: ", StringComparison.Ordinal);
                if (at < 0) continue;
                var spec = lines[i].Substring(at + 8).Trim();
                int sp = spec.LastIndexOf(' ');
                list.Add((spec.Substring(0, sp), spec.Substring(sp + 1) == "plain" ? CompatAccess.Plain : CompatAccess.View, i + 1));
            }
            return list;
        }

        [Theory]
        [InlineData(OptimizationLevel.Debug)]
        [InlineData(OptimizationLevel.Release)]
        public void Lists_each_generated_member_the_code_uses_with_its_line(OptimizationLevel level)
        {
            var (dll, src) = Build(level, pdb: true);
            var scan = AssemblyUseScanner.Scan(dll);
            Assert.True(scan.HasPdb);
            Assert.Equal(new[] { "x86_64-6.12.btf" }, scan.SourceFiles);
            Assert.True(scan.GeneratedTypes > 10, scan.GeneratedTypes + " generated types");
            var got = scan.Uses.Select(u => (u.use.Text, u.use.Access, u.site.Line)).OrderBy(x => x.Line).ThenBy(x => x.Text, StringComparer.Ordinal).ToList();
            var want = Expected().OrderBy(x => x.Item3).ThenBy(x => x.Item1, StringComparer.Ordinal).ToList();
            Assert.Equal(want, got);
            Assert.All(scan.Uses, u => Assert.Equal(src, u.site.Document));
            Assert.Contains(scan.Uses, u => u.site.Method == "App.Probe.Viewed");
            Assert.Contains(scan.Uses, u => u.site.Method == "App.Probe.v2" && u.use.Text == "iphdr.ttl");
            // every use names what the build-time BTF has
            foreach (var (use, _) in scan.Grouped()) CompatibilityRule.Validate(use, Fixtures.Kernel("x86_64-6.12"));
        }

        [Fact]
        public void Without_a_pdb_sites_have_method_and_il_offset_only()
        {
            var (dll, _) = Build(OptimizationLevel.Release, pdb: false);
            var scan = AssemblyUseScanner.Scan(dll);
            Assert.False(scan.HasPdb);
            Assert.Equal(Expected().Count, scan.Uses.Count);
            Assert.All(scan.Uses, u => { Assert.Null(u.site.Document); Assert.Equal(0, u.site.Line); });
            Assert.Equal(Expected().Select(e => (e.Item1, e.Item2)).Distinct().Count(), scan.Grouped().Count);
        }

        [Fact]
        public void A_file_that_is_not_an_assembly_is_a_clear_error()
        {
            var e = Assert.ThrowsAny<BadImageFormatException>(() => AssemblyUseScanner.Scan(Fixtures.Path("x86_64-5.10")));
            Assert.Contains(Fixtures.Path("x86_64-5.10"), e.Message);
        }
    }
}
