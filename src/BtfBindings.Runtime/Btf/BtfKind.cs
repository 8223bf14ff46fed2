namespace BtfBindings
{
    /// <summary>The kind of a BTF type record (the 7-bit kind field of the info word).</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    enum BtfKind : byte
    {
        /// <summary>Type id 0: <c>void</c>.</summary>
        Void = 0,
        /// <summary>An integer, <c>_Bool</c> or <c>char</c>.</summary>
        Int = 1,
        /// <summary>A pointer.</summary>
        Ptr = 2,
        /// <summary>A fixed-size array.</summary>
        Array = 3,
        /// <summary>A struct.</summary>
        Struct = 4,
        /// <summary>A union.</summary>
        Union = 5,
        /// <summary>An enum with 32-bit values.</summary>
        Enum = 6,
        /// <summary>A forward declaration of a struct or union.</summary>
        Fwd = 7,
        /// <summary>A typedef.</summary>
        Typedef = 8,
        /// <summary>The <c>volatile</c> qualifier.</summary>
        Volatile = 9,
        /// <summary>The <c>const</c> qualifier.</summary>
        Const = 10,
        /// <summary>The <c>restrict</c> qualifier.</summary>
        Restrict = 11,
        /// <summary>A function (name, linkage and prototype).</summary>
        Func = 12,
        /// <summary>A function prototype.</summary>
        FuncProto = 13,
        /// <summary>A variable.</summary>
        Var = 14,
        /// <summary>A data section listing variables.</summary>
        DataSec = 15,
        /// <summary>A floating-point type.</summary>
        Float = 16,
        /// <summary>A declaration tag attached to a type, member, parameter or variable.</summary>
        DeclTag = 17,
        /// <summary>A type tag (an attribute on a pointee type).</summary>
        TypeTag = 18,
        /// <summary>An enum with 64-bit values.</summary>
        Enum64 = 19,
    }

    /// <summary>Linkage of a FUNC (stored in its vlen) or VAR.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    enum BtfLinkage
    {
        /// <summary>Static (file-local).</summary>
        Static = 0,
        /// <summary>Global, defined here.</summary>
        Global = 1,
        /// <summary>Declared here, defined elsewhere.</summary>
        Extern = 2,
    }

    /// <summary>INT encoding bits.</summary>
    [System.Flags]
    internal enum BtfIntEncoding : byte
    {
        /// <summary>Unsigned, not char, not bool.</summary>
        None = 0,
        /// <summary>Signed.</summary>
        Signed = 1,
        /// <summary>Character type.</summary>
        Char = 2,
        /// <summary>Boolean.</summary>
        Bool = 4,
    }
}
