using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using BtfBindings.Layout;

namespace BtfBindings
{
    /// <summary>
    /// libbpf's CO-RE field rules (<c>relo_core.c</c>: <c>bpf_core_match_member</c>, <c>bpf_core_fields_are_compat</c>,
    /// <c>bpf_core_calc_field_relo</c>) applied to every field of a generated type against one candidate.
    /// </summary>
    internal static class CoreResolver
    {
        /// <summary>A named member of a target composite, found directly or through anonymous members.</summary>
        internal readonly struct TargetMember
        {
            public readonly int TypeId;
            public readonly uint BitOffset;
            public readonly int BitfieldSize;
            public TargetMember(int typeId, uint bitOffset, int bitfieldSize) { TypeId = typeId; BitOffset = bitOffset; BitfieldSize = bitfieldSize; }
        }

        /// <summary>
        /// Every name reachable in a target struct/union, as libbpf's member search finds it: declaration order,
        /// anonymous struct/union members searched depth-first with their offsets accumulated, first hit wins.
        /// </summary>
        internal sealed class MemberMap
        {
            public readonly Dictionary<string, TargetMember> ByName;
            public MemberMap(int capacity) { ByName = new Dictionary<string, TargetMember>(capacity, StringComparer.Ordinal); }
        }

        /// <summary>How deep anonymous members may nest in a target type before it is rejected as malformed.</summary>
        internal const int MaxAnonymousNesting = 64;

        /// <summary>How many members (direct and through anonymous members) a target type may have in all before it is rejected.</summary>
        internal const int MaxMembers = 1 << 20;

        internal static MemberMap BuildMembers(BtfType t)
        {
            var map = new MemberMap(t.Vlen);
            Collect(t.Btf, t, map.ByName);
            return map;
        }

        /// <summary>
        /// libbpf's depth-first member search, with an explicit stack: anonymous struct/union members are entered in
        /// declaration order with their bit offsets summed (in 64 bits). A target type that contains itself through
        /// anonymous members, nests them deeper than <see cref="MaxAnonymousNesting"/> or has more than
        /// <see cref="MaxMembers"/> members in all (malformed BTF) is a <see cref="BtfException"/>, never a stack overflow or hang.
        /// </summary>
        private static void Collect(Btf btf, BtfType root, Dictionary<string, TargetMember> into)
        {
            var stack = new List<(BtfType type, int next, ulong bitBase)> { (root, 0, 0) };
            var onPath = new HashSet<int> { root.Id };
            long budget = MaxMembers;
            while (stack.Count > 0)
            {
                int top = stack.Count - 1;
                var (t, i, bitBase) = stack[top];
                if (i >= t.Vlen)
                {
                    onPath.Remove(t.Id);
                    stack.RemoveAt(top);
                    continue;
                }
                stack[top] = (t, i + 1, bitBase);
                if (--budget < 0)
                    throw new BtfException($"{Describe(root)} has more than {MaxMembers} members counting those of its anonymous members", btf.SourceName, typeId: root.Id);
                var m = t.GetMember(i);
                ulong bitOff = bitBase + m.BitOffset;
                if (m.IsAnonymous)
                {
                    int inner = btf.Skip(m.TypeId);
                    var it = btf[inner];
                    if (!it.IsComposite) continue; // unnamed bitfields are padding; libbpf's search skips non-composite anonymous members
                    if (!onPath.Add(inner))
                    {
                        int k = 0, from = 0;
                        for (int j = 0; j < stack.Count; j++) if (stack[j].type.Id == inner) { from = j; break; }
                        var cycle = new int[stack.Count - from + 1];
                        for (int j = from; j < stack.Count; j++) cycle[k++] = stack[j].type.Id;
                        cycle[k] = inner;
                        throw btf.ValueCycleError(cycle, root.Id);
                    }
                    if (stack.Count >= MaxAnonymousNesting)
                        throw new BtfException($"{Describe(root)}: anonymous members nested deeper than {MaxAnonymousNesting} levels (at {Describe(it)})", btf.SourceName, typeId: root.Id);
                    stack.Add((it, 0, bitOff));
                    continue;
                }
                if (bitOff > uint.MaxValue)
                    throw new BtfException($"{Describe(root)}: member '{m.Name}' is at bit offset {bitOff}, beyond 32 bits", btf.SourceName, typeId: root.Id);
                if (!into.ContainsKey(m.Name)) into.Add(m.Name, new TargetMember(m.TypeId, (uint)bitOff, m.BitfieldSize));
            }
        }

