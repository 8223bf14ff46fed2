using System;
using System.Collections.Generic;
using BtfBindings.Layout;

namespace BtfBindings.Emit
{
    internal sealed partial class CSharpEmitter
    {
        private Dictionary<string, PlannedType>? _topLevelByName;
        private const string Res = "global::BtfBindings.CoreTypeResolution";
        private const string CoreView = "global::BtfBindings.CoreView";
        private const string ViewField = "__btfView";
        private const string Inline = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]";

        /// <summary>
        /// Emits the relocatable view of a struct/union: a <c>ref struct View</c> over the target kernel's bytes whose
        /// properties have the struct's field names and read/write at the offsets a <see cref="CoreTypeResolution"/>
        /// resolved against the running kernel's BTF (bitfields with libbpf's load window and shifts, struct fields as
        /// nested views resolved against the target member's type, arrays as spans, existence checks as <c>Has_x</c>).
        /// The state and the general paths live in the runtime's <c>CoreView</c>; a property is its field index.
        /// </summary>
        private void WriteView(CodeWriter w, PlannedType t, string self)
        {
            string view = ViewTypeName(t);
            // Member names: the struct's field names where possible. Every property P also reserves get_P and set_P (a kernel
            // struct may have both 'bin_args' and 'get_bin_args'), and no member may share the view type's name.
            var taken = new HashSet<string>(StringComparer.Ordinal) { view };
            var fieldNames = FieldNames(t);
            var names = new List<string>(fieldNames.Count);
            for (int i = 0; i < fieldNames.Count; i++)
            {
                var f = t.Fields[i];
                names.Add(Claim(fieldNames[i], IsMethod(f) ? false : true, taken));
            }
            string dataName = Claim("Data", true, taken), resName = Claim("Resolution", true, taken), completeName = Claim("IsComplete", true, taken);
            string existsName = Claim("Exists", false, taken);
            var hasNames = new List<string>(names.Count);
            foreach (var n in names) hasNames.Add(n.Length == 0 ? "" : Claim("Has_" + n.TrimStart('@'), true, taken));
            bool rootable = !t.IsNested && t.BtfName.Length > 0;
            string v = ViewField;

            w.Line("");
            w.Line($"/// <summary>");
            w.Line($"/// A relocatable view of <c>{CSharpNames.Xml(t.CName)}</c> held in a span of the target kernel's bytes: the same field names as");
            w.Line($"/// <see cref=\"{self}\"/>, read and written at the offsets resolved against the running kernel's BTF (CO-RE), not at the");
            w.Line($"/// build-time offsets of <c>{CSharpNames.Xml(_o.SourceLabel)}</c>. A field the kernel lacks throws <see cref=\"global::BtfBindings.CoreFieldException\"/> when used;");
            w.Line($"/// test with <c>Has_x</c> or <c>{existsName}(nameof(x))</c> first.");
            w.Line($"/// </summary>");
            w.Line($"public readonly ref struct {view}");
            w.Open();
            w.Line($"private readonly {CoreView} {v};");
            w.Line("");
            w.Line($"/// <summary>A view over <paramref name=\"data\"/> (the target's bytes of the object) using <paramref name=\"resolution\"/>, which must be this type's.</summary>");
            w.Line(Inline);
            w.Line($"public {view}({G}System.Span<byte> data, {Res} resolution) {{ {v} = {CoreView}.Create(data, resolution, s_btfLayout); }}");
            w.Line($"/// <summary>For nested and element views: <paramref name=\"view\"/> is already relocated for this type.</summary>");
            w.Line(Inline);
            w.Line($"internal {view}({CoreView} view) {{ {v} = view; }}");
            if (rootable)
            {
                string selfRef = TypeRef(t.Name); // qualified: a view member may share the type's simple name
                w.Line($"/// <summary>A view over <paramref name=\"data\"/> using <paramref name=\"resolution\"/> from <c>kernel.Resolve&lt;{CSharpNames.Xml(self)}&gt;()</c>: this type's by its type, so not checked again.</summary>");
                w.Line(Inline);
                w.Line($"public {view}({G}System.Span<byte> data, {Res}<{selfRef}> resolution) {{ {v} = {CoreView}.Create(data, resolution); }}");
                w.Line($"/// <summary>A view over <paramref name=\"data\"/> resolved against <paramref name=\"kernel\"/> (the resolution is cached per kernel).</summary>");
                w.Line($"public {view}({G}System.Span<byte> data, {G}BtfBindings.TargetKernel kernel) : this(data, kernel.Resolve<{selfRef}>()) {{ }}");
            }
            w.Line($"/// <summary>The target bytes this view reads.</summary>");
            w.Line($"public {G}System.Span<byte> {dataName} => {v}.Data;");
            w.Line($"/// <summary>Where each field is in the target kernel (and the printable <c>Report()</c> of what moved).</summary>");
            w.Line($"public {Res} {resName} => {v}.Resolution;");
            w.Line($"/// <summary>True when the span holds the whole target object.</summary>");
            w.Line($"public bool {completeName} => {v}.IsComplete;");
            w.Line($"/// <summary>True when the target kernel has the field named <paramref name=\"field\"/> (libbpf <c>FIELD_EXISTS</c>).</summary>");
            w.Line($"public bool {existsName}(string field) => {v}.Resolution.Exists(field);");

            for (int i = 0; i < t.Fields.Count; i++)
            {
                var f = t.Fields[i];
                string name = names[i];
                if (name.Length == 0) continue;
                w.Line($"/// <summary>True when the running kernel has <c>{CSharpNames.Xml(f.Name)}</c> (compatible).</summary>");
                w.Line($"public bool {hasNames[i]} => {v}.Exists({i});");
                WriteViewField(w, t, f, i, name);
            }
            w.Close();
        }

