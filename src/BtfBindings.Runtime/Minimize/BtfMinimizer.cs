using System;
using System.Collections.Generic;
using System.Linq;

namespace BtfBindings.Minimize
{
    /// <summary>
    /// Builds a small, self-contained BTF holding what some root types need by value — the model is libbpf's
    /// <c>bpftool gen min_core_btf</c>: every kept struct/union keeps all its members, and every type those members
    /// have by value (arrays, typedefs, qualifiers, enums, ints) is kept in full. Types reached only through a pointer
    /// are not expanded: a named struct/union pointee becomes a forward declaration (FWD), an anonymous one an empty
    /// struct/union of the same size; typedefs, qualifiers and function prototypes on the way to a pointee are kept so
    /// member types still read as in the kernel. FUNC, VAR, DATASEC and DECL_TAG records are dropped. The target's
    /// <c>long</c> is always kept: the pointer size is inferred from it (libbpf's rule), so a 32-bit kernel's minimized
    /// BTF still has 4-byte pointers.
    /// <para>
    /// For CO-RE (<see cref="MinimizeForCore"/>) the roots are every candidate a name can match in the target, so every
    /// answer the runtime gives against the full BTF is unchanged: all structs, unions, enums and typedefs whose
    /// essential name (libbpf's <c>___flavor</c> rule) equals a requested one, so an ambiguity stays an ambiguity. Pointee
    /// bodies are safe to drop because libbpf's field rule (<c>bpf_core_fields_are_compat</c>) accepts any pointer for a
    /// pointer and never looks behind it; the roots themselves are kept whole, so type-based answers (existence, size)
    /// are unchanged too. bpftool keeps less — only the members a BPF object's relocations access, with unmarked pointees
    /// turned into void — because its input is a list of relocations; here every member of a generated type is resolved
    /// at once, so every member stays.
    /// </para>
    /// </summary>
    internal sealed class BtfMinimizer
    {
        private readonly Btf _btf;
        private readonly HashSet<int> _byValue = new HashSet<int>();
        private readonly HashSet<int> _pointerMode = new HashSet<int>();
        private readonly HashSet<int> _placeholders = new HashSet<int>();

        private BtfMinimizer(Btf btf) { _btf = btf; }

        /// <summary>The minimized BTF and counts for reports.</summary>
        public sealed class Result
        {
            /// <summary>Raw BTF, in the input's byte order.</summary>
            public byte[] Data = Array.Empty<byte>();
            /// <summary>Types kept in full (roots and their by-value closure).</summary>
            public int KeptFull;
            /// <summary>Types kept only to spell pointers (typedefs, qualifiers, prototypes, scalars).</summary>
            public int KeptForPointers;
            /// <summary>Pointee structs/unions written as FWD (or empty, when anonymous).</summary>
            public int Forwards;
            /// <summary>The root ids the closure started from.</summary>
            public int Roots;
        }

        /// <summary>Minimizes <paramref name="btf"/> to <paramref name="roots"/> (type ids) and what they hold by value.</summary>
        public static Result Minimize(Btf btf, IEnumerable<int> roots)
        {
            var m = new BtfMinimizer(btf);
            var rootList = roots.Where(r => r != 0).Distinct().ToList();
            int? longId = LongType(btf);
            if (longId.HasValue && !rootList.Contains(longId.Value)) rootList.Add(longId.Value);
            m.CloseByValue(rootList);
            var r = m.Write();
            r.Roots = rootList.Count;
            return r;
        }

        /// <summary>
        /// Minimizes a target kernel's BTF to what CO-RE needs to resolve types named <paramref name="names"/> (the
        /// generated types: struct, union, enum or typedef names, <c>___flavor</c> suffixes allowed) exactly as against
        /// the full BTF (see the class remarks). Names the target lacks are simply absent, as they are in the full BTF.
        /// </summary>
        public static Result MinimizeForCore(Btf target, IEnumerable<string> names) => Minimize(target, CoreRoots(target, names));

        /// <summary>Every type of <paramref name="target"/> a CO-RE look-up of one of <paramref name="names"/> can return, by id.</summary>
        public static List<int> CoreRoots(Btf target, IEnumerable<string> names)
        {
            var roots = new SortedSet<int>();
            foreach (var n in names.Distinct(StringComparer.Ordinal))
            {
                if (string.IsNullOrEmpty(n)) continue;
                // Struct and union both: a local struct's candidates are structs, a union's unions; keeping both is cheap
                // and also covers the local side changing kind between kernels. ENUM finds ENUM64 too (one CO-RE kind).
                foreach (var kind in new[] { BtfKind.Struct, BtfKind.Union, BtfKind.Enum, BtfKind.Typedef })
                    foreach (var t in target.FindCoreCandidates(n, kind)) roots.Add(t.Id);
            }
            return roots.ToList();
        }

