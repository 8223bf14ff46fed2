using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// btfgen as a real .NET tool: <c>dotnet pack</c> into a temporary feed, <c>dotnet tool install --tool-path</c> and a local
    /// tool manifest (so <c>dotnet btfgen</c> works), all offline (a nuget.config with only that feed, a private package folder).
    /// </summary>
    public class ToolPackageTests
    {
        private static (int code, string stdout, string stderr) Run(string file, string args, string workDir, string nugetPackages)
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir, UseShellExecute = false };
            psi.Environment["NUGET_PACKAGES"] = nugetPackages;
            psi.Environment["DOTNET_NOLOGO"] = "1";
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using var p = Process.Start(psi)!;
            var so = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(300_000)) { p.Kill(true); throw new TimeoutException(file + " " + args); }
            return (p.ExitCode, so.Result, se.Result);
        }

        private static void Ok((int code, string stdout, string stderr) r, string what)
            => Assert.True(r.code == 0, $"{what} exited {r.code}\n{r.stdout}\n{r.stderr}");

        [Fact]
        public void Pack_install_and_run_as_btfgen_and_dotnet_btfgen()
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
                Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", entries);
            }
            var nugetConfig = Path.Combine(root, "nuget.config");
            File.WriteAllText(nugetConfig, $"<configuration><packageSources><clear /><add key=\"local\" value=\"{feed}\" /></packageSources></configuration>");

            // 1. A tool path install: the 'btfgen' executable.
            var tools = Path.Combine(root, "tools");
            Ok(Run("dotnet", $"tool install --tool-path \"{tools}\" --configfile \"{nugetConfig}\" --add-source \"{feed}\" BtfBindings.Cli --version {version}", root, packages), "dotnet tool install --tool-path");
            var btfgen = Path.Combine(tools, OperatingSystem.IsWindows() ? "btfgen.exe" : "btfgen");
            var fixture = Fixtures.Path("aarch64-6.1");
            var dump = Run(btfgen, $"dump \"{fixture}\" --format raw", root, packages);
            Ok(dump, "btfgen dump");
            Assert.Equal(Tool.Check("bpftool", $"btf dump file {fixture} format raw").StdOut, dump.stdout);
            var list = Run(btfgen, $"list iphdr --btf \"{fixture}\"", root, packages);
            Ok(list, "btfgen list");
            Assert.Matches(@"struct\s+iphdr\s+20\s", list.stdout);
            var bad = Run(btfgen, "show", root, packages);
            Assert.Equal(2, bad.code);

            // 2. A local tool manifest: 'dotnet btfgen'.
            var proj = Path.Combine(root, "proj");
            Directory.CreateDirectory(proj);
            Ok(Run("dotnet", "new tool-manifest", proj, packages), "dotnet new tool-manifest");
            Ok(Run("dotnet", $"tool install --local --configfile \"{nugetConfig}\" BtfBindings.Cli --version {version}", proj, packages), "dotnet tool install --local");
            var viaDotnet = Run("dotnet", $"btfgen list \"task_*\" --kind struct --btf \"{fixture}\"", proj, packages);
            Ok(viaDotnet, "dotnet btfgen list");
            Assert.Matches(@"struct\s+task_struct\s+\d+", viaDotnet.stdout);
            var help = Run("dotnet", "btfgen show --help", proj, packages);
            Ok(help, "dotnet btfgen show --help");
            Assert.Contains("pahole", help.stdout);
            try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
