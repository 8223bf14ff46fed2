using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using Microsoft.CodeAnalysis;

namespace BtfBindings.Generator
{
    /// <summary>
    /// The project's <c>BtfFile</c> items as build/BtfBindings.targets hands them over: a small text file
    /// (<c>obj/…/BtfBindings.btfrefs</c>) passed as an AdditionalFile, one tab-separated line per file and per distinct Base:
    /// <code>
    /// file	/full/path/vmlinux.btf	SHA256	Base-as-written
    /// base	Base-as-written	/full/path/of/base	SHA256
    /// object	/full/path/x.bpf.o	SHA256	Namespace	ClassName	ResourceName	TypesBtf	KernelBtf
    /// target	/full/path/5.10.0-46-amd64.btf.tar.xz	SHA256	Embed(true|false)	Release	Arch	Distro/Version	RawCopy
    /// </code>
    /// (one <c>object</c> line per <c>BpfObject</c>, and per <c>BpfProgram</c> once compiled; Namespace and ClassName as the
    /// item's metadata gives them, possibly empty; TypesBtf and KernelBtf only for a BpfProgram pahole ran on: the BTF of the
    /// object's DWARF, and the file name of the BtfFile it was compiled against, one of the <c>file</c> lines).
    /// Not compiler-visible properties: the compiler's editorconfig reader cuts values at ';' and '#' (so only the first of
    /// several files arrived), and a path may hold either. Tabs and line breaks cannot occur in the paths MSBuild writes
    /// here unescaped, so they separate safely. The text changes with any file's content hash, which re-runs generation.
    /// </summary>
    internal static class BtfFileManifest
    {
        /// <summary>The manifest's file name (matched case-insensitively among the AdditionalFiles).</summary>
        public const string FileName = "BtfBindings.btfrefs";

        /// <summary>The manifest's text as an analyzer gets it (normally one AdditionalFile).</summary>
        public static List<string> Texts(Microsoft.CodeAnalysis.Diagnostics.AnalyzerOptions options, System.Threading.CancellationToken ct)
        {
            var texts = new List<string>();
            foreach (var a in options.AdditionalFiles)
                if (IsManifest(a.Path)) texts.Add(a.GetText(ct)?.ToString() ?? "");
            return texts;
        }

        /// <summary>
        /// The manifest as the incremental generators read it: each manifest AdditionalFile's path and text (normally one),
        /// collected. Plain strings, so an edit that leaves the manifest alone keeps every step after it cached.
        /// </summary>
        public static IncrementalValueProvider<ImmutableArray<(string Path, string Text)>> Read(IncrementalGeneratorInitializationContext context)
            => context.AdditionalTextsProvider
                .Where(static t => IsManifest(t.Path))
                .Select(static (t, ct) => (t.Path, t.GetText(ct)?.ToString() ?? ""))
                .Collect();

        /// <summary>The texts of <see cref="Read"/>'s manifests.</summary>
        public static IEnumerable<string> Texts(ImmutableArray<(string Path, string Text)> manifests)
        {
            foreach (var m in manifests) yield return m.Text;
        }

        /// <summary>True for the manifest's path.</summary>
        public static bool IsManifest(string path) => string.Equals(Path.GetFileName(path), FileName, StringComparison.OrdinalIgnoreCase);

        /// <summary>The BPF objects listed in <paramref name="texts"/>, sorted by path.</summary>
        public static EquatableArray<BpfObjectRef> ParseObjects(IEnumerable<string> texts)
        {
            var refs = new List<BpfObjectRef>();
            var files = Parse(texts).Files;
            foreach (var text in texts)
            {
                foreach (var raw in text.Split('\n'))
                {
                    var parts = raw.TrimEnd('\r').TrimStart('\uFEFF').Split('\t');
                    if (parts.Length < 3 || parts[0] != "object" || parts[1].Length == 0) continue;
                    string At(int i) => parts.Length > i ? parts[i] : "";
                    BtfFileRef? kernel = null;
                    foreach (var f in files) if (At(7).Length > 0 && Path.GetFileName(f.Path) == At(7)) kernel = f;
                    refs.Add(new BpfObjectRef(parts[1], parts[2], At(3), At(4), At(5), At(6), kernel));
                }
            }
            refs.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
            return new EquatableArray<BpfObjectRef>(refs);
        }

        /// <summary>
        /// The target kernels (<c>target</c> lines, one per <c>BtfTarget</c>) listed in <paramref name="texts"/>, sorted by path.
        /// Separate from <see cref="Parse"/> so a change of targets does not re-run type generation. Missing trailing fields
        /// (MSBuild trims a line's trailing tabs) are empty.
        /// </summary>
        public static EquatableArray<BtfTargetRef> ParseTargets(IEnumerable<string> texts)
        {
            var refs = new List<BtfTargetRef>();
            foreach (var text in texts)
            {
                foreach (var raw in text.Split('\n'))
                {
                    var parts = raw.TrimEnd('\r').TrimStart('\uFEFF').Split('\t');
                    if (parts.Length < 3 || parts[0] != "target" || parts[1].Length == 0) continue;
                    string At(int i) => parts.Length > i ? parts[i] : "";
                    refs.Add(new BtfTargetRef(parts[1], parts[2], string.Equals(At(3), "true", StringComparison.OrdinalIgnoreCase), At(4), At(5), At(6), At(7)));
                }
            }
            refs.Sort();
            return new EquatableArray<BtfTargetRef>(refs);
        }

        /// <summary>The files listed in <paramref name="texts"/> (normally one manifest), sorted by path.</summary>
        public static BtfFileSet Parse(IEnumerable<string> texts)
        {
            var bases = new Dictionary<string, (string path, string hash)>(StringComparer.Ordinal);
            var files = new List<(string path, string hash, string baseAsWritten)>();
            foreach (var text in texts)
            {
                foreach (var raw in text.Split('\n'))
                {
                    var line = raw.TrimEnd('\r').TrimStart('\uFEFF');
                    var parts = line.Split('\t');
                    if (parts.Length < 3) continue;
                    if (parts[0] == "file" && parts[1].Length > 0) files.Add((parts[1], parts[2], parts.Length > 3 ? parts[3] : ""));
                    else if (parts[0] == "base" && parts.Length >= 4 && parts[1].Length > 0) bases[parts[1]] = (parts[2], parts[3]);
                }
            }
            var refs = new List<BtfFileRef>();
            foreach (var (path, hash, baseAsWritten) in files)
            {
                if (baseAsWritten.Length == 0) { refs.Add(new BtfFileRef(path, hash, null)); continue; }
                // The targets list every distinct Base with its full path and content hash; a Base missing there (a hand-made
                // manifest) is used as written, with no hash.
                if (bases.TryGetValue(baseAsWritten, out var b)) refs.Add(new BtfFileRef(path, hash, b.path, b.hash));
                else refs.Add(new BtfFileRef(path, hash, baseAsWritten, ""));
            }
            refs.Sort();
            return new BtfFileSet(new EquatableArray<BtfFileRef>(refs));
        }
    }
}
