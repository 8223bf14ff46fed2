using System;
using System.Collections.Generic;
using System.Text.Json;
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
        private readonly Dictionary<int, JsonElement> _types = new Dictionary<int, JsonElement>();
        private readonly Dictionary<int, TruthComposite> _composites = new Dictionary<int, TruthComposite>();
        private readonly JsonDocument _doc;

        /// <summary>Pointer size of the target: the size of <c>long unsigned int</c> (LP64 / ILP32 Linux).</summary>
        public int PointerSize { get; }
        public int TypeCount => _types.Count;
        public TimeSpan BpftoolTime { get; }

        public BpftoolLayoutTruth(string btfPath, int pointerSize = 0)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = Tool.Check("bpftool", $"-j btf dump file {btfPath} format raw");
            BpftoolTime = sw.Elapsed;
            _doc = JsonDocument.Parse(r.StdOutBytes);
            foreach (var t in _doc.RootElement.GetProperty("types").EnumerateArray())
                _types[t.GetProperty("id").GetInt32()] = t;
            int ptr = 0;
            foreach (var t in _types.Values)
                if (Str(t, "kind") == "INT" && (Str(t, "name") == "long unsigned int" || Str(t, "name") == "long int"))
                    ptr = t.GetProperty("size").GetInt32();
            if (ptr == 0) ptr = pointerSize; // BPF objects may hold no long: the caller knows the target (bpf: 8)
            if (ptr == 0) throw new InvalidOperationException("no 'long unsigned int' in " + btfPath + ": cannot tell the pointer size");
            PointerSize = ptr;
        }

        private static string Str(JsonElement e, string p) => e.TryGetProperty(p, out var v) ? v.GetString() ?? "" : "";
        private static int Int(JsonElement e, string p) => e.TryGetProperty(p, out var v) ? v.GetInt32() : 0;
        private static ulong U64(JsonElement e, string p) => e.TryGetProperty(p, out var v) ? v.GetUInt64() : 0;
        private static string NameOf(JsonElement e) { var n = Str(e, "name"); return n == "(anon)" ? "" : n; }

        public string KindOf(int id) => id == 0 ? "VOID" : Str(_types[id], "kind");
        public string NameOfId(int id) => id == 0 ? "" : NameOf(_types[id]);

        private Dictionary<int, List<string>>? _typedefNames;

        /// <summary>
        /// Names of the typedefs that name anonymous type <paramref name="id"/> directly (through CONST/VOLATILE/RESTRICT/TYPE_TAG
        /// but not through another typedef): <c>typedef struct { int counter; } atomic_t;</c>.
        /// </summary>
        public IReadOnlyList<string> TypedefNamesOf(int id)
        {
            if (_typedefNames == null)
            {
                var map = new Dictionary<int, List<string>>();
                foreach (var kv in _types)
                {
                    if (Str(kv.Value, "kind") != "TYPEDEF") continue;
                    int target = Int(kv.Value, "type_id");
                    for (int guard = 0; guard < 64 && target != 0 && Str(_types[target], "kind") is "CONST" or "VOLATILE" or "RESTRICT" or "TYPE_TAG"; guard++)
                        target = Int(_types[target], "type_id");
                    if (target == 0 || NameOf(_types[target]).Length > 0) continue;
                    if (!map.TryGetValue(target, out var l)) map[target] = l = new List<string>();
                    l.Add(NameOf(kv.Value));
                }
                _typedefNames = map;
            }
            return _typedefNames.TryGetValue(id, out var names) ? names : Array.Empty<string>();
        }

        /// <summary>Named STRUCT/UNION ids, in id order.</summary>
        public IEnumerable<int> NamedCompositeIds()
        {
            foreach (var kv in _types)
            {
                var k = Str(kv.Value, "kind");
                if ((k == "STRUCT" || k == "UNION") && NameOf(kv.Value).Length > 0) yield return kv.Key;
            }
        }

        /// <summary>Skips TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG.</summary>
        public int Resolve(int id)
        {
            for (int guard = 0; guard < 64 && id != 0; guard++)
            {
                var k = Str(_types[id], "kind");
                if (k is "TYPEDEF" or "CONST" or "VOLATILE" or "RESTRICT" or "TYPE_TAG") id = Int(_types[id], "type_id");
                else return id;
            }
            return id;
        }

        /// <summary>Byte size of a type as C sees it.</summary>
        public ulong SizeOf(int id)
        {
            id = Resolve(id);
            if (id == 0) return 0;
            var t = _types[id];
            switch (Str(t, "kind"))
            {
                case "INT": case "FLOAT": case "ENUM": case "ENUM64": case "STRUCT": case "UNION": return U64(t, "size");
                case "PTR": return (ulong)PointerSize;
                case "ARRAY": return U64(t, "nr_elems") * SizeOf(Int(t, "type_id"));
                default: return 0; // FWD, FUNC_PROTO, VOID
            }
        }

        /// <summary>The composite with id <paramref name="id"/> (must be STRUCT or UNION), members flattened.</summary>
        public TruthComposite Composite(int id)
        {
            if (_composites.TryGetValue(id, out var c)) return c;
            var t = _types[id];
            var kind = Str(t, "kind");
            if (kind != "STRUCT" && kind != "UNION") throw new InvalidOperationException($"bpftool says type {id} is {kind}, not a struct/union");
            c = new TruthComposite { Id = id, Kind = kind, Name = NameOf(t), Size = U64(t, "size") };
            Flatten(c, t, 0, false, 0);
            _composites[id] = c;
            return c;
        }

        private void Flatten(TruthComposite c, JsonElement t, uint bitBase, bool viaAnon, int depth)
        {
            if (depth > 32) throw new InvalidOperationException("anonymous nesting too deep in " + c.Name);
            foreach (var m in t.GetProperty("members").EnumerateArray())
            {
                uint bitOff = bitBase + (uint)m.GetProperty("bits_offset").GetInt64();
                int typeId = Int(m, "type_id");
                uint bfs = (uint)Int(m, "bitfield_size");
                int rid = Resolve(typeId);
                var rt = rid == 0 ? default : _types[rid];
                string rk = rid == 0 ? "VOID" : Str(rt, "kind");
                string name = Str(m, "name");
                if (name == "(anon)")
                {
                    if ((rk == "STRUCT" || rk == "UNION") && bfs == 0) Flatten(c, rt, bitOff, true, depth + 1);
                    continue; // unnamed bitfield: padding
                }
                var tm = new TruthMember { Name = name, BitOffset = bitOff, ViaAnonymous = viaAnon, ResolvedKind = rk, ByteSize = SizeOf(typeId) };
                // Legacy (kind_flag 0) bitfields: an INT whose encoding has a bit offset or fewer bits than its size.
                if (bfs == 0 && rk == "INT")
                {
                    int intOff = Int(rt, "bits_offset"), nr = Int(rt, "nr_bits");
                    if (intOff != 0 || (ulong)nr != U64(rt, "size") * 8) { bfs = (uint)nr; tm.BitOffset += (uint)intOff; }
                }
                if (bfs != 0) { tm.IsBitfield = true; tm.BitfieldSize = bfs; }
                tm.IsFlexibleArray = bfs == 0 && rk == "ARRAY" && U64(rt, "nr_elems") == 0;
                tm.ValueKind = rk switch
                {
                    "INT" => Str(rt, "encoding") switch { "SIGNED" => TruthValueKind.Signed, "BOOL" => TruthValueKind.Bool, _ => TruthValueKind.Unsigned },
                    "ENUM" or "ENUM64" => Str(rt, "encoding") == "SIGNED" ? TruthValueKind.Signed : TruthValueKind.Unsigned,
                    _ => TruthValueKind.Other,
                };
                tm.Scalar = ScalarOf(typeId);
                c.Members.Add(tm);
            }
        }

        /// <summary>The INT/ENUM/ENUM64/FLOAT behind <paramref name="typeId"/> (through typedefs, qualifiers and array dimensions), or null.</summary>
        public TruthScalar? ScalarOf(int typeId)
        {
            ulong elems = 1;
            bool isArray = false;
            int id = Resolve(typeId);
            for (int guard = 0; guard < 64 && id != 0 && Str(_types[id], "kind") == "ARRAY"; guard++)
            {
                elems *= U64(_types[id], "nr_elems");
                isArray = true;
                id = Resolve(Int(_types[id], "type_id"));
            }
            if (id == 0) return null;
            var t = _types[id];
            string k = Str(t, "kind");
            if (k is not ("INT" or "ENUM" or "ENUM64" or "FLOAT")) return null;
            var s = new TruthScalar { Kind = k, Size = U64(t, "size"), Elements = elems, IsArray = isArray };
            string name = NameOf(t);
            switch (k)
            {
                case "INT":
                    s.Encoding = Str(t, "encoding");
                    s.CName = name;
                    break;
                case "FLOAT":
                    s.CName = name;
                    break;
                default:
                    // bpftool 7.x prints an enum's signedness (BTF kind_flag) as "encoding"; older versions do not.
                    if (!t.TryGetProperty("encoding", out var enc)) throw new InvalidOperationException($"bpftool prints no encoding for {k} id {id}: too old a bpftool to tell an enum's signedness");
                    s.Encoding = enc.GetString() ?? "";
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
            string k = Str(t, "kind");
            if (k is not ("ENUM" or "ENUM64")) throw new InvalidOperationException($"bpftool says type {id} is {k}, not an enum");
            if (!t.TryGetProperty("encoding", out var enc)) throw new InvalidOperationException($"bpftool prints no encoding for {k} id {id}");
            bool signed = enc.GetString() == "SIGNED";
            ulong size = U64(t, "size");
            l = new List<TruthEnumerator>();
            foreach (var v in t.GetProperty("values").EnumerateArray())
            {
                var raw = Int128.Parse(v.GetProperty("val").GetRawText(), System.Globalization.CultureInfo.InvariantCulture);
                Int128 val = k == "ENUM"
                    ? (signed ? (Int128)(int)(uint)(raw & uint.MaxValue) : (Int128)(uint)(raw & uint.MaxValue))
                    : (signed ? (Int128)(long)(ulong)(raw & ulong.MaxValue) : (Int128)(ulong)(raw & ulong.MaxValue));
                l.Add(new TruthEnumerator { Name = Str(v, "name"), Value = val, EnumId = id, Kind = k, Size = size, Signed = signed });
            }
            return _enumerators[id] = l;
        }

        /// <summary>Every enumerator of every anonymous ENUM/ENUM64 that no typedef names (what the generator emits as constants), in id order.</summary>
        public IReadOnlyList<TruthEnumerator> AnonymousEnumerators()
        {
            if (_anonEnumerators != null) return _anonEnumerators;
            var l = new List<TruthEnumerator>();
            foreach (var kv in _types)
            {
                string k = Str(kv.Value, "kind");
                if (k is not ("ENUM" or "ENUM64") || NameOf(kv.Value).Length > 0 || TypedefNamesOf(kv.Key).Count > 0) continue;
                l.AddRange(EnumeratorsOf(kv.Key));
            }
            return _anonEnumerators = l;
        }
    }
}
