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

        public BpftoolLayoutTruth(string btfPath)
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
                c.Members.Add(tm);
            }
        }
    }
}
