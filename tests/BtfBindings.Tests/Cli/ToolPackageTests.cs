using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// btfgen as a real .NET tool, installed the two ways users install it: <c>dotnet pack</c> into a temporary feed, then a
    /// global install (<c>--tool-path</c>, that folder first on PATH, as ~/.dotnet/tools is for <c>-g</c>) and a local tool
    /// manifest in a fresh folder (<c>dotnet new tool-manifest; dotnet tool install BtfBindings.Cli</c>). Both run as
    /// <c>dotnet btfgen</c>: the command is <c>dotnet-btfgen</c>, the dotnet-ef convention. Offline: a nuget.config with only
    /// that feed, a private package folder.
    /// </summary>
    [Trait("Tier", "Package")]
    [Collection(BtfBindings.Tests.Build.PackageTier.Name)]
    public class ToolPackageTests
    {
        private static (int code, string stdout, string stderr) Run(string file, string args, string workDir, string nugetPackages, string? prependPath = null)
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir, UseShellExecute = false };
            psi.Environment["NUGET_PACKAGES"] = nugetPackages;
            psi.Environment["DOTNET_NOLOGO"] = "1";
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
            if (prependPath != null) psi.Environment["PATH"] = prependPath + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
            using var p = Process.Start(psi)!;
            var so = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(300_000)) { p.Kill(true); throw new TimeoutException(file + " " + args); }
            return (p.ExitCode, so.Result, se.Result);
        }

        private static void Ok((int code, string stdout, string stderr) r, string what)
            => Assert.True(r.code == 0, $"{what} exited {r.code}\n{r.stdout}\n{r.stderr}");

        [FullFact]
        public void Pack_install_globally_and_from_a_local_manifest_and_run_as_dotnet_btfgen()
        {
            var root = CliSupport.Scratch("tool");
            var feed = Path.Combine(root, "feed");
            var packages = Path.Combine(root, "packages");
            string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
            // Pack what the test run already built (same configuration), so no second build races other tests.
            string config = AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/") ? "Release" : "Debug";
            var cli = Path.Combine(Fixtures.RepoRoot, "src", "BtfBindings.Cli");
            Ok(Run("dotnet", $"pack \"{cli}\" -c {config} --no-build -o \"{feed}\" -p:PackageVersion={version} -nologo", Fixtures.RepoRoot, packages), "dotnet pack");
            var nupkg = Path.Combine(feed, $"BtfBindings.Cli.{version}.nupkg");
            using (var zip = ZipFile.OpenRead(nupkg))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("tools/net10.0/any/btfgen.dll", entries);
                Assert.Contains("tools/net10.0/any/BtfBindings.Runtime.dll", entries); // the ProjectReference travels inside the tool
                Assert.Contains("tools/net10.0/any/System.CommandLine.dll", entries);
                using var settings = new StreamReader(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
                Assert.Contains("<Command Name=\"dotnet-btfgen\" EntryPoint=\"btfgen.dll\"", settings.ReadToEnd());
            }
            Nupkg.AssertUserFacingMetadata(nupkg, "BtfBindings.Cli");
            File.WriteAllText(Path.Combine(root, "nuget.config"), $"<configuration><packageSources><clear /><add key=\"local\" value=\"{feed}\" /></packageSources></configuration>");
            var fixture = Fixtures.Path("aarch64-6.1");

            // 1. Global: 'dotnet tool install -g' puts dotnet-btfgen into ~/.dotnet/tools, which is on PATH; --tool-path plus
            //    PATH does the same without touching the user's tools. 'dotnet btfgen' finds dotnet-btfgen on PATH.
            var tools = Path.Combine(root, "tools");
            Ok(Run("dotnet", $"tool install --tool-path \"{tools}\" BtfBindings.Cli --version {version}", root, packages), "dotnet tool install --tool-path");
            Assert.True(File.Exists(Path.Combine(tools, OperatingSystem.IsWindows() ? "dotnet-btfgen.exe" : "dotnet-btfgen")), "no dotnet-btfgen in " + tools);
            var elsewhere = Path.Combine(root, "elsewhere");
            Directory.CreateDirectory(elsewhere);
            var help = Run("dotnet", "btfgen --help", elsewhere, packages, tools);
            Ok(help, "dotnet btfgen --help (global)");
            Assert.Contains("dump", help.stdout);
            var dump = Run("dotnet", $"btfgen dump \"{fixture}\" --format raw", elsewhere, packages, tools);
            Ok(dump, "dotnet btfgen dump (global)");
            Assert.Equal(Tool.Check("bpftool", $"btf dump file {fixture} format raw").StdOut, dump.stdout);
            var list = Run("dotnet", $"btfgen list iphdr --btf \"{fixture}\"", elsewhere, packages, tools);
            Ok(list, "dotnet btfgen list (global)");
            Assert.Matches(@"struct\s+iphdr\s+20\s", list.stdout);
            var bad = Run("dotnet", "btfgen show", elsewhere, packages, tools);
            Assert.Equal(2, bad.code);

            // 2. Local: a fresh folder with a tool manifest, tools dir NOT on PATH; 'dotnet btfgen' resolves through the manifest.
            var proj = Path.Combine(root, "proj");
            Directory.CreateDirectory(proj);
            Ok(Run("dotnet", "new tool-manifest", proj, packages), "dotnet new tool-manifest");
            Ok(Run("dotnet", $"tool install BtfBindings.Cli --version {version}", proj, packages), "dotnet tool install (local manifest)");
            var manifest = Directory.GetFiles(proj, "dotnet-tools.json", SearchOption.AllDirectories).Single();
            Assert.Contains("\"dotnet-btfgen\"", File.ReadAllText(manifest));
            var localHelp = Run("dotnet", "btfgen --help", proj, packages);
            Ok(localHelp, "dotnet btfgen --help (local)");
            Assert.Contains("dump", localHelp.stdout);
            var viaDotnet = Run("dotnet", $"btfgen list \"task_*\" --kind struct --btf \"{fixture}\"", proj, packages);
            Ok(viaDotnet, "dotnet btfgen list (local)");
            Assert.Matches(@"struct\s+task_struct\s+\d+", viaDotnet.stdout);
            var showHelp = Run("dotnet", "btfgen show --help", proj, packages);
            Ok(showHelp, "dotnet btfgen show --help (local)");
            Assert.Contains("pahole", showHelp.stdout);
            try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
