using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using BtfBindings.Layout;

namespace BtfBindings.Emit
{
    /// <summary>Where and how generated code is placed.</summary>
    internal sealed class EmitOptions
    {
        /// <summary>Namespace of the generated code ("" for the global namespace).</summary>
        public string Namespace { get; set; } = "";
        /// <summary>Containing type declarations, outermost first, e.g. ("partial class", "Kernel"); empty for namespace-level types.</summary>
        public List<KeyValuePair<string, string>> Containers { get; } = new List<KeyValuePair<string, string>>();
        /// <summary>The BTF file name shown in docs and metadata.</summary>
        public string SourceLabel { get; set; } = "";
        /// <summary>Accessibility of generated types.</summary>
        public string Accessibility { get; set; } = "public";
        /// <summary>
        /// Register each enum's layout with <c>BtfEnum&lt;T&gt;</c> from a module initializer (impossible inside a generic or
        /// private container; the layouts stay reachable through <c>BtfEnumLayouts</c> then).
        /// </summary>
        public bool RegisterEnums { get; set; } = true;
    }

    /// <summary>One generated file.</summary>
    internal sealed class EmittedFile
    {
        public string HintName { get; }
        public string Text { get; }
        public EmittedFile(string hintName, string text) { HintName = hintName; Text = text; }
    }

    /// <summary>
    /// Writes a <see cref="LayoutPlan"/> as C#: explicit-layout structs (exact size and offsets, Pack = 1 so no
    /// host alignment can add padding), bitfield properties, fixed/inline arrays, typed kernel pointers, enums,
    /// and per-type layout metadata. One file per type; the order never depends on BTF type ids.
    /// </summary>
    internal sealed partial class CSharpEmitter
    {
        private readonly LayoutPlan _plan;
        private readonly EmitOptions _o;
        private readonly SortedUInts _arrayLengths = new SortedUInts();
        private const string G = "global::";
        private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";

        public CSharpEmitter(LayoutPlan plan, EmitOptions options) { _plan = plan; _o = options; }

        private Dictionary<string, string>? _typeIds;

        /// <summary>
        /// The C# identifier of a planned type (top-level or nested): its name when C# can take it ('@' before keywords),
        /// else <see cref="CSharpNames.Identifier"/>'s escape, made unique among the plan's types.
        /// </summary>
        private string TypeId(string planName)
        {
            if (_typeIds == null)
            {
                _typeIds = new Dictionary<string, string>(StringComparer.Ordinal);
                var all = new List<PlannedType>();
                void Add(PlannedType t) { all.Add(t); foreach (var n in t.Nested) Add(n); }
                foreach (var t in _plan.Types) Add(t);
                var taken = new HashSet<string>(StringComparer.Ordinal);
                foreach (var t in all) if (CSharpNames.IsCIdentifier(t.Name)) taken.Add(t.Name);
                foreach (var t in all)
                {
                    if (_typeIds.ContainsKey(t.Name)) continue;
                    string id = t.Name;
                    if (!CSharpNames.IsCIdentifier(id))
                    {
                        id = CSharpNames.Identifier(id);
                        while (!taken.Add(id)) id += "_";
                        Warnings.Add($"type id {t.BtfId}: the name {CSharpNames.Literal(t.Name)} is not a C identifier; emitted as '{id}'");
                    }
                    _typeIds[t.Name] = CSharpNames.Type(id);
                }
            }
            return _typeIds.TryGetValue(planName, out var v) ? v : CSharpNames.Type(planName);
        }

        /// <summary><see cref="TypeId"/> without the '@' (hint names, derived member names).</summary>
        private string Bare(string planName) => TypeId(planName).TrimStart('@');

        /// <summary>Names the emitter had to escape (BTF from elsewhere may hold any byte in a name); each says the type id.</summary>
        public List<string> Warnings { get; } = new List<string>();

        /// <summary>One file per type (what the source generator adds), plus the anonymous-enum constants and the inline array types.</summary>
        public List<EmittedFile> Emit()
        {
            var files = new List<EmittedFile>();
            string prefix = "";
            foreach (var c in _o.Containers) prefix += c.Value + ".";
            // Roslyn compares hint names ignoring case: 'nAx' and 'nax' are two kernel types but would be one file name.
            var hints = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { prefix + "BtfConstants", prefix + "BtfEnumLayouts", prefix + "BtfArrays" };
            foreach (var t in _plan.Types)
            {
                var (sb, w) = BeginFile();
                WriteType(w, t);
                string hint = prefix + Bare(t.Name);
                for (int k = 2; !hints.Add(hint); k++) hint = prefix + Bare(t.Name) + "_" + k.ToString(CultureInfo.InvariantCulture);
                files.Add(new EmittedFile(hint + ".g.cs", EndFile(sb)));
            }
            if (_plan.AnonymousEnumConstants.Count > 0)
            {
                var (sb, w) = BeginFile();
                WriteConstants(w);
                files.Add(new EmittedFile(prefix + "BtfConstants.g.cs", EndFile(sb)));
            }
            if (HasEnums)
            {
                var (sb, w) = BeginFile();
                WriteEnumLayouts(w);
                files.Add(new EmittedFile(prefix + "BtfEnumLayouts.g.cs", EndFile(sb)));
            }
            if (_arrayLengths.Count > 0)
            {
                var (sb, w) = BeginFile();
                WriteArrayTypes(w);
                files.Add(new EmittedFile(prefix + "BtfArrays.g.cs", EndFile(sb)));
            }
            return files;
        }

