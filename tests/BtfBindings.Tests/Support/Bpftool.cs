using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// The one bpftool oracle: <c>bpftool btf dump file F [-B BASE] format raw|c</c>, libbpf's parser and printer rather
    /// than ours. <see cref="Dump"/> runs it (for byte-for-byte comparisons of the text); <see cref="Types"/> reads its
    /// JSON into a typed model, once per file per run. Rules the tests re-implement on top of it (libbpf's CO-RE field
    /// rules, C layout flattening) live with the tests that need them and read only this model.
    /// </summary>
    public static class Bpftool
    {
        private static readonly ConcurrentDictionary<string, Lazy<BpftoolTypes>> Cache = new ConcurrentDictionary<string, Lazy<BpftoolTypes>>();

        /// <summary>The arguments of a dump of <paramref name="file"/> (over <paramref name="baseFile"/> for split BTF).</summary>
        public static string[] DumpArgs(string file, string? baseFile = null, bool json = false, string format = "raw")
        {
            var args = new List<string>();
            if (json) args.Add("-j");
            args.AddRange(new[] { "btf", "dump", "file", file });
            if (baseFile != null) args.AddRange(new[] { "-B", baseFile });
            args.AddRange(new[] { "format", format });
            return args.ToArray();
        }

        /// <summary>Runs the dump; a non-zero exit throws with bpftool's stderr.</summary>
        public static ProcessResult Dump(string file, string? baseFile = null, bool json = false, string format = "raw")
            => ProcessRunner.Check("bpftool", DumpArgs(file, baseFile, json, format));

        /// <summary>Runs the dump and returns whatever bpftool exits with (for inputs bpftool may reject).</summary>
        public static ProcessResult TryDump(string file, string? baseFile = null, bool json = false, string format = "raw")
            => ProcessRunner.Run("bpftool", DumpArgs(file, baseFile, json, format));

        /// <summary>
        /// bpftool's JSON dump of <paramref name="file"/> as a typed model, cached per file (path, size and time, so a file
        /// rewritten in place is dumped again). For split BTF it holds the split types only, as bpftool prints them.
        /// </summary>
        public static BpftoolTypes Types(string file, string? baseFile = null)
        {
            var info = new FileInfo(file);
            string key = $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{baseFile}";
            return Cache.GetOrAdd(key, _ => new Lazy<BpftoolTypes>(() => new BpftoolTypes(Dump(file, baseFile, json: true).StdOutBytes, Path.GetFileName(file)))).Value;
        }
    }

    /// <summary>One member of a STRUCT/UNION as bpftool prints it; <see cref="Name"/> is "" for an anonymous member.</summary>
    public sealed record BpftoolMember(string Name, int TypeId, long BitsOffset, int BitfieldSize);

    /// <summary>One enumerator, its value as bpftool prints it (the JSON number's text, so no range is lost).</summary>
    public sealed record BpftoolEnumerator(string Name, string ValueText)
    {
        public Int128 Value => Int128.Parse(ValueText, CultureInfo.InvariantCulture);
    }

    /// <summary>One type of bpftool's JSON dump. Fields bpftool does not print for the kind are 0, "" or empty.</summary>
    public sealed class BpftoolType
    {
        public int Id { get; init; }
        /// <summary>bpftool's kind name: INT, PTR, ARRAY, STRUCT, UNION, ENUM, ENUM64, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG.</summary>
        public string Kind { get; init; } = "";
        /// <summary>The name, "" for bpftool's "(anon)".</summary>
        public string Name { get; init; } = "";
        public long Size { get; init; }
        public int TypeId { get; init; }
        public long NrElems { get; init; }
        /// <summary>INT: SIGNED, CHAR, BOOL or (none); ENUM/ENUM64: SIGNED or UNSIGNED; null when bpftool prints none.</summary>
        public string? Encoding { get; init; }
        /// <summary>INT: the encoding's bit offset.</summary>
        public int BitsOffset { get; init; }
        /// <summary>INT: the encoding's bit count.</summary>
        public int NrBits { get; init; }
        public IReadOnlyList<BpftoolMember> Members { get; init; } = Array.Empty<BpftoolMember>();
        public IReadOnlyList<BpftoolEnumerator> Values { get; init; } = Array.Empty<BpftoolEnumerator>();

        public bool IsComposite => Kind is "STRUCT" or "UNION";
        public bool IsEnum => Kind is "ENUM" or "ENUM64";
        public override string ToString() => $"[{Id}] {Kind} '{Name}'";
    }

    /// <summary>bpftool's JSON type list, typed: ids, kinds, names, sizes, members, enumerators, and the few walks every oracle needs.</summary>
    public sealed class BpftoolTypes
    {
        private readonly Dictionary<int, BpftoolType> _types = new Dictionary<int, BpftoolType>();
        private Dictionary<int, List<string>>? _typedefNames;

        /// <summary>The dumped file's name (for messages).</summary>
        public string Source { get; }

        public BpftoolTypes(byte[] json, string source)
        {
            Source = source;
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            foreach (var e in doc.RootElement.GetProperty("types").EnumerateArray())
            {
                var t = Read(e);
                _types[t.Id] = t;
            }
        }

        private BpftoolTypes(string source, IEnumerable<BpftoolType> types)
        {
            Source = source;
            foreach (var t in types) _types.TryAdd(t.Id, t);
        }

        private static BpftoolType Read(JsonElement e)
        {
            string kind = e.GetProperty("kind").GetString()!;
            var members = new List<BpftoolMember>();
            if (e.TryGetProperty("members", out var ms))
                foreach (var m in ms.EnumerateArray())
                    members.Add(new BpftoolMember(Anon(m.GetProperty("name").GetString()!), m.GetProperty("type_id").GetInt32(),
                        m.GetProperty("bits_offset").GetInt64(), m.TryGetProperty("bitfield_size", out var bs) ? bs.GetInt32() : 0));
            var values = new List<BpftoolEnumerator>();
            if ((kind == "ENUM" || kind == "ENUM64") && e.TryGetProperty("values", out var vs))
                foreach (var v in vs.EnumerateArray())
                    values.Add(new BpftoolEnumerator(v.GetProperty("name").GetString()!, v.GetProperty("val").GetRawText()));
            return new BpftoolType
            {
                Id = e.GetProperty("id").GetInt32(),
                Kind = kind,
                Name = Anon(e.GetProperty("name").GetString()!),
                Size = e.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number ? size.GetInt64() : 0,
                TypeId = e.TryGetProperty("type_id", out var tid) ? tid.GetInt32() : 0,
                NrElems = e.TryGetProperty("nr_elems", out var ne) ? ne.GetInt64() : 0,
                Encoding = e.TryGetProperty("encoding", out var enc) ? enc.GetString() : null,
                BitsOffset = kind == "INT" && e.TryGetProperty("bits_offset", out var bo) ? bo.GetInt32() : 0,
                NrBits = kind == "INT" && e.TryGetProperty("nr_bits", out var nb) ? nb.GetInt32() : 0,
                Members = members,
                Values = values,
            };
        }

        private static string Anon(string name) => name == "(anon)" ? "" : name;

        /// <summary>This split dump together with its base's types (a base id never appears in the split dump).</summary>
        public BpftoolTypes WithBase(BpftoolTypes baseTypes) => new BpftoolTypes(Source, _types.Values.Concat(baseTypes.All));

        public int Count => _types.Count;

        /// <summary>Every type, in id order.</summary>
        public IEnumerable<BpftoolType> All => _types.Values.OrderBy(t => t.Id);

        public BpftoolType this[int id] => _types.TryGetValue(id, out var t) ? t : throw new KeyNotFoundException($"bpftool printed no type {id} for {Source}");

        public bool Contains(int id) => _types.ContainsKey(id);

        /// <summary>Kind of <paramref name="id"/>, VOID for 0.</summary>
        public string KindOf(int id) => id == 0 ? "VOID" : this[id].Kind;

        /// <summary>Size of <c>long</c> (the pointer size on Linux targets), null when the BTF has no <c>long</c>.</summary>
        public int? LongSize => _types.Values.Where(t => t.Kind == "INT" && t.Name is "long int" or "long unsigned int" or "long")
            .Select(t => (int?)t.Size).FirstOrDefault();

        /// <summary>Skips CONST, VOLATILE, RESTRICT, TYPE_TAG and (unless <paramref name="typedefs"/> is false) TYPEDEF; 0 stays 0.</summary>
        public int Resolve(int id, bool typedefs = true)
        {
            for (int guard = 0; guard < 64 && id != 0; guard++)
            {
                var k = this[id].Kind;
                if (k is "CONST" or "VOLATILE" or "RESTRICT" or "TYPE_TAG" || (typedefs && k == "TYPEDEF")) id = this[id].TypeId;
                else return id;
            }
            return id;
        }

        /// <summary>Byte size of <paramref name="id"/> as C sees it (0 for void, functions, forward declarations).</summary>
        public long SizeOf(int id, int pointerSize)
        {
            id = Resolve(id);
            if (id == 0) return 0;
            var t = this[id];
            return t.Kind switch
            {
                "PTR" => pointerSize,
                "ARRAY" => t.NrElems * SizeOf(t.TypeId, pointerSize),
                "INT" or "STRUCT" or "UNION" or "ENUM" or "ENUM64" or "FLOAT" => t.Size,
                _ => 0,
            };
        }

        /// <summary>The first (lowest id) STRUCT or UNION named <paramref name="name"/>.</summary>
        public BpftoolType Composite(string name)
            => All.FirstOrDefault(t => t.IsComposite && t.Name == name) ?? throw new KeyNotFoundException($"bpftool printed no struct/union '{name}' for {Source}");

        /// <summary>
        /// Names of the typedefs that name anonymous type <paramref name="id"/> directly (through qualifiers, not through
        /// another typedef): <c>typedef struct { int counter; } atomic_t;</c>.
        /// </summary>
        public IReadOnlyList<string> TypedefNamesOf(int id)
        {
            if (_typedefNames == null)
            {
                var map = new Dictionary<int, List<string>>();
                foreach (var t in All)
                {
                    if (t.Kind != "TYPEDEF") continue;
                    int target = Resolve(t.TypeId, typedefs: false);
                    if (target == 0 || this[target].Name.Length > 0) continue;
                    if (!map.TryGetValue(target, out var l)) map[target] = l = new List<string>();
                    l.Add(t.Name);
                }
                _typedefNames = map;
            }
            return _typedefNames.TryGetValue(id, out var names) ? names : Array.Empty<string>();
        }
    }
}
