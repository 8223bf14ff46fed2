using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Layout;

namespace BtfBindings.Cli.Layout
{
    /// <summary>One member line of a layout view: a field of the plan, or an anonymous struct/union shown inline.</summary>
    internal sealed class ViewMember
    {
        /// <summary>The C member name ("" for an anonymous struct/union member).</summary>
        public string Name = "";
        /// <summary>The C type spelling (from the plan), or "struct"/"union" for inline anonymous types.</summary>
        public string CType = "";
        /// <summary>The declaration (from the plan), e.g. <c>unsigned int flags: 3</c>.</summary>
        public string CDeclaration = "";
        /// <summary>The plan's field (null for an anonymous struct/union member).</summary>
        public PlannedField? Field;
        /// <summary>Bit offset from the start of the enclosing struct/union shown (not the top-level type).</summary>
        public uint RelBitOffset;
        /// <summary>Bit offset from the start of the top-level type.</summary>
        public uint AbsBitOffset;
        /// <summary>pahole's byte_offset, relative to the enclosing struct/union: for bitfields the start of the storage unit.</summary>
        public uint RelByteOffset;
        /// <summary>Size in bytes (for bitfields: of the storage unit, i.e. the member's type).</summary>
        public uint ByteSize;
        /// <summary>Bitfield width (0 when not a bitfield).</summary>
        public uint BitfieldSize;
        /// <summary>Bit offset inside the storage unit (bitfields).</summary>
        public uint BitfieldOffset;
        /// <summary>Bytes of hole after this member (pahole's rule).</summary>
        public int Hole;
        /// <summary>Bits of hole after this member.</summary>
        public int BitHole;
        /// <summary>An inline anonymous struct/union (or a named member of anonymous type): its members.</summary>
        public ViewStruct? Inline;
        /// <summary>For a member whose declared type is a struct: that struct's tail padding ("last struct has N bytes of padding").</summary>
        public int MemberTypePadding;
        /// <summary>pahole's inferred forced alignment (<c>__attribute__((__aligned__(N)))</c>), 0 when natural.</summary>
        public uint ForcedAlignment;
        /// <summary>BTF type id of the member (for pahole's natural-alignment heuristics).</summary>
        internal int TypeId;

        public bool IsBitfield => BitfieldSize != 0;
        /// <summary>Absolute byte offset shown for the member: the storage unit's for bitfields.</summary>
        public uint AbsByteOffset(uint groupBaseBits) => groupBaseBits / 8 + RelByteOffset;
    }

    /// <summary>A struct or union as pahole shows it: direct members (anonymous members inline), holes and padding.</summary>
    internal sealed class ViewStruct
    {
        public bool IsUnion;
        /// <summary>"struct task_struct", or "struct"/"union" for anonymous ones.</summary>
        public string CName = "";
        public uint Size;
        public int Alignment;
        public bool IsPacked;
        /// <summary>Bit offset of this struct in the top-level type.</summary>
        public uint BaseBits;
        public List<ViewMember> Members = new List<ViewMember>();
        public int PreHole, PreBitHole;
        public int Padding, BitPadding;
        public int NrHoles, NrBitHoles;
        public int SumHoles, SumBitHoles;
        /// <summary>Sums in 64 bits: a union's members may add up to more than 4 GiB.</summary>
        public ulong SumBytes, SumBits;
        public int NrPaddings, SumPaddings;
        /// <summary>pahole's inferred forced alignment of the type itself, 0 when natural.</summary>
        public uint ForcedAlignment;
        public int NrForcedAlignments, NrForcedHoles, SumForcedHoles;
        public int Cachelines(int cacheline) => (int)(((ulong)Size + (uint)cacheline - 1) / (uint)cacheline);
    }

    /// <summary>
    /// Builds pahole-style views from a <see cref="LayoutPlan"/>. Every number of a field (offset, size, bitfield
    /// width, C declaration) comes from the plan; the BTF is only walked, in the planner's own order, to recover
    /// where anonymous struct/union members begin and end (the plan flattens them), so they can be shown inline
    /// and holes computed per struct as pahole does (dwarves.c class__find_holes).
    /// </summary>
    internal sealed class LayoutViewBuilder
    {
        private readonly Btf _btf;
        private readonly LayoutPlan _plan;
        private readonly Dictionary<string, PlannedType> _byName;
        private readonly Dictionary<string, int> _paddingMemo = new Dictionary<string, int>(StringComparer.Ordinal);

