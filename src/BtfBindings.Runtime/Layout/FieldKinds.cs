namespace BtfBindings
{
    /// <summary>
    /// What kind of value a field holds, for layout matching (libbpf's <c>bpf_core_fields_are_compat</c> compares these).
    /// Defined with the layout plan, which computes it once (<see cref="Layout.FieldKinds"/>) for the generated
    /// metadata and <c>PlannedLayouts</c> alike.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    enum BtfFieldKind
    {
        /// <summary>An integer (or _Bool/char).</summary>
        Int,
        /// <summary>An enum.</summary>
        Enum,
        /// <summary>A float.</summary>
        Float,
        /// <summary>A pointer.</summary>
        Pointer,
        /// <summary>A struct.</summary>
        Struct,
        /// <summary>A union.</summary>
        Union,
        /// <summary>A fixed array.</summary>
        Array,
        /// <summary>A flexible array member (no size of its own).</summary>
        FlexibleArray,
        /// <summary>Anything else kept as raw bytes.</summary>
        Bytes,
    }

}

namespace BtfBindings.Layout
{
    /// <summary>A field's kind and the names the CO-RE matcher compares, as the generated <c>BtfFieldLayout</c> records them.</summary>
    internal readonly struct FieldKindInfo
    {
        /// <summary>Creates the record.</summary>
        public FieldKindInfo(BtfFieldKind kind, string typeName, uint arrayLength, BtfFieldKind elementKind)
        {
            Kind = kind; TypeName = typeName; ArrayLength = arrayLength; ElementKind = elementKind;
        }

        /// <summary>The field's kind (arrays: <see cref="BtfFieldKind.Array"/> or <see cref="BtfFieldKind.FlexibleArray"/>).</summary>
        public BtfFieldKind Kind { get; }
        /// <summary>For enums: the BTF name ("" when anonymous, even if a typedef names it); for named structs/unions: the planned name; else "". Arrays: of the innermost element.</summary>
        public string TypeName { get; }
        /// <summary>For arrays: the outer element count.</summary>
        public uint ArrayLength { get; }
        /// <summary>For arrays: the innermost element's kind; else <see cref="BtfFieldKind.Bytes"/>.</summary>
        public BtfFieldKind ElementKind { get; }
    }

    /// <summary>
    /// The one place a planned field's <see cref="BtfFieldKind"/> is decided, read by the C# emitter (the generated
    /// <c>BtfLayout</c> metadata) and by <c>PlannedLayouts</c> (the same metadata without generated code). An enum is
    /// an enum for matching even when C# holds it as its integer (an anonymous enum): libbpf's
    /// <c>bpf_core_fields_are_compat</c> never matches an enum with an int.
    /// </summary>
    internal static class FieldKinds
    {
        /// <summary>The kind of one type shape (not looking through arrays).</summary>
        public static BtfFieldKind Of(TypeShape s) => s.Kind switch
        {
            TypeShapeKind.Scalar => s.IsAnonymousEnum ? BtfFieldKind.Enum
                : s.Scalar == ScalarKind.F16 || s.Scalar == ScalarKind.F32 || s.Scalar == ScalarKind.F64 ? BtfFieldKind.Float : BtfFieldKind.Int,
            TypeShapeKind.Enum => BtfFieldKind.Enum,
            TypeShapeKind.Pointer => BtfFieldKind.Pointer,
            TypeShapeKind.Composite => BtfFieldKind.Struct,
            TypeShapeKind.Array => BtfFieldKind.Array,
            _ => BtfFieldKind.Bytes,
        };

        /// <summary>What the metadata records for <paramref name="f"/>.</summary>
        public static FieldKindInfo Of(PlannedField f)
        {
            var s = f.Type;
            if (s.Kind == TypeShapeKind.Array && s.Element != null)
            {
                var e = s.Element;
                while (e.Kind == TypeShapeKind.Array && e.Element != null) e = e.Element;
                return new FieldKindInfo(f.IsFlexibleArray ? BtfFieldKind.FlexibleArray : BtfFieldKind.Array, NameOf(e), s.Length, Of(e));
            }
            return new FieldKindInfo(Of(s), NameOf(s), 0, BtfFieldKind.Bytes);
        }

        private static string NameOf(TypeShape s)
        {
            if (s.Kind == TypeShapeKind.Enum) return s.EnumBtfName ?? s.TypeName ?? "";
            if (s.Kind == TypeShapeKind.Composite && !s.IsNested) return s.TypeName ?? "";
            return "";
        }
    }
}
