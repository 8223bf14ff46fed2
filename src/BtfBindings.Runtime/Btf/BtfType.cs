using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>
    /// A view of one BTF type record: a (BTF, id) pair that reads fields from the underlying bytes on
    /// demand. Cheap to copy; equal when it names the same id of the same BTF.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    readonly struct BtfType : IEquatable<BtfType>
    {
        /// <summary>The BTF that owns this id (the base, for base types of split BTF).</summary>
        public Btf Btf { get; }

        /// <summary>The type id; 0 is void.</summary>
        public int Id { get; }

        // Where the record starts in the owner's data (found once, so reading a field is one load).
        private readonly int _offset;

        internal BtfType(Btf btf, int id)
        {
            Btf = id == 0 ? btf : btf.OwnerOf(id);
            Id = id;
            _offset = id == 0 ? 0 : Btf.OffsetOf(id);
        }

        /// <summary>A type of <paramref name="owner"/> itself, whose record is at <paramref name="offset"/>.</summary>
        internal BtfType(Btf owner, int id, int offset) { Btf = owner; Id = id; _offset = offset; }

        private uint Info => Id == 0 ? 0 : Btf.WordAt(_offset, 1);

        /// <summary>The kind; <see cref="BtfKind.Void"/> for id 0. Kinds beyond 19 (described only by a kind layout section) are returned as their number.</summary>
        public BtfKind Kind => Id == 0 ? BtfKind.Void : (BtfKind)((Btf.WordAt(_offset, 1) >> 24) & 0x7f);

        /// <summary>The raw kind_flag bit (bitfield member encoding, union forward, signed enum, attribute type tag).</summary>
        public bool KindFlag => (Info >> 31) != 0;

        /// <summary>The vlen field: member, enumerator, parameter or section-variable count; FUNC linkage.</summary>
        public int Vlen => (int)(Info & 0xffffff);

        /// <summary>Offset of the name in the string section (0 for anonymous).</summary>
        public uint NameOffset => Id == 0 ? 0 : Btf.WordAt(_offset, 0);

        /// <summary>The name, or "" for anonymous types and void.</summary>
        public string Name => NameOffset == 0 ? string.Empty : Btf.GetString(NameOffset);

        /// <summary>True if the type has no name.</summary>
        public bool IsAnonymous => NameOffset == 0;

        internal ReadOnlySpan<byte> NameUtf8 => NameOffset == 0 ? default : Btf.StringBytes(NameOffset);

        /// <summary>The size field (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT).</summary>
        public uint Size => Id == 0 ? 0 : Btf.WordAt(_offset, 2);

        /// <summary>The referenced type id (PTR, TYPEDEF, qualifiers, FUNC, VAR, DECL_TAG, TYPE_TAG; FUNC_PROTO return type).</summary>
        public int TypeId => Id == 0 ? 0 : (int)Btf.WordAt(_offset, 2);

        /// <summary>The referenced type (see <see cref="TypeId"/>).</summary>
        public BtfType Type => Btf[TypeId];

        // INT
        private uint IntWord => Btf.WordAt(_offset, 3);
        /// <summary>INT encoding (signed, char, bool).</summary>
        internal BtfIntEncoding IntEncoding => (BtfIntEncoding)((IntWord >> 24) & 0x0f);
        /// <summary>INT bit offset (legacy bitfield encoding; normally 0).</summary>
        public int IntBitOffset => (int)((IntWord >> 16) & 0xff);
        /// <summary>INT number of value bits.</summary>
        public int IntBits => (int)(IntWord & 0xff);
        /// <summary>True for an INT encoded as a character (<c>BTF_INT_CHAR</c>).</summary>
        public bool IsChar => Kind == BtfKind.Int && (IntEncoding & BtfIntEncoding.Char) != 0;
        /// <summary>True for an INT encoded as a boolean (<c>BTF_INT_BOOL</c>).</summary>
        public bool IsBool => Kind == BtfKind.Int && (IntEncoding & BtfIntEncoding.Bool) != 0;
        /// <summary>True for a signed INT, or an ENUM/ENUM64 with the signed flag.</summary>
        public bool IsSigned => Kind switch
        {
            BtfKind.Int => (IntEncoding & BtfIntEncoding.Signed) != 0,
            BtfKind.Enum or BtfKind.Enum64 => KindFlag,
            _ => false,
        };

        // ARRAY
        /// <summary>ARRAY element type id.</summary>
        public int ArrayElementTypeId => (int)Btf.WordAt(_offset, 3);
        /// <summary>ARRAY index type id.</summary>
        public int ArrayIndexTypeId => (int)Btf.WordAt(_offset, 4);
        /// <summary>ARRAY element count (0 for flexible or zero-length arrays).</summary>
        public uint ArrayLength => Btf.WordAt(_offset, 5);

        // STRUCT / UNION
        /// <summary>Member <paramref name="index"/> of a STRUCT or UNION.</summary>
        public BtfMember GetMember(int index)
        {
            CheckIndex(index);
            uint off = Btf.WordAt(_offset, 3 + index * 3 + 2);
            bool kf = KindFlag;
            return new BtfMember(Btf, Btf.WordAt(_offset, 3 + index * 3), (int)Btf.WordAt(_offset, 3 + index * 3 + 1),
                kf ? off & 0xffffff : off, kf ? (int)(off >> 24) : 0, index);
        }

        /// <summary>Members of a STRUCT or UNION in declaration order.</summary>
        public IEnumerable<BtfMember> Members
        {
            get { int n = IsComposite ? Vlen : 0; for (int i = 0; i < n; i++) yield return GetMember(i); }
        }

        /// <summary>True for STRUCT and UNION.</summary>
        public bool IsComposite => Kind == BtfKind.Struct || Kind == BtfKind.Union;

        // ENUM / ENUM64
        /// <summary>Enumerator <paramref name="index"/> of an ENUM or ENUM64.</summary>
        public BtfEnumValue GetEnumValue(int index)
        {
            CheckIndex(index);
            if (Kind == BtfKind.Enum64)
            {
                ulong raw = Btf.WordAt(_offset, 3 + index * 3 + 1) | ((ulong)Btf.WordAt(_offset, 3 + index * 3 + 2) << 32);
                return new BtfEnumValue(Btf, Btf.WordAt(_offset, 3 + index * 3), raw, KindFlag);
            }
            uint v = Btf.WordAt(_offset, 3 + index * 2 + 1);
            return new BtfEnumValue(Btf, Btf.WordAt(_offset, 3 + index * 2), KindFlag ? (ulong)(long)(int)v : v, KindFlag);
        }

        /// <summary>Enumerators of an ENUM or ENUM64.</summary>
        public IEnumerable<BtfEnumValue> EnumValues
        {
            get { int n = Kind is BtfKind.Enum or BtfKind.Enum64 ? Vlen : 0; for (int i = 0; i < n; i++) yield return GetEnumValue(i); }
        }

        // FUNC_PROTO
        /// <summary>Parameter <paramref name="index"/> of a FUNC_PROTO.</summary>
        public BtfParam GetParam(int index)
        {
            CheckIndex(index);
            return new BtfParam(Btf, Btf.WordAt(_offset, 3 + index * 2), (int)Btf.WordAt(_offset, 3 + index * 2 + 1));
        }

        /// <summary>Parameters of a FUNC_PROTO (a last parameter with type 0 and no name means "...").</summary>
        public IEnumerable<BtfParam> Params
        {
            get { int n = Kind == BtfKind.FuncProto ? Vlen : 0; for (int i = 0; i < n; i++) yield return GetParam(i); }
        }

        // VAR / FUNC
        /// <summary>Linkage of a VAR (its extra word) or FUNC (its vlen).</summary>
        public BtfLinkage Linkage => Kind == BtfKind.Func ? (BtfLinkage)Vlen : (BtfLinkage)Btf.WordAt(_offset, 3);

        // DATASEC
        /// <summary>Variable <paramref name="index"/> of a DATASEC.</summary>
        public BtfVarSecInfo GetVarSecInfo(int index)
        {
            CheckIndex(index);
            return new BtfVarSecInfo((int)Btf.WordAt(_offset, 3 + index * 3), Btf.WordAt(_offset, 3 + index * 3 + 1), Btf.WordAt(_offset, 3 + index * 3 + 2));
        }

        /// <summary>Variables of a DATASEC.</summary>
        public IEnumerable<BtfVarSecInfo> VarSecInfos
        {
            get { int n = Kind == BtfKind.DataSec ? Vlen : 0; for (int i = 0; i < n; i++) yield return GetVarSecInfo(i); }
        }

        // DECL_TAG
        /// <summary>DECL_TAG component index: -1 for the type itself, else a member or parameter index.</summary>
        public int ComponentIndex => (int)Btf.WordAt(_offset, 3);

        // FWD
        /// <summary>For FWD: true if it forward-declares a union.</summary>
        public bool IsUnionForward => Kind == BtfKind.Fwd && KindFlag;

        private void CheckIndex(int index)
        {
            if ((uint)index >= (uint)Vlen) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside vlen {Vlen} of type [{Id}]");
        }

        /// <inheritdoc />
        public bool Equals(BtfType other) => ReferenceEquals(Btf, other.Btf) && Id == other.Id;
        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is BtfType t && Equals(t);
        /// <inheritdoc />
        public override int GetHashCode() => Id;
        /// <summary>Like bpftool: <c>[id] KIND 'name'</c>.</summary>
        public override string ToString() => $"[{Id}] {BtfKinds.Name(Kind)} '{(IsAnonymous ? "(anon)" : Name)}'";
    }

    /// <summary>A STRUCT/UNION member.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    readonly struct BtfMember
    {
        private readonly Btf _btf;
        /// <summary>Name string offset (0 for an anonymous member).</summary>
        public uint NameOffset { get; }
        /// <summary>The member's type id.</summary>
        public int TypeId { get; }
        /// <summary>Bit offset from the start of the enclosing type.</summary>
        public uint BitOffset { get; }
        /// <summary>Bitfield width in bits, or 0 when the member is not a bitfield (per the kind_flag encoding).</summary>
        public int BitfieldSize { get; }
        /// <summary>Index of this member in its parent.</summary>
        public int Index { get; }
        internal BtfMember(Btf btf, uint nameOff, int typeId, uint bitOffset, int bitfieldSize, int index)
        { _btf = btf; NameOffset = nameOff; TypeId = typeId; BitOffset = bitOffset; BitfieldSize = bitfieldSize; Index = index; }
        /// <summary>The member name, "" when anonymous.</summary>
        public string Name => NameOffset == 0 ? string.Empty : _btf.GetString(NameOffset);
        /// <summary>True if the member has no name (an embedded anonymous struct/union, or padding).</summary>
        public bool IsAnonymous => NameOffset == 0;
        /// <summary>The member's type.</summary>
        public BtfType Type => _btf[TypeId];
    }

    /// <summary>An ENUM/ENUM64 enumerator.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    readonly struct BtfEnumValue
    {
        private readonly Btf _btf;
        /// <summary>Name string offset.</summary>
        public uint NameOffset { get; }
        /// <summary>The value's bits, sign-extended to 64 bits when the enum is signed.</summary>
        public ulong RawValue { get; }
        /// <summary>True when the enum's signed flag is set.</summary>
        public bool IsSigned { get; }
        internal BtfEnumValue(Btf btf, uint nameOff, ulong raw, bool signed) { _btf = btf; NameOffset = nameOff; RawValue = raw; IsSigned = signed; }
        /// <summary>The enumerator name.</summary>
        public string Name => _btf.GetString(NameOffset);
        /// <summary>The value as a signed number.</summary>
        public long SignedValue => (long)RawValue;
    }

    /// <summary>A FUNC_PROTO parameter.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    readonly struct BtfParam
    {
        private readonly Btf _btf;
        /// <summary>Name string offset (0 when unnamed).</summary>
        public uint NameOffset { get; }
        /// <summary>Parameter type id (0 with no name for a trailing "...").</summary>
        public int TypeId { get; }
        internal BtfParam(Btf btf, uint nameOff, int typeId) { _btf = btf; NameOffset = nameOff; TypeId = typeId; }
        /// <summary>The parameter name, "" when unnamed.</summary>
        public string Name => NameOffset == 0 ? string.Empty : _btf.GetString(NameOffset);
    }

    /// <summary>A DATASEC entry.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    readonly struct BtfVarSecInfo
    {
        /// <summary>The VAR or FUNC type id.</summary>
        public int TypeId { get; }
        /// <summary>Offset in the section.</summary>
        public uint Offset { get; }
        /// <summary>Size in the section.</summary>
        public uint Size { get; }
        internal BtfVarSecInfo(int typeId, uint offset, uint size) { TypeId = typeId; Offset = offset; Size = size; }
    }
}
