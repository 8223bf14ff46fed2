using System;

namespace BtfBindings
{
    /// <summary>How bpftool's raw dump prints a record after <c>[id] KIND 'name'</c> (text and <c>-j</c> JSON alike).</summary>
    internal enum BtfDumpForm : byte
    {
        /// <summary>Nothing more (void, kinds bpftool does not know).</summary>
        None,
        /// <summary><c>size= bits_offset= nr_bits= encoding=</c>.</summary>
        Int,
        /// <summary><c>type_id=</c> (pointers, typedefs, qualifiers, type tags).</summary>
        TypeId,
        /// <summary><c>type_id= index_type_id= nr_elems=</c>.</summary>
        Array,
        /// <summary><c>size= vlen=</c> then one line per member (structs, unions).</summary>
        Members,
        /// <summary><c>encoding= size= vlen=</c> then one line per enumerator (ENUM, ENUM64).</summary>
        Enum,
        /// <summary><c>fwd_kind=</c>.</summary>
        Fwd,
        /// <summary><c>type_id= linkage=</c>.</summary>
        Func,
        /// <summary><c>ret_type_id= vlen=</c> then one line per parameter.</summary>
        FuncProto,
        /// <summary><c>type_id=, linkage=</c>.</summary>
        Var,
        /// <summary><c>size= vlen=</c> then one line per variable.</summary>
        DataSec,
        /// <summary><c>size=</c> (floats).</summary>
        Size,
        /// <summary><c>type_id= component_idx=</c>.</summary>
        DeclTag,
    }

    /// <summary>One row of <see cref="BtfKinds"/>: everything about a BTF kind that is a fact, not logic.</summary>
    internal sealed class BtfKindInfo
    {
        internal BtfKindInfo(BtfKind kind, string name, int infoBytes, int elementBytes, BtfDumpForm dump)
        {
            Kind = kind; Name = name; InfoBytes = infoBytes; ElementBytes = elementBytes; Dump = dump;
            LowerName = name.ToLowerInvariant();
        }

        /// <summary>The kind.</summary>
        public BtfKind Kind { get; }
        /// <summary>bpftool's spelling (<c>btf_kind_str</c>): <c>INT</c>, <c>FUNC_PROTO</c>, <c>UNKNOWN</c> for kind 0.</summary>
        public string Name { get; }
        /// <summary><see cref="Name"/> in lower case, as <c>btfgen list</c> prints and parses kinds.</summary>
        public string LowerName { get; }
        /// <summary>Bytes the record has after its 12-byte header (INT 4, ARRAY 12, VAR 4, DECL_TAG 4, else 0).</summary>
        public int InfoBytes { get; }
        /// <summary>Bytes per vlen element (members 12, enumerators 8 or 12, parameters 8, section variables 12, else 0).</summary>
        public int ElementBytes { get; }
        /// <summary>What bpftool's raw dump prints for it.</summary>
        public BtfDumpForm Dump { get; }

        /// <inheritdoc />
        public override string ToString() => Name;
    }

    /// <summary>
    /// The one table of BTF kinds (kinds 0..19, <c>uapi/linux/btf.h</c>): names as bpftool spells them, record
    /// layout, and what the raw dump prints. Adding a kind is a row here, an enum member in <see cref="BtfKind"/>, and
    /// the logic that is really new (validation, layout rules). Read by the parser (record sizes: its packed per-kind
    /// constants are checked against this table by a test; error messages), the raw dump, <c>btfgen list</c> (names,
    /// <c>--kind</c>), the minimizer's and every other message that names a kind.
    /// </summary>
    internal static class BtfKinds
    {
        /// <summary>The name bpftool prints for a kind it does not know (and for kind 0).</summary>
        public const string UnknownName = "UNKNOWN";

