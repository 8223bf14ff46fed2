using System;
using System.Collections.Generic;

namespace BtfBindings
{
    sealed partial class Btf
    {
        /// <summary>True for CONST, VOLATILE, RESTRICT and TYPE_TAG.</summary>
        internal static bool IsModifier(BtfKind k) => k == BtfKind.Const || k == BtfKind.Volatile || k == BtfKind.Restrict || k == BtfKind.TypeTag;

        /// <summary>Follows qualifiers and type tags (and typedefs when <paramref name="typedefs"/>) to the underlying type id.</summary>
        /// <exception cref="BtfException">The chain is a cycle or deeper than libbpf allows.</exception>
        public int Skip(int id, bool typedefs = true)
        {
            int start = id;
            for (int depth = 0; depth <= MaxResolveDepth * 8; depth++)
            {
                var t = this[id];
                var k = t.Kind;
                if (IsModifier(k) || (typedefs && k == BtfKind.Typedef)) id = t.TypeId;
                else return id;
            }
            throw ChainError(start, "reference cycle or over-long chain of qualifiers/typedefs");
        }

        /// <summary>Size in bytes of a type, as libbpf's <c>btf__resolve_size</c> computes it (pointers use <see cref="PointerSize"/>).</summary>
        /// <exception cref="BtfException">The type has no size (void, FUNC, FWD…), is cyclic, or is larger than 4 GiB.</exception>
        public long ResolveSize(int id)
        {
            int start = id;
            ulong nelems = 1;
            for (int depth = 0; depth < MaxResolveDepth; depth++)
            {
                var t = this[id];
                switch (t.Kind)
                {
                    case BtfKind.Int: case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum:
                    case BtfKind.Enum64: case BtfKind.DataSec: case BtfKind.Float:
                        return Total(t.Size);
                    case BtfKind.Ptr:
                        return Total((uint)PointerSize);
                    case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
                    case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag:
                        id = t.TypeId;
                        break;
                    case BtfKind.Array:
                        {
                            uint n = t.ArrayLength;
                            if (n != 0 && nelems > uint.MaxValue / n)
                                throw new BtfException("array size overflows 32 bits", SourceName, typeId: start);
                            nelems *= n;
                            id = t.ArrayElementTypeId;
                            break;
                        }
                    default:
                        throw new BtfException($"type [{id}] of kind {BtfKinds.Name(t.Kind)} has no size", SourceName, typeId: start);
                }
            }
            throw ChainError(start, "reference cycle or type chain deeper than 32 while resolving size");

            long Total(uint size)
            {
                ulong total = nelems * size;
                if (total > uint.MaxValue) throw new BtfException($"size {total} overflows 32 bits", SourceName, typeId: start);
                return (long)total;
            }
        }

        /// <summary>
        /// Alignment of a type as libbpf's <c>btf__align_of</c> computes it: scalars <c>min(pointer size, size)</c>,
        /// composites the largest member alignment, or 1 when the struct is packed (a member is misaligned for its
        /// type or the size is not a multiple of the alignment).
        /// </summary>
        /// <exception cref="BtfException">The type has no alignment (void, FUNC, FWD…) or is cyclic.</exception>
        public int AlignOf(int id) => AlignOf(id, 0, id, null);

        /// <summary><see cref="AlignOf(int)"/> with a memo of struct/union alignments shared across calls (one plan's).</summary>
        internal int AlignOf(int id, Dictionary<int, int> memo) => AlignOf(id, 0, id, memo);

        private int AlignOf(int id, int depth, int start, Dictionary<int, int>? memo)
        {
            if (depth > 64) throw ChainError(start, "reference cycle or nesting deeper than 64 while computing alignment");
            var t = this[id];
            switch (t.Kind)
            {
                case BtfKind.Int: case BtfKind.Enum: case BtfKind.Enum64: case BtfKind.Float:
                    return (int)Math.Min((uint)PointerSize, t.Size);
                case BtfKind.Ptr:
                    return PointerSize;
                case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
                    return AlignOf(t.TypeId, depth + 1, start, memo);
                case BtfKind.Array:
                    return AlignOf(t.ArrayElementTypeId, depth + 1, start, memo);
                case BtfKind.Struct: case BtfKind.Union:
                    {
                        // Memoised: a struct holding many copies of a shared sub-struct is visited once, not 2^depth times.
                        memo ??= new Dictionary<int, int>();
                        if (memo.TryGetValue(id, out int known)) return known;
                        int result = StructAlign(t, id, depth, start, memo);
                        memo[id] = result;
                        return result;
                    }
                default:
                    throw new BtfException($"type [{id}] of kind {BtfKinds.Name(t.Kind)} has no alignment", SourceName, typeId: start);
            }
        }