        /// <summary>
        /// The names a plan's generated types are looked up by in a target (<see cref="MinimizeForCore"/>'s input): every
        /// struct, union and enum it emits with members or values, by BTF name (a typedef's name for a type the kernel leaves
        /// anonymous). Opaque pointee stubs have no layout to resolve and nested anonymous types are resolved through their
        /// parent's field, so neither is looked up by name.
        /// </summary>
        public static List<string> CoreNames(Layout.LayoutPlan plan)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var t in plan.Types)
                if (t.Kind != Layout.PlannedKind.Opaque && !t.IsNested && t.BtfName.Length > 0) names.Add(t.BtfName);
            return names.ToList();
        }

        private static readonly string[] LongNames = { "long int", "long", "long unsigned int", "unsigned long" };

        /// <summary>The INT pointer size is inferred from (see <c>BtfParser.IsLongName</c>), if there is one.</summary>
        private static int? LongType(Btf btf)
        {
            foreach (var n in LongNames)
            {
                var t = btf.FindType(n, BtfKind.Int);
                if (t.HasValue) return t.Value.Id;
            }
            return null;
        }

        private void CloseByValue(List<int> roots)
        {
            var pointees = new List<int>();
            var stack = new Stack<int>(roots);
            while (stack.Count > 0)
            {
                int id = stack.Pop();
                if (id == 0 || !_byValue.Add(id)) continue;
                var t = _btf[id];
                switch (t.Kind)
                {
                    case BtfKind.Struct: case BtfKind.Union:
                        foreach (var mem in t.Members) stack.Push(mem.TypeId);
                        break;
                    case BtfKind.Array:
                        stack.Push(t.ArrayElementTypeId);
                        stack.Push(t.ArrayIndexTypeId);
                        break;
                    case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag:
                        stack.Push(t.TypeId);
                        break;
                    case BtfKind.Ptr:
                        pointees.Add(t.TypeId);
                        break;
                    case BtfKind.FuncProto:
                        // Only reachable through a typedef used by value (never in valid C); keep its signature shallowly.
                        pointees.Add(t.TypeId);
                        foreach (var p in t.Params) pointees.Add(p.TypeId);
                        break;
                    case BtfKind.Func: case BtfKind.Var: case BtfKind.DataSec: case BtfKind.DeclTag:
                        throw new BtfException($"type [{id}] of kind {BtfKinds.Name(t.Kind)} cannot be minimized by value", _btf.SourceName, typeId: id);
                }
            }
            // Pointer targets: keep the spelling (typedefs, qualifiers, pointers, prototypes), not the pointee's body.
            var work = new Stack<int>(pointees);
            var seen = new HashSet<int>();
            while (work.Count > 0)
            {
                int id = work.Pop();
                if (id == 0 || _byValue.Contains(id) || !seen.Add(id)) continue;
                var t = _btf[id];
                switch (t.Kind)
                {
                    case BtfKind.Struct: case BtfKind.Union:
                        _placeholders.Add(id);
                        break;
                    case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag: case BtfKind.Ptr:
                        _pointerMode.Add(id);
                        work.Push(t.TypeId);
                        break;
                    case BtfKind.Array:
                        _pointerMode.Add(id);
                        work.Push(t.ArrayElementTypeId);
                        work.Push(t.ArrayIndexTypeId);
                        break;
                    case BtfKind.FuncProto:
                        _pointerMode.Add(id);
                        work.Push(t.TypeId);
                        foreach (var p in t.Params) work.Push(p.TypeId);
                        break;
                    case BtfKind.Func:
                        _pointerMode.Add(id); // a pointer to a FUNC is unusual; keep it with its prototype
                        work.Push(t.TypeId);
                        break;
                    case BtfKind.Enum: case BtfKind.Enum64: case BtfKind.Int: case BtfKind.Float: case BtfKind.Fwd:
                        _pointerMode.Add(id);
                        break;
                    default:
                        _pointerMode.Add(id);
                        break;
                }
            }
        }

        private Result Write()
        {
            var builder = new BtfBuilder();
            var kept = new SortedSet<int>(_byValue);
            kept.UnionWith(_pointerMode);
            // New ids: kept types in their original order, then placeholders (one FWD per name and kind).
            var map = new Dictionary<int, int>();
            int next = 1;
            foreach (var id in kept) map[id] = next++;
            var fwdByKey = new Dictionary<(string, bool), int>();
            var placeholderOrder = new List<(int oldId, int newId)>();
            foreach (var id in _placeholders.OrderBy(x => x))
            {
                var t = _btf[id];
                if (!t.IsAnonymous)
                {
                    var key = (t.Name, t.Kind == BtfKind.Union);
                    if (fwdByKey.TryGetValue(key, out var existing)) { map[id] = existing; continue; }
                    fwdByKey[key] = next;
                }
                map[id] = next;
                placeholderOrder.Add((id, next));
                next++;
            }
            uint M(int id) => id == 0 ? 0u : (uint)map[id];

            foreach (var id in kept)
            {
                var t = _btf[id];
                int got;
                switch (t.Kind)
                {
                    case BtfKind.Int:
                        got = builder.AddRaw(t.Name, BtfKind.Int, 0, t.KindFlag, t.Size, RawWord(t, 3));
                        break;
                    case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
                        got = builder.AddRaw(t.Name, t.Kind, 0, t.KindFlag, M(t.TypeId));
                        break;
                    case BtfKind.Array:
                        got = builder.AddRaw("", BtfKind.Array, 0, false, 0, M(t.ArrayElementTypeId), M(t.ArrayIndexTypeId), t.ArrayLength);
                        break;
                    case BtfKind.Struct: case BtfKind.Union:
                        {
                            var extra = new List<uint>(t.Vlen * 3);
                            bool kf = t.KindFlag;
                            foreach (var mem in t.Members)
                            {
                                extra.Add(builder.AddString(mem.Name));
                                extra.Add(M(mem.TypeId));
                                extra.Add(kf ? ((uint)mem.BitfieldSize << 24) | (mem.BitOffset & 0xffffff) : mem.BitOffset);
                            }
                            got = builder.AddRaw(t.Name, t.Kind, t.Vlen, kf, t.Size, extra.ToArray());
                            break;
                        }
                    case BtfKind.Enum: case BtfKind.Enum64:
                        {
                            var extra = new List<uint>();
                            foreach (var v in t.EnumValues)
                            {
                                extra.Add(builder.AddString(v.Name));
                                extra.Add((uint)v.RawValue);
                                if (t.Kind == BtfKind.Enum64) extra.Add((uint)(v.RawValue >> 32));
                            }
                            got = builder.AddRaw(t.Name, t.Kind, t.Vlen, t.KindFlag, t.Size, extra.ToArray());
                            break;
                        }
                    case BtfKind.Fwd:
                        got = builder.AddRaw(t.Name, BtfKind.Fwd, 0, t.KindFlag, 0);
                        break;
                    case BtfKind.FuncProto:
                        {
                            var extra = new List<uint>();
                            foreach (var p in t.Params) { extra.Add(builder.AddString(p.Name)); extra.Add(M(p.TypeId)); }
                            got = builder.AddRaw("", BtfKind.FuncProto, t.Vlen, false, M(t.TypeId), extra.ToArray());
                            break;
                        }
                    case BtfKind.Func:
                        got = builder.AddRaw(t.Name, BtfKind.Func, t.Vlen, false, M(t.TypeId));
                        break;
                    case BtfKind.Float:
                        got = builder.AddRaw(t.Name, BtfKind.Float, 0, false, t.Size);
                        break;
                    default:
                        throw new BtfException($"type [{id}] of kind {BtfKinds.Name(t.Kind)} cannot be written to minimized BTF", _btf.SourceName, typeId: id);
                }
                if (got != map[id]) throw new InvalidOperationException($"minimize: id {got} assigned, {map[id]} expected");
            }
            int fwds = 0;
            foreach (var (oldId, newId) in placeholderOrder)
            {
                var t = _btf[oldId];
                int got = t.IsAnonymous
                    ? builder.AddRaw("", t.Kind, 0, false, t.Size)
                    : builder.AddFwd(t.Name, union: t.Kind == BtfKind.Union);
                if (got != newId) throw new InvalidOperationException($"minimize: id {got} assigned, {newId} expected");
                fwds++;
            }
            return new Result
            {
                Data = builder.ToArray(bigEndian: _btf.IsBigEndian),
                KeptFull = _byValue.Count,
                KeptForPointers = _pointerMode.Count,
                Forwards = fwds,
            };
        }

        /// <summary>The raw extra word of an INT (encoding, offset, bits), rebuilt from its fields.</summary>
        private static uint RawWord(BtfType t, int _)
            => ((uint)t.IntEncoding << 24) | ((uint)t.IntBitOffset << 16) | (uint)t.IntBits;
    }
}
