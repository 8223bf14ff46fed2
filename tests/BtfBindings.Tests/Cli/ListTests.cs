using System;
using System.Linq;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary><c>btfgen list</c>: names, kinds and sizes, checked against bpftool's JSON of the same file.</summary>
    public class ListTests
    {
        [Fact]
        public void Glob_and_kind_select_the_same_types_bpftool_lists()
        {
            var path = Fixtures.Path("x86_64-6.12");
            var b = Bpftool.Types(path);
            var re = new Regex("^sk_buff.*$");
            var expected = b.All
                .Where(t => t.IsComposite && re.IsMatch(t.Name))
                .Select(t => (t.Id, t.Name, t.Kind.ToLowerInvariant(), t.Size))
                .OrderBy(x => x.Item1).ToList();
            Assert.NotEmpty(expected);
            var r = CliSupport.Check(0, "list", "sk_buff*", "--btf", path, "--kind", "struct,union", "--json");
            using var doc = r.Json();
            var actual = doc.RootElement.EnumerateArray()
                .Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("name").GetString()!, t.GetProperty("kind").GetString()!, t.GetProperty("size").GetInt64()))
                .OrderBy(x => x.Item1).ToList();
            Assert.Equal(expected, actual);

            // Text: one row per type, sorted by name.
            var text = CliSupport.Check(0, "list", "sk_buff*", "--btf", path, "-k", "struct", "-k", "union").StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("KIND", text[0]);
            Assert.Equal(expected.Count, text.Length - 1);
            var names = text.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToList();
            Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), names);
        }

        [Fact]
        public void Typedef_and_func_kinds_with_question_mark_glob()
        {
            var path = Fixtures.Path("aarch64-6.1");
            var b = Bpftool.Types(path);
            var re = new Regex("^u.._t$");
            int typedefs = b.All.Count(t => t.Kind == "TYPEDEF" && re.IsMatch(t.Name));
            var r = CliSupport.Check(0, "list", "u??_t", "--btf", path, "--kind", "typedef", "--json");
            using var doc = r.Json();
            Assert.Equal(typedefs, doc.RootElement.GetArrayLength());
            Assert.Contains(doc.RootElement.EnumerateArray(), t => t.GetProperty("name").GetString() == "u32_t" || t.GetProperty("name").GetString() == "u64_t" || t.GetProperty("size").GetInt64() > 0);

            int funcs = b.All.Count(t => t.Kind == "FUNC" && t.Name.StartsWith("tcp_v4_"));
            using var f = CliSupport.Check(0, "list", "tcp_v4_*", "--btf", path, "--kind", "func", "--json").Json();
            Assert.Equal(funcs, f.RootElement.GetArrayLength());
            Assert.All(f.RootElement.EnumerateArray(), t => Assert.Equal(System.Text.Json.JsonValueKind.Null, t.GetProperty("size").ValueKind));
        }

        [Fact]
        public void Bad_kind_is_a_usage_error()
        {
            var r = CliSupport.Check(2, "list", "--kind", "structs", "--btf", Fixtures.Path("aarch64-6.1"));
            Assert.Contains("unknown kind 'structs'", r.StdErr);
        }
    }
}
