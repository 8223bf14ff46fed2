using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Support.BtfSupport;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>Corrupt and hostile input: every failure is a BtfException that says what is wrong and where.</summary>
    public class BadInputTests
    {
        // ---- a small valid BTF whose record layout is known ------------------------------------------

        /// <summary>Small BTF: ids 1..8, with the byte offset (in the blob) and size of each record.</summary>
        internal sealed class Small
        {
            public byte[] Bytes = Array.Empty<byte>();
            public readonly List<(int id, int offset, int size)> Records = new List<(int, int, int)>();
            public int TypeLen => Records.Sum(r => r.size);
            public int Offset(int id) => Records.Single(r => r.id == id).offset;
        }

        internal static Small BuildSmall()
        {
            var s = new Small();
            var b = new BtfBuilder();
            int off = 24;
            void Rec(int id, int size) { s.Records.Add((id, off, size)); off += size; }
            Rec(b.AddInt("int", 4, BtfIntEncoding.Signed), 16);                                 // 1
            Rec(b.AddRef(BtfKind.Ptr, 1), 12);                                                   // 2
            Rec(b.AddComposite(BtfKind.Struct, "s", 16, ("a", 1, 0, 0), ("p", 2, 64, 0)), 36);   // 3
            Rec(b.AddArray(1, 1, 4), 24);                                                        // 4
            Rec(b.AddFuncProto(1, ("x", 1)), 20);                                                // 5
            Rec(b.AddFunc("f", 5, BtfLinkage.Global), 12);                                       // 6
            Rec(b.AddEnum("e", 4, false, false, ("A", 1), ("B", 2)), 28);                        // 7
            Rec(b.AddRef(BtfKind.Typedef, 3, "t"), 12);                                          // 8
            s.Bytes = b.ToArray();
            return s;
        }

        [Fact]
        public void Small_btf_is_valid_and_laid_out_as_expected()
        {
            var s = BuildSmall();
            Assert.Equal((uint)s.TypeLen, GetU32(s.Bytes, 12));
            var btf = Btf.Parse((byte[])s.Bytes.Clone(), "small.btf");
            Assert.Equal(9, btf.TypeCount);
            Assert.Equal("s", btf[3].Name);
            Assert.Equal(new[] { "a", "p" }, btf[3].Members.Select(m => m.Name));
            Assert.Equal(16, btf.ResolveSize(3));
            Assert.Equal(16, btf.ResolveSize(4));
            Assert.Equal(BtfKind.Typedef, btf[8].Kind);
        }

        // ---- header ---------------------------------------------------------------------------------------

        [Fact]
        public void Empty_input()
        {
            var e = Throws(() => Btf.Parse(Array.Empty<byte>(), "empty.btf"), "empty.btf", "24-byte", "header");
            Assert.Equal(0, e.Offset);
            Assert.Equal("empty.btf", e.SourceName);

            using var tmp = new TempDir();
            var path = tmp.File("empty.bin");
            File.WriteAllBytes(path, Array.Empty<byte>());
            var e2 = Throws(() => Btf.Load(path));
            Assert.Equal(path, e2.SourceName);
            Assert.Contains(path, e2.Message);
        }

        [Fact]
        public void Missing_file_is_a_btf_exception()
        {
            using var tmp = new TempDir();
            var e = Throws(() => Btf.Load(tmp.File("does-not-exist.btf")), "does-not-exist.btf");
            Assert.Equal(tmp.File("does-not-exist.btf"), e.SourceName);
        }

        [Fact]
        public void Truncated_header()
        {
            var s = BuildSmall();
            for (int len = 1; len < 24; len++)
            {
                var e = Throws(() => Btf.Parse(s.Bytes.AsSpan(0, len).ToArray(), "hdr.btf"), "truncated", "header");
                Assert.Equal(0, e.Offset);
                Assert.Contains($"{len} bytes", e.Message);
            }
        }

        [Fact]
        public void Every_truncation_of_a_small_btf_fails()
        {
            var s = BuildSmall();
            for (int len = 0; len < s.Bytes.Length; len++)
            {
                var e = Throws(() => Btf.Parse(s.Bytes.AsSpan(0, len).ToArray(), "cut.btf"));
                Assert.Equal("cut.btf", e.SourceName);
                if (len >= 24)
                {
                    Assert.Contains("string section", e.Message);
                    Assert.Equal(16, e.Offset); // the str_off field
                }
            }
        }

        [Fact]
        public void Type_section_cut_inside_a_record_names_that_record()
        {
            var s = BuildSmall();
            var boundaries = new HashSet<int>(s.Records.Select(r => r.offset - 24)) { s.TypeLen };
            for (int cut = 4; cut < s.TypeLen; cut += 4)
            {
                var d = (byte[])s.Bytes.Clone();
                PutU32(d, 12, (uint)cut); // type_len; strings stay where they are
                if (boundaries.Contains(cut))
                {
                    // Records ending exactly at the cut: the ones kept are read, all references point backwards.
                    var btf = Btf.Parse(d, "cut.btf");
                    Assert.Equal(1 + s.Records.Count(r => r.offset - 24 < cut), btf.TypeCount);
                    continue;
                }
                var rec = s.Records.Last(r => r.offset - 24 < cut);
                var e = Throws(() => Btf.Parse(d, "cut.btf"), "type section");
                Assert.Equal(rec.id, e.TypeId);
                Assert.Equal(rec.offset, e.Offset);
            }
        }

        [Fact]
        public void Truncations_of_a_real_kernel_fail()
        {
            var full = Fixtures.Bytes("x86_64-5.10");
            foreach (int len in new[] { 0, 3, 23, 24, 25, 4096, full.Length / 3, full.Length / 2, full.Length - 4096, full.Length - 2, full.Length - 1 })
            {
                var e = Throws(() => Btf.Parse(full.AsSpan(0, len).ToArray(), "vmlinux"));
                Assert.Equal("vmlinux", e.SourceName);
            }
            // Same, through a file.
            using var tmp = new TempDir();
            var path = tmp.File("cut.btf");
            File.WriteAllBytes(path, full.AsSpan(0, full.Length - 7).ToArray());
            Throws(() => Btf.Load(path), "cut.btf", "string section");

            // Type section cut mid-way with a consistent header: a record is truncated or ids dangle.
            var hdrLen = (int)GetU32(full, 4);
            var typeLen = GetU32(full, 12);
            foreach (var frac in new[] { 0.25, 0.5, 0.999 })
            {
                var d = (byte[])full.Clone();
                PutU32(d, 12, (uint)(typeLen * frac) & ~3u);
                var e = Throws(() => Btf.Parse(d, "vmlinux"));
                Assert.NotNull(e.Offset);
                Assert.True(e.Offset >= hdrLen || e.Offset == 0, $"offset {e.Offset}");
            }
        }

        [Fact]
        public void Wrong_magic()
        {
            var d = BuildSmall().Bytes;
            d[0] = 0x12; d[1] = 0x34;
            var e = Throws(() => Btf.Parse(d, "m.btf"), "magic", "0x3412");
            Assert.Equal(0, e.Offset);

            using var tmp = new TempDir();
            var path = tmp.File("notbtf.bin");
            File.WriteAllBytes(path, Encoding.ASCII.GetBytes("this is just some text, not BTF at all\n"));
            Throws(() => Btf.Load(path), "notbtf.bin", "not BTF");
        }

        [Fact]
        public void Wrong_version()
        {
            var d = BuildSmall().Bytes;
            d[2] = 2;
            var e = Throws(() => Btf.Parse(d, "v.btf"), "version 2");
            Assert.Equal(2, e.Offset);
        }

        [Fact]
        public void Wrong_version_through_load_names_the_version()
        {
            // The file has the BTF magic; the problem is the version byte, and the message should say so
            // (not "no BTF magic").
            var d = BuildSmall().Bytes;
            d[2] = 2;
            using var tmp = new TempDir();
            var path = tmp.File("v2.btf");
            File.WriteAllBytes(path, d);
            var e = Throws(() => Btf.Load(path), "v2.btf", "version");
            Assert.Equal(2, e.Offset);
        }

        [Theory]
        [InlineData(0u)]
        [InlineData(16u)]
        [InlineData(23u)]
        public void Header_length_too_small(uint hdrLen)
        {
            var d = BuildSmall().Bytes;
            PutU32(d, 4, hdrLen);
            var e = Throws(() => Btf.Parse(d, "h.btf"), $"header length {hdrLen}", "24");
            Assert.Equal(4, e.Offset);
        }

        [Fact]
        public void Header_length_beyond_data()
        {
            var d = BuildSmall().Bytes;
            PutU32(d, 4, (uint)d.Length + 1);
            var e = Throws(() => Btf.Parse(d, "h.btf"), "header length", "exceeds");
            Assert.Equal(4, e.Offset);
            PutU32(d, 4, 0xFFFFFFFF);
            e = Throws(() => Btf.Parse(d, "h.btf"), "header length");
            Assert.Equal(4, e.Offset);
        }

        public static IEnumerable<object[]> SectionCases()
        {
            // (field offset, value, expected offset in the exception, message part)
            var s = BuildSmall();
            int strOff = s.TypeLen, strLen = s.Bytes.Length - 24 - s.TypeLen;
            yield return new object[] { 20, (uint)strLen + 1, 16, "string section" };                 // str_len one too long
            yield return new object[] { 20, 0xFFFFFFFFu, 16, "string section" };                       // str_len huge
            yield return new object[] { 16, (uint)(strOff + strLen), 16, "string section" };           // str_off: section starts at the end
            yield return new object[] { 16, 0xFFFFFFF0u, 16, "string section" };                       // str_off huge
            yield return new object[] { 12, (uint)s.TypeLen + 4, 8, "overlaps the string section" };   // type_len into the strings
            yield return new object[] { 12, 0xFFFFFFFCu, 8, "type section" };                          // type_len huge
            yield return new object[] { 8, 4u, 8, "overlaps the string section" };                      // type_off shifted into the strings
            yield return new object[] { 8, 0xFFFFFFF0u, 8, "type section" };                           // type_off huge
            yield return new object[] { 16, 8u, 8, "overlaps the string section" };                     // str_off inside the types
        }

        [Theory]
        [MemberData(nameof(SectionCases))]
        public void Section_offsets_and_lengths_out_of_range_or_overlapping(int field, uint value, int expectedOffset, string part)
        {
            var d = BuildSmall().Bytes;
            PutU32(d, field, value);
            var e = Throws(() => Btf.Parse(d, "sec.btf"), part);
            Assert.Equal(expectedOffset, e.Offset);
        }

        [Fact]
        public void Unaligned_type_section()
        {
            var s = BuildSmall();
            var d = (byte[])s.Bytes.Clone();
            // Move the type section one byte later (type_off 1) and shrink it so that it still fits before the strings.
            PutU32(d, 8, 1); PutU32(d, 12, (uint)s.TypeLen - 4);
            Throws(() => Btf.Parse(d, "a.btf"), "aligned");
            d = (byte[])s.Bytes.Clone();
            PutU32(d, 12, (uint)s.TypeLen - 2);
            Throws(() => Btf.Parse(d, "a.btf"), "multiple of 4");
        }

        [Fact]
        public void String_section_problems()
        {
            var s = BuildSmall();
            // Not NUL-terminated.
            var d = (byte[])s.Bytes.Clone();
            d[^1] = (byte)'x';
            Throws(() => Btf.Parse(d, "s.btf"), "NUL");
            // Empty string section.
            d = (byte[])s.Bytes.Clone();
            PutU32(d, 20, 0);
            Throws(() => Btf.Parse(d, "s.btf"), "string section");
            // Not starting with the empty string (looks like split BTF): the message hints at the base.
            d = (byte[])s.Bytes.Clone();
            d[24 + s.TypeLen] = (byte)'x';
            Throws(() => Btf.Parse(d, "s.btf"), "base");
        }

        // ---- records ----------------------------------------------------------------------------------------

        [Fact]
        public void Type_name_string_offset_out_of_range()
        {
            var b = new BtfBuilder();
            b.AddInt("int", 4);
            int bad = b.AddRaw(99999u, (int)BtfKind.Struct, 0, false, 0);
            var e = Throws(() => Btf.Parse(b.ToArray(), "n.btf"), "type name", "99999");
            Assert.Equal(bad, e.TypeId);
            Assert.Equal(24 + 16, e.Offset);
        }

        [Fact]
        public void Member_and_other_name_string_offsets_out_of_range()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4);
            uint s = b.AddString("ok");
            int st = b.AddRaw(s, (int)BtfKind.Struct, 2, false, 8, s, (uint)i, 0, 77777u, (uint)i, 32);
            var e = Throws(() => Btf.Parse(b.ToArray(), "m.btf"), "member name", "77777");
            Assert.Equal(st, e.TypeId);
            Assert.Equal(24 + 16 + 12 + 12, e.Offset); // record + header + first member

            b = new BtfBuilder();
            b.AddInt("int", 4);
            int en = b.AddRaw("e", BtfKind.Enum, 1, false, 4, 55555u, 1);
            e = Throws(() => Btf.Parse(b.ToArray(), "e.btf"), "enumerator name", "55555");
            Assert.Equal(en, e.TypeId);

            b = new BtfBuilder();
            i = b.AddInt("int", 4);
            int fp = b.AddRaw("", BtfKind.FuncProto, 1, false, (uint)i, 44444u, (uint)i);
            e = Throws(() => Btf.Parse(b.ToArray(), "p.btf"), "parameter name", "44444");
            Assert.Equal(fp, e.TypeId);
        }

        [Fact]
        public void Member_type_id_out_of_range()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4);
            int st = b.AddComposite(BtfKind.Struct, "s", 8, ("a", i, 0, 0), ("b", 99, 32, 0));
            var e = Throws(() => Btf.Parse(b.ToArray(), "id.btf"), "99", "3 ids");
            Assert.Equal(st, e.TypeId);
            Assert.Equal(24 + 16 + 12 + 12 + 4, e.Offset); // the type field of member 1
        }

        [Fact]
        public void Array_element_type_id_out_of_range()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4);
            int arr = b.AddArray(1234, i, 4);
            var e = Throws(() => Btf.Parse(b.ToArray(), "a.btf"), "1234");
            Assert.Equal(arr, e.TypeId);
            Assert.Equal(24 + 16 + 12, e.Offset);
            b = new BtfBuilder();
            i = b.AddInt("int", 4);
            arr = b.AddArray(i, 1235, 4);
            e = Throws(() => Btf.Parse(b.ToArray(), "a.btf"), "1235");
            Assert.Equal(24 + 16 + 16, e.Offset);
        }

        [Theory]
        [InlineData(3u)]
        [InlineData(0x7FFFFFFFu)]
        [InlineData(0x80000000u)]
        [InlineData(0xFFFFFFFFu)]
        public void Pointer_target_out_of_range(uint target)
        {
            var b = new BtfBuilder();
            b.AddInt("int", 4);
            int p = b.AddRaw("", BtfKind.Ptr, 0, false, target);
            var e = Throws(() => Btf.Parse(b.ToArray(), "p.btf"), target.ToString());
            Assert.Equal(p, e.TypeId);
            Assert.Equal(24 + 16 + 8, e.Offset);
        }

        [Fact]
        public void Other_references_out_of_range()
        {
            foreach (var kind in new[] { BtfKind.Typedef, BtfKind.Const, BtfKind.Volatile, BtfKind.Restrict, BtfKind.TypeTag, BtfKind.Var, BtfKind.DeclTag })
            {
                var b = new BtfBuilder();
                b.AddInt("int", 4);
                int t = kind == BtfKind.Var ? b.AddVar("v", 50, BtfLinkage.Global)
                      : kind == BtfKind.DeclTag ? b.AddDeclTag("tag", 50, -1)
                      : b.AddRef(kind, 50, kind == BtfKind.Typedef || kind == BtfKind.TypeTag ? "n" : "");
                var e = Throws(() => Btf.Parse(b.ToArray(), "r.btf"), "50");
                Assert.Equal(t, e.TypeId);
            }
            var b2 = new BtfBuilder();
            int i2 = b2.AddInt("int", 4);
            int fp = b2.AddFuncProto(i2, ("a", i2), ("b", 60));
            Assert.Equal(fp, Throws(() => Btf.Parse(b2.ToArray(), "fp.btf"), "60").TypeId);
            b2 = new BtfBuilder();
            i2 = b2.AddInt("int", 4);
            int ds = b2.AddDataSec(".data", 4, (61, 0, 4));
            Assert.Equal(ds, Throws(() => Btf.Parse(b2.ToArray(), "ds.btf"), "61").TypeId);
        }

        [Theory]
        [InlineData(BtfKind.Struct, 3)]
        [InlineData(BtfKind.Union, 1000)]
        [InlineData(BtfKind.Enum, 0xFFFFFF)]
        [InlineData(BtfKind.Enum64, 2)]
        [InlineData(BtfKind.FuncProto, 7)]
        [InlineData(BtfKind.DataSec, 0x10000)]
        public void Vlen_overrunning_the_type_section(BtfKind kind, int vlen)
        {
            var b = new BtfBuilder();
            b.AddInt("int", 4);
            // One element's worth of data follows, whatever the kind: never enough for vlen.
            int t = b.AddRaw("x", kind, vlen, false, 4, 0, 1, 0);
            var e = Throws(() => Btf.Parse(b.ToArray(), "v.btf"), $"vlen {vlen}", "remain");
            Assert.Equal(t, e.TypeId);
            Assert.Equal(24 + 16, e.Offset);
        }

        [Fact]
        public void Func_pointing_at_a_non_func_proto()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4);
            int f = b.AddFunc("f", i, BtfLinkage.Global);
            var e = Throws(() => Btf.Parse(b.ToArray(), "f.btf"), "FUNC", "FUNC_PROTO", "INT");
            Assert.Equal(f, e.TypeId);
            Assert.Equal(24 + 16 + 8, e.Offset);

            b = new BtfBuilder();
            f = b.AddFunc("g", 0, BtfLinkage.Static); // to void
            Assert.Equal(f, Throws(() => Btf.Parse(b.ToArray(), "f.btf"), "FUNC_PROTO").TypeId);
        }

        [Fact]
        public void Unknown_kind_without_layout()
        {
            var b = new BtfBuilder();
            b.AddInt("int", 4);
            int u = b.AddRaw(0, 25, 0, false, 0);
            var e = Throws(() => Btf.Parse(b.ToArray(), "k.btf"), "kind 25");
            Assert.Equal(u, e.TypeId);
            Assert.Equal(24 + 16, e.Offset);
            b = new BtfBuilder();
            u = b.AddRaw(0, 0, 0, false, 0); // kind 0 (UNKN) is not a record kind either
            Assert.Equal(u, Throws(() => Btf.Parse(b.ToArray(), "k.btf"), "kind 0").TypeId);
        }

        // ---- cycles: the walkers must throw, not hang or overflow the stack ----------------------------------

        private static T Bounded<T>(Func<T> f, int seconds = 20)
        {
            T result = default!;
            Exception? error = null;
            var th = new Thread(() => { try { result = f(); } catch (Exception e) { error = e; } }, 16 << 20) { IsBackground = true };
            th.Start();
            Assert.True(th.Join(TimeSpan.FromSeconds(seconds)), $"did not finish within {seconds} s (hang)");
            if (error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            return result;
        }

        private static void BoundedThrows(Action a, int? typeId = null)
        {
            var e = Bounded(() => Throws(a));
            if (typeId != null) Assert.Equal(typeId, e.TypeId);
        }

        [Fact]
        public void Const_cycle()
        {
            var b = new BtfBuilder();
            int c1 = b.AddRef(BtfKind.Const, 2);
            int c2 = b.AddRef(BtfKind.Const, 1);
            int self = b.AddRef(BtfKind.Volatile, 3);
            int td = b.AddRef(BtfKind.Typedef, 5, "loop");
            int cv = b.AddRef(BtfKind.Const, 4);
            var btf = Btf.Parse(b.ToArray(), "cycle.btf"); // parse may succeed, like libbpf
            foreach (var id in new[] { c1, c2, self, td, cv })
            {
                BoundedThrows(() => btf.ResolveSize(id), id);
                BoundedThrows(() => btf.AlignOf(id), id);
                BoundedThrows(() => btf.Skip(id));
                BoundedThrows(() => btf.Skip(id, typedefs: true));
            }
            Assert.Equal(td, btf.Skip(td, typedefs: false));
            // The closure walk is cycle-safe.
            Assert.Equal(2, Bounded(() => btf.Closure(new[] { c1 })).Count);
            // Dumping does not follow references.
            Assert.NotEmpty(Text(btf));
        }

        [Fact]
        public void Array_of_itself_and_pointer_to_itself()
        {
            var b = new BtfBuilder();
            int arr = b.AddArray(1, 1, 2);
            int p = b.AddRef(BtfKind.Ptr, 2);
            var btf = Btf.Parse(b.ToArray(), "arr.btf");
            BoundedThrows(() => btf.ResolveSize(arr), arr);
            BoundedThrows(() => btf.AlignOf(arr), arr);
            Assert.Equal(8, btf.ResolveSize(p));
            Assert.Equal(8, btf.AlignOf(p));
        }

        [Fact]
        public void Long_qualifier_chain_is_refused_not_overflowed()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4);
            int last = i;
            for (int k = 0; k < 5000; k++) last = b.AddRef(k % 2 == 0 ? BtfKind.Const : BtfKind.Typedef, last, k % 2 == 0 ? "" : "t" + k);
            var btf = Btf.Parse(b.ToArray(), "chain.btf");
            BoundedThrows(() => btf.ResolveSize(last), last);
            BoundedThrows(() => btf.AlignOf(last), last);
            BoundedThrows(() => btf.Skip(last));
            // Short chains are fine.
            Assert.Equal(4, btf.ResolveSize(i + 10));
            Assert.Equal(4, btf.AlignOf(i + 10));
            Assert.Equal(i, btf.Skip(i + 10));
        }

        [Fact]
        public void Struct_containing_itself_by_value()
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            int s = b.AddComposite(BtfKind.Struct, "s", 8, ("x", i, 0, 0), ("self", 2, 32, 0));
            int a = b.AddComposite(BtfKind.Struct, "a", 8, ("b", 4, 0, 0));
            int bb = b.AddComposite(BtfKind.Union, "b", 8, ("a", 3, 0, 0));
            var btf = Btf.Parse(b.ToArray(), "self.btf");
            BoundedThrows(() => btf.AlignOf(s), s);
            BoundedThrows(() => btf.AlignOf(a), a);
            BoundedThrows(() => btf.AlignOf(bb), bb);
            Assert.Equal(8, btf.ResolveSize(s)); // the size field, like libbpf
            Assert.Equal(new[] { a, bb }, Bounded(() => btf.Closure(new[] { a }, throughPointers: false)).OrderBy(x => x));
        }

        /// <summary>
        /// A legal-looking DAG: struct S_k holds two S_(k+1) (no cycle, sizes consistent, 28 levels = 256 MiB).
        /// AlignOf must not revisit shared subtrees exponentially (2^28 member visits: about a minute), i.e. finish promptly.
        /// </summary>
        [Fact]
        public void Align_of_on_a_deep_shared_dag_finishes_promptly()
        {
            const int levels = 28;
            var b = new BtfBuilder();
            int leaf = b.AddInt("char", 1);
            // Built bottom-up: level `levels` is the char, S_k has size 2^(levels-k) bytes.
            int below = leaf;
            uint size = 1;
            for (int k = levels - 1; k >= 0; k--)
            {
                size *= 2;
                below = b.AddComposite(BtfKind.Struct, "S" + k, size, ("lo", below, 0, 0), ("hi", below, size * 4, 0));
            }
            var btf = Btf.Parse(b.ToArray(), "dag.btf");
            Assert.Equal(1L << levels, btf.ResolveSize(below));
            var sw = Stopwatch.StartNew();
            int align = Bounded(() => btf.AlignOf(below), seconds: 5);
            Assert.Equal(1, align);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
        }

        // ---- containers -------------------------------------------------------------------------------------------

        /// <summary>Minimal independent ELF64 LE section lookup (name -> header offset).</summary>
        private static int FindSectionHeader64Le(byte[] elf, string name)
        {
            long shoff = BinaryPrimitives.ReadInt64LittleEndian(elf.AsSpan(40));
            int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(58));
            int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(60));
            int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(62));
            long strOff = BinaryPrimitives.ReadInt64LittleEndian(elf.AsSpan((int)shoff + shstrndx * shentsize + 24));
            for (int i = 0; i < shnum; i++)
            {
                int h = (int)shoff + i * shentsize;
                int nameAt = (int)strOff + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(h));
                int end = Array.IndexOf(elf, (byte)0, nameAt);
                if (Encoding.ASCII.GetString(elf, nameAt, end - nameAt) == name) return h;
            }
            return -1;
        }

        [Fact]
        public void Elf_without_btf_section()
        {
            var elf = Fixtures.Bytes("bpf-features.o");
            int btfHdr = FindSectionHeader64Le(elf, ".BTF");
            int textHdr = FindSectionHeader64Le(elf, ".text");
            Assert.True(btfHdr > 0 && textHdr > 0);
            // Rename .BTF to .text (same name offset): the file is still valid ELF, without a .BTF section.
            Array.Copy(elf, textHdr, elf, btfHdr, 4);
            using var tmp = new TempDir();
            var path = tmp.File("nobtf.o");
            File.WriteAllBytes(path, elf);
            var e = Throws(() => Btf.Load(path), "no .BTF section");
            Assert.Equal(path, e.SourceName);
        }

        [Fact]
        public void Elf_whose_only_content_is_code_has_no_btf()
        {
            using var tmp = new TempDir();
            var src = tmp.File("plain.c");
            File.WriteAllText(src, "int plain(int x) { return x + 1; }\n");
            ProcessRunner.Check("gcc", ["-c", "-O2", "-o", tmp.File("plain.o"), src]);
            Throws(() => Btf.Load(tmp.File("plain.o")), "plain.o", ".BTF");
        }

        [Fact]
        public void Elf_section_table_out_of_range()
        {
            using var tmp = new TempDir();
            var elf = Fixtures.Bytes("bpf-features.o");

            var d = (byte[])elf.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(40), (ulong)d.Length + 100); // e_shoff past the end
            File.WriteAllBytes(tmp.File("a.o"), d);
            var e = Throws(() => Btf.Load(tmp.File("a.o")), "section header table");
            Assert.Equal(40, e.Offset);

            d = (byte[])elf.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(40), ulong.MaxValue - 10);
            File.WriteAllBytes(tmp.File("b.o"), d);
            Throws(() => Btf.Load(tmp.File("b.o")), "section header table");

            d = (byte[])elf.Clone();
            BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(60), 60000); // e_shnum: table runs past the end
            File.WriteAllBytes(tmp.File("c.o"), d);
            Throws(() => Btf.Load(tmp.File("c.o")), "runs past the end");

            d = (byte[])elf.Clone();
            BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(62), 200); // e_shstrndx out of range
            File.WriteAllBytes(tmp.File("d.o"), d);
            Throws(() => Btf.Load(tmp.File("d.o")), "out of range");

            // .BTF's own offset/size out of range.
            d = (byte[])elf.Clone();
            int btfHdr = FindSectionHeader64Le(d, ".BTF");
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(btfHdr + 32), (ulong)d.Length); // sh_size
            File.WriteAllBytes(tmp.File("e.o"), d);
            Throws(() => Btf.Load(tmp.File("e.o")), "outside the file");

            // ELF32 big-endian: e_shoff (offset 32) past the end.
            d = Fixtures.Bytes("elf32be-ppc.o");
            BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(32), (uint)d.Length + 4);
            File.WriteAllBytes(tmp.File("f.o"), d);
            e = Throws(() => Btf.Load(tmp.File("f.o")), "section header table");
            Assert.Equal(32, e.Offset);

            // Truncated ELF header.
            File.WriteAllBytes(tmp.File("g.o"), elf.AsSpan(0, 30).ToArray());
            Throws(() => Btf.Load(tmp.File("g.o")), "truncated");
        }

        public static IEnumerable<object[]> ModuleData() => Fixtures.Modules.Select(m => new object[] { m.module });

        [Theory]
        [MemberData(nameof(ModuleData))]
        public void Split_module_without_its_base(string module)
        {
            var path = Fixtures.Path(module);
            var e = Throws(() => Btf.Load(path), "base");
            Assert.StartsWith(path, e.SourceName);
        }

        [Fact]
        public void Split_over_a_base_of_the_other_endianness()
        {
            var le = BtfSupport.Kernel("x86_64-6.12");
            var be = BtfSupport.Kernel("s390x-6.12");
            var e = Throws(() => Btf.Load(Fixtures.Path("s390x-6.12-qeth.ko"), le), "big-endian", "base");
            Assert.Contains("x86_64-6.12", e.Message);
            Throws(() => Btf.Load(Fixtures.Path("x86_64-6.12-ip_vs.ko"), be), "little-endian", "base");
        }
    }
}
