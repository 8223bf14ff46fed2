using System;
using System.Diagnostics;
using System.Linq;
using System.IO;
using System.Security.Cryptography;
using System.Text.Json;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The package's MSBuild targets alone (build/BtfBindings.targets), run by <c>dotnet msbuild</c> on a project that
    /// imports nothing else: what they hand the generator, and the error they report themselves.
    /// </summary>
    public class TargetsTests
    {
        private static (int code, string output) Msbuild(string workDir, params string[] args)
        {
            // The package's tasks (the manifest's hashes, the types assembly's files) from the Build project's output.
            if (!args.Any(a => a.StartsWith("-p:BtfBindingsTasksAssembly=", StringComparison.Ordinal)))
                args = [.. args, "-p:BtfBindingsTasksAssembly=" + TasksAssembly()];
            var r = ProcessRunner.Run("dotnet", ["msbuild", .. args], workDir);
            return (r.ExitCode, r.Output);
        }

        private static string Project(string items)
        {
            var root = Fixtures.RepoRoot;
            return $@"<Project>
  <Import Project=""{root}/src/BtfBindings.Generator/build/BtfBindings.props"" />
  <ItemGroup>
{items}
  </ItemGroup>
  <Import Project=""{root}/src/BtfBindings.Generator/build/BtfBindings.targets"" />
</Project>";
        }

        [Fact]
        public void BpfProgram_without_clang_is_BTFB016_naming_clang_and_its_package()
        {
            using var tmp = new TempDir("targets-noclang");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "x.bpf.c"), "int x;\n");
            File.Copy(Fixtures.Path("bpf-features.o"), Path.Combine(dir, "k.btf"));
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""k.btf"" />
    <BpfProgram Include=""x.bpf.c"" />"));
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsPrepareBpfPrograms", "-p:BpfClang=/nonexistent/clang", "-nologo");
            Assert.NotEqual(0, code);
            Assert.Contains("error BTFB016", output);
            Assert.Contains("'/nonexistent/clang' is not installed: install the 'clang' package (apt-get install clang)", output);
        }

        /// <summary>The task assembly the test project's build made (src/BtfBindings.Build), for the vmlinux.h step.</summary>
        private static string TasksAssembly()
        {
            foreach (var config in new[] { "Release", "Debug" })
            {
                var p = Path.Combine(Fixtures.RepoRoot, "src", "BtfBindings.Build", "bin", config, "netstandard2.0", "BtfBindings.Build.dll");
                if (File.Exists(p)) return p;
            }
            throw new InvalidOperationException("src/BtfBindings.Build is not built");
        }

        /// <summary>
        /// A BpfProgram through the real targets: clang, then pahole on the object (only when the object changed), and the
        /// object's manifest line names pahole's BTF and the BtfFile compiled against; that BTF holds the ring-buffer record
        /// the object's .BTF lacks, at pahole -C's size.
        /// </summary>
        [SkippableFact]
        public void BpfProgram_gets_paholes_BTF_of_its_DWARF_on_the_manifest_line()
        {
            Objects.LocalEventProgram.RequireTools();
            using var tmp = new TempDir("targets-pahole");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "ring.bpf.c"), Objects.LocalEventProgram.Source);
            File.Copy(Fixtures.Path("bpf-features.o"), Path.Combine(dir, "k.btf"));
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""k.btf"" />
    <BpfProgram Include=""ring.bpf.c"" />"));
            string[] args = { "App.proj", "-t:BtfBindingsCollectBpfObjects;BtfBindingsCollectFiles", "-p:BtfBindingsTasksAssembly=" + TasksAssembly(), "-nologo", "-v:n" };
            var (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.DoesNotContain("BTFB018", output);
            string obj = Path.Combine(dir, "btfbindings", "ring.bpf.o"), types = Path.Combine(dir, "btfbindings", "ring.bpf.types.btf");
            var manifest = File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs"));
            string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(obj)));
            Assert.Contains($"object\t{obj}\t{hash}\t\t\tBtfBindings.Bpf/ring.bpf.o\t{types}\tk.btf\n", manifest);
            Assert.Empty(Btf.Load(obj).FindTypes("event"));
            var (size, _) = Objects.LocalEventProgram.PaholeLayout(obj, "event");
            Assert.Equal((uint)size, Assert.Single(Btf.Load(types).FindTypes("event", BtfKind.Struct)).Size);

            (code, output) = Msbuild(dir, args);   // unchanged object: pahole does not run again
            Assert.True(code == 0, output);
            Assert.Contains("Skipping target \"BtfBindingsDescribeBpfTypes\" because all output files are up-to-date", output);
        }

        [Fact]
        public void BpfProgram_without_pahole_is_BTFB018_warning_naming_dwarves_and_the_workaround()
        {
            using var tmp = new TempDir("targets-nopahole");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "x.bpf.c"), "int x;\n");
            File.Copy(Fixtures.Path("bpf-features.o"), Path.Combine(dir, "k.btf"));
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""k.btf"" />
    <BpfProgram Include=""x.bpf.c"" />"));
            // BpfClang=true: 'command -v true' passes the clang check without needing clang here.
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsPrepareBpfPrograms", "-p:BpfClang=true", "-p:BpfPahole=/nonexistent/pahole", "-nologo");
            Assert.True(code == 0, output);
            Assert.Contains("warning BTFB018: BpfProgram: '/nonexistent/pahole' is not installed, so types that only locals use", output);
            Assert.Contains("install pahole (apt-get install dwarves)", output);
            Assert.Contains("struct event *unused_event __attribute__((unused));", output);
        }

        [Fact]
        public void BpfProgram_without_BtfFile_is_BTFB017()
        {
            using var tmp = new TempDir("targets-nobtf");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "x.bpf.c"), "int x;\n");
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BpfProgram Include=""x.bpf.c"" />"));
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsPrepareBpfPrograms", "-nologo");
            Assert.NotEqual(0, code);
            Assert.Contains("error BTFB017: BpfProgram 'x.bpf.c' needs a vmlinux.h: add a BtfFile", output);
        }

        [Fact]
        public void BpfObject_gets_a_manifest_line_and_an_embedded_resource()
        {
            using var tmp = new TempDir("targets-object");
            var dir = tmp.Path;
            var obj = Path.Combine(dir, "bpf", "my_prog.bpf.o");
            Directory.CreateDirectory(Path.GetDirectoryName(obj)!);
            File.Copy(Fixtures.Path("bpf-features.o"), obj);
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BpfObject Include=""bpf/my_prog.bpf.o"" ClassName=""Prog"" Namespace=""My.Ns"" />").Replace("</Project>",
                @"  <Target Name=""Show"" DependsOnTargets=""BtfBindingsCollectBpfObjects;BtfBindingsCollectFiles"">
    <Message Importance=""high"" Text=""RES=%(EmbeddedResource.Identity)|%(EmbeddedResource.LogicalName)"" />
  </Target>
</Project>"));
            var (code, output) = Msbuild(dir, "App.proj", "-t:Show", "-nologo");
            Assert.True(code == 0, output);
            Assert.Contains("RES=bpf/my_prog.bpf.o|BtfBindings.Bpf/my_prog.bpf.o", output);
            var manifest = File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs"));
            string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(obj)));
            Assert.Contains($"object\t{obj}\t{hash}\tMy.Ns\tProg\tBtfBindings.Bpf/my_prog.bpf.o", manifest);
        }

        /// <summary>
        /// A prebuilt BpfObject (clang -g outside the build) gets pahole's BTF of its DWARF on its manifest line as a
        /// BpfProgram's object does: the record only a local uses is there, at pahole's size; pahole does not run again while
        /// the object is unchanged. One without DWARF (llvm-strip -g: .BTF kept) gets no types file (pahole writes none) and an
        /// empty field.
        /// </summary>
        [SkippableFact]
        public void Prebuilt_BpfObject_gets_paholes_BTF_of_its_DWARF_on_the_manifest_line()
        {
            Objects.LocalEventProgram.RequireTools();
            if (!ProcessRunner.Exists("llvm-strip")) throw new SkipTestException("'llvm-strip' not installed (llvm): it makes the object without DWARF");
            using var tmp = new TempDir("targets-object-pahole");
            var dir = tmp.Path;
            string c = Path.Combine(dir, "ring.bpf.c"), ring = Path.Combine(dir, "bpf", "ring.bpf.o"), plain = Path.Combine(dir, "bpf", "plain.bpf.o");
            Directory.CreateDirectory(Path.Combine(dir, "bpf"));
            File.WriteAllText(c, Objects.LocalEventProgram.Source);
            ProcessRunner.Check("clang", new[] { "-g", "-O2", "-target", "bpf", "-c", c, "-o", ring });
            ProcessRunner.Check("llvm-strip", new[] { "-g", ring, "-o", plain });   // .BTF kept, DWARF gone
            Assert.True(Btf.Load(plain).TypeCount > 1);                               // still a BPF object the generator reads
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BpfObject Include=""bpf/ring.bpf.o"" />
    <BpfObject Include=""bpf/plain.bpf.o"" />"));
            string[] args = { "App.proj", "-t:BtfBindingsCollectBpfObjects;BtfBindingsCollectFiles", "-nologo", "-v:n" };
            var (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            string types = Path.Combine(dir, "btfbindings", "objects", "ring.bpf.types.btf");
            var manifest = File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs"));
            string Hash(string f) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)));
            Assert.Contains($"object\t{ring}\t{Hash(ring)}\t\t\tBtfBindings.Bpf/ring.bpf.o\t{types}\t\n", manifest);
            Assert.Contains($"object\t{plain}\t{Hash(plain)}\t\t\tBtfBindings.Bpf/plain.bpf.o\t\t\n", manifest);
            Assert.Empty(Btf.Load(ring).FindTypes("event"));
            var (size, _) = Objects.LocalEventProgram.PaholeLayout(ring, "event");
            Assert.Equal((uint)size, Assert.Single(Btf.Load(types).FindTypes("event", BtfKind.Struct)).Size);

            var written = File.GetLastWriteTimeUtc(types);
            (code, output) = Msbuild(dir, args);   // unchanged object: its types file is not written again
            Assert.True(code == 0, output);
            Assert.Equal(written, File.GetLastWriteTimeUtc(types));
            Assert.Contains($"\t{types}\t\n", File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs")));
        }

        [Fact]
        public void Missing_BtfFile_is_BTFB012_not_a_generator_code()
        {
            using var tmp = new TempDir("targets-missing");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""nowhere/kernel.btf"" />"));
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsCollectFiles", "-nologo");
            Assert.NotEqual(0, code);
            Assert.Contains("error BTFB012: BtfFile 'nowhere/kernel.btf' does not exist.", output);
            // BTFB011 is the generator's "class must not be generic": the two must never share a code again.
            Assert.DoesNotContain("BTFB011", output);
        }

        [Fact]
        public void Missing_Base_is_BTFB012_naming_the_base()
        {
            using var tmp = new TempDir("targets-missingbase");
            var dir = tmp.Path;
            File.Copy(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Path.Combine(dir, "ip_vs.ko"));
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""ip_vs.ko"" Base=""btf/missing-vmlinux.btf"" />"));
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsCollectFiles", "-nologo");
            Assert.NotEqual(0, code);
            Assert.Contains("error BTFB012: The Base 'btf/missing-vmlinux.btf' of a BtfFile does not exist.", output);
            Assert.DoesNotContain("MSB", output.Replace("MSBuild", "")); // not a generic task failure (GetFileHash)
        }

        [Fact]
        public void Split_file_reaches_the_generator_with_its_base_and_the_bases_content_hash()
        {
            using var tmp = new TempDir("targets-split");
            var dir = tmp.Path;
            File.Copy(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Path.Combine(dir, "ip_vs.ko"));
            Directory.CreateDirectory(Path.Combine(dir, "btf"));
            File.Copy(Fixtures.Path("x86_64-6.12"), Path.Combine(dir, "btf", "vmlinux.btf"));
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""ip_vs.ko"" Base=""btf/vmlinux.btf"" />"));

            var manifest = CollectManifest(dir);
            string modHash = Sha256(Path.Combine(dir, "ip_vs.ko")), baseHash = Sha256(Path.Combine(dir, "btf", "vmlinux.btf"));
            Assert.Equal(new[]
            {
                "file\t" + Path.Combine(dir, "ip_vs.ko") + "\t" + modHash + "\tbtf/vmlinux.btf",
                // One line per distinct Base, keyed by the Base metadata as written (what the file line's last field carries).
                "base\tbtf/vmlinux.btf\t" + Path.Combine(dir, "btf", "vmlinux.btf") + "\t" + baseHash,
            }, manifest, StringComparer.OrdinalIgnoreCase);
            var parsed = BtfBindings.Generator.BtfFileManifest.Parse(new[] { string.Join("\n", manifest) }).Files.Single();
            Assert.Equal((Path.Combine(dir, "btf", "vmlinux.btf"), baseHash), (parsed.BasePath, parsed.BaseHash!.ToUpperInvariant()));

            // The base changes, the module does not: only the base's hash moves.
            var bytes = File.ReadAllBytes(Path.Combine(dir, "btf", "vmlinux.btf"));
            bytes[bytes.Length - 2] ^= 0x20;
            File.WriteAllBytes(Path.Combine(dir, "btf", "vmlinux.btf"), bytes);
            var manifest2 = CollectManifest(dir);
            Assert.Equal(manifest[0], manifest2[0]);
            Assert.Equal("base\tbtf/vmlinux.btf\t" + Path.Combine(dir, "btf", "vmlinux.btf") + "\t" + Sha256(Path.Combine(dir, "btf", "vmlinux.btf")), manifest2[1], ignoreCase: true);
            Assert.NotEqual(manifest[1], manifest2[1]);
        }

        [Fact]
        public void Every_BtfFile_reaches_the_generator_whatever_its_path_holds()
        {
            // ';' and '#' start comments in the compiler's editorconfig reader, which once cut the list after the first file.
            using var tmp = new TempDir("targets-awkward");
            var dir = tmp.Path;
            var sub = Path.Combine(dir, "k\u00e9rnels #2;=x");
            Directory.CreateDirectory(sub);
            string[] names = { "a.btf", "b #1;=.btf", "\u5185\u6838 c.btf" };
            foreach (var n in names) File.Copy(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Path.Combine(sub, n));
            File.Copy(Fixtures.Path("x86_64-6.12"), Path.Combine(sub, "base #;.btf"));
            static string Esc(string s) => s.Replace("%", "%25").Replace(";", "%3B");
            var items = string.Join("\n", names.Select((n, i) => $"    <BtfFile Include=\"{Esc("k\u00e9rnels #2;=x/" + n)}\"{(i == 1 ? $" Base=\"{Esc("k\u00e9rnels #2;=x/base #;.btf")}\"" : "")} />"));
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(items));

            var files = BtfBindings.Generator.BtfFileManifest.Parse(new[] { string.Join("\n", CollectManifest(dir)) }).Files;
            Assert.Equal(names.Select(n => Path.Combine(sub, n)).OrderBy(p => p, StringComparer.Ordinal), files.Select(f => f.Path));
            var split = files.Single(f => f.FileName == names[1]);
            Assert.Equal(Path.Combine(sub, "base #;.btf"), split.BasePath);
            Assert.Equal(Sha256(Path.Combine(sub, "base #;.btf")), split.BaseHash, ignoreCase: true);
            Assert.All(files, f => Assert.Equal(Sha256(f.Path), f.Hash, ignoreCase: true));
        }

        /// <summary>
        /// BtfTarget items (a glob over a BTFHub-shaped tree, metadata on one) become manifest target lines with each file's
        /// SHA-256; a build with nothing changed does not start the hashing task, and a changed file is the only one rehashed.
        /// </summary>
        [Fact]
        public void BtfTargets_reach_the_manifest_hashed_and_are_rehashed_only_when_changed()
        {
            using var tmp = new TempDir("targets-targets");
            var dir = tmp.Path;
            string a = Path.Combine(dir, "btfhub", "debian", "11", "x86_64", "5.10.0-46-amd64.btf.gz");
            string b = Path.Combine(dir, "btfhub", "debian", "13", "x86_64", "6.12.57+deb13-amd64.btf.gz");
            foreach (var (p, f) in new[] { (a, "x86_64-5.10.btf.gz"), (b, "x86_64-6.12.btf.gz") })
            {
                Directory.CreateDirectory(Path.GetDirectoryName(p)!);
                File.Copy(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", f), p);
            }
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfTarget Include=""btfhub/**/*.btf.gz"" />
    <BtfTarget Update=""btfhub/debian/13/x86_64/6.12.57+deb13-amd64.btf.gz"" Embed=""true"" Release=""6.12.57+deb13-amd64"" Arch=""x86_64"" />"));
            string raw = Path.Combine(dir, "raw-cache");
            string[] args = { "App.proj", "-t:BtfBindingsCollectFiles", "-p:BtfBindingsTasksAssembly=" + TasksAssembly(), "-p:BtfBindingsRawBtfCache=" + raw, "-nologo", "-v:d" };

            var (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.Contains("BtfTarget: hashed 2 of 2 files", output);
            var manifest = File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs"));
            var targets = BtfBindings.Generator.BtfFileManifest.ParseTargets(new[] { manifest }).ToArray();
            Assert.Equal(new[] { a, b }, targets.Select(t => t.Path));
            Assert.All(targets, t => Assert.Equal(Sha256(t.Path), t.Hash, ignoreCase: true));
            Assert.Equal((false, true), (targets[0].Embed, targets[1].Embed));
            Assert.Equal(("6.12.57+deb13-amd64", "x86_64", "debian/13"), (targets[1].Release, targets[1].Arch, targets[1].Distro));
            // No metadata: release, arch and distro/version from the BTFHub path (compat-engine's naming rule).
            Assert.Equal(("5.10.0-46-amd64", "x86_64", "debian/11"), (targets[0].Release, targets[0].Arch, targets[0].Distro));
            Assert.Empty(BtfBindings.Generator.BtfFileManifest.Parse(new[] { manifest }).Files);
            // Each compressed target's raw BTF, once per content hash, is what the analyzer parses: the same BTF.
            Assert.All(targets, t =>
            {
                Assert.Equal(Path.Combine(raw, t.Hash + ".btf"), t.RawPath);
                var (copy, original) = (Btf.Load(t.RawPath), Btf.Load(t.Path));
                Assert.Equal(original.TypeCount, copy.TypeCount);
                Assert.Equal(original.FindTypes("task_struct").Single().Size, copy.FindTypes("task_struct").Single().Size);
            });

            var manifestTime = File.GetLastWriteTimeUtc(Path.Combine(dir, "BtfBindings.btfrefs"));
            (code, output) = Msbuild(dir, args);    // nothing changed: the task finds its stamp equal and reads no file
            Assert.True(code == 0, output);
            Assert.Contains("unchanged (same items, files and package)", output);
            Assert.DoesNotContain("BtfTarget: hashed", output);
            Assert.Equal(manifest, File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs")));
            Assert.Equal(manifestTime, File.GetLastWriteTimeUtc(Path.Combine(dir, "BtfBindings.btfrefs"))); // not rewritten

            // Metadata changes: the lines are written again, every hash from the cache.
            File.WriteAllText(Path.Combine(dir, "App.proj"), File.ReadAllText(Path.Combine(dir, "App.proj")).Replace(@"Embed=""true""", @"Embed=""false"""));
            (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.Contains("BtfTarget: hashed 0 of 2 files", output);
            Assert.False(BtfBindings.Generator.BtfFileManifest.ParseTargets(new[] { File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs")) }).ToArray()[1].Embed);

            var bytes = File.ReadAllBytes(a);       // one file changes: only it is hashed again
            File.WriteAllBytes(a, bytes.Concat(new byte[] { 0 }).ToArray());
            (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.Contains("BtfTarget: hashed 1 of 2 files", output);
            var after = BtfBindings.Generator.BtfFileManifest.ParseTargets(new[] { File.ReadAllText(Path.Combine(dir, "BtfBindings.btfrefs")) }).ToArray();
            Assert.Equal(Sha256(a), after[0].Hash, ignoreCase: true);
            Assert.NotEqual(targets[0].Hash, after[0].Hash);
            Assert.Equal(targets[1] with { Embed = false }, after[1]);
        }

        /// <summary>
        /// The automatic types assembly at the targets' level: in a real build (BuildingProject) the request file that stands
        /// alone becomes a BtfTypesAssembly item and leaves Compile, the one that does not stays (with its reason); a design-time
        /// build and BtfBindingsTypesAssembly=false leave both in Compile; explicit items replace the automatic choice.
        /// </summary>
        [Fact]
        public void Standalone_request_files_leave_Compile_in_real_builds_only()
        {
            using var tmp = new TempDir("targets-automatic");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "Kernel.cs"), "using BtfBindings;\n[BtfTypes(\"task_struct\")]\npublic static partial class Kernel { }\n");
            File.WriteAllText(Path.Combine(dir, "Other.cs"), "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Net { static int x; }\n");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), "static class P { static void Main() { } }\n");
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <Compile Include=""Kernel.cs;Other.cs;Program.cs"" />"));
            (string[] types, string[] compile, string output) Run(params string[] extra)
            {
                var (code, output) = Msbuild(dir, ["App.proj", "-t:BtfBindingsFindTypesAssemblyFiles", "-getItem:BtfTypesAssembly", "-getItem:Compile", "-nologo", .. extra]);
                Assert.True(code == 0, output);
                using var doc = JsonDocument.Parse(output.Substring(output.IndexOf('{')));
                string[] Items(string name) => doc.RootElement.GetProperty("Items").TryGetProperty(name, out var a) ? a.EnumerateArray().Select(i => i.GetProperty("Identity").GetString()!).ToArray() : Array.Empty<string>();
                return (Items("BtfTypesAssembly"), Items("Compile"), output);
            }

            var real = Run("-p:BuildingProject=true");
            Assert.Equal(new[] { "Kernel.cs" }, real.types);
            Assert.Equal(new[] { "Other.cs", "Program.cs" }, real.compile);
            foreach (var extra in new[] { new[] { "-p:BuildingProject=true", "-p:DesignTimeBuild=true" }, new[] { "-p:BuildingProject=false" }, new[] { "-p:BuildingProject=true", "-p:BtfBindingsTypesAssembly=false" } })
            {
                var r = Run(extra);
                Assert.Empty(r.types);
                Assert.Equal(new[] { "Kernel.cs", "Other.cs", "Program.cs" }, r.compile);
            }
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <Compile Include=""Kernel.cs;Other.cs;Program.cs"" />
    <BtfTypesAssembly Include=""Other.cs"" />"));
            var explicitItems = Run("-p:BuildingProject=true");
            Assert.Equal(new[] { "Other.cs" }, explicitItems.types);
            Assert.Equal(new[] { "Kernel.cs", "Program.cs" }, explicitItems.compile);
        }

        /// <summary>
        /// A BtfFile (and its Base) is hashed again only when its path, size or last-write time changed: a touched file with
        /// the same bytes is hashed again and keeps its manifest line (the manifest is not rewritten); a changed file gets
        /// its new hash; an unchanged one is not hashed at all.
        /// </summary>
        [Fact]
        public void BtfFile_is_rehashed_only_when_its_size_or_time_changed()
        {
            using var tmp = new TempDir("targets-hashcache");
            var dir = tmp.Path;
            string mod = Path.Combine(dir, "ip_vs.ko"), vmlinux = Path.Combine(dir, "vmlinux.btf"), manifestPath = Path.Combine(dir, "BtfBindings.btfrefs");
            File.Copy(Fixtures.Path("x86_64-6.12-ip_vs.ko"), mod);
            File.Copy(Fixtures.Path("x86_64-6.12"), vmlinux);
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""ip_vs.ko"" Base=""vmlinux.btf"" />"));
            string[] args = { "App.proj", "-t:BtfBindingsCollectFiles", "-nologo", "-v:d" };
            string[] Lines() => File.ReadAllLines(manifestPath);
            string[] Expected() => new[] { $"file\t{mod}\t{Sha256(mod)}\tvmlinux.btf", $"base\tvmlinux.btf\t{vmlinux}\t{Sha256(vmlinux)}" };

            var (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.Contains("BtfFile: hashed 2 of 2 files", output);
            Assert.Equal(Expected(), Lines(), StringComparer.OrdinalIgnoreCase);

            (code, output) = Msbuild(dir, args);                 // nothing changed: nothing hashed
            Assert.True(code == 0, output);
            Assert.Contains("BtfFile: hashed 0 of 2 files", output);
            var written = File.GetLastWriteTimeUtc(manifestPath);

            File.SetLastWriteTimeUtc(vmlinux, DateTime.UtcNow.AddMinutes(1));   // touched, the same bytes
            (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.Contains("BtfFile: hashed 1 of 2 files", output);
            Assert.Equal(Expected(), Lines(), StringComparer.OrdinalIgnoreCase);
            Assert.Equal(written, File.GetLastWriteTimeUtc(manifestPath));

            var before = Lines();
            var bytes = File.ReadAllBytes(mod);                      // changed: the new hash
            bytes[bytes.Length - 1] ^= 0x01;
            File.WriteAllBytes(mod, bytes);
            File.SetLastWriteTimeUtc(mod, DateTime.UtcNow.AddMinutes(2));
            (code, output) = Msbuild(dir, args);
            Assert.True(code == 0, output);
            Assert.Contains("BtfFile: hashed 1 of 2 files", output);
            Assert.Equal(Expected(), Lines(), StringComparer.OrdinalIgnoreCase);
            Assert.NotEqual(before[0], Lines()[0]);
            Assert.Equal(before[1], Lines()[1]);
        }

        [Fact]
        public void Missing_BtfTarget_is_BTFB012()
        {
            using var tmp = new TempDir("targets-missingtarget");
            var dir = tmp.Path;
            File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfTarget Include=""btfhub/5.4.0-1010-aws.btf.tar.xz"" />"));
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsCollectFiles", "-nologo");
            Assert.NotEqual(0, code);
            Assert.Contains("error BTFB012: BtfTarget 'btfhub/5.4.0-1010-aws.btf.tar.xz' does not exist.", output);
        }

        /// <summary>Runs the targets' collection alone and returns the manifest's lines.</summary>
        private static string[] CollectManifest(string dir)
        {
            var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsCollectFiles", "-getProperty:BtfBindingsManifest", "-nologo");
            Assert.True(code == 0, output);
            int start = output.IndexOf('{');
            string path;
            if (start >= 0)
            {
                using var doc = JsonDocument.Parse(output.Substring(start));
                path = doc.RootElement.GetProperty("Properties").GetProperty("BtfBindingsManifest").GetString()!;
            }
            else path = output.Trim();
            Assert.True(File.Exists(path), output);
            return File.ReadAllLines(path, System.Text.Encoding.UTF8).Where(l => l.Length > 0).ToArray();
        }

        private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
    }
}
