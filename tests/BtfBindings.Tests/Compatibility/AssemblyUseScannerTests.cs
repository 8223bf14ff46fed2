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
            if (v.se.Exists(""vruntime"")) s += (long)v.se.vruntime; // use: task_struct.se.vruntime view
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

        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(OptimizationLevel, bool), Lazy<(string, string)>> Built =
            new System.Collections.Concurrent.ConcurrentDictionary<(OptimizationLevel, bool), Lazy<(string, string)>>();

        /// <summary>The probe built once per run per (optimization, PDB): (assembly path, source path). Read it, do not write.</summary>
        internal static (string dll, string source) Build(OptimizationLevel level, bool pdb)
            => Built.GetOrAdd((level, pdb), k => new Lazy<(string, string)>(() => BuildUncached(k.Item1, k.Item2))).Value;

        private static (string dll, string source) BuildUncached(OptimizationLevel level, bool pdb)
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

        /// <summary>
        /// The generated types in their own assembly beside the app (what the opt-in BtfTypesAssembly builds:
        /// App.BtfTypes.dll, referenced and copied to the output), the probe's code in the app: (app path, source path).
        /// </summary>
        internal static (string dll, string source) BuildWithTypesAssembly()
        {
            var dir = Directory.CreateTempSubdirectory("compat-scan-split-").FullName;
            const string request = "[BtfTypes(\"task_struct\", \"iphdr\", \"pid_type\", \"bpf_func_id\")]";
            // The app's source: the probe without the request class, on the same lines.
            var lines = UserSource.Split('\n');
            for (int i = 0; i < lines.Length; i++)
                if (lines[i].Contains(request, StringComparison.Ordinal) || lines[i].Contains("partial class K", StringComparison.Ordinal)) lines[i] = "";
            string appSource = string.Join("\n", lines);
            string typesSource = "using BtfBindings;\nnamespace App\n{\n    " + request + "\n    public static partial class K { }\n}\n";
            var parse = TestCompilation.Parse(LanguageVersion.CSharp12, DocumentationMode.Parse);
            var btf = Fixtures.Path("x86_64-6.12");
            var info = new FileInfo(btf);
            var driver = GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((btf, info.Length + "-" + info.LastWriteTimeUtc.Ticks)));
            var types = TestCompilation.Create("ScanProbe.BtfTypes", new[] { CSharpSyntaxTree.ParseText(typesSource, parse, Path.Combine(dir, "Kernel.cs"), System.Text.Encoding.UTF8) },
                options: TestCompilation.CompilationOptions(true, 4).WithOptimizationLevel(OptimizationLevel.Release));
            driver.RunGeneratorsAndUpdateCompilation(types, out var typesOut, out _);
            string typesDll = Path.Combine(dir, "ScanProbe.BtfTypes.dll");
            var tr = typesOut.Emit(typesDll);
            Assert.True(tr.Success, string.Join("\n", tr.Diagnostics.Where(x => x.Severity == DiagnosticSeverity.Error).Take(10)));
            string src = Path.Combine(dir, "Probe.cs");
            File.WriteAllText(src, appSource);
            var app = TestCompilation.Create("ScanProbe", new[] { CSharpSyntaxTree.ParseText(appSource, parse, src, System.Text.Encoding.UTF8) },
                TestCompilation.References.Add(MetadataReference.CreateFromFile(typesDll)), TestCompilation.CompilationOptions(true, 4).WithOptimizationLevel(OptimizationLevel.Release));
            string dll = Path.Combine(dir, "ScanProbe.dll");
            using (var pe = File.Create(dll))
            using (var pdbStream = File.Create(Path.Combine(dir, "ScanProbe.pdb")))
            {
                var r = app.Emit(pe, pdbStream, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb, pdbFilePath: "ScanProbe.pdb"));
                Assert.True(r.Success, string.Join("\n", r.Diagnostics.Where(x => x.Severity == DiagnosticSeverity.Error).Take(10)));
            }
            return (dll, src);
        }

        [Fact]
        public void Finds_the_same_uses_when_the_generated_types_are_in_a_referenced_assembly_beside_it()
        {
            var (dll, src) = BuildWithTypesAssembly();
            var scan = AssemblyUseScanner.Scan(dll);
            Assert.Equal(new[] { "x86_64-6.12.btf" }, scan.SourceFiles);
            var got = scan.Uses.Select(u => (u.use.Text, u.use.Access, u.site.Line, u.site.Guarded)).OrderBy(x => x.Line).ThenBy(x => x.Text, StringComparer.Ordinal).ToList();
            var (same, _) = Build(OptimizationLevel.Release, pdb: true);
            var want = AssemblyUseScanner.Scan(same).Uses.Select(u => (u.use.Text, u.use.Access, u.site.Line, u.site.Guarded)).OrderBy(x => x.Line).ThenBy(x => x.Text, StringComparer.Ordinal).ToList();
            Assert.Equal(Expected().Count, want.Count);
            Assert.Equal(want, got);
            Assert.All(scan.Uses, u => Assert.Equal(src, u.site.Document));
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

        [Fact]
        public void Lists_each_generated_member_the_code_uses_with_its_line() => ListsUses(OptimizationLevel.Release);

        /// <summary>Debug IL (nops, every temporary a local) gives the same uses.</summary>
        [FullFact]
        public void Lists_the_same_uses_from_a_debug_build() => ListsUses(OptimizationLevel.Debug);

        private static void ListsUses(OptimizationLevel level)
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
            // guards: Has_flags before v.flags; se.Exists("vruntime") before the second v.se.vruntime only
            var guardedLines = scan.Uses.Where(u => u.site.Guarded).Select(u => (u.use.Text, u.site.Line)).OrderBy(x => x.Line).ToArray();
            int Line(string marker) => Array.FindIndex(UserSource.Split('\n'), l => l.Contains(marker, StringComparison.Ordinal)) + 1;
            Assert.Equal(new[] { ("task_struct.flags", Line("v.Has_flags")), ("task_struct.se.vruntime", Line("v.se.Exists")) }, guardedLines);
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
        public void Uses_are_tagged_with_their_source_and_selected_for_a_build_btf()
        {
            var (dll, _) = Build(OptimizationLevel.Release, pdb: false);
            var scan = AssemblyUseScanner.Scan(dll);
            Assert.All(scan.Grouped().Where(u => u.use.Kind == CompatUseKind.Field), u => Assert.Equal("x86_64-6.12.btf", scan.SourceOf[u.use]));
            var all = scan.ForBuildBtf(Fixtures.Kernel("x86_64-6.12"), "/any/where/x86_64-6.12.btf.gz", out var skipped);
            Assert.Empty(skipped);
            Assert.Equal(scan.Grouped().Count, all.Count);

            // An assembly with types from two BTF files (a kernel's and a BPF object's own): uses of the other file's types
            // are left out when the build BTF's name matches a source, and so are types the build BTF lacks.
            var site = new CompatUseSite("App.P.M", 0);
            var kernelUse = new CompatUse(CompatUseKind.Field, "task_struct", "pid", CompatAccess.View);
            var objUse = new CompatUse(CompatUseKind.Field, "task_dump_hdr", "pid", CompatAccess.Plain);
            var objUseNamedLikeKernel = new CompatUse(CompatUseKind.Field, "iphdr", "ttl", CompatAccess.Plain);
            var two = new AssemblyUseScan("x.dll", new[] { (kernelUse, site), (objUse, site), (objUseNamedLikeKernel, site) }, new[] { "task_dump.bpf.o", "x86_64-6.12.btf.gz" }, 3, false,
                new (int, string?)[] { (0, "x86_64-6.12.btf.gz"), (1, "task_dump.bpf.o") }); // the source of uses 0.., then 1..
            Assert.Equal(new[] { "x86_64-6.12.btf.gz", "task_dump.bpf.o", "task_dump.bpf.o" }, new[] { kernelUse, objUse, objUseNamedLikeKernel }.Select(u => two.SourceOf[u]));
            // Uses without a source (enumerators) between: none; a use met again keeps its first source.
            var enumUse = new CompatUse(CompatUseKind.EnumValue, "bpf_func_id", "BPF_FUNC_map_lookup_elem", CompatAccess.View);
            var runs = new AssemblyUseScan("y.dll", new[] { (kernelUse, site), (enumUse, site), (objUse, site), (kernelUse, site) }, new[] { "a", "b" }, 2, false,
                new (int, string?)[] { (0, "a"), (1, null), (2, "b") });
            Assert.Equal(2, runs.SourceOf.Count);
            Assert.Equal("a", runs.SourceOf[kernelUse]);
            Assert.Equal("b", runs.SourceOf[objUse]);
            Assert.False(runs.SourceOf.ContainsKey(enumUse));
            var kept = two.ForBuildBtf(Fixtures.Kernel("x86_64-6.12"), Fixtures.Path("x86_64-6.12"), out skipped);
            Assert.Equal(new[] { kernelUse }, kept.Select(k => k.use));
            Assert.Equal(new[] { "generated from task_dump.bpf.o", "generated from task_dump.bpf.o" }, skipped.Select(x => x.reason));
            // a build BTF named like no source: checked by whether it has the type
            kept = two.ForBuildBtf(Fixtures.Kernel("x86_64-6.12"), "/tmp/vmlinux-6.12.btf", out skipped);
            Assert.Equal(new[] { kernelUse, objUseNamedLikeKernel }, kept.Select(k => k.use));
            Assert.Equal(objUse, skipped.Single().use);
            Assert.Contains("has no type task_dump_hdr", skipped.Single().reason);
        }

        [Fact]
        public void A_file_that_is_not_an_assembly_is_a_clear_error()
        {
            var e = Assert.ThrowsAny<BadImageFormatException>(() => AssemblyUseScanner.Scan(Fixtures.Path("x86_64-5.10")));
            Assert.Contains(Fixtures.Path("x86_64-5.10"), e.Message);
        }
    }
}