        /// <summary>
        /// Everything <see cref="Emit"/> writes, as one file (what btfgen writes): one header, one namespace block, one container
        /// (its declaration documented with <paramref name="containerDoc"/>), and the bodies of the per-type files in the same
        /// order, separated by blank lines. Written into <paramref name="sb"/>; with <paramref name="flush"/>, the text is handed
        /// over and <paramref name="sb"/> cleared whenever it passes <paramref name="flushAt"/> characters between two declarations,
        /// and at the end, so the whole file never has to fit in one buffer (a StringBuilder holds at most 2^31 characters).
        /// </summary>
        public void EmitSingleFile(StringBuilder sb, string? containerDoc, Action<StringBuilder>? flush = null, int flushAt = 1 << 20)
        {
            void Flush(int atLeast)
            {
                if (flush == null || sb.Length < atLeast) return;
                flush(sb);
                sb.Clear();
            }
            _between = () => Flush(flushAt);
            if (_plan.Types.Count == 0 && _plan.AnonymousEnumConstants.Count == 0)
            {
                sb.Append("// <auto-generated>\n// Generated by BtfBindings: no types.\n// </auto-generated>\n");
                Flush(0);
                return;
            }
            AppendHeader(sb);
            OpenWrappers(sb, containerDoc);
            var w = new CodeWriter(sb, WrapperDepth, dropBlankLines: true);
            bool first = true;
            foreach (var t in _plan.Types)
            {
                if (!first) sb.Append('\n');
                first = false;
                WriteType(w, t);
                Between();
            }
            if (_plan.AnonymousEnumConstants.Count > 0)
            {
                if (!first) sb.Append('\n');
                first = false;
                WriteConstants(w);
            }
            if (HasEnums)
            {
                if (!first) sb.Append('\n');
                first = false;
                WriteEnumLayouts(w);
            }
            if (_arrayLengths.Count > 0)
            {
                if (!first) sb.Append('\n');
                WriteArrayTypes(w);
            }
            CloseWrappers(sb);
            Flush(0);
            _between = null;
        }

        /// <summary>Between two complete declarations: where <see cref="EmitSingleFile"/> may hand its text over.</summary>
        private void Between() => _between?.Invoke();
        private Action? _between;

        private void WriteArrayTypes(CodeWriter w)
        {
            for (int i = 0; i < _arrayLengths.Count; i++)
            {
                uint n = _arrayLengths[i];
                w.Line($"/// <summary>An inline array of {n} elements, laid out like the C array <c>T[{n}]</c>; converts to <see cref=\"{G}System.Span{{T}}\"/>.</summary>");
                w.Line($"[{G}System.Runtime.CompilerServices.InlineArray({n})]");
                w.Line($"{_o.Accessibility} struct BtfArray{n}<T> where T : struct"); // not 'unmanaged': a kernel type of that name would capture the contextual keyword
                w.Open();
                w.Line("private T _element0;");
                w.Line($"/// <summary>The number of elements, {n}.</summary>");
                w.Line($"public int Length => {n};");
                w.Line("/// <summary>The elements as a span over this array (no copy).</summary>");
                w.Line($"[{G}System.Diagnostics.CodeAnalysis.UnscopedRef] public {G}System.Span<T> AsSpan() => {G}System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref _element0, {n});");
                w.Line("/// <summary>A C <c>char[]</c> as a string: the bytes up to the first NUL, as UTF-8 (for 1-byte elements only).</summary>");
                w.Line($"public readonly string ToCString() => {G}BtfBindings.KernelStrings.ToCString<T>({G}System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref {Unsafe}.AsRef(in _element0), {n}));");
                w.Close();
                Between();
            }
        }

        /// <summary>Namespace block plus container declarations around every type.</summary>
        private int WrapperDepth => (_o.Namespace.Length > 0 ? 1 : 0) + _o.Containers.Count;

        /// <summary>A file's header and opening blocks, and a writer for its body (indented inside the blocks, no blank lines).</summary>
        private (StringBuilder, CodeWriter) BeginFile()
        {
            var sb = new StringBuilder();
            AppendHeader(sb);
            OpenWrappers(sb, null);
            return (sb, new CodeWriter(sb, WrapperDepth, dropBlankLines: true));
        }