        /// <summary>Resolves every local field against one target candidate.</summary>
        internal static CoreFieldResolution[] ResolveFields(BtfTypeLayout local, BtfType target, MemberMap map, out int found)
        {
            var fields = local.Fields;
            var result = new CoreFieldResolution[fields.Count];
            found = 0;
            for (int i = 0; i < result.Length; i++)
            {
                var lf = fields[i];
                var r = new CoreFieldResolution(lf, i);
                if (map.ByName.TryGetValue(lf.Name, out var m)) Resolve(r, lf, target, m);
                else Missing(r, $"no field '{lf.Name}' in {Describe(target)}");
                if (r.Exists) found++;
                result[i] = r;
            }
            return result;
        }

        private static void Missing(CoreFieldResolution r, string why)
        {
            r.Exists = false;
            r.IsReadable = false;
            r.Problem = why;
            r.Status = CoreFieldStatus.Missing;
        }

        private static void Resolve(CoreFieldResolution r, BtfFieldLayout lf, BtfType owner, TargetMember m)
        {
            var btf = owner.Btf;
            BtfType tt;
            long size;
            try
            {
                tt = btf[btf.Skip(m.TypeId)];
                string? why = Incompatible(lf.Kind, lf.TypeName, lf.ElementKind, btf, tt);
                if (why != null) { Missing(r, $"'{lf.Name}' in {Describe(owner)} has an incompatible type: {why}"); r.HasIncompatibleType = true; return; }
                size = tt.Kind == BtfKind.Array && tt.ArrayLength == 0 ? 0 : btf.ResolveSize(m.TypeId);
            }
            catch (BtfException e)
            {
                Missing(r, $"'{lf.Name}' in {Describe(owner)}: {e.Message}");
                return;
            }

            r.Exists = true;
            r.TargetType = tt;
            r.TargetKind = KindOf(tt);
            r.BitOffset = m.BitOffset;
            r.IsSigned = tt.IsSigned;
            bool bitfield = m.BitfieldSize > 0 || m.BitOffset % 8 != 0;
            r.IsBitfield = bitfield;
            string? windowProblem = null;
            if (bitfield)
            {
                r.BitSize = m.BitfieldSize > 0 ? (uint)m.BitfieldSize : (uint)size * 8;
                r.MemberTypeSize = tt.Kind == BtfKind.Int || tt.Kind == BtfKind.Enum || tt.Kind == BtfKind.Enum64 ? tt.Size : (uint)Math.Min(size, uint.MaxValue);
                windowProblem = ApplyWindow(r, 0, btf.IsBigEndian);
            }
            else
            {
                var w = BitfieldWindows.Plain(m.BitOffset / 8, (uint)size, btf.IsBigEndian);
                r.ByteOffset = w.ByteOffset; r.WindowOffset = (int)w.ByteOffset; r.ByteSize = w.ByteSize;
                r.LeftShift = w.LeftShift; r.RightShift = w.RightShift;
                r.BitSize = (uint)size * 8;
            }
            if (tt.Kind == BtfKind.Array)
            {
                r.ArrayLength = tt.ArrayLength;
                r.IsFlexibleArray = tt.ArrayLength == 0;
                int elem = btf.Skip(tt.ArrayElementTypeId);
                r.ArrayElementSize = (uint)SafeSize(btf, tt.ArrayElementTypeId);
                for (int d = 0; d < 32 && btf[elem].Kind == BtfKind.Array; d++) elem = btf.Skip(btf[elem].ArrayElementTypeId);
                r.InnerElementTypeId = elem;
                r.InnerElementSize = (uint)SafeSize(btf, elem);
            }

            // Readability (libbpf fail_memsz_adjust: a size change is only readable for unsigned ints and pointers).
            string? problem = null;
            switch (lf.Kind)
            {
                case BtfFieldKind.Struct: case BtfFieldKind.Union:
                    break;
                case BtfFieldKind.Array: case BtfFieldKind.FlexibleArray:
                    {
                        // Arrays of structs are read element by element through nested resolutions: their size may change.
                        uint localRow = lf.ArrayLength > 0 ? lf.ByteSize / lf.ArrayLength : 0;
                        bool composite = lf.ElementKind == BtfFieldKind.Struct || lf.ElementKind == BtfFieldKind.Union;
                        if (!composite && localRow != 0 && r.ArrayElementSize != localRow)
                            problem = $"array element size changed from {localRow} to {r.ArrayElementSize} bytes";
                        break;
                    }
                case BtfFieldKind.Bytes:
                    if (size != lf.ByteSize) problem = $"size changed from {lf.ByteSize} to {size} bytes";
                    break;
                default:
                    if (lf.IsBitfield || bitfield) problem = windowProblem;
                    else if (size == lf.ByteSize) { }
                    else if (lf.Kind == BtfFieldKind.Pointer && tt.Kind == BtfKind.Ptr) { }
                    else if (lf.Kind == BtfFieldKind.Int && !lf.IsSigned && tt.Kind == BtfKind.Int && !tt.IsSigned && size <= 8 && lf.ByteSize <= 8) { }
                    else problem = $"size changed from {lf.ByteSize} to {size} bytes and the field is not an unsigned integer or pointer on both sides, so its value cannot be widened or narrowed (libbpf fail_memsz_adjust)";
                    break;
            }
            r.IsReadable = problem == null;
            r.Problem = problem;
            r.Status = problem != null ? CoreFieldStatus.Unreadable : StatusOf(lf, r);
        }

