using System;

namespace BtfBindings
{
    /// <summary>How a generated field compares with the target kernel's field of the same name.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    enum CoreFieldStatus
    {
        /// <summary>Same place, same size: reads at the build-time offset would have been right.</summary>
        Unchanged,
        /// <summary>Exists at another offset (or bit position), same size.</summary>
        Moved,
        /// <summary>Exists with another size (an unsigned integer or pointer widened or narrowed, an array with another length, a struct that grew…).</summary>
        Resized,
        /// <summary>Exists, but its value cannot be read as the generated type (a signed integer, enum or float whose size changed).</summary>
        Unreadable,
        /// <summary>The target has no compatible field of this name.</summary>
        Missing,
        /// <summary>
        /// Several same-named target types have the field and disagree on it; <see cref="CoreFieldResolution.AmbiguousKinds"/>
        /// says on what. At different offsets libbpf refuses every relocation of it (field offset ambiguity): checking
        /// (<see cref="CoreTypeResolution.Exists(int)"/>) or using it throws a <see cref="CoreException"/> naming the kernel
        /// and the candidates. At one offset with another size, signedness or bitfield shifts, libbpf refuses only those
        /// relocations: the field exists and its offset holds (a struct member's view works), reading its value throws.
        /// The type's other fields stay usable.
        /// </summary>
        Ambiguous,
    }