        private string EndFile(StringBuilder sb)
        {
            CloseWrappers(sb);
            return sb.ToString();
        }

        private void AppendHeader(StringBuilder sb)
        {
            sb.Append("// <auto-generated>\n// Generated by BtfBindings from ").Append(CSharpNames.Comment(_o.SourceLabel)).Append(". Do not edit.\n// </auto-generated>\n");
            // Generated code has no nullable references to check, and the compiler's nullable analysis of it took a third of
            // the time every build spends compiling it (bench/rebuild_ratio.sh).
            sb.Append("#nullable disable\n");
            sb.Append("#pragma warning disable CS8981 // kernel type names are lower case\n");
            sb.Append("#pragma warning disable CS0649, CS0169, CS0282\n\n");
        }

        private void OpenWrappers(StringBuilder sb, string? containerDoc)
        {
            int level = 0;
            if (_o.Namespace.Length > 0) { sb.Append("namespace ").Append(_o.Namespace).Append("\n{\n"); level++; }
            foreach (var c in _o.Containers)
            {
                if (containerDoc != null) sb.Append(CodeWriter.Spaces(level)).Append("/// <summary>").Append(containerDoc).Append("</summary>\n");
                sb.Append(CodeWriter.Spaces(level)).Append(c.Key).Append(' ').Append(c.Value).Append('\n');
                sb.Append(CodeWriter.Spaces(level)).Append("{\n");
                level++;
            }
        }

        private void CloseWrappers(StringBuilder sb)
        {
            for (int k = WrapperDepth - 1; k >= 0; k--) sb.Append(CodeWriter.Spaces(k)).Append("}\n");
        }

        private void WriteConstants(CodeWriter w)
        {
            bool container = _o.Containers.Count > 0;
            if (!container)
            {
                w.Line("/// <summary>Enumerators of anonymous kernel enums, as constants.</summary>");
                w.Line($"{_o.Accessibility} static partial class BtfConstants");
                w.Open();
            }
            foreach (var c in _plan.AnonymousEnumConstants.OrderBy(k => k.Name, StringComparer.Ordinal))
            {
                // C gives an enumerator type int when its value fits; else ours is the enum's own integer type (its size
                // and signedness), so an unsigned ENUM64 value with the top bit set stays positive.
                long sv = (long)c.RawValue;
                bool fitsInt = c.Signed ? sv >= int.MinValue && sv <= int.MaxValue : c.RawValue <= int.MaxValue;
                string type, lit;
                if (fitsInt) { type = "int"; lit = sv.ToString(CultureInfo.InvariantCulture); }
                else if (c.Signed) { type = "long"; lit = sv.ToString(CultureInfo.InvariantCulture) + "L"; }
                else if (c.EnumSize <= 4) { type = "uint"; lit = ((uint)c.RawValue).ToString(CultureInfo.InvariantCulture) + "U"; }
                else { type = "ulong"; lit = c.RawValue.ToString(CultureInfo.InvariantCulture) + "UL"; }
                w.Line($"/// <summary>Anonymous enum value <c>{CSharpNames.Xml(c.Name)} = {lit.TrimEnd('U', 'L')}</c>.</summary>");
                w.Line($"public {CSharpNames.New(CSharpNames.Member(c.Name))}const {type} {CSharpNames.Member(c.Name)} = {lit};");
                Between();
            }
            if (!container) w.Close();
        }

        private void WriteType(CodeWriter w, PlannedType t)
        {
            switch (t.Kind)
            {
                case PlannedKind.Enum: WriteEnum(w, t); break;
                case PlannedKind.Opaque: WriteOpaque(w, t); break;
                default: WriteComposite(w, t); break;
            }
        }

        /// <summary>"new " for a type declared inside another (a container class or its struct) under a name an inherited member has.</summary>
        private string NewType(PlannedType t) => t.IsNested || _o.Containers.Count > 0 ? CSharpNames.New(TypeId(t.Name)) : "";

        private void WriteOpaque(CodeWriter w, PlannedType t)
        {
            w.Line($"/// <summary>Opaque <c>{CSharpNames.Xml(t.CName)}</c>{(t.Size > 0 ? $" ({t.Size} bytes)" : "")}: {CSharpNames.Xml(t.OpaqueReason ?? "no members emitted")}.</summary>");
            w.Line($"/// <remarks>From <c>{CSharpNames.Xml(_o.SourceLabel)}</c>. Usable as the target of a kernel pointer only.</remarks>");
            w.Line($"{_o.Accessibility} {NewType(t)}partial struct {TypeId(t.Name)}");
            w.Open();
            WritePointerType(w, t);
            w.Close();
        }

