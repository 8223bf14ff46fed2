using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace BtfBindings.Layout
{
    /// <summary>Options for <see cref="LayoutPlanner"/>.</summary>
    internal sealed class LayoutOptions
    {
        /// <summary>Emit pointees in full (and their closure) rather than as opaque stubs.</summary>
        public bool FollowPointers { get; set; }
    }

    /// <summary>A requested name that names no type.</summary>
    internal sealed class UnknownTypeName
    {
        /// <summary>The requested name.</summary>
        public string Name { get; }
        /// <summary>Close names that do exist.</summary>
        public IReadOnlyList<string> Suggestions { get; }
        /// <summary>Creates the record.</summary>
        public UnknownTypeName(string name, IReadOnlyList<string> suggestions) { Name = name; Suggestions = suggestions; }
    }

    /// <summary>
    /// Turns BTF types into a <see cref="LayoutPlan"/>: the requested types and everything they contain by value,
    /// opaque stubs for pointees, stable unique names (<c>___N</c> for duplicates, typedef names for typedef'd
    /// anonymous types, parent-relative names for nested anonymous types), members flattened through anonymous
    /// structs/unions, bitfield windows. The one place the layout rules live: the C# emitter, the CLI's
    /// show/diff and the runtime matcher all read the plan.
    /// </summary>
    internal sealed class LayoutPlanner
    {
        private readonly Btf _btf;
        private readonly LayoutOptions _options;
        private readonly Dictionary<int, PlannedType> _full = new Dictionary<int, PlannedType>();
        private readonly Dictionary<int, PlannedType> _opaque = new Dictionary<int, PlannedType>();
        private readonly Queue<int> _pending = new Queue<int>();
        private readonly LayoutPlan _plan = new LayoutPlan();
        private readonly HashSet<string> _anonEnumNames = new HashSet<string>(StringComparer.Ordinal);
        private Dictionary<int, string>? _typedefNames; // anonymous composite/enum id -> typedef naming it
        private readonly Dictionary<int, string> _names = new Dictionary<int, string>();
        // Composite ids proven to contain no by-value cycle (Btf.FindValueCycle), shared by every check of this plan.
        private readonly HashSet<int> _acyclic = new HashSet<int>();
        // Requested types that became opaque because C# cannot represent them (LayoutLimits).
        private readonly HashSet<int> _unrepresentable = new HashSet<int>();
        // Recursion depth of the current Build (anonymous members, nested anonymous types, array elements).
        private int _depth;
        private int _declBudget;
        // Struct/union alignments (Btf.AlignOf), shared by every type of the plan: each is computed once.
        private readonly Dictionary<int, int> _alignMemo = new Dictionary<int, int>();
        // Same-named definitions in stable order, and each one's position, per name (Group).
        private readonly Dictionary<string, KeyValuePair<List<int>, Dictionary<int, int>>> _groups = new Dictionary<string, KeyValuePair<List<int>, Dictionary<int, int>>>(StringComparer.Ordinal);

        /// <summary>
        /// How deep one type's layout may nest (anonymous members, nested anonymous types, arrays of arrays) before the
        /// plan gives up with a <see cref="BtfException"/>; real kernels nest a handful of levels. Keeps the planner's
        /// recursion, and so its stack use, bounded whatever the input.
        /// </summary>
        public const int MaxNesting = 128;

        private LayoutPlanner(Btf btf, LayoutOptions options)
        {
            _btf = btf;
            _options = options;
            _plan.PointerSize = btf.PointerSize;
            _plan.BigEndian = btf.IsBigEndian;
            _plan.SourceName = btf.SourceName;
        }

        /// <summary>Plans <paramref name="names"/> and their closure. Names that match nothing are returned in <paramref name="unknown"/>.</summary>
        public static LayoutPlan Plan(Btf btf, IEnumerable<string> names, LayoutOptions? options, out List<UnknownTypeName> unknown)
        {
            var p = new LayoutPlanner(btf, options ?? new LayoutOptions());
            unknown = new List<UnknownTypeName>();
            foreach (var name in names)
            {
                var id = p.Resolve(name);
                if (id == null) unknown.Add(new UnknownTypeName(name, Suggest(btf, name)));
                else p.Request(id.Value);
            }
            return p.Finish();
        }

        /// <summary>
        /// The requested names that name nothing <see cref="Plan"/> would accept, with suggestions, without planning anything
        /// (what the companion analyzer checks on every edit).
        /// </summary>
        public static List<UnknownTypeName> FindUnknown(Btf btf, IEnumerable<string> names)
        {
            var p = new LayoutPlanner(btf, new LayoutOptions());
            var unknown = new List<UnknownTypeName>();
            foreach (var name in names)
                if (p.Resolve(name) == null) unknown.Add(new UnknownTypeName(name, Suggest(btf, name)));
            return unknown;
        }

        /// <summary>Plans every named struct, union and enum (and the typedef'd anonymous ones) of <paramref name="btf"/>.</summary>
        public static LayoutPlan PlanAll(Btf btf, LayoutOptions? options = null)
        {
            var p = new LayoutPlanner(btf, options ?? new LayoutOptions());
            for (int id = 1; id < btf.TypeCount; id++)
            {
                var t = btf[id];
                if (IsDefinable(t.Kind) && (!t.IsAnonymous || p.TypedefName(id) != null)) p.Request(id);
            }
            return p.Finish();
        }

        /// <summary>
        /// The type a requested name denotes: a struct, union or enum (the first of duplicates in stable order, or
        /// <c>name___N</c> for the N-th), a typedef (resolved to what it names), or a forward declaration.
        /// </summary>
        public int? Resolve(string name)
        {
            if (string.IsNullOrEmpty(name)) return null;
            foreach (var t in Group(name)) return t; // first in stable order
            var typedefs = _btf.FindTypes(name, BtfKind.Typedef);
            if (typedefs.Count > 0)
            {
                int target = _btf.Skip(typedefs[0].Id);
                var tt = _btf[target];
                if (IsDefinable(tt.Kind)) return target;
            }
            // name___N selects the N-th duplicate (libbpf btf_dump numbering).
            int sep = name.LastIndexOf("___", StringComparison.Ordinal);
            if (sep > 0 && int.TryParse(name.Substring(sep + 3), out int n) && n >= 2)
            {
                var g = Group(name.Substring(0, sep));
                if (n - 1 < g.Count) return g[n - 1];
            }
            var fwd = _btf.FindTypes(name, BtfKind.Fwd);
            if (fwd.Count > 0) return fwd[0].Id;
            return null;
        }

        private static bool IsDefinable(BtfKind k) => k == BtfKind.Struct || k == BtfKind.Union || k == BtfKind.Enum || k == BtfKind.Enum64;

        /// <summary>Same-named definitions in a stable order that does not depend on type ids (unless structurally identical).</summary>
        private List<int> Group(string name) => GroupWithPositions(name).Key;

        /// <summary><see cref="Group"/> and each id's index in it, computed once per name (hostile BTF may hold thousands of same-named types).</summary>
        private KeyValuePair<List<int>, Dictionary<int, int>> GroupWithPositions(string name)
        {
            if (_groups.TryGetValue(name, out var known)) return known;
            var ids = new List<int>();
            foreach (var t in _btf.FindDataTypes(name)) if (IsDefinable(t.Kind)) ids.Add(t.Id);
            var sorted = ids;
            if (ids.Count > 1)
            {
                // By structural key, then id (FindTypes returns ids in ascending order; the index breaks ties, so the
                // O(n log n) sort is as stable as an insertion sort).
                var keys = new string[ids.Count];
                for (int i = 0; i < keys.Length; i++) keys[i] = StructuralKey(_btf[ids[i]]);
                var order = new int[ids.Count];
                for (int i = 0; i < order.Length; i++) order[i] = i;
                Array.Sort(order, (x, y) => { int c = string.CompareOrdinal(keys[x], keys[y]); return c != 0 ? c : x - y; });
                sorted = new List<int>(ids.Count);
                foreach (var i in order) sorted.Add(ids[i]);
            }
            var positions = new Dictionary<int, int>(sorted.Count);
            for (int i = 0; i < sorted.Count; i++) positions[sorted[i]] = i;
            var result = new KeyValuePair<List<int>, Dictionary<int, int>>(sorted, positions);
            _groups[name] = result;
            return result;
        }

        private string StructuralKey(BtfType t)
        {
            var sb = new StringBuilder();
            sb.Append((int)t.Kind).Append(':').Append(t.Size.ToString("D10")).Append(':').Append(t.Vlen.ToString("D6"));
            if (t.IsComposite)
                foreach (var m in t.Members) sb.Append('|').Append(m.Name).Append('@').Append(m.BitOffset).Append(':').Append(ShallowTypeName(m.TypeId));
            else
                foreach (var v in t.EnumValues) sb.Append('|').Append(v.Name).Append('=').Append(v.RawValue);
            return sb.ToString();
        }

        private string ShallowTypeName(int id)
        {
            for (int d = 0; d < 16; d++)
            {
                var t = _btf[id];
                if (!t.IsAnonymous) return t.Name;
                if (t.Kind == BtfKind.Ptr || Btf.IsModifier(t.Kind)) { id = t.TypeId; continue; }
                if (t.Kind == BtfKind.Array) { id = t.ArrayElementTypeId; continue; }
                return BtfKinds.Name(t.Kind);
            }
            return "?";
        }

        /// <summary>The unique emitted name of a definable type (or FWD).</summary>
        public string NameOf(int id)
        {
            if (_names.TryGetValue(id, out var n)) return n;
            var t = _btf[id];
            if (t.IsAnonymous)
                n = TypedefName(id) ?? ("__anon_" + BtfKinds.Name(t.Kind).ToLowerInvariant() + "_" + StableAnonKey(t));
            else if (t.Kind == BtfKind.Fwd)
            {
                // A forward declaration takes the name of the definition when the BTF has one.
                var def = Resolve(t.Name);
                n = def != null && def.Value != id ? NameOf(def.Value) : t.Name;
            }
            else
            {
                int idx = GroupWithPositions(t.Name).Value.TryGetValue(id, out var at) ? at : -1;
                n = idx <= 0 ? t.Name : t.Name + "___" + (idx + 1);
            }
            _names[id] = n;
            return n;
        }

        private string StableAnonKey(BtfType t)
        {
            uint h = 2166136261;
            foreach (var c in StructuralKey(t)) { h ^= c; h *= 16777619; }
            return h.ToString("x8");
        }

        private string? TypedefName(int id)
        {
            if (_typedefNames == null)
            {
                var map = new Dictionary<int, string>();
                foreach (var t in _btf.NamedTypes())
                {
                    if (t.Kind != BtfKind.Typedef) continue;
                    int target;
                    try { target = _btf.Skip(t.TypeId, typedefs: false); } catch (BtfException) { continue; }
                    var tt = _btf[target];
                    if (!tt.IsAnonymous || !IsDefinable(tt.Kind)) continue;
                    // Several typedefs may name one anonymous type: the ordinal-smallest name wins, for stability.
                    if (!map.TryGetValue(target, out var existing) || string.CompareOrdinal(t.Name, existing) < 0) map[target] = t.Name;
                }
                _typedefNames = map;
            }
            return _typedefNames.TryGetValue(id, out var n) ? n : null;
        }

        private void Request(int id)
        {
            if (_full.ContainsKey(id)) return;
            var t = _btf[id];
            if (t.Kind == BtfKind.Fwd) { RequestOpaque(id, "forward declaration: the BTF has no definition"); return; }
            _opaque.Remove(id);
            var pt = new PlannedType { Name = NameOf(id), BtfName = t.Name, BtfId = id };
            if (t.IsAnonymous && TypedefName(id) is string td) { pt.BtfName = td; pt.NamedByTypedef = true; }
            _full[id] = pt;
            _pending.Enqueue(id);
        }

        private void RequestOpaque(int id, string reason)
        {
            if (_full.ContainsKey(id) || _opaque.ContainsKey(id)) return;
            var t = _btf[id];
            _opaque[id] = new PlannedType
            {
                Name = NameOf(id), BtfName = t.Name, BtfId = id, Kind = PlannedKind.Opaque, OpaqueReason = reason,
                CName = CTag(t) + t.Name, Size = t.IsComposite ? t.Size : 0, Alignment = 1,
            };
        }

        private LayoutPlan Finish()
        {
            while (_pending.Count > 0)
            {
                int id = _pending.Dequeue();
                Build(_full[id], _btf[id]);
            }
            if (_unrepresentable.Count > 0)
                foreach (var kv in _full) ReplaceUnrepresentableMembers(kv.Value);
            var all = new List<PlannedType>(_full.Count + _opaque.Count);
            foreach (var kv in _full) all.Add(kv.Value);
            foreach (var kv in _opaque) if (!_full.ContainsKey(kv.Key)) all.Add(kv.Value);
            // Names must be unique in one C# scope: struct/union/enum tags and typedef names can collide. Full definitions
            // keep their names before opaque stubs, then by name, then by structure (computed only for equal names), then
            // in the order above (a stable sort, as LINQ's OrderBy was).
            var order = new PlannedType[all.Count];
            var position = new Dictionary<PlannedType, int>(all.Count);
            for (int i = 0; i < all.Count; i++) { order[i] = all[i]; position[all[i]] = i; }
            Array.Sort(order, (x, y) =>
            {
                int c = (IsStub(x) ? 1 : 0) - (IsStub(y) ? 1 : 0);
                if (c == 0) c = string.CompareOrdinal(x.Name, y.Name);
                if (c == 0 && x != y) c = string.CompareOrdinal(StructuralKey(_btf[x.BtfId]), StructuralKey(_btf[y.BtfId]));
                return c != 0 ? c : position[x] - position[y];
            });
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in order)
            {
                var baseName = t.Name;
                for (int k = 2; !used.Add(t.Name); k++) t.Name = baseName + "___" + k;
            }
            // Names are unique now, so the order by name is total.
            var byName = all.ToArray();
            Array.Sort(byName, (x, y) => string.CompareOrdinal(x.Name, y.Name));
            _plan.Types.AddRange(byName);
            var final = new Dictionary<int, string>();
            foreach (var t in all) final[t.BtfId] = t.Name;
            foreach (var t in all) FixNames(t, final);
            return _plan;
        }

        /// <summary>An opaque stub (a pointee or forward declaration), as opposed to a requested definition (even one made opaque).</summary>
        private bool IsStub(PlannedType t) => !(_full.TryGetValue(t.BtfId, out var f) && ReferenceEquals(f, t));

        /// <summary>
        /// Members that hold a type made opaque for its size (<see cref="LayoutLimits"/>) by value, directly or as array
        /// elements: the opaque type has no layout in C#, so the member becomes the bytes it covers.
        /// </summary>
        private void ReplaceUnrepresentableMembers(PlannedType t)
        {
            if (t.Kind != PlannedKind.Struct && t.Kind != PlannedKind.Union) return;
            foreach (var f in t.Fields)
            {
                int bad = 0;
                for (var s = f.Type; s != null && bad == 0; s = s.Kind == TypeShapeKind.Array ? s.Element : null)
                    if (s.Kind == TypeShapeKind.Composite && !s.IsNested && _unrepresentable.Contains(s.TypeId)) bad = s.TypeId;
                if (bad == 0) continue;
                _plan.Warnings.Add($"{t.CName}.{f.Name}: its type {_full[bad].CName} is opaque ({_full[bad].OpaqueReason}); the member is emitted as {f.Type.ByteSize} raw bytes");
                f.Type = new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = f.Type.ByteSize };
                if (f.IsFlexibleArray) { f.IsFlexibleArray = false; f.IsZeroSized = true; }
                f.BitSize = f.Type.ByteSize * 8;
            }
            foreach (var n in t.Nested) ReplaceUnrepresentableMembers(n);
        }

        private static void FixNames(PlannedType t, Dictionary<int, string> final)
        {
            foreach (var f in t.Fields) FixShape(f.Type, final);
            foreach (var n in t.Nested) FixNames(n, final);
        }

        private static void FixShape(TypeShape? s, Dictionary<int, string> final)
        {
            for (; s != null; s = s.Element)
                if (!s.IsNested && s.TypeId != 0 && final.TryGetValue(s.TypeId, out var n)) s.TypeName = n;
        }

        private static string CTag(BtfType t) => t.Kind switch
        {
            BtfKind.Struct => "struct ",
            BtfKind.Union => "union ",
            BtfKind.Enum or BtfKind.Enum64 => "enum ",
            BtfKind.Fwd => t.KindFlag ? "union " : "struct ",
            _ => "",
        };

        private void Build(PlannedType pt, BtfType t)
        {
            pt.CName = t.IsAnonymous ? pt.Name : CTag(t) + t.Name;
            pt.Size = t.Size;
            if (t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64) { BuildEnum(pt, t); return; }
            pt.Kind = t.Kind == BtfKind.Union ? PlannedKind.Union : PlannedKind.Struct;
            // A type that contains itself by value has no layout (and sends any recursive walk round for ever): name the cycle.
            _btf.CheckNoValueCycle(t.Id, _acyclic);
            int warnings = _plan.Warnings.Count;
            _depth = 0;
            try
            {
                if (t.Size > LayoutLimits.MaxTypeSize) throw new Unrepresentable($"its size, {t.Size} bytes, is more than the {LayoutLimits.MaxTypeSize} bytes a generated struct may have");
                BuildComposite(pt, t);
            }
            catch (Unrepresentable e)
            {
                // Warnings about members of a type that is not emitted would only confuse: the one below says why.
                _plan.Warnings.RemoveRange(warnings, _plan.Warnings.Count - warnings);
                pt.Kind = PlannedKind.Opaque;
                pt.OpaqueReason = "C# cannot represent it: " + e.Message;
                pt.Fields.Clear();
                pt.Nested.Clear();
                pt.Alignment = 1;
                pt.IsPacked = false;
                _unrepresentable.Add(t.Id);
                _plan.Warnings.Add($"{pt.CName} (id {t.Id}) is emitted opaque: {pt.OpaqueReason}");
            }
        }

        /// <summary>A size, offset or count C# cannot represent (<see cref="LayoutLimits"/>): the type being built becomes opaque.</summary>
        private sealed class Unrepresentable : Exception
        {
            public Unrepresentable(string message) : base(message) { }
        }

        /// <summary>One level deeper into the type being built; throws past <see cref="MaxNesting"/>.</summary>
        private void Enter(int typeId, string what)
        {
            if (++_depth > MaxNesting)
            {
                var t = _btf[typeId];
                throw new BtfException($"{what} nested deeper than {MaxNesting} levels (at {BtfKinds.Name(t.Kind).ToLowerInvariant()} {(t.IsAnonymous ? "(anon)" : t.Name)}, id {typeId})", _btf.SourceName, typeId: typeId);
            }
        }

        private void BuildEnum(PlannedType pt, BtfType t)
        {
            pt.Kind = PlannedKind.Enum;
            pt.IsSigned = t.KindFlag;
            pt.Alignment = (int)Math.Min((uint)_btf.PointerSize, Math.Max(1u, t.Size));
            pt.Underlying = IntScalar(t.Size, t.KindFlag);
            if (pt.Underlying == ScalarKind.None)
            {
                _plan.Warnings.Add($"enum {t.Name} has unsupported size {t.Size}; emitted as int-sized constants");
                pt.Underlying = t.KindFlag ? ScalarKind.I32 : ScalarKind.U32;
            }
            foreach (var v in t.EnumValues) pt.Values.Add(new KeyValuePair<string, ulong>(v.Name, v.RawValue));
        }

        private void BuildComposite(PlannedType pt, BtfType t)
        {
            try { pt.Alignment = _btf.AlignOf(t.Id, _alignMemo); }
            catch (BtfException e) { pt.Alignment = 1; _plan.Warnings.Add($"{pt.CName}: {e.Message}"); }
            int maxMember = 1;
            foreach (var m in t.Members)
            {
                try { maxMember = Math.Max(maxMember, _btf.AlignOf(m.TypeId, _alignMemo)); } catch (BtfException) { }
            }
            pt.IsPacked = pt.Alignment == 1 && maxMember > 1;
            var nestedNames = new HashSet<string>(StringComparer.Ordinal);
            Flatten(pt, t, 0, "", nestedNames);
        }

        private void Flatten(PlannedType owner, BtfType t, ulong bitBase, string anonPath, HashSet<string> nestedNames)
        {
            Enter(t.Id, "anonymous structs/unions");
            for (int i = 0; i < t.Vlen; i++)
            {
                var m = t.GetMember(i);
                ulong bitOff = bitBase + m.BitOffset;
                if (m.IsAnonymous)
                {
                    int inner = _btf.Skip(m.TypeId);
                    var it = _btf[inner];
                    // Anonymous struct/union members (also of a named type, the MS extension newer kernels use):
                    // their members are reachable from the parent in C, so they are flattened into it.
                    if (it.IsComposite && m.BitfieldSize == 0)
                    {
                        if (bitOff / 8 + it.Size > LayoutLimits.MaxTypeSize)
                            throw new Unrepresentable($"its anonymous {(it.Kind == BtfKind.Union ? "union" : "struct")} (id {inner}) at byte {bitOff / 8} ends at byte {bitOff / 8 + it.Size}, beyond the {LayoutLimits.MaxTypeSize} bytes C# can lay out");
                        Flatten(owner, it, bitOff, anonPath.Length == 0 ? "(anon)" : anonPath + ".(anon)", nestedNames);
                    }
                    continue; // unnamed bitfields are padding
                }
                owner.Fields.Add(MakeField(owner, m, bitOff, anonPath, nestedNames, t));
                if (owner.Fields.Count > LayoutLimits.MaxFields)
                    throw new Unrepresentable($"it has more than {LayoutLimits.MaxFields} members once anonymous members are flattened");
            }
            _depth--;
        }

        private PlannedField MakeField(PlannedType owner, BtfMember m, ulong bitOff, string anonPath, HashSet<string> nestedNames, BtfType parent)
        {
            // Offsets are summed through anonymous members in 64 bits; what C# gets must fit a FieldOffset and the type.
            if (bitOff / 8 > LayoutLimits.MaxTypeSize)
                throw new Unrepresentable($"member {m.Name} is at byte offset {bitOff / 8}, beyond the {LayoutLimits.MaxTypeSize} bytes C# can lay out");
            var f = new PlannedField { Name = m.Name, BitOffset = (uint)bitOff, AnonymousPath = anonPath };
            f.CType = CTypeName(m.TypeId);
            int under = _btf.Skip(m.TypeId);
            var ut = _btf[under];
            f.Type = Shape(m.TypeId, owner, m.Name, nestedNames);
            f.IsSigned = ut.IsSigned;
            int bits = m.BitfieldSize;
            // Legacy bitfield encoding: an INT with a bit offset or fewer bits than its size.
            if (bits == 0 && ut.Kind == BtfKind.Int && (ut.IntBitOffset != 0 || ut.IntBits != ut.Size * 8))
            {
                bits = ut.IntBits;
                f.BitOffset += (uint)ut.IntBitOffset;
            }
            if (bits != 0)
            {
                f.IsBitfield = true;
                f.BitSize = (uint)bits;
                f.CDeclaration = f.CType + " " + m.Name + ": " + bits;
                if ((ulong)f.BitOffset + (uint)bits > (ulong)LayoutLimits.MaxTypeSize * 8)
                    throw new Unrepresentable($"bitfield {m.Name} at bit {f.BitOffset} ends beyond the {LayoutLimits.MaxTypeSize} bytes C# can lay out");
                f.Window = BitfieldWindows.Bitfield(f.BitOffset, (uint)bits, f.Type.ByteSize, _btf.IsBigEndian);
                if (f.BitOffset + f.BitSize > owner.Size * 8)
                    _plan.Warnings.Add($"{owner.CName}.{m.Name}: bitfield runs past the end of the type");
            }
            else
            {
                if ((ulong)f.BitOffset / 8 + f.Type.ByteSize > LayoutLimits.MaxTypeSize)
                    throw new Unrepresentable($"member {m.Name} at byte {f.BitOffset / 8} takes {f.Type.ByteSize} bytes, ending beyond the {LayoutLimits.MaxTypeSize} bytes C# can lay out");
                f.BitSize = f.Type.ByteSize * 8;
                f.CDeclaration = Declaration(m.TypeId, m.Name);
                if (f.Type.Kind == TypeShapeKind.Array && f.Type.Length == 0) f.IsFlexibleArray = true;
                else if (f.Type.ByteSize == 0) f.IsZeroSized = true;
                if (f.BitOffset % 8 != 0)
                    _plan.Warnings.Add($"{owner.CName}.{m.Name}: member at bit offset {f.BitOffset} is not byte aligned");
                else if (f.BitOffset / 8 + f.Type.ByteSize > owner.Size && !f.IsFlexibleArray)
                    _plan.Warnings.Add($"{owner.CName}.{m.Name}: member [{f.BitOffset / 8}, +{f.Type.ByteSize}) runs past the type's size {owner.Size}");
            }
            return f;
        }

        private static ScalarKind IntScalar(uint size, bool signed) => size switch
        {
            1 => signed ? ScalarKind.I8 : ScalarKind.U8,
            2 => signed ? ScalarKind.I16 : ScalarKind.U16,
            4 => signed ? ScalarKind.I32 : ScalarKind.U32,
            8 => signed ? ScalarKind.I64 : ScalarKind.U64,
            16 => signed ? ScalarKind.I128 : ScalarKind.U128,
            _ => ScalarKind.None,
        };

        /// <summary>The shape of type <paramref name="typeId"/> as a member of <paramref name="owner"/>.</summary>
        private TypeShape Shape(int typeId, PlannedType owner, string memberName, HashSet<string> nestedNames, int depth = 0)
        {
            Enter(typeId, "types");
            try { return ShapeOf(typeId, owner, memberName, nestedNames, depth); }
            finally { _depth--; }
        }

        private TypeShape ShapeOf(int typeId, PlannedType owner, string memberName, HashSet<string> nestedNames, int depth)
        {
            int id = _btf.Skip(typeId);
            var t = _btf[id];
            switch (t.Kind)
            {
                case BtfKind.Int:
                    {
                        var enc = t.IntEncoding;
                        if ((enc & BtfIntEncoding.Bool) != 0 && t.Size == 1) return new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = ScalarKind.Bool, ByteSize = 1 };
                        var s = IntScalar(t.Size, (enc & BtfIntEncoding.Signed) != 0);
                        return s == ScalarKind.None ? new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = t.Size } : new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = s, ByteSize = t.Size };
                    }
                case BtfKind.Float:
                    {
                        var s = t.Size switch { 2 => ScalarKind.F16, 4 => ScalarKind.F32, 8 => ScalarKind.F64, _ => ScalarKind.None };
                        return s == ScalarKind.None ? new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = t.Size } : new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = s, ByteSize = t.Size };
                    }
                case BtfKind.Enum: case BtfKind.Enum64:
                    {
                        if (t.IsAnonymous && TypedefName(id) == null)
                        {
                            foreach (var v in t.EnumValues)
                                if (_anonEnumNames.Add(v.Name)) _plan.AnonymousEnumConstants.Add(new AnonymousEnumConstant(v.Name, v.RawValue, t.Size, t.KindFlag));
                            var s = IntScalar(t.Size, t.KindFlag);
                            return s == ScalarKind.None ? new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = t.Size } : new TypeShape { Kind = TypeShapeKind.Scalar, Scalar = s, ByteSize = t.Size, IsAnonymousEnum = true, EnumBtfName = "" };
                        }
                        Request(id);
                        return new TypeShape { Kind = TypeShapeKind.Enum, TypeName = NameOf(id), TypeId = id, Scalar = IntScalar(t.Size, t.KindFlag), ByteSize = t.Size, EnumBtfName = t.Name };
                    }
                case BtfKind.Ptr:
                    return new TypeShape { Kind = TypeShapeKind.Pointer, ByteSize = (uint)_btf.PointerSize, Element = PointeeShape(t.TypeId, depth), PointsToFunction = _btf[_btf.Skip(t.TypeId)].Kind == BtfKind.FuncProto };
                case BtfKind.Array:
                    {
                        var elem = Shape(t.ArrayElementTypeId, owner, memberName, nestedNames, depth + 1);
                        // 64-bit: elements (at most 1 MiB each once planned) times a 32-bit count cannot overflow.
                        ulong total = (ulong)elem.ByteSize * t.ArrayLength;
                        if (total > LayoutLimits.MaxTypeSize)
                            throw new Unrepresentable($"member {memberName} is an array of {t.ArrayLength} elements of {elem.ByteSize} bytes, {total} bytes in all, more than the {LayoutLimits.MaxTypeSize} bytes C# can lay out");
                        if (t.ArrayLength > LayoutLimits.MaxTypeSize)
                        {
                            // Zero-sized elements: no bytes, but no C# inline array has that many elements either.
                            _plan.Warnings.Add($"{owner.CName}.{memberName}: array of {t.ArrayLength} zero-sized elements has more elements than C# can represent; emitted as 0 bytes");
                            return new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = 0 };
                        }
                        return new TypeShape { Kind = TypeShapeKind.Array, Element = elem, Length = t.ArrayLength, ByteSize = (uint)total };
                    }
                case BtfKind.Struct: case BtfKind.Union:
                    {
                        if (t.Size > LayoutLimits.MaxTypeSize)
                            throw new Unrepresentable($"member {memberName} is a {(t.Kind == BtfKind.Union ? "union" : "struct")} {(t.IsAnonymous ? "(anon)" : t.Name)} (id {id}) of {t.Size} bytes, more than the {LayoutLimits.MaxTypeSize} bytes C# can lay out");
                        if (t.IsAnonymous && TypedefName(id) == null)
                        {
                            // An anonymous type used by a named member: a nested type named after the member.
                            string baseName = "__anon_" + memberName, name = baseName;
                            for (int k = 2; !nestedNames.Add(name); k++) name = baseName + "_" + k;
                            var nested = new PlannedType { Name = name, BtfId = id, IsNested = true, Kind = t.Kind == BtfKind.Union ? PlannedKind.Union : PlannedKind.Struct, Size = t.Size };
                            nested.CName = (t.Kind == BtfKind.Union ? "union" : "struct") + " (anonymous, in " + owner.CName + "." + memberName + ")";
                            owner.Nested.Add(nested);
                            BuildComposite(nested, t);
                            return new TypeShape { Kind = TypeShapeKind.Composite, TypeName = name, IsNested = true, ByteSize = t.Size };
                        }
                        Request(id);
                        return new TypeShape { Kind = TypeShapeKind.Composite, TypeName = NameOf(id), TypeId = id, ByteSize = t.Size };
                    }
                case BtfKind.Fwd:
                    _plan.Warnings.Add($"{owner.CName}.{memberName}: member has incomplete type {CTag(t)}{t.Name}; emitted as 0 bytes");
                    return new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = 0 };
                case BtfKind.Void:
                    return new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = 0 };
                default:
                    _plan.Warnings.Add($"{owner.CName}.{memberName}: member of kind {BtfKinds.Name(t.Kind)} cannot be laid out; emitted as 0 bytes");
                    return new TypeShape { Kind = TypeShapeKind.Bytes, ByteSize = 0 };
            }
        }

        /// <summary>The shape behind a pointer: named types become opaque stubs unless followed; void and functions are null.</summary>
        private TypeShape? PointeeShape(int typeId, int depth)
        {
            if (depth > 64) return null;
            int id = _btf.Skip(typeId);
            var t = _btf[id];
            switch (t.Kind)
            {
                case BtfKind.Void: case BtfKind.FuncProto: case BtfKind.Func:
                    return null;
                case BtfKind.Int: case BtfKind.Float:
                    return Shape(id, new PlannedType(), "", new HashSet<string>(), depth + 1);
                case BtfKind.Ptr:
                    return new TypeShape { Kind = TypeShapeKind.Pointer, ByteSize = (uint)_btf.PointerSize, Element = PointeeShape(t.TypeId, depth + 1), PointsToFunction = _btf[_btf.Skip(t.TypeId)].Kind == BtfKind.FuncProto };
                case BtfKind.Array:
                    return PointeeShape(t.ArrayElementTypeId, depth + 1);
                case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64: case BtfKind.Fwd:
                    {
                        if (t.IsAnonymous && TypedefName(id) == null) return null; // pointer to an unnamed type: untyped
                        int target = id;
                        if (t.Kind == BtfKind.Fwd) { var def = Resolve(t.Name); if (def != null) target = def.Value; }
                        var tt = _btf[target];
                        bool isEnum = tt.Kind == BtfKind.Enum || tt.Kind == BtfKind.Enum64;
                        if (_options.FollowPointers || isEnum) Request(target);
                        else RequestOpaque(target, tt.Kind == BtfKind.Fwd ? "forward declaration: the BTF has no definition" : "reached only through a pointer; add it to [BtfTypes] (or set FollowPointers) for its members");
                        return new TypeShape { Kind = isEnum ? TypeShapeKind.Enum : TypeShapeKind.Composite, TypeName = NameOf(target), TypeId = target, ByteSize = tt.Kind == BtfKind.Fwd ? 0 : tt.Size, Scalar = isEnum ? IntScalar(tt.Size, tt.KindFlag) : ScalarKind.None };
                    }
                default:
                    return null;
            }
        }

        /// <summary>C spelling of a type (typedef names kept), e.g. <c>struct list_head *</c>.</summary>
        public string CTypeName(int typeId) => Declaration(typeId, "").Trim();

        /// <summary>
        /// C spelling of a declaration. The walk is bounded in depth and in total work: a function prototype whose
        /// parameters point back at it would otherwise be spelled out exponentially often.
        /// </summary>
        private string Declaration(int typeId, string inner)
        {
            _declBudget = 2048;
            return CDeclarator(typeId, inner, 0);
        }

        private string CDeclarator(int typeId, string inner, int depth)
        {
            if (depth > 32) return "/* too deep */ " + inner;
            if (--_declBudget < 0) return "/* too complex */ " + inner;
            var t = _btf[typeId];
            string Sp(string s) => s.Length == 0 ? "" : " " + s;
            switch (t.Kind)
            {
                case BtfKind.Void: return "void" + Sp(inner);
                case BtfKind.Int: case BtfKind.Float: case BtfKind.Typedef: return t.Name + Sp(inner);
                case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64: case BtfKind.Fwd:
                    return (t.IsAnonymous ? CTag(t) + "{...}" : CTag(t) + t.Name) + Sp(inner);
                case BtfKind.Const: return CDeclarator(t.TypeId, inner, depth + 1).Insert(0, "const ");
                case BtfKind.Volatile: return CDeclarator(t.TypeId, inner, depth + 1).Insert(0, "volatile ");
                case BtfKind.Restrict: return CDeclarator(t.TypeId, "restrict " + inner, depth + 1);
                case BtfKind.TypeTag: return CDeclarator(t.TypeId, inner, depth + 1);
                case BtfKind.Ptr:
                    {
                        var pt = _btf[t.TypeId];
                        bool wrap = pt.Kind == BtfKind.Array || pt.Kind == BtfKind.FuncProto;
                        return CDeclarator(t.TypeId, wrap ? "(*" + inner + ")" : "*" + inner, depth + 1);
                    }
                case BtfKind.Array: return CDeclarator(t.ArrayElementTypeId, inner + "[" + t.ArrayLength + "]", depth + 1);
                case BtfKind.FuncProto:
                    {
                        var ps = new List<string>();
                        foreach (var p in t.Params) ps.Add(p.TypeId == 0 ? "..." : CDeclarator(p.TypeId, "", depth + 1).Trim());
                        return CDeclarator(t.TypeId, inner + "(" + (ps.Count == 0 ? "void" : string.Join(", ", ps)) + ")", depth + 1);
                    }
                default: return BtfKinds.Name(t.Kind) + Sp(inner);
            }
        }

        /// <summary>
        /// Up to five existing type names plausibly meant by <paramref name="name"/>: the same name in another case, names within
        /// an edit distance of a third of its length (at most 3), and names containing it (when it has 4+ characters). Anything
        /// farther is noise ('FPStats' for 'task_strut'), so it is never offered.
        /// </summary>
        public static IReadOnlyList<string> Suggest(Btf btf, string name)
        {
            var scored = new List<KeyValuePair<int, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string lower = name.ToLowerInvariant();
            int bound = Math.Max(1, Math.Min(3, name.Length / 3));
            foreach (var t in btf.NamedTypes())
            {
                var k = t.Kind;
                if (!(IsDefinable(k) || k == BtfKind.Typedef)) continue;
                var n = t.Name;
                if (!seen.Add(n)) continue;
                var nl = n.ToLowerInvariant();
                int score = int.MaxValue;
                if (nl == lower) score = 0;
                else if (Math.Abs(n.Length - name.Length) <= bound)
                {
                    int d = Distance(nl, lower, bound);
                    if (d <= bound) score = d;
                }
                if (score == int.MaxValue && lower.Length >= 4 && nl.Contains(lower)) score = bound + 1 + (n.Length - name.Length) / 4;
                if (score != int.MaxValue) scored.Add(new KeyValuePair<int, string>(score, n));
            }
            return scored.OrderBy(s => s.Key).ThenBy(s => s.Value.Length).ThenBy(s => s.Value, StringComparer.Ordinal).Take(5).Select(s => s.Value).ToList();
        }

        private static int Distance(string a, string b, int max)
        {
            var prev = new int[b.Length + 1];
            var cur = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++) prev[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                cur[0] = i;
                int rowMin = cur[0];
                for (int j = 1; j <= b.Length; j++)
                {
                    cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                    rowMin = Math.Min(rowMin, cur[j]);
                }
                if (rowMin > max) return max + 1;
                var tmp = prev; prev = cur; cur = tmp;
            }
            return prev[b.Length];
        }
    }
}
