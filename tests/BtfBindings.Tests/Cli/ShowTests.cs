using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// <c>btfgen show</c> against Debian's pahole 1.24 (<c>pahole -F btf -C TYPE</c>) on the same BTF: every member's
    /// offset, size and bitfield offset, every hole and bit hole, and the summary numbers. Numbers are parsed from
    /// pahole's text and compared with btfgen's JSON; text layout is not compared.
    /// </summary>
    public class ShowTests
    {
        private readonly ITestOutputHelper _out;
        public ShowTests(ITestOutputHelper output) { _out = output; }

        private sealed record Entry(string Name, long Offset, long Size, int? BitfieldOffset, int Hole, int BitHole, int StructPadding, string Line);

        private sealed class Parsed
        {
            public List<Entry> Entries = new List<Entry>();
            public Dictionary<string, long> Summary = new Dictionary<string, long>();
        }

        private static readonly Regex OffsetComment = new Regex(@"/\*\s+(\d+)(?::\s*(\d+))?\s+(\d+)\s+\*/\s*$");
        private static readonly Regex Hole = new Regex(@"/\* XXX (-?\d+) (byte|bit)s? hole");
        private static readonly Regex Padding = new Regex(@"/\* XXX last struct has (\d+) bytes? of padding");

        private static Parsed ParsePahole(string text)
        {
            var p = new Parsed();
            var lines = text.Split('\n');
            foreach (var raw in lines)
            {
                var line = raw.Trim();
                if (line.StartsWith("/* size:", StringComparison.Ordinal) || line.StartsWith("/* sum ", StringComparison.Ordinal) || line.StartsWith("/* padding:", StringComparison.Ordinal)
                    || line.StartsWith("/* paddings:", StringComparison.Ordinal) || line.StartsWith("/* bit_padding:", StringComparison.Ordinal) || line.StartsWith("/* forced alignments:", StringComparison.Ordinal))
                {
                    foreach (Match m in Regex.Matches(line, @"([a-z_ ]+): (\d+)"))
                        p.Summary[m.Groups[1].Value.Trim()] = long.Parse(m.Groups[2].Value);
                    continue;
                }
                var h = Hole.Match(line);
                if (h.Success && p.Entries.Count > 0)
                {
                    var last = p.Entries[^1];
                    p.Entries[^1] = h.Groups[2].Value == "byte" ? last with { Hole = int.Parse(h.Groups[1].Value) } : last with { BitHole = int.Parse(h.Groups[1].Value) };
                    continue;
                }
                var pad = Padding.Match(line);
                if (pad.Success && p.Entries.Count > 0) { p.Entries[^1] = p.Entries[^1] with { StructPadding = int.Parse(pad.Groups[1].Value) }; continue; }
                var c = OffsetComment.Match(line);
                if (!c.Success) continue;
                p.Entries.Add(new Entry("", long.Parse(c.Groups[1].Value), long.Parse(c.Groups[3].Value),
                    c.Groups[2].Success ? int.Parse(c.Groups[2].Value) : null, 0, 0, 0, line));
            }
            return p;
        }

        /// <summary>btfgen's members in pahole's print order: an inline struct/union's members, then its closing line.</summary>
        private static void Flatten(JsonElement members, List<Entry> into)
        {
            foreach (var m in members.EnumerateArray())
            {
                if (m.TryGetProperty("members", out var inner)) Flatten(inner, into);
                into.Add(new Entry(m.GetProperty("name").GetString()!, m.GetProperty("offset").GetInt64(), m.GetProperty("size").GetInt64(),
                    m.TryGetProperty("bitfield_offset", out var bo) ? bo.GetInt32() : null,
                    Math.Max(0, m.GetProperty("hole").GetInt32()), m.GetProperty("bit_hole").GetInt32(),
                    m.TryGetProperty("member_type_padding", out var mp) ? mp.GetInt32() : 0, ""));
            }
        }

        public static IEnumerable<object[]> Cases()
        {
            foreach (var k in new[] { "aarch64-6.1", "x86_64-5.10" })
                foreach (var t in new[] { "task_struct", "sk_buff", "iphdr", "tcp_sock", "net_device", "inode", "page", "mm_struct", "sock" })
                    yield return new object[] { k, t };
            yield return new object[] { "i686-6.1", "task_struct" };
            yield return new object[] { "i686-6.1", "sk_buff" };
            yield return new object[] { "armhf-6.1", "sk_buff" };
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Numbers_match_pahole(string kernel, string type)
        {
            var path = Fixtures.Path(kernel);
            var pahole = ProcessRunner.Check("pahole", ["-F", "btf", "-C", type, path]).StdOut;
            var expected = ParsePahole(pahole);
            Assert.True(expected.Entries.Count > 0, "pahole printed nothing for " + type);

            var r = CliSupport.Check(0, "show", type, "--btf", path, "--json");
            using var doc = r.Json();
            var t = doc.RootElement[0];
            var actual = new List<Entry>();
            Flatten(t.GetProperty("members"), actual);

            Assert.Equal(expected.Entries.Count, actual.Count);
            for (int i = 0; i < actual.Count; i++)
            {
                var e = expected.Entries[i];
                var a = actual[i];
                string where = $"{kernel} {type} entry {i} ('{a.Name}', pahole: {e.Line})";
                if (a.Name.Length > 0) Assert.True(Regex.IsMatch(e.Line, @"\b" + Regex.Escape(a.Name) + @"\b"), where + ": name not on pahole's line");
                Assert.True(e.Offset == a.Offset, $"{where}: offset {a.Offset}, pahole {e.Offset}");
                Assert.True(e.Size == a.Size, $"{where}: size {a.Size}, pahole {e.Size}");
                Assert.True(e.BitfieldOffset == a.BitfieldOffset, $"{where}: bitfield offset {a.BitfieldOffset}, pahole {e.BitfieldOffset}");
                Assert.True(e.Hole == a.Hole, $"{where}: hole {a.Hole}, pahole {e.Hole}");
                Assert.True(e.BitHole == a.BitHole, $"{where}: bit hole {a.BitHole}, pahole {e.BitHole}");
                Assert.True(e.StructPadding == a.StructPadding, $"{where}: member struct padding {a.StructPadding}, pahole {e.StructPadding}");
            }

            long Get(string k) => expected.Summary.TryGetValue(k, out var v) ? v : 0;
            Assert.Equal(Get("size"), t.GetProperty("size").GetInt64());
            Assert.Equal(Get("cachelines"), t.GetProperty("cachelines").GetInt64());
            Assert.Equal(Get("members"), t.GetProperty("nr_members").GetInt64());
            if (expected.Summary.ContainsKey("sum holes"))
            {
                Assert.Equal(Get("sum members"), t.GetProperty("sum_members").GetInt64());
                Assert.Equal(Get("holes"), t.GetProperty("holes").GetInt64());
                Assert.Equal(Get("sum holes"), t.GetProperty("sum_holes").GetInt64());
            }
            else Assert.Equal(0, t.GetProperty("sum_holes").GetInt64());
            if (expected.Summary.ContainsKey("sum bit holes"))
            {
                Assert.Equal(Get("sum bitfield members"), t.GetProperty("sum_bitfield_members").GetInt64());
                Assert.Equal(Get("bit holes"), t.GetProperty("bit_holes").GetInt64());
                Assert.Equal(Get("sum bit holes"), t.GetProperty("sum_bit_holes").GetInt64());
            }
            Assert.Equal(Get("padding"), t.GetProperty("padding").GetInt64());
            Assert.Equal(Get("paddings"), t.GetProperty("paddings").GetInt64());
            Assert.Equal(Get("sum paddings"), t.GetProperty("sum_paddings").GetInt64());
            Assert.Equal(Get("bit_padding"), t.GetProperty("bit_padding").GetInt64());

            // The text form carries the same numbers in pahole's notation.
            var text = ParsePahole(CliSupport.Check(0, "show", type, "--btf", path).StdOut);
            Assert.Equal(expected.Entries.Select(x => (x.Offset, x.Size, x.BitfieldOffset, x.Hole, x.BitHole)), text.Entries.Select(x => (x.Offset, x.Size, x.BitfieldOffset, x.Hole, x.BitHole)));
            Assert.Equal(expected.Summary.OrderBy(k => k.Key), text.Summary.OrderBy(k => k.Key));
            _out.WriteLine($"{kernel} {type}: {actual.Count} members compared with pahole ({actual.Count(x => x.BitfieldOffset != null)} bitfields, {actual.Count(x => x.Hole > 0)} holes, {actual.Count(x => x.BitHole != 0)} bit holes)");
        }

        [Fact]
        public void Unknown_type_exits_1_with_suggestions_and_enum_shows_values()
        {
            var r = CliSupport.Check(1, "show", "sk_buf", "--btf", Fixtures.Path("aarch64-6.1"));
            Assert.Contains("did you mean: sk_buff", r.StdErr);
            var e = CliSupport.Check(0, "show", "pid_type", "--btf", Fixtures.Path("aarch64-6.1"), "--json");
            using var doc = e.Json();
            Assert.Equal("enum", doc.RootElement[0].GetProperty("kind").GetString());
            Assert.Contains(doc.RootElement[0].GetProperty("values").EnumerateArray(), v => v.GetProperty("name").GetString() == "PIDTYPE_PID" && v.GetProperty("value").GetInt64() == 0);
        }
    }
}