        /// <summary>One candidate's relocated values for a field or access path, as libbpf compares candidates.</summary>
        internal readonly struct RelocationValues
        {
            public readonly ulong BitOffset;
            public readonly long ByteOffset;
            public readonly ulong ByteSize;
            public readonly (uint length, uint element, uint inner, bool readable, bool bitfield) Shape;
            public readonly bool Signed;
            public readonly int LeftShift;
            public readonly int RightShift;
            public RelocationValues(ulong bitOffset, long byteOffset, ulong byteSize, (uint, uint, uint, bool, bool) shape, bool signed, int leftShift, int rightShift)
            {
                BitOffset = bitOffset; ByteOffset = byteOffset; ByteSize = byteSize; Shape = shape; Signed = signed; LeftShift = leftShift; RightShift = rightShift;
            }
        }

        /// <summary>
        /// The relocations libbpf refuses when two candidates on which a field path matches give these values
        /// (relo_core.c <c>bpf_core_calc_relo_insn</c>): every one, <c>FIELD_EXISTS</c> too, when their bit offsets differ
        /// ("field offset ambiguity"); otherwise each kind whose value differs ("relocation decision ambiguity").
        /// The one rule for views (per field) and for access paths by name.
        /// </summary>
        internal static CoreRelocationKinds Disagreement(in RelocationValues a, in RelocationValues b)
        {
            if (a.BitOffset != b.BitOffset) return CoreRelocationKinds.All;
            var k = CoreRelocationKinds.None;
            if (a.ByteOffset != b.ByteOffset) k |= CoreRelocationKinds.ByteOffset;
            if (a.ByteSize != b.ByteSize || a.Shape != b.Shape) k |= CoreRelocationKinds.ByteSize;
            if (a.Signed != b.Signed) k |= CoreRelocationKinds.Signed;
            if (a.LeftShift != b.LeftShift) k |= CoreRelocationKinds.LeftShift;
            if (a.RightShift != b.RightShift) k |= CoreRelocationKinds.RightShift;
            return k;
        }

        /// <summary>The refused relocations in words: "size, signedness".</summary>
        internal static string Spell(CoreRelocationKinds k)
        {
            var parts = new List<string>(5);
            if ((k & CoreRelocationKinds.ByteOffset) != 0) parts.Add("byte offset");
            if ((k & CoreRelocationKinds.ByteSize) != 0) parts.Add("size");
            if ((k & CoreRelocationKinds.Signed) != 0) parts.Add("signedness");
            if ((k & CoreRelocationKinds.LeftShift) != 0) parts.Add("left shift");
            if ((k & CoreRelocationKinds.RightShift) != 0) parts.Add("right shift");
            return string.Join(", ", parts);
        }

        internal static CoreFieldStatus StatusOf(BtfFieldLayout lf, CoreFieldResolution r)
        {
            bool resized = lf.IsBitfield || r.IsBitfield ? (lf.IsBitfield != r.IsBitfield || lf.BitSize != r.BitSize) : lf.ByteSize != r.ByteSize;
            if (resized) return CoreFieldStatus.Resized;
            return lf.BitOffset != r.BitOffset ? CoreFieldStatus.Moved : CoreFieldStatus.Unchanged;
        }

