using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// The hand-written C# twins in RuntimeTypes.cs against the truth: bpftool's dump of the object's BTF (struct sizes,
    /// member offsets, bitfield positions) and the ELF symbol table (where clang put each global in its section, since
    /// the object's DATASECs only get offsets when libbpf opens it).
    /// </summary>
    public class LayoutTests
    {
        private static readonly Lazy<Dictionary<string, (int size, Dictionary<string, (int bit, int bits)> members)>> Btf = new(() =>
        {
            var dump = Bpftool.Dump(BpfTestSupport.Object("maps_globals")).StdOut;
            var types = new Dictionary<string, (int, Dictionary<string, (int, int)>)>();
            Dictionary<string, (int, int)>? current = null;
            foreach (var line in dump.Split('\n'))
            {
                var t = Regex.Match(line, @"^\[\d+\] (?:STRUCT|UNION) '(\w+)' size=(\d+)");
                if (t.Success) { current = new(); types[t.Groups[1].Value] = (int.Parse(t.Groups[2].Value), current); continue; }
                if (!line.StartsWith('\t')) { current = null; continue; }
                var m = Regex.Match(line, @"^\t'(\w+)' type_id=\d+ bits_offset=(\d+)(?: bitfield_size=(\d+))?");
                if (m.Success && current != null)
                    current[m.Groups[1].Value] = (int.Parse(m.Groups[2].Value), m.Groups[3].Success ? int.Parse(m.Groups[3].Value) : 0);
            }
            return types;
        });

        private static (int size, Dictionary<string, (int bit, int bits)> members) Struct(string name) =>
            Btf.Value.TryGetValue(name, out var s) ? s : throw new Xunit.Sdk.XunitException($"bpftool shows no struct '{name}'");

        [Fact]
        public void Sample_with_bitfields_and_union_matches_the_btf()
        {
            var (size, m) = Struct("sample");
            Assert.Equal(size, Marshal.SizeOf<Sample>());
            Assert.Equal((0, 0), m["id"]);
            Assert.Equal((Sample.KindBit, Sample.KindBits), m["kind"]);
            Assert.Equal((Sample.FlagsBit, Sample.FlagsBits), m["flags"]);
            Assert.Equal((Sample.DeltaBit, Sample.DeltaBits), m["delta"]);
            Assert.Equal((Sample.WideBit, Sample.WideBits), m["wide"]);
            Assert.Equal(Sample.UnitOffset, (int)Marshal.OffsetOf<Sample>(nameof(Sample.Bits)));
            Assert.Equal(m["payload"].bit / 8, (int)Marshal.OffsetOf<Sample>(nameof(Sample.PayloadU64)));
            Assert.Equal(m["tag"].bit / 8, (int)Marshal.OffsetOf<Sample>(nameof(Sample.Tag)));
            Assert.Equal(m["small"].bit / 8, (int)Marshal.OffsetOf<Sample>(nameof(Sample.Small)));
        }

        [Theory]
        [InlineData("sample_fields", typeof(SampleFields))]
        [InlineData("small_value", typeof(SmallValue))]
        [InlineData("event", typeof(Event))]
        public void Plain_structs_match_the_btf(string c, Type cs)
        {
            var (size, members) = Struct(c);
            Assert.Equal(size, Marshal.SizeOf(cs));
            var fields = cs.GetFields().Where(f => !f.IsStatic).ToArray();
            Assert.Equal(members.Count, fields.Length);
            foreach (var f in fields)
            {
                var (bit, bits) = members[Snake(f.Name)];
                Assert.Equal(0, bits);
                Assert.Equal(bit / 8, (int)Marshal.OffsetOf(cs, f.Name));
            }
        }

        [Theory]
        [InlineData(".rodata", typeof(Rodata))]
        [InlineData(".data", typeof(Data))]
        [InlineData(".bss", typeof(Bss))]
        public void Global_sections_match_the_elf_symbols(string section, Type cs)
        {
            var elf = ProcessRunner.Check("llvm-readelf", new[] { "-S", "-s", "-W", BpfTestSupport.Object("maps_globals") }).StdOut;
            var sec = Regex.Match(elf, @"\[\s*(\d+)\]\s+" + Regex.Escape(section) + @"\s+\w+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)");
            Assert.True(sec.Success, $"no section {section}");
            int index = int.Parse(sec.Groups[1].Value), sectionSize = Convert.ToInt32(sec.Groups[2].Value, 16);
            var symbols = Regex.Matches(elf, @"^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+OBJECT\s+GLOBAL\s+\w+\s+" + index + @"\s+(\w+)\s*$", RegexOptions.Multiline)
                .ToDictionary(s => s.Groups[3].Value, s => (offset: Convert.ToInt32(s.Groups[1].Value, 16), size: int.Parse(s.Groups[2].Value)));
            var fields = cs.GetFields().Where(f => !f.IsStatic).ToArray();
            Assert.Equal(symbols.Keys.OrderBy(k => k), fields.Select(f => Snake(f.Name)).OrderBy(k => k));
            foreach (var f in fields)
            {
                var (offset, size) = symbols[Snake(f.Name)];
                Assert.Equal(offset, (int)Marshal.OffsetOf(cs, f.Name));
                Assert.Equal(size, Marshal.SizeOf(f.FieldType));
            }
            // BpfMap.Global accepts the section size or up to 7 bytes of C# tail padding.
            Assert.InRange(Marshal.SizeOf(cs), sectionSize, (sectionSize + 7) & ~7);
        }

        private static string Snake(string pascal) => Regex.Replace(pascal, "(?<=[a-z0-9])([A-Z])", "_$1").ToLowerInvariant();
    }
}