        /// <summary>The typed, target-sized kernel pointer to this type.</summary>
        private void WritePointerType(CodeWriter w, PlannedType t)
        {
            bool p32 = _plan.PointerSize == 4;
            string addr = p32 ? "uint" : "ulong";
            w.Line($"/// <summary>A <c>{CSharpNames.Xml(t.CName)} *</c> of the target ({_plan.PointerSize} bytes): the kernel address it holds.</summary>");
            w.Line($"[{G}System.Runtime.InteropServices.StructLayout({G}System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 1)]");
            w.Line($"public readonly struct Pointer : {G}System.IEquatable<Pointer>");
            w.Open();
            w.Line("/// <summary>The kernel address.</summary>");
            w.Line($"public readonly {addr} Address;");
            w.Line("/// <summary>Wraps an address.</summary>");
            w.Line($"public Pointer({addr} address) {{ Address = address; }}");
            w.Line("/// <summary>True for NULL.</summary>");
            w.Line("public bool IsNull => Address == 0;");
            w.Line("/// <inheritdoc/>");
            w.Line("public bool Equals(Pointer other) => Address == other.Address;");
            w.Line("/// <inheritdoc/>");
            w.Line("public override bool Equals(object obj) => obj is Pointer p && Equals(p);");
            w.Line("/// <inheritdoc/>");
            w.Line("public override int GetHashCode() => Address.GetHashCode();");
            w.Line("/// <summary>The address in hex.</summary>");
            w.Line($"public override string ToString() => \"0x\" + Address.ToString(\"{(p32 ? "x8" : "x16")}\");");
            w.Close();
        }

        private void WriteEnum(CodeWriter w, PlannedType t)
        {
            string u = Scalar(t.Underlying);
            w.Line($"/// <summary><c>{CSharpNames.Xml(t.CName)}</c>: {t.Size} bytes, {(t.IsSigned ? "signed" : "unsigned")}, {t.Values.Count} values.</summary>");
            w.Line($"/// <remarks>From <c>{CSharpNames.Xml(_o.SourceLabel)}</c>.</remarks>");
            w.Line($"{_o.Accessibility} {NewType(t)}enum {TypeId(t.Name)} : {u}");
            w.Open();
            var usedValues = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in t.Values)
            {
                string valueName = CSharpNames.Identifier(v.Key);
                while (!usedValues.Add(valueName)) valueName += "_";
                string lit = t.IsSigned ? ((long)v.Value).ToString(CultureInfo.InvariantCulture) + "L" : v.Value.ToString(CultureInfo.InvariantCulture) + "UL";
                string shown = t.IsSigned ? ((long)v.Value).ToString(CultureInfo.InvariantCulture) : v.Value.ToString(CultureInfo.InvariantCulture);
                w.Line($"/// <summary><c>{CSharpNames.Xml(v.Key)} = {shown}</c></summary>");
                w.Line($"{CSharpNames.Member(valueName)} = unchecked(({u}){lit}),");
            }
            w.Close();
        }

        private bool HasEnums => _plan.Types.Any(t => t.Kind == PlannedKind.Enum);

        /// <summary>
        /// Enums cannot carry members, so their layout metadata (BTF name, size, signedness, each enumerator's name and
        /// build-time value) lives in one class per container, and a module initializer registers it as
        /// <c>BtfEnum&lt;T&gt;.Layout</c> for <c>TargetKernel.ResolveEnum&lt;T&gt;()</c> and <c>ValueOf(T)</c>. No reflection;
        /// each layout is built on first use.
        /// </summary>
        private void WriteEnumLayouts(CodeWriter w)
        {
            var enums = _plan.Types.Where(t => t.Kind == PlannedKind.Enum).ToList();
            string layoutType = $"{G}BtfBindings.BtfTypeLayout";
            w.Line("/// <summary>The layouts the generated enums were built from (BTF name, size, signedness, enumerators and their build-time values), for <c>TargetKernel.ResolveEnum</c>.</summary>");
            w.Line($"{_o.Accessibility} static partial class BtfEnumLayouts");
            w.Open();
            if (_o.RegisterEnums)
            {
                w.Line($"/// <summary>Registers every layout below as <see cref=\"{G}BtfBindings.BtfEnum{{T}}.Layout\"/> (each built on first use).</summary>");
                w.Line($"[{G}System.Runtime.CompilerServices.ModuleInitializer]");
                w.Line("internal static void Register()");
                w.Open();
                foreach (var t in enums) w.Line($"{G}BtfBindings.BtfEnum<{TypeRef(t.Name)}>.Register(Create_{Bare(t.Name)});");
                w.Close();
            }
            foreach (var t in enums)
            {
                w.Line($"/// <summary>The layout of <see cref=\"{TypeRef(t.Name)}\"/> (<c>{CSharpNames.Xml(t.CName)}</c>).</summary>");
                if (_o.RegisterEnums) w.Line($"public static {layoutType} {TypeId(t.Name)} => {G}BtfBindings.BtfEnum<{TypeRef(t.Name)}>.Layout;");
                else
                {
                    w.Line($"public static {layoutType} {TypeId(t.Name)} => s_{Bare(t.Name)} ??= Create_{Bare(t.Name)}();");
                    w.Line($"private static {layoutType} s_{Bare(t.Name)};");
                }
                w.Line($"private static {layoutType} Create_{Bare(t.Name)}() => new {layoutType}({CSharpNames.Literal(t.BtfName)}, {G}BtfBindings.BtfKind.Enum, {t.Size}, {G}System.Array.Empty<{G}BtfBindings.BtfFieldLayout>(), {CSharpNames.Literal(_o.SourceLabel)}, {_plan.PointerSize}, new {G}System.Collections.Generic.KeyValuePair<string, ulong>[]");
                w.Line("{");
                w.Indent();
                foreach (var v in t.Values) w.Line($"new {G}System.Collections.Generic.KeyValuePair<string, ulong>({CSharpNames.Literal(v.Key)}, {v.Value.ToString(CultureInfo.InvariantCulture)}UL),");
                w.Dedent();
                w.Line($"}}, namedByTypedef: {B(t.NamedByTypedef)}, isSigned: {B(t.IsSigned)});");
                Between();
            }
            w.Close();
        }

