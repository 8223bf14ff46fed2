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
        internal AssemblyUseScan(string path, IReadOnlyList<(CompatUse use, CompatUseSite site)> uses, IReadOnlyList<string> sources, int generatedTypes, bool hasPdb,
            IReadOnlyDictionary<CompatUse, string>? sourceOf = null)
        {
            Path = path; Uses = uses; SourceFiles = sources; GeneratedTypes = generatedTypes; HasPdb = hasPdb;
            SourceOf = sourceOf ?? new Dictionary<CompatUse, string>();
        }

        /// <summary>The BTF file (as its generated layout names it) each struct/union use's root type was generated from; enumerator uses have none.</summary>
        public IReadOnlyDictionary<CompatUse, string> SourceOf { get; }

        /// <summary>
        /// The uses to check against kernels with <paramref name="buildTime"/> (read from <paramref name="buildPath"/>) as the
        /// build-time BTF. An assembly may hold types generated from several BTF files (the kernel's, and a BPF object's own
        /// types, which no kernel has): when <paramref name="buildPath"/>'s name matches a source (container suffixes
        /// ignored), uses of types from the other sources are left out; any use whose type <paramref name="buildTime"/>
        /// lacks is left out too. <paramref name="skipped"/> says which and why.
        /// </summary>
        public IReadOnlyList<(CompatUse use, IReadOnlyList<CompatUseSite> sites)> ForBuildBtf(Btf buildTime, string buildPath, out IReadOnlyList<(CompatUse use, string reason)> skipped)
        {
            string stem = KernelTargetInfo.ReleaseFromFileName(System.IO.Path.GetFileName(buildPath));
            var matching = new HashSet<string>(SourceFiles.Where(s => KernelTargetInfo.ReleaseFromFileName(s) == stem), StringComparer.Ordinal);
            var kept = new List<(CompatUse, IReadOnlyList<CompatUseSite>)>();
            var left = new List<(CompatUse, string)>();
            foreach (var (use, sites) in Grouped())
            {
                SourceOf.TryGetValue(use, out var src);
                if (matching.Count > 0 && src != null && !matching.Contains(src)) left.Add((use, "generated from " + src));
                else if (!HasType(buildTime, use.TypeName)) left.Add((use, $"{buildTime.SourceName} has no type {use.TypeName}"));
                else kept.Add((use, sites));
            }
            skipped = left;
            return kept;
        }

        private static bool HasType(Btf btf, string name)
        {
            foreach (var t in btf.FindTypes(name))
                if (t.Kind is BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Typedef) return true;
            return false;
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
            public (string parent, string field)? AnonymousIn;
        }

        /// <summary>
        /// Scans the assembly at <paramref name="path"/>. Generated types may be in it or in an assembly it references that
        /// sits beside it (the opt-in <c>BtfTypesAssembly</c>, <c>App.BtfTypes.dll</c>): such references are read too.
        /// </summary>
        /// <exception cref="BadImageFormatException">It is not a .NET assembly (the message names the file).</exception>
        public static AssemblyUseScan Scan(string path)
        {
            using var main = Module.Open(path, required: true)!;
            var catalog = new Catalog();
            catalog.Add(main);
            var extra = new List<Module>();
            try
            {
                string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
                foreach (var ah in main.Md.AssemblyReferences)
                {
                    string name = main.Md.GetString(main.Md.GetAssemblyReference(ah).Name);
                    var m = Module.Open(System.IO.Path.Combine(dir, name + ".dll"), required: false);
                    if (m == null) continue;
                    extra.Add(m);
                    catalog.Add(m);
                }
                MetadataReaderProvider? pdbProvider = null;
                try
                {
                    try { main.Pe.TryOpenAssociatedPortablePdb(System.IO.Path.GetFullPath(path), p => File.Exists(p) ? File.OpenRead(p) : null, out pdbProvider, out _); }
                    catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException) { pdbProvider = null; } // a bad PDB only costs the lines
                    var pdb = pdbProvider?.GetMetadataReader();
                    var scanner = new Scanner(main, catalog, pdb);
                    var uses = scanner.Run();
                    var sources = catalog.Generated.Values.Select(g => g.Source).Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
                    return new AssemblyUseScan(path, uses, sources, catalog.Generated.Count, pdb != null, scanner.SourceOf);
                }
                finally { pdbProvider?.Dispose(); }
            }
            finally { foreach (var m in extra) m.Dispose(); }
        }

        // One assembly file: its PE reader, metadata and name (the prefix of its type keys).
        private sealed class Module : IDisposable
        {
            public PEReader Pe = null!;
            public MetadataReader Md = null!;
            public string Name = "";
            private Stream? _stream;

            public static Module? Open(string path, bool required)
            {
                if (!required && !File.Exists(path)) return null;
                var stream = File.OpenRead(path);
                var pe = new PEReader(stream);
                try
                {
                    if (!pe.HasMetadata) throw new BadImageFormatException($"{path} is not a .NET assembly (no metadata)", path);
                    var md = pe.GetMetadataReader();
                    string name = md.IsAssembly ? md.GetString(md.GetAssemblyDefinition().Name) : System.IO.Path.GetFileNameWithoutExtension(path);
                    return new Module { Pe = pe, Md = md, Name = name, _stream = stream };
                }
                catch (BadImageFormatException e)
                {
                    pe.Dispose(); stream.Dispose();
                    if (!required) return null; // a native library or junk beside the app is not ours to judge
                    if (e.FileName == path) throw;
                    throw new BadImageFormatException($"{path} is not a .NET assembly: {e.Message}", path, e);
                }
            }

            public void Dispose() { Pe.Dispose(); _stream?.Dispose(); }

            /// <summary>"Assembly!Namespace.Outer/Inner": a type's identity across assemblies.</summary>
            public string KeyOf(TypeDefinitionHandle h)
            {
                var td = Md.GetTypeDefinition(h);
                var outer = td.GetDeclaringType();
                if (!outer.IsNil) return KeyOf(outer) + "/" + Md.GetString(td.Name);
                string ns = Md.GetString(td.Namespace);
                return Name + "!" + (ns.Length == 0 ? "" : ns + ".") + Md.GetString(td.Name);
            }

            public string? KeyOf(TypeReferenceHandle h)
            {
                var tr = Md.GetTypeReference(h);
                var scope = tr.ResolutionScope;
                string name = Md.GetString(tr.Name);
                switch (scope.Kind)
                {
                    case HandleKind.TypeReference:
                        var outer = KeyOf((TypeReferenceHandle)scope);
                        return outer == null ? null : outer + "/" + name;
                    case HandleKind.AssemblyReference:
                        string ns = Md.GetString(tr.Namespace);
                        return Md.GetString(Md.GetAssemblyReference((AssemblyReferenceHandle)scope).Name) + "!" + (ns.Length == 0 ? "" : ns + ".") + name;
                    case HandleKind.ModuleDefinition:
                        string ns2 = Md.GetString(tr.Namespace);
                        return Name + "!" + (ns2.Length == 0 ? "" : ns2 + ".") + name;
                    default:
                        return null;
                }
            }

            public string? KeyOf(EntityHandle h) => h.Kind switch
            {
                HandleKind.TypeDefinition => KeyOf((TypeDefinitionHandle)h),
                HandleKind.TypeReference => KeyOf((TypeReferenceHandle)h),
                _ => null,
            };

            public bool IsRuntimeType(EntityHandle h, string name)
            {
                if (h.Kind == HandleKind.TypeReference)
                {
                    var r = Md.GetTypeReference((TypeReferenceHandle)h);
                    return Md.StringComparer.Equals(r.Name, name) && Md.StringComparer.Equals(r.Namespace, RuntimeNamespace);
                }
                if (h.Kind == HandleKind.TypeDefinition)
                {
                    var d = Md.GetTypeDefinition((TypeDefinitionHandle)h);
                    return Md.StringComparer.Equals(d.Name, name) && Md.StringComparer.Equals(d.Namespace, RuntimeNamespace);
                }
                return false;
            }
        }

        // A generated enum: kernel name and its enumerators' constants (first name per value, as declared).
        private sealed class GenEnum
        {
            public string Name = "";
            public List<(long value, string name)> Values = new List<(long, string)>();
        }

        // The generated types of every module read, by key.
        private sealed class Catalog
        {
            public readonly Dictionary<string, Gen> Generated = new Dictionary<string, Gen>(StringComparer.Ordinal);
            public readonly Dictionary<string, string> Views = new Dictionary<string, string>(StringComparer.Ordinal); // View key -> its type's key
            public readonly Dictionary<string, GenEnum> Enums = new Dictionary<string, GenEnum>(StringComparer.Ordinal);

            public void Add(Module m)
            {
                var md = m.Md;
                var found = new List<(TypeDefinitionHandle, string)>();
                foreach (var th in md.TypeDefinitions)
                {
                    var td = md.GetTypeDefinition(th);
                    foreach (var ih in td.GetInterfaceImplementations())
                    {
                        if (!m.IsRuntimeType(md.GetInterfaceImplementation(ih).Interface, "IBtfType")) continue;
                        var g = new Gen { KernelName = md.GetString(td.Name) };
                        ReadLayout(m, td, g);
                        string key = m.KeyOf(th);
                        Generated[key] = g;
                        found.Add((th, key));
                        foreach (var nh in td.GetNestedTypes())
                            if (md.GetString(md.GetTypeDefinition(nh).Name) == "View") Views[m.KeyOf(nh)] = key;
                        break;
                    }
                    // Generated enums sit beside a BtfEnumLayouts class with a Create_<name> method per enum.
                    if (md.GetString(td.Name) == "BtfEnumLayouts" && td.GetDeclaringType() is var outer && !outer.IsNil)
                    {
                        var creates = new HashSet<string>(td.GetMethods().Select(x => md.GetString(md.GetMethodDefinition(x).Name)).Where(n => n.StartsWith("Create_", StringComparison.Ordinal)).Select(n => n.Substring(7)));
                        foreach (var nh in md.GetTypeDefinition(outer).GetNestedTypes())
                        {
                            var nt = md.GetTypeDefinition(nh);
                            string n = md.GetString(nt.Name);
                            if (creates.Contains(n) && IsEnum(md, nt)) Enums[m.KeyOf(nh)] = ReadEnum(md, nt, n);
                        }
                    }
                }
                // Anonymous types are named through the (single) generated field of that type.
                var types = new SignatureTypes(m);
                foreach (var (th, key) in found)
                    foreach (var fh in md.GetTypeDefinition(th).GetFields())
                    {
                        var f = md.GetFieldDefinition(fh);
                        var t = f.DecodeSignature(types, null);
                        if (t != null && t != key && Generated.TryGetValue(t, out var inner) && inner.KernelName.Length == 0 && inner.AnonymousIn == null)
                            inner.AnonymousIn = (key, md.GetString(f.Name));
                    }
            }

            private static bool IsEnum(MetadataReader md, TypeDefinition t)
                => !t.BaseType.IsNil && t.BaseType.Kind == HandleKind.TypeReference && md.StringComparer.Equals(md.GetTypeReference((TypeReferenceHandle)t.BaseType).Name, "Enum")
                   && md.StringComparer.Equals(md.GetTypeReference((TypeReferenceHandle)t.BaseType).Namespace, "System");

            private static GenEnum ReadEnum(MetadataReader md, TypeDefinition t, string name)
            {
                var e = new GenEnum { Name = name };
                foreach (var fh in t.GetFields())
                {
                    var f = md.GetFieldDefinition(fh);
                    var ch = f.GetDefaultValue();
                    if (ch.IsNil) continue;
                    var c = md.GetConstant(ch);
                    var r = md.GetBlobReader(c.Value);
                    long? v = c.TypeCode switch
                    {
                        ConstantTypeCode.SByte => r.ReadSByte(),
                        ConstantTypeCode.Byte => r.ReadByte(),
                        ConstantTypeCode.Int16 => r.ReadInt16(),
                        ConstantTypeCode.UInt16 => r.ReadUInt16(),
                        ConstantTypeCode.Int32 => r.ReadInt32(),
                        ConstantTypeCode.UInt32 => unchecked((int)r.ReadUInt32()), // ldc.i4 pushes the bits
                        ConstantTypeCode.Int64 => r.ReadInt64(),
                        ConstantTypeCode.UInt64 => unchecked((long)r.ReadUInt64()),
                        _ => null,
                    };
                    if (v.HasValue) e.Values.Add((v.Value, md.GetString(f.Name)));
                }
                return e;
            }

            // The static constructor passes the encoded layout to BtfTypeLayout.Decode: its first ldstr that parses as one.
            private static void ReadLayout(Module m, TypeDefinition td, Gen g)
            {
                foreach (var mh in td.GetMethods())
                {
                    var md = m.Md.GetMethodDefinition(mh);
                    if (m.Md.GetString(md.Name) != ".cctor" || md.RelativeVirtualAddress == 0) continue;
                    foreach (var ins in Il.Decode(m.Pe.GetMethodBody(md.RelativeVirtualAddress).GetILBytes()))
                    {
                        if (ins.Op != 0x72) continue; // ldstr
                        if (TryParseLayout(m.Md.GetUserString(MetadataTokens.UserStringHandle(ins.Operand)), g)) return;
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
        }

        private sealed class Scanner
        {
            private readonly Module _m;
            private readonly MetadataReader _md;
            private readonly MetadataReader? _pdb;
            private readonly Catalog _c;
            public readonly Dictionary<CompatUse, string> SourceOf = new Dictionary<CompatUse, string>();
            private readonly SignatureTypes _types;

            public Scanner(Module main, Catalog catalog, MetadataReader? pdb)
            {
                _m = main; _md = main.Md; _c = catalog; _pdb = pdb;
                _types = new SignatureTypes(main);
            }

            // One member access of a generated type, before chaining.
            private struct Access
            {
                public string Owner; // the generated type whose member it is
                public string Member;
                public CompatAccess Kind;
                public string? Result; // the generated type the access yields (for a chain), or null
                public bool Guard; // a View's Has_x or Exists("x"): the check, not a use
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
                        ScanMethod(mh, typeName + "." + _md.GetString(m.Name), _m.Pe.GetMethodBody(m.RelativeVirtualAddress).GetILBytes(), uses);
                    }
                }
                return uses;
            }

            private bool IsGeneratedCode(TypeDefinitionHandle th)
            {
                for (var t = th; !t.IsNil; t = _md.GetTypeDefinition(t).GetDeclaringType())
                    if (_c.Generated.ContainsKey(_m.KeyOf(t)) || _md.GetString(_md.GetTypeDefinition(t).Name) == "BtfEnumLayouts") return true;
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
                string? root = null, path = null, source = null;
                Access last = default;
                int chainEnd = -1, chainStart = 0, first = uses.Count;
                var guards = new List<(string path, int offset)>();
                void Flush()
                {
                    if (root == null) return;
                    if (last.Guard)
                    {
                        guards.Add((root + "." + path, code[chainStart].Offset));
                        root = null; path = null; chainEnd = -1;
                        return;
                    }
                    var use = new CompatUse(CompatUseKind.Field, root, path, last.Kind);
                    uses.Add((use, Site(method, code[chainStart].Offset, points)));
                    if (source != null && !SourceOf.ContainsKey(use)) SourceOf[use] = source;
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
                    if (!TryAccess(code, k, out var a))
                    {
                        // A chain continues over the spill of a view into a temporary: stloc N; ldloca N.
                        if (root != null && k == chainEnd + 1 && k + 1 < code.Count && Il.StoresLocal(ins, out int slot) && Il.LoadsLocalAddress(code[k + 1], slot))
                        {
                            chainEnd = k + 1;
                            k++;
                            continue;
                        }
                        // ... and over the name an Exists("x") check passes.
                        if (root != null && k == chainEnd + 1 && ins.Op == 0x72 && k + 1 < code.Count && IsViewExists(code[k + 1]))
                        {
                            chainEnd = k;
                            continue;
                        }
                        if (root != null && k > chainEnd) Flush();
                        continue;
                    }
                    bool continues = root != null && k == chainEnd + 1 && last.Result != null && last.Result == a.Owner && last.Kind == a.Kind;
                    if (!continues)
                    {
                        Flush();
                        if (!Root(a.Owner, a.Member, out root, out path, out source)) { root = null; continue; }
                        chainStart = k;
                    }
                    else path += "." + a.Member;
                    last = a;
                    chainEnd = k;
                    if (a.Result == null) Flush();
                }
                Flush();
                // A view use after a check of the same member path in the same method counts as guarded (the guard's
                // control flow is not followed: the build's analyzer does that at the use site).
                for (int u = first; u < uses.Count; u++)
                {
                    var (use, site) = uses[u];
                    if (use.Access != CompatAccess.View || use.Kind != CompatUseKind.Field) continue;
                    foreach (var (g, offset) in guards)
                        if (offset < site.ILOffset && g == use.Text) { uses[u] = (use, site.AsGuarded()); break; }
                }
            }

            // A method or field token: its declaring type's key, name and (for methods) signature.
            private bool Member(int token, out string? owner, out string name, out EntityHandle handle)
            {
                handle = MetadataTokens.EntityHandle(token);
                owner = null; name = "";
                switch (handle.Kind)
                {
                    case HandleKind.FieldDefinition:
                        {
                            var f = _md.GetFieldDefinition((FieldDefinitionHandle)handle);
                            owner = _m.KeyOf(f.GetDeclaringType()); name = _md.GetString(f.Name);
                            return true;
                        }
                    case HandleKind.MethodDefinition:
                        {
                            var m = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                            owner = _m.KeyOf(m.GetDeclaringType()); name = _md.GetString(m.Name);
                            return true;
                        }
                    case HandleKind.MemberReference:
                        {
                            var r = _md.GetMemberReference((MemberReferenceHandle)handle);
                            owner = _m.KeyOf(r.Parent); name = _md.GetString(r.Name);
                            return owner != null;
                        }
                    default:
                        return false;
                }
            }

            private string? FieldType(EntityHandle h) => h.Kind switch
            {
                HandleKind.FieldDefinition => _md.GetFieldDefinition((FieldDefinitionHandle)h).DecodeSignature(_types, null),
                HandleKind.MemberReference => _md.GetMemberReference((MemberReferenceHandle)h).DecodeFieldSignature(_types, null),
                _ => null,
            };

            private string? ReturnType(EntityHandle h) => h.Kind switch
            {
                HandleKind.MethodDefinition => _md.GetMethodDefinition((MethodDefinitionHandle)h).DecodeSignature(_types, null).ReturnType,
                HandleKind.MemberReference => _md.GetMemberReference((MemberReferenceHandle)h).DecodeMethodSignature(_types, null).ReturnType,
                _ => null,
            };

            private bool IsViewExists(Il.Instruction ins)
                => (ins.Op == 0x28 || ins.Op == 0x6F) && Member(ins.Operand, out var owner, out var name, out _) && owner != null && _c.Views.ContainsKey(owner) && name == "Exists";

            // The rooted (named) type and path of member m of generated type t, through the fields holding anonymous types.
            private bool Root(string t, string member, out string? root, out string? path, out string? source)
            {
                path = member;
                source = null;
                for (int depth = 0; depth < 32; depth++)
                {
                    var g = _c.Generated[t];
                    if (g.KernelName.Length > 0) { root = g.KernelName; source = g.Source; return true; }
                    if (g.AnonymousIn is not { } up) break;
                    path = up.field + "." + path;
                    t = up.parent;
                }
                root = null;
                return false;
            }

            private bool TryAccess(List<Il.Instruction> code, int k, out Access a)
            {
                a = default;
                var ins = code[k];
                switch (ins.Op)
                {
                    case 0x7B: case 0x7C: case 0x7D: // ldfld, ldflda, stfld
                        {
                            if (!Member(ins.Operand, out var owner, out var name, out var h) || owner == null || !_c.Generated.TryGetValue(owner, out var g)) return false;
                            if (g.Fields != null && !g.Fields.Contains(name)) return false;
                            a.Owner = owner; a.Member = name; a.Kind = CompatAccess.Plain;
                            if (ins.Op != 0x7D && FieldType(h) is string t && _c.Generated.ContainsKey(t)) a.Result = t;
                            return true;
                        }
                    case 0x28: case 0x6F: // call, callvirt
                        {
                            if (!Member(ins.Operand, out var declaring, out var mname, out var h) || declaring == null) return false;
                            if (mname == "Exists" && k > 0 && code[k - 1].Op == 0x72 && _c.Views.TryGetValue(declaring, out var checkedView))
                            {
                                a.Owner = checkedView; a.Kind = CompatAccess.View; a.Guard = true;
                                a.Member = _md.GetUserString(MetadataTokens.UserStringHandle(code[k - 1].Operand));
                                return true;
                            }
                            bool getter = mname.StartsWith("get_", StringComparison.Ordinal);
                            if (!getter && !mname.StartsWith("set_", StringComparison.Ordinal)) return false;
                            string name = mname.Substring(4);
                            string owner;
                            if (_c.Views.TryGetValue(declaring, out var viewOf)) { owner = viewOf; a.Kind = CompatAccess.View; }
                            else if (_c.Generated.ContainsKey(declaring)) { owner = declaring; a.Kind = CompatAccess.Plain; }
                            else return false;
                            var g = _c.Generated[owner];
                            if (getter && a.Kind == CompatAccess.View && name.StartsWith("Has_", StringComparison.Ordinal) && (g.Fields == null || g.Fields.Contains(name.Substring(4))))
                            {
                                a.Owner = owner; a.Member = name.Substring(4); a.Guard = true;
                                return true;
                            }
                            if (g.Fields != null ? !g.Fields.Contains(name) : name.StartsWith("Has_", StringComparison.Ordinal)) return false;
                            a.Owner = owner; a.Member = name;
                            if (getter && a.Kind == CompatAccess.View && ReturnType(h) is string ret && _c.Views.TryGetValue(ret, out var inner)) a.Result = inner;
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
                if (!_m.IsRuntimeType(mr.Parent, "TargetKernel")) return false;
                string name = _md.GetString(mr.Name);
                int back = name switch { "ValueOf" => 1, "EnumValueExists" => 1, "TryValueOf" => 2, _ => 0 };
                if (back == 0 || k - back < 0) return false;
                var args = spec.DecodeSignature(_types, null);
                if (args.Length != 1 || args[0] is not string key || !_c.Enums.TryGetValue(key, out var e)) return false;
                if (!Il.TryConstant(code[k - back], out long value)) return false;
                foreach (var (v, n) in e.Values)
                    if (v == value) { use = new CompatUse(CompatUseKind.EnumValue, e.Name, n, CompatAccess.View); return true; } // the first with the value (aliases share it)
                return false;
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

        // Types in signatures, as far as the scanner cares: the key of a named type (definition or reference), else null.
        private sealed class SignatureTypes : ISignatureTypeProvider<string?, object?>
        {
            private readonly Module _m;
            public SignatureTypes(Module m) { _m = m; }
            public string? GetArrayType(string? elementType, ArrayShape shape) => null;
            public string? GetByReferenceType(string? elementType) => elementType;
            public string? GetFunctionPointerType(MethodSignature<string?> signature) => null;
            public string? GetGenericInstantiation(string? genericType, ImmutableArray<string?> typeArguments) => null;
            public string? GetGenericMethodParameter(object? genericContext, int index) => null;
            public string? GetGenericTypeParameter(object? genericContext, int index) => null;
            public string? GetModifiedType(string? modifier, string? unmodifiedType, bool isRequired) => unmodifiedType;
            public string? GetPinnedType(string? elementType) => elementType;
            public string? GetPointerType(string? elementType) => null;
            public string? GetPrimitiveType(PrimitiveTypeCode typeCode) => null;
            public string? GetSZArrayType(string? elementType) => null;
            public string? GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => _m.KeyOf(handle);
            public string? GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => _m.KeyOf(handle);
            public string? GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => null;
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
