using System;
using System.Diagnostics;
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
        private static (int code, string output) Msbuild(string args, string workDir)
        {
            var psi = new ProcessStartInfo("dotnet", "msbuild " + args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir, UseShellExecute = false };
            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using var p = Process.Start(psi)!;
            var so = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(300_000)) { p.Kill(true); throw new TimeoutException("dotnet msbuild " + args); }
            return (p.ExitCode, so.Result + se.Result);
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

        private static string NewDir(string tag)
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfb-targets-" + tag + "-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }

        [Fact]
        public void Missing_BtfFile_is_BTFB012_not_a_generator_code()
        {
            var dir = NewDir("missing");
            try
            {
                File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""nowhere/kernel.btf"" />"));
                var (code, output) = Msbuild("App.proj -t:BtfBindingsCollectFiles -nologo", dir);
                Assert.NotEqual(0, code);
                Assert.Contains("error BTFB012: BtfFile 'nowhere/kernel.btf' does not exist.", output);
                // BTFB011 is the generator's "class must not be generic": the two must never share a code again.
                Assert.DoesNotContain("BTFB011", output);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void Missing_Base_is_BTFB012_naming_the_base()
        {
            var dir = NewDir("missingbase");
            try
            {
                File.Copy(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Path.Combine(dir, "ip_vs.ko"));
                File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""ip_vs.ko"" Base=""btf/missing-vmlinux.btf"" />"));
                var (code, output) = Msbuild("App.proj -t:BtfBindingsCollectFiles -nologo", dir);
                Assert.NotEqual(0, code);
                Assert.Contains("error BTFB012: The Base 'btf/missing-vmlinux.btf' of a BtfFile does not exist.", output);
                Assert.DoesNotContain("MSB", output.Replace("MSBuild", "")); // not a generic task failure (GetFileHash)
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void Split_file_reaches_the_generator_with_its_base_and_the_bases_content_hash()
        {
            var dir = NewDir("split");
            try
            {
                File.Copy(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Path.Combine(dir, "ip_vs.ko"));
                Directory.CreateDirectory(Path.Combine(dir, "btf"));
                File.Copy(Fixtures.Path("x86_64-6.12"), Path.Combine(dir, "btf", "vmlinux.btf"));
                File.WriteAllText(Path.Combine(dir, "App.proj"), Project(@"    <BtfFile Include=""ip_vs.ko"" Base=""btf/vmlinux.btf"" />"));
                var args = "App.proj -t:BtfBindingsCollectFiles -getProperty:BtfBindingsFiles -getProperty:BtfBindingsBaseHashes -nologo";

                var (code, output) = Msbuild(args, dir);
                Assert.True(code == 0, output);
                var (files, baseHashes) = Read(output);
                string modHash = Sha256(Path.Combine(dir, "ip_vs.ko")), baseHash = Sha256(Path.Combine(dir, "btf", "vmlinux.btf"));
                Assert.Equal(Path.Combine(dir, "ip_vs.ko") + "|" + modHash + "|btf/vmlinux.btf", files, ignoreCase: true);
                // One entry per distinct Base, keyed by the Base metadata as written (what the third field above carries).
                Assert.Equal("btf/vmlinux.btf|" + baseHash, baseHashes, ignoreCase: true);

                // The base changes, the module does not: only the base's hash moves.
                var bytes = File.ReadAllBytes(Path.Combine(dir, "btf", "vmlinux.btf"));
                bytes[bytes.Length - 2] ^= 0x20;
                File.WriteAllBytes(Path.Combine(dir, "btf", "vmlinux.btf"), bytes);
                (code, output) = Msbuild(args, dir);
                Assert.True(code == 0, output);
                var (files2, baseHashes2) = Read(output);
                Assert.Equal(files, files2);
                Assert.Equal("btf/vmlinux.btf|" + Sha256(Path.Combine(dir, "btf", "vmlinux.btf")), baseHashes2, ignoreCase: true);
                Assert.NotEqual(baseHashes, baseHashes2);
            }
            finally { Directory.Delete(dir, true); }
        }

        private static (string files, string baseHashes) Read(string output)
        {
            int start = output.IndexOf('{');
            Assert.True(start >= 0, output);
            using var doc = JsonDocument.Parse(output.Substring(start));
            var props = doc.RootElement.GetProperty("Properties");
            return (props.GetProperty("BtfBindingsFiles").GetString()!, props.GetProperty("BtfBindingsBaseHashes").GetString()!);
        }

        private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
    }
}
