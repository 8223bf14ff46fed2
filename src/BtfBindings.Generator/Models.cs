using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace BtfBindings.Generator
{
    /// <summary>An immutable array with value equality, so pipeline models compare by content and cache.</summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T> where T : IEquatable<T>
    {
        private readonly T[]? _items;
        public EquatableArray(IEnumerable<T> items) { _items = items.ToArray(); }
        public int Count => _items?.Length ?? 0;
        public T this[int i] => _items![i];
        public bool Equals(EquatableArray<T> other)
        {
            var a = _items ?? Array.Empty<T>();
            var b = other._items ?? Array.Empty<T>();
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (!a[i].Equals(b[i])) return false;
            return true;
        }
        public override bool Equals(object? obj) => obj is EquatableArray<T> o && Equals(o);
        public override int GetHashCode()
        {
            int h = 17;
            foreach (var x in _items ?? Array.Empty<T>()) h = h * 31 + x.GetHashCode();
            return h;
        }
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? Array.Empty<T>())).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A source location without Roslyn objects (file, span, line span).</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
        public static LocationInfo? From(SyntaxNode? node)
        {
            if (node == null) return null;
            var loc = node.GetLocation();
            if (loc.SourceTree == null) return null;
            return new LocationInfo(loc.SourceTree.FilePath, loc.SourceSpan, loc.GetLineSpan().Span);
        }
    }

    /// <summary>A diagnostic to report, as plain data.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Args)
    {
        public Diagnostic ToDiagnostic()
            => Diagnostic.Create(Diagnostics.ById(Id), Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, Args.Cast<object>().ToArray());
        public static DiagnosticInfo Create(string id, LocationInfo? location, params string[] args) => new DiagnosticInfo(id, location, new EquatableArray<string>(args));
    }

    /// <summary>One requested name and where it was written.</summary>
    internal sealed record RequestedName(string Name, LocationInfo? Location);

    /// <summary>A containing type of the attributed class: keyword ("class", "struct", "record") and name with type parameters.</summary>
    /// <remarks><paramref name="ModuleAccessible"/>: not generic and reachable module-wide, so a module initializer may live inside it.</remarks>
    internal sealed record ContainerInfo(string Keyword, string Name, bool ModuleAccessible = true);

    /// <summary>What one [BtfTypes] attribute asks for.</summary>
    internal sealed record RequestModel(
        string Namespace,
        EquatableArray<ContainerInfo> Containers,
        EquatableArray<RequestedName> Names,
        string? BtfFile,
        bool FollowPointers,
        LocationInfo? AttributeLocation,
        EquatableArray<DiagnosticInfo> Problems);

    /// <summary>A BTF file given to the compiler: full path, content hash (from MSBuild), optional base and the base's content hash.</summary>
    internal sealed record BtfFileRef(string Path, string Hash, string? BasePath, string? BaseHash = null) : IComparable<BtfFileRef>
    {
        public string FileName => System.IO.Path.GetFileName(Path);
        public int CompareTo(BtfFileRef? other) => string.CompareOrdinal(Path, other?.Path);
    }

    /// <summary>The BtfFile items of the project (from the targets' manifest, <see cref="BtfFileManifest"/>).</summary>
    internal sealed record BtfFileSet(EquatableArray<BtfFileRef> Files);

    /// <summary>
    /// A kernel the program must run on (a <c>&lt;BtfTarget&gt;</c> item): full path, content hash (SHA-256 from the build),
    /// whether its BTF is embedded, its release (<c>uname -r</c>), arch (<c>uname -m</c> name), "distro/version" (may be empty),
    /// and for a compressed file the raw BTF the build decompressed it to once (<see cref="RawPath"/>, may be empty or gone).
    /// </summary>
    internal sealed record BtfTargetRef(string Path, string Hash, bool Embed, string Release, string Arch, string Distro, string RawPath = "") : IComparable<BtfTargetRef>
    {
        public string FileName => System.IO.Path.GetFileName(Path);
        public int CompareTo(BtfTargetRef? other) => string.CompareOrdinal(Path, other?.Path);
    }

    /// <summary>
    /// A BPF object to write a skeleton for: path, content hash, and the item's Namespace/ClassName metadata and resource name
    /// (may be empty); for a compiled BpfProgram where pahole ran, the BTF pahole made from the object's DWARF (<see cref="TypesPath"/>,
    /// else empty) and the kernel BTF it was compiled against (<see cref="Kernel"/>, whose types it does not repeat).
    /// </summary>
    internal sealed record BpfObjectRef(string Path, string Hash, string Namespace, string ClassName, string ResourceName,
        string TypesPath = "", BtfFileRef? Kernel = null)
    {
        public string FileName => System.IO.Path.GetFileName(Path);
    }

    /// <summary>What the consuming compilation supports.</summary>
    internal sealed record CompilationFeatures(bool LanguageOk, string LanguageVersion, bool HasInlineArray);

    /// <summary>One output file.</summary>
    internal sealed record GeneratedSource(string HintName, string Text);

    /// <summary>The result of generating one request.</summary>
    internal sealed record GenerationResult(EquatableArray<GeneratedSource> Sources, EquatableArray<DiagnosticInfo> Diagnostics);
}
