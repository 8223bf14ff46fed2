namespace BtfBindings
{
    /// <summary>
    /// libbpf's field relocation values for one access path resolved by name (<see cref="TargetKernel.ResolveField"/>):
    /// <c>FIELD_EXISTS</c>, <c>FIELD_BYTE_OFFSET</c>, <c>FIELD_BYTE_SIZE</c>, <c>FIELD_SIGNED</c>,
    /// <c>FIELD_LSHIFT_U64</c>, <c>FIELD_RSHIFT_U64</c>, all relative to the root type.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class CoreFieldRelocation
    {
        internal CoreFieldRelocation(string path, bool exists, string? problem, ulong bitOffset, uint bitSize, bool bitfield, ulong byteOffset, uint byteSize, bool signed, int lshift, int rshift, bool loadable = true)
        {
            Path = path; Exists = exists; Problem = problem; BitOffset = bitOffset; BitSize = bitSize; IsBitfield = bitfield;
            ByteOffset = (uint)byteOffset; ByteSize = byteSize; IsSigned = signed; LeftShift = lshift; RightShift = rshift;
            IsLoadable = exists && loadable;
        }

        internal static CoreFieldRelocation Missing(string path, string problem) => new CoreFieldRelocation(path, false, problem, 0, 0, false, 0, 0, false, 0, 0);

        internal static CoreFieldRelocation Plain(string path, ulong bitOffset, uint size, bool signed, bool bigEndian)
        {
            int l = 0, r = 0;
            if (size > 0 && size <= 8) { l = bigEndian ? (int)((8 - size) * 8) : (int)(64 - size * 8); r = (int)(64 - size * 8); }
            return new CoreFieldRelocation(path, true, null, bitOffset, size * 8, false, bitOffset / 8, size, signed, l, r);
        }

        /// <summary>
        /// This relocation as several same-named candidates give it: <paramref name="refused"/> are the kinds whose values
        /// differ between them (libbpf refuses those), <paramref name="loadable"/> false when one of them cannot load a bitfield.
        /// </summary>
        internal CoreFieldRelocation Ambiguous(CoreRelocationKinds refused, bool loadable, string? problem, string? summary, string[] candidates, string? viewProblem)
        {
            var r = new CoreFieldRelocation(Path, Exists, problem, BitOffset, BitSize, IsBitfield, ByteOffset, ByteSize, IsSigned, LeftShift, RightShift, loadable && IsLoadable)
            {
                AmbiguousKinds = refused, AmbiguousCandidates = refused != CoreRelocationKinds.None ? candidates : null, ViewProblem = viewProblem, AmbiguitySummary = summary,
            };
            return r.At(Member!);
        }

        /// <summary>
        /// The relocations libbpf refuses because the same-named candidates on which the path matches give different
        /// values for them (a different size, signedness or bitfield shifts at one offset; <see cref="Problem"/> names them
        /// and the candidates). At different offsets libbpf refuses every relocation: <see cref="TargetKernel.ResolveField"/> throws.
        /// </summary>
        internal CoreRelocationKinds AmbiguousKinds { get; private set; }

        /// <summary>The candidates and what they disagree on, in a few words ("2 struct s ([3], [5]) put v at byte 0 but differ in its size"), else null.</summary>
        internal string? AmbiguitySummary { get; private set; }

        /// <summary>The candidates that disagree (see <see cref="AmbiguousKinds"/>), else null.</summary>
        internal string[]? AmbiguousCandidates { get; private set; }

        /// <summary>
        /// Why a generated view cannot reach this path although libbpf relocates it (a struct member on the way that the
        /// candidates put at different offsets: the view places the member, libbpf sums each candidate's path), else null.
        /// </summary>
        internal string? ViewProblem { get; private set; }

        internal CoreResolver.RelocationValues Values
            => new CoreResolver.RelocationValues(BitOffset, ByteOffset, ByteSize, default, IsSigned, LeftShift, RightShift);

        /// <summary>The values, for messages: "offset 8 size 4 signed &lt;&lt;32 &gt;&gt;32".</summary>
        internal string Describe() => $"offset {ByteOffset} size {ByteSize}{(IsSigned ? " signed" : "")} <<{LeftShift} >>{RightShift}{(IsBitfield ? $" (bit {BitOffset}:{BitSize})" : "")}";

        /// <summary>The resolution of the member the path ends at, or stops at when missing (readability, why not).</summary>
        internal CoreFieldResolution? Member { get; private set; }

        internal CoreFieldRelocation At(CoreFieldResolution member) { Member = member; return this; }

        /// <summary>The access path.</summary>
        public string Path { get; }
        /// <summary><c>FIELD_EXISTS</c>.</summary>
        public bool Exists { get; }
        /// <summary>Why the field is missing, not loadable or ambiguous (<see cref="AmbiguousKinds"/>), else null.</summary>
        public string? Problem { get; }
        /// <summary>
        /// False when the field is missing, or is a bitfield no naturally aligned 8-byte load holds (then libbpf refuses
        /// every relocation of it but <c>FIELD_EXISTS</c>: "can't be satisfied for bitfield"; offset, size and shifts here are meaningless).
        /// </summary>
        public bool IsLoadable { get; }
        /// <summary>Bit offset from the start of the root type.</summary>
        public ulong BitOffset { get; }
        /// <summary>Size in bits (bitfield width, or 8 × byte size).</summary>
        public uint BitSize { get; }
        /// <summary>True for a bitfield (or a member that is not byte aligned).</summary>
        public bool IsBitfield { get; }
        /// <summary><c>FIELD_BYTE_OFFSET</c> (for bitfields: the load window's start).</summary>
        public uint ByteOffset { get; }
        /// <summary><c>FIELD_BYTE_SIZE</c> (for bitfields: the load window's size).</summary>
        public uint ByteSize { get; }
        /// <summary><c>FIELD_SIGNED</c>.</summary>
        public bool IsSigned { get; }
        /// <summary><c>FIELD_LSHIFT_U64</c>, in the target's byte order.</summary>
        public int LeftShift { get; }
        /// <summary><c>FIELD_RSHIFT_U64</c>.</summary>
        public int RightShift { get; }

        /// <inheritdoc />
        public override string ToString() => !Exists ? $"{Path}: missing ({Problem})"
            : $"{Path}: {Describe()}{(AmbiguousKinds != CoreRelocationKinds.None ? $" (ambiguous: {CoreResolver.Spell(AmbiguousKinds)})" : "")}";
    }
}
