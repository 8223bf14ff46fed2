using System;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;
using Xunit.Abstractions;

namespace BtfFuzz.Coverage
{
    /// <summary>
    /// One "test": every file of BTFFUZZ_COVERAGE_INPUTS (folders separated by ':') through the harness named by
    /// BTFFUZZ_COVERAGE_HARNESS, as the fuzzer ran it (Contract.Check). coverlet records which lines ran.
    /// </summary>
    public class Replay
    {
        private readonly ITestOutputHelper _out;
        public Replay(ITestOutputHelper output) => _out = output;

        [Fact]
        public void Inputs_through_the_harness()
        {
            string? name = Environment.GetEnvironmentVariable("BTFFUZZ_COVERAGE_HARNESS");
            if (string.IsNullOrEmpty(name)) return; // run by coverage.sh only
            var harness = Harnesses.Get(name) ?? throw new ArgumentException("unknown harness " + name);
            Harnesses.Prepare(name);
            var files = (Environment.GetEnvironmentVariable("BTFFUZZ_COVERAGE_INPUTS") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d)).Where(f => !f.EndsWith(".md", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith(".", StringComparison.Ordinal))
                .OrderBy(f => f, StringComparer.Ordinal).ToList();
            int failed = 0;
            foreach (var f in files)
            {
                var data = File.ReadAllBytes(f);
                Exception? error = null;
                // The stack AFL's children have (8 MiB), as the replay mode gives them.
                var t = new Thread(() => { try { Contract.Check(name, harness, data); } catch (Exception e) { error = e; } }, 8 << 20);
                t.Start();
                if (!t.Join(TimeSpan.FromSeconds(60))) throw new TimeoutException(f + ": still running after 60 s");
                if (error != null) { failed++; _out.WriteLine($"{f}: {error.GetType().Name}: {error.Message}"); }
            }
            _out.WriteLine($"{name}: {files.Count} inputs replayed, {failed} failed the contract");
            Assert.NotEmpty(files);
            Assert.Equal(0, failed);
        }
    }
}
