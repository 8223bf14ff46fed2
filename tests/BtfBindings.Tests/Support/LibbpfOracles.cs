using System;
using System.Collections.Concurrent;
using System.IO;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// The libbpf programs of tests/oracle (btf_oracle.c: sizes and alignments; core_oracle.c: CO-RE relocations), built
    /// once per run with gcc against the system's libbpf (libbpf-dev, which .ci/run installs).
    /// </summary>
    public static class LibbpfOracles
    {
        private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new ConcurrentDictionary<string, Lazy<string>>();

        /// <summary>The built executable of tests/oracle/<paramref name="name"/>.c ("btf_oracle", "core_oracle").</summary>
        public static string Executable(string name) => Built.GetOrAdd(name, n => new Lazy<string>(() =>
        {
            var src = Path.Combine(Fixtures.RepoRoot, "tests", "oracle", n + ".c");
            var dir = Path.Combine(Path.GetTempPath(), "btfbindings-oracle-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var exe = Path.Combine(dir, n);
            ProcessRunner.Check("gcc", ["-O2", "-Wall", "-o", exe, src, "-lbpf"]);
            return exe;
        })).Value;
    }
}