        private void WriteComposite(CodeWriter w, PlannedType t)
        {
            string self = TypeId(t.Name);
            string kind = t.Kind == PlannedKind.Union ? "union" : "struct";
            w.Line($"/// <summary><c>{CSharpNames.Xml(t.CName)}</c>: {t.Size} bytes, alignment {t.Alignment}{(t.IsPacked ? ", packed" : "")}.</summary>");
            w.Line($"/// <remarks>From <c>{CSharpNames.Xml(_o.SourceLabel)}</c>. Offsets and size are the kernel's (explicit layout, no host padding){(t.Size == 0 ? "; the kernel type is empty (size 0), C# gives it 1 byte" : "")}.</remarks>");
            w.Line($"[{G}System.Runtime.InteropServices.StructLayout({G}System.Runtime.InteropServices.LayoutKind.Explicit, Size = {Math.Max(1u, t.Size)}, Pack = 1)]");
            w.Line($"{(t.IsNested ? "public" : _o.Accessibility)} {NewType(t)}partial struct {self} : {G}BtfBindings.IBtfType");
            w.Open();
            var fieldNames = FieldNames(t);
            for (int i = 0; i < t.Fields.Count; i++) WriteField(w, t, self, t.Fields[i], fieldNames[i]);
            // Layout metadata for the runtime matcher: plain data, no reflection.
            w.Line("/// <summary>The layout this type was generated from (kernel name, size, every field's bit offset and size).</summary>");
            w.Line($"public static {G}BtfBindings.BtfTypeLayout BtfLayout => s_btfLayout;");
            string encoded = EncodedLayout(t, out var members);
            w.Line($"private static readonly {G}BtfBindings.BtfTypeLayout s_btfLayout = {G}BtfBindings.BtfTypeLayout.Decode({encoded}, {members});");
            if (!t.IsNested) WritePointerType(w, t);
            WriteView(w, t, self);
            foreach (var n in t.Nested) { w.Line(""); WriteComposite(w, n); }
            w.Close();
        }

        private static string B(bool b) => b ? "true" : "false";

        /// <summary>
        /// The layout metadata as one string literal for <c>BtfTypeLayout.Decode</c> (its format is documented there), and the
        /// array of the member types' layouts its fields index: one token for the compiler instead of a constructor call
        /// with twelve arguments per field.
        /// </summary>
        private string EncodedLayout(PlannedType t, out string memberArray)
        {
            var parts = new List<string>(7 + t.Fields.Count * 11);
            void S(string v) { var lit = CSharpNames.Literal(v); parts.Add(lit.Substring(1, lit.Length - 2)); }
            void N(long v) => parts.Add(v.ToString(CultureInfo.InvariantCulture));
            S(t.BtfName); N((int)(t.Kind == PlannedKind.Union ? BtfKind.Union : BtfKind.Struct)); N(t.Size); S(_o.SourceLabel);
            N(_plan.PointerSize); N(t.NamedByTypedef ? 1 : 0); N(t.Fields.Count);
            var members = new List<string>();
            foreach (var f in t.Fields)
            {
                var k = f.KindInfo;
                string? member = MemberLayoutOwner(t, f);
                S(f.Name); N(f.BitOffset); N(f.BitSize); N((f.IsBitfield ? 1 : 0) | (f.IsSigned ? 2 : 0)); N((int)k.Kind); S(f.CType);
                N(f.Type.ByteSize); S(k.TypeName); N(k.ArrayLength); N((int)k.ElementKind);
                if (member == null) N(-1);
                else { N(members.Count); members.Add(member + ".BtfLayout"); }
            }
            memberArray = members.Count == 0 ? "null" : $"new {G}BtfBindings.BtfTypeLayout[] {{ {string.Join(", ", members)} }}";
            return "\"" + string.Join("\\0", parts) + "\"";
        }

        private void WriteField(CodeWriter w, PlannedType owner, string self, PlannedField f, string name)
        {
            uint off = f.BitOffset / 8;
            string via = f.AnonymousPath.Length > 0 ? $", in an anonymous member" : "";
            if (f.IsBitfield)
            {
                string pt = PropertyType(f.Type);
                string read = f.IsSigned ? "ReadSigned" : "ReadUnsigned";
                string be = B(_plan.BigEndian);
                bool wide = f.BitSize > 64; // __int128 bitfields
                if (wide) read += "128";
                string raw = $"{G}BtfBindings.Bitfield.{read}(ref {Unsafe}.As<{self}, byte>(ref this), {f.BitOffset}, {f.BitSize}, {be})";
                bool isBool = f.Type.Kind == TypeShapeKind.Scalar && f.Type.Scalar == ScalarKind.Bool;
                bool isEnum = f.Type.Kind == TypeShapeKind.Enum;
                string under = Scalar(f.Type.Scalar, f.IsSigned);
                string get = isBool ? raw + " != 0" : isEnum ? $"({pt})({under}){raw}" : $"unchecked(({pt}){raw})";
                string setv = isBool ? "(value ? 1UL : 0UL)"
                    : isEnum ? $"unchecked((ulong)({(f.IsSigned ? "long" : "ulong")})({under})value)"
                    : f.IsSigned ? "unchecked((ulong)(long)value)" : "(ulong)value";
                w.Line($"/// <summary><c>{CSharpNames.Xml(f.CDeclaration)}</c>: bit offset {f.BitOffset} (byte {off}, bit {f.BitOffset % 8}), {f.BitSize} bits{via}{SourceNote}.</summary>");
                w.Line($"public {CSharpNames.New(name)}{pt} {name}");
                w.Open();
                w.Line($"get => {get};");
                if (wide) setv = f.IsSigned ? $"unchecked((global::System.UInt128)(global::System.Int128)value)" : "(global::System.UInt128)value";
                w.Line($"set => {G}BtfBindings.Bitfield.{(wide ? "Write128" : "Write")}(ref {Unsafe}.As<{self}, byte>(ref this), {f.BitOffset}, {f.BitSize}, {be}, {setv});");
                w.Close();
                return;
            }
            if (f.IsFlexibleArray)
            {
                string et = ElementType(f.Type.Element!);
                w.Line($"/// <summary><c>{CSharpNames.Xml(f.CDeclaration)}</c>: flexible array at offset {off}{SourceNote}; it takes no space, so pass the element count the data holds.</summary>");
                w.Line($"[{G}System.Diagnostics.CodeAnalysis.UnscopedRef]");
                w.Line($"public {G}System.Span<{et}> {name}(int count) => {G}System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref {Unsafe}.As<byte, {et}>(ref {Unsafe}.AddByteOffset(ref {Unsafe}.As<{self}, byte>(ref this), ({G}System.IntPtr){off})), count);");
                return;
            }
            if (f.IsZeroSized || f.Type.ByteSize == 0)
            {
                WriteZeroSized(w, self, f, name, off, via);
                return;
            }
            w.Line($"/// <summary><c>{CSharpNames.Xml(f.CDeclaration)}</c>: offset {off}, size {f.Type.ByteSize}{via}{SourceNote}.</summary>");
            w.Line($"[{G}System.Runtime.InteropServices.FieldOffset({off})] public {CSharpNames.New(name)}{FieldType(f.Type)} {name};");
        }

        /// <summary>
        /// A member that takes no space in this kernel (an empty struct when a config option is off, an array of them) still
        /// exists in C, so it exists here: a <c>ref</c> to the (empty) type at its offset, or an empty span, so code written
        /// against a kernel where it has content compiles against this one too.
        /// </summary>
        private void WriteZeroSized(CodeWriter w, string self, PlannedField f, string name, uint off, string via)
        {
            w.Line($"/// <summary><c>{CSharpNames.Xml(f.CDeclaration)}</c>: offset {off}, size 0 in this kernel{via}{SourceNote}.</summary>");
            if (f.Type.Kind == TypeShapeKind.Array || f.Type.Kind == TypeShapeKind.Bytes)
            {
                string et = f.Type.Kind == TypeShapeKind.Bytes ? "byte" : ElementType(Innermost(f.Type));
                w.Line($"[{G}System.Diagnostics.CodeAnalysis.UnscopedRef]");
                w.Line($"public {CSharpNames.New(name)}{G}System.Span<{et}> {name} => {G}System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref {Unsafe}.As<byte, {et}>(ref {Unsafe}.AddByteOffset(ref {Unsafe}.As<{self}, byte>(ref this), ({G}System.IntPtr){off})), 0);");
                return;
            }
            string type = ElementType(f.Type);
            w.Line($"[{G}System.Diagnostics.CodeAnalysis.UnscopedRef]");
            w.Line($"public {CSharpNames.New(name)}ref {type} {name} => ref {Unsafe}.As<byte, {type}>(ref {Unsafe}.AddByteOffset(ref {Unsafe}.As<{self}, byte>(ref this), ({G}System.IntPtr){off}));");
        }

        private string FieldType(TypeShape s)
        {
            switch (s.Kind)
            {
                case TypeShapeKind.Array:
                    _arrayLengths.Add(s.Length);
                    return $"BtfArray{s.Length}<{ElementType(s.Element!)}>";
                case TypeShapeKind.Bytes:
                    _arrayLengths.Add(s.ByteSize);
                    return $"BtfArray{s.ByteSize}<byte>";
                default:
                    return ElementType(s);
            }
        }

        private string ElementType(TypeShape s) => s.Kind switch
        {
            TypeShapeKind.Scalar => Scalar(s.Scalar),
            TypeShapeKind.Enum or TypeShapeKind.Composite => s.IsNested ? TypeId(s.TypeName!) : TypeRef(s.TypeName!),
            TypeShapeKind.Pointer => Pointer(s),
            TypeShapeKind.Array => FieldType(s),
            _ => FieldType(s),
        };

        private string Pointer(TypeShape s)
        {
            // Pointers to structs/unions use the pointee's nested Pointer type: a generic KernelPointer64<S> inside S
            // (directly or through members) sends the CLR type loader into unbounded recursion.
            if (s.Element != null && s.Element.Kind == TypeShapeKind.Composite && !s.Element.IsNested)
                return TypeRef(s.Element.TypeName!) + ".Pointer";
            string ptr = _plan.PointerSize == 4 ? "KernelPointer32" : "KernelPointer64";
            string target = s.Element == null
                ? (s.PointsToFunction ? G + "BtfBindings.BtfFunction" : G + "BtfBindings.BtfVoid")
                : s.Element.Kind == TypeShapeKind.Bytes ? G + "BtfBindings.BtfVoid" : ElementType(s.Element);
            return $"{G}BtfBindings.{ptr}<{target}>";
        }

        /// <summary>A reference to a top-level generated type, qualified by the containers so nested scopes cannot shadow it.</summary>
        /// <summary>" (file)": every member's doc names the BTF file its layout came from, as IntelliSense shows only the member's.</summary>
        private string SourceNote => _sourceNote ??= _o.SourceLabel.Length == 0 ? "" : $" ({CSharpNames.Xml(_o.SourceLabel)})";
        private string? _sourceNote;

        private string TypeRef(string name)
        {
            var parts = new List<string>();
            if (_o.Namespace.Length > 0) parts.Add(G + _o.Namespace);
            foreach (var c in _o.Containers) parts.Add(c.Value);
            parts.Add(TypeId(name));
            var s = string.Join(".", parts);
            return _o.Namespace.Length == 0 && _o.Containers.Count == 0 ? G + s : s;
        }

        private string PropertyType(TypeShape s) => s.Kind == TypeShapeKind.Enum ? ElementType(s) : Scalar(s.Scalar);

        private static string Scalar(ScalarKind k, bool signedHint = false) => k switch
        {
            ScalarKind.Bool => "bool",
            ScalarKind.I8 => "sbyte", ScalarKind.U8 => "byte",
            ScalarKind.I16 => "short", ScalarKind.U16 => "ushort",
            ScalarKind.I32 => "int", ScalarKind.U32 => "uint",
            ScalarKind.I64 => "long", ScalarKind.U64 => "ulong",
            ScalarKind.I128 => G + "System.Int128", ScalarKind.U128 => G + "System.UInt128",
            ScalarKind.F16 => G + "System.Half", ScalarKind.F32 => "float", ScalarKind.F64 => "double",
            _ => signedHint ? "long" : "ulong",
        };
    }

