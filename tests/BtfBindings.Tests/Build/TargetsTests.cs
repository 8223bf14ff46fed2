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
                var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsCollectFiles", "-nologo");
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
                var (code, output) = Msbuild(dir, "App.proj", "-t:BtfBindingsCollectFiles", "-nologo");
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
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void Every_BtfFile_reaches_the_generator_whatever_its_path_holds()
        {
            // ';' and '#' start comments in the compiler's editorconfig reader, which once cut the list after the first file.
            var dir = NewDir("awkward");
            try
            {
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
            finally { Directory.Delete(dir, true); }
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
