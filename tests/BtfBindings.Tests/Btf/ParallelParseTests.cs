using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Support.BtfSupport;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>
    /// Large inputs are validated on two threads while the records are still being walked, and raw files are read while
    /// they are parsed. These inputs are big enough to take those paths and check that their answers do not depend on
    /// which thread saw what first, nor on whether the bytes came from a file or from memory.
    /// </summary>
    public class ParallelParseTests
    {
        private const int Structs = 70_000; // 36-byte records: a 2.5 MB type section and 70,000 names, over the thresholds for two threads

        /// <summary>
        /// ids: 1 int, 2 "long int" (4 bytes), 3 FUNC whose FUNC_PROTO comes last (a forward reference), then
        /// <see cref="Structs"/> structs named s0, s1, … (every 1000th is named "dup"), a "long" of 8 bytes, the FUNC_PROTO.
        /// <paramref name="patch"/> may replace records by id before the builder is serialised.
        /// </summary>
        private static (byte[] bytes, int funcId, int protoId, int firstStruct, int lateLong) Build(Func<BtfBuilder, int, bool>? patch = null, bool protoIsInt = false)
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddInt("long int", 4, BtfIntEncoding.Signed);
            int funcId = b.NextId;
            int protoId = funcId + 1 + Structs + 1;
            b.AddFunc("f", protoId, BtfLinkage.Global);
            int firstStruct = b.NextId;
            for (int k = 0; k < Structs; k++)
            {
                if (patch != null && patch(b, b.NextId)) continue;
                b.AddComposite(BtfKind.Struct, k % 1000 == 0 ? "dup" : "s" + k, 8, ("a", i, 0, 0), ("b", i, 32, 0));
            }
            int lateLong = b.AddInt("long", 8, BtfIntEncoding.Signed);
            if (protoIsInt) b.AddInt("not_a_proto", 4);
            else b.AddFuncProto(i, ("x", i));
            return (b.ToArray(), funcId, protoId, firstStruct, lateLong);
        }

        [Fact]
        public void Forward_func_proto_is_accepted_and_lookups_are_exact()
        {
            var (bytes, funcId, protoId, first, _) = Build();
            var btf = Btf.Parse(bytes, "big.btf");
            Assert.Equal(protoId + 1, btf.TypeCount);
            Assert.Equal(BtfKind.FuncProto, btf[funcId].Type.Kind);
            // The first `long` in id order decides the pointer size, as in libbpf's determine_ptr_size.
            Assert.Equal(4, btf.PointerSize);
            for (int k = 1; k < Structs; k++) // every name: the table is filled by two threads, each entry must be found
                if (k % 1000 != 0) Assert.Equal(new[] { first + k }, btf.FindTypes("s" + k).Select(t => t.Id));
            var dups = Enumerable.Range(0, Structs).Where(k => k % 1000 == 0).Select(k => first + k).ToArray();
            Assert.Equal(dups, btf.FindTypes("dup", BtfKind.Struct).Select(t => t.Id));
            Assert.Empty(btf.FindTypes("s0"));
            // Function names are indexed on first lookup: found by name alone, by their kind, and not under another kind.
            Assert.Equal(new[] { funcId }, btf.FindTypes("f").Select(t => t.Id));
            Assert.Equal(new[] { funcId }, btf.FindTypes("f", BtfKind.Func).Select(t => t.Id));
            Assert.Empty(btf.FindTypes("f", BtfKind.Struct));
            Assert.Empty(btf.FindTypes("dup", BtfKind.Union));
        }

        [Fact]
        public void Func_whose_forward_target_is_not_a_proto_is_rejected()
        {
            var (bytes, funcId, protoId, _, _) = Build(protoIsInt: true);
            var e = Throws(() => Btf.Parse(bytes, "big.btf"), "FUNC", $"[{protoId}]", "INT");
            Assert.Equal(funcId, e.TypeId);
        }

        [Fact]
        public void Of_several_bad_records_the_lowest_id_is_reported()
        {
            // Bad name offsets early and late: whichever thread validates which chunk, the error names the earliest record.
            int early = 0, late = 0;
            var (bytes, _, _, _, _) = Build((b, id) =>
            {
                int k = id - 4;
                if (k == 30_000) { late = b.AddRaw(0x7ffffff0u, (int)BtfKind.Struct, 0, false, 0); return true; }
                if (k == 9_000) { early = b.AddRaw(0x7ffffff1u, (int)BtfKind.Struct, 0, false, 0); return true; }
                return false;
            });
            for (int run = 0; run < 25; run++)
            {
                var e = Throws(() => Btf.Parse((byte[])bytes.Clone(), "big.btf"), "type name", "2147483633");
                Assert.Equal(early, e.TypeId);
            }
            Assert.True(late > early);
        }

        [Fact]
        public void A_walk_error_while_validation_runs_is_reported_without_hanging()
        {
            var (bytes, _, _, _, _) = Build((b, id) =>
            {
                if (id - 4 == 2_000) { b.AddRaw(0x7ffffff0u, (int)BtfKind.Struct, 0, false, 0); return true; }
                return false;
            });
            // Claim an absurd vlen in the last record, so the walk fails at the end while validation has started.
            uint hdr = 24, typeLen = BitConverter.ToUInt32(bytes, 12);
            int lastInfo = (int)(hdr + typeLen - 20 + 4); // the FUNC_PROTO with one parameter is 20 bytes
            BitConverter.GetBytes((uint)((int)BtfKind.FuncProto << 24 | 0xffffff)).CopyTo(bytes, lastInfo);
            for (int run = 0; run < 10; run++)
                Throws(() => Btf.Parse((byte[])bytes.Clone(), "big.btf"), "FUNC_PROTO record with vlen 16777215");
        }

        [Fact]
        public void Loading_a_file_while_parsing_equals_parsing_its_bytes()
        {
            var path = Fixtures.Path("x86_64-6.12");
            var bytes = File.ReadAllBytes(path);
            var fromFile = Btf.Load(path);
            var fromBytes = Btf.Parse((byte[])bytes.Clone(), path);
            Assert.Equal(fromBytes.TypeCount, fromFile.TypeCount);
            Assert.Equal(fromBytes.PointerSize, fromFile.PointerSize);
            // Every record, as bpftool would print it.
            byte[] Text(Btf b) { var ms = new MemoryStream(); BtfBindings.Dump.BtfRawDump.WriteText(b, ms); return ms.ToArray(); }
            Assert.True(Text(fromBytes).AsSpan().SequenceEqual(Text(fromFile)), "the dumps differ");
            foreach (var name in new[] { "task_struct", "list_head", "iphdr", "sk_buff" })
                Assert.Equal(fromBytes.FindTypes(name).Select(t => t.Id), fromFile.FindTypes(name).Select(t => t.Id));
        }

        [Fact]
        public void Mutated_files_load_exactly_as_their_bytes_parse()
        {
            // Differential: the streaming file path must accept and reject exactly what the in-memory path does, with the same message.
            var clean = Fixtures.Bytes("x86_64-6.12");
            uint typeLen = BitConverter.ToUInt32(clean, 12), strLen = BitConverter.ToUInt32(clean, 20);
            var rnd = new Random(4242);
            var dir = Directory.CreateTempSubdirectory("btfb-stream");
            try
            {
                var file = Path.Combine(dir.FullName, "m.btf");
                int rejected = 0;
                for (int i = 0; i < 150; i++)
                {
                    var m = (byte[])clean.Clone();
                    int len = m.Length;
                    switch (i % 5)
                    {
                        case 0: m[24 + rnd.Next((int)typeLen)] = (byte)rnd.Next(256); break;                       // a type byte
                        case 1: m[24 + (int)typeLen + rnd.Next((int)strLen)] = (byte)rnd.Next(1, 256); break;      // a string byte
                        case 2: m[8 + rnd.Next(16)] ^= (byte)(1 << rnd.Next(8)); break;                           // a header field
                        case 3: len = 24 + rnd.Next(m.Length - 24); break;                                       // truncated
                        case 4: BitConverter.GetBytes(0x7fffff00u).CopyTo(m, 24 + 4 * rnd.Next((int)typeLen / 4)); break; // a huge word
                    }
                    File.WriteAllBytes(file, m.AsSpan(0, len).ToArray());
                    string Outcome(Func<Btf> f) { try { var b = f(); return "ok " + b.TypeCount + " " + b.PointerSize; } catch (BtfException e) { return e.Message; } }
                    var a = Outcome(() => Btf.Parse(m.AsSpan(0, len).ToArray(), file));
                    var b = Outcome(() => Btf.Load(file));
                    Assert.Equal(a, b);
                    if (!a.StartsWith("ok ", StringComparison.Ordinal)) rejected++;
                }
                Assert.True(rejected > 30, $"only {rejected} of 150 mutations were rejected: the mutations are too weak to test anything");
            }
            finally { dir.Delete(true); }
        }

        [Fact]
        public void Disposed_buffers_are_reused_and_the_disposed_object_refuses_reads()
        {
            byte[] Text(Btf b) { var ms = new MemoryStream(); BtfBindings.Dump.BtfRawDump.WriteText(b, ms); return ms.ToArray(); }
            var big = Fixtures.Path("x86_64-6.12");
            var other = Fixtures.Path("x86_64-5.10");
            var expectBig = Text(Btf.Parse(File.ReadAllBytes(big), big));
            var expectOther = Text(Btf.Parse(File.ReadAllBytes(other), other));
            var first = Btf.Load(big);
            var type = first.FindTypes("task_struct")[0];
            first.Dispose();
            first.Dispose(); // twice is harmless
            var e = Assert.Throws<ObjectDisposedException>(() => type.Name);
            Assert.Contains("x86_64-6.12", e.Message);
            Assert.Throws<ObjectDisposedException>(() => first.FindTypes("task_struct"));
            // The next loads (same size, then another size) get the pooled buffers and must read exactly as fresh ones.
            for (int i = 0; i < 3; i++)
            {
                var again = Btf.Load(big);
                Assert.True(expectBig.AsSpan().SequenceEqual(Text(again)));
                again.Dispose();
                var o = Btf.Load(other);
                Assert.True(expectOther.AsSpan().SequenceEqual(Text(o)));
                o.Dispose();
            }
        }
    }
}
