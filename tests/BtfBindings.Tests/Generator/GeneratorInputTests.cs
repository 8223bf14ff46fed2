using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using BtfBindings.Tests.Exactness;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using BtfGen = BtfBindings.Generator.BtfSourceGenerator;

namespace BtfBindings.Tests.Generator
{
    /// <summary>
    /// The generator over inputs other than a raw vmlinux: split BTF with a <c>Base=</c> (a kernel module) and ELF
    /// objects. Layouts are checked against bpftool's JSON dump by compiling a small checker that measures the
    /// generated structs (<c>sizeof</c>, address differences), not by reading what the generator says about them.
    /// </summary>
    [Collection("generator-cache")]
    public class GeneratorInputTests
    {
        private const string Module = "x86_64-6.12-ip_vs.ko";
        private const string ModuleBase = "x86_64-6.12";

        private static Dictionary<string, string> Sources(GeneratorDriver driver)
            => driver.GetRunResult().Results.SelectMany(r => r.GeneratedSources).ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);

        [Fact]
        public void Split_file_regenerates_and_reparses_when_only_its_base_changes()
        {
            using var tmp = new TempDir("gen-base");
            var dir = tmp.Path;
            // The module stays the same file; the base is a copy we edit in place (same path, new content).
            var basePath = Path.Combine(dir, "vmlinux.btf");
            var baseBytes = Fixtures.Bytes(ModuleBase);
            File.WriteAllBytes(basePath, baseBytes);
            var files = GeneratorHarness.SplitFileEntry(Fixtures.Path(Module), "module-hash", basePath);
            const string code = @"
using BtfBindings;
[BtfTypes(""ip_vs_iphdr"")]
partial class K { }";
            var comp = GeneratorHarness.Compile(new[] { code });
            var driver = GeneratorHarness.CreateDriver(files, baseHashesProperty: GeneratorHarness.BaseHashesProperty((basePath, "base-hash-A")));
            driver = driver.RunGenerators(comp);
            int parses = GeneratorHarness.ParseCount;
            var before = Sources(driver);
            Assert.Empty(driver.GetRunResult().Diagnostics);
            // ip_vs_iphdr (module) holds union nf_inet_addr (base) by value.
            Assert.Contains("K.nf_inet_addr.g.cs", before.Keys);
            Assert.Contains(" saddr;", before["K.ip_vs_iphdr.g.cs"]);
            Assert.Equal("K.nf_inet_addr", SaddrType(before["K.ip_vs_iphdr.g.cs"]));

            // Rename the base's union in its string table: same size, same ids, a different name.
            var pattern = Encoding.ASCII.GetBytes("\0nf_inet_addr\0");
            var at = IndexesOf(baseBytes, pattern);
            Assert.Single(at);
            baseBytes[at[0] + pattern.Length - 2] = (byte)'s';
            File.WriteAllBytes(basePath, baseBytes);

            // MSBuild hashes the base again: only BtfBindingsBaseHashes changes.
            driver = GeneratorHarness.WithFiles(driver, files, GeneratorHarness.BaseHashesProperty((basePath, "base-hash-B")));
            driver = driver.RunGenerators(comp);
            var run = driver.GetRunResult().Results.Single();
            Assert.Empty(run.Diagnostics);
            Assert.Contains(run.TrackedSteps[BtfGen.Steps.Files].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
            Assert.Contains(run.TrackedSteps[BtfGen.Steps.Generate].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
            Assert.Equal(parses + 1, GeneratorHarness.ParseCount); // parsed again over the new base
            var after = Sources(driver);
            Assert.DoesNotContain("K.nf_inet_addr.g.cs", after.Keys);
            Assert.Contains("K.nf_inet_adds.g.cs", after.Keys);
            Assert.Equal("K.nf_inet_adds", SaddrType(after["K.ip_vs_iphdr.g.cs"]));
        }

        [Fact]
        public void Module_type_over_its_base_matches_bpftool()
        {
            // ip_vs_conn exists only in the module; it holds base types by value (hlist_node, timer_list, spinlock_t,
            // nf_inet_addr), pointers to module types and an anonymous union.
            const string code = @"
using BtfBindings;
[BtfTypes(""ip_vs_conn"", ""ip_vs_iphdr"")]
partial class K { }";
            var files = GeneratorHarness.SplitFileEntry(Fixtures.Path(Module), "module-hash", Fixtures.Path(ModuleBase));
            var comp = GeneratorHarness.Compile(new[] { code });
            GeneratorHarness.CreateDriver(files, baseHashesProperty: GeneratorHarness.BaseHashesProperty((Fixtures.Path(ModuleBase), "base-hash")))
                .RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            Assert.Empty(diags);
            Assert.Empty(Btf.Load(Fixtures.Path(ModuleBase)).FindTypes("ip_vs_conn", BtfKind.Struct)); // really the module's
            var truth = Bpftool.Types(Fixtures.Path(Module), Fixtures.Path(ModuleBase));
            int checkedFields = LayoutChecker.AssertMatches(output, truth, "ip_vs_conn", "ip_vs_iphdr");
            Assert.True(checkedFields >= 40, "checked " + checkedFields);
        }

        [Fact]
        public void Elf_object_types_match_bpftool()
        {
            const string code = @"
using BtfBindings;
[BtfTypes(""kitchen_sink"", ""with_anon"", ""packed_struct"", ""aligned_struct"", ""number"", ""tagged"")]
partial class K { }";
            var path = Fixtures.Path("bpf-features.o");
            var comp = GeneratorHarness.Compile(new[] { code });
            GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((path, "obj-hash")))
                .RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            Assert.Empty(diags);
            var truth = Bpftool.Types(path);
            int checkedFields = LayoutChecker.AssertMatches(output, truth, "kitchen_sink", "with_anon", "packed_struct", "aligned_struct", "number", "tagged");
            Assert.True(checkedFields >= 50, "checked " + checkedFields);
            // The object's forward declarations (struct opaque_struct *opaque) are opaque types behind typed pointers.
            var ks = output.GetTypeByMetadataName("K+kitchen_sink")!;
            Assert.Equal("K.opaque_struct.Pointer", ks.GetMembers("opaque").OfType<IFieldSymbol>().Single().Type.ToDisplayString());
            Assert.DoesNotContain(output.GetTypeByMetadataName("K+opaque_struct")!.GetMembers(), m => m is IFieldSymbol { IsStatic: false });
        }

        [Fact]
        public void Each_split_file_carries_its_own_bases_hash()
        {
            var set = BtfBindings.Generator.BtfFileManifest.Parse(new[]
            {
                "file\t/p/a.ko\tha\tbtf/one.btf\nfile\t/p/b.ko\thb\t/abs/two.btf\nfile\t/p/vmlinux.btf\thv\t\n" +
                "base\tbtf/one.btf\t/p/btf/one.btf\tH1\nbase\t/abs/two.btf\t/abs/two.btf\tH2\n",
            });
            var byName = set.Files.ToDictionary(f => f.FileName);
            Assert.Equal(("/p/btf/one.btf", "H1"), (byName["a.ko"].BasePath, byName["a.ko"].BaseHash));
            Assert.Equal(("/abs/two.btf", "H2"), (byName["b.ko"].BasePath, byName["b.ko"].BaseHash));
            Assert.Equal((null, null), (byName["vmlinux.btf"].BasePath, byName["vmlinux.btf"].BaseHash));
        }

        [Fact]
        public void Manifest_keeps_paths_with_separators_comment_characters_and_non_ascii_intact()
        {
            // The compiler's editorconfig reader cut a ';'-joined property at ';' and '#': the manifest must not.
            string[] paths = { "/p/k\u00e9rnel #1;=a.btf", "/p/dir with spaces/x;y.ko", "/p/\u5185\u6838.btf", "/p/plain.btf" };
            var text = "\uFEFF" + string.Concat(paths.Select((p, i) => $"file\t{p}\th{i}\t{(i == 1 ? "b #2;.btf" : "")}\r\n"))
                + "base\tb #2;.btf\t/p/b #2;.btf\tHB\r\n";
            var set = BtfBindings.Generator.BtfFileManifest.Parse(new[] { text });
            Assert.Equal(paths.OrderBy(p => p, StringComparer.Ordinal), set.Files.Select(f => f.Path));
            var split = set.Files.Single(f => f.FileName == "x;y.ko");
            Assert.Equal(("/p/b #2;.btf", "HB", "h1"), (split.BasePath, split.BaseHash, split.Hash));
        }

        /// <summary>The declared type of the <c>saddr</c> field in a generated file (as written, without <c>global::</c>).</summary>
        private static string SaddrType(string generated)
        {
            var field = CSharpSyntaxTree.ParseText(generated).GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.FieldDeclarationSyntax>()
                .Single(f => f.Declaration.Variables.Any(v => v.Identifier.ValueText == "saddr"));
            return field.Declaration.Type.ToString().Replace("global::", "");
        }

        private static List<int> IndexesOf(byte[] data, byte[] pattern)
        {
            var found = new List<int>();
            for (int i = data.AsSpan().IndexOf(pattern); i >= 0;)
            {
                found.Add(i);
                int next = data.AsSpan(i + 1).IndexOf(pattern);
                i = next < 0 ? -1 : i + 1 + next;
            }
            return found;
        }
    }

    /// <summary>
    /// Compares generated structs with bpftool's JSON (sizes, and the byte offset of every named member, flattened
    /// through anonymous members as C does) by compiling a checker against the generated code and running it.
    /// </summary>
    internal static class LayoutChecker
    {
        private sealed record Member(string Name, long BitOffset);

        /// <returns>How many member offsets were compared.</returns>
        public static int AssertMatches(Compilation output, BpftoolTypes truth, params string[] names)
        {
            var checker = new StringBuilder("public static unsafe class __LayoutCheck\n{\n");
            var expected = new List<(string what, long value)>();
            foreach (var name in names)
            {
                var t = truth.All.Single(x => x.Name == name && x.IsComposite);
                var members = new List<Member>();
                Flatten(truth, t, 0, members);
                var sym = output.GetTypeByMetadataName("K+" + name) ?? throw new InvalidOperationException("no generated K." + name);
                checker.Append($"    public static long[] {name}()\n    {{\n        global::K.{name} v = default;\n        byte* b = (byte*)&v;\n        return new long[]\n        {{\n            sizeof(global::K.{name}),\n");
                expected.Add((name + " size", t.Size));
                foreach (var m in members)
                {
                    var field = sym.GetMembers(m.Name).OfType<IFieldSymbol>().SingleOrDefault();
                    Assert.True(field != null, $"K.{name}.{m.Name} is not a field of the generated struct");
                    checker.Append(field!.IsFixedSizeBuffer ? $"            (byte*)v.@{m.Name} - b,\n" : $"            (byte*)&v.@{m.Name} - b,\n");
                    expected.Add(($"{name}.{m.Name} offset", m.BitOffset / 8));
                }
                checker.Append("        };\n    }\n");
            }
            checker.Append("}\n");

            var all = output.AddSyntaxTrees(CSharpSyntaxTree.ParseText(checker.ToString(), (CSharpParseOptions)output.SyntaxTrees.First().Options, path: "/src/__LayoutCheck.cs"));
            var emitted = TestCompilation.Emit((CSharpCompilation)all);
            Assert.True(emitted.Image != null, TestCompilation.Describe(emitted.Errors));
            Assert.True(emitted.Warnings.Count == 0, TestCompilation.Describe(emitted.Warnings));
            var ctx = new CollectibleContext("layout-check");
            try
            {
                var type = ctx.LoadFromStream(new MemoryStream(emitted.Image!)).GetType("__LayoutCheck")!;
                var measured = new List<long>();
                foreach (var name in names) measured.AddRange((long[])type.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null)!);
                Assert.Equal(expected.Count, measured.Count);
                var mismatches = expected.Select((e, i) => (e, m: measured[i])).Where(x => x.e.value != x.m).Select(x => $"{x.e.what}: bpftool {x.e.value}, generated {x.m}").ToList();
                Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
            }
            finally { ctx.Unload(); }
            return expected.Count - names.Length;
        }

        private static void Flatten(BpftoolTypes types, BpftoolType t, long bitBase, List<Member> into)
        {
            foreach (var m in t.Members)
            {
                long off = bitBase + m.BitsOffset;
                Assert.False(m.BitfieldSize != 0, "bitfield members are not measured here: pick another type");
                if (m.Name.Length > 0) { into.Add(new Member(m.Name, off)); continue; }
                // An anonymous struct/union member: its members are the outer type's, as in C.
                Assert.True(types.Contains(m.TypeId), "anonymous member of a type bpftool did not dump");
                Flatten(types, types[m.TypeId], off, into);
            }
        }
    }
}
