using System;
using System.Buffers.Binary;
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
            IReadOnlyList<(int first, string? source)>? sourceRuns = null)
        {
            Path = path; Uses = uses; SourceFiles = sources; GeneratedTypes = generatedTypes; HasPdb = hasPdb;
            _sourceRuns = sourceRuns ?? Array.Empty<(int, string?)>();
        }

        // The source of Uses[first..] up to the next run's first (null: none): one entry per change, not one per use.
        private readonly IReadOnlyList<(int first, string? source)> _sourceRuns;
        private Dictionary<CompatUse, string>? _sourceOf;

        /// <summary>The BTF file (as its generated layout names it) each struct/union use's root type was generated from; enumerator uses have none.</summary>
        public IReadOnlyDictionary<CompatUse, string> SourceOf
        {
            get
            {
                if (_sourceOf != null) return _sourceOf;
                var map = new Dictionary<CompatUse, string>();
                for (int r = 0; r < _sourceRuns.Count; r++)
                {
                    var (first, source) = _sourceRuns[r];
                    int end = r + 1 < _sourceRuns.Count ? _sourceRuns[r + 1].first : Uses.Count;
                    if (source == null) continue;
                    for (int i = first; i < end; i++)
                        if (!map.ContainsKey(Uses[i].use)) map[Uses[i].use] = source;
                }
                return _sourceOf = map;
            }
        }

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
        {
            // In first-use order. (Not LINQ's GroupBy: over tuples its generic code is compiled afresh in each build process.)
            var sites = new Dictionary<CompatUse, List<CompatUseSite>>();
            var order = new List<CompatUse>();
            for (int i = 0; i < Uses.Count; i++)
            {
                var (use, site) = Uses[i];
                if (!sites.TryGetValue(use, out var list)) { sites[use] = list = new List<CompatUseSite>(); order.Add(use); }
                list.Add(site);
            }
            var grouped = new (CompatUse, IReadOnlyList<CompatUseSite>)[order.Count];
            for (int i = 0; i < grouped.Length; i++) grouped[i] = (order[i], sites[order[i]].ToArray());
            return grouped;
        }
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
    /// <remarks>
    /// The build runs this after every compile, in a fresh MSBuild process: a generated type is read only when the code
    /// touches it (its layout in place from the #US heap, not as a string), type keys are cached per token, and no
    /// collection is keyed by a System.Reflection.Metadata struct (each such instantiation is JIT-compiled on every build).
    /// </remarks>
    internal static class AssemblyUseScanner
    {
        private const string RuntimeNamespace = "BtfBindings";
        private const string RuntimeAssembly = "BtfBindings.Runtime";

        // A generated struct/union: kernel name ("" for anonymous), field names, source BTF.
        private sealed class Gen
        {
            public string KernelName = "";
            public LayoutText Layout; // the field names, read in place
            public bool HasLayout; // false when the layout could not be read: every member counts
            public string? Source;
            public bool Anonymous => KernelName.Length == 0;
            public (string parent, string field)? AnonymousIn;

            /// <summary>True when <paramref name="utf8"/> from byte <paramref name="from"/> names one of its fields (or the layout could not be read).</summary>
            public bool MayHave(ReadOnlySpan<byte> utf8, int from) => !HasLayout || Layout.HasField(utf8, from);
        }

        /// <summary>
        /// Scans the assembly at <paramref name="path"/>. Generated types may be in it or in an assembly it references (the
        /// types assembly <c>App.BtfTypes.dll</c>, a library's): each reference is looked for among
        /// <paramref name="references"/> (the compile's reference paths: a build scans obj/, where references are not
        /// copied), else beside the assembly, and read when it references BtfBindings.Runtime (only those hold generated types).
        /// </summary>
        /// <exception cref="BadImageFormatException">It is not a .NET assembly (the message names the file).</exception>
        public static AssemblyUseScan Scan(string path, IEnumerable<string>? references = null)
        {
            // System.Reflection.Metadata's own errors on malformed tables and heaps, met while reading, name no file.
            try { return ScanFile(path, references); }
            catch (BadImageFormatException e) when (e.FileName == null)
            {
                throw new BadImageFormatException($"{path} (or its PDB) has malformed metadata: {e.Message}", path, e); // (a referenced assembly's errors name it)
            }
        }

        private static AssemblyUseScan ScanFile(string path, IEnumerable<string>? references)
        {
            using var main = Module.Open(path, required: true)!;
            var catalog = new Catalog();
            catalog.Add(main);
            var extra = new List<Module>();
            try
            {
                var given = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase); // assembly names are case-insensitive
                foreach (var r in references ?? Array.Empty<string>())
                    if (r.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) given[System.IO.Path.GetFileNameWithoutExtension(r)] = r;
                string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
                foreach (var ah in main.Md.AssemblyReferences)
                {
                    var handle = main.Md.GetAssemblyReference(ah).Name;
                    if (main.Md.StringComparer.Equals(handle, RuntimeAssembly)) continue;
                    string name = main.Md.GetString(handle);
                    var m = Module.Open(given.TryGetValue(name, out var file) ? file : System.IO.Path.Combine(dir, name + ".dll"), required: false);
                    if (m == null) continue;
                    extra.Add(m);
                    if (m.ReferencesRuntime()) catalog.Add(m);
                }
                MetadataReaderProvider? pdbProvider = null;
                try
                {
                    try { main.Pe.TryOpenAssociatedPortablePdb(System.IO.Path.GetFullPath(path), p => File.Exists(p) ? Unbuffered(p) : null, out pdbProvider, out _); }
                    catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException or ArgumentException or OverflowException) { pdbProvider = null; } // a bad PDB only costs the lines
                    var pdb = pdbProvider?.GetMetadataReader();
                    var scanner = new Scanner(main, catalog, pdb);
                    var uses = scanner.Run();
                    return new AssemblyUseScan(path, uses, catalog.Sources(), catalog.GeneratedCount, pdb != null, scanner.SourceRuns);
                }
                finally { pdbProvider?.Dispose(); }
            }
            finally { foreach (var m in extra) m.Dispose(); }
        }

        // A file read through System.Reflection.Metadata, which reads the headers in small pieces and the rest in one: a
        // FileStream's own 4 KB buffer would only be garbage left in MSBuild's process.
        private static FileStream Unbuffered(string path) => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);

        // One assembly file: its PE reader, metadata and name (the prefix of its type keys).
        private sealed class Module : IDisposable
        {
            public PEReader Pe = null!;
            public MetadataReader Md = null!;
            public string Name = "";
            public string Path = "";
            private Stream? _stream;
            private readonly Dictionary<string, int> _rows = new Dictionary<string, int>(StringComparer.Ordinal); // type key -> TypeDef row, as met
            private readonly Dictionary<int, string?> _keys = new Dictionary<int, string?>(); // TypeDef/TypeRef token -> key

            public static Module? Open(string path, bool required)
            {
                if (!required && !File.Exists(path)) return null;
                var stream = Unbuffered(path);
                var pe = new PEReader(stream);
                try
                {
                    if (!pe.HasMetadata) throw new BadImageFormatException($"{path} is not a .NET assembly (no metadata)", path);
                    var md = pe.GetMetadataReader(MetadataReaderOptions.None); // (no WinRT projection: no virtual handles, every name is in #Strings)
                    string name = md.IsAssembly ? md.GetString(md.GetAssemblyDefinition().Name) : System.IO.Path.GetFileNameWithoutExtension(path);
                    return new Module { Pe = pe, Md = md, Name = name, Path = path, _stream = stream };
                }
                catch (Exception e) when (e is BadImageFormatException or OverflowException or ArgumentException or InvalidOperationException)
                {
                    // (System.Reflection.Metadata throws OverflowException or ArgumentException on some malformed headers)
                    pe.Dispose(); stream.Dispose();
                    if (!required) return null; // a native library or junk beside the app is not ours to judge
                    if (e is BadImageFormatException b && b.FileName == path) throw;
                    throw new BadImageFormatException($"{path} is not a .NET assembly: {e.Message}", path, e);
                }
            }

            public void Dispose() { Pe.Dispose(); _stream?.Dispose(); }

            public bool ReferencesRuntime()
            {
                try
                {
                    foreach (var ah in Md.AssemblyReferences)
                        if (Md.StringComparer.Equals(Md.GetAssemblyReference(ah).Name, RuntimeAssembly)) return true;
                    return false;
                }
                catch (BadImageFormatException e) when (e.FileName == null) { throw Named(e); }
            }

            /// <summary>How deep types may nest (declaring types, resolution scopes): deeper is a cycle in hostile metadata.</summary>
            public const int MaxNesting = 64;

            public BadImageFormatException Bad(string what) => new BadImageFormatException($"{Path}: {what}", Path);

            /// <summary>
            /// System.Reflection.Metadata's error met while reading this module, which names no file, as one that names it
            /// (a referenced types assembly must not be reported as the scanned one).
            /// </summary>
            public BadImageFormatException Named(BadImageFormatException e)
                => e.FileName != null ? e : new BadImageFormatException($"{Path} has malformed metadata: {e.Message}", Path, e);

            /// <summary>"Assembly!Namespace.Outer/Inner": a type's identity across assemblies.</summary>
            public string KeyOf(TypeDefinitionHandle h) => KeyOf(h, 0);

            private string KeyOf(TypeDefinitionHandle h, int depth)
            {
                int token = MetadataTokens.GetToken(h);
                if (_keys.TryGetValue(token, out var key)) return key!;
                if (depth > MaxNesting) throw Bad($"type 0x{token:x8} is nested more than {MaxNesting} deep (a cycle)");
                var td = Md.GetTypeDefinition(h);
                var outer = td.GetDeclaringType();
                if (!outer.IsNil) key = KeyOf(outer, depth + 1) + "/" + Md.GetString(td.Name);
                else
                {
                    string ns = Md.GetString(td.Namespace);
                    key = Name + "!" + (ns.Length == 0 ? "" : ns + ".") + Md.GetString(td.Name);
                }
                _keys[token] = key;
                _rows[key] = MetadataTokens.GetRowNumber(h);
                return key;
            }

            public string? KeyOf(TypeReferenceHandle h) => KeyOf(h, 0);

            private string? KeyOf(TypeReferenceHandle h, int depth)
            {
                int token = MetadataTokens.GetToken(h);
                if (_keys.TryGetValue(token, out var key)) return key;
                if (depth > MaxNesting) throw Bad($"type reference 0x{token:x8} is nested more than {MaxNesting} deep (a cycle)");
                var tr = Md.GetTypeReference(h);
                var scope = tr.ResolutionScope;
                string name = Md.GetString(tr.Name);
                switch (scope.Kind)
                {
                    case HandleKind.TypeReference:
                        var outer = KeyOf((TypeReferenceHandle)scope, depth + 1);
                        key = outer == null ? null : outer + "/" + name;
                        break;
                    case HandleKind.AssemblyReference:
                        string ns = Md.GetString(tr.Namespace);
                        key = Md.GetString(Md.GetAssemblyReference((AssemblyReferenceHandle)scope).Name) + "!" + (ns.Length == 0 ? "" : ns + ".") + name;
                        break;
                    case HandleKind.ModuleDefinition:
                        string ns2 = Md.GetString(tr.Namespace);
                        key = Name + "!" + (ns2.Length == 0 ? "" : ns2 + ".") + name;
                        break;
                    default:
                        key = null;
                        break;
                }
                _keys[token] = key;
                return key;
            }

            public string? KeyOf(EntityHandle h) => h.Kind switch
            {
                HandleKind.TypeDefinition => KeyOf((TypeDefinitionHandle)h),
                HandleKind.TypeReference => KeyOf((TypeReferenceHandle)h),
                _ => null,
            };

            /// <summary>
            /// The type of this module with <paramref name="key"/>: one whose key was made here, else found by its names,
            /// outermost first (a reference from another module; no index of every type is built for those few look-ups).
            /// </summary>
            public bool TryFind(string key, out TypeDefinitionHandle handle)
            {
                if (_rows.TryGetValue(key, out int row)) { handle = MetadataTokens.TypeDefinitionHandle(row); return true; }
                handle = default;
                int bang = key.IndexOf('!');
                if (bang < 0 || string.CompareOrdinal(key, 0, Name, 0, Name.Length) != 0 || bang != Name.Length) return false;
                var parts = key.Substring(bang + 1).Split('/');
                int dot = parts[0].LastIndexOf('.');
                string ns = dot < 0 ? "" : parts[0].Substring(0, dot);
                var current = default(TypeDefinitionHandle);
                for (int i = 0; i < parts.Length; i++)
                {
                    string name = i == 0 ? parts[0].Substring(dot + 1) : parts[i];
                    var outer = current;
                    current = default;
                    foreach (var th in Md.TypeDefinitions)
                    {
                        var td = Md.GetTypeDefinition(th);
                        if (td.GetDeclaringType() == outer && Md.StringComparer.Equals(td.Name, name) && (!outer.IsNil || Md.StringComparer.Equals(td.Namespace, ns)))
                        {
                            current = th;
                            break;
                        }
                    }
                    if (current.IsNil) return false;
                }
                _rows[key] = MetadataTokens.GetRowNumber(current);
                handle = current;
                return true;
            }

            /// <summary>
            /// The IL of the method body at <paramref name="rva"/>, in place (a tiny or fat header, ECMA-335 II.25.4.1-3):
            /// no MethodBodyBlock per method of the app.
            /// </summary>
            /// <exception cref="BadImageFormatException">The body is not where the RVA says or runs past its section.</exception>
            public unsafe ReadOnlySpan<byte> IL(int rva)
            {
                if (rva < 0) throw Bad($"a method body's RVA 0x{rva:x} is negative");
                var block = Pe.GetSectionData(rva);
                byte* p = block.Pointer;
                int length = block.Length;
                if (p != null && length >= 1 && (p[0] & 3) == 2 && p[0] >> 2 <= length - 1) return new ReadOnlySpan<byte>(p + 1, p[0] >> 2); // tiny
                if (p != null && length >= 12 && (p[0] & 3) == 3)
                {
                    int header = (p[1] >> 4) * 4, size = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(p + 4, 4));
                    if (header >= 12 && size >= 0 && size <= length - header) return new ReadOnlySpan<byte>(p + header, size);
                }
                throw Bad($"the method body at RVA 0x{rva:x} is not a valid IL method body");
            }

            /// <summary>
            /// The UTF-8 bytes of a #Strings entry, in place (a member name the code touches is compared there, not made into
            /// a string first); bounds-checked, as the handle may come from hostile metadata.
            /// </summary>
            public unsafe ReadOnlySpan<byte> Utf8(StringHandle h)
            {
                int offset = MetadataTokens.GetHeapOffset(h), size = Md.GetHeapSize(HeapIndex.String);
                if (offset < 0 || offset >= size) throw Bad($"string 0x{offset:x} is past the #Strings heap ({size} bytes)");
                byte* p = Md.MetadataPointer + Md.GetHeapMetadataOffset(HeapIndex.String) + offset;
                int n = 0;
                while (n < size - offset && p[n] != 0) n++;
                return new ReadOnlySpan<byte>(p, n);
            }

            /// <summary>
            /// The name <paramref name="h"/> names, from byte <paramref name="skip"/> on (the field an accessor's "get_"
            /// prefixes: one string, not two). Not cached: a cache costs more than the few names a use makes.
            /// </summary>
            public string NameOf(StringHandle h, int skip = 0)
            {
                var bytes = Utf8(h);
                return skip >= bytes.Length ? "" : Utf8String(bytes.Slice(skip));
            }

            private static unsafe string Utf8String(ReadOnlySpan<byte> bytes)
            {
                fixed (byte* p = bytes) return System.Text.Encoding.UTF8.GetString(p, bytes.Length);
            }

            /// <summary>True when the #Strings entry <paramref name="h"/> is <paramref name="ascii"/> (compared in place).</summary>
            public bool NameIs(StringHandle h, string ascii) => NameIs(Utf8(h), ascii, 0);

            /// <summary>True when <paramref name="utf8"/> from byte <paramref name="from"/> is <paramref name="ascii"/>, or starts with it when <paramref name="prefix"/>.</summary>
            public static bool NameIs(ReadOnlySpan<byte> utf8, string ascii, int from, bool prefix = false)
            {
                if (prefix ? utf8.Length - from < ascii.Length : utf8.Length - from != ascii.Length) return false;
                for (int i = 0; i < ascii.Length; i++) if (utf8[from + i] != ascii[i]) return false;
                return true;
            }

            /// <summary>
            /// The key of the named type a field signature (<paramref name="method"/> false) or a method's return type is,
            /// read in place (II.23.2: custom modifiers and by-ref skipped; a token's row checked against its table), or null
            /// for any other type: the scanner only follows a chain into generated structs and views. With
            /// <paramref name="named"/>, only a type of that name has a key made (a view getter's return type is a View or
            /// nothing the chain follows).
            /// </summary>
            public string? SignatureType(BlobHandle blob, bool method, string? named = null)
            {
                var r = Md.GetBlobReader(blob);
                if (!SignatureCounts.TryNamedType(ref r, method, out int coded)) return null;
                int row = coded >> 2;
                var table = (coded & 3) == 0 ? TableIndex.TypeDef : TableIndex.TypeRef;
                if (row < 1 || row > Md.GetTableRowCount(table))
                    throw Bad($"signature blob 0x{MetadataTokens.GetHeapOffset(blob):x} names type row {row} of table {table}, which has {Md.GetTableRowCount(table)}");
                if (table == TableIndex.TypeDef)
                {
                    var def = MetadataTokens.TypeDefinitionHandle(row);
                    return named == null || NameIs(Md.GetTypeDefinition(def).Name, named) ? KeyOf(def) : null;
                }
                var tref = MetadataTokens.TypeReferenceHandle(row);
                return named == null || NameIs(Md.GetTypeReference(tref).Name, named) ? KeyOf(tref) : null;
            }

            /// <summary>
            /// The handle of an IL operand token when it names an existing row of <paramref name="table"/> (or of
            /// <paramref name="or"/>, <paramref name="orElse"/>): the token comes from IL that may be hostile. (Not a
            /// <c>params</c> array: this runs for every token of the app's IL.)
            /// </summary>
            public bool TryToken(int token, out EntityHandle handle, TableIndex table, TableIndex? or = null, TableIndex? orElse = null)
            {
                handle = default;
                int row = token & 0xFFFFFF, kind = token >>> 24;
                TableIndex t;
                if (kind == (int)table) t = table;
                else if (or is { } o && kind == (int)o) t = o;
                else if (orElse is { } e && kind == (int)e) t = e;
                else return false;
                if (row < 1 || row > Md.GetTableRowCount(t)) return false;
                handle = MetadataTokens.EntityHandle(token);
                return true;
            }

            /// <summary>
            /// Throws when a count in the signature blob (parameters, generic arguments, array sizes and bounds) is more than
            /// the blob's bytes could hold: System.Reflection.Metadata's decoder reserves that many elements before reading
            /// them, and a few bytes claiming 2^29 parameters took 3 GB.
            /// </summary>
            public void CheckSignature(BlobHandle blob)
            {
                var r = Md.GetBlobReader(blob);
                if (!SignatureCounts.Fit(ref r)) throw Bad($"signature blob 0x{MetadataTokens.GetHeapOffset(blob):x} declares more elements than it holds");
            }

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

            /// <summary>A generated struct/union: it implements the runtime's IBtfType.</summary>
            public bool IsGenerated(TypeDefinitionHandle th)
            {
                foreach (var ih in Md.GetTypeDefinition(th).GetInterfaceImplementations())
                    if (IsRuntimeType(Md.GetInterfaceImplementation(ih).Interface, "IBtfType")) return true;
                return false;
            }

            /// <summary>The method of <paramref name="td"/> named <paramref name="name"/> that has a body, if any.</summary>
            public bool TryMethod(TypeDefinition td, string name, out MethodDefinition method)
            {
                foreach (var mh in td.GetMethods())
                {
                    method = Md.GetMethodDefinition(mh);
                    if (Md.StringComparer.Equals(method.Name, name)) return true;
                }
                method = default;
                return false;
            }
        }

        // A generated enum: kernel name and its enumerators' constants (first name per value, as declared).
        private sealed class GenEnum
        {
            public string Name = "";
            public readonly List<EnumValue> Values = new List<EnumValue>();
        }

        private sealed class EnumValue
        {
            public EnumValue(long value, string name) { Value = value; Name = name; }
            public readonly long Value;
            public readonly string Name;
        }

        // The generated types of the modules read, looked up by key when the code first touches them.
        private sealed class Catalog
        {
            private readonly List<Module> _modules = new List<Module>();
            private readonly Dictionary<string, Gen?> _generated = new Dictionary<string, Gen?>(StringComparer.Ordinal);
            private readonly Dictionary<string, string?> _views = new Dictionary<string, string?>(StringComparer.Ordinal); // View key -> its type's key
            private readonly Dictionary<string, GenEnum?> _enums = new Dictionary<string, GenEnum?>(StringComparer.Ordinal);
            private readonly HashSet<Module> _anonymousNamed = new HashSet<Module>();
            private readonly SortedSet<string> _sources = new SortedSet<string>(StringComparer.Ordinal);
            private string? _lastSource; // (the types of one assembly share theirs: compared in place, not read again)

            /// <summary>How many generated struct/union types the modules hold.</summary>
            public int GeneratedCount { get; private set; }

            public string[] Sources() => _sources.ToArray();

            // Counts the module's generated types and notes their sources; their layouts are read when used.
            public void Add(Module m)
            {
                _modules.Add(m);
                try
                {
                    foreach (var th in m.Md.TypeDefinitions)
                    {
                        if (!m.IsGenerated(th)) continue;
                        GeneratedCount++;
                        if (LayoutText.TryFind(m, th, out var text) && !text.ValueIs(3, _lastSource) && text.Value(3) is { Length: > 0 } source) _sources.Add(_lastSource = source);
                    }
                }
                catch (BadImageFormatException e) when (e.FileName == null) { throw m.Named(e); }
            }

            /// <summary>The generated struct/union with <paramref name="key"/>, or null.</summary>
            public Gen? Generated(string key)
            {
                if (_generated.TryGetValue(key, out var g)) return g;
                g = null;
                if (Find(key, out var m, out var th))
                {
                    try
                    {
                        if (m.IsGenerated(th))
                        {
                            g = new Gen { KernelName = m.Md.GetString(m.Md.GetTypeDefinition(th).Name) };
                            if (LayoutText.TryFind(m, th, out var text)) text.ReadInto(g);
                        }
                    }
                    catch (BadImageFormatException e) when (e.FileName == null) { throw m.Named(e); }
                }
                _generated[key] = g;
                return g;
            }

            /// <summary>The key of the generated type whose View has <paramref name="key"/>, or null.</summary>
            public string? ViewOf(string key)
            {
                if (_views.TryGetValue(key, out var owner)) return owner;
                owner = null;
                const string suffix = "/View";
                if (key.EndsWith(suffix, StringComparison.Ordinal) && Generated(key.Substring(0, key.Length - suffix.Length)) != null && Find(key, out _, out _))
                    owner = key.Substring(0, key.Length - suffix.Length);
                _views[key] = owner;
                return owner;
            }

            /// <summary>
            /// The generated enum with <paramref name="key"/>, or null: an enum type beside a <c>BtfEnumLayouts</c> class that
            /// has a <c>Create_&lt;name&gt;</c> method for it.
            /// </summary>
            public GenEnum? Enum(string key)
            {
                if (_enums.TryGetValue(key, out var e)) return e;
                e = null;
                if (Find(key, out var m, out var th))
                {
                    try
                    {
                        var md = m.Md;
                        var td = md.GetTypeDefinition(th);
                        var outer = td.GetDeclaringType();
                        string name = md.GetString(td.Name);
                        if (!outer.IsNil && IsEnum(md, td) && m.TryFind(m.KeyOf(outer) + "/BtfEnumLayouts", out var layouts)
                            && m.TryMethod(md.GetTypeDefinition(layouts), "Create_" + name, out _))
                            e = ReadEnum(md, td, name);
                    }
                    catch (BadImageFormatException x) when (x.FileName == null) { throw m.Named(x); }
                }
                _enums[key] = e;
                return e;
            }

            /// <summary>Where the anonymous type <paramref name="key"/> is held: the (first) generated field of that type.</summary>
            public (string parent, string field)? AnonymousIn(string key, Gen g)
            {
                if (g.AnonymousIn != null || !Find(key, out var m, out _) || !_anonymousNamed.Add(m)) return g.AnonymousIn;
                try
                {
                    foreach (var th in m.Md.TypeDefinitions)
                    {
                        if (!m.IsGenerated(th)) continue;
                        string parent = m.KeyOf(th);
                        foreach (var fh in m.Md.GetTypeDefinition(th).GetFields())
                        {
                            var f = m.Md.GetFieldDefinition(fh);
                            var t = m.SignatureType(f.Signature, method: false); // (the same in-place read as a chain's next type)
                            if (t != null && t != parent && Generated(t) is { Anonymous: true, AnonymousIn: null } inner)
                                inner.AnonymousIn = (parent, m.Md.GetString(f.Name));
                        }
                    }
                }
                catch (BadImageFormatException e) when (e.FileName == null) { throw m.Named(e); }
                return g.AnonymousIn;
            }

            private bool Find(string key, out Module module, out TypeDefinitionHandle th)
            {
                int bang = key.IndexOf('!');
                foreach (var m in _modules)
                    if (bang > 0 && m.Name.Length == bang && string.CompareOrdinal(m.Name, 0, key, 0, bang) == 0)
                    {
                        module = m;
                        try { return m.TryFind(key, out th); }
                        catch (BadImageFormatException e) when (e.FileName == null) { throw m.Named(e); }
                    }
                module = null!; th = default;
                return false;
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
                    if (v.HasValue) e.Values.Add(new EnumValue(v.Value, md.GetString(f.Name)));
                }
                return e;
            }
        }

        /// <summary>
        /// The encoded layout a generated type's static constructor passes to <c>BtfTypeLayout.Decode</c> (its first
        /// <c>ldstr</c> that has the format), read in place from the #US heap: tens of KB per type, which are not made into
        /// strings for the types the code does not touch.
        /// </summary>
        private unsafe struct LayoutText
        {
            private readonly byte* _text; // UTF-16LE
            private readonly int _length; // in chars
            private int[]? _fields; // where each field's name starts

            private LayoutText(byte* text, int length) { _text = text; _length = length; _fields = null; }

            public static bool TryFind(Module m, TypeDefinitionHandle th, out LayoutText layout)
            {
                layout = default;
                var md = m.Md;
                if (!m.TryMethod(md.GetTypeDefinition(th), ".cctor", out var cctor) || cctor.RelativeVirtualAddress == 0) return false;
                var code = m.IL(cctor.RelativeVirtualAddress);
                for (int at = 0; Il.TryNext(code, ref at, out var ins);)
                    if (ins.Op == 0x72 && TryRead(md, ins.Operand, out layout) && layout.IsLayout()) return true; // ldstr
                layout = default;
                return false;
            }

            // A user string by its token, bounds-checked (the token comes from IL that may be hostile).
            private static bool TryRead(MetadataReader md, int token, out LayoutText text)
            {
                text = default;
                int offset = token & 0xFFFFFF, size = md.GetHeapSize(HeapIndex.UserString);
                if ((token >> 24) != 0x70 || offset <= 0 || offset >= size) return false;
                var r = new BlobReader(md.MetadataPointer + md.GetHeapMetadataOffset(HeapIndex.UserString) + offset, size - offset);
                if (!r.TryReadCompressedInteger(out int bytes) || bytes > r.RemainingBytes) return false;
                text = new LayoutText(r.CurrentPointer, bytes / 2); // the odd last byte is a flag
                return true;
            }

            private char At(int i) => (char)(_text[2 * i] | _text[2 * i + 1] << 8);

            // BtfTypeLayout.Decode's format: name, kind, size, source, pointer size, by-typedef, count, then 11 values per field.
            private bool IsLayout()
            {
                int values = 1;
                for (int i = 0; i < _length; i++) if (At(i) == '\0') values++;
                return values >= 7 && TryCount(out int n) && values == 7 + 11L * n;
            }

            private bool TryCount(out int n)
            {
                n = 0;
                int start = Start(6), end = End(start);
                if (start < 0 || end == start || end - start > 9) return false;
                for (int i = start; i < end; i++)
                {
                    char c = At(i);
                    if (c < '0' || c > '9') return false;
                    n = n * 10 + (c - '0');
                }
                return true;
            }

            private int Start(int index)
            {
                int i = 0;
                for (int v = 0; v < index; v++)
                {
                    while (i < _length && At(i) != '\0') i++;
                    if (i == _length) return -1;
                    i++;
                }
                return i;
            }

            private int End(int start)
            {
                int i = start;
                while (i < _length && At(i) != '\0') i++;
                return i;
            }

            private string Text(int start, int end)
            {
                int n = end - start;
                if (n == 0) return "";
                if (n > 256) // names are short; a long value is rare
                {
                    var heap = new char[n];
                    for (int i = 0; i < n; i++) heap[i] = At(start + i);
                    return new string(heap);
                }
                char* chars = stackalloc char[n];
                for (int i = 0; i < n; i++) chars[i] = At(start + i);
                return new string(chars, 0, n);
            }

            /// <summary>True when value <paramref name="index"/> is <paramref name="s"/> (compared in place).</summary>
            public bool ValueIs(int index, string? s)
            {
                int start = Start(index);
                return s != null && start >= 0 && Equals(start, End(start), s);
            }

            private bool Equals(int start, int end, string s)
            {
                if (end - start != s.Length) return false;
                for (int i = 0; i < s.Length; i++) if (At(start + i) != s[i]) return false;
                return true;
            }

            /// <summary>True when a field is named <paramref name="name"/>.</summary>
            public bool HasField(string name)
            {
                foreach (int start in _fields!)
                    if (Equals(start, End(start), name)) return true;
                return false;
            }

            /// <summary>True when a field is named <paramref name="utf8"/> from byte <paramref name="from"/> (compared in place).</summary>
            public bool HasField(ReadOnlySpan<byte> utf8, int from)
            {
                var name = utf8.Slice(from);
                foreach (byte b in name)
                    if (b >= 0x80) return HasField(System.Text.Encoding.UTF8.GetString(name.ToArray())); // (kernel names are ASCII)
                foreach (int start in _fields!)
                {
                    int end = End(start), i = 0;
                    if (end - start != name.Length) continue;
                    while (i < name.Length && At(start + i) == name[i]) i++;
                    if (i == name.Length) return true;
                }
                return false;
            }

            /// <summary>Value <paramref name="index"/>, or null when there are fewer.</summary>
            public string? Value(int index)
            {
                int start = Start(index);
                return start < 0 ? null : Text(start, End(start));
            }

            /// <summary>The kernel name, the source and where the field names are (one pass; the names stay in place).</summary>
            public void ReadInto(Gen g)
            {
                TryCount(out int n); // (IsLayout checked it: 7 + 11n values)
                var fields = new int[n];
                int v = 0;
                for (int start = 0; start <= _length; v++)
                {
                    int end = End(start);
                    if (v == 0) g.KernelName = Text(start, end);
                    else if (v == 3) g.Source = Text(start, end);
                    else if (v >= 7 && (v - 7) % 11 == 0) fields[(v - 7) / 11] = start;
                    start = end + 1;
                }
                _fields = fields;
                g.Layout = this;
                g.HasLayout = true;
            }
        }

        private sealed class Scanner
        {
            private readonly Module _m;
            private readonly MetadataReader _md;
            private readonly MetadataReader? _pdb;
            private readonly Catalog _c;
            public readonly List<(int first, string? source)> SourceRuns = new List<(int, string?)>(); // see AssemblyUseScan.SourceOf
            private readonly SignatureTypes _types;
            private readonly Dictionary<int, string> _documents = new Dictionary<int, string>(); // PDB document row -> name
            private Il.Instruction[] _code = Array.Empty<Il.Instruction>(); // the method being scanned (reused; as long as the longest)
            private int _rva; // its body's
            private int _count;

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

            // Where a use is: the method's name and sequence points, made when the method's first use is found.
            private sealed class SiteContext
            {
                public MethodDefinitionHandle Handle;
                public string? Name;
                public SequencePointCollection Points;
                public bool HasPoints, PointsRead;
            }

            public List<(CompatUse, CompatUseSite)> Run()
            {
                var uses = new List<(CompatUse, CompatUseSite)>();
                var site = new SiteContext();
                foreach (var th in _md.TypeDefinitions)
                {
                    if (IsGeneratedCode(th)) continue;
                    foreach (var mh in _md.GetTypeDefinition(th).GetMethods())
                    {
                        var m = _md.GetMethodDefinition(mh);
                        if (m.RelativeVirtualAddress == 0) continue;
                        _rva = m.RelativeVirtualAddress;
                        _count = Il.Decode(_m.IL(_rva), ref _code);
                        site.Handle = mh; site.Name = null; site.HasPoints = false; site.PointsRead = false;
                        ScanMethod(site, uses);
                    }
                }
                return uses;
            }

            private bool IsGeneratedCode(TypeDefinitionHandle th)
            {
                int depth = 0;
                for (var t = th; !t.IsNil; t = _md.GetTypeDefinition(t).GetDeclaringType())
                {
                    if (_m.IsGenerated(t) || _md.StringComparer.Equals(_md.GetTypeDefinition(t).Name, "BtfEnumLayouts")) return true;
                    if (++depth > Module.MaxNesting) throw _m.Bad($"type 0x{MetadataTokens.GetToken(th):x8} is nested more than {Module.MaxNesting} deep (a cycle)");
                }
                return false;
            }

            private string FullName(TypeDefinitionHandle th, int depth = 0)
            {
                var td = _md.GetTypeDefinition(th);
                var outer = td.GetDeclaringType();
                string name = _md.GetString(td.Name);
                if (depth > Module.MaxNesting) throw _m.Bad($"type 0x{MetadataTokens.GetToken(th):x8} is nested more than {Module.MaxNesting} deep (a cycle)");
                if (!outer.IsNil) return FullName(outer, depth + 1) + "." + name;
                string ns = _md.GetString(td.Namespace);
                return ns.Length == 0 ? name : ns + "." + name;
            }

            private void ScanMethod(SiteContext method, List<(CompatUse, CompatUseSite)> uses)
            {
                var code = _code;
                int count = _count;
                // The chain so far: the path from its root, and where it can continue.
                string? root = null, path = null, source = null;
                Access last = default;
                int chainEnd = -1, chainStart = 0, first = uses.Count;
                List<(string path, int offset)>? guards = null;
                void Flush()
                {
                    if (root == null) return;
                    if (last.Guard)
                    {
                        (guards ??= new List<(string, int)>()).Add((root + "." + path, code[chainStart].Offset));
                        root = null; path = null; chainEnd = -1;
                        return;
                    }
                    var use = new CompatUse(CompatUseKind.Field, root, path, last.Kind);
                    Add(uses, use, Site(method, code[chainStart].Offset), source);
                    root = null; path = null; chainEnd = -1;
                }
                for (int k = 0; k < count; k++)
                {
                    var ins = code[k];
                    if (TryEnumValue(k, out var enumUse))
                    {
                        Flush();
                        Add(uses, enumUse!, Site(method, ins.Offset), null);
                        continue;
                    }
                    if (!TryAccess(k, out var a))
                    {
                        // A chain continues over the spill of a view into a temporary: stloc N; ldloca N.
                        if (root != null && k == chainEnd + 1 && k + 1 < count && Il.StoresLocal(ins, out int slot) && Il.LoadsLocalAddress(code[k + 1], slot))
                        {
                            chainEnd = k + 1;
                            k++;
                            continue;
                        }
                        // ... and over the name an Exists("x") check passes.
                        if (root != null && k == chainEnd + 1 && ins.Op == 0x72 && k + 1 < count && IsViewExists(code[k + 1]))
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
                if (guards == null) return;
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

            private void Add(List<(CompatUse, CompatUseSite)> uses, CompatUse use, CompatUseSite site, string? source)
            {
                if (SourceRuns.Count == 0 ? source != null : SourceRuns[SourceRuns.Count - 1].source != source) SourceRuns.Add((uses.Count, source));
                uses.Add((use, site));
            }

            // A method or field token: its declaring type's key and name.
            private bool Member(int token, out string? owner, out StringHandle name, out EntityHandle handle)
            {
                owner = null; name = default;
                if (!_m.TryToken(token, out handle, TableIndex.Field, TableIndex.MethodDef, TableIndex.MemberRef)) return false;
                switch (handle.Kind)
                {
                    case HandleKind.FieldDefinition:
                        {
                            var f = _md.GetFieldDefinition((FieldDefinitionHandle)handle);
                            owner = _m.KeyOf(f.GetDeclaringType()); name = f.Name;
                            return true;
                        }
                    case HandleKind.MethodDefinition:
                        {
                            var m = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                            owner = _m.KeyOf(m.GetDeclaringType()); name = m.Name;
                            return true;
                        }
                    case HandleKind.MemberReference:
                        {
                            var mr = _md.GetMemberReference((MemberReferenceHandle)handle);
                            owner = _m.KeyOf(mr.Parent); // (keys are cached per type token)
                            name = mr.Name;
                            return owner != null;
                        }
                    default:
                        return false;
                }
            }

            // A member's signature blob.
            private BlobHandle Signature(EntityHandle h) => h.Kind switch
            {
                HandleKind.FieldDefinition => _md.GetFieldDefinition((FieldDefinitionHandle)h).Signature,
                HandleKind.MethodDefinition => _md.GetMethodDefinition((MethodDefinitionHandle)h).Signature,
                HandleKind.MemberReference => _md.GetMemberReference((MemberReferenceHandle)h).Signature,
                _ => default,
            };

            private bool IsViewExists(Il.Instruction ins)
                => (ins.Op == 0x28 || ins.Op == 0x6F) && Member(ins.Operand, out var owner, out var name, out _) && owner != null && _c.ViewOf(owner) != null
                   && _md.StringComparer.Equals(name, "Exists");

            // The rooted (named) type and path of member m of generated type t, through the fields holding anonymous types.
            private bool Root(string t, string member, out string? root, out string? path, out string? source)
            {
                path = member;
                source = null;
                for (int depth = 0; depth < 32; depth++)
                {
                    // (A holder's key may name a type that is not generated: two types of one name in hostile metadata.)
                    if (_c.Generated(t) is not { } g) break;
                    if (!g.Anonymous) { root = g.KernelName; source = g.Source; return true; }
                    if (_c.AnonymousIn(t, g) is not { } up) break;
                    path = up.field + "." + path;
                    t = up.parent;
                }
                root = null;
                return false;
            }

            private bool TryAccess(int k, out Access a)
            {
                a = default;
                var ins = _code[k];
                switch (ins.Op)
                {
                    case 0x7B: case 0x7C: case 0x7D: // ldfld, ldflda, stfld
                        {
                            if (!Member(ins.Operand, out var owner, out var fname, out var h) || owner == null || !(_c.Generated(owner) is { } g)) return false;
                            var name = _m.Utf8(fname);
                            if (name.Length == 0 || !g.MayHave(name, 0)) return false;
                            a.Owner = owner; a.Member = _m.NameOf(fname); a.Kind = CompatAccess.Plain;
                            if (ins.Op != 0x7D && _m.SignatureType(Signature(h), method: false) is string t && _c.Generated(t) != null) a.Result = t;
                            return true;
                        }
                    case 0x28: case 0x6F: // call, callvirt
                        {
                            if (!Member(ins.Operand, out var declaring, out var mhandle, out var h) || declaring == null) return false;
                            string? viewOf = _c.ViewOf(declaring);
                            if (viewOf == null && _c.Generated(declaring) == null) return false;
                            var mname = _m.Utf8(mhandle); // (compared in place: most calls are not of a field's accessor)
                            if (Module.NameIs(mname, "Exists", 0) && k > 0 && _code[k - 1].Op == 0x72 && viewOf != null)
                            {
                                a.Owner = viewOf; a.Kind = CompatAccess.View; a.Guard = true;
                                a.Member = _md.GetUserString(MetadataTokens.UserStringHandle(_code[k - 1].Operand));
                                return true;
                            }
                            bool getter = Module.NameIs(mname, "get_", 0, prefix: true);
                            if (!getter && !Module.NameIs(mname, "set_", 0, prefix: true)) return false;
                            if (mname.Length == 4) return false;
                            string owner;
                            if (viewOf != null) { owner = viewOf; a.Kind = CompatAccess.View; }
                            else { owner = declaring; a.Kind = CompatAccess.Plain; }
                            var g = _c.Generated(owner)!;
                            bool has = Module.NameIs(mname, "Has_", 4, prefix: true);
                            if (getter && a.Kind == CompatAccess.View && has && g.MayHave(mname, 8))
                            {
                                a.Owner = owner; a.Member = _m.NameOf(mhandle, 8); a.Guard = true;
                                return true;
                            }
                            if (g.HasLayout ? !g.Layout.HasField(mname, 4) : has) return false;
                            a.Owner = owner; a.Member = _m.NameOf(mhandle, 4);
                            if (getter && a.Kind == CompatAccess.View && _m.SignatureType(Signature(h), method: true, named: "View") is string ret && _c.ViewOf(ret) is { } inner) a.Result = inner;
                            return true;
                        }
                    default:
                        return false;
                }
            }

            // kernel.ValueOf(E.X) / EnumValueExists(E.X) / TryValueOf(E.X, out v): the constant before the call (or before the out argument).
            private bool TryEnumValue(int k, out CompatUse? use)
            {
                use = null;
                var ins = _code[k];
                if (ins.Op != 0x28 && ins.Op != 0x6F) return false;
                if (!_m.TryToken(ins.Operand, out var h, TableIndex.MethodSpec)) return false;
                var spec = _md.GetMethodSpecification((MethodSpecificationHandle)h);
                if (spec.Method.Kind != HandleKind.MemberReference) return false;
                var mr = _md.GetMemberReference((MemberReferenceHandle)spec.Method);
                if (!_m.IsRuntimeType(mr.Parent, "TargetKernel")) return false;
                string name = _md.GetString(mr.Name);
                int back = name switch { "ValueOf" => 1, "EnumValueExists" => 1, "TryValueOf" => 2, _ => 0 };
                if (back == 0 || k - back < 0) return false;
                _m.CheckSignature(spec.Signature);
                var args = spec.DecodeSignature(_types, null);
                if (args.Length != 1 || args[0] is not string key || !(_c.Enum(key) is { } e)) return false;
                if (!Il.TryConstant(_code[k - back], _m.IL(_rva), out long value)) return false;
                foreach (var v in e.Values)
                    if (v.Value == value && v.Name.Length > 0 && e.Name.Length > 0) { use = new CompatUse(CompatUseKind.EnumValue, e.Name, v.Name, CompatAccess.View); return true; } // the first with the value (aliases share it)
                return false;
            }

            private CompatUseSite Site(SiteContext method, int offset)
            {
                if (method.Name == null)
                {
                    var m = _md.GetMethodDefinition(method.Handle);
                    method.Name = FullName(m.GetDeclaringType()) + "." + _md.GetString(m.Name);
                }
                if (_pdb != null && !method.PointsRead)
                {
                    method.PointsRead = true;
                    try { method.Points = _pdb.GetMethodDebugInformation(method.Handle.ToDebugInformationHandle()).GetSequencePoints(); method.HasPoints = true; }
                    catch (BadImageFormatException) { method.HasPoints = false; }
                }
                if (method.HasPoints && _pdb != null)
                {
                    bool found = false;
                    SequencePoint best = default;
                    foreach (var sp in method.Points)
                    {
                        if (sp.IsHidden || sp.Offset > offset) continue;
                        if (!found || sp.Offset >= best.Offset) { best = sp; found = true; }
                    }
                    if (found)
                    {
                        int row = MetadataTokens.GetRowNumber(best.Document);
                        if (!_documents.TryGetValue(row, out var document)) _documents[row] = document = _pdb.GetString(_pdb.GetDocument(best.Document).Name);
                        return new CompatUseSite(method.Name, offset, document, best.StartLine);
                    }
                }
                return new CompatUseSite(method.Name, offset);
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

        /// <summary>
        /// Walks a field, method or method-spec signature (ECMA-335 II.23.2) checking each count against the bytes left;
        /// anything it does not follow is left to System.Reflection.Metadata's decoder (which throws BadImageFormatException).
        /// Also reads, in place, the one type the scanner follows a chain through (<see cref="TryNamedType"/>).
        /// </summary>
        internal static class SignatureCounts
        {
            public static bool Fit(ref BlobReader r)
            {
                if (r.RemainingBytes == 0) return true;
                byte header = r.ReadByte();
                switch (header & 0x0F)
                {
                    case 0x06: return Type(ref r, 0); // field
                    case 0x0A: return Types(ref r, 0); // method spec: generic arguments
                    case 0x07: case 0x08: return true; // locals, properties: not decoded here
                    default: return Method(ref r, header, 0);
                }
            }

            /// <summary>
            /// The TypeDefOrRef coded index (II.24.2.6: TypeDef or TypeRef, not TypeSpec) of a field's type
            /// (<paramref name="method"/> false) or a method's return type when it is a named class or value type, custom
            /// modifiers and by-ref skipped; false for anything else.
            /// </summary>
            public static bool TryNamedType(ref BlobReader r, bool method, out int coded)
            {
                coded = 0;
                if (r.RemainingBytes == 0) return false;
                byte header = r.ReadByte();
                if (method)
                {
                    if ((header & 0x10) != 0 && !r.TryReadCompressedInteger(out _)) return false; // generic parameter count
                    if (!r.TryReadCompressedInteger(out _)) return false; // parameter count
                }
                else if ((header & 0x0F) != 0x06) return false;
                while (r.RemainingBytes > 0)
                {
                    byte code = r.ReadByte();
                    if (code is 0x10 or 0x45) continue; // byref, pinned
                    if (code is 0x1F or 0x20) { if (!r.TryReadCompressedInteger(out _)) return false; continue; } // custom modifier's type
                    return code is 0x11 or 0x12 && r.TryReadCompressedInteger(out coded) && (coded & 3) < 2; // valuetype, class
                }
                return false;
            }

            private static bool Count(ref BlobReader r, out int n) => r.TryReadCompressedInteger(out n) && n <= r.RemainingBytes;

            private static bool Types(ref BlobReader r, int depth)
            {
                if (!Count(ref r, out int n)) return false;
                for (int i = 0; i < n; i++) if (!Type(ref r, depth)) return false;
                return true;
            }

            private static bool Method(ref BlobReader r, byte header, int depth)
            {
                if ((header & 0x10) != 0 && !r.TryReadCompressedInteger(out _)) return false; // generic parameter count: nothing reserved for it, nor in the blob
                if (!Count(ref r, out int n)) return false;
                for (int i = 0; i <= n; i++) if (!Type(ref r, depth)) return false; // the return type, then the parameters
                return true;
            }

            private static bool Type(ref BlobReader r, int depth)
            {
                if (depth > 64) return false;
                while (r.RemainingBytes > 0)
                {
                    byte code = r.ReadByte();
                    switch (code)
                    {
                        case 0x1F: case 0x20: // custom modifier: a type token, then the type
                            if (!r.TryReadCompressedInteger(out _)) return false;
                            continue;
                        case 0x41: case 0x45: case 0x10: // sentinel, pinned, byref
                            continue;
                        case 0x0F: case 0x1D: // pointer, szarray
                            return Type(ref r, depth + 1);
                        case 0x11: case 0x12: case 0x13: case 0x1E: // valuetype/class token, generic parameter index
                            return r.TryReadCompressedInteger(out _);
                        case 0x14: // array: element type, rank, sizes, lower bounds
                            if (!Type(ref r, depth + 1) || !r.TryReadCompressedInteger(out _) || !Count(ref r, out int sizes)) return false;
                            for (int i = 0; i < sizes; i++) if (!r.TryReadCompressedInteger(out _)) return false;
                            if (!Count(ref r, out int bounds)) return false;
                            for (int i = 0; i < bounds; i++) if (!r.TryReadCompressedSignedInteger(out _)) return false;
                            return true;
                        case 0x15: // generic instance: class/valuetype, the type token, the arguments
                            if (r.RemainingBytes == 0) return false;
                            r.ReadByte();
                            return r.TryReadCompressedInteger(out _) && Types(ref r, depth + 1);
                        case 0x1B: // function pointer
                            return r.RemainingBytes > 0 && Method(ref r, r.ReadByte(), depth + 1);
                        default:
                            return true; // a primitive (or a code the decoder rejects itself)
                    }
                }
                return false;
            }
        }

        /// <summary>A minimal IL decoder: opcode, operand (token, local slot or constant) and offset of each instruction.</summary>
        internal static class Il
        {
            public readonly struct Instruction
            {
                public Instruction(int offset, int op, int operand) { Offset = offset; Op = op; Operand = operand; }
                public int Offset { get; }
                /// <summary>The opcode: one byte, or 0xFE00 | second byte.</summary>
                public int Op { get; }
                /// <summary>Token, slot, branch target or 32-bit constant (ldc.i8's is read from the IL: see <see cref="TryConstant"/>).</summary>
                public int Operand { get; }
            }

            /// <summary>
            /// Decodes <paramref name="il"/> into <paramref name="buffer"/> (reused across methods; grown to the count when
            /// short, as counted first, so it is never larger than the longest method needs) and returns the count;
            /// malformed code ends the list where it stops making sense rather than being misread.
            /// </summary>
            public static int Decode(ReadOnlySpan<byte> il, ref Instruction[] buffer)
            {
                int count = 0;
                for (int at = 0; TryNext(il, ref at, out _);) count++;
                if (count > buffer.Length) buffer = new Instruction[count];
                count = 0;
                for (int at = 0; TryNext(il, ref at, out var ins);) buffer[count++] = ins;
                return count;
            }

            /// <summary>The instruction at <paramref name="at"/>, which moves past it; false at the end or on malformed code.</summary>
            public static bool TryNext(ReadOnlySpan<byte> il, ref int at, out Instruction ins)
            {
                ins = default;
                int i = at;
                if (i >= il.Length) return false;
                int op = il[i++];
                if (op == 0xFE)
                {
                    if (i >= il.Length) return false;
                    op = 0xFE00 | il[i++];
                }
                int size = OperandSize(op, il, i);
                if (size < 0 || size > il.Length - i) return false;
                int operand = size switch
                {
                    1 => op == 0x1F ? (sbyte)il[i] : il[i],
                    2 => BinaryPrimitives.ReadUInt16LittleEndian(il.Slice(i)),
                    4 => BinaryPrimitives.ReadInt32LittleEndian(il.Slice(i)),
                    _ => 0, // (ldc.i8's 8 bytes: TryConstant; a switch's targets: not followed)
                };
                ins = new Instruction(at, op, operand);
                at = i + size;
                return true;
            }

            private static int OperandSize(int op, ReadOnlySpan<byte> il, int at)
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
                        long n = BinaryPrimitives.ReadUInt32LittleEndian(il.Slice(at));
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

            /// <summary>The constant <paramref name="ins"/> of method body <paramref name="il"/> pushes, if it pushes one.</summary>
            public static bool TryConstant(Instruction ins, ReadOnlySpan<byte> il, out long value)
            {
                switch (ins.Op)
                {
                    case >= 0x15 and <= 0x1E: value = ins.Op - 0x16; return true; // ldc.i4.m1 .. ldc.i4.8
                    case 0x1F: case 0x20: value = ins.Operand; return true;
                    case 0x21 when ins.Offset + 9 <= il.Length: value = BinaryPrimitives.ReadInt64LittleEndian(il.Slice(ins.Offset + 1)); return true; // ldc.i8
                    default: value = 0; return false;
                }
            }
        }
    }
}
