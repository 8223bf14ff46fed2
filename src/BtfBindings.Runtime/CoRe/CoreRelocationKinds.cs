using System;

namespace BtfBindings
{
    /// <summary>
    /// libbpf's field relocation kinds (<c>enum bpf_core_relo_kind</c>), as a set: which relocations of a field libbpf
    /// refuses when several same-named target types have it and give different values
    /// (<see cref="CoreFieldResolution.AmbiguousKinds"/>).
    /// </summary>
    /// <remarks>Internal: the API stays small (a field's <c>IsAmbiguous</c> and the exception's message say the rest).</remarks>
    [Flags]
    internal enum CoreRelocationKinds
    {
        /// <summary>No relocation.</summary>
        None = 0,
        /// <summary><c>FIELD_EXISTS</c> (refused only when the candidates put the field at different bit offsets).</summary>
        Exists = 1,
        /// <summary><c>FIELD_BYTE_OFFSET</c>.</summary>
        ByteOffset = 2,
        /// <summary><c>FIELD_BYTE_SIZE</c> (here also the field's array shape).</summary>
        ByteSize = 4,
        /// <summary><c>FIELD_SIGNED</c>.</summary>
        Signed = 8,
        /// <summary><c>FIELD_LSHIFT_U64</c>.</summary>
        LeftShift = 16,
        /// <summary><c>FIELD_RSHIFT_U64</c>.</summary>
        RightShift = 32,
        /// <summary>What a read or write of the value needs besides existence.</summary>
        Value = ByteOffset | ByteSize | Signed | LeftShift | RightShift,
        /// <summary>Every field relocation ("field offset ambiguity": the candidates put the field at different bit offsets).</summary>
        All = Exists | Value,
    }
}
