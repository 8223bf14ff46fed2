using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace BtfBindings.CHeader
{
    /// <summary>
    /// The C header of a BTF (what <c>bpftool btf dump file X format c</c> writes, the <c>vmlinux.h</c> BPF programs include):
    /// every named struct, union, enum and typedef, ordered so that it compiles (a type used by value is defined before its
    /// user; one used only through a pointer is forward-declared), under <c>preserve_access_index</c> like bpftool's.
    /// The one place the project writes C. Layout rules: members are placed where BTF says, by simulating the compiler's
    /// placement (natural alignment, bitfields never straddling their type's unit) and adding unnamed bitfields for every
    /// gap; a struct the compiler cannot place naturally is <c>packed</c>; a union whose BTF size exceeds its members' is
    /// <c>aligned</c>; enums whose BTF size is not the C default carry <c>mode</c>. Duplicate names get <c>___N</c> in type
    /// id order (struct/union/enum tags in one namespace; typedefs and enumerators, C's ordinary identifiers, in another).
    /// </summary>
    internal sealed class CHeaderWriter
    {
        private readonly Btf _btf;
        private readonly StringBuilder _out = new StringBuilder();
        private readonly Dictionary<int, string> _names = new Dictionary<int, string>();
        private readonly Dictionary<int, string[]> _enumeratorNames = new Dictionary<int, string[]>();
        private readonly Dictionary<int, Layout> _layouts = new Dictionary<int, Layout>();
        private readonly Dictionary<int, State> _state = new Dictionary<int, State>();
        private readonly HashSet<string> _declaredTags = new HashSet<string>(StringComparer.Ordinal);
        private readonly HashSet<int> _inlinedEnums = new HashSet<int>();
        private readonly HashSet<int> _referencedEnums = new HashSet<int>();
        private int _depth;

        private enum State { Visiting, Done }

        /// <summary>Types the header could not lay out exactly (said what and where); the header still compiles.</summary>
        public List<string> Warnings { get; } = new List<string>();

        private CHeaderWriter(Btf btf)
        {
            _btf = btf;
            AssignNames();
            for (int id = 1; id < btf.TypeCount; id++)
            {
                var t = btf[id];
                if (t.IsComposite) foreach (var m in t.Members) MarkEnum(m.TypeId);
                else if (t.Kind == BtfKind.Typedef || t.Kind == BtfKind.Ptr || Btf.IsModifier(t.Kind)) MarkEnum(t.TypeId);
                else if (t.Kind == BtfKind.Array) MarkEnum(t.ArrayElementTypeId);
                else if (t.Kind == BtfKind.FuncProto) { MarkEnum(t.TypeId); foreach (var p in t.Params) MarkEnum(p.TypeId); }
            }
        }

        /// <summary>The whole header of <paramref name="btf"/>, or only <paramref name="roots"/> and what they need (null: everything).</summary>
        /// <exception cref="BtfException">A requested name names no struct, union, enum or typedef; or the BTF holds a cycle by value.</exception>
        public static string Write(Btf btf, IReadOnlyCollection<string>? roots, out List<string> warnings)
        {
            var w = new CHeaderWriter(btf);
            var ids = new List<int>();
            if (roots == null || roots.Count == 0)
            {
                for (int id = 1; id < btf.TypeCount; id++)
                {
                    var t = btf[id];
                    switch (t.Kind)
                    {
                        case BtfKind.Struct: case BtfKind.Union: case BtfKind.Typedef:
                            if (!t.IsAnonymous) ids.Add(id);
                            break;
                        case BtfKind.Enum: case BtfKind.Enum64: case BtfKind.Fwd:
                            // An anonymous enum nothing refers to is a top-level list of constants; a referenced one is written where used.
                            if (!t.IsAnonymous || !w._referencedEnums.Contains(id)) ids.Add(id);
                            break;
                    }
                }
            }
            else
            {
                foreach (var name in roots) ids.Add(w.FindRoot(name));
            }
            w.Prologue();
            foreach (var id in ids)
            {
                var k = btf[id].Kind;
                if (k == BtfKind.Fwd) w.Declare(id);
                else w.Need(id, strong: true);
            }
            w.Epilogue();
            warnings = w.Warnings;
            return w._out.ToString();
        }

        private void MarkEnum(int id)
        {
            if (id > 0 && id < _btf.TypeCount) { var k = _btf[id].Kind; if (k == BtfKind.Enum || k == BtfKind.Enum64) _referencedEnums.Add(id); }
        }

        private int FindRoot(string name)
        {
            foreach (var kv in _names)
            {
                var k = _btf[kv.Key].Kind;
                if (kv.Value == name && k != BtfKind.Fwd) return kv.Key;
            }
            throw new BtfException($"'{name}' is not a struct, union, enum or typedef", _btf.SourceName);
        }

        // ---- names ----

        private void AssignNames()
        {
            var tags = new Dictionary<string, int>(StringComparer.Ordinal);
            var idents = new Dictionary<string, int>(StringComparer.Ordinal);
            string Unique(Dictionary<string, int> space, string name)
            {
                space.TryGetValue(name, out int n);
                space[name] = ++n;
                return n == 1 ? name : name + "___" + n.ToString(CultureInfo.InvariantCulture);
            }
            for (int id = 1; id < _btf.TypeCount; id++)
            {
                var t = _btf[id];
                switch (t.Kind)
                {
                    case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64:
                        if (!t.IsAnonymous) _names[id] = Unique(tags, t.Name);
                        if (t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64)
                        {
                            var values = new string[t.Vlen];
                            for (int i = 0; i < values.Length; i++) values[i] = Unique(idents, t.GetEnumValue(i).Name);
                            _enumeratorNames[id] = values;
                        }
                        break;
                    case BtfKind.Typedef:
                        _names[id] = Unique(idents, t.Name);
                        break;
                }
            }
            // A forward declaration names the definition's tag when there is one (libbpf resolves FWD to it too).
            for (int id = 1; id < _btf.TypeCount; id++)
            {
                var t = _btf[id];
                if (t.Kind == BtfKind.Fwd && !t.IsAnonymous) _names[id] = tags.ContainsKey(t.Name) ? t.Name : Unique(tags, t.Name);
            }
        }

        private static string Tag(BtfType t) => t.Kind switch
        {
            BtfKind.Struct => "struct",
            BtfKind.Union => "union",
            BtfKind.Fwd => t.IsUnionForward ? "union" : "struct",
            _ => "enum",
        };

        // ---- ordering ----

        /// <summary>
        /// Makes <paramref name="id"/> usable: <paramref name="strong"/> when used by value (so a struct must be complete),
        /// weak through a pointer or in a prototype (a declared tag is enough).
        /// </summary>
        private void Need(int id, bool strong)
        {
            if (++_depth > 1000) throw new BtfException("type graph nested deeper than 1000 while ordering the header", _btf.SourceName, typeId: id);
            try { NeedCore(id, strong); }
            finally { _depth--; }
        }

        private void NeedCore(int id, bool strong)
        {
            var t = _btf[id];
            switch (t.Kind)
            {
                case BtfKind.Ptr:
                    Need(t.TypeId, strong: false);
                    return;
                case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag:
                    Need(t.TypeId, strong);
                    return;
                case BtfKind.Array:
                    Need(t.ArrayElementTypeId, strong: true); // an array's element type must be complete, even behind a pointer
                    return;
                case BtfKind.FuncProto:
                    Need(t.TypeId, strong: false);
                    foreach (var p in t.Params) if (p.TypeId != 0) Need(p.TypeId, strong: false);
                    return;
                case BtfKind.Fwd:
                    Declare(id);
                    return;
                case BtfKind.Struct: case BtfKind.Union:
                    if (t.IsAnonymous) { NeedMembers(t); return; } // written inline where used
                    if (!strong) { Declare(id); return; }
                    if (_state.TryGetValue(id, out var s))
                    {
                        if (s == State.Visiting) _btf.CheckNoValueCycle(id); // throws naming the cycle
                        return;
                    }
                    _state[id] = State.Visiting;
                    NeedMembers(t);
                    _state[id] = State.Done;
                    _declaredTags.Add(Tag(t) + " " + _names[id]);
                    WriteDefinition(id);
                    return;
                case BtfKind.Enum: case BtfKind.Enum64:
                    if (_state.ContainsKey(id) || (t.IsAnonymous && _referencedEnums.Contains(id))) return; // referenced anonymous: written where used
                    _state[id] = State.Done;
                    WriteDefinition(id);
                    return;
                case BtfKind.Typedef:
                    if (!_state.TryGetValue(id, out var ts))
                    {
                        if (NamesComposite(t.TypeId))
                        {
                            // 'typedef struct foo foo_t;' needs only the tag: written now, so 'struct foo' itself may use foo_t *.
                            Need(t.TypeId, strong: false);
                            _state[id] = State.Done;
                            if (!IsBuiltinTypedef(t)) WriteTypedef(id);
                        }
                        else
                        {
                            _state[id] = State.Visiting;
                            Need(t.TypeId, strong || IsAnonymousComposite(t.TypeId));
                            _state[id] = State.Done;
                            if (!IsBuiltinTypedef(t)) WriteTypedef(id);
                            return;
                        }
                    }
                    if (strong && _state[id] == State.Done) Need(t.TypeId, strong: true);
                    return;
                default:
                    return; // int, float, void: nothing to write
            }
        }

        private void NeedMembers(BtfType t)
        {
            foreach (var m in t.Members) Need(m.TypeId, strong: true);
        }

        /// <summary>A named struct, union or forward declaration, through qualifiers.</summary>
        private bool NamesComposite(int id)
        {
            var t = _btf[_btf.Skip(id, typedefs: false)];
            return (t.IsComposite || t.Kind == BtfKind.Fwd) && !t.IsAnonymous;
        }

        private bool IsAnonymousComposite(int id)
        {
            var t = _btf[id];
            return (t.Kind == BtfKind.Struct || t.Kind == BtfKind.Union) && t.IsAnonymous;
        }

        // clang and gcc define these themselves.
        private static bool IsBuiltinTypedef(BtfType t) => t.Name == "__builtin_va_list";

        private void Declare(int id)
        {
            var t = _btf[id];
            if (t.IsAnonymous) return;
            string tag = Tag(t) + " " + _names[id];
            if (_declaredTags.Add(tag)) _out.Append(tag).Append(";\n\n");
        }

        // ---- definitions ----

        private void WriteDefinition(int id)
        {
            var t = _btf[id];
            if ((t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64) && t.Vlen == 0 && !t.IsAnonymous)
            {
                _out.Append("enum ").Append(_names[id]).Append(";\n\n"); // an enum BTF knows only by name, as bpftool writes it
                return;
            }
            var sb = new StringBuilder();
            WriteBody(sb, t, 0);
            _out.Append(sb).Append(";\n\n");
        }

        private void WriteTypedef(int id)
        {
            var t = _btf[id];
            _out.Append("typedef ").Append(Declaration(t.TypeId, _names[id], 0)).Append(";\n\n");
        }

        /// <summary>A struct/union/enum's definition: <c>struct name { … } attributes</c> (anonymous: no name).</summary>
        private void WriteBody(StringBuilder sb, BtfType t, int indent)
        {
            string name = t.IsAnonymous ? "" : " " + _names[t.Id];
            if (t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64) { WriteEnum(sb, t, name, indent); return; }
            var layout = LayoutOf(t.Id);
            sb.Append(Tag(t)).Append(name).Append(" {\n");
            foreach (var item in layout.Items)
            {
                Indent(sb, indent + 1);
                if (item.PadType != null) sb.Append(item.PadType).Append(": ").Append(item.PadBits.ToString(CultureInfo.InvariantCulture)).Append(";\n");
                else
                {
                    var m = t.GetMember(item.Member);
                    sb.Append(Declaration(m.TypeId, m.IsAnonymous ? "" : m.Name, indent + 1));
                    if (m.BitfieldSize != 0) sb.Append(": ").Append(m.BitfieldSize.ToString(CultureInfo.InvariantCulture));
                    sb.Append(";\n");
                }
            }
            Indent(sb, indent);
            sb.Append('}');
            if (layout.Packed) sb.Append(" __attribute__((packed))");
            if (layout.Aligned > 0) sb.Append(" __attribute__((aligned(").Append(layout.Aligned.ToString(CultureInfo.InvariantCulture)).Append(")))");
        }

        private void WriteEnum(StringBuilder sb, BtfType t, string name, int indent)
        {
            sb.Append("enum").Append(name).Append(" {\n");
            var names = _enumeratorNames[t.Id];
            bool signed = t.IsSigned;
            decimal min = 0, max = 0;
            for (int i = 0; i < t.Vlen; i++)
            {
                var v = t.GetEnumValue(i);
                Indent(sb, indent + 1);
                sb.Append(names[i]).Append(" = ");
                decimal value;
                if (t.Kind == BtfKind.Enum) value = signed ? (int)(uint)v.RawValue : (decimal)(uint)v.RawValue; // 32-bit values, signed as BTF says
                else value = signed ? (long)v.RawValue : (decimal)v.RawValue;
                sb.Append(value.ToString(CultureInfo.InvariantCulture));
                if (value > long.MaxValue) sb.Append("ULL");
                else if (value > uint.MaxValue || value < int.MinValue) sb.Append("LL");
                else if (value > int.MaxValue) sb.Append('U');
                if (i == 0 || value < min) min = value;
                if (i == 0 || value > max) max = value;
                sb.Append(",\n");
            }
            Indent(sb, indent);
            sb.Append('}');
            // C gives an enum int or unsigned int when its values fit, else 8 bytes.
            bool fitsInt = (min >= int.MinValue && max <= int.MaxValue) || (min >= 0 && max <= uint.MaxValue);
            // C sizes an enum 4 bytes unless its values need 8: other BTF sizes (packed enums, enum64 of small values) need a mode.
            uint natural = fitsInt ? 4u : 8u;
            if (t.Size != natural)
            {
                string? mode = t.Size switch { 1 => "byte", 2 => "HI", 4 => "SI", 8 => "DI", _ => null };
                if (mode != null) sb.Append(" __attribute__((mode(").Append(mode).Append(")))");
                else Warnings.Add($"type id {t.Id}: enum of size {t.Size} cannot be written in C; left at {natural} bytes");
            }
        }

        private static void Indent(StringBuilder sb, int n) => sb.Append('\t', n);

        // ---- declarators ----

        /// <summary>The declaration of <paramref name="name"/> (may be empty) with type <paramref name="id"/>: <c>int (*name)[4]</c>.</summary>
        private string Declaration(int id, string name, int indent)
        {
            string declarator = name;
            string quals = "", baseQuals = "";
            for (int guard = 0; guard < 4096; guard++)
            {
                var t = _btf[id];
                switch (t.Kind)
                {
                    case BtfKind.Ptr:
                        declarator = "*" + quals + declarator;
                        quals = "";
                        id = t.TypeId;
                        continue;
                    case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict:
                        {
                            string q = t.Kind == BtfKind.Const ? "const" : t.Kind == BtfKind.Volatile ? "volatile" : "restrict";
                            // Qualifying a pointer: after its '*'; qualifying anything else: before the base type.
                            if (_btf[_btf.Skip(t.TypeId, typedefs: false)].Kind == BtfKind.Ptr) quals = q + " " + quals;
                            else if (baseQuals.IndexOf(q, StringComparison.Ordinal) < 0) baseQuals += q + " ";
                            id = t.TypeId;
                            continue;
                        }
                    case BtfKind.TypeTag:
                        id = t.TypeId;
                        continue;
                    case BtfKind.Array:
                        declarator = Wrap(declarator) + "[" + t.ArrayLength.ToString(CultureInfo.InvariantCulture) + "]";
                        id = t.ArrayElementTypeId;
                        continue;
                    case BtfKind.FuncProto:
                        {
                            var ps = new List<string>();
                            int n = t.Vlen;
                            for (int i = 0; i < n; i++)
                            {
                                var p = t.GetParam(i);
                                ps.Add(p.TypeId == 0 && i == n - 1 ? "..." : Declaration(p.TypeId, "", indent));
                            }
                            declarator = Wrap(declarator) + "(" + (ps.Count == 0 ? "void" : string.Join(", ", ps)) + ")";
                            id = t.TypeId;
                            continue;
                        }
                    default:
                        return baseQuals + BaseType(t, indent) + (declarator.Length == 0 ? "" : " " + declarator);
                }
            }
            throw new BtfException("declarator chain too long (cycle?)", _btf.SourceName, typeId: id);
        }

        private static string Wrap(string declarator) => declarator.Length > 0 && declarator[0] == '*' ? "(" + declarator + ")" : declarator;

        private string BaseType(BtfType t, int indent)
        {
            switch (t.Kind)
            {
                case BtfKind.Void: return "void";
                case BtfKind.Int: case BtfKind.Float: return t.Name;
                case BtfKind.Typedef: return _names[t.Id];
                case BtfKind.Fwd: return Tag(t) + " " + _names[t.Id];
                case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64:
                    if (!t.IsAnonymous) return Tag(t) + " " + _names[t.Id];
                    // An anonymous enum used in several places: its enumerators may be defined once, so later uses are its integer type.
                    if ((t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64) && !_inlinedEnums.Add(t.Id)) return EnumAsInteger(t);
                    var sb = new StringBuilder();
                    WriteBody(sb, t, indent);
                    return sb.ToString();
                default:
                    throw new BtfException($"type [{t.Id}] of kind {BtfKinds.Name(t.Kind)} cannot be a C type", _btf.SourceName, typeId: t.Id);
            }
        }

        private static string EnumAsInteger(BtfType t)
        {
            bool s = t.IsSigned;
            return t.Size switch
            {
                1 => s ? "signed char" : "unsigned char",
                2 => s ? "short" : "unsigned short",
                8 => s ? "long long" : "unsigned long long",
                _ => s ? "int" : "unsigned int",
            };
        }

        // ---- layout ----

        /// <summary>How one struct/union is written: its members with unnamed-bitfield padding between them, and its attributes.</summary>
        private sealed class Layout
        {
            public bool Packed;
            public int Aligned;
            public int Align;    // alignment of the type as written (1 when packed), the largest an ABI may give (see AlignOf)
            public int AlignMin; // the smallest an ABI may give
            public readonly List<Item> Items = new List<Item>();
        }

        private struct Item
        {
            public int Member;
            public string? PadType;
            public int PadBits;
        }

        /// <summary>
        /// The alignment C gives the type as this header writes it: the largest (<paramref name="min"/> false) or smallest a
        /// target may give. They differ on 32-bit targets, where 8-byte scalars are 4-aligned on i386 but 8-aligned on arm;
        /// a layout is written unpacked only when it holds under the largest, and padded explicitly wherever the smallest
        /// would place a member earlier, so it comes out the same on both.
        /// </summary>
        private int AlignOf(int id, bool min = false)
        {
            for (int guard = 0; guard < 4096; guard++)
            {
                var t = _btf[id];
                switch (t.Kind)
                {
                    case BtfKind.Int: case BtfKind.Float: case BtfKind.Enum: case BtfKind.Enum64:
                        // libbpf's min(size, pointer size), except 16-byte scalars on 64-bit targets (__int128: 16).
                        if (t.Size == 16 && _btf.PointerSize == 8) return 16;
                        return (int)Math.Max(1, Math.Min(_btf.PointerSize == 4 && !min ? 8u : (uint)_btf.PointerSize, t.Size));
                    case BtfKind.Ptr: return _btf.PointerSize;
                    case BtfKind.Array: id = t.ArrayElementTypeId; continue;
                    case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag: id = t.TypeId; continue;
                    case BtfKind.Struct: case BtfKind.Union: return min ? LayoutOf(id).AlignMin : LayoutOf(id).Align;
                    default: return 1;
                }
            }
            return 1;
        }

        private Layout LayoutOf(int id)
        {
            if (_layouts.TryGetValue(id, out var known)) return known;
            var t = _btf[id];
            var natural = Plan(t, packed: false);
            var layout = natural ?? Plan(t, packed: true)!;
            if (natural == null && layout.Items.Count == 0) Warnings.Add($"type id {id}: no layout");
            _layouts[id] = layout;
            return layout;
        }

        /// <summary>
        /// Places the members as the compiler would (natural or packed), padding with unnamed bitfields to the BTF offsets.
        /// Null when a natural placement cannot reach them (a member would land past its BTF offset, a bitfield would
        /// straddle its unit, or the size cannot come out right): the caller then packs.
        /// </summary>
        private Layout? Plan(BtfType t, bool packed)
        {
            var layout = new Layout { Packed = packed };
            int maxAlign = 1, minAlign = 1;
            long pos = 0; // bits
            bool union = t.Kind == BtfKind.Union;
            long maxEnd = 0;
            int n = t.Vlen;
            for (int i = 0; i < n; i++)
            {
                var m = t.GetMember(i);
                int a = AlignOf(m.TypeId), aMin = AlignOf(m.TypeId, min: true);
                if (!packed) { maxAlign = Math.Max(maxAlign, a); minAlign = Math.Max(minAlign, aMin); }
                long target = m.BitOffset;
                if (union) pos = 0;
                if (m.BitfieldSize != 0)
                {
                    long bits = m.BitfieldSize;
                    if (!union) Pad(layout, ref pos, target, packed);
                    if (pos != target) return null;
                    if (!packed)
                    {
                        long unit = 8L * a, unitMin = 8L * aMin;
                        if (target / unit != (target + bits - 1) / unit || target / unitMin != (target + bits - 1) / unitMin) return null;
                    }
                    pos = target + bits;
                }
                else
                {
                    long size = 8L * SizeOf(m.TypeId);
                    if (!union)
                    {
                        if (!packed && (AlignUp(AlignUp(pos, 8), 8L * a) > target || target % (8L * a) != 0)) return null;
                        // Explicit padding wherever the smallest alignment would place the member earlier.
                        if (AlignUp(AlignUp(pos, 8), packed ? 1 : 8L * aMin) < target) Pad(layout, ref pos, target, packed);
                        else pos = target;
                    }
                    else if (target != 0) return null;
                    pos = target + size;
                }
                layout.Items.Add(new Item { Member = i });
                maxEnd = Math.Max(maxEnd, pos);
            }
            long sizeBits = 8L * t.Size;
            int align = packed ? 1 : maxAlign, alignMin = packed ? 1 : minAlign;
            if (!union)
            {
                if (AlignUp(AlignUp(pos, 8), 8L * align) > sizeBits || sizeBits % (8L * align) != 0) return null;
                if (AlignUp(AlignUp(pos, 8), 8L * alignMin) < sizeBits) Pad(layout, ref pos, sizeBits, packed);
            }
            else
            {
                long natural = AlignUp(AlignUp(maxEnd, 8), 8L * align);
                if (natural > sizeBits || AlignUp(AlignUp(maxEnd, 8), 8L * alignMin) != natural) return null;
                if (natural < sizeBits)
                {
                    // A union larger than its members: an alignment that rounds the size up to BTF's.
                    int p = 1;
                    while (p <= 4096 && AlignUp(AlignUp(maxEnd, 8), 8L * Math.Max(p, align)) != sizeBits) p <<= 1;
                    if (p > 4096) { if (t.Vlen > 0) Warnings.Add($"type id {t.Id}: union '{t.Name}' of {t.Size} bytes is larger than its members and no alignment gives that size"); }
                    else { layout.Aligned = Math.Max(p, align); align = layout.Aligned; alignMin = Math.Max(alignMin, layout.Aligned); }
                }
            }
            layout.Align = align;
            layout.AlignMin = alignMin;
            return layout;
        }

        private long SizeOf(int id)
        {
            var t = _btf[_btf.Skip(id)];
            if (t.Kind == BtfKind.Fwd || t.Kind == BtfKind.Void || t.Kind == BtfKind.FuncProto) return 0;
            return _btf.ResolveSize(id);
        }

        private static long AlignUp(long v, long a) => a <= 1 ? v : (v + a - 1) / a * a;

        /// <summary>Unnamed bitfields from <paramref name="pos"/> to <paramref name="target"/> bits: each stays inside its own unit, so it lands where written.</summary>
        private void Pad(Layout layout, ref long pos, long target, bool packed)
        {
            while (pos < target)
            {
                long left = target - pos;
                string type; int bits;
                if (pos % 8 != 0) { type = "char"; bits = (int)Math.Min(left, 8 - pos % 8); }
                else if (_btf.PointerSize == 8 && pos % 64 == 0 && left >= 64) { type = "long"; bits = 64; }
                else if (pos % 32 == 0 && left >= 32) { type = "int"; bits = 32; }
                else { type = "char"; bits = (int)Math.Min(left, 8); }
                layout.Items.Add(new Item { PadType = type, PadBits = bits });
                pos += bits;
            }
        }

        // ---- framing ----

        private void Prologue()
        {
            _out.Append("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
            _out.Append("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
        }

        private void Epilogue()
        {
            _out.Append("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n");
        }
    }
}