        private static long SafeSize(Btf btf, int id)
        {
            try { return btf.ResolveSize(id); } catch (BtfException) { return 0; }
        }

        /// <summary>
        /// Sets a target bitfield's load window and shifts (<see cref="BitfieldWindows.Bitfield"/>, libbpf's rule) from its
        /// bit offset, width and member type size, with this object starting <paramref name="rootBaseBits"/> bits into the
        /// root object (libbpf aligns windows in the root: only the base modulo 64 matters). Returns why one load cannot
        /// read it, or null.
        /// </summary>
        internal static string? ApplyWindow(CoreFieldResolution r, uint rootBaseBits, bool bigEndian)
        {
            rootBaseBits %= 64;
            var w = BitfieldWindows.Bitfield((ulong)rootBaseBits + r.BitOffset, r.BitSize, r.MemberTypeSize, bigEndian);
            r.WindowOffset = (int)((long)w.ByteOffset - rootBaseBits / 8);
            r.ByteOffset = (uint)Math.Max(0, r.WindowOffset);
            r.ByteSize = w.ByteSize;
            r.LeftShift = w.LeftShift;
            r.RightShift = w.RightShift;
            if (!w.Fits) return "the bitfield does not fit one naturally aligned load of at most 8 bytes (libbpf: can't be satisfied for bitfield)";
            if (!w.IsLoadable) return $"the bitfield's load window is {w.ByteSize} bytes (its type's size, libbpf's rule), wider than one 8-byte load";
            return null;
        }

        internal static BtfFieldKind KindOf(BtfType t) => t.Kind switch
        {
            BtfKind.Int => BtfFieldKind.Int,
            BtfKind.Enum or BtfKind.Enum64 => BtfFieldKind.Enum,
            BtfKind.Float => BtfFieldKind.Float,
            BtfKind.Ptr => BtfFieldKind.Pointer,
            BtfKind.Struct => BtfFieldKind.Struct,
            BtfKind.Union => BtfFieldKind.Union,
            BtfKind.Array => t.ArrayLength == 0 ? BtfFieldKind.FlexibleArray : BtfFieldKind.Array,
            _ => BtfFieldKind.Bytes,
        };

        /// <summary>
        /// <c>bpf_core_fields_are_compat</c> (relo_core.c) with the local side described by the generated metadata: null
        /// when compatible, else why not. Composites match composites (struct and union mixed); otherwise the kinds must
        /// be equal, ENUM and ENUM64 counting as one (<c>btf_kind_core_compat</c>): pointers match pointers, floats floats
        /// (any size), enums enums when either is anonymous or their essential (flavor-less) names are equal, ints ints
        /// (size and signedness ignored, a target INT with a bit offset rejected), arrays by element. An enum never
        /// matches an int, anonymous or not: the metadata records an anonymous enum as <see cref="BtfFieldKind.Enum"/>
        /// with no name (<see cref="Layout.FieldKinds"/>). Raw bytes (long double, odd-sized integers) carry no BTF
        /// kind in the metadata, so they match any scalar or array.
        /// </summary>
        internal static string? Incompatible(BtfFieldKind lk, string localTypeName, BtfFieldKind elementKind, Btf btf, BtfType tt)
        {
            switch (lk)
            {
                case BtfFieldKind.Struct: case BtfFieldKind.Union:
                    return tt.IsComposite ? null : $"a struct/union in the generated type, {Spell(tt)} in the target";
                case BtfFieldKind.Pointer:
                    return tt.Kind == BtfKind.Ptr ? null : $"a pointer in the generated type, {Spell(tt)} in the target";
                case BtfFieldKind.Float:
                    return tt.Kind == BtfKind.Float ? null : $"a float in the generated type, {Spell(tt)} in the target";
                case BtfFieldKind.Enum:
                    if (tt.Kind != BtfKind.Enum && tt.Kind != BtfKind.Enum64) return $"an enum in the generated type, {Spell(tt)} in the target";
                    if (localTypeName.Length == 0 || tt.IsAnonymous) return null;
                    return FlavorRules.EssentialName(localTypeName) == FlavorRules.EssentialName(tt.Name)
                        ? null : $"enum {localTypeName} in the generated type, enum {tt.Name} in the target";
                case BtfFieldKind.Int:
                    if (tt.Kind != BtfKind.Int) return $"an integer in the generated type, {Spell(tt)} in the target";
                    return tt.IntBitOffset == 0 ? null : "the target integer has a non-zero INT bit offset (a legacy bitfield encoding libbpf rejects)";
                case BtfFieldKind.Array: case BtfFieldKind.FlexibleArray:
                    {
                        if (tt.Kind != BtfKind.Array) return $"an array in the generated type, {Spell(tt)} in the target";
                        var e = tt;
                        for (int d = 0; d < 32 && e.Kind == BtfKind.Array; d++) e = btf[btf.Skip(e.ArrayElementTypeId)];
                        if (e.Kind == BtfKind.Array) return "array nesting too deep";
                        var inner = Incompatible(elementKind == BtfFieldKind.Array ? BtfFieldKind.Bytes : elementKind, localTypeName, BtfFieldKind.Bytes, btf, e);
                        return inner == null ? null : "array elements differ: " + inner;
                    }
                default: // raw bytes (long double, odd-sized integers): any scalar or array of the same size
                    return tt.IsComposite || tt.Kind == BtfKind.Ptr ? $"raw bytes in the generated type, {Spell(tt)} in the target" : null;
            }
        }