    /// <summary>
    /// Builds a <see cref="CodeWriter"/> line from an interpolated string without making a string of it: the literal parts and
    /// the values go straight into the writer's buffer, formatted as string interpolation would format them.
    /// </summary>
    [System.Runtime.CompilerServices.InterpolatedStringHandler]
    internal ref struct LineHandler
    {
        private readonly CodeWriter _w;

        public LineHandler(int literalLength, int formattedCount, CodeWriter w)
        {
            _w = w;
            w.BeginLine();
        }

        public void AppendLiteral(string s) => _w.Append(s);
        public void AppendFormatted(string? s) { if (s != null) _w.Append(s); }
        public void AppendFormatted(int v) => _w.Append(v);
        public void AppendFormatted(uint v) => _w.Append(v);
        public void AppendFormatted(long v) => _w.Append(v);
        public void AppendFormatted(ulong v) => _w.Append(v);
        public void AppendFormatted<T>(T v)
        {
            string? s = v is IFormattable f ? f.ToString(null, null) : v?.ToString();
            if (s != null) _w.Append(s);
        }
    }

    /// <summary>A small set of uints enumerated in ascending order (the inline array lengths; a handful per plan).</summary>
    internal sealed class SortedUInts
    {
        private uint[] _items = new uint[8];
        public int Count { get; private set; }

