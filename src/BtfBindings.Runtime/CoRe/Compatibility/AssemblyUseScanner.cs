using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace BtfBindings.Compatibility
{
    /// <summary>What <see cref="AssemblyUseScanner.Scan"/> found in an assembly.</summary>
    internal sealed class AssemblyUseScan
    {
        internal AssemblyUseScan(string path, IReadOnlyList<(CompatUse use, CompatUseSite site)> uses, IReadOnlyList<string> sources, int generatedTypes, bool hasPdb)
        {
            Path = path; Uses = uses; SourceFiles = sources; GeneratedTypes = generatedTypes; HasPdb = hasPdb;
        }

        /// <summary>The assembly.</summary>
        public string Path { get; }
        /// <summary>Every use, one per instruction that makes it, in method and IL order.</summary>
        public IReadOnlyList<(CompatUse use, CompatUseSite site)> Uses { get; }
        /// <summary>The build-time BTF files (as the generated layouts name them) the generated types come from, sorted.</summary>
        public IReadOnlyList<string> SourceFiles { get; }
        /// <summary>How many generated struct/union types the assembly holds.</summary>
        public int GeneratedTypes { get; }
        /// <summary>True when a portable PDB (beside it or embedded) gave source lines.</summary>
        public bool HasPdb { get; }

        /// <summary>The uses with their sites, one entry per distinct use (what a check takes).</summary>
        public IReadOnlyList<(CompatUse use, IReadOnlyList<CompatUseSite> sites)> Grouped()
            => Uses.GroupBy(u => u.use).Select(g => (g.Key, (IReadOnlyList<CompatUseSite>)g.Select(x => x.site).ToArray())).ToArray();
    }

    /// <summary>
    /// Lists the generated members a compiled assembly's own code reads or writes, from its IL (System.Reflection.Metadata,
    /// nothing loaded or run): <c>ldfld</c>/<c>ldflda</c>/<c>stfld</c> of a generated struct's fields and calls of the
    /// <c>get_</c>/<c>set_</c> accessors of its bitfield properties (plain access), calls of the accessors of its
    /// <c>View</c> (view access), and enumerators of generated enums passed as constants to
    /// <c>TargetKernel.ValueOf</c>/<c>TryValueOf</c>/<c>EnumValueExists</c>. An access chain in one expression
    /// (<c>t.se.vruntime</c>, <c>view.se.vruntime</c>) is one use with the nested path (<c>task_struct.se.vruntime</c>);
    /// members of anonymous types are named through the member that holds them. Code inside generated types is not the
    /// user's and is skipped. The source line comes from a portable PDB when there is one. Self-contained and netstandard2.0-
    /// compatible, so the build task can link this file.
    /// </summary>
    internal static class AssemblyUseScanner
    {
        private const string RuntimeNamespace = "BtfBindings";

        // A generated struct/union: kernel name ("" for anonymous), field names, source BTF.
        private sealed class Gen
        {
            public string KernelName = "";
            public HashSet<string>? Fields; // null when the layout could not be read: every member counts
            public string? Source;
            public (TypeDefinitionHandle parent, string field)? AnonymousIn;
        }

        /// <summary>Scans the assembly at <paramref name="path"/>.</summary>
        /// <exception cref="BadImageFormatException">It is not a .NET assembly (the message names the file).</exception>
        public static AssemblyUseScan Scan(string path)
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            MetadataReader md;
            try
            {
                if (!pe.HasMetadata) throw new BadImageFormatException($"{path} is not a .NET assembly (no metadata)", path);
                md = pe.GetMetadataReader();
            }
            catch (BadImageFormatException e) when (e.FileName != path) { throw new BadImageFormatException($"{path} is not a .NET assembly: {e.Message}", path, e); }
            MetadataReaderProvider? pdbProvider = null;
            try
            {
                try
                {
                    pe.TryOpenAssociatedPortablePdb(System.IO.Path.GetFullPath(path), p => File.Exists(p) ? File.OpenRead(p) : null, out pdbProvider, out _);
                }
                catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException) { pdbProvider = null; } // a bad PDB only costs the lines
                var pdb = pdbProvider?.GetMetadataReader();
                var scanner = new Scanner(pe, md, pdb);
                var uses = scanner.Run();
                var sources = scanner.Generated.Values.Select(g => g.Source).Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
                return new AssemblyUseScan(path, uses, sources, scanner.Generated.Count, pdb != null);
            }
            finally { pdbProvider?.Dispose(); }
        }

        private sealed class Scanner
        {
            private readonly PEReader _pe;
            private readonly MetadataReader _md;
            private readonly MetadataReader? _pdb;
            public readonly Dictionary<TypeDefinitionHandle, Gen> Generated = new Dictionary<TypeDefinitionHandle, Gen>();
            private readonly Dictionary<TypeDefinitionHandle, TypeDefinitionHandle> _views = new Dictionary<TypeDefinitionHandle, TypeDefinitionHandle>(); // View -> its type
            private readonly Dictionary<TypeDefinitionHandle, string> _enums = new Dictionary<TypeDefinitionHandle, string>(); // generated enum -> kernel name
            private readonly SignatureTypes _types = new SignatureTypes();

            public Scanner(PEReader pe, MetadataReader md, MetadataReader? pdb)
            {
                _pe = pe; _md = md; _pdb = pdb;
                FindGenerated();
            }

            private bool IsRuntimeType(EntityHandle h, string name)
            {
                if (h.Kind == HandleKind.TypeReference)
                {
                    var r = _md.GetTypeReference((TypeReferenceHandle)h);
                    return _md.StringComparer.Equals(r.Name, name) && _md.StringComparer.Equals(r.Namespace, RuntimeNamespace);
                }
                if (h.Kind == HandleKind.TypeDefinition)
                {
                    var d = _md.GetTypeDefinition((TypeDefinitionHandle)h);
                    return _md.StringComparer.Equals(d.Name, name) && _md.StringComparer.Equals(d.Namespace, RuntimeNamespace);
                }
                return false;
            }

            private void FindGenerated()
            {
                foreach (var th in _md.TypeDefinitions)
                {
                    var td = _md.GetTypeDefinition(th);
                    foreach (var ih in td.GetInterfaceImplementations())
                    {
                        if (!IsRuntimeType(_md.GetInterfaceImplementation(ih).Interface, "IBtfType")) continue;
                        var g = new Gen { KernelName = _md.GetString(td.Name) };
                        ReadLayout(td, g);
                        Generated[th] = g;
                        foreach (var nh in td.GetNestedTypes())
                            if (_md.GetString(_md.GetTypeDefinition(nh).Name) == "View") _views[nh] = th;
                        break;
                    }
                    // Generated enums sit beside a BtfEnumLayouts class with a Create_<name> method per enum.
                    if (_md.GetString(td.Name) == "BtfEnumLayouts" && td.GetDeclaringType() is var outer && !outer.IsNil)
                    {
                        var creates = new HashSet<string>(td.GetMethods().Select(m => _md.GetString(_md.GetMethodDefinition(m).Name)).Where(n => n.StartsWith("Create_", StringComparison.Ordinal)).Select(n => n.Substring(7)));
                        foreach (var nh in _md.GetTypeDefinition(outer).GetNestedTypes())
                        {
                            var nt = _md.GetTypeDefinition(nh);
                            string n = _md.GetString(nt.Name);
                            if (creates.Contains(n) && IsEnum(nt)) _enums[nh] = n;
                        }
                    }
                }
                // Anonymous types are named through the (single) generated field of that type.
                foreach (var kv in Generated)
                    foreach (var fh in _md.GetTypeDefinition(kv.Key).GetFields())
                    {
                        var f = _md.GetFieldDefinition(fh);
                        var t = f.DecodeSignature(_types, null);
                        if (!t.IsNil && t != kv.Key && Generated.TryGetValue(t, out var inner) && inner.KernelName.Length == 0 && inner.AnonymousIn == null)
                            inner.AnonymousIn = (kv.Key, _md.GetString(f.Name));
                    }
            }

            private bool IsEnum(TypeDefinition t)
                => !t.BaseType.IsNil && t.BaseType.Kind == HandleKind.TypeReference && _md.StringComparer.Equals(_md.GetTypeReference((TypeReferenceHandle)t.BaseType).Name, "Enum")
                   && _md.StringComparer.Equals(_md.GetTypeReference((TypeReferenceHandle)t.BaseType).Namespace, "System");

            // The static constructor passes the encoded layout to BtfTypeLayout.Decode: its first ldstr.
            private void ReadLayout(TypeDefinition td, Gen g)
            {
                foreach (var mh in td.GetMethods())
                {
                    var m = _md.GetMethodDefinition(mh);
                    if (_md.GetString(m.Name) != ".cctor" || m.RelativeVirtualAddress == 0) continue;
                    foreach (var ins in Il.Decode(_pe.GetMethodBody(m.RelativeVirtualAddress).GetILBytes()))
                    {
                        if (ins.Op != 0x72) continue; // ldstr
                        var s = _md.GetUserString(MetadataTokens.UserStringHandle(ins.Operand));
                        if (TryParseLayout(s, g)) return;
                    }
                }
            }

            // BtfTypeLayout.Decode's format: name, kind, size, source, pointer size, by-typedef, count, then 11 values per field.
            private static bool TryParseLayout(string s, Gen g)
            {
                var v = s.Split('\0');
                if (v.Length < 7 || !int.TryParse(v[6], out int n) || n < 0 || v.Length != 7 + 11 * n) return false;
                g.KernelName = v[0];
                g.Source = v[3];
                g.Fields = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < n; i++) g.Fields.Add(v[7 + 11 * i]);
                return true;
            }

            // One member access of a generated type, before chaining.
            private struct Access
            {
                public TypeDefinitionHandle Owner; // the generated type whose member it is
                public string Member;
                public CompatAccess Kind;
                public TypeDefinitionHandle Result; // the generated type the access yields (for a chain), or nil
            }

            public List<(CompatUse, CompatUseSite)> Run()
            {
                var uses = new List<(CompatUse, CompatUseSite)>();
                foreach (var th in _md.TypeDefinitions)
                {
                    if (IsGeneratedCode(th)) continue;
                    var td = _md.GetTypeDefinition(th);
                    string typeName = FullName(th);
                    foreach (var mh in td.GetMethods())
                    {
                        var m = _md.GetMethodDefinition(mh);
                        if (m.RelativeVirtualAddress == 0) continue;
                        ScanMethod(mh, typeName + "." + _md.GetString(m.Name), _pe.GetMethodBody(m.RelativeVirtualAddress).GetILBytes(), uses);
                    }
                }
                return uses;
            }

            private bool IsGeneratedCode(TypeDefinitionHandle th)
            {
                for (var t = th; !t.IsNil; t = _md.GetTypeDefinition(t).GetDeclaringType())
                    if (Generated.ContainsKey(t) || _md.GetString(_md.GetTypeDefinition(t).Name) == "BtfEnumLayouts") return true;
                return false;
            }

            private string FullName(TypeDefinitionHandle th)
            {
                var td = _md.GetTypeDefinition(th);
                var outer = td.GetDeclaringType();
                string name = _md.GetString(td.Name);
                if (!outer.IsNil) return FullName(outer) + "." + name;
                string ns = _md.GetString(td.Namespace);
                return ns.Length == 0 ? name : ns + "." + name;
            }

            private void ScanMethod(MethodDefinitionHandle mh, string method, byte[]? il, List<(CompatUse, CompatUseSite)> uses)
            {
                if (il == null) return;
                var code = Il.Decode(il);
                SequencePointCollection? points = null;
                if (_pdb != null)
                {
                    try { points = _pdb.GetMethodDebugInformation(mh.ToDebugInformationHandle()).GetSequencePoints(); }
                    catch (BadImageFormatException) { points = null; }
                }
                // The chain so far: the path from its root, and where it can continue.
                string? root = null, path = null;
                Access last = default;
                int chainEnd = -1, chainStart = 0;
                void Flush()
                {
                    if (root == null) return;
                    var use = new CompatUse(CompatUseKind.Field, root, path, last.Kind);
                    uses.Add((use, Site(method, code[chainStart].Offset, points)));
                    root = null; path = null; chainEnd = -1;
                }
                for (int k = 0; k < code.Count; k++)
                {
                    var ins = code[k];
                    if (TryEnumValue(code, k, out var enumUse))
                    {
                        Flush();
                        uses.Add((enumUse!, Site(method, ins.Offset, points)));
                        continue;
                    }
                    if (!TryAccess(ins, out var a))
                    {
                        // A chain continues over the spill of a view into a temporary: stloc N; ldloca N.
                        if (root != null && k == chainEnd + 1 && k + 1 < code.Count && Il.StoresLocal(ins, out int slot) && Il.LoadsLocalAddress(code[k + 1], slot))
                        {
                            chainEnd = k + 1;
                            k++;
                            continue;
                        }
                        if (root != null && k > chainEnd) Flush();
                        continue;
                    }
                    bool continues = root != null && k == chainEnd + 1 && !last.Result.IsNil && last.Result == a.Owner && last.Kind == a.Kind;
                    if (!continues)
                    {
                        Flush();
                        if (!Root(a.Owner, a.Member, out root, out path)) { root = null; continue; }
                        chainStart = k;
                    }
                    else path += "." + a.Member;
                    last = a;
                    chainEnd = k;
                    if (a.Result.IsNil) Flush();
                }
                Flush();
            }

            // The rooted (named) type and path of member m of generated type t, through the fields holding anonymous types.
            private bool Root(TypeDefinitionHandle t, string member, out string? root, out string? path)
            {
                path = member;
                for (int depth = 0; depth < 32; depth++)
                {
                    var g = Generated[t];
                    if (g.KernelName.Length > 0) { root = g.KernelName; return true; }
                    if (g.AnonymousIn is not { } up) break;
                    path = up.field + "." + path;
                    t = up.parent;
                }
                root = null;
                return false;
            }

            private bool TryAccess(Il.Instruction ins, out Access a)
            {
                a = default;
                switch (ins.Op)
                {
                    case 0x7B: case 0x7C: case 0x7D: // ldfld, ldflda, stfld
                        {
                            var h = MetadataTokens.EntityHandle(ins.Operand);
                            if (h.Kind != HandleKind.FieldDefinition) return false;
                            var f = _md.GetFieldDefinition((FieldDefinitionHandle)h);
                            var owner = f.GetDeclaringType();
                            if (!Generated.TryGetValue(owner, out var g)) return false;
                            string name = _md.GetString(f.Name);
                            if (g.Fields != null && !g.Fields.Contains(name)) return false;
                            a.Owner = owner; a.Member = name; a.Kind = CompatAccess.Plain;
                            if (ins.Op != 0x7D) { var t = f.DecodeSignature(_types, null); if (Generated.ContainsKey(t)) a.Result = t; }
                            return true;
                        }
                    case 0x28: case 0x6F: // call, callvirt
                        {
                            var h = MetadataTokens.EntityHandle(ins.Operand);
                            if (h.Kind != HandleKind.MethodDefinition) return false;
                            var m = _md.GetMethodDefinition((MethodDefinitionHandle)h);
                            string mname = _md.GetString(m.Name);
                            bool getter = mname.StartsWith("get_", StringComparison.Ordinal);
                            if (!getter && !mname.StartsWith("set_", StringComparison.Ordinal)) return false;
                            string name = mname.Substring(4);
                            var declaring = m.GetDeclaringType();
                            TypeDefinitionHandle owner;
                            if (_views.TryGetValue(declaring, out var viewOf)) { owner = viewOf; a.Kind = CompatAccess.View; }
                            else if (Generated.ContainsKey(declaring)) { owner = declaring; a.Kind = CompatAccess.Plain; }
                            else return false;
                            var g = Generated[owner];
                            if (g.Fields != null ? !g.Fields.Contains(name) : name.StartsWith("Has_", StringComparison.Ordinal)) return false;
                            a.Owner = owner; a.Member = name;
                            if (getter && a.Kind == CompatAccess.View)
                            {
                                var ret = m.DecodeSignature(_types, null).ReturnType;
                                if (_views.TryGetValue(ret, out var inner)) a.Result = inner;
                            }
                            return true;
                        }
                    default:
                        return false;
                }
            }

            // kernel.ValueOf(E.X) / EnumValueExists(E.X) / TryValueOf(E.X, out v): the constant before the call (or before the out argument).
            private bool TryEnumValue(List<Il.Instruction> code, int k, out CompatUse? use)
            {
                use = null;
                var ins = code[k];
                if (ins.Op != 0x28 && ins.Op != 0x6F) return false;
                var h = MetadataTokens.EntityHandle(ins.Operand);
                if (h.Kind != HandleKind.MethodSpecification) return false;
                var spec = _md.GetMethodSpecification((MethodSpecificationHandle)h);
                if (spec.Method.Kind != HandleKind.MemberReference) return false;
                var mr = _md.GetMemberReference((MemberReferenceHandle)spec.Method);
                if (!IsRuntimeType(mr.Parent, "TargetKernel")) return false;
                string name = _md.GetString(mr.Name);
                int back = name switch { "ValueOf" => 1, "EnumValueExists" => 1, "TryValueOf" => 2, _ => 0 };
                if (back == 0 || k - back < 0) return false;
                var args = spec.DecodeSignature(_types, null);
                if (args.Length != 1 || !_enums.TryGetValue(args[0], out var enumName)) return false;
                if (!Il.TryConstant(code[k - back], out long value)) return false;
                string? enumerator = EnumeratorOf(args[0], value);
                if (enumerator == null) return false;
                use = new CompatUse(CompatUseKind.EnumValue, enumName, enumerator, CompatAccess.View);
                return true;
            }

            private string? EnumeratorOf(TypeDefinitionHandle e, long value)
            {
                foreach (var fh in _md.GetTypeDefinition(e).GetFields())
                {
                    var f = _md.GetFieldDefinition(fh);
                    var ch = f.GetDefaultValue();
                    if (ch.IsNil) continue;
                    var c = _md.GetConstant(ch);
                    var r = _md.GetBlobReader(c.Value);
                    long v = c.TypeCode switch
                    {
                        ConstantTypeCode.SByte => r.ReadSByte(),
                        ConstantTypeCode.Byte => r.ReadByte(),
                        ConstantTypeCode.Int16 => r.ReadInt16(),
                        ConstantTypeCode.UInt16 => r.ReadUInt16(),
                        ConstantTypeCode.Int32 => r.ReadInt32(),
                        ConstantTypeCode.UInt32 => unchecked((int)r.ReadUInt32()), // ldc.i4 pushes the bits
                        ConstantTypeCode.Int64 => r.ReadInt64(),
                        ConstantTypeCode.UInt64 => unchecked((long)r.ReadUInt64()),
                        _ => long.MinValue,
                    };
                    if (v == value) return _md.GetString(f.Name); // the first enumerator with the value (aliases share it)
                }
                return null;
            }

            private CompatUseSite Site(string method, int offset, SequencePointCollection? points)
            {
                if (points is SequencePointCollection sps && _pdb != null)
                {
                    SequencePoint? best = null;
                    foreach (var sp in sps)
                    {
                        if (sp.IsHidden || sp.Offset > offset) continue;
                        if (best == null || sp.Offset >= best.Value.Offset) best = sp;
                    }
                    if (best is SequencePoint b)
                        return new CompatUseSite(method, offset, _pdb.GetString(_pdb.GetDocument(b.Document).Name), b.StartLine);
                }
                return new CompatUseSite(method, offset);
            }
        }

        // Types in signatures, as far as the scanner cares: the TypeDefinition of this assembly, else nil.
        private sealed class SignatureTypes : ISignatureTypeProvider<TypeDefinitionHandle, object?>
        {
            public TypeDefinitionHandle GetArrayType(TypeDefinitionHandle elementType, ArrayShape shape) => default;
            public TypeDefinitionHandle GetByReferenceType(TypeDefinitionHandle elementType) => elementType;
            public TypeDefinitionHandle GetFunctionPointerType(MethodSignature<TypeDefinitionHandle> signature) => default;
            public TypeDefinitionHandle GetGenericInstantiation(TypeDefinitionHandle genericType, ImmutableArray<TypeDefinitionHandle> typeArguments) => default;
            public TypeDefinitionHandle GetGenericMethodParameter(object? genericContext, int index) => default;
            public TypeDefinitionHandle GetGenericTypeParameter(object? genericContext, int index) => default;
            public TypeDefinitionHandle GetModifiedType(TypeDefinitionHandle modifier, TypeDefinitionHandle unmodifiedType, bool isRequired) => unmodifiedType;
            public TypeDefinitionHandle GetPinnedType(TypeDefinitionHandle elementType) => elementType;
            public TypeDefinitionHandle GetPointerType(TypeDefinitionHandle elementType) => default;
            public TypeDefinitionHandle GetPrimitiveType(PrimitiveTypeCode typeCode) => default;
            public TypeDefinitionHandle GetSZArrayType(TypeDefinitionHandle elementType) => default;
            public TypeDefinitionHandle GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => handle;
            public TypeDefinitionHandle GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => default;
            public TypeDefinitionHandle GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => default;
        }

        /// <summary>A minimal IL decoder: opcode, operand (token, local slot or constant) and offset of each instruction.</summary>
        internal static class Il
        {
            public readonly struct Instruction
            {
                public Instruction(int offset, int op, long operand) { Offset = offset; Op = op; Operand = (int)operand; Wide = operand; }
                public int Offset { get; }
                /// <summary>The opcode: one byte, or 0xFE00 | second byte.</summary>
                public int Op { get; }
                /// <summary>Token, slot, branch target or 32-bit constant.</summary>
                public int Operand { get; }
                /// <summary>The operand of ldc.i8.</summary>
                public long Wide { get; }
            }

            public static List<Instruction> Decode(byte[]? il)
            {
                var list = new List<Instruction>();
                if (il == null) return list;
                int i = 0;
                while (i < il.Length)
                {
                    int start = i;
                    int op = il[i++];
                    if (op == 0xFE)
                    {
                        if (i >= il.Length) break;
                        op = 0xFE00 | il[i++];
                    }
                    int size = OperandSize(op, il, i);
                    if (size < 0 || i + size > il.Length) break; // malformed: stop rather than misread
                    long operand = size switch
                    {
                        1 => op == 0x1F ? (sbyte)il[i] : il[i],
                        2 => BitConverter.ToUInt16(il, i),
                        4 => BitConverter.ToInt32(il, i),
                        8 => BitConverter.ToInt64(il, i),
                        _ => 0,
                    };
                    list.Add(new Instruction(start, op, operand));
                    i += size;
                }
                return list;
            }

            private static int OperandSize(int op, byte[] il, int at)
            {
                switch (op)
                {
                    case 0x0E: case 0x0F: case 0x10: case 0x11: case 0x12: case 0x13: case 0x1F: case 0xDE: return 1;
                    case 0x20: case 0x22: case 0x27: case 0x28: case 0x29: case 0x6F: case 0x70: case 0x71: case 0x72: case 0x73:
                    case 0x74: case 0x75: case 0x79: case 0x7B: case 0x7C: case 0x7D: case 0x7E: case 0x7F: case 0x80: case 0x81:
                    case 0x8C: case 0x8D: case 0x8F: case 0xA3: case 0xA4: case 0xA5: case 0xC2: case 0xC6: case 0xD0: case 0xDD:
                        return 4;
                    case 0x21: case 0x23: return 8;
                    case 0x45:
                        if (at + 4 > il.Length) return -1;
                        long n = BitConverter.ToUInt32(il, at);
                        return n > (il.Length - at) / 4 ? -1 : 4 + (int)n * 4;
                    case 0xFE06: case 0xFE07: case 0xFE15: case 0xFE16: case 0xFE1C: return 4;
                    case 0xFE09: case 0xFE0A: case 0xFE0B: case 0xFE0C: case 0xFE0D: case 0xFE0E: return 2;
                    case 0xFE12: case 0xFE19: return 1;
                    default:
                        if (op >= 0x2B && op <= 0x37) return 1; // short branches
                        if (op >= 0x38 && op <= 0x44) return 4; // long branches
                        return 0;
                }
            }

            public static bool StoresLocal(Instruction ins, out int slot)
            {
                slot = ins.Op switch { 0x0A => 0, 0x0B => 1, 0x0C => 2, 0x0D => 3, 0x13 => ins.Operand, 0xFE0E => ins.Operand, _ => -1 };
                return slot >= 0;
            }

            public static bool LoadsLocalAddress(Instruction ins, int slot) => (ins.Op == 0x12 || ins.Op == 0xFE0D) && ins.Operand == slot;

            public static bool TryConstant(Instruction ins, out long value)
            {
                switch (ins.Op)
                {
                    case >= 0x15 and <= 0x1E: value = ins.Op - 0x16; return true; // ldc.i4.m1 .. ldc.i4.8
                    case 0x1F: case 0x20: value = ins.Operand; return true;
                    case 0x21: value = ins.Wide; return true;
                    default: value = 0; return false;
                }
            }
        }
    }
}
