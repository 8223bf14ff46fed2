using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// The tool packages, packed once per test run the way a release packs them (.NET 10 RID-specific tools), into a
    /// temporary feed: <c>dotnet pack</c> (the pointer package BtfBindings.Cli), <c>dotnet pack -r any</c> (BtfBindings.Cli.any,
    /// framework-dependent) and, on a linux-x64 host, <c>dotnet pack -r linux-x64</c> and <c>-r linux-arm64</c> (BtfBindings.Cli.linux-x64
/// and .linux-arm64, Native AOT; arm64 cross-linked through Debian's gcc-aarch64-linux-gnu and libc6-dev-arm64-cross).
    /// Each pack builds from scratch in its own artifacts folder, so nothing races the test run's own src/*/bin outputs.
    /// A nuget.config with only that feed and a private package folder keep it offline.
    /// </summary>
    public sealed class ToolFeed : IDisposable
    {
        public string Root = "", Feed = "", Packages = "", Version = "";
        public readonly bool Native = RuntimeInformation.RuntimeIdentifier == "linux-x64";
        /// <summary>The framework-dependent build as the 'any' package ships it, unzipped: <c>dotnet AnyDir/btfgen.dll</c>.</summary>
        public string AnyDir = "";
        private readonly Lazy<bool> _packed;

        public ToolFeed() { _packed = new Lazy<bool>(() => { Pack(); return true; }); } // a failed pack fails every test, once

        /// <summary>
        /// Packs on first use, not in the constructor: xunit builds a class fixture even when every test of the class is
        /// skipped (a fast-tier run), and packing takes minutes.
        /// </summary>
        public ToolFeed Packed()
        {
            _ = _packed.Value;
            return this;
        }

        private void Pack()
        {
            Root = CliSupport.Scratch("tool");
            Feed = Path.Combine(Root, "feed");
            Packages = Path.Combine(Root, "packages");
            Version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
            string config = AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/") ? "Release" : "Debug";
            var cli = Path.Combine(Fixtures.RepoRoot, "src", "BtfBindings.Cli");
            var artifacts = Path.Combine(Root, "artifacts");
            var rids = new List<string> { "" /* the pointer package */, "any" };
            if (Native) { rids.Add("linux-x64"); rids.Add("linux-arm64"); }
            foreach (var rid in rids)
            {
                var r = ToolPackageTests.Run("dotnet", ["pack", cli, "-c", config, .. (rid == "" ? Array.Empty<string>() : new[] { "-r", rid }), "--artifacts-path", artifacts, "-o", Feed, $"-p:PackageVersion={Version}", "-nologo"], Fixtures.RepoRoot, Packages, timeoutMs: 900_000);
                ToolPackageTests.Ok(r, "dotnet pack" + (rid == "" ? "" : " -r " + rid));
            }
            File.WriteAllText(Path.Combine(Root, "nuget.config"), $"<configuration><packageSources><clear /><add key=\"local\" value=\"{Feed}\" /></packageSources></configuration>");
            AnyDir = Path.Combine(Root, "any");
            using var zip = ZipFile.OpenRead(Nupkg("BtfBindings.Cli.any"));
            foreach (var e in zip.Entries.Where(e => e.FullName.StartsWith("tools/net10.0/any/", StringComparison.Ordinal) && e.Name != ""))
            {
                var dest = Path.Combine(AnyDir, e.FullName.Substring("tools/net10.0/any/".Length));
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                e.ExtractToFile(dest);
            }
        }

        public string Nupkg(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

        public void Dispose()
        {
            if (!_packed.IsValueCreated || Environment.GetEnvironmentVariable("BTFBINDINGS_KEEP_TOOL") == "1") return;
            try { Directory.Delete(Root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// btfgen as a real .NET tool, installed the two ways users install it from <see cref="ToolFeed"/>: a global install
    /// (<c>--tool-path</c>, that folder first on PATH, as ~/.dotnet/tools is for <c>-g</c>) and a local tool manifest in a fresh
    /// folder (<c>dotnet new tool-manifest; dotnet tool install BtfBindings.Cli</c>). Both run as <c>dotnet btfgen</c>: the
    /// command is <c>dotnet-btfgen</c>, the dotnet-ef convention. On linux-x64 what gets installed is the native executable,
    /// and it must print byte for byte what the framework-dependent build prints.
    /// </summary>
    [Trait("Tier", "Package")]
    [Collection(BtfBindings.Tests.Build.PackageTier.Name)]
    public class ToolPackageTests : IClassFixture<ToolFeed>
    {
        private readonly ToolFeed _feed;
        // Only a test that runs constructs its class: skipped (fast-tier) tests never pack.
        public ToolPackageTests(ToolFeed feed) { _feed = feed.Packed(); }

        internal static (int code, string stdout, string stderr) Run(string file, string[] args, string workDir, string nugetPackages, string? prependPath = null, int timeoutMs = 300_000)
        {
            var env = new Dictionary<string, string?>
            {
                ["NUGET_PACKAGES"] = nugetPackages,
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            };
            if (prependPath != null) env["PATH"] = prependPath + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
            var r = ProcessRunner.Run(file, args, workDir, TimeSpan.FromMilliseconds(timeoutMs), env);
            return (r.ExitCode, r.StdOut, r.StdErr);
        }

        internal static void Ok((int code, string stdout, string stderr) r, string what)
            => Assert.True(r.code == 0, $"{what} exited {r.code}\n{r.stdout}\n{r.stderr}");

        private static string ToolSettings(string nupkg, string entry)
        {
            using var zip = ZipFile.OpenRead(nupkg);
            using var settings = new StreamReader(zip.GetEntry(entry)!.Open());
            return settings.ReadToEnd();
        }

        private static string PackageType(string nupkg)
        {
            var (_, md) = Support.Nupkg.Read(nupkg);
            return md.Elements().Single(e => e.Name.LocalName == "packageTypes").Elements().Single().Attribute("name")!.Value;
        }

        [FullFact]
        public void Packs_a_pointer_package_a_framework_dependent_any_package_and_a_native_linux_x64_package()
        {
            // The pointer: what 'dotnet tool install BtfBindings.Cli' finds; no code, the RID packages named.
            var pointer = _feed.Nupkg("BtfBindings.Cli");
            var (entries, _) = Support.Nupkg.Read(pointer);
            Assert.DoesNotContain(entries, e => e.EndsWith(".dll", StringComparison.Ordinal));
            var settings = XDocument.Parse(ToolSettings(pointer, "tools/any/any/DotnetToolSettings.xml"));
            Assert.Equal("dotnet-btfgen", settings.Descendants("Command").Single().Attribute("Name")!.Value);
            var ridPackages = settings.Descendants("RuntimeIdentifierPackage").ToDictionary(e => e.Attribute("RuntimeIdentifier")!.Value, e => e.Attribute("Id")!.Value);
            Assert.Equal(new Dictionary<string, string> { ["linux-x64"] = "BtfBindings.Cli.linux-x64", ["linux-arm64"] = "BtfBindings.Cli.linux-arm64", ["any"] = "BtfBindings.Cli.any" }, ridPackages);
            Assert.Equal("DotnetTool", PackageType(pointer));
            Nupkg.AssertUserFacingMetadata(pointer, "BtfBindings.Cli");

            // 'any': the framework-dependent tool, run by the dotnet host on every RID without a native package.
            var any = _feed.Nupkg("BtfBindings.Cli.any");
            (entries, _) = Support.Nupkg.Read(any);
            Assert.Contains("tools/net10.0/any/btfgen.dll", entries);
            Assert.Contains("tools/net10.0/any/BtfBindings.Runtime.dll", entries); // the ProjectReference travels inside the tool
            Assert.Contains("tools/net10.0/any/System.CommandLine.dll", entries);
            Assert.DoesNotContain("tools/net10.0/any/BtfBindings.Runtime.xml", entries);
            Assert.Contains("<Command Name=\"dotnet-btfgen\" EntryPoint=\"btfgen.dll\" Runner=\"dotnet\"", ToolSettings(any, "tools/net10.0/any/DotnetToolSettings.xml"));
            Assert.Equal("DotnetToolRidPackage", PackageType(any));

            if (!_feed.Native) return;
            // linux-x64 and linux-arm64: Native AOT, one executable and its settings; no IL, no symbols.
            foreach (var (rid, machine) in new[] { ("linux-x64", (ushort)62 /* EM_X86_64 */), ("linux-arm64", (ushort)183 /* EM_AARCH64 */) })
            {
                var native = _feed.Nupkg("BtfBindings.Cli." + rid);
                (entries, _) = Support.Nupkg.Read(native);
                var tools = entries.Where(e => e.StartsWith("tools/", StringComparison.Ordinal)).OrderBy(e => e, StringComparer.Ordinal).ToArray();
                Assert.Equal(new[] { $"tools/any/{rid}/DotnetToolSettings.xml", $"tools/any/{rid}/btfgen" }, tools);
                Assert.Contains("<Command Name=\"dotnet-btfgen\" EntryPoint=\"btfgen\" Runner=\"executable\"", ToolSettings(native, $"tools/any/{rid}/DotnetToolSettings.xml"));
                Assert.Equal("DotnetToolRidPackage", PackageType(native));
                using var zip = ZipFile.OpenRead(native);
                using var exe = zip.GetEntry($"tools/any/{rid}/btfgen")!.Open();
                var head = new byte[20];
                exe.ReadExactly(head);
                Assert.True(head.AsSpan(0, 4).SequenceEqual(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }), rid + ": btfgen is not ELF");
                Assert.Equal(machine, BitConverter.ToUInt16(head, 18));
            }
        }

        /// <summary>
        /// The cross-built linux-arm64 executable runs (under qemu-aarch64 with the cross sysroot, where qemu-user is installed)
        /// and prints what bpftool and the framework-dependent build print.
        /// </summary>
        [FullSkippableFact]
        public void The_cross_built_linux_arm64_executable_prints_what_bpftool_and_the_framework_dependent_build_print()
        {
            if (!OperatingSystem.IsLinux() || !_feed.Native) throw new SkipTestException("linux-arm64 is cross-packed on linux-x64 hosts only");
            var qemu = Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator).Select(d => Path.Combine(d, "qemu-aarch64")).FirstOrDefault(File.Exists);
            if (qemu == null) throw new SkipTestException("no qemu-aarch64 (apt-get install qemu-user)");
            var dir = Path.Combine(_feed.Root, "arm64");
            Directory.CreateDirectory(dir);
            var exe = Path.Combine(dir, "btfgen");
            using (var zip = ZipFile.OpenRead(_feed.Nupkg("BtfBindings.Cli.linux-arm64"))) zip.GetEntry("tools/any/linux-arm64/btfgen")!.ExtractToFile(exe, true);
            File.SetUnixFileMode(exe, File.GetUnixFileMode(exe) | UnixFileMode.UserExecute); // qemu-aarch64 runs only executable files (exit 1, no message)
            var fixture = Fixtures.Path("aarch64-6.1");
            var dump = Run(qemu, ["-L", "/usr/aarch64-linux-gnu", exe, "dump", fixture, "--format", "raw"], dir, _feed.Packages);
            Ok(dump, "btfgen (linux-arm64) dump");
            Assert.Equal(Bpftool.Dump(fixture).StdOut, dump.stdout);
            var arm = Run(qemu, ["-L", "/usr/aarch64-linux-gnu", exe, "task_struct", "--btf", fixture, "-o", Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "arm")).FullName, "t.cs")], dir, _feed.Packages);
            Ok(arm, "btfgen (linux-arm64) task_struct");
            var fd = Run("dotnet", [Path.Combine(_feed.AnyDir, "btfgen.dll"), "task_struct", "--btf", fixture, "-o", Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "fd")).FullName, "t.cs")], dir, _feed.Packages);
            Ok(fd, "btfgen (framework-dependent) task_struct");
            Assert.True(File.ReadAllBytes(Path.Combine(dir, "arm", "t.cs")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir, "fd", "t.cs"))), "task_struct: the linux-arm64 executable wrote other C# than the framework-dependent build");
        }

        private static bool IsElf(string path)
        {
            var head = new byte[4];
            using (var f = File.OpenRead(path)) f.ReadExactly(head);
            return head.SequenceEqual(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' });
        }

        [FullFact]
        public async System.Threading.Tasks.Task Installs_globally_runs_as_dotnet_btfgen_natively_on_linux_x64_and_prints_what_the_framework_dependent_build_prints()
        {
            // 'dotnet tool install -g' puts dotnet-btfgen into ~/.dotnet/tools, which is on PATH; --tool-path plus PATH does the
            // same without touching the user's tools. 'dotnet btfgen' finds dotnet-btfgen on PATH.
            var root = CliSupport.Scratch("tool-global");
            File.Copy(Path.Combine(_feed.Root, "nuget.config"), Path.Combine(root, "nuget.config"));
            var tools = Path.Combine(root, "tools");
            Ok(Run("dotnet", ["tool", "install", "--tool-path", tools, "BtfBindings.Cli", "--version", _feed.Version], root, _feed.Packages), "dotnet tool install --tool-path");
            var command = Path.Combine(tools, OperatingSystem.IsWindows() ? "dotnet-btfgen.exe" : "dotnet-btfgen");
            Assert.True(File.Exists(command), "no dotnet-btfgen in " + tools);
            if (_feed.Native)
            {
                // The command is the native executable itself (a link into the tool store), not an apphost shim over btfgen.dll.
                var target = new FileInfo(command).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? command;
                Assert.True(IsElf(target), target + " is not an ELF executable");
                Assert.Equal("btfgen", Path.GetFileName(target));
                Assert.Contains(Path.Combine("btfbindings.cli.linux-x64", _feed.Version), target);
                Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, "*.dll"));
            }

            var elsewhere = Path.Combine(root, "elsewhere");
            Directory.CreateDirectory(elsewhere);
            var help = Run("dotnet", ["btfgen", "--help"], elsewhere, _feed.Packages, tools);
            Ok(help, "dotnet btfgen --help (global)");
            Assert.Contains("dump", help.stdout);
            var fixture = Fixtures.Path("aarch64-6.1");
            var dump = Run("dotnet", ["btfgen", "dump", fixture, "--format", "raw"], elsewhere, _feed.Packages, tools);
            Ok(dump, "dotnet btfgen dump (global)");
            Assert.Equal(Bpftool.Dump(fixture).StdOut, dump.stdout);
            var list = Run("dotnet", ["btfgen", "list", "iphdr", "--btf", fixture], elsewhere, _feed.Packages, tools);
            Ok(list, "dotnet btfgen list (global)");
            Assert.Matches(@"struct\s+iphdr\s+20\s", list.stdout);
            Assert.Equal(2, Run("dotnet", ["btfgen", "show"], elsewhere, _feed.Packages, tools).code);

            // The installed command against the framework-dependent build ('any' package) on the same inputs: same bytes out,
            // same files, same errors. Trimming or AOT must not change a thing (JSON, System.CommandLine's messages, the emitter).
            var x86 = Fixtures.Path("x86_64-6.12");
            var cases = new (string[] args, int? code)[] // code null: an error, any non-zero code
            {
                (new[] { "dump", fixture, "--format", "raw" }, 0),
                (new[] { "dump", x86, "--format", "json" }, 0),
                (new[] { "task_struct", "--btf", x86, "-o", "OUT.cs" }, 0),
                (new[] { "generate", "iphdr", "sk_buff", "--btf", fixture, "-n", "K", "-c", "Kernel" }, 0),
                (new[] { "list", "task_*", "--kind", "struct", "--btf", x86, "--json" }, 0),
                (new[] { "show", "task_struct", "--btf", x86, "--json" }, 0),
                (new[] { "show", "sk_buff", "--btf", fixture }, 0),
                (new[] { "diff", fixture, x86, "task_struct", "sk_buff", "--json" }, 1),
                (new[] { "minimize", "task_struct", "--btf", x86, "-o", "OUT.btf", "--json" }, 0),
                (new[] { "compat", "--targets", BtfHubTree.Make(), "--btf", x86, "task_struct.pid", "task_struct.__state", "pid_type::PIDTYPE_TGID", "--json", "-" }, 1),
                (new[] { "compat", "-t", BtfHubTree.Make(), "-b", x86, "struct iphdr", "--markdown", "OUT.md" }, 0),
                (new[] { "--version" }, 0),
                (new[] { "show" }, 2),
                (new[] { "list", "iphdr", "--btf", Path.Combine(root, "missing.btf") }, null),
                (new[] { "dump", fixture, "--format", "yaml" }, null),
            };
            for (int i = 0; i < cases.Length; i++)
            {
                var results = new List<(int code, byte[] stdout, string stderr, byte[]? file)>();
                foreach (var fd in new[] { false, true })
                {
                    var dir = Path.Combine(root, $"case{i}-{(fd ? "fd" : "installed")}");
                    Directory.CreateDirectory(dir);
                    var args = new List<string>();
                    if (fd) args.Add(Path.Combine(_feed.AnyDir, "btfgen.dll"));
                    string? outFile = null;
                    foreach (var a in cases[i].args)
                    {
                        if (a.StartsWith("OUT.", StringComparison.Ordinal)) outFile = Path.Combine(dir, a);
                        args.Add(a.StartsWith("OUT.", StringComparison.Ordinal) ? Path.Combine(dir, a) : a);
                    }
                    var p = await System.Threading.Tasks.Task.Run(() => ProcessRunner.Run(fd ? "dotnet" : command, args, dir, TimeSpan.FromMinutes(2)));
                    // The two runs differ only by their own folder (an output path that btfgen prints).
                    byte[] stdout = p.StdOutBytes;
                    if (outFile != null) stdout = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(stdout).Replace(dir, "DIR"));
                    results.Add((p.ExitCode, stdout, p.StdErr.Replace(dir, "DIR"), outFile != null && File.Exists(outFile) ? File.ReadAllBytes(outFile) : null));
                }
                string what = "btfgen " + string.Join(" ", cases[i].args);
                Assert.True(results[0].code == results[1].code, $"{what}: installed exited {results[0].code}, framework-dependent {results[1].code}\n{results[0].stderr}\n{results[1].stderr}");
                Assert.True(results[0].stdout.AsSpan().SequenceEqual(results[1].stdout), what + ": stdout differs");
                Assert.Equal(results[1].stderr, results[0].stderr);
                Assert.True(results[0].file == null == (results[1].file == null) && (results[0].file == null || results[0].file!.AsSpan().SequenceEqual(results[1].file)), what + ": output file differs");
                Assert.True(cases[i].code is int c ? results[0].code == c : results[0].code != 0, $"{what} exited {results[0].code}: {results[0].stderr}");
            }
            try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        [FullFact]
        public void Installs_into_a_local_tool_manifest_and_runs_as_dotnet_btfgen()
        {
            // A fresh folder with a tool manifest, tools dir NOT on PATH; 'dotnet btfgen' resolves through the manifest.
            var proj = CliSupport.Scratch("tool-local");
            File.Copy(Path.Combine(_feed.Root, "nuget.config"), Path.Combine(proj, "nuget.config"));
            Ok(Run("dotnet", ["new", "tool-manifest"], proj, _feed.Packages), "dotnet new tool-manifest");
            Ok(Run("dotnet", ["tool", "install", "BtfBindings.Cli", "--version", _feed.Version], proj, _feed.Packages), "dotnet tool install (local manifest)");
            var manifest = Directory.GetFiles(proj, "dotnet-tools.json", SearchOption.AllDirectories).Single();
            Assert.Contains("\"dotnet-btfgen\"", File.ReadAllText(manifest));
            var localHelp = Run("dotnet", ["btfgen", "--help"], proj, _feed.Packages);
            Ok(localHelp, "dotnet btfgen --help (local)");
            Assert.Contains("dump", localHelp.stdout);
            var fixture = Fixtures.Path("aarch64-6.1");
            var viaDotnet = Run("dotnet", ["btfgen", "list", "task_*", "--kind", "struct", "--btf", fixture], proj, _feed.Packages);
            Ok(viaDotnet, "dotnet btfgen list (local)");
            Assert.Matches(@"struct\s+task_struct\s+\d+", viaDotnet.stdout);
            var showHelp = Run("dotnet", ["btfgen", "show", "--help"], proj, _feed.Packages);
            Ok(showHelp, "dotnet btfgen show --help (local)");
            Assert.Contains("pahole", showHelp.stdout);
            if (_feed.Native)
            {
                // The local install resolved the native package too.
                Assert.True(Directory.Exists(Path.Combine(_feed.Packages, "btfbindings.cli.linux-x64", _feed.Version)), "the local install did not restore BtfBindings.Cli.linux-x64");
            }
            try { Directory.Delete(proj, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