        public LayoutViewBuilder(Btf btf, LayoutPlan plan)
        {
            _btf = btf;
            _plan = plan;
            _byName = new Dictionary<string, PlannedType>(StringComparer.Ordinal);
            foreach (var t in plan.Types) _byName[t.Name] = t;
        }

        /// <summary>The view of a top-level planned struct or union.</summary>
        public ViewStruct Build(PlannedType t)
        {
            if (t.Kind == PlannedKind.Opaque && t.OpaqueReason != null)
                throw new BtfException($"{t.CName} has no layout to show: {t.OpaqueReason}", _btf.SourceName, typeId: t.BtfId);
            if (t.Kind != PlannedKind.Struct && t.Kind != PlannedKind.Union) throw new ArgumentException("not a struct or union: " + t.Name);
            int next = 0;
            var v = BuildComposite(t, _btf[t.BtfId], 0, 0, 0, ref next, t.CName, 0);
            if (next != t.Fields.Count) throw new InvalidOperationException($"{t.CName}: the plan has {t.Fields.Count} fields, the BTF walk found {next}");
            return v;
        }

        /// <summary>
        /// Walks composite <paramref name="bt"/> (at <paramref name="relBase"/> bits inside <paramref name="owner"/>'s
        /// field coordinates) consuming <paramref name="owner"/>'s flattened fields in order.
        /// </summary>
        private ViewStruct BuildComposite(PlannedType owner, BtfType bt, uint ownerBaseBits, uint relBase, uint absBase, ref int next, string cname, int depth)
        {
            // The plan bounds nesting (LayoutPlanner.MaxNesting) and rejects by-value cycles; this only keeps the walk bounded
            // should a plan and its BTF ever disagree.
            if (depth > LayoutPlanner.MaxNesting)
                throw new BtfException($"{owner.CName}: anonymous members nested deeper than {LayoutPlanner.MaxNesting} levels", _btf.SourceName, typeId: bt.Id);
            var v = new ViewStruct
            {
                IsUnion = bt.Kind == BtfKind.Union, CName = cname, Size = bt.Size, BaseBits = absBase,
            };
            try { v.Alignment = _btf.AlignOf(bt.Id); } catch (BtfException) { v.Alignment = 1; }
            for (int i = 0; i < bt.Vlen; i++)
            {
                var m = bt.GetMember(i);
                if (m.IsAnonymous)
                {
                    int inner = _btf.Skip(m.TypeId);
                    var it = _btf[inner];
                    if (!(it.IsComposite && m.BitfieldSize == 0)) continue; // unnamed bitfield padding: the planner skips it too
                    var g = new ViewMember
                    {
                        Name = "", CType = it.Kind == BtfKind.Union ? "union" : "struct", RelBitOffset = m.BitOffset, TypeId = m.TypeId,
                        AbsBitOffset = absBase + m.BitOffset, RelByteOffset = m.BitOffset / 8, ByteSize = it.Size,
                    };
                    g.CDeclaration = g.CType;
                    g.Inline = BuildComposite(owner, it, ownerBaseBits, relBase + m.BitOffset, absBase + m.BitOffset, ref next, g.CType, depth + 1);
                    if (!g.Inline.IsUnion) g.MemberTypePadding = g.Inline.Padding;
                    v.Members.Add(g);
                    continue;
                }
                if (next >= owner.Fields.Count || owner.Fields[next].Name != m.Name)
                    throw new InvalidOperationException($"{owner.CName}: field order differs from the plan at '{m.Name}'");
                var f = owner.Fields[next++];
                uint rel = f.BitOffset - relBase; // the plan's offset, made relative to this struct
                var vm = new ViewMember
                {
                    Name = f.Name, CType = f.CType, CDeclaration = f.CDeclaration, Field = f, RelBitOffset = rel, TypeId = m.TypeId,
                    AbsBitOffset = ownerBaseBits + f.BitOffset, ByteSize = f.Type.ByteSize,
                };
                if (f.IsBitfield)
                {
                    vm.BitfieldSize = f.BitSize;
                    uint unit = Math.Max(1u, f.Type.ByteSize);
                    vm.RelByteOffset = rel / (unit * 8) * unit;
                    vm.BitfieldOffset = rel - vm.RelByteOffset * 8;
                }
                else vm.RelByteOffset = rel / 8;

                if (f.Type.Kind == TypeShapeKind.Composite && f.Type.IsNested)
                {
                    // A named member of an anonymous type: shown inline like pahole; its fields are the nested plan's.
                    var nested = owner.Nested.FirstOrDefault(n => n.Name == f.Type.TypeName);
                    if (nested != null)
                    {
                        int n2 = 0;
                        vm.Inline = BuildComposite(nested, _btf[nested.BtfId], ownerBaseBits + f.BitOffset, 0, ownerBaseBits + f.BitOffset, ref n2, nested.Kind == PlannedKind.Union ? "union" : "struct", depth + 1);
                        vm.CType = nested.Kind == PlannedKind.Union ? "union" : "struct";
                        if (!vm.Inline.IsUnion) vm.MemberTypePadding = vm.Inline.Padding;
                    }
                }
                else if (f.Type.Kind == TypeShapeKind.Composite && f.CType == "struct " + (_byName.TryGetValue(f.Type.TypeName ?? "", out var mt) ? mt.BtfName : "\0"))
                {
                    // pahole reports the tail padding of members declared directly as a struct (not via a typedef).
                    vm.MemberTypePadding = PaddingOf(mt!);
                }
                v.Members.Add(vm);
            }
            if (!v.IsUnion) FindHoles(v);
            InferAlignments(v, bt);
            ViewMember? prev = null;
            foreach (var mm in v.Members)
            {
                if (mm.IsBitfield) v.SumBits += mm.BitfieldSize; else v.SumBytes += mm.ByteSize;
                if (v.IsUnion) mm.MemberTypePadding = 0; // pahole prints no hole or padding notes inside unions
                if (mm.MemberTypePadding > 0) { v.NrPaddings++; v.SumPaddings += mm.MemberTypePadding; }
                if (mm.ForcedAlignment != 0)
                {
                    v.NrForcedAlignments++;
                    int hole = prev != null ? prev.Hole : v.PreHole;
                    if (hole != 0) { v.NrForcedHoles++; v.SumForcedHoles += hole; }
                }
                prev = mm;
            }
            v.IsPacked = v.Alignment == 1 && v.Members.Any(x => x.ByteSize > 1);
            return v;
        }

