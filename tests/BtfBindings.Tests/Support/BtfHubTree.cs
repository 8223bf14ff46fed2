using System;
using System.Collections.Concurrent;
using System.IO;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// BTFHub-shaped folders made by the committed script tests/fixtures/make-btfhub-tree.sh (what the README example
    /// runs), once per (variants, raw) per test run and shared: read them, do not write into them.
    /// </summary>
    public static class BtfHubTree
    {
        private static readonly ConcurrentDictionary<string, Lazy<string>> Made = new ConcurrentDictionary<string, Lazy<string>>();

        /// <summary>The script.</summary>
        public static string Script => Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "make-btfhub-tree.sh");

        /// <summary>(fixture, distro/version/arch folder, release, uname -m arch) of the six real kernels, as the script lays them out.</summary>
        public static readonly (string fixture, string folder, string release, string arch)[] Kernels =
        {
            ("x86_64-5.10", "debian/11/x86_64", "5.10.0-46-amd64", "x86_64"),
            ("x86_64-6.12", "debian/12/x86_64", "6.12.117+deb12-amd64", "x86_64"),
            ("aarch64-6.1", "debian/12/arm64", "6.1.0-50-arm64", "aarch64"),
            ("armhf-6.1", "debian/12/armhf", "6.1.0-50-armmp", "armv7l"),
            ("i686-6.1", "debian/12/i386", "6.1.0-50-686-pae", "i686"),
            ("s390x-6.12", "debian/13/s390x", "6.12.107+deb13-s390x", "s390x"),
        };

        /// <summary>Runs the script into a fresh temp folder (shared per arguments within the run) and returns it.</summary>
        public static string Make(int variants = 0, bool raw = false)
            => Made.GetOrAdd($"{variants}/{raw}", _ => new Lazy<string>(() =>
            {
                var dir = Directory.CreateTempSubdirectory("btfhub-tree-").FullName;
                var args = new System.Collections.Generic.List<string> { Script, dir };
                if (variants > 0) { args.Add("--variants"); args.Add(variants.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
                if (raw) args.Add("--raw");
                ProcessRunner.Check("bash", args);
                return dir;
            })).Value;
    }
}
