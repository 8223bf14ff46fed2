using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>The one BTF kind table (<see cref="BtfKinds"/>) and the places that must agree with it.</summary>
    public class BtfKindTableTests
    {
        [Fact]
        public void Table_has_every_kind_of_the_enum_in_order_with_bpftools_names()
        {
            var kinds = (BtfKind[])Enum.GetValues(typeof(BtfKind));
            Assert.Equal(kinds.Length, BtfKinds.Count);
            for (int k = 0; k < BtfKinds.Count; k++) Assert.Equal((BtfKind)k, BtfKinds.All[k].Kind);
            // bpftool's btf_kind_str (tools/bpf/bpftool/btf.c), "UNKNOWN" for kind 0 and for kinds it does not know.
            Assert.Equal(
                new[] { "UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE", "CONST", "RESTRICT",
                        "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64" },
                Enumerable.Range(0, BtfKinds.Count).Select(BtfKinds.Name));
            Assert.Equal("UNKNOWN", BtfKinds.Name(20));
            Assert.Equal("UNKNOWN", BtfKinds.Name(127));
            Assert.Null(BtfKinds.Of(20));
            Assert.Equal("func_proto", BtfKinds.LowerName(BtfKind.FuncProto));
            Assert.True(BtfKinds.TryParse("Decl_Tag", out var dt) && dt == BtfKind.DeclTag);
            Assert.False(BtfKinds.TryParse("unknown", out _));
        }

        [Fact]
        public void Table_record_sizes_are_the_uapi_layouts()
        {
            // uapi/linux/btf.h: btf_type is 12 bytes; INT +u32; ARRAY +btf_array (12); VAR +btf_var (4); DECL_TAG +btf_decl_tag (4);
            // btf_member 12, btf_enum 8, btf_param 8, btf_var_secinfo 12, btf_enum64 12 per vlen element.
            Assert.Equal((4, 0), Sizes(BtfKind.Int));
            Assert.Equal((12, 0), Sizes(BtfKind.Array));
            Assert.Equal((0, 12), Sizes(BtfKind.Struct));
            Assert.Equal((0, 12), Sizes(BtfKind.Union));
            Assert.Equal((0, 8), Sizes(BtfKind.Enum));
            Assert.Equal((0, 8), Sizes(BtfKind.FuncProto));
            Assert.Equal((4, 0), Sizes(BtfKind.Var));
            Assert.Equal((0, 12), Sizes(BtfKind.DataSec));
            Assert.Equal((4, 0), Sizes(BtfKind.DeclTag));
            Assert.Equal((0, 12), Sizes(BtfKind.Enum64));
            foreach (var k in new[] { BtfKind.Ptr, BtfKind.Fwd, BtfKind.Typedef, BtfKind.Volatile, BtfKind.Const, BtfKind.Restrict, BtfKind.Func, BtfKind.Float, BtfKind.TypeTag })
                Assert.Equal((0, 0), Sizes(k));

            static (int, int) Sizes(BtfKind k) => (BtfKinds.Of(k)!.InfoBytes, BtfKinds.Of(k)!.ElementBytes);
        }

        /// <summary>The parser's walk keeps the sizes as packed constants (no table load per record): they are the table's.</summary>
        [Fact]
        public void Parser_packed_size_codes_are_the_tables()
        {
            var parser = typeof(Btf).GetNestedType("Parser", BindingFlags.NonPublic)!;
            object Const(string name) => parser.GetField(name, BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;
            Assert.Equal(BtfKinds.PackedSizeCodes(elements: false), (ulong)Const("FixedCodes"));
            Assert.Equal(BtfKinds.PackedSizeCodes(elements: true), (ulong)Const("ElemCodes"));
            Assert.Equal(BtfKinds.KnownKindMask, (uint)Const("KnownKinds"));
        }

        [Fact]
        public void Every_kind_record_parses_at_the_tables_size_and_dumps_its_name()
        {
            // One record of every known kind; the parser walks them by the packed sizes, the dump names them from the table.
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddRef(BtfKind.Ptr, i);
            b.AddArray(i, i, 2);
            b.AddComposite(BtfKind.Struct, "s", 4, ("x", i, 0, 0));
            b.AddComposite(BtfKind.Union, "u", 4, ("x", i, 0, 0));
            b.AddEnum("e", 4, false, false, ("A", 1));
            b.AddFwd("f");
            b.AddRef(BtfKind.Typedef, i, "t");
            b.AddRef(BtfKind.Volatile, i);
            b.AddRef(BtfKind.Const, i);
            b.AddRef(BtfKind.Restrict, b.AddRef(BtfKind.Ptr, i));
            int proto = b.AddFuncProto(i, ("a", i));
            b.AddFunc("fn", proto, BtfLinkage.Global);
            int v = b.AddVar("v", i, BtfLinkage.Global);
            b.AddDataSec(".data", 4, (v, 0, 4));
            b.AddFloat("float", 4);
            b.AddDeclTag("tag", v, -1);
            b.AddRef(BtfKind.TypeTag, i, "tt");
            b.AddEnum("e64", 8, false, true, ("B", 1L << 40));
            var btf = Btf.Parse(b.ToArray());
            var seen = Enumerable.Range(btf.FirstTypeId, btf.TypeCount - btf.FirstTypeId).Select(id => btf[id].Kind).Distinct().ToHashSet();
            for (int k = 1; k < BtfKinds.Count; k++) Assert.Contains((BtfKind)k, seen);
            var ms = new System.IO.MemoryStream();
            global::BtfBindings.Dump.BtfRawDump.WriteText(btf, ms);
            string text = System.Text.Encoding.UTF8.GetString(ms.ToArray());
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
                Assert.Contains($"[{id}] {BtfKinds.Name(btf[id].Kind)} ", text);
        }
    }
}