        /// <summary>
        /// For a struct/union field the view reads as a nested view: the generated type whose <c>BtfLayout</c> goes into the
        /// field's metadata (<c>BtfFieldLayout.TypeLayout</c>), so resolving the owner resolves the member too. Else null.
        /// </summary>
        private string? MemberLayoutOwner(PlannedType owner, PlannedField f)
        {
            if (f.IsBitfield || f.IsFlexibleArray || f.Type.Kind != TypeShapeKind.Composite) return null;
            ViewOf(owner, f.Type, out var lo);
            return lo;
        }

        /// <summary>Takes <paramref name="name"/> (or name_, name__…) so that it, and for properties its accessors, collide with nothing taken.</summary>
        private static string Claim(string name, bool property, HashSet<string> taken)
        {
            for (; ; name += "_")
            {
                string bare = name.TrimStart('@');
                if (taken.Contains(bare) || (property && (taken.Contains("get_" + bare) || taken.Contains("set_" + bare)))) continue;
                taken.Add(bare);
                if (property) { taken.Add("get_" + bare); taken.Add("set_" + bare); }
                return name;
            }
        }

        /// <summary>Fields the view exposes as methods (element accessors of arrays of structs, flexible arrays).</summary>
        private static bool IsMethod(PlannedField f)
        {
            if (f.IsBitfield) return false;
            if (f.IsFlexibleArray) return true;
            return f.Type.Kind == TypeShapeKind.Array && Innermost(f.Type).Kind == TypeShapeKind.Composite;
        }

        /// <summary>
        /// The C# member names of the fields of <paramref name="t"/>, used by the struct and its view alike: the C name (escaped
        /// when C# cannot take it), with '_' appended while it would clash with another member, the type's own name (CS0542),
        /// a nested type, or the members every struct has (<c>BtfLayout</c>, <c>Pointer</c>).
        /// </summary>
        private List<string> FieldNames(PlannedType t)
        {
            var used = new HashSet<string>(StringComparer.Ordinal) { Bare(t.Name), "BtfLayout", "s_btfLayout", "Pointer" };
            foreach (var n in t.Nested) used.Add(Bare(n.Name));
            var result = new List<string>(t.Fields.Count);
            foreach (var f in t.Fields)
            {
                string bare = CSharpNames.Identifier(f.Name);
                while (!used.Add(bare)) bare += "_";
                result.Add(CSharpNames.Member(bare));
            }
            return result;
        }

        /// <summary>"View", unless a field of the type already has that name.</summary>
        private string ViewTypeName(PlannedType t)
        {
            var taken = new HashSet<string>(FieldNames(t), StringComparer.Ordinal) { "Pointer", "BtfLayout", "s_btfLayout", Bare(t.Name) };
            foreach (var n in t.Nested) taken.Add(Bare(n.Name));
            string v = "View";
            while (taken.Contains(v)) v += "_";
            return v;
        }

        /// <summary>The C# reference to the view type of a struct/union field's type.</summary>
        private string ViewOf(PlannedType owner, TypeShape s, out string layoutOwner)
        {
            PlannedType? pt = null;
            if (s.IsNested)
            {
                foreach (var n in owner.Nested) if (n.Name == s.TypeName) { pt = n; break; }
                layoutOwner = TypeId(s.TypeName!);
            }
            else
            {
                if (_topLevelByName == null)
                {
                    _topLevelByName = new Dictionary<string, PlannedType>(StringComparer.Ordinal);
                    foreach (var x in _plan.Types) _topLevelByName[x.Name] = x;
                }
                _topLevelByName.TryGetValue(s.TypeName!, out pt);
                layoutOwner = TypeRef(s.TypeName!);
            }
            return layoutOwner + "." + (pt != null ? ViewTypeName(pt) : "View");
        }