        private static string Spell(BtfType t)
        {
            string kind = BtfKinds.Name(t.Kind).ToLowerInvariant();
            return t.IsAnonymous ? "an anonymous " + kind : kind + " " + t.Name;
        }

        internal static string Describe(BtfType t) => $"[{t.Id}] {BtfKinds.Name(t.Kind)} '{(t.IsAnonymous ? "(anon)" : t.Name)}'";
    }

    // The matching rules that need the kernel (its candidates, member maps and name): candidate agreement per field, as
    // libbpf relocates each access path against the candidates on which it matches and requires those results to agree,
    // and enum matching by enumerator name.
    sealed partial class TargetKernel // accessibility: see the main part
    {
        private CoreTypeResolution ResolveCandidates(BtfTypeLayout local, IReadOnlyList<BtfType> cands, string? context)
        {
            var descriptions = new string[cands.Count];
            for (int i = 0; i < descriptions.Length; i++) descriptions[i] = Describe(cands[i]);
            string label = context ?? CoreTypeResolution.Label(local);
            if (cands.Count == 0)
            {
                var missing = new CoreFieldResolution[local.Fields.Count];
                string why = local.NamedByTypedef
                    ? $"the kernel has no typedef {FlavorRules.EssentialName(local.BtfName)} (or a ___flavor of it) naming a struct or union"
                    : $"the kernel has no {(local.Kind == BtfKind.Union ? "union" : "struct")} named {FlavorRules.EssentialName(local.BtfName)} (or a ___flavor of it)";
                for (int i = 0; i < missing.Length; i++)
                    missing[i] = new CoreFieldResolution(local.Fields[i], i) { Problem = why, Status = CoreFieldStatus.Missing };
                return new CoreTypeResolution(local, this, Name, Array.Empty<BtfType>(), descriptions, missing, 0, IsBigEndian, true, null);
            }

            var results = new CoreFieldResolution[cands.Count][];
            var found = new int[cands.Count];
            for (int c = 0; c < cands.Count; c++)
                results[c] = CoreResolver.ResolveFields(local, cands[c], MembersOf(cands[c]), out found[c]);

            // libbpf (bpf_core_calc_relo_insn) decides each access path on its own: the candidates on which that path does
            // not match are skipped, and the relocation is refused only when several candidates on which it DOES match
            // give different results. So each field is decided against the candidates that have it: one field's
            // disagreement makes that field ambiguous (used, it throws: Exists, reads, Nested), not the whole type.
            // Not modelled: within one object libbpf also narrows a root type's cached candidate list to those an
            // earlier relocation matched (cands->len = j), so there the order of the program's accesses can settle an
            // ambiguity; here every path is judged as if it were the object's only use of the type.
            int primary = 0; // most fields found; on a tie the lowest type id, whatever order a parent's members gave
            for (int c = 1; c < cands.Count; c++)
                if (found[c] > found[primary] || found[c] == found[primary] && cands[c].Id < cands[primary].Id) primary = c;

            var fields = new CoreFieldResolution[local.Fields.Count];
            var having = new List<int>(cands.Count);
            for (int i = 0; i < fields.Length; i++)
            {
                having.Clear();
                for (int c = 0; c < cands.Count; c++) if (results[c][i].Exists) having.Add(c);
                if (having.Count == 0) { fields[i] = results[primary][i]; continue; }
                var chosen = results[having[0]][i];
                var refused = CoreRelocationKinds.None;
                var values = chosen.Values;
                for (int k = 1; k < having.Count; k++) refused |= CoreResolver.Disagreement(values, results[having[k]][i].Values);
                if (refused == CoreRelocationKinds.All) { fields[i] = MarkAmbiguous(label, chosen, refused, cands, having, results); continue; }
                fields[i] = chosen;
                if (having.Count > 1)
                {
                    var agreeing = new CoreFieldResolution[having.Count];
                    for (int k = 0; k < agreeing.Length; k++) agreeing[k] = results[having[k]][i];
                    chosen.Agreeing = agreeing;
                }
                if (refused != CoreRelocationKinds.None) MarkAmbiguous(label, chosen, refused, cands, having, results);
            }
            // The type's own targets: every candidate on which some field matches (all of them when none does).
            var targets = new List<BtfType>(cands.Count) { cands[primary] };
            for (int c = 0; c < cands.Count; c++)
                if (c != primary && (found[c] > 0 || found[primary] == 0)) targets.Add(cands[c]);
            return new CoreTypeResolution(local, this, Name, targets.ToArray(), descriptions, fields, cands[primary].Size, IsBigEndian, true, null,
                SizeAmbiguity(label, cands));
        }

