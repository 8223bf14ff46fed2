using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace BtfBindings
{
    /// <summary>
    /// Writes raw BTF: types are appended as records and ids are returned in order (the first is 1, or the
    /// base's type count for split BTF). Used by <c>btfgen minimize</c> and to build test inputs.
    /// </summary>
    internal sealed class BtfBuilder
    {
        private readonly MemoryStream _types = new MemoryStream();
        private readonly MemoryStream _strings = new MemoryStream();
        private readonly Dictionary<string, uint> _stringOffsets = new Dictionary<string, uint>(StringComparer.Ordinal);
        private readonly int _firstId;
        private readonly uint _stringBase;
        private int _count;

        /// <summary>Starts an empty BTF, or split BTF over <paramref name="baseBtf"/>.</summary>
        public BtfBuilder(Btf? baseBtf = null)
        {
            _firstId = baseBtf?.TypeCount ?? 1;
            _stringBase = (uint)(baseBtf?.StringsEnd ?? 0);
            if (baseBtf == null) { _strings.WriteByte(0); _stringOffsets[string.Empty] = 0; }
        }

        /// <summary>The id the next added type will get.</summary>
        public int NextId => _firstId + _count;

        /// <summary>Adds (or reuses) a string; returns its offset. "" is offset 0.</summary>
        public uint AddString(string s)
        {
            if (s.Length == 0) return 0; // offset 0 is the empty string, also for split BTF (it resolves into the base)
            if (_stringOffsets.TryGetValue(s, out var off)) return off;
            off = _stringBase + (uint)_strings.Length;
            var b = Encoding.UTF8.GetBytes(s);
            _strings.Write(b, 0, b.Length);
            _strings.WriteByte(0);
            _stringOffsets[s] = off;
            return off;
        }

        private void W(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _types.Write(b.ToArray(), 0, 4); }

        /// <summary>Appends a raw record: name, info (kind, vlen, kind_flag), size/type, then extra words.</summary>
        public int AddRaw(string name, BtfKind kind, int vlen, bool kindFlag, uint sizeOrType, params uint[] extra)
            => AddRaw(AddString(name), (int)kind, vlen, kindFlag, sizeOrType, extra);

        /// <summary>Appends a raw record with an explicit name offset and numeric kind (for unknown kinds and corrupt inputs).</summary>
        public int AddRaw(uint nameOffset, int kind, int vlen, bool kindFlag, uint sizeOrType, params uint[] extra)
        {
            W(nameOffset);
            W(((uint)vlen & 0xffffff) | ((uint)(kind & 0x7f) << 24) | (kindFlag ? 0x80000000u : 0));
            W(sizeOrType);
            foreach (var e in extra) W(e);
            return _firstId + _count++;
        }

        /// <summary>INT of <paramref name="size"/> bytes.</summary>
        public int AddInt(string name, int size, BtfIntEncoding enc = BtfIntEncoding.None, int bits = -1, int bitOffset = 0)
            => AddRaw(name, BtfKind.Int, 0, false, (uint)size, ((uint)enc << 24) | ((uint)bitOffset << 16) | (uint)(bits < 0 ? size * 8 : bits));

        /// <summary>PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG (name used for typedef/tag).</summary>
        public int AddRef(BtfKind kind, int typeId, string name = "", bool kindFlag = false) => AddRaw(name, kind, 0, kindFlag, (uint)typeId);

        /// <summary>ARRAY of <paramref name="length"/> elements.</summary>
        public int AddArray(int elemType, int indexType, uint length) => AddRaw("", BtfKind.Array, 0, false, 0, (uint)elemType, (uint)indexType, length);

        /// <summary>STRUCT or UNION; a member with a non-zero bitfield size sets the kind_flag encoding.</summary>
        public int AddComposite(BtfKind kind, string name, uint size, params (string name, int type, uint bitOffset, int bitfieldSize)[] members)
        {
            bool kf = false;
            foreach (var m in members) kf |= m.bitfieldSize != 0;
            var extra = new List<uint>();
            foreach (var m in members)
            {
                extra.Add(AddString(m.name)); extra.Add((uint)m.type);
                extra.Add(kf ? ((uint)m.bitfieldSize << 24) | (m.bitOffset & 0xffffff) : m.bitOffset);
            }
            return AddRaw(name, kind, members.Length, kf, size, extra.ToArray());
        }

        /// <summary>ENUM (32-bit values) or ENUM64 when <paramref name="size"/> is 8 and <paramref name="enum64"/>.</summary>
        public int AddEnum(string name, uint size, bool signed, bool enum64, params (string name, long value)[] values)
        {
            var extra = new List<uint>();
            foreach (var v in values)
            {
                extra.Add(AddString(v.name));
                extra.Add((uint)v.value);
                if (enum64) extra.Add((uint)((ulong)v.value >> 32));
            }
            return AddRaw(name, enum64 ? BtfKind.Enum64 : BtfKind.Enum, values.Length, signed, size, extra.ToArray());
        }

        /// <summary>FWD of a struct (or a union).</summary>
        public int AddFwd(string name, bool union = false) => AddRaw(name, BtfKind.Fwd, 0, union, 0);

        /// <summary>FUNC_PROTO.</summary>
        public int AddFuncProto(int returnType, params (string name, int type)[] parameters)
        {
            var extra = new List<uint>();
            foreach (var p in parameters) { extra.Add(AddString(p.name)); extra.Add((uint)p.type); }
            return AddRaw("", BtfKind.FuncProto, parameters.Length, false, (uint)returnType, extra.ToArray());
        }

        /// <summary>FUNC.</summary>
        public int AddFunc(string name, int protoType, BtfLinkage linkage) => AddRaw(name, BtfKind.Func, (int)linkage, false, (uint)protoType);

        /// <summary>VAR.</summary>
        public int AddVar(string name, int type, BtfLinkage linkage) => AddRaw(name, BtfKind.Var, 0, false, (uint)type, (uint)linkage);

        /// <summary>FLOAT.</summary>
        public int AddFloat(string name, int size) => AddRaw(name, BtfKind.Float, 0, false, (uint)size);

        /// <summary>DECL_TAG on a type (component -1) or one of its members/parameters.</summary>
        public int AddDeclTag(string tag, int type, int component) => AddRaw(tag, BtfKind.DeclTag, 0, false, (uint)type, (uint)component);

        /// <summary>DATASEC.</summary>
        public int AddDataSec(string name, uint size, params (int type, uint offset, uint size)[] vars)
        {
            var extra = new List<uint>();
            foreach (var v in vars) { extra.Add((uint)v.type); extra.Add(v.offset); extra.Add(v.size); }
            return AddRaw(name, BtfKind.DataSec, vars.Length, false, size, extra.ToArray());
        }

        /// <summary>
        /// The BTF bytes. <paramref name="bigEndian"/> writes s390x-style data; <paramref name="kindLayout"/> adds the
        /// optional kind layout section (4 bytes per kind: info size, element size, flags) with a 32-byte header.
        /// </summary>
        public byte[] ToArray(bool bigEndian = false, byte[]? kindLayout = null, int extraHeaderBytes = 0)
        {
            int hdrLen = (kindLayout != null ? 32 : 24) + extraHeaderBytes;
            var types = _types.ToArray();
            var strs = _strings.ToArray();
            int layoutLen = kindLayout?.Length ?? 0;
            var o = new byte[hdrLen + types.Length + layoutLen + strs.Length];
            void H(int at, uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(o.AsSpan(at), v); }
            if (bigEndian) { o[0] = 0xeb; o[1] = 0x9f; } else { o[0] = 0x9f; o[1] = 0xeb; }
            o[2] = 1; o[3] = 0;
            H(4, (uint)hdrLen);
            H(8, 0); H(12, (uint)types.Length);
            H(16, (uint)(types.Length + layoutLen)); H(20, (uint)strs.Length);
            if (kindLayout != null) { H(24, (uint)types.Length); H(28, (uint)layoutLen); }
            Buffer.BlockCopy(types, 0, o, hdrLen, types.Length);
            if (bigEndian)
                for (int i = hdrLen; i < hdrLen + types.Length; i += 4) { Array.Reverse(o, i, 4); }
            if (kindLayout != null)
            {
                Buffer.BlockCopy(kindLayout, 0, o, hdrLen + types.Length, layoutLen);
                if (bigEndian) for (int i = 0; i < layoutLen; i += 4) Array.Reverse(o, hdrLen + types.Length + i + 2, 2);
            }
            Buffer.BlockCopy(strs, 0, o, hdrLen + types.Length + layoutLen, strs.Length);
            return o;
        }
    }
}