        private int PaddingOf(PlannedType t)
        {
            if (t.Kind != PlannedKind.Struct) return 0;
            if (_paddingMemo.TryGetValue(t.Name, out var p)) return p;
            _paddingMemo[t.Name] = 0; // cycles cannot happen by value, but be safe
            try { p = Build(t).Padding; }
            catch (InvalidOperationException) { p = 0; }
            _paddingMemo[t.Name] = p;
            return p;
        }

        /// <summary>pahole's class__infer_alignment (btf_loader.c, dwarves 1.24): members placed beyond their natural alignment.</summary>
        private void InferAlignments(ViewStruct v, BtfType bt)
        {
            uint smallest = 0;
            foreach (var m in v.Members)
            {
                if (m.ByteSize == 0) continue;
                m.ForcedAlignment = InferAlignment(m.RelByteOffset, NaturalAlignment(StripTypedefs(m.TypeId), 0), smallest);
                smallest = m.RelByteOffset + m.ByteSize;
            }
            v.ForcedAlignment = InferAlignment(v.Size, NaturalAlignment(bt.Id, 0), smallest);
        }

        private const uint PaholeCacheline = 64;

        private static uint InferAlignment(uint byteOffset, uint natural, uint smallestOffset)
        {
            uint alignment = 0;
            uint delta = unchecked(byteOffset - smallestOffset);
            if (delta != 0 && byteOffset % 2 == 0)
            {
                int shift = 32 - LeadingZeros(delta);
                alignment = 1u << (shift & 31); // pahole's 1 << 32 is 1 on x86 (the shift count is masked)
            }
            if (alignment <= natural || alignment == 1) alignment = 0;
            else if (alignment < PaholeCacheline && PaholeCacheline % alignment == 0 && byteOffset % PaholeCacheline == 0) alignment = PaholeCacheline;
            return alignment;
        }

        private static int LeadingZeros(uint x)
        {
            int n = 0;
            if (x == 0) return 32;
            while ((x & 0x80000000u) == 0) { n++; x <<= 1; }
            return n;
        }

        private int StripTypedefs(int id)
        {
            try { return _btf.Skip(id); } catch (BtfException) { return 0; }
        }

