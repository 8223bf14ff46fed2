using Microsoft.CodeAnalysis;

namespace BtfBindings.Generator
{
    /// <summary>
    /// Every diagnostic the generator reports. Nothing it does may throw into the compiler. BTFB012 (a BtfFile item
    /// that does not exist) is taken: build/BtfBindings.targets reports it before compiling, so a new code here starts at BTFB013.
    /// </summary>
    internal static class Diagnostics
    {
        private const string Category = "BtfBindings";

        public static readonly DiagnosticDescriptor UnknownType = new DiagnosticDescriptor("BTFB001",
            "Unknown kernel type", "'{0}' is not a struct, union, enum or typedef in {1}{2}", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor NoBtfFile = new DiagnosticDescriptor("BTFB002",
            "No BTF file", "{0}", Category, DiagnosticSeverity.Error, true,
            description: "Add <BtfFile Include=\"path/to/vmlinux.btf\" /> to the project (raw BTF, an ELF file with .BTF, or a BTFHub .btf.tar.xz).");

        public static readonly DiagnosticDescriptor AmbiguousBtfFile = new DiagnosticDescriptor("BTFB003",
            "Ambiguous BTF file", "The project has several BtfFile items ({0}); name one with [BtfTypes(..., BtfFile = \"name\")]", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor UnreadableBtf = new DiagnosticDescriptor("BTFB004",
            "Unreadable BTF", "Cannot read BTF: {0}", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor Language = new DiagnosticDescriptor("BTFB005",
            "Language version too old", "BtfBindings generates C# 12 code (inline arrays, static abstract members); this project uses C# {0}. Set <LangVersion>12</LangVersion> or later.", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor Framework = new DiagnosticDescriptor("BTFB006",
            "Target framework not supported", "BtfBindings needs .NET 8 or later ({0} is missing from the target framework)", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor NotPartial = new DiagnosticDescriptor("BTFB007",
            "Class must be partial", "'{0}' must be declared partial (and every containing type too) so the kernel types can be nested in it", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor LayoutWarning = new DiagnosticDescriptor("BTFB008",
            "Layout not exactly representable", "{0}", Category, DiagnosticSeverity.Warning, true);

        public static readonly DiagnosticDescriptor Internal = new DiagnosticDescriptor("BTFB009",
            "Internal generator error", "BtfBindings failed: {0}", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor NoNames = new DiagnosticDescriptor("BTFB010",
            "No type names", "[BtfTypes] names no types", Category, DiagnosticSeverity.Warning, true);

        public static readonly DiagnosticDescriptor Generic = new DiagnosticDescriptor("BTFB011",
            "Class must not be generic", "'{0}' is generic: kernel types nested in it would be a different struct for every type argument; put [BtfTypes] on a non-generic partial class", Category, DiagnosticSeverity.Error, true);

        // BTFB013 is the build task's (a vmlinux.h that cannot be written from a BtfFile).

        public static readonly DiagnosticDescriptor BpfObjectUnreadable = new DiagnosticDescriptor("BTFB014",
            "Unreadable BPF object", "Cannot read the BPF object '{0}': {1}", Category, DiagnosticSeverity.Error, true,
            description: "A BpfObject must be an ELF file built by clang -g -target bpf (it needs its .BTF section).");

        public static readonly DiagnosticDescriptor BpfMapUntyped = new DiagnosticDescriptor("BTFB015",
            "BPF object part left untyped", "{0}: {1}", Category, DiagnosticSeverity.Warning, true);

        // BTFB016-018 are the targets' (clang, vmlinux.h, pahole). BTFB019-022: the use-site checks against the BtfTarget
        // kernels (BtfCompatAnalyzer); BTFB023-025 are embedding's.

        public static readonly DiagnosticDescriptor MissingOnTargets = OnTargets("BTFB019", "Kernel field missing on target kernels",
            "A field, bitfield, nested member or enum value the code uses is absent on some of the project's BtfTarget kernels. Guard the use with the view's Has_x (or Exists(nameof(x))), or drop those targets.");

        public static readonly DiagnosticDescriptor IncompatibleOnTargets = OnTargets("BTFB020", "Kernel field incompatible on target kernels",
            "On some BtfTarget kernels the field's type changed kind (libbpf's compatibility rule) or cannot be read as the generated type: a view reports it missing there.");

        public static readonly DiagnosticDescriptor AmbiguousOnTargets = OnTargets("BTFB021", "Kernel type ambiguous on target kernels",
            "On some BtfTarget kernels several same-named types disagree about the field (its offset, or the size, signedness or bitfield shifts a read needs), so CO-RE (libbpf and BtfBindings) refuses to relocate it. The message names the candidates of the first such kernel.");

        public static readonly DiagnosticDescriptor MovedForPlainRead = OnTargets("BTFB022", "Plain struct read of a field that moves",
            "A plain generated struct reads the build-time offset; on some BtfTarget kernels the field is elsewhere. A view relocates it.");

        // "'task_struct.x' is missing on 5.4–5.13 (12 of 40 targets)" and what to do about it.
        private static DiagnosticDescriptor OnTargets(string id, string title, string description)
            => new DiagnosticDescriptor(id, title, "{0}; {1}", Category, DiagnosticSeverity.Warning, true, description: description);

        // BTFB023-025: kernel BTF embedded for <BtfTarget Embed="true" /> (Embed/EmbeddedBtfBuilder.cs).

        public static readonly DiagnosticDescriptor EmbedTargetUnreadable = new DiagnosticDescriptor("BTFB023",
            "Embedded BtfTarget unreadable", "Cannot read BtfTarget '{0}' to embed its BTF: {1}", Category, DiagnosticSeverity.Error, true);

        public static readonly DiagnosticDescriptor EmbedTargetLacksType = new DiagnosticDescriptor("BTFB024",
            "Embedded BtfTarget lacks a requested type", "BtfTarget '{0}' ({1}) has no struct, union, enum or typedef named '{2}': its BTF is embedded without it, so on that kernel the type is reported missing at run time", Category, DiagnosticSeverity.Warning, true);

        public static readonly DiagnosticDescriptor EmbedTargetNoArch = new DiagnosticDescriptor("BTFB025",
            "Embedded BtfTarget without an architecture", "Cannot tell the architecture of BtfTarget '{0}' (release {1}) from its path or release: set Arch=\"x86_64\" (uname -m) on the item; until then it is embedded for that release on any architecture", Category, DiagnosticSeverity.Warning, true);

        public static DiagnosticDescriptor ById(string id) => id switch
        {
            "BTFB001" => UnknownType,
            "BTFB002" => NoBtfFile,
            "BTFB003" => AmbiguousBtfFile,
            "BTFB004" => UnreadableBtf,
            "BTFB005" => Language,
            "BTFB006" => Framework,
            "BTFB007" => NotPartial,
            "BTFB008" => LayoutWarning,
            "BTFB010" => NoNames,
            "BTFB011" => Generic,
            "BTFB014" => BpfObjectUnreadable,
            "BTFB015" => BpfMapUntyped,
            "BTFB019" => MissingOnTargets,
            "BTFB020" => IncompatibleOnTargets,
            "BTFB021" => AmbiguousOnTargets,
            "BTFB022" => MovedForPlainRead,
            "BTFB023" => EmbedTargetUnreadable,
            "BTFB024" => EmbedTargetLacksType,
            "BTFB025" => EmbedTargetNoArch,
            _ => Internal,
        };
    }
}
