using System.Collections.Generic;

namespace BtfBindings.Layout
{
    /// <summary>Primitive scalar kinds a BTF INT/FLOAT/ENUM maps to.</summary>
    internal enum ScalarKind
    {
        /// <summary>Not a scalar.</summary>
        None,
        /// <summary>_Bool.</summary>
        Bool,
        /// <summary>signed 8-bit.</summary>
        I8,
        /// <summary>unsigned 8-bit.</summary>
        U8,
        /// <summary>signed 16-bit.</summary>
        I16,
        /// <summary>unsigned 16-bit.</summary>
        U16,
        /// <summary>signed 32-bit.</summary>
        I32,
        /// <summary>unsigned 32-bit.</summary>
        U32,
        /// <summary>signed 64-bit.</summary>
        I64,
        /// <summary>unsigned 64-bit.</summary>
        U64,
        /// <summary>signed 128-bit.</summary>
        I128,
        /// <summary>unsigned 128-bit.</summary>
        U128,
        /// <summary>16-bit float.</summary>
        F16,
        /// <summary>float.</summary>
        F32,
        /// <summary>double.</summary>
        F64,
    }

    /// <summary>What a field's type is, in terms any emitter (C#, a table, the runtime matcher) can use.</summary>
    internal enum TypeShapeKind
    {
        /// <summary>An integer, bool or float scalar (<see cref="TypeShape.Scalar"/>).</summary>
        Scalar,
        /// <summary>A named enum emitted as its own type (<see cref="TypeShape.TypeName"/>).</summary>
        Enum,
        /// <summary>A struct or union emitted as its own type (<see cref="TypeShape.TypeName"/>).</summary>
        Composite,
        /// <summary>A pointer of the target's size to <see cref="TypeShape.Element"/> (null for void/function).</summary>
        Pointer,
        /// <summary>A fixed array of <see cref="TypeShape.Length"/> elements.</summary>
        Array,
        /// <summary>Bytes with no usable scalar type (long double, odd-sized ints): <see cref="TypeShape.ByteSize"/> bytes.</summary>
        Bytes,
    }

    /// <summary>The type of a field or array element.</summary>
    internal sealed class TypeShape
    {
        /// <summary>Shape kind.</summary>
        public TypeShapeKind Kind { get; set; }
        /// <summary>For scalars and enums: the scalar representation.</summary>
        public ScalarKind Scalar { get; set; }
        /// <summary>For enums and composites: the planned type's name; for pointers to named types: the pointee's planned name.</summary>
        public string? TypeName { get; set; }
        /// <summary>For arrays: element shape; for pointers: pointee shape (null = void or function).</summary>
        public TypeShape? Element { get; set; }
        /// <summary>For arrays: element count.</summary>
        public uint Length { get; set; }
        /// <summary>Size in bytes.</summary>
        public uint ByteSize { get; set; }
        /// <summary>For enums and composites: the BTF id of the referenced type (0 for nested anonymous types).</summary>
        public int TypeId { get; set; }
        /// <summary>For composites: true when <see cref="TypeName"/> names a nested type of the field's owner.</summary>
        public bool IsNested { get; set; }
        /// <summary>For pointers: true when the pointee is a function.</summary>
        public bool PointsToFunction { get; set; }
        /// <summary>
        /// For a <see cref="TypeShapeKind.Scalar"/>: true when the BTF type is an anonymous enum, which C# holds as its
        /// integer (its enumerators are constants) but which is an enum, not an int, to CO-RE matching.
        /// </summary>
        public bool IsAnonymousEnum { get; set; }
        /// <summary>For enums (and anonymous enums): the enum's own BTF name, "" when anonymous (even when a typedef names it); libbpf compares enums by it.</summary>
        public string? EnumBtfName { get; set; }
    }