        private readonly Dictionary<int, uint> _naturalMemo = new Dictionary<int, uint>();

        /// <summary>pahole's tag__natural_alignment on BTF.</summary>
        private uint NaturalAlignment(int id, int depth)
        {
            if (depth > 32 || id == 0) return 1;
            if (_naturalMemo.TryGetValue(id, out var memo)) return memo;
            _naturalMemo[id] = 1; // in progress: a by-value cycle (which a plan rejects) would read 1, not recurse for ever
            var t = _btf[id];
            uint a;
            switch (t.Kind)
            {
                case BtfKind.Ptr: a = (uint)_btf.PointerSize; break;
                case BtfKind.Int: case BtfKind.Float: case BtfKind.Enum: case BtfKind.Enum64: a = t.Size; break;
                case BtfKind.Struct: case BtfKind.Union:
                    a = 0;
                    foreach (var m in t.Members) a = Math.Max(a, NaturalAlignment(StripTypedefs(m.TypeId), depth + 1));
                    break;
                case BtfKind.Array: a = NaturalAlignment(StripTypedefs(t.ArrayElementTypeId), depth + 1); break;
                default: a = 1; break;
            }
            a = a == 0 ? 1 : a;
            _naturalMemo[id] = a;
            return a;
        }

        /// <summary>pahole's class__find_holes (dwarves 1.24), over the direct members of one struct.</summary>
        private static void FindHoles(ViewStruct c)
        {
            uint curBitfieldEnd = c.Size * 8, curBitfieldSize = 0;
            uint lastSeenBit = 0;
            bool inBitfield = false;
            ViewMember? last = null;
            foreach (var pos in c.Members)
            {
                pos.Hole = 0; pos.BitHole = 0;
                uint bitStart = pos.RelBitOffset;
                uint bitEnd = pos.IsBitfield ? bitStart + pos.BitfieldSize : bitStart + pos.ByteSize * 8;
                int bitHoles = 0, byteHoles = 0;
                if (inBitfield)
                {
                    uint bitfieldEnd = Math.Min(bitStart, curBitfieldEnd);
                    bitHoles = (int)bitfieldEnd - (int)lastSeenBit;
                    lastSeenBit = bitfieldEnd;
                }
                if (pos.IsBitfield)
                {
                    uint alignedStart = pos.RelByteOffset * 8;
                    if (lastSeenBit < alignedStart && alignedStart <= bitStart)
                    {
                        byteHoles = (int)pos.RelByteOffset - (int)(lastSeenBit / 8);
                        lastSeenBit = alignedStart;
                    }
                    bitHoles += (int)bitStart - (int)lastSeenBit;
                }
                else byteHoles = (int)(bitStart / 8) - (int)(lastSeenBit / 8);
                lastSeenBit = bitEnd;

                if (pos.IsBitfield)
                {
                    inBitfield = true;
                    uint bitSize = pos.ByteSize * 8;
                    if (bitEnd > curBitfieldEnd || bitSize > curBitfieldSize)
                    {
                        curBitfieldSize = bitSize;
                        curBitfieldEnd = pos.RelByteOffset * 8 + curBitfieldSize;
                        if (bitEnd > curBitfieldEnd) curBitfieldEnd += curBitfieldSize;
                    }
                }
                else
                {
                    inBitfield = false;
                    curBitfieldSize = 0;
                    curBitfieldEnd = bitEnd;
                }

                if (last != null) { last.Hole = byteHoles; last.BitHole = bitHoles; }
                else { c.PreHole = byteHoles; c.PreBitHole = bitHoles; }
                if (bitHoles != 0) c.NrBitHoles++;
                if (byteHoles != 0) c.NrHoles++;
                last = pos;
            }
            if (inBitfield)
            {
                uint bitfieldEnd = Math.Min(c.Size * 8, curBitfieldEnd);
                c.BitPadding = (int)bitfieldEnd - (int)lastSeenBit;
                lastSeenBit = bitfieldEnd;
            }
            else c.BitPadding = 0;
            c.Padding = (int)c.Size - (int)(lastSeenBit / 8);

            c.SumHoles = Math.Max(0, c.PreHole) + c.Members.Where(m => m.Hole > 0).Sum(m => m.Hole);
            c.SumBitHoles = Math.Max(0, c.PreBitHole) + c.Members.Where(m => m.BitHole != 0).Sum(m => m.BitHole);
        }
    }
}