        private int StructAlign(BtfType t, int id, int depth, int start, Dictionary<int, int> memo)
        {
            int max = 1;
            int n = t.Vlen;
            for (int i = 0; i < n; i++)
            {
                var m = t.GetMember(i);
                int a = AlignOf(m.TypeId, depth + 1, start, memo);
                if (a <= 0) throw new BtfException($"member {i} has alignment {a}", SourceName, typeId: id);
                if (a > max) max = a;
                if (m.BitfieldSize == 0 && m.BitOffset % (uint)(8 * a) != 0) return 1;
            }
            if (t.Size % (uint)max != 0) return 1;
            return max;
        }

        /// <summary>
        /// The exception for a walk that went too deep from <paramref name="start"/>: names the by-value cycle when there
        /// is one (<see cref="FindValueCycle(int, HashSet{int})"/>), else says the chain is too long.
        /// </summary>
        private BtfException ChainError(int start, string fallback)
        {
            // Bounded: this runs on every failed walk, and a walk can fail from each of many roots of one deep graph.
            int[]? cycle = null;
            try { cycle = FindValueCycle(start, null, 1024); } catch (BtfException) { }
            return cycle != null ? ValueCycleError(cycle) : new BtfException(fallback, SourceName, typeId: start);
        }

        /// <summary>
        /// Number of types <paramref name="t"/> holds by value: the target of a typedef or qualifier, an array's element,
        /// a struct's or union's members. Pointers, functions, forward declarations and scalars hold none.
        /// </summary>
        private static int ValueEdgeCount(BtfType t)
        {
            switch (t.Kind)
            {
                case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag:
                case BtfKind.Array:
                    return 1;
                case BtfKind.Struct: case BtfKind.Union:
                    return t.Vlen;
                default:
                    return 0;
            }
        }

        private static int ValueEdge(BtfType t, int i) => t.Kind switch
        {
            BtfKind.Array => t.ArrayElementTypeId,
            BtfKind.Struct or BtfKind.Union => t.GetMember(i).TypeId,
            _ => t.TypeId,
        };

        /// <summary>
        /// A by-value cycle reachable from <paramref name="id"/> — a struct or union that contains itself (directly, through
        /// typedefs, qualifiers, arrays or anonymous members), or a typedef/qualifier chain that loops — as the ids along it,
        /// the first repeated as the last; null when there is none. Iterative (an explicit stack, so any depth of input is
        /// safe) and linear in the types reached. <paramref name="acyclic"/>, when given, holds ids already known to reach no
        /// cycle; they are skipped, and every id this call proves acyclic is added, so checking many roots with one set
        /// costs one walk of the graph in all.
        /// </summary>
        internal int[]? FindValueCycle(int id, HashSet<int>? acyclic = null) => FindValueCycle(id, acyclic, int.MaxValue);

        /// <summary><see cref="FindValueCycle(int, HashSet{int})"/> that gives up (null) after visiting <paramref name="maxNodes"/> types.</summary>
        internal int[]? FindValueCycle(int id, HashSet<int>? acyclic, int maxNodes)
        {
            if (id == 0 || (acyclic != null && acyclic.Contains(id))) return null;
            var done = acyclic ?? new HashSet<int>();
            var onPath = new Dictionary<int, int>(); // id -> index in path
            var path = new List<int>();
            var next = new List<int>(); // per path entry: the next edge to follow
            path.Add(id); next.Add(0); onPath[id] = 0;
            while (path.Count > 0)
            {
                int top = path.Count - 1;
                var t = this[path[top]];
                int edge = next[top];
                if (edge >= ValueEdgeCount(t))
                {
                    done.Add(path[top]);
                    onPath.Remove(path[top]);
                    path.RemoveAt(top);
                    next.RemoveAt(top);
                    continue;
                }
                next[top] = edge + 1;
                int child = ValueEdge(t, edge);
                if (child == 0 || done.Contains(child)) continue;
                if (onPath.TryGetValue(child, out int at))
                {
                    var cycle = new int[path.Count - at + 1];
                    for (int k = at; k < path.Count; k++) cycle[k - at] = path[k];
                    cycle[cycle.Length - 1] = child;
                    return cycle;
                }
                if (--maxNodes <= 0) return null;
                onPath[child] = path.Count;
                path.Add(child); next.Add(0);
            }
            return null;
        }