    /// <summary>One member of a planned struct/union, flattened through anonymous members.</summary>
    internal sealed class PlannedField
    {
        /// <summary>The C member name.</summary>
        public string Name { get; set; } = "";
        /// <summary>Bit offset from the start of the planned type (summed through anonymous members).</summary>
        public uint BitOffset { get; set; }
        /// <summary>Size in bits (the bitfield width for bitfields, otherwise 8 × byte size).</summary>
        public uint BitSize { get; set; }
        /// <summary>True for a bitfield member.</summary>
        public bool IsBitfield { get; set; }
        /// <summary>True for a signed integer or signed enum (bitfields sign-extend).</summary>
        public bool IsSigned { get; set; }
        /// <summary>True for a flexible or zero-length array, which takes no space.</summary>
        public bool IsFlexibleArray { get; set; }
        /// <summary>True when the member's type has size 0 (an empty struct); it takes no space and is not emitted as a field.</summary>
        public bool IsZeroSized { get; set; }
        /// <summary>The field's type.</summary>
        public TypeShape Type { get; set; } = new TypeShape();
        /// <summary>The field's kind and names as the metadata records them (<see cref="FieldKinds.Of(PlannedField)"/>, from the final <see cref="Type"/>).</summary>
        public FieldKindInfo KindInfo => FieldKinds.Of(this);
        /// <summary>The member's declaration in C, e.g. <c>pid_t pid</c> or <c>unsigned int flags: 3</c>.</summary>
        public string CDeclaration { get; set; } = "";
        /// <summary>The C type spelling alone, e.g. <c>pid_t</c>.</summary>
        public string CType { get; set; } = "";
        /// <summary>Names of the anonymous members this field was reached through, outermost first (empty if direct).</summary>
        public string AnonymousPath { get; set; } = "";
        /// <summary>
        /// For bitfields: libbpf's load window containing the field, with the planned type as the root
        /// (<see cref="BitfieldWindows.Bitfield"/>; <see cref="BitfieldWindow.Fits"/> false when libbpf rejects the bitfield).
        /// </summary>
        public BitfieldWindow Window { get; set; }
    }

    /// <summary>libbpf's bitfield load window: load <see cref="ByteSize"/> bytes at <see cref="ByteOffset"/>, shift left then right.</summary>
    internal struct BitfieldWindow
    {
        /// <summary>Byte offset of the load.</summary>
        public uint ByteOffset;
        /// <summary>Load size in bytes (1, 2, 4 or 8 for kernel types; the member type's size when it is larger, e.g. 16).</summary>
        public uint ByteSize;
        /// <summary>Left shift applied to the loaded value as a u64 (<c>FIELD_LSHIFT_U64</c>).</summary>
        public int LeftShift;
        /// <summary>Right shift that follows (<c>FIELD_RSHIFT_U64</c>), arithmetic when signed.</summary>
        public int RightShift;
        /// <summary>False when libbpf rejects the bitfield (no naturally aligned load of at most 8 bytes holds it); the window is then the last one tried.</summary>
        public bool Fits;
        /// <summary>True when one 1..8-byte load serves the field (libbpf found a window and it is not wider than a u64).</summary>
        public readonly bool IsLoadable => Fits && ByteSize != 0 && ByteSize <= 8;
    }

    /// <summary>
    /// What a plan may hold so that the C# it becomes compiles and loads. Sizes, offsets and element counts beyond these
    /// (possible only in malformed BTF) are not planned as they are: the member becomes raw bytes, or the whole type
    /// <see cref="PlannedKind.Opaque"/> with an <see cref="PlannedType.OpaqueReason"/> saying why, and
    /// <see cref="LayoutPlan.Warnings"/> says so.
    /// </summary>
    internal static class LayoutLimits
    {
        /// <summary>
        /// 1 MiB: the largest struct size, member end offset, array size in bytes and array element count a plan holds.
        /// It is the CLR's limit for an <c>[InlineArray]</c> struct (enforced since .NET 9), which arrays and raw-byte
        /// members are emitted as, and far above any kernel type (the largest in an x86_64 vmlinux, <c>pglist_data</c>,
        /// is 174,848 bytes); <c>StructLayout.Size</c> and <c>FieldOffset</c> (int) are then always in range.
        /// </summary>
        public const uint MaxTypeSize = 1u << 20;

        /// <summary>The most fields a planned type may have once anonymous members are flattened (a kernel type has a few hundred).</summary>
        public const int MaxFields = 1 << 16;
    }

    /// <summary>Kind of a planned type.</summary>
    internal enum PlannedKind
    {
        /// <summary>A struct.</summary>
        Struct,
        /// <summary>A union.</summary>
        Union,
        /// <summary>An enum.</summary>
        Enum,
        /// <summary>
        /// An opaque type (forward declaration, a pointee not requested, or a requested type C# cannot represent, see
        /// <see cref="LayoutLimits"/>): no members, usable only behind pointers.
        /// </summary>
        Opaque,
    }

