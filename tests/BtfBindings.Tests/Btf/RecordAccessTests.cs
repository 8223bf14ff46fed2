using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>
    /// Every type's name, kind and vlen read through the public API (the fast paths: a record's offset kept in
    /// <see cref="BtfType"/>, a name's length found with one vector compare when 32 bytes can be read, else a search)
    /// against the same fields decoded here straight from the file's bytes. Loaded from the file (a pooled buffer,
    /// usually longer than the data) and parsed from an exactly sized array, so names in the last 32 bytes take the
    /// search path.
    /// </summary>
    public class RecordAccessTests
    {
        public static IEnumerable<object[]> KernelData() => Fixtures.Kernels.Select(k => new object[] { k });

        [Theory]
        [MemberData(nameof(KernelData))]
        public void Names_kinds_and_vlens_are_the_file_bytes(string kernel)
        {
            var raw = Fixtures.Bytes(kernel);
            var expected = Decode(raw);
            using (var loaded = Btf.Load(Fixtures.Path(kernel))) Check(loaded, expected);
            using (var parsed = Btf.Parse(raw, kernel)) Check(parsed, expected);
        }

        [Fact]
        public void A_name_ending_the_data_is_read_in_full()
        {
            // A blob whose strings end exactly at the end of the array: a name longer than the 32-byte probe, then a short
            // one with fewer than 32 bytes after its start.
            var b = new BtfBuilder();
            int id = b.AddInt("a_name_long_enough_to_cross_32_bytes_x", 4, BtfIntEncoding.Signed);
            int last = b.AddInt("short", 2);
            var bytes = b.ToArray();
            using var btf = Btf.Parse(bytes, "tail");
            Assert.Equal("a_name_long_enough_to_cross_32_bytes_x", btf[id].Name);
            Assert.Equal("a_name_long_enough_to_cross_32_bytes_x".Length, btf.StringLengthOf(btf[id].NameOffset));
            Assert.Equal("short", btf[last].Name);
            Assert.Equal(5, btf.StringLengthOf(btf[last].NameOffset));
            Assert.Equal(0, btf.StringLengthOf(0));
        }

        private static void Check(Btf btf, List<(string name, int kind, int vlen)> expected)
        {
            Assert.Equal(expected.Count, btf.TypeCount - 1);
            for (int id = 1; id < btf.TypeCount; id++)
            {
                var t = btf[id];
                var (name, kind, vlen) = expected[id - 1];
                if (t.Name != name || (int)t.Kind != kind || t.Vlen != vlen || btf.StringLengthOf(t.NameOffset) != System.Text.Encoding.UTF8.GetByteCount(name))
                    Assert.Fail($"[{id}] read '{t.Name}' {t.Kind} vlen {t.Vlen} (length {btf.StringLengthOf(t.NameOffset)}), file has '{name}' kind {kind} vlen {vlen}");
            }
        }

        /// <summary>The records' names, kinds and vlens, from the header, type and string sections of a raw BTF file.</summary>
        private static List<(string, int, int)> Decode(byte[] d)
        {
            bool be = d[0] == 0xEB;
            uint U(int o) => be ? BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(o)) : BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(o));
            int hdr = (int)U(4), typeOff = (int)U(8), typeLen = (int)U(12), strOff = (int)U(16);
            var list = new List<(string, int, int)>();
            for (int p = hdr + typeOff, end = hdr + typeOff + typeLen; p < end;)
            {
                uint nameOff = U(p), info = U(p + 4);
                int kind = (int)((info >> 24) & 0x7f), vlen = (int)(info & 0xffff_ff);
                int s = hdr + strOff + (int)nameOff, e = Array.IndexOf(d, (byte)0, s);
                list.Add((System.Text.Encoding.UTF8.GetString(d, s, e - s), kind, vlen));
                p += 12 + kind switch
                {
                    1 => 4, 3 => 12, 4 or 5 => 12 * vlen, 6 => 8 * vlen, 13 => 8 * vlen, 14 => 4, 15 => 12 * vlen, 17 => 4, 19 => 12 * vlen,
                    _ => 0,
                };
            }
            return list;
        }
    }
}