    /// <summary>
    /// Where one field of a generated type lives in the target kernel: libbpf's field relocation values
    /// (<c>FIELD_EXISTS</c>, <c>FIELD_BYTE_OFFSET</c>, <c>FIELD_BYTE_SIZE</c>, <c>FIELD_SIGNED</c>,
    /// <c>FIELD_LSHIFT_U64</c>, <c>FIELD_RSHIFT_U64</c>) plus what the relocatable view needs.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class CoreFieldResolution
    {
        internal CoreFieldResolution(BtfFieldLayout local, int index)
        {
            Local = local;
            Index = index;
        }

        /// <summary>The generated (build-time) field.</summary>
        public BtfFieldLayout Local { get; }

        /// <summary>Index of the field in <see cref="BtfTypeLayout.Fields"/>.</summary>
        public int Index { get; }

        /// <summary>The field name.</summary>
        public string Name => Local.Name;

        /// <summary><c>FIELD_EXISTS</c>: the target has a field of this name with a compatible type.</summary>
        public bool Exists { get; internal set; }

        /// <summary>True when the field exists and its value can be read and written as the generated type.</summary>
        public bool IsReadable { get; internal set; }

        /// <summary>Why the field is missing, unreadable or ambiguous (null otherwise).</summary>
        public string? Problem { get; internal set; }

        /// <summary>True when the target has a member of this name whose type libbpf's field rule rejects (missing for CO-RE, but not absent).</summary>
        internal bool HasIncompatibleType { get; set; }

        /// <summary>Comparison with the build-time layout.</summary>
        public CoreFieldStatus Status { get; internal set; }

        /// <summary>Exact bit offset in the target type (summed through anonymous members).</summary>
        public uint BitOffset { get; internal set; }

        /// <summary>Size in bits in the target (bitfield width, or 8 × byte size).</summary>
        public uint BitSize { get; internal set; }

        /// <summary>True when the target field is a bitfield (or not byte aligned).</summary>
        public bool IsBitfield { get; internal set; }

        /// <summary>
        /// <c>FIELD_BYTE_OFFSET</c>: for plain fields the byte offset; for bitfields the start of libbpf's load
        /// window (the smallest naturally aligned 1/2/4/8-byte unit, starting from the member type's size, that holds the
        /// bits), relative to this object. libbpf aligns the window in the ROOT object (the outermost struct a view
        /// reads), so in the resolution of a struct member it can start before the member: then this is 0 and
        /// <see cref="WindowOffset"/> is negative.
        /// </summary>
        public uint ByteOffset { get; internal set; }

        /// <summary>
        /// Where the load starts relative to this object's first byte: <see cref="ByteOffset"/>, or for a bitfield of a
        /// struct member whose root-relative window (libbpf <c>bpf_core_calc_field_relo</c>) begins before the member, a
        /// negative offset (down to -7): such a bitfield is read through a view of the object that contains the member.
        /// </summary>
        public int WindowOffset { get; internal set; }

        /// <summary>For bitfields: the size of the target member's type (libbpf's starting window size).</summary>
        internal uint MemberTypeSize { get; set; }

        /// <summary><c>FIELD_BYTE_SIZE</c>: the size of the field's type (whole array for arrays); for bitfields the load window size.</summary>
        public uint ByteSize { get; internal set; }

        /// <summary><c>FIELD_SIGNED</c>: a signed integer or an enum with the signed flag, in the target.</summary>
        public bool IsSigned { get; internal set; }

        /// <summary><c>FIELD_LSHIFT_U64</c>: after loading <see cref="ByteSize"/> bytes at <see cref="ByteOffset"/> as a u64 (target byte order), shift left by this…</summary>
        public int LeftShift { get; internal set; }

        /// <summary><c>FIELD_RSHIFT_U64</c>: …then right by this (arithmetic when <see cref="IsSigned"/>) to get the value.</summary>
        public int RightShift { get; internal set; }

        /// <summary>The target member's type after typedefs and qualifiers (null when missing or unverified).</summary>
        public BtfType? TargetType { get; internal set; }

        /// <summary>The kind of value the target field holds.</summary>
        public BtfFieldKind TargetKind { get; internal set; }

        /// <summary>For arrays: the target's outer element count (0 for flexible arrays).</summary>
        public uint ArrayLength { get; internal set; }

        /// <summary>For arrays: the target's size of one outer element (a row for multi-dimensional arrays).</summary>
        public uint ArrayElementSize { get; internal set; }

        /// <summary>For arrays: size of the innermost scalar/struct element in the target.</summary>
        public uint InnerElementSize { get; internal set; }

        /// <summary>For arrays: the target's innermost element type id (after typedefs), for arrays of structs.</summary>
        internal int InnerElementTypeId { get; set; }

        /// <summary>True for a flexible array (length 0) in the target.</summary>
        public bool IsFlexibleArray { get; internal set; }

        /// <summary>For an ambiguous field: the candidates and what they disagree on, in a few words ("2 struct mm_slot ([29595], [30148]) put mm at byte 40 vs byte 32").</summary>
        internal string? AmbiguitySummary { get; set; }

        /// <summary>For an ambiguous field (<see cref="CoreFieldStatus.Ambiguous"/>): the candidates that have it and disagree, else null.</summary>
        internal string[]? AmbiguousCandidates { get; set; }

        /// <summary>True when same-named candidates that have the field disagree on it (<see cref="CoreFieldStatus.Ambiguous"/>).</summary>
        public bool IsAmbiguous => AmbiguousCandidates != null;

        /// <summary>
        /// The relocations libbpf refuses for this field because the same-named candidates that have it give different
        /// values: <see cref="CoreRelocationKinds.All"/> when they put it at different offsets (then <see cref="Exists"/>
        /// is false and checking it throws), else the kinds that differ (size, signedness, shifts); None when unambiguous.
        /// </summary>
        internal CoreRelocationKinds AmbiguousKinds { get; set; }

        /// <summary>The same field in every candidate that has it at this offset (agreeing on it, or on all but <see cref="AmbiguousKinds"/>), for nested resolution.</summary>
        internal CoreFieldResolution[]? Agreeing { get; set; }

        /// <summary>True when the field exists as a plain (non-bitfield, byte-aligned) field.</summary>
        internal bool IsPlain => Exists && !IsBitfield;

        /// <summary>The values libbpf compares between candidates (<see cref="CoreResolver.Disagreement"/>); the array shape and readability count as size.</summary>
        internal CoreResolver.RelocationValues Values
            => new CoreResolver.RelocationValues(BitOffset, WindowOffset, ByteSize,
                (ArrayLength, ArrayElementSize, InnerElementSize, IsReadable, IsBitfield),
                IsSigned, LeftShift, RightShift);

        /// <summary>One line: where the field is in the target, or why it is not there.</summary>
        public string Describe()
        {
            if (IsAmbiguous && !Exists) return "ambiguous: " + Problem;
            if (!Exists) return "missing: " + (Problem ?? "not found");
            string where = IsBitfield
                ? $"bit {BitOffset} ({BitSize} bits; load {ByteSize} bytes at {WindowOffset}, <<{LeftShift} >>{RightShift}{(IsSigned ? " signed" : "")})"
                : $"offset {ByteOffset}, size {ByteSize}";
            if (ArrayLength > 0 || IsFlexibleArray) where += IsFlexibleArray ? ", flexible array" : $", {ArrayLength} x {ArrayElementSize} bytes";
            return IsAmbiguous ? where + "; ambiguous: " + Problem : IsReadable ? where : where + "; unreadable: " + Problem;
        }

        /// <inheritdoc />
        public override string ToString() => Name + ": " + Describe();
    }
}
