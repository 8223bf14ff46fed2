using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>
    /// tests/fixtures/make-btfhub-tree.sh: the tree it writes is named by the naming rule as the script's table says, and
    /// every file loads with the fixture's type count (from the fixtures README, bpftool's count) and hash.
    /// </summary>
    public class BtfHubTreeTests
    {
        private static int ReadmeTypes(string fixture)
        {
            var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "README.md"));
            var m = Regex.Match(readme, @"^\| `" + Regex.Escape(fixture) + @"\.btf\.gz` \|.*\| (\d+) \| `[0-9a-f]{64}` \|$", RegexOptions.Multiline);
            Assert.True(m.Success, "README row for " + fixture);
            return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        [Fact]
        public void Tree_of_the_six_fixtures_loads_and_is_named_by_the_rule()
        {
            var dir = BtfHubTree.Make();
            var files = CompatCheck.ExpandTargets(new[] { dir });
            Assert.Equal(6, files.Count);
            foreach (var (fixture, folder, release, arch) in BtfHubTree.Kernels)
            {
                var path = Path.Combine(dir, folder, release + ".btf.tar.xz");
                Assert.Contains(path, files);
                var info = KernelTargetInfo.FromPath(path);
                Assert.Equal((release, arch, "debian", folder.Split('/')[1]), (info.Release, info.Arch, info.Distro, info.DistroVersion));
                var btf = Btf.Load(path);
                Assert.Equal(ReadmeTypes(fixture) + 1, btf.TypeCount); // ids 0..N
                Assert.Equal(Fixtures.Kernel(fixture).IsBigEndian, btf.IsBigEndian);
            }
        }

        [Fact]
        public void Derived_variants_have_own_hashes_and_the_base_types_per_bpftool()
        {
            var dir = BtfHubTree.Make(variants: 14, raw: true);
            var files = CompatCheck.ExpandTargets(new[] { dir });
            Assert.Equal(14, files.Count);
            Assert.Equal(14, files.Select(CompatCheck.Sha256).Distinct().Count());
            var infos = files.Select(f => KernelTargetInfo.FromPath(f)).ToArray();
            Assert.Equal(14, infos.Select(i => i.Release).Distinct().Count());
            var v2 = Path.Combine(dir, "debian", "13", "s390x", "6.12.107+deb13+v1-s390x.btf"); // big-endian header patched
            Assert.Contains(v2, files);
            Assert.Equal("s390x", KernelTargetInfo.FromPath(v2).Arch);
            // libbpf (bpftool) reads the derived file and lists the base's types
            Assert.Equal(Bpftool.Dump(Fixtures.Path("s390x-6.12")).StdOut, Bpftool.Dump(v2).StdOut);
            Assert.Equal(ReadmeTypes("s390x-6.12") + 1, Btf.Load(v2).TypeCount);
        }

        [Fact]
        public void Script_rejects_bad_arguments()
        {
            var r = ProcessRunner.Run("bash", new[] { BtfHubTree.Script });
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("usage", r.StdErr);
            r = ProcessRunner.Run("bash", new[] { BtfHubTree.Script, Path.GetTempPath(), "--variants", "x" });
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("--variants needs a number", r.StdErr);
        }
    }
}