        /// <summary>Throws when <paramref name="id"/> reaches a by-value cycle (see <see cref="FindValueCycle(int, HashSet{int})"/>).</summary>
        /// <exception cref="BtfException">The message names the cycle: <c>struct foo (id 12) contains itself by value: struct foo (id 12) -&gt; union (anon) (id 13) -&gt; struct foo (id 12)</c>.</exception>
        internal void CheckNoValueCycle(int id, HashSet<int>? acyclic = null)
        {
            var cycle = FindValueCycle(id, acyclic);
            if (cycle != null) throw ValueCycleError(cycle, id);
        }

        /// <summary>The exception for a by-value cycle (ids, the first repeated as the last), starting at <paramref name="preferred"/> when it is a struct/union on the cycle.</summary>
        internal BtfException ValueCycleError(int[] cycle, int preferred = 0)
        {
            int n = cycle.Length - 1;
            int start = -1;
            // Start at the type asked about when it is a struct/union on the cycle, else at the cycle's first struct/union.
            for (int k = 0; k < n && start < 0; k++) if (cycle[k] == preferred && this[preferred].IsComposite) start = k;
            for (int k = 0; k < n && start < 0; k++) if (this[cycle[k]].IsComposite) start = k;
            if (start < 0) start = 0;
            var sb = new System.Text.StringBuilder();
            int first = cycle[start];
            string head = DescribeNode(first);
            var firstType = this[first];
            sb.Append(head).Append(firstType.IsComposite ? " contains itself by value: " : " refers to itself: ");
            for (int k = 0; k <= n; k++)
            {
                if (k > 0) sb.Append(" -> ");
                if (k >= 64 && k < n) { sb.Append("... (").Append(n - k).Append(" more)"); k = n - 1; continue; }
                sb.Append(DescribeNode(cycle[(start + k) % n]));
            }
            return new BtfException(sb.ToString(), SourceName, typeId: first);
        }

        private string DescribeNode(int id)
        {
            var t = this[id];
            string what;
            switch (t.Kind)
            {
                case BtfKind.Struct: what = "struct " + (t.IsAnonymous ? "(anon)" : t.Name); break;
                case BtfKind.Union: what = "union " + (t.IsAnonymous ? "(anon)" : t.Name); break;
                case BtfKind.Typedef: what = "typedef " + t.Name; break;
                case BtfKind.Array: what = "array[" + t.ArrayLength + "]"; break;
                default: what = BtfKinds.LowerName(t.Kind) + (t.IsAnonymous ? "" : " " + t.Name); break;
            }
            return what + " (id " + id + ")";
        }

        /// <summary>Ids directly referenced by a type (member, element, pointee, parameter types…), void excluded.</summary>
        internal IEnumerable<int> GetReferencedIds(int id)
        {
            var t = this[id];
            switch (t.Kind)
            {
                case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict:
                case BtfKind.Func: case BtfKind.Var: case BtfKind.DeclTag: case BtfKind.TypeTag:
                    if (t.TypeId != 0) yield return t.TypeId;
                    break;
                case BtfKind.Array:
                    yield return t.ArrayElementTypeId;
                    yield return t.ArrayIndexTypeId;
                    break;
                case BtfKind.Struct: case BtfKind.Union:
                    for (int i = 0; i < t.Vlen; i++) yield return t.GetMember(i).TypeId;
                    break;
                case BtfKind.FuncProto:
                    if (t.TypeId != 0) yield return t.TypeId;
                    for (int i = 0; i < t.Vlen; i++) { var p = t.GetParam(i).TypeId; if (p != 0) yield return p; }
                    break;
                case BtfKind.DataSec:
                    for (int i = 0; i < t.Vlen; i++) yield return t.GetVarSecInfo(i).TypeId;
                    break;
            }
        }

        /// <summary>
        /// The transitive closure of types reachable from <paramref name="roots"/>, in discovery order.
        /// With <paramref name="throughPointers"/> false, pointees are not followed (what a by-value layout needs).
        /// </summary>
        internal List<int> Closure(IEnumerable<int> roots, bool throughPointers = true)
        {
            var seen = new HashSet<int>();
            var order = new List<int>();
            var stack = new Stack<int>();
            foreach (var r in roots) if (r != 0 && seen.Add(r)) stack.Push(r);
            while (stack.Count > 0)
            {
                int id = stack.Pop();
                order.Add(id);
                if (!throughPointers && this[id].Kind == BtfKind.Ptr) continue;
                foreach (var d in GetReferencedIds(id))
                    if (d != 0 && seen.Add(d)) stack.Push(d);
            }
            return order;
        }
    }
}
