using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>How a member's value is interpreted, as far as bitfield accessors care.</summary>
    public enum TruthValueKind { Unsigned, Signed, Bool, Other }

    /// <summary>One named member of a struct/union as bpftool reports it, flattened through anonymous members.</summary>
    public sealed class TruthMember
    {
        public string Name = "";
        /// <summary>Bit offset from the start of the outer type (summed along the anonymous chain).</summary>
        public uint BitOffset;
        public bool IsBitfield;
        /// <summary>Bitfield width (bitfields only).</summary>
        public uint BitfieldSize;
        /// <summary>Byte size of the member's type (0 for flexible arrays and empty types).</summary>
        public ulong ByteSize;
        /// <summary>Type resolves to an ARRAY with nr_elems == 0.</summary>
        public bool IsFlexibleArray;
        public TruthValueKind ValueKind;
        /// <summary>True when the member was reached through at least one anonymous struct/union.</summary>
        public bool ViaAnonymous;
        public string ResolvedKind = "";
        /// <summary>
        /// For a member whose type (through typedefs, qualifiers and array dimensions) is an INT, ENUM, ENUM64 or
        /// FLOAT: that scalar as bpftool reports it; null otherwise.
        /// </summary>
        public TruthScalar? Scalar;
    }

    /// <summary>The scalar type of a member (or of its array elements), from bpftool's JSON.</summary>
    public sealed class TruthScalar
    {
        /// <summary>INT, ENUM, ENUM64 or FLOAT.</summary>
        public string Kind = "";
        /// <summary>Byte size of one scalar (an array's element).</summary>
        public ulong Size;
        /// <summary>INT: bpftool's encoding (SIGNED, (none), CHAR, BOOL); ENUM/ENUM64: SIGNED or UNSIGNED; FLOAT: "".</summary>
        public string Encoding = "";
        /// <summary>The BTF type's C name (<c>long unsigned int</c>, <c>enum pid_type</c>), for reports.</summary>
        public string CName = "";
        /// <summary>Total element count over all array dimensions; 1 for a plain scalar.</summary>
        public ulong Elements = 1;
        public bool IsArray;
        /// <summary>Enums: the names a generated C# enum may have (the BTF name, or for an anonymous enum the typedefs naming it); empty for an anonymous, untypedef'd enum (emitted as a plain integer).</summary>
        public IReadOnlyList<string> EnumNames = Array.Empty<string>();
        /// <summary>Enums: the BTF id of the ENUM/ENUM64.</summary>
        public int EnumId;
    }

    /// <summary>One enumerator of an anonymous (and not typedef'd) ENUM/ENUM64, with its value as BTF defines it (kind_flag = signedness).</summary>
    public sealed class TruthEnumerator
    {
        public string Name = "";
        public Int128 Value;
        public int EnumId;
        public string Kind = "";
        public ulong Size;
        public bool Signed;
    }

    /// <summary>A STRUCT or UNION from bpftool's dump.</summary>
    public sealed class TruthComposite
    {
        public int Id;
        public string Kind = "";
        /// <summary>The BTF name, "" for anonymous.</summary>
        public string Name = "";
        public ulong Size;
        public List<TruthMember> Members = new List<TruthMember>();
    }

    /// <summary>
    /// The independent layout oracle: <c>bpftool -j btf dump file K format raw</c> (libbpf's parser, not ours).
    /// Sizes, offsets, bitfield positions and flattening through anonymous members are all computed here from
    /// the JSON alone; nothing of BtfBindings is used.
    /// </summary>
    public sealed class BpftoolLayoutTruth
    {
        private readonly BpftoolTypes _types;
        private readonly Dictionary<int, TruthComposite> _composites = new Dictionary<int, TruthComposite>();

        /// <summary>Pointer size of the target: the size of <c>long unsigned int</c> (LP64 / ILP32 Linux).</summary>
        public int PointerSize { get; }
        public int TypeCount => _types.Count;
        public TimeSpan BpftoolTime { get; }

        /// <param name="pointerSize">Used when the BTF holds no <c>long</c> (a BPF object may not): the caller knows the target (bpf: 8).</param>
        public BpftoolLayoutTruth(string btfPath, int pointerSize = 0)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            _types = Bpftool.Types(btfPath);
            BpftoolTime = sw.Elapsed;
            PointerSize = _types.LongSize ?? (pointerSize != 0 ? pointerSize : throw new InvalidOperationException("no 'long unsigned int' in " + btfPath + ": cannot tell the pointer size"));
        }

        public string KindOf(int id) => _types.KindOf(id);
        public string NameOfId(int id) => id == 0 ? "" : _types[id].Name;

        /// <summary>
        /// Names of the typedefs that name anonymous type <paramref name="id"/> directly (through CONST/VOLATILE/RESTRICT/TYPE_TAG
        /// but not through another typedef): <c>typedef struct { int counter; } atomic_t;</c>.
        /// </summary>
        public IReadOnlyList<string> TypedefNamesOf(int id) => _types.TypedefNamesOf(id);

        /// <summary>Named STRUCT/UNION ids, in id order.</summary>
        public IEnumerable<int> NamedCompositeIds() => _types.All.Where(t => t.IsComposite && t.Name.Length > 0).Select(t => t.Id);

        /// <summary>Skips TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG.</summary>
        public int Resolve(int id) => _types.Resolve(id);

        /// <summary>Byte size of a type as C sees it.</summary>
        public ulong SizeOf(int id) => (ulong)_types.SizeOf(id, PointerSize);

        /// <summary>The composite with id <paramref name="id"/> (must be STRUCT or UNION), members flattened.</summary>
        public TruthComposite Composite(int id)
        {
            if (_composites.TryGetValue(id, out var c)) return c;
            var t = _types[id];
            if (!t.IsComposite) throw new InvalidOperationException($"bpftool says type {id} is {t.Kind}, not a struct/union");
            c = new TruthComposite { Id = id, Kind = t.Kind, Name = t.Name, Size = (ulong)t.Size };
            Flatten(c, t, 0, false, 0);
            _composites[id] = c;
            return c;
        }

        private void Flatten(TruthComposite c, BpftoolType t, uint bitBase, bool viaAnon, int depth)
        {
            if (depth > 32) throw new InvalidOperationException("anonymous nesting too deep in " + c.Name);
            foreach (var m in t.Members)
            {
                uint bitOff = bitBase + (uint)m.BitsOffset;
                uint bfs = (uint)m.BitfieldSize;
                int rid = Resolve(m.TypeId);
                var rt = rid == 0 ? null : _types[rid];
                string rk = rt?.Kind ?? "VOID";
                if (m.Name.Length == 0)
                {
                    if (rt != null && rt.IsComposite && bfs == 0) Flatten(c, rt, bitOff, true, depth + 1);
                    continue; // unnamed bitfield: padding
                }
                var tm = new TruthMember { Name = m.Name, BitOffset = bitOff, ViaAnonymous = viaAnon, ResolvedKind = rk, ByteSize = SizeOf(m.TypeId) };
                // Legacy (kind_flag 0) bitfields: an INT whose encoding has a bit offset or fewer bits than its size.
                if (bfs == 0 && rk == "INT")
                {
                    int intOff = rt!.BitsOffset, nr = rt.NrBits;
                    if (intOff != 0 || nr != rt.Size * 8) { bfs = (uint)nr; tm.BitOffset += (uint)intOff; }
                }
                if (bfs != 0) { tm.IsBitfield = true; tm.BitfieldSize = bfs; }
                tm.IsFlexibleArray = bfs == 0 && rk == "ARRAY" && rt!.NrElems == 0;
                tm.ValueKind = rk switch
                {
                    "INT" => rt!.Encoding switch { "SIGNED" => TruthValueKind.Signed, "BOOL" => TruthValueKind.Bool, _ => TruthValueKind.Unsigned },
                    "ENUM" or "ENUM64" => rt!.Encoding == "SIGNED" ? TruthValueKind.Signed : TruthValueKind.Unsigned,
                    _ => TruthValueKind.Other,
                };
                tm.Scalar = ScalarOf(m.TypeId);
                c.Members.Add(tm);
            }
        }

        /// <summary>The INT/ENUM/ENUM64/FLOAT behind <paramref name="typeId"/> (through typedefs, qualifiers and array dimensions), or null.</summary>
        public TruthScalar? ScalarOf(int typeId)
        {
            ulong elems = 1;
            bool isArray = false;
            int id = Resolve(typeId);
            for (int guard = 0; guard < 64 && id != 0 && _types[id].Kind == "ARRAY"; guard++)
            {
                elems *= (ulong)_types[id].NrElems;
                isArray = true;
                id = Resolve(_types[id].TypeId);
            }
            if (id == 0) return null;
            var t = _types[id];
            string k = t.Kind;
            if (k is not ("INT" or "ENUM" or "ENUM64" or "FLOAT")) return null;
            var s = new TruthScalar { Kind = k, Size = (ulong)t.Size, Elements = elems, IsArray = isArray };
            string name = t.Name;
            switch (k)
            {
                case "INT":
                    s.Encoding = t.Encoding ?? "";
                    s.CName = name;
                    break;
                case "FLOAT":
                    s.CName = name;
                    break;
                default:
                    // bpftool 7.x prints an enum's signedness (BTF kind_flag) as "encoding"; older versions do not.
                    s.Encoding = t.Encoding ?? throw new InvalidOperationException($"bpftool prints no encoding for {k} id {id}: too old a bpftool to tell an enum's signedness");
                    s.CName = "enum " + (name.Length > 0 ? name : "(anon)");
                    s.EnumNames = name.Length > 0 ? new[] { name } : TypedefNamesOf(id);
                    s.EnumId = id;
                    break;
            }
            return s;
        }

        private List<TruthEnumerator>? _anonEnumerators;
        private readonly Dictionary<int, List<TruthEnumerator>> _enumerators = new Dictionary<int, List<TruthEnumerator>>();

        /// <summary>
        /// The enumerators of ENUM/ENUM64 <paramref name="id"/>, with values as BTF defines them: an ENUM's 32-bit value is
        /// sign-extended when the enum is SIGNED and zero-extended otherwise (bpftool 7.1's JSON prints an unsigned ENUM's value
        /// sign-extended to 64 bits, so the number is re-read through 32 bits here, as <c>format c</c> prints it); an ENUM64's
        /// 64-bit value is signed or unsigned the same way.
        /// </summary>
        public IReadOnlyList<TruthEnumerator> EnumeratorsOf(int id)
        {
            if (_enumerators.TryGetValue(id, out var l)) return l;
            var t = _types[id];
            string k = t.Kind;
            if (!t.IsEnum) throw new InvalidOperationException($"bpftool says type {id} is {k}, not an enum");
            if (t.Encoding == null) throw new InvalidOperationException($"bpftool prints no encoding for {k} id {id}");
            bool signed = t.Encoding == "SIGNED";
            ulong size = (ulong)t.Size;
            l = new List<TruthEnumerator>();
            foreach (var v in t.Values)
            {
                var raw = v.Value;
                Int128 val = k == "ENUM"
                    ? (signed ? (Int128)(int)(uint)(raw & uint.MaxValue) : (Int128)(uint)(raw & uint.MaxValue))
                    : (signed ? (Int128)(long)(ulong)(raw & ulong.MaxValue) : (Int128)(ulong)(raw & ulong.MaxValue));
                l.Add(new TruthEnumerator { Name = v.Name, Value = val, EnumId = id, Kind = k, Size = size, Signed = signed });
            }
            return _enumerators[id] = l;
        }

        /// <summary>Every enumerator of every anonymous ENUM/ENUM64 that no typedef names (what the generator emits as constants), in id order.</summary>
        public IReadOnlyList<TruthEnumerator> AnonymousEnumerators()
        {
            if (_anonEnumerators != null) return _anonEnumerators;
            var l = new List<TruthEnumerator>();
            foreach (var t in _types.All)
            {
                if (!t.IsEnum || t.Name.Length > 0 || TypedefNamesOf(t.Id).Count > 0) continue;
                l.AddRange(EnumeratorsOf(t.Id));
            }
            return _anonEnumerators = l;
        }
    }
}
