using System;
using System.Collections.Generic;

namespace BtfBindings
{
    public sealed partial class Btf
    {
        /// <summary>True for CONST, VOLATILE, RESTRICT and TYPE_TAG.</summary>
        public static bool IsModifier(BtfKind k) => k == BtfKind.Const || k == BtfKind.Volatile || k == BtfKind.Restrict || k == BtfKind.TypeTag;

        /// <summary>Follows qualifiers and type tags (and typedefs when <paramref name="typedefs"/>) to the underlying type id.</summary>
        /// <exception cref="BtfException">The chain is a cycle or deeper than libbpf allows.</exception>
        public int Skip(int id, bool typedefs = true)
        {
            for (int depth = 0; depth <= MaxResolveDepth * 8; depth++)
            {
                var t = this[id];
                var k = t.Kind;
                if (IsModifier(k) || (typedefs && k == BtfKind.Typedef)) id = t.TypeId;
                else return id;
            }
            throw new BtfException("reference cycle or over-long chain of qualifiers/typedefs", SourceName, typeId: id);
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
                        throw new BtfException($"type [{id}] of kind {KindName((int)t.Kind)} has no size", SourceName, typeId: start);
                }
            }
            throw new BtfException("reference cycle or type chain deeper than 32 while resolving size", SourceName, typeId: start);

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

        private int AlignOf(int id, int depth, int start, Dictionary<int, int>? memo)
        {
            if (depth > 64) throw new BtfException("reference cycle or nesting deeper than 64 while computing alignment", SourceName, typeId: start);
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
                    throw new BtfException($"type [{id}] of kind {KindName((int)t.Kind)} has no alignment", SourceName, typeId: start);
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

        /// <summary>Ids directly referenced by a type (member, element, pointee, parameter types…), void excluded.</summary>
        public IEnumerable<int> GetReferencedIds(int id)
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
        public List<int> Closure(IEnumerable<int> roots, bool throughPointers = true)
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
