using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>The type model: lookups, CO-RE candidates, split BTF numbering, thread safety.</summary>
    public class ModelTests
    {
        public static IEnumerable<object[]> KernelData() => Fixtures.Kernels.Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(KernelData))]
        public void Find_types_finds_task_struct_and_counts_match_bpftool(string kernel)
        {
            var btf = BtfSupport.Kernel(kernel);
            var found = btf.FindTypes("task_struct", BtfKind.Struct);
            Assert.Single(found);
            var ts = found[0];
            Assert.Equal("task_struct", ts.Name);
            Assert.Equal(BtfKind.Struct, ts.Kind);
            Assert.True(ts.Size > 1000, $"task_struct size {ts.Size}");
            Assert.Contains(ts.Members, m => m.Name == "pid");
            Assert.Contains(ts.Members, m => m.Name == "comm");
            // Without a kind filter the same name may also be a FWD; every hit is named task_struct.
            Assert.All(btf.FindTypes("task_struct"), t => Assert.Equal("task_struct", t.Name));
            Assert.Equal(ts, btf.FindType("task_struct", BtfKind.Struct));
            Assert.Empty(btf.FindTypes("task_struct", BtfKind.Union));
            Assert.Empty(btf.FindTypes("no_such_type_xyzzy"));
            Assert.Empty(btf.FindTypes(""));

            var text = BtfSupport.BpftoolDump(kernel, json: false);
            Assert.Equal(BtfSupport.CountTypeLines(text), btf.TypeCount - 1);
            Assert.Equal(btf.TypeCount - 1, btf.Types.Count());
            // bpftool's line for task_struct has the same id.
            var line = Encoding.UTF8.GetString(text).Split('\n').Single(l => l.StartsWith("[", StringComparison.Ordinal) && l.Contains("] STRUCT 'task_struct' "));
            Assert.StartsWith($"[{ts.Id}] ", line);
        }

        [Theory]
        [MemberData(nameof(KernelData))]
        public void Find_types_agrees_with_a_linear_scan(string kernel)
        {
            var btf = BtfSupport.Kernel(kernel);
            var byName = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            foreach (var t in btf.Types)
            {
                if (t.IsAnonymous) continue;
                if (!byName.TryGetValue(t.Name, out var l)) byName[t.Name] = l = new List<int>();
                l.Add(t.Id);
            }
            // Every name, plus some that do not exist.
            var names = byName.Keys.Concat(new[] { "no_such_name", "task_struct_", "task_struc", "x" }).Distinct();
            foreach (var name in names)
            {
                var expected = byName.TryGetValue(name, out var ids) ? ids : new List<int>();
                var actual = btf.FindTypes(name).Select(t => t.Id).ToList();
                Assert.True(expected.SequenceEqual(actual), $"{kernel}: FindTypes(\"{name}\") = [{string.Join(",", actual)}], scan = [{string.Join(",", expected)}]");
                // By kind too: data types come from the index built while parsing, functions and variables from the one built on demand.
                foreach (var kind in expected.Select(id => btf[id].Kind).Distinct())
                {
                    var want = expected.Where(id => btf[id].Kind == kind);
                    var got = btf.FindTypes(name, kind).Select(t => t.Id).ToList();
                    Assert.True(want.SequenceEqual(got), $"{kernel}: FindTypes(\"{name}\", {kind}) = [{string.Join(",", got)}], scan = [{string.Join(",", want)}]");
                }
            }
        }

        [Theory]
        [InlineData("task_struct___v2", "task_struct")]
        [InlineData("a___b___c", "a___b")]
        [InlineData("foo____bar", "foo____bar")]
        [InlineData("a_____b", "a_____b")]
        [InlineData("foo___", "foo___")]
        [InlineData("___foo", "___foo")]
        [InlineData("foo__bar", "foo__bar")]
        [InlineData("task_struct", "task_struct")]
        [InlineData("x___y", "x")]
        [InlineData("", "")]
        [InlineData("ab", "ab")]
        public void Essential_name_follows_libbpf(string name, string essential)
        {
            Assert.Equal(essential, FlavorRules.EssentialName(name));
            Assert.Equal(Encoding.UTF8.GetByteCount(essential), FlavorRules.EssentialLength(Encoding.UTF8.GetBytes(name)));
        }

        [Fact]
        public void Find_core_candidates_uses_essential_names_and_compatible_kinds()
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            int ts = b.AddComposite(BtfKind.Struct, "task_struct", 4, ("pid", i32, 0, 0));
            int tsV2 = b.AddComposite(BtfKind.Struct, "task_struct___v2", 4, ("pid", i32, 0, 0));
            int tsOld = b.AddComposite(BtfKind.Struct, "task_struct___old___x", 4, ("pid", i32, 0, 0)); // essential: task_struct___old
            int tsUnion = b.AddComposite(BtfKind.Union, "task_struct___u", 4, ("pid", i32, 0, 0));
            int tsFwd = b.AddFwd("task_struct");
            int under = b.AddComposite(BtfKind.Struct, "task_struct____4", 4, ("pid", i32, 0, 0)); // four underscores: not a flavor
            int e32 = b.AddEnum("state", 4, false, false, ("A", 1));
            int e64 = b.AddEnum("state___new", 8, false, true, ("B", 1L << 40));
            var btf = Btf.Parse(b.ToArray(), "core.btf");

            Assert.Equal(new[] { ts, tsV2 }, btf.FindCoreCandidates("task_struct", BtfKind.Struct).Select(t => t.Id));
            Assert.Equal(new[] { ts, tsV2 }, btf.FindCoreCandidates("task_struct___mine", BtfKind.Struct).Select(t => t.Id));
            // The local name is reduced too: task_struct___old is looked up as task_struct (libbpf does the same).
            Assert.Equal(new[] { ts, tsV2 }, btf.FindCoreCandidates("task_struct___old", BtfKind.Struct).Select(t => t.Id));
            Assert.Equal(new[] { tsOld }, btf.FindCoreCandidates("task_struct___old___y", BtfKind.Struct).Select(t => t.Id));
            Assert.Equal(new[] { tsUnion }, btf.FindCoreCandidates("task_struct", BtfKind.Union).Select(t => t.Id));
            Assert.Equal(new[] { tsFwd }, btf.FindCoreCandidates("task_struct", BtfKind.Fwd).Select(t => t.Id));
            Assert.Equal(new[] { under }, btf.FindCoreCandidates("task_struct____4", BtfKind.Struct).Select(t => t.Id));
            Assert.Equal(new[] { e32, e64 }, btf.FindCoreCandidates("state", BtfKind.Enum).Select(t => t.Id));
            Assert.Equal(new[] { e32, e64 }, btf.FindCoreCandidates("state___x", BtfKind.Enum64).Select(t => t.Id));
            Assert.Empty(btf.FindCoreCandidates("task", BtfKind.Struct));
            // FindTypes stays exact.
            Assert.Equal(new[] { tsV2 }, btf.FindTypes("task_struct___v2").Select(t => t.Id));
        }

        [Fact]
        public void Find_core_candidates_on_a_real_kernel()
        {
            var btf = BtfSupport.Kernel("x86_64-6.12");
            var expected = btf.FindTypes("task_struct", BtfKind.Struct).Select(t => t.Id).ToList();
            Assert.Equal(expected, btf.FindCoreCandidates("task_struct___v2", BtfKind.Struct).Select(t => t.Id));
            // Any kernel name with a flavor suffix must be a candidate for its essential name.
            var flavored = btf.Types.Where(t => !t.IsAnonymous && t.IsComposite && FlavorRules.EssentialName(t.Name) != t.Name).Take(20).ToList();
            foreach (var t in flavored)
                Assert.Contains(t.Id, btf.FindCoreCandidates(FlavorRules.EssentialName(t.Name), t.Kind).Select(x => x.Id));
        }

        public static IEnumerable<object[]> ModuleData() => Fixtures.Modules.Select(m => new object[] { m.module, m.baseKernel });

        [Theory]
        [MemberData(nameof(ModuleData))]
        public void Split_btf_ids_continue_after_the_base_and_lookups_see_both(string module, string baseKernel)
        {
            var baseBtf = BtfSupport.Kernel(baseKernel);
            var mod = BtfSupport.Module(module, baseKernel);
            Assert.Same(baseBtf, mod.Base);
            Assert.Equal(baseBtf.TypeCount, mod.FirstTypeId);
            Assert.True(mod.TypeCount > mod.FirstTypeId);
            Assert.Equal(mod.TypeCount - mod.FirstTypeId, mod.Types.Count());
            Assert.Equal(mod.FirstTypeId, mod.Types.First().Id);
            Assert.Equal(baseBtf.PointerSize, mod.PointerSize);

            // Base ids resolve through the module to the very same base types.
            var baseTs = baseBtf.FindTypes("task_struct", BtfKind.Struct).Single();
            Assert.Equal(baseTs, mod[baseTs.Id]);
            Assert.Same(baseBtf, mod[baseTs.Id].Btf);
            Assert.Equal(baseTs.Id, mod.FindTypes("task_struct", BtfKind.Struct).Single().Id);
            Assert.Throws<BtfException>(() => mod[mod.TypeCount]);

            // Every named module type is found through the module, and some of them reference base types.
            int refsToBase = 0;
            foreach (var t in mod.Types)
            {
                Assert.Same(mod, t.Btf);
                if (!t.IsAnonymous)
                    Assert.Contains(t.Id, mod.FindTypes(t.Name, t.Kind).Select(x => x.Id));
                refsToBase += mod.GetReferencedIds(t.Id).Count(r => r < mod.FirstTypeId);
            }
            Assert.True(refsToBase > 0);

            // A module-only struct is not in the base; a module name found through the module has a module id.
            var own = mod.Types.First(t => t.Kind == BtfKind.Struct && !t.IsAnonymous && baseBtf.FindTypes(t.Name).Count == 0);
            var hit = Assert.Single(mod.FindTypes(own.Name, BtfKind.Struct));
            Assert.True(hit.Id >= mod.FirstTypeId);
            Assert.Empty(baseBtf.FindTypes(own.Name));
        }

        [Fact]
        public async Task Parallel_lookups_on_one_instance_give_identical_results()
        {
            // A fresh instance, so the lazily built CO-RE index is raced for too.
            var btf = Btf.Load(Fixtures.Path("aarch64-6.1"));
            var names = btf.Types.Where(t => !t.IsAnonymous).Select(t => t.Name).Distinct().Where((_, i) => i % 97 == 0).Take(400).ToArray();
            string Snapshot()
            {
                var sb = new StringBuilder();
                foreach (var n in names)
                {
                    foreach (var t in btf.FindTypes(n)) sb.Append(t.Id).Append(',');
                    sb.Append('|');
                    foreach (var t in btf.FindCoreCandidates(n + "___flavor", BtfKind.Struct)) sb.Append(t.Id).Append(',');
                    sb.Append('|');
                    var first = btf.FindTypes(n);
                    if (first.Count > 0)
                    {
                        int id = first[0].Id;
                        try { sb.Append(btf.ResolveSize(id)); } catch (BtfException) { sb.Append('E'); }
                        try { sb.Append('/').Append(btf.AlignOf(id)); } catch (BtfException) { sb.Append("/E"); }
                        sb.Append('/').Append(btf.Skip(id)).Append('/').Append(btf[id].Name);
                    }
                    sb.Append('\n');
                }
                return sb.ToString();
            }
            using var start = new ManualResetEventSlim(false);
            var tasks = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() => { start.Wait(); return Snapshot(); }, TaskCreationOptions.LongRunning)).ToArray();
            start.Set();
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120));
            var reference = Snapshot();
            foreach (var t in tasks) Assert.Equal(reference, await t);
            Assert.True(names.Length > 100);
        }
    }
}
