using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>Grouping of targets for messages (contract (c)) and the report with its JSON and Markdown writers (d).</summary>
    public class ReportTests
    {
        // 40 Ubuntu-like x86_64 kernels: 4 × 5.4, 4 × 5.8, 2 × 5.11, 2 × 5.13, 10 × 5.15, 10 × 6.1, 8 × 6.8.
        private static List<KernelTargetInfo> Fleet(string arch = "x86_64")
        {
            var list = new List<KernelTargetInfo>();
            void Add(string v, int n) { for (int i = 0; i < n; i++) list.Add(KernelTargetInfo.FromPath($"ubuntu/20.04/{arch}/{v}.0-{1010 + i * 7}-aws.btf.tar.xz")); }
            Add("5.4", 4); Add("5.8", 4); Add("5.11", 2); Add("5.13", 2); Add("5.15", 10); Add("6.1", 10); Add("6.8", 8);
            // shuffled, as a folder walk might give them
            return list.OrderBy(t => t.Release.GetHashCode(StringComparison.Ordinal) ^ t.Release.Length).ToList();
        }

        [Fact]
        public void Old_kernels_group_into_one_version_range()
        {
            var fleet = Fleet();
            var sel = fleet.Select(t => t.Version.CompareTo(KernelVersion.Parse("5.14")) < 0).ToArray();
            Assert.Equal(12, sel.Count(s => s));
            Assert.Equal("5.4\u20135.13 (12 of 40 targets)", TargetGrouping.Describe(fleet, sel));
        }

        [Fact]
        public void A_range_that_splits_a_kernel_line_names_the_releases()
        {
            var fleet = Fleet();
            // 5.4.0-1024-aws and 5.4.0-1031-aws (the last two 5.4 kernels) through all of 5.8
            var sel = fleet.Select(t => t.Version.Short == "5.8" || t.Release is "5.4.0-1024-aws" or "5.4.0-1031-aws").ToArray();
            Assert.Equal("5.4.0-1024-aws\u20135.8 (6 of 40 targets)", TargetGrouping.Describe(fleet, sel));
            var one = fleet.Select(t => t.Release == "6.1.0-1010-aws").ToArray();
            Assert.Equal("6.1.0-1010-aws (1 of 40 targets)", TargetGrouping.Describe(fleet, one));
            var two = fleet.Select(t => t.Version.Short is "5.11" or "6.8").ToArray();
            Assert.Equal("5.11, 6.8 (10 of 40 targets)", TargetGrouping.Describe(fleet, two));
            Assert.Equal("all 40 targets", TargetGrouping.Describe(fleet, fleet.Select(_ => true).ToArray()));
        }

        [Fact]
        public void Several_arches_are_named_per_arch()
        {
            var fleet = Fleet().Concat(Fleet("arm64").Take(3)).ToList();
            var arm = fleet.Select(t => t.Arch == "aarch64").ToArray();
            Assert.Equal("all aarch64 (3 of 43 targets)", TargetGrouping.Describe(fleet, arm));
            var sel = fleet.Select(t => t.Arch == "aarch64" || t.Version.Short == "5.4").ToArray();
            Assert.Equal("all aarch64, x86_64 5.4 (7 of 43 targets)", TargetGrouping.Describe(fleet, sel));
        }

        [Fact]
        public void Sentence_lists_each_verdict_with_its_targets()
        {
            var fleet = Fleet();
            var v = fleet.Select(t => t.Version.Short switch { "5.4" or "5.8" => CompatVerdict.Missing, "6.8" => CompatVerdict.Moved, _ => CompatVerdict.Ok }).ToArray();
            Assert.Equal("'task_struct.se.vruntime' is missing on 5.4\u20135.8 (8 of 40 targets); moved on 6.8 (8 of 40 targets)", TargetGrouping.Sentence("task_struct.se.vruntime", fleet, v));
            Assert.Equal("'x.y' is ok on all 40 targets", TargetGrouping.Sentence("x.y", fleet, fleet.Select(_ => CompatVerdict.Ok).ToArray()));
        }

        /// <summary>Two fixture kernels laid out like BTFHub; uses that hit every verdict; the JSON parsed back, hashes against the fixtures README.</summary>
        [Fact]
        public void Report_of_a_real_check_round_trips_through_json_and_markdown()
        {
            var dir = Directory.CreateTempSubdirectory("compat-report-");
            try
            {
                string Put(string fixture, string rel)
                {
                    var p = Path.Combine(dir.FullName, rel);
                    Directory.CreateDirectory(Path.GetDirectoryName(p)!);
                    File.Copy(Fixtures.Path(fixture), p);
                    return p;
                }
                var p510 = Put("x86_64-5.10", "debian/11/x86_64/5.10.0-46-amd64.btf");
                var p612 = Put("x86_64-6.12", "debian/12/x86_64/6.12.117+deb12-amd64.btf");
                var targets = CompatCheck.ExpandTargets(new[] { dir.FullName });
                Assert.Equal(2, targets.Count);
                var uses = new[] { "task_struct.pid", "task_struct.__state", "net_device.mtu", "enum bpf_func_id::BPF_FUNC_user_ringbuf_drain", "struct iphdr" }
                    .Select(s => (CompatUse.TryParse(s, out _)!, (IReadOnlyList<CompatUseSite>)Array.Empty<CompatUseSite>())).ToList();
                uses.Add((CompatUse.TryParse("task_struct.pid", out _)!.WithAccess(CompatAccess.Plain), new[] { new CompatUseSite("App.Program.Main", 0x12, "Program.cs", 7) }));
                var report = CompatCheck.Run(Fixtures.Kernel("x86_64-6.12"), Fixtures.Path("x86_64-6.12"), targets, uses, parallelism: 2);

                string json = CompatReportJson.Write(report);
                Assert.Equal(json, CompatReportJson.Write(CompatCheck.Run(Fixtures.Kernel("x86_64-6.12"), Fixtures.Path("x86_64-6.12"), targets.Reverse().ToList(), uses.AsEnumerable().Reverse().ToList(), 1)));
                using var doc = JsonDocument.Parse(json);
                var root = doc.RootElement;
                var ts = root.GetProperty("targets").EnumerateArray().ToArray();
                Assert.Equal(new[] { "5.10.0-46-amd64", "6.12.117+deb12-amd64" }, ts.Select(t => t.GetProperty("release").GetString()));
                Assert.All(ts, t => Assert.Equal("x86_64", t.GetProperty("arch").GetString()));
                Assert.Equal(new[] { "debian", "debian" }, ts.Select(t => t.GetProperty("distro").GetString()));
                Assert.Equal(new[] { "11", "12" }, ts.Select(t => t.GetProperty("distroVersion").GetString()));
                // the README's hashes of the uncompressed fixtures: an independent record of the bytes
                var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "README.md"));
                Assert.All(ts, t => Assert.Contains("`" + t.GetProperty("sha256").GetString() + "`", readme));
                Assert.Equal(p510, ts[0].GetProperty("path").GetString());

                var byUse = root.GetProperty("uses").EnumerateArray().ToDictionary(u => u.GetProperty("use").GetString() + "/" + u.GetProperty("access").GetString());
                string[] Verdicts(string key) => byUse[key].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("verdict").GetString()!).ToArray();
                Assert.Equal(new[] { "moved", "ok" }, Verdicts("task_struct.pid/unknown"));
                Assert.False(byUse["task_struct.pid/unknown"].GetProperty("problem").GetBoolean());
                Assert.True(byUse["task_struct.pid/plain"].GetProperty("problem").GetBoolean());
                Assert.Equal(7, byUse["task_struct.pid/plain"].GetProperty("sites")[0].GetProperty("line").GetInt32());
                Assert.Equal(new[] { "missing", "ok" }, Verdicts("task_struct.__state/unknown"));
                Assert.Equal(new[] { "missing", "ok" }, Verdicts("enum bpf_func_id::BPF_FUNC_user_ringbuf_drain/unknown"));
                Assert.Equal(new[] { "ok", "ok" }, Verdicts("struct iphdr/unknown"));
                Assert.Equal("'task_struct.__state' is missing on 5.10 (1 of 2 targets)", byUse["task_struct.__state/unknown"].GetProperty("summary").GetString());
                Assert.True(report.HasProblems);
                var uses2 = root.GetProperty("uses").EnumerateArray().Select(u => u.GetProperty("use").GetString()).ToArray();
                Assert.Equal(uses2.OrderBy(s => s, StringComparer.Ordinal), uses2);

                string md = CompatReportMarkdown.Write(report);
                var lines = md.Split('\n');
                var header = lines.Single(l => l.StartsWith("| Kernel |", StringComparison.Ordinal));
                Assert.Equal(3 + uses.Count, header.Count(c => c == '|') - 1);
                var row510 = lines.Single(l => l.StartsWith("| 5.10.0-46-amd64 |", StringComparison.Ordinal));
                Assert.Contains("**missing**", row510);
                Assert.Contains("Legend:", md);
                Assert.Contains("`task_struct.__state` on 5.10.0-46-amd64 (x86_64): missing:", md);
            }
            finally { dir.Delete(true); }
        }
    }
}