        public void Add(uint v)
        {
            int lo = 0, hi = Count;
            while (lo < hi) { int mid = (lo + hi) >> 1; if (_items[mid] < v) lo = mid + 1; else hi = mid; }
            if (lo < Count && _items[lo] == v) return;
            if (Count == _items.Length) { var bigger = new uint[Count * 2]; Array.Copy(_items, bigger, Count); _items = bigger; }
            Array.Copy(_items, lo, _items, lo + 1, Count - lo);
            _items[lo] = v;
            Count++;
        }

        public uint this[int i] => _items[i];
    }

    /// <summary>Minimal indented writer (four spaces, \n line ends, so output is identical on every OS).</summary>
    internal sealed class CodeWriter
    {
        private readonly StringBuilder _sb;
        private readonly int _base;
        private readonly bool _dropBlankLines;
        private int _indent;

        public CodeWriter() : this(new StringBuilder(), 0, false) { }

        /// <summary>
        /// Appends to <paramref name="sb"/>, every line <paramref name="baseIndent"/> levels deeper; with
        /// <paramref name="dropBlankLines"/>, empty lines are left out and a line's embedded line breaks start lines at the
        /// base indent (a type's body inside its namespace and container blocks).
        /// </summary>
        public CodeWriter(StringBuilder sb, int baseIndent, bool dropBlankLines)
        {
            _sb = sb;
            _base = baseIndent;
            _dropBlankLines = dropBlankLines;
        }