        /// <summary>
        /// A field the candidates that have it place differently (<paramref name="refused"/> All: libbpf's "field offset
        /// ambiguity", the field is not usable at all) or give another size, signedness or shifts at one offset (libbpf
        /// relocates its existence and offset and refuses the rest: it exists and a struct member's view still works, but
        /// its value cannot be read or written).
        /// </summary>
        private CoreFieldResolution MarkAmbiguous(string label, CoreFieldResolution chosen, CoreRelocationKinds refused, IReadOnlyList<BtfType> cands, List<int> having, CoreFieldResolution[][] results)
        {
            int index = chosen.Index;
            var types = new BtfType[having.Count];
            var bits = new ulong[having.Count];
            var details = new string[having.Count];
            for (int k = 0; k < having.Count; k++)
            {
                types[k] = cands[having[k]];
                bits[k] = results[having[k]][index].BitOffset;
                details[k] = results[having[k]][index].Describe();
            }
            var f = refused == CoreRelocationKinds.All ? new CoreFieldResolution(chosen.Local, index) { Status = CoreFieldStatus.Ambiguous } : chosen;
            f.AmbiguitySummary = AmbiguitySummary(types, f.Name, bits, refused);
            f.Problem = AmbiguityText(label + "." + f.Name, f.AmbiguitySummary, refused, types, details);
            f.AmbiguousKinds = refused;
            f.AmbiguousCandidates = types.Select(Describe).ToArray();
            f.Status = CoreFieldStatus.Ambiguous;
            var kind = f.Local.Kind;
            // A struct/union member is reached through its own resolution (its fields decided in turn); any other value is read whole.
            if (kind != BtfFieldKind.Struct && kind != BtfFieldKind.Union || (refused & CoreRelocationKinds.ByteOffset) != 0) f.IsReadable = false;
            return f;
        }

        /// <summary>"2 struct mm_slot ([29595], [30148]) put mm at byte 40 vs byte 32", or "… put v at byte 0 but differ in its size".</summary>
        internal static string AmbiguitySummary(IReadOnlyList<BtfType> types, string member, IReadOnlyList<ulong> bitOffsets, CoreRelocationKinds refused)
        {
            var t = types[0];
            string head = $"{types.Count} {(t.Kind == BtfKind.Union ? "union" : "struct")} {FlavorRules.EssentialName(t.Name)} ({string.Join(", ", types.Select(x => "[" + x.Id.ToString(CultureInfo.InvariantCulture) + "]"))}) put {member} at ";
            return refused == CoreRelocationKinds.All ? head + string.Join(" vs ", bitOffsets.Select(Bits))
                : head + Bits(bitOffsets[0]) + " but differ in its " + CoreResolver.Spell(refused);
        }

        private static string Bits(ulong bitOffset) => bitOffset % 8 == 0
            ? "byte " + (bitOffset / 8).ToString(CultureInfo.InvariantCulture) : "bit " + bitOffset.ToString(CultureInfo.InvariantCulture);

