using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// <c>btfgen diff</c> on two real kernels (Debian's 5.10 and 6.12 x86-64 BTF). The expected differences are worked out
    /// independently from bpftool's JSON dumps of both files: fields reached as in C (anonymous members flattened,
    /// members of a named member of anonymous type as <c>member.field</c>), keyed by name.
    /// </summary>
    public class DiffTests
    {
        private readonly ITestOutputHelper _out;
        public DiffTests(ITestOutputHelper output) { _out = output; }

        [Theory]
        [InlineData("task_struct")]
        [InlineData("sk_buff")]
        [InlineData("iphdr")]
        [InlineData("net_device")]
        public void Differences_between_5_10_and_6_12_match_bpftool(string type)
        {
            string oldPath = Fixtures.Path("x86_64-5.10"), newPath = Fixtures.Path("x86_64-6.12");
            var oldB = Bpftool.Types(oldPath);
            var newB = Bpftool.Types(newPath);
            var oldT = oldB.Composite(type);
            var newT = newB.Composite(type);
            var oldF = First(CliSupport.Flatten(oldB, oldT));
            var newF = First(CliSupport.Flatten(newB, newT));
            var expected = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (var (path, f) in oldF)
            {
                if (!newF.TryGetValue(path, out var g)) { expected[path] = new SortedSet<string> { "removed" }; continue; }
                var c = new SortedSet<string>();
                if (f.BitOffset != g.BitOffset) c.Add("moved");
                if (f.BitSize != g.BitSize || f.Bitfield != g.Bitfield) c.Add("resized");
                if (c.Count > 0) expected[path] = c;
            }
            foreach (var path in newF.Keys) if (!oldF.ContainsKey(path)) expected[path] = new SortedSet<string> { "added" };
            long oldSize = oldT.Size, newSize = newT.Size;
            bool expectDiff = expected.Count > 0 || oldSize != newSize;

            var r = CliSupport.Check(expectDiff ? 1 : 0, "diff", oldPath, newPath, type, "--json");
            using var doc = r.Json();
            var td = doc.RootElement.GetProperty("types").EnumerateArray().Single();
            Assert.Equal(type, td.GetProperty("name").GetString());
            Assert.Equal(oldSize, td.GetProperty("old_size").GetInt64());
            Assert.Equal(newSize, td.GetProperty("new_size").GetInt64());
            var actual = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (var f in td.GetProperty("fields").EnumerateArray())
            {
                var c = new SortedSet<string>(f.GetProperty("changes").EnumerateArray().Select(x => x.GetString()!).Where(x => x != "retyped"));
                string name = f.GetProperty("name").GetString()!;
                if (c.Count > 0) actual[name] = c;
                // Offsets and sizes reported are bpftool's numbers.
                if (f.GetProperty("old").ValueKind == JsonValueKind.Object)
                {
                    Assert.Equal(oldF[name].BitOffset, f.GetProperty("old").GetProperty("bit_offset").GetInt64());
                    Assert.Equal(oldF[name].BitSize, f.GetProperty("old").GetProperty("bit_size").GetInt64());
                }
                if (f.GetProperty("new").ValueKind == JsonValueKind.Object)
                {
                    Assert.Equal(newF[name].BitOffset, f.GetProperty("new").GetProperty("bit_offset").GetInt64());
                    Assert.Equal(newF[name].BitSize, f.GetProperty("new").GetProperty("bit_size").GetInt64());
                }
            }
            var missing = expected.Where(kv => !actual.TryGetValue(kv.Key, out var a) || !a.SetEquals(kv.Value)).Select(kv => $"{kv.Key}: expected {string.Join(",", kv.Value)}, got {(actual.TryGetValue(kv.Key, out var a2) ? string.Join(",", a2) : "nothing")}").ToList();
            var extra = actual.Keys.Where(k => !expected.ContainsKey(k)).Select(k => $"{k}: unexpected {string.Join(",", actual[k])}").ToList();
            Assert.True(missing.Count == 0 && extra.Count == 0, string.Join("\n", missing.Concat(extra).Take(30)));

            // The table carries the same story.
            var text = CliSupport.Check(expectDiff ? 1 : 0, "diff", oldPath, newPath, type).StdOut;
            foreach (var kv in expected.Take(50)) Assert.Contains(" " + kv.Key + " ", text);
            _out.WriteLine($"{type}: {oldF.Count} -> {newF.Count} fields; {expected.Count(e => e.Value.Contains("added"))} added, {expected.Count(e => e.Value.Contains("removed"))} removed, {expected.Count(e => e.Value.Contains("moved"))} moved, {expected.Count(e => e.Value.Contains("resized"))} resized (size {oldSize} -> {newSize})");
        }

        private static Dictionary<string, CliSupport.Field> First(List<CliSupport.Field> fields)
        {
            var d = new Dictionary<string, CliSupport.Field>(StringComparer.Ordinal);
            foreach (var f in fields) d.TryAdd(f.Path, f);
            return d;
        }

        [Fact]
        public void Same_kernel_exits_0_and_errors_exit_2()
        {
            var p = Fixtures.Path("x86_64-6.12");
            var r = CliSupport.Check(0, "diff", p, p, "task_struct", "sk_buff", "--json");
            using (var doc = r.Json())
            {
                Assert.Equal(0, doc.RootElement.GetProperty("differences").GetInt32());
                Assert.All(doc.RootElement.GetProperty("types").EnumerateArray(), t => Assert.Equal("unchanged", t.GetProperty("status").GetString()));
            }
            CliSupport.Check(2, "diff", p, "/nonexistent.btf", "task_struct");
            var u = CliSupport.Check(2, "diff", p, p, "no_such_struct_xyz");
            Assert.Contains("no_such_struct_xyz", u.StdErr);
            CliSupport.Check(2, "diff", p); // usage error
        }

        [Fact]
        public void Type_present_in_one_kernel_only_is_added_or_removed()
        {
            // struct sched_statistics is embedded in task_struct only since 5.16; bpf_run_ctx appeared in 5.15.
            var r = CliSupport.Check(1, "diff", Fixtures.Path("x86_64-5.10"), Fixtures.Path("x86_64-6.12"), "bpf_run_ctx", "--json");
            using var doc = r.Json();
            Assert.Equal("added", doc.RootElement.GetProperty("types")[0].GetProperty("status").GetString());
        }
    }
}
