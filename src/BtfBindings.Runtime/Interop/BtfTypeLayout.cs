using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace BtfBindings
{
    /// <summary>One field of a generated type: where the build-time kernel had it. Read by the CO-RE matcher.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class BtfFieldLayout
    {
        /// <summary>The C member name.</summary>
        public string Name { get; }
        /// <summary>Bit offset from the start of the type.</summary>
        public uint BitOffset { get; }
        /// <summary>Size in bits (bitfield width, or 8 × byte size).</summary>
        public uint BitSize { get; }
        /// <summary>True for bitfields.</summary>
        public bool IsBitfield { get; }
        /// <summary>True for signed integers and signed enums.</summary>
        public bool IsSigned { get; }
        /// <summary>Value kind.</summary>
        public BtfFieldKind Kind { get; }
        /// <summary>The C type spelling, e.g. <c>pid_t</c>.</summary>
        public string CType { get; }
        /// <summary>For struct/union/enum fields (and arrays of them): the kernel type name; "" when anonymous.</summary>
        public string TypeName { get; }
        /// <summary>For arrays: the element count.</summary>
        public uint ArrayLength { get; }
        /// <summary>For arrays: the element kind.</summary>
        public BtfFieldKind ElementKind { get; }
        /// <summary>Byte offset (bit offset / 8).</summary>
        public uint ByteOffset => BitOffset / 8;
        /// <summary>Byte size of the field's type (for bitfields, of the storage type).</summary>
        public uint ByteSize { get; }
        /// <summary>
        /// For a struct/union field: the generated layout of the field's own type (<c>sched_entity.BtfLayout</c>), so that
        /// resolving the owner resolves the member's type too and a view reaches <c>task.se</c> without a lookup; null
        /// otherwise (and in metadata built without generated code, where <see cref="CoreTypeResolution.Nested(int, BtfTypeLayout)"/>
        /// resolves the member on first use instead).
        /// </summary>
        public BtfTypeLayout? TypeLayout { get; }

        /// <summary>Creates the record (generated code calls this).</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public BtfFieldLayout(string name, uint bitOffset, uint bitSize, bool isBitfield, bool isSigned, BtfFieldKind kind,
            string cType, uint byteSize, string typeName = "", uint arrayLength = 0, BtfFieldKind elementKind = BtfFieldKind.Bytes,
            BtfTypeLayout? typeLayout = null)
        {
            Name = name; BitOffset = bitOffset; BitSize = bitSize; IsBitfield = isBitfield; IsSigned = isSigned; Kind = kind;
            CType = cType; ByteSize = byteSize; TypeName = typeName; ArrayLength = arrayLength; ElementKind = elementKind;
            TypeLayout = typeLayout;
        }

        /// <summary>Like pahole: <c>pid_t pid; /* 1264 4 */</c>.</summary>
        public override string ToString() => IsBitfield ? $"{CType} {Name}:{BitSize} /* bit {BitOffset} */" : $"{CType} {Name} /* {ByteOffset} {ByteSize} */";
    }

    /// <summary>The build-time layout of one generated type, without reflection (AOT-safe).</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class BtfTypeLayout
    {
        /// <summary>The kernel's name of the type (what CO-RE matching looks up; flavors and <c>___N</c> are ignored there).</summary>
        public string BtfName { get; }
        /// <summary>Struct, union or enum.</summary>
        public BtfKind Kind { get; }
        /// <summary>Size in bytes at build time.</summary>
        public uint Size { get; }
        /// <summary>Fields, flattened through anonymous members, in declaration order.</summary>
        public IReadOnlyList<BtfFieldLayout> Fields { get; }
        /// <summary>For enums: enumerator names and raw values.</summary>
        public IReadOnlyList<KeyValuePair<string, ulong>> EnumValues { get; }
        /// <summary>The BTF file the layout came from.</summary>
        public string SourceFile { get; }
        /// <summary>Pointer size of the build-time target.</summary>
        public int PointerSize { get; }

        /// <summary>True when the kernel type is anonymous and <see cref="BtfName"/> is the typedef naming it (<c>atomic_t</c>): match through the typedef.</summary>
        public bool NamedByTypedef { get; }

        /// <summary>For enums: true when the BTF enum is signed (its raw values in <see cref="EnumValues"/> are then sign-extended).</summary>
        public bool IsSigned { get; }

        /// <summary>Creates the record (generated code calls this).</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public BtfTypeLayout(string btfName, BtfKind kind, uint size, BtfFieldLayout[] fields, string sourceFile, int pointerSize,
            KeyValuePair<string, ulong>[]? enumValues = null, bool namedByTypedef = false, bool isSigned = false)
        {
            NamedByTypedef = namedByTypedef;
            IsSigned = isSigned;
            BtfName = btfName; Kind = kind; Size = size; Fields = fields; SourceFile = sourceFile; PointerSize = pointerSize;
            EnumValues = enumValues ?? Array.Empty<KeyValuePair<string, ulong>>();
        }

        /// <summary>
        /// Decodes a struct/union layout the generator wrote as one string rather than a constructor call per field, so the
        /// generated code every build compiles stays small. Values are separated by NUL, which no BTF name holds: the kernel
        /// name, kind, size, source file, pointer size, named-by-typedef (0/1), field count; then per field its name, bit
        /// offset, bit size, flags (1 bitfield, 2 signed), kind, C type, byte size, type name, array length, element kind,
        /// and the index of its own type's layout in <paramref name="memberLayouts"/> (-1 for none).
        /// </summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public static BtfTypeLayout Decode(string encoded, BtfTypeLayout[]? memberLayouts)
        {
            var v = encoded.Split('\0');
            int k = 0;
            string Next() => v[k++];
            uint U() => uint.Parse(v[k++], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
            int I() => int.Parse(v[k++], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture);
            string name = Next();
            var kind = (BtfKind)U();
            uint size = U();
            string source = Next();
            int pointerSize = I();
            bool byTypedef = U() != 0;
            var fields = new BtfFieldLayout[U()];
            for (int i = 0; i < fields.Length; i++)
            {
                string fname = Next();
                uint bitOffset = U(), bitSize = U(), flags = U();
                var fkind = (BtfFieldKind)U();
                string ctype = Next();
                uint byteSize = U();
                string typeName = Next();
                uint length = U();
                var elementKind = (BtfFieldKind)U();
                int member = I();
                fields[i] = new BtfFieldLayout(fname, bitOffset, bitSize, (flags & 1) != 0, (flags & 2) != 0, fkind, ctype, byteSize,
                    typeName, length, elementKind, member < 0 ? null : memberLayouts![member]);
            }
            if (k != v.Length) throw new FormatException($"encoded layout of {name}: {v.Length - k} values left over");
            return new BtfTypeLayout(name, kind, size, fields, source, pointerSize, null, byTypedef);
        }

        /// <summary>The field named <paramref name="name"/>, or null.</summary>
        public BtfFieldLayout? Field(string name)
        {
            foreach (var f in Fields) if (f.Name == name) return f;
            return null;
        }
    }

#if !BTFBINDINGS_GENERATOR // static abstract members need .NET 7+; the compiler-side copy has no generated types
    /// <summary>Implemented by every generated struct/union: its build-time layout, reachable from generic code without reflection.</summary>
    public interface IBtfType
    {
        /// <summary>The layout the type was generated from.</summary>
        static abstract BtfTypeLayout BtfLayout { get; }
    }
#endif
}