    /// <summary>A type to emit.</summary>
    internal sealed class PlannedType
    {
        /// <summary>Unique name in the plan (kernel name, <c>___N</c> for duplicates, typedef name for typedef'd anonymous types).</summary>
        public string Name { get; set; } = "";
        /// <summary>The kind.</summary>
        public PlannedKind Kind { get; set; }
        /// <summary>The BTF name ("" for anonymous types, which are named after their typedef or parent member).</summary>
        public string BtfName { get; set; } = "";
        /// <summary>True when the BTF type is anonymous and <see cref="BtfName"/> is the typedef that names it (<c>atomic_t</c>).</summary>
        public bool NamedByTypedef { get; set; }
        /// <summary>The C spelling: <c>struct task_struct</c>, <c>atomic_t</c>, <c>enum pid_type</c>.</summary>
        public string CName { get; set; } = "";
        /// <summary>Size in bytes.</summary>
        public uint Size { get; set; }
        /// <summary>Alignment libbpf computes (1 when packed).</summary>
        public int Alignment { get; set; }
        /// <summary>True when libbpf would mark the struct packed.</summary>
        public bool IsPacked { get; set; }
        /// <summary>Fields (struct/union), flattened through anonymous members, in declaration order.</summary>
        public List<PlannedField> Fields { get; } = new List<PlannedField>();
        /// <summary>Enumerators (enum).</summary>
        public List<KeyValuePair<string, ulong>> Values { get; } = new List<KeyValuePair<string, ulong>>();
        /// <summary>For enums: signed values.</summary>
        public bool IsSigned { get; set; }
        /// <summary>For enums: the scalar representation.</summary>
        public ScalarKind Underlying { get; set; }
        /// <summary>Anonymous struct/union types declared inside this one (named <c>__anon_member</c>), emitted as nested types.</summary>
        public List<PlannedType> Nested { get; } = new List<PlannedType>();
        /// <summary>True for a nested anonymous type.</summary>
        public bool IsNested { get; set; }
        /// <summary>Why it is opaque, for docs. For a type too large for C# it starts with <c>C# cannot represent it: </c>.</summary>
        public string? OpaqueReason { get; set; }
        /// <summary>The BTF type id (diagnostics only; never used for naming or order).</summary>
        public int BtfId { get; set; }
    }

    /// <summary>An enumerator of an anonymous enum: its name, its value as BTF stores it, and its enum's size and signedness.</summary>
    internal sealed class AnonymousEnumConstant
    {
        /// <summary>Creates the constant.</summary>
        public AnonymousEnumConstant(string name, ulong rawValue, uint enumSize, bool signed) { Name = name; RawValue = rawValue; EnumSize = enumSize; Signed = signed; }
        /// <summary>The enumerator's name.</summary>
        public string Name { get; }
        /// <summary>The value's bits (sign-extended for a signed enum).</summary>
        public ulong RawValue { get; }
        /// <summary>Size of the enum in bytes (4 for ENUM, up to 8 for ENUM64).</summary>
        public uint EnumSize { get; }
        /// <summary>Whether the enum is signed (kind_flag).</summary>
        public bool Signed { get; }
    }

    /// <summary>Everything to emit for a request: the named types and their closure, ordered by name.</summary>
    internal sealed class LayoutPlan
    {
        /// <summary>Top-level types, ordered by name (ordinal).</summary>
        public List<PlannedType> Types { get; } = new List<PlannedType>();
        /// <summary>Anonymous enums reached by value: their enumerators, emitted as constants.</summary>
        public List<AnonymousEnumConstant> AnonymousEnumConstants { get; } = new List<AnonymousEnumConstant>();
        /// <summary>Target pointer size (4 or 8).</summary>
        public int PointerSize { get; set; }
        /// <summary>True for big-endian targets (bitfield bit numbering follows it).</summary>
        public bool BigEndian { get; set; }
        /// <summary>Where the BTF came from.</summary>
        public string SourceName { get; set; } = "";
        /// <summary>Warnings about types or members that could not be represented exactly (each names the type).</summary>
        public List<string> Warnings { get; } = new List<string>();
    }
}
