using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Build;
using BtfBindings.Compatibility;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>
    /// What lets an incremental build skip BTF work: known verdicts read no target and no BtfFile (CompatCheck.Classify),
    /// the verdict file read once per version (VerdictFile.LoadShared), and the report's stamp, which changes with
    /// everything the report says (CompatReportStamp).
    /// </summary>
    public class VerdictReuseTests
    {
        private static CompatUse Use(string text) => CompatUse.TryParse(text, out _)!;

        [Fact]
        public void Known_verdicts_read_no_target_and_no_BtfFile()
        {
            // Paths that do not exist: reading either would throw.
            var targets = new[] { new CompatTargetFile("/nonexistent/5.10.0-46-amd64.btf", KernelTargetInfo.FromPath("debian/11/x86_64/5.10.0-46-amd64.btf"), "AB") };
            var uses = new[] { Use("task_struct.pid"), Use("task_struct.__state") };
            var known = new CompatResult(CompatVerdict.Missing, "from the file");
            var r = CompatCheck.Classify(targets, uses, () => throw new InvalidOperationException("BtfFile read"), (t, u) => known, 1, out int parsed);
            Assert.Equal(0, parsed);
            Assert.All(r, row => Assert.Equal("from the file", row[0].Detail));
        }

        [Fact]
        public void Unknown_verdicts_come_from_the_rule_and_a_damaged_raw_copy_falls_back_to_the_target()
        {
            var dir = Directory.CreateTempSubdirectory("verdict-reuse-");
            try
            {
                string p510 = Path.Combine(dir.FullName, "5.10.0-46-amd64.btf");
                File.Copy(Fixtures.Path("x86_64-5.10"), p510);
                string raw = Path.Combine(dir.FullName, "raw.btf");
                File.WriteAllBytes(raw, new byte[] { 1, 2, 3, 4 });
                var targets = new[] { new CompatTargetFile(p510, KernelTargetInfo.FromPath(p510), null, raw) };
                var uses = new[] { Use("task_struct.pid"), Use("task_struct.__state") };
                var build = Fixtures.Kernel("x86_64-6.12");
                // Only __state is unknown: the target is read once, pid's given verdict kept.
                var given = new CompatResult(CompatVerdict.Ok, "given");
                var r = CompatCheck.Classify(targets, uses, () => build, (t, u) => u == 0 ? given : null, 1, out int parsed);
                Assert.Equal(1, parsed);
                Assert.Equal("given", r[0][0].Detail);
                // 5.10 has task_struct.state, not __state (bpftool, pinned in ClassificationTests).
                Assert.Equal(CompatVerdict.Missing, r[1][0].Verdict);
                Assert.Equal(CompatCheck.Sha256(p510), targets[0].Sha256);
            }
            finally { dir.Delete(true); }
        }

        [Fact]
        public void A_bad_target_is_named_and_a_bad_BtfFile_is_not_blamed_on_it()
        {
            var dir = Directory.CreateTempSubdirectory("verdict-reuse-");
            try
            {
                string bad = Path.Combine(dir.FullName, "9.9.9-bad.btf");
                File.WriteAllBytes(bad, new byte[] { 1, 2, 3, 4 });
                var uses = new[] { Use("task_struct.pid") };
                var e = Assert.Throws<CompatInputException>(() => CompatCheck.Classify(new[] { new CompatTargetFile(bad, KernelTargetInfo.FromPath(bad)) }, uses,
                    () => Fixtures.Kernel("x86_64-6.12"), null, 1, out _));
                Assert.Contains($"target '{bad}' cannot be read as BTF", e.Message);
                string good = Fixtures.Path("x86_64-5.10");
                var e2 = Assert.Throws<CompatInputException>(() => CompatCheck.Classify(new[] { new CompatTargetFile(good, KernelTargetInfo.FromPath(good)) }, uses,
                    () => throw new CompatInputException("BtfFile 'x' cannot be read as BTF"), null, 1, out _));
                Assert.Equal("BtfFile 'x' cannot be read as BTF", e2.Message);
            }
            finally { dir.Delete(true); }
        }

        [Fact]
        public void The_verdict_file_is_read_again_only_after_it_changed()
        {
            var dir = Directory.CreateTempSubdirectory("verdict-reuse-");
            try
            {
                string path = Path.Combine(dir.FullName, VerdictFile.FileName);
                Assert.Empty(VerdictFile.LoadShared(path)); // none yet
                var a = new KeyValuePair<string, CompatResult>(VerdictFile.Key("AA", "BB", Use("task_struct.pid")), new CompatResult(CompatVerdict.Moved, "a"));
                File.WriteAllText(path, VerdictFile.Write(new[] { a }));
                int reads = VerdictFile.SharedReadCount;
                var first = VerdictFile.LoadShared(path);
                Assert.Equal(CompatVerdict.Moved, first[a.Key].Verdict);
                Assert.Same(first, VerdictFile.LoadShared(path));
                Assert.Equal(reads + 1, VerdictFile.SharedReadCount);

                // Another writer (the report task, another compile) adds a verdict: read again.
                var b = new KeyValuePair<string, CompatResult>(VerdictFile.Key("AA", "BB", Use("task_struct.__state")), new CompatResult(CompatVerdict.Missing, "b"));
                File.WriteAllText(path, VerdictFile.Write(new[] { a, b }));
                var second = VerdictFile.LoadShared(path);
                Assert.Equal(reads + 2, VerdictFile.SharedReadCount);
                Assert.Equal(CompatVerdict.Missing, second[b.Key].Verdict);
                // Same size, other content, a later time (a rewrite of the same length): read again too.
                File.WriteAllText(path, VerdictFile.Write(new[] { a, new KeyValuePair<string, CompatResult>(b.Key, new CompatResult(CompatVerdict.Ok, "c")) }));
                File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(1));
                Assert.Equal(CompatVerdict.Ok, VerdictFile.LoadShared(path)[b.Key].Verdict);
                File.Delete(path);
                Assert.Empty(VerdictFile.LoadShared(path));
            }
            finally { dir.Delete(true); }
        }

        [Fact]
        public void The_verdict_file_round_trips_and_skips_what_it_cannot_trust()
        {
            var pid = VerdictFile.Key("aa", "bb", Use("task_struct.pid"));
            var state = VerdictFile.Key("AA", "BB", Use("task_struct.__state"));
            string text = VerdictFile.Write(new[]
            {
                new KeyValuePair<string, CompatResult>(pid, new CompatResult(CompatVerdict.Moved, "offset 1\tsize\n2")),
                new KeyValuePair<string, CompatResult>(state, new CompatResult(CompatVerdict.Ambiguous, "")),
            });
            var back = VerdictFile.Read(text);
            Assert.Equal(2, back.Count);
            Assert.Equal(CompatVerdict.Moved, back["AA\tBB\ttask_struct.pid"].Verdict);
            Assert.Equal("offset 1 size 2", back[pid].Detail);
            Assert.Equal(CompatVerdict.Ambiguous, back[state].Verdict);
            Assert.Equal("", back[state].Detail);
            Assert.Equal(2, VerdictFile.Read(text.Replace("\n", "\r\n")).Count);
            // Malformed lines are skipped, the rest kept: too few or too many fields, a verdict no build writes, a bad number.
            string lines = text + "A\tB\tx.y\t1\n" + "A\tB\tx.y\t1\td\te\n" + "A\tB\tx.z\t99\td\n" + "A\tB\tx.w\t-1\td\n" + "A\tB\tx.v\t\td";
            Assert.Equal(2, VerdictFile.Read(lines).Count);
            // Another package build's file: nothing trusted.
            Assert.Empty(VerdictFile.Read("# BtfBindings 0.0.0-other\n" + text.Substring(text.IndexOf('\n') + 1)));
            Assert.Empty(VerdictFile.Read(""));
        }

        [Fact]
        public void The_report_stamp_changes_with_everything_the_report_says()
        {
            // A target as the task sees it: its path, Release and Arch metadata; its line (hash, raw copy) is in the manifest.
            string?[] T(string path, string hash, string release = "", string arch = "", string? line = "")
                => new[] { path, release, arch, line == "" ? $"target\t{path}\t{hash}\tfalse\t\t\t\t/cache/{hash}.btf" : line };
            var site = new CompatUseSite("App.Program.Use", 0x12, "/app/Program.cs", 7);
            IReadOnlyList<(CompatUse, CompatUseSite)> Uses(params (string use, CompatUseSite site)[] u)
                => u.Select(x => (Use(x.use).WithAccess(CompatAccess.View), x.site)).ToArray();
            const string target = "/t/debian/11/x86_64/5.10.0-46-amd64.btf.tar.xz";
            string dir = Path.Combine(Path.GetTempPath(), "btfstamp-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            string? Of(string package = "p", string build = "/app/vmlinux.btf", string? buildLine = "file\t/app/vmlinux.btf\tBB", string?[][]? targets = null,
                IReadOnlyList<(CompatUse, CompatUseSite)>? uses = null)
            {
                // As WriteCompatReport stamps: the BtfFile, the manifest (its lines as the targets write them), each target, the uses.
                targets ??= new[] { T(target, "AA") };
                string manifest = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".btfrefs");
                var lines = targets.Select(t => t[3]).Prepend(buildLine).Where(l => l != null);
                if (buildLine != null || targets.Length > 0) File.WriteAllText(manifest, string.Concat(lines.Select(l => l + "\n")));
                var stamping = CompatReportStamp.Begin(package, build, manifest, targets.Length);
                foreach (var t in targets) stamping?.AddTarget(t[0]!, t[1], t[2]);
                return stamping?.Finish(uses ?? Uses(("task_struct.pid", site)));
            }

            string? stamp = Of();
            Assert.NotNull(stamp);
            Assert.Equal(stamp, Of());                         // same inputs, same stamp (a rebuild after editing a string)
            var different = new[]
            {
                Of(package: "q"), Of(build: "/app/other.btf"), Of(buildLine: "file\t/app/vmlinux.btf\tBC"),
                Of(targets: new[] { T(target, "AB") }),
                Of(targets: new[] { T(target, "AA", line: $"target\t{target}\tAA\tfalse\t\t\t\t/other/AA.btf") }), // another raw copy
                Of(targets: new[] { T("/t/debian/11/x86_64/5.10.0-47-amd64.btf.tar.xz", "AA") }),
                Of(targets: new[] { T(target, "AA"), T("/t/debian/12/x86_64/6.1.0-1-amd64.btf.tar.xz", "CC") }),
                Of(targets: new[] { T(target, "AA", release: "5.10.0-46-custom") }),
                Of(targets: new[] { T(target, "AA", arch: "aarch64") }),
                Of(targets: Array.Empty<string?[]>()),
                Of(uses: Uses(("task_struct.tgid", site))),
                Of(uses: Uses(("task_struct.pid", site), ("task_struct.tgid", site))),
                Of(uses: Uses(("task_struct.pid", site), ("task_struct.pid", site))),
                Of(uses: Uses(("task_struct.pid", new CompatUseSite("App.Program.Use", 0x12, "/app/Program.cs", 8)))),
                Of(uses: Uses(("task_struct.pid", new CompatUseSite("App.Program.Use", 0x13, "/app/Program.cs", 7)))),
                Of(uses: Uses(("task_struct.pid", new CompatUseSite("App.Program.Other", 0x12, "/app/Program.cs", 7)))),
                Of(uses: Uses(("task_struct.pid", site.AsGuarded()))),
                Of(uses: new[] { (Use("task_struct.pid").WithAccess(CompatAccess.Plain), site) }),
                Of(uses: Uses(("task_struct.pid", new CompatUseSite("App.Program.Use", 0x12, null, 7)))),
                Of(uses: Uses(("task_struct.pid", new CompatUseSite("App.Program.Use", 0x12, "", 7)))),
                Of(uses: Uses()),
            };
            Assert.DoesNotContain(stamp, different);
            Assert.Equal(different.Length, different.Distinct().Count());
            // No manifest to read: no stamp, so the report is always made again.
            Assert.Null(Of(buildLine: null, targets: Array.Empty<string?[]>()));
            Directory.Delete(dir, true);
        }

        [Fact]
        public void A_stamp_file_matches_only_its_exact_content()
        {
            string dir = Path.Combine(Path.GetTempPath(), "btfstamp-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                string file = Path.Combine(dir, CompatReportStamp.FileName);
                const string stamp = "0123456789abcdef";
                Assert.False(CompatReportStamp.Matches(file, stamp)); // none yet
                File.WriteAllText(file, stamp);                       // as the task writes it
                Assert.True(CompatReportStamp.Matches(file, stamp));
                Assert.False(CompatReportStamp.Matches(file, "0123456789abcdee"));
                File.WriteAllText(file, stamp + "\n");
                Assert.False(CompatReportStamp.Matches(file, stamp)); // longer
                File.WriteAllText(file, stamp.Substring(0, 15));
                Assert.False(CompatReportStamp.Matches(file, stamp)); // shorter
                File.WriteAllText(file, "");
                Assert.False(CompatReportStamp.Matches(file, stamp));
                Assert.False(CompatReportStamp.Matches(dir, stamp));  // a folder of that name
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