        private void WriteViewField(CodeWriter w, PlannedType owner, PlannedField f, int i, string name)
        {
            string doc = CSharpNames.Xml(f.CDeclaration);
            string v = ViewField;
            var s = f.Type;

            if (f.IsBitfield)
            {
                // The general read shifts the bitfield out of libbpf's load window; ReadAs narrows it as a C cast would.
                w.Line($"/// <summary><c>{doc}</c>, build-time bit {f.BitOffset}: read with the running kernel's load window and shifts.</summary>");
                w.Line($"public {CSharpNames.New(name)}{PropertyType(s)} {name} {{ get => {v}.ReadAs<{PropertyType(s)}>({i}); set => {v}.WriteAs({i}, value); }}");
                return;
            }

            if (f.IsFlexibleArray)
            {
                var e = Innermost(s);
                if (e.Kind == TypeShapeKind.Composite && !IsZero(e))
                {
                    string vt = ViewOf(owner, e, out var lo);
                    w.Line($"/// <summary><c>{doc}</c>: element <paramref name=\"index\"/> of the flexible array, as a view relocated against the target's element type.</summary>");
                    w.Line($"public {vt} {name}(int index) => new {vt}({v}.Element({i}, index, {lo}.BtfLayout));");
                }
                else
                {
                    string et = e.Kind == TypeShapeKind.Bytes ? "byte" : ElementType(e);
                    w.Line($"/// <summary><c>{doc}</c>: <paramref name=\"count\"/> elements of the flexible array at the running kernel's offset.</summary>");
                    w.Line($"public {G}System.Span<{et}> {name}(int count) => {v}.FlexibleSpan<{et}>({i}, count);");
                }
                return;
            }

            switch (s.Kind)
            {
                case TypeShapeKind.Composite:
                    {
                        string vt = ViewOf(owner, s, out _);
                        w.Line($"/// <summary><c>{doc}</c>: a view of the member, relocated against the type the running kernel's member has.</summary>");
                        w.Line($"public {CSharpNames.New(name)}{vt} {name} {{ {Inline} get => new {vt}({v}.Nested({i}, {owner.Fields.Count})); }}");
                        return;
                    }
                case TypeShapeKind.Array:
                    {
                        var e = Innermost(s);
                        if (e.Kind == TypeShapeKind.Composite)
                        {
                            string vt = ViewOf(owner, e, out var lo);
                            w.Line($"/// <summary><c>{doc}</c>: element <paramref name=\"index\"/>, as a view relocated against the target's element type.</summary>");
                            w.Line($"public {vt} {name}(int index) => new {vt}({v}.Element({i}, index, {lo}.BtfLayout));");
                            return;
                        }
                        string et = e.Kind == TypeShapeKind.Bytes ? "byte" : ElementType(e);
                        w.Line($"/// <summary><c>{doc}</c>: the array at the running kernel's offset, with the running kernel's length.</summary>");
                        w.Line($"public {CSharpNames.New(name)}{G}System.Span<{et}> {name} => {v}.ArraySpan<{et}>({i});");
                        return;
                    }
                case TypeShapeKind.Bytes:
                    w.Line($"/// <summary><c>{doc}</c>: the raw target bytes of the member.</summary>");
                    w.Line($"public {CSharpNames.New(name)}{G}System.Span<byte> {name} => {v}.FieldBytes({i});");
                    return;
            }

            // Scalars, enums and pointers: CoreView.Get/Set read in place when the running kernel has the field as it is (same size
            // and byte order, not a bitfield, inside the data), else convert, bounds-check, or throw for a missing field.
            string type = s.Kind == TypeShapeKind.Pointer ? Pointer(s) : ElementType(s);
            bool is128 = s.Kind == TypeShapeKind.Scalar && (s.Scalar == ScalarKind.I128 || s.Scalar == ScalarKind.U128);
            string get, set;
            if (is128) { get = $"({type}){v}.Read128({i})"; set = $"{v}.Write128({i}, unchecked((global::System.UInt128)value))"; }
            else if (ClrSize(s) == s.ByteSize && s.ByteSize > 0) { get = $"{v}.Get<{type}>({i})"; set = $"{v}.Set({i}, value)"; }
            else { get = $"{v}.ReadAs<{type}>({i})"; set = $"{v}.WriteAs({i}, value)"; }
            w.Line($"/// <summary><c>{doc}</c>, build-time offset {f.BitOffset / 8}: read at the running kernel's offset.</summary>");
            w.Line($"public {CSharpNames.New(name)}{type} {name} {{ get => {get}; set => {set}; }}");
        }

        private static TypeShape Innermost(TypeShape s)
        {
            while (s.Kind == TypeShapeKind.Array && s.Element != null) s = s.Element;
            return s;
        }

        private static bool IsZero(TypeShape s) => s.ByteSize == 0;

        /// <summary>Size in bytes of the C# type a scalar/enum/pointer shape is emitted as (0 when unknown).</summary>
        private uint ClrSize(TypeShape s)
        {
            if (s.Kind == TypeShapeKind.Pointer) return (uint)_plan.PointerSize;
            switch (s.Scalar)
            {
                case ScalarKind.Bool: case ScalarKind.I8: case ScalarKind.U8: return 1;
                case ScalarKind.I16: case ScalarKind.U16: case ScalarKind.F16: return 2;
                case ScalarKind.I32: case ScalarKind.U32: case ScalarKind.F32: return 4;
                case ScalarKind.I64: case ScalarKind.U64: case ScalarKind.F64: return 8;
                case ScalarKind.I128: case ScalarKind.U128: return 16;
                default: return 0;
            }
        }
    }
}