        public void Indent() => _indent++;
        public void Dedent() => _indent--;
        public void Open() { Line("{"); _indent++; }
        public void Close() { _indent--; Line("}"); }

        /// <summary>A line written piece by piece straight into the buffer by <see cref="LineHandler"/>: <c>w.Line($"…")</c>.</summary>
        public void Line([System.Runtime.CompilerServices.InterpolatedStringHandlerArgument("")] ref LineHandler line)
        {
            if (_sb.Length == _lineText)
            {
                _sb.Length = _lineStart; // an empty line: no indent
                if (!_dropBlankLines) _sb.Append('\n');
            }
            else if (_lineHasBreak)
            {
                var text = _sb.ToString(_lineText, _sb.Length - _lineText);
                _sb.Length = _lineStart;
                LineWithBreaks(text);
            }
            else _sb.Append('\n');
        }

        private int _lineStart, _lineText;
        private bool _lineHasBreak;

        internal void BeginLine()
        {
            _lineStart = _sb.Length;
            _sb.Append(Spaces(_base + _indent));
            _lineText = _sb.Length;
            _lineHasBreak = false;
        }

        internal void Append(string s)
        {
            if (_dropBlankLines && s.IndexOf('\n') >= 0) _lineHasBreak = true;
            _sb.Append(s);
        }

        internal void Append(int v) => _sb.Append(v);
        internal void Append(uint v) => _sb.Append(v);
        internal void Append(long v) => _sb.Append(v);
        internal void Append(ulong v) => _sb.Append(v);

        public void Line(string s)
        {
            if (_dropBlankLines)
            {
                if (s.Length == 0) return;
                if (s.IndexOf('\n') >= 0) { LineWithBreaks(s); return; }
            }
            if (s.Length > 0) _sb.Append(Spaces(_base + _indent)).Append(s);
            _sb.Append('\n');
        }

        private const string SpaceRun = "                                                                ";
        private static readonly string[] s_indents = new string[SpaceRun.Length / 4 + 1];

        /// <summary>The indentation for <paramref name="level"/>, cached (appending a string is cheaper than repeating a char).</summary>
        internal static string Spaces(int level)
        {
            if (level >= s_indents.Length) return new string(' ', level * 4);
            return s_indents[level] ??= SpaceRun.Substring(0, level * 4);
        }

        private void LineWithBreaks(string s)
        {
            var parts = s.Split('\n');
            for (int i = 0; i < parts.Length; i++)
            {
                int indent = i == 0 ? _base + _indent : _base;
                if (i == 0 && _indent == 0 && parts[0].Length == 0) continue;
                if (i > 0 && parts[i].Length == 0) continue;
                _sb.Append(Spaces(indent)).Append(parts[i]).Append('\n');
            }
        }

        public override string ToString() => _sb.ToString();
    }
}