        private static readonly BtfKindInfo[] s_rows =
        {
            new BtfKindInfo(BtfKind.Void, UnknownName, 0, 0, BtfDumpForm.None),
            new BtfKindInfo(BtfKind.Int, "INT", 4, 0, BtfDumpForm.Int),
            new BtfKindInfo(BtfKind.Ptr, "PTR", 0, 0, BtfDumpForm.TypeId),
            new BtfKindInfo(BtfKind.Array, "ARRAY", 12, 0, BtfDumpForm.Array),
            new BtfKindInfo(BtfKind.Struct, "STRUCT", 0, 12, BtfDumpForm.Members),
            new BtfKindInfo(BtfKind.Union, "UNION", 0, 12, BtfDumpForm.Members),
            new BtfKindInfo(BtfKind.Enum, "ENUM", 0, 8, BtfDumpForm.Enum),
            new BtfKindInfo(BtfKind.Fwd, "FWD", 0, 0, BtfDumpForm.Fwd),
            new BtfKindInfo(BtfKind.Typedef, "TYPEDEF", 0, 0, BtfDumpForm.TypeId),
            new BtfKindInfo(BtfKind.Volatile, "VOLATILE", 0, 0, BtfDumpForm.TypeId),
            new BtfKindInfo(BtfKind.Const, "CONST", 0, 0, BtfDumpForm.TypeId),
            new BtfKindInfo(BtfKind.Restrict, "RESTRICT", 0, 0, BtfDumpForm.TypeId),
            new BtfKindInfo(BtfKind.Func, "FUNC", 0, 0, BtfDumpForm.Func),
            new BtfKindInfo(BtfKind.FuncProto, "FUNC_PROTO", 0, 8, BtfDumpForm.FuncProto),
            new BtfKindInfo(BtfKind.Var, "VAR", 4, 0, BtfDumpForm.Var),
            new BtfKindInfo(BtfKind.DataSec, "DATASEC", 0, 12, BtfDumpForm.DataSec),
            new BtfKindInfo(BtfKind.Float, "FLOAT", 0, 0, BtfDumpForm.Size),
            new BtfKindInfo(BtfKind.DeclTag, "DECL_TAG", 4, 0, BtfDumpForm.DeclTag),
            new BtfKindInfo(BtfKind.TypeTag, "TYPE_TAG", 0, 0, BtfDumpForm.TypeId),
            new BtfKindInfo(BtfKind.Enum64, "ENUM64", 0, 12, BtfDumpForm.Enum),
        };

        /// <summary>Every known kind, by value (index = kind; row 0 is void/UNKNOWN).</summary>
        public static ReadOnlySpan<BtfKindInfo> All => s_rows;

        /// <summary>Number of kinds in the table (the highest known kind + 1).</summary>
        public static int Count => s_rows.Length;

        /// <summary>True for kinds 1..<see cref="Count"/>-1 (record kinds this reader knows without a kind layout section).</summary>
        public static bool IsKnown(int kind) => kind > 0 && kind < s_rows.Length;

        /// <summary>The row of <paramref name="kind"/>, or null for a kind the table does not have.</summary>
        public static BtfKindInfo? Of(int kind) => (uint)kind < (uint)s_rows.Length ? s_rows[kind] : null;

        /// <summary>The row of <paramref name="kind"/>, or null for a kind the table does not have.</summary>
        public static BtfKindInfo? Of(BtfKind kind) => Of((int)kind);

        /// <summary>bpftool's name for <paramref name="kind"/> (<see cref="UnknownName"/> for 0 and kinds it does not know).</summary>
        public static string Name(int kind) => (uint)kind < (uint)s_rows.Length ? s_rows[kind].Name : UnknownName;

        /// <summary>bpftool's name for <paramref name="kind"/>.</summary>
        public static string Name(BtfKind kind) => Name((int)kind);

        /// <summary>The name in lower case (<c>func_proto</c>), as <c>btfgen list</c> prints kinds.</summary>
        public static string LowerName(BtfKind kind) => (uint)kind < (uint)s_rows.Length ? s_rows[(int)kind].LowerName : "unknown";

        /// <summary>The kind named <paramref name="name"/> (any case: <c>STRUCT</c>, <c>func_proto</c>); false for unknown names and for UNKNOWN.</summary>
        public static bool TryParse(string name, out BtfKind kind)
        {
            for (int k = 1; k < s_rows.Length; k++)
                if (string.Equals(s_rows[k].Name, name, StringComparison.OrdinalIgnoreCase)) { kind = (BtfKind)k; return true; }
            kind = BtfKind.Void;
            return false;
        }

        /// <summary>
        /// The record sizes packed as the parser's walk uses them: per kind, 2 bits holding bytes / 4, at bit 2 × kind
        /// (<see cref="BtfKindInfo.InfoBytes"/> or <see cref="BtfKindInfo.ElementBytes"/>).
        /// </summary>
        public static ulong PackedSizeCodes(bool elements)
        {
            ulong codes = 0;
            for (int k = 0; k < s_rows.Length; k++)
            {
                int bytes = elements ? s_rows[k].ElementBytes : s_rows[k].InfoBytes;
                codes |= (ulong)(bytes / 4) << (2 * k);
            }
            return codes;
        }

        /// <summary>The parser's known-kinds mask: bit k set for every known record kind.</summary>
        public static uint KnownKindMask
        {
            get
            {
                uint m = 0;
                for (int k = 1; k < s_rows.Length; k++) m |= 1u << k;
                return m;
            }
        }
    }
}