        /// <summary>The whole message: what, where, what libbpf does, each candidate's values, and the way out.</summary>
        internal string AmbiguityText(string label, string summary, CoreRelocationKinds refused, IReadOnlyList<BtfType> types, IReadOnlyList<string> details)
        {
            var parts = new string[types.Count];
            for (int k = 0; k < parts.Length; k++) parts[k] = Describe(types[k]) + ": " + details[k];
            string libbpf = refused == CoreRelocationKinds.All
                ? "so libbpf refuses every relocation of it, FIELD_EXISTS too (field offset ambiguity)"
                : $"so libbpf relocates its existence{((refused & CoreRelocationKinds.ByteOffset) == 0 ? " and offset" : "")} and refuses the rest (relocation decision ambiguity)";
            return $"{label} is ambiguous in kernel {Name}: {summary}, {libbpf} ({string.Join("; ", parts)}). Resolve against one of them with TargetKernel.ResolveAgainst";
        }

        /// <summary>
        /// libbpf's <c>bpf_core_type_size</c> matches every same-named candidate of the kind (<c>bpf_core_types_are_compat</c>
        /// looks no further for a struct or union) and refuses when their sizes differ: why, or null.
        /// </summary>
        private string? SizeAmbiguity(string label, IReadOnlyList<BtfType> cands)
        {
            for (int c = 1; c < cands.Count; c++)
                if (cands[c].Size != cands[0].Size)
                {
                    var parts = new string[cands.Count];
                    for (int k = 0; k < parts.Length; k++) parts[k] = Describe(cands[k]);
                    return $"the size of {label} is ambiguous in kernel {Name}: its candidates differ ({string.Join("; ", parts)}), so libbpf refuses bpf_core_type_size (relocation decision ambiguity)";
                }
            return null;
        }

        private CoreEnumResolution ResolveEnumUncached(BtfTypeLayout enumLayout)
        {
            IReadOnlyList<BtfType> cands = Array.Empty<BtfType>();
            if (Vmlinux != null && enumLayout.NamedByTypedef)
            {
                var list = new List<BtfType>();
                foreach (var td in FindCandidates(enumLayout.BtfName, BtfKind.Typedef))
                {
                    BtfType t;
                    try { t = td.Btf[td.Btf.Skip(td.Id)]; } catch (BtfException) { continue; }
                    if ((t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64) && !list.Contains(t)) list.Add(t);
                }
                cands = list;
            }
            else if (Vmlinux != null) cands = FindCandidates(enumLayout.BtfName, BtfKind.Enum);
            var descriptions = cands.Select(Describe).ToArray();
            var perCand = new List<(BtfType t, ulong?[] values)>();
            foreach (var t in cands)
            {
                var byName = new Dictionary<string, ulong>(StringComparer.Ordinal);
                foreach (var v in t.EnumValues) byName.TryAdd(FlavorRules.EssentialName(v.Name), v.RawValue);
                var vals = new ulong?[enumLayout.EnumValues.Count];
                bool any = false;
                for (int i = 0; i < vals.Length; i++)
                    if (byName.TryGetValue(FlavorRules.EssentialName(enumLayout.EnumValues[i].Key), out var raw)) { vals[i] = raw; any = true; }
                if (any) perCand.Add((t, vals));
            }
            for (int k = 1; k < perCand.Count; k++)
                for (int i = 0; i < enumLayout.EnumValues.Count; i++)
                    if (perCand[k].values[i] != perCand[0].values[i])
                        throw new CoreException(
                            $"enum {enumLayout.BtfName} is ambiguous in kernel {Name}: {enumLayout.EnumValues[i].Key} is {Show(perCand[0].values[i])} in {Describe(perCand[0].t)} but {Show(perCand[k].values[i])} in {Describe(perCand[k].t)}",
                            enumLayout.BtfName, Name, descriptions, enumLayout.EnumValues[i].Key);
            return new CoreEnumResolution(enumLayout, Name, perCand.Count > 0 ? perCand[0].t : (BtfType?)null, perCand.Count > 0 ? perCand[0].values : new ulong?[enumLayout.EnumValues.Count], descriptions, Vmlinux != null);
        }

        private static string Show(ulong? v) => v.HasValue ? v.Value.ToString(CultureInfo.InvariantCulture) : "missing";
    }
}
