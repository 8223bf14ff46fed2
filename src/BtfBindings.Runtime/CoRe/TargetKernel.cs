using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;

namespace BtfBindings
{
    /// <summary>
    /// The kernel generated types are matched against at run time (CO-RE for user space): its vmlinux BTF plus the
    /// split BTF of its modules, which are searched (and loaded) only when vmlinux has no candidate, as libbpf does.
    /// Resolutions are cached per generated layout. Thread-safe.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed partial class TargetKernel
    {
        private readonly KernelModuleBtf[] _modules;
        private readonly ConcurrentDictionary<BtfTypeLayout, CoreTypeResolution> _roots = new ConcurrentDictionary<BtfTypeLayout, CoreTypeResolution>(ReferenceComparer<BtfTypeLayout>.Instance);
        private readonly ConcurrentDictionary<(string, BtfKind), BtfType[]> _candidates = new ConcurrentDictionary<(string, BtfKind), BtfType[]>();
        private readonly ConcurrentDictionary<BtfType, CoreResolver.MemberMap> _members = new ConcurrentDictionary<BtfType, CoreResolver.MemberMap>();
        private readonly ConcurrentDictionary<BtfTypeLayout, CoreEnumResolution> _enums = new ConcurrentDictionary<BtfTypeLayout, CoreEnumResolution>(ReferenceComparer<BtfTypeLayout>.Instance);

        /// <summary>A target from its vmlinux BTF (and, optionally, module BTF split over it).</summary>
        /// <param name="vmlinux">The kernel's BTF.</param>
        /// <param name="name">How messages name the kernel (default: the BTF's source name).</param>
        /// <param name="release">The kernel release (<c>uname -r</c>), when known.</param>
        public TargetKernel(Btf vmlinux, string? name = null, string? release = null) : this(vmlinux, name, null, release) { }

        internal TargetKernel(Btf vmlinux, string? name, IEnumerable<KernelModuleBtf>? modules, string? release)
        {
            Vmlinux = vmlinux ?? throw new ArgumentNullException(nameof(vmlinux));
            _modules = modules?.ToArray() ?? Array.Empty<KernelModuleBtf>();
            Release = release;
            Name = name ?? (release != null ? release + " (" + vmlinux.SourceName + ")" : vmlinux.SourceName);
        }

        private TargetKernel(string name, string reason)
        {
            _modules = Array.Empty<KernelModuleBtf>();
            Name = name;
            NonPortableReason = reason;
        }

        /// <summary>
        /// A target with no BTF (non-portable mode): every resolution uses the build-time layout unverified and says so
        /// (<see cref="CoreTypeResolution.IsVerified"/> is false, the report starts with NOT VERIFIED).
        /// </summary>
        public static TargetKernel NonPortable(string reason, string? release = null)
            => new TargetKernel((release ?? "unknown kernel") + " (no kernel BTF: non-portable mode)", reason) { Release = release };

        /// <summary>Loads a target from a BTF file in any container <see cref="Btf.Load"/> reads.</summary>
        public static TargetKernel Load(string path, string? name = null) => new TargetKernel(Btf.Load(path), name);

        /// <summary>The target a discovery result describes (non-portable when nothing was found).</summary>
        internal static TargetKernel FromSource(KernelBtfSource source)
        {
            var target = source.Vmlinux == null
                ? NonPortable(source.Description, source.Release)
                : new TargetKernel(source.Vmlinux, (source.Release ?? "kernel") + " (" + source.Path + ", " + source.Origin + ")", source.Modules, source.Release);
            target.Description = source.Description;
            return target;
        }

        /// <summary>
        /// The running kernel, found with <see cref="KernelBtf.Locate"/>: the explicit path or <c>BTFBINDINGS_KERNEL_BTF</c>;
        /// <c>/sys/kernel/btf/vmlinux</c> (+ modules); libbpf's fallback paths for <c>uname -r</c>; a BTFHub cache folder
        /// (<c>BTFBINDINGS_BTFHUB_DIR</c>); BTF embedded in the application, which by default includes the entry assembly's
        /// <c>btf/…</c> manifest resources (<see cref="KernelBtfOptions.ResourceAssembly"/>). With none, a non-portable target.
        /// </summary>
        public static TargetKernel Current(KernelBtfOptions? options = null) => FromSource(KernelBtf.Locate(options));

        /// <summary>The vmlinux BTF (null in non-portable mode).</summary>
        public Btf? Vmlinux { get; }

        /// <summary>The name used in messages and reports: release and BTF source.</summary>
        public string Name { get; }

        /// <summary>The kernel release, when known.</summary>
        public string? Release { get; private set; }

        /// <summary>True when there is kernel BTF to verify layouts against.</summary>
        public bool IsPortable => Vmlinux != null;

        /// <summary>Why layouts cannot be verified (non-portable mode), else null.</summary>
        public string? NonPortableReason { get; }

        /// <summary>Module BTF (split over <see cref="Vmlinux"/>).</summary>
        internal IReadOnlyList<KernelModuleBtf> Modules => _modules;

        /// <summary>
        /// One sentence for logs: where the BTF came from (for <see cref="Current"/>: the discovery step that found it, and
        /// how many module BTF files come with it), or why layouts cannot be verified and every location tried.
        /// </summary>
        public string Description
        {
            get => field ?? (IsPortable ? "kernel BTF from " + Vmlinux!.SourceName : "no kernel BTF: " + NonPortableReason);
            private set;
        }

        /// <summary>True when the kernel stores data big-endian.</summary>
        public bool IsBigEndian => Vmlinux?.IsBigEndian ?? !BitConverter.IsLittleEndian;

        /// <summary>
        /// Target types whose essential name (libbpf's <c>___flavor</c> rule) equals that of <paramref name="name"/>
        /// and whose kind is CO-RE compatible: vmlinux first, module BTF only when vmlinux has none. Cached.
        /// </summary>
        public IReadOnlyList<BtfType> FindCandidates(string name, BtfKind kind)
        {
            if (Vmlinux == null) return Array.Empty<BtfType>();
            string ess = FlavorRules.EssentialName(name);
            return _candidates.GetOrAdd((ess, kind), key =>
            {
                var list = Vmlinux.FindCoreCandidates(key.Item1, key.Item2);
                if (list.Count == 0)
                {
                    foreach (var m in _modules)
                    {
                        Btf btf;
                        try { btf = m.Load(Vmlinux); }
                        catch (BtfException) { continue; } // an unreadable module cannot hold a candidate; its error is on the module
                        foreach (var t in btf.FindCoreCandidates(key.Item1, key.Item2))
                            if (t.Btf == btf) list.Add(t); // base types were already searched
                    }
                }
                return list.ToArray();
            });
        }

        /// <summary>
        /// Resolves a generated type against this kernel (cached): every same-named candidate is evaluated and each field is
        /// decided, as libbpf decides each access path, among the candidates that have it; when those disagree the field is
        /// <see cref="CoreFieldStatus.Ambiguous"/> (using or checking it throws a <see cref="CoreException"/> that names the
        /// candidates), the others stay usable. Missing fields do not throw: they have <see cref="CoreFieldResolution.Exists"/> false.
        /// </summary>
        /// <exception cref="NotSupportedException">The generated type is anonymous (resolve it through its parent's field).</exception>
        public CoreTypeResolution Resolve(BtfTypeLayout local)
        {
            ArgumentNullException.ThrowIfNull(local);
            if (_roots.TryGetValue(local, out var r)) return r;
            return _roots.GetOrAdd(local, ResolveUncached(local));
        }

#if !BTFBINDINGS_GENERATOR // generated types (IBtfType) exist only at run time
        /// <summary>
        /// Resolves the generated type <typeparamref name="T"/> (see <see cref="Resolve(BtfTypeLayout)"/>). The typed result
        /// lets <c>new T.View(data, resolution)</c> skip the check that the resolution is <typeparamref name="T"/>'s.
        /// </summary>
        public CoreTypeResolution<T> Resolve<T>() where T : IBtfType
        {
            var layout = T.BtfLayout;
            if (layout is null) throw new ArgumentException($"{typeof(T).Name}.BtfLayout is null", nameof(T));
            var r = Resolve(layout);
            if (r is CoreTypeResolution<T> typed) return typed;
            typed = new CoreTypeResolution<T>(r);
            _roots[layout] = typed; // the same resolution, now typed; later untyped lookups get it too
            return typed;
        }
#endif

        /// <summary>Resolves without the cache (benchmarks; the candidate list and member maps stay cached).</summary>
        public CoreTypeResolution ResolveUncached(BtfTypeLayout local)
        {
            if (Vmlinux == null) return CoreTypeResolution.Unverified(local, Name, NonPortableReason ?? "no kernel BTF");
            if (local.BtfName.Length == 0)
                throw new NotSupportedException("an anonymous type has no name to look up in the target (libbpf rejects anonymous roots too); resolve its parent and use Nested() on the field");
            if (local.Kind != BtfKind.Struct && local.Kind != BtfKind.Union)
                throw new NotSupportedException($"{local.BtfName} is a {local.Kind}; field resolution is for structs and unions (use ResolveEnum for enums)");
            return ResolveCandidates(local, RootCandidates(local), context: null);
        }

        /// <summary>libbpf's candidates for a root type: same essential name and kind, or behind a same-named typedef.</summary>
        private IReadOnlyList<BtfType> RootCandidates(BtfTypeLayout local)
            => local.NamedByTypedef ? TypedefCandidates(local.BtfName) : FindCandidates(local.BtfName, local.Kind);

        /// <summary>
        /// For a type the kernel leaves anonymous and names with a typedef (<c>atomic_t</c>): the structs/unions behind
        /// every target TYPEDEF of the same essential name (libbpf takes a typedef root's candidates among typedefs and
        /// then skips them).
        /// </summary>
        public IReadOnlyList<BtfType> TypedefCandidates(string name)
        {
            var list = new List<BtfType>();
            foreach (var td in FindCandidates(name, BtfKind.Typedef))
            {
                BtfType t;
                try { t = td.Btf[td.Btf.Skip(td.Id)]; } catch (BtfException) { continue; }
                if (t.IsComposite && !list.Contains(t)) list.Add(t);
            }
            return list;
        }

        /// <summary>Resolves a generated type against one chosen target type (for example to settle an ambiguity).</summary>
        public CoreTypeResolution ResolveAgainst(BtfTypeLayout local, BtfType target)
        {
            if (!target.IsComposite) throw new ArgumentException($"{target} is not a struct or union", nameof(target));
            return ResolveCandidates(local, new[] { target }, context: null);
        }

        internal CoreTypeResolution ResolveAgainstTargets(BtfTypeLayout local, List<BtfType> targets, string context)
            => ResolveCandidates(local, targets, context);

        internal CoreResolver.MemberMap MembersOf(BtfType t) => _members.GetOrAdd(t, CoreResolver.BuildMembers);

        /// <summary>Like bpftool plus where it lives: <c>[3107] STRUCT 'task_struct' size 3264 (vmlinux)</c>.</summary>
        public string Describe(BtfType t)
        {
            string where = "vmlinux";
            if (Vmlinux != null && !ReferenceEquals(t.Btf, Vmlinux) && !ReferenceEquals(t.Btf, Vmlinux.Base))
            {
                where = t.Btf.SourceName;
                foreach (var m in _modules) if (m.IsLoaded && ReferenceEquals(m.Loaded, t.Btf)) { where = "module " + m.Name; break; }
            }
            string size = t.Kind is BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64 ? $" size {t.Size}" : "";
            return $"{CoreResolver.Describe(t)}{size} ({where})";
        }

        // ---- enums ------------------------------------------------------------------------------------

        /// <summary>
        /// Resolves a generated enum's enumerators by essential name (libbpf <c>ENUMVAL_EXISTS</c>/<c>ENUMVAL_VALUE</c>):
        /// matching candidates (any enumerator found) must agree on every value.
        /// </summary>
        public CoreEnumResolution ResolveEnum(BtfTypeLayout enumLayout)
        {
            ArgumentNullException.ThrowIfNull(enumLayout);
            if (enumLayout.Kind != BtfKind.Enum && enumLayout.Kind != BtfKind.Enum64) throw new ArgumentException("not an enum layout", nameof(enumLayout));
            if (_enums.TryGetValue(enumLayout, out var cached)) return cached;
            return _enums.GetOrAdd(enumLayout, ResolveEnumUncached(enumLayout));
        }

        /// <summary>Resolves the generated enum <typeparamref name="T"/> (see <see cref="ResolveEnum(BtfTypeLayout)"/>); cached.</summary>
        /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not a registered generated enum.</exception>
#if !BTFBINDINGS_GENERATOR // generated enums exist only at run time
        internal CoreEnumResolution<T> ResolveEnum<T>() where T : unmanaged, Enum => new CoreEnumResolution<T>(ResolveEnum(BtfEnum<T>.Layout));

        /// <summary>
        /// This kernel's value of the enumerator that has build-time value <paramref name="value"/> (libbpf's
        /// <c>bpf_core_enum_value</c>), matched by name; in non-portable mode the build-time value.
        /// </summary>
        /// <exception cref="CoreFieldException">The kernel lacks the enumerator (check with <see cref="EnumValueExists{T}"/>).</exception>
        public T ValueOf<T>(T value) where T : unmanaged, Enum => ResolveEnum<T>().ValueOf(value);

        /// <summary>Like <see cref="ValueOf{T}(T)"/>, false when the kernel lacks the enumerator.</summary>
        public bool TryValueOf<T>(T value, out T targetValue) where T : unmanaged, Enum => ResolveEnum<T>().TryGetValue(value, out targetValue);

        /// <summary>True when the kernel has the enumerator (libbpf's <c>bpf_core_enum_value_exists</c>).</summary>
        public bool EnumValueExists<T>(T value) where T : unmanaged, Enum => ResolveEnum<T>().Exists(value);
#endif

        /// <summary>The value of enumerator <paramref name="enumerator"/> of enum <paramref name="enumName"/> in this kernel, if both exist.</summary>
        public bool TryGetEnumValue(string enumName, string enumerator, out ulong value)
        {
            var layout = new BtfTypeLayout(enumName, BtfKind.Enum, 0, Array.Empty<BtfFieldLayout>(), "", 8, new[] { new KeyValuePair<string, ulong>(enumerator, 0) });
            var r = ResolveEnum(layout);
            value = r.Values[0] ?? 0;
            return r.Values[0].HasValue;
        }

        // ---- by name (tools without generated types) ----------------------------------------------------

        private static readonly ConditionalWeakTable<Btf, ConcurrentDictionary<string, Lazy<PlannedLayouts>>> LocalLayouts
            = new ConditionalWeakTable<Btf, ConcurrentDictionary<string, Lazy<PlannedLayouts>>>();

        /// <summary>
        /// The layouts the generator would emit for <paramref name="typeName"/> (and its by-value closure) from
        /// <paramref name="buildTime"/>: the "local" side of a by-name resolution. Cached per BTF and name.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="buildTime"/> has no struct, union or enum of that name.</exception>
        internal static PlannedLayouts LocalLayoutsOf(Btf buildTime, string typeName)
        {
            ArgumentNullException.ThrowIfNull(buildTime);
            if (string.IsNullOrEmpty(typeName)) throw new ArgumentException("type name required", nameof(typeName));
            var byName = LocalLayouts.GetValue(buildTime, _ => new ConcurrentDictionary<string, Lazy<PlannedLayouts>>(StringComparer.Ordinal));
            return byName.GetOrAdd(typeName, n => new Lazy<PlannedLayouts>(() =>
            {
                var plan = Layout.LayoutPlanner.Plan(buildTime, new[] { n }, null, out var unknown);
                if (unknown.Count > 0) throw new ArgumentException($"{buildTime.SourceName} has no struct, union or enum named '{n}'", nameof(typeName));
                return new PlannedLayouts(plan);
            })).Value;
        }

        private static BtfTypeLayout LocalRoot(Btf buildTime, string typeName, out PlannedLayouts layouts)
        {
            layouts = LocalLayoutsOf(buildTime, typeName);
            BtfTypeLayout? found = null;
            foreach (var kv in layouts.All)
                if (!kv.Key.IsNested && kv.Value.BtfName == typeName && (found == null || kv.Value.Kind != BtfKind.Enum && found.Kind == BtfKind.Enum)) found = kv.Value;
            return found ?? layouts[typeName] ?? throw new ArgumentException($"'{typeName}' in {buildTime.SourceName} has no layout (opaque or too large for C#)", nameof(typeName));
        }

        /// <summary>
        /// Resolves the struct or union <paramref name="typeName"/> as the build-time BTF <paramref name="buildTime"/>
        /// (the vmlinux BTF a tool was written against, or a BPF object's <c>.BTF</c>, <c>___flavor</c> types included)
        /// lays it out, against this kernel: what <see cref="Resolve(BtfTypeLayout)"/> does for a generated type, with no
        /// generated code. Cached.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="buildTime"/> has no such type.</exception>
        public CoreTypeResolution Resolve(string typeName, Btf buildTime)
        {
            var root = LocalRoot(buildTime, typeName, out _);
            if (root.Kind == BtfKind.Enum || root.Kind == BtfKind.Enum64)
                throw new ArgumentException($"{typeName} is an enum: use ResolveEnum(string, Btf)", nameof(typeName));
            return Resolve(root);
        }

        /// <summary>The enum <paramref name="enumName"/> of <paramref name="buildTime"/> resolved by enumerator name (see <see cref="ResolveEnum(BtfTypeLayout)"/>).</summary>
        public CoreEnumResolution ResolveEnum(string enumName, Btf buildTime)
        {
            var root = LocalRoot(buildTime, enumName, out _);
            if (root.Kind != BtfKind.Enum && root.Kind != BtfKind.Enum64) throw new ArgumentException($"{enumName} is not an enum", nameof(enumName));
            return ResolveEnum(root);
        }

        /// <summary>
        /// libbpf's field relocation values (<c>bpf_core_field_exists/offset/size</c>, signedness, shifts) for the access
        /// path <paramref name="fieldPath"/> of <paramref name="typeName"/> as laid out in <paramref name="buildTime"/>:
        /// member names separated by dots, optionally indexed (<c>"se.vruntime"</c>, <c>"comm[3]"</c>,
        /// <c>"pids[1].pid"</c>); members of anonymous structs/unions are named directly, as in C. Offsets are from the
        /// start of <paramref name="typeName"/>, bitfield load windows are computed there, as libbpf does.
        /// </summary>
        /// <exception cref="ArgumentException">The path does not name a member of the build-time type.</exception>
        /// <remarks>
        /// With several same-named candidates, the path is matched in each (libbpf's <c>bpf_core_calc_relo_insn</c>): those
        /// where it matches must put it at one bit offset, else this throws; values that still differ (size, signedness,
        /// shifts) are listed in <see cref="CoreFieldRelocation.AmbiguousKinds"/>, the relocations libbpf refuses.
        /// </remarks>
        /// <exception cref="CoreException">The candidates on which the path matches put it at different offsets (libbpf refuses every relocation of it, FIELD_EXISTS too).</exception>
        public CoreFieldRelocation ResolveField(string typeName, string fieldPath, Btf buildTime)
        {
            ArgumentNullException.ThrowIfNull(fieldPath);
            var layout = LocalRoot(buildTime, typeName, out var layouts);
            var merged = Resolve(layout);
            var parts = fieldPath.Split('.');
            var cands = Vmlinux == null || layout.BtfName.Length == 0 ? Array.Empty<BtfType>() : RootCandidates(layout);
            if (cands.Count <= 1) return Walk(merged, layout, layouts, typeName, fieldPath, parts, buildTime);

            // libbpf matches the whole path in every candidate and compares the results (bpf_core_calc_relo_insn).
            var single = _single.GetOrAdd(layout, l =>
            {
                var list = new CoreTypeResolution[cands.Count];
                for (int c = 0; c < list.Length; c++) list[c] = ResolveCandidates(l, new[] { cands[c] }, context: null);
                return list;
            });
            var rel = new CoreFieldRelocation[single.Length];
            var matching = new List<int>(single.Length);
            for (int c = 0; c < single.Length; c++)
            {
                rel[c] = Walk(single[c], layout, layouts, typeName, fieldPath, parts, buildTime);
                if (rel[c].Exists) matching.Add(c);
            }
            if (matching.Count == 0)
            {
                int primary = merged.Target is BtfType t ? Math.Max(0, IndexOf(cands, t)) : 0;
                return rel[primary];
            }
            var first = rel[matching[0]];
            var refused = CoreRelocationKinds.None;
            bool loadable = true;
            foreach (int c in matching)
            {
                refused |= CoreResolver.Disagreement(first.Values, rel[c].Values);
                loadable &= rel[c].IsLoadable;
            }
            string? viewProblem = ViewProblem(merged, layouts, layout, parts);
            if (refused == CoreRelocationKinds.None && loadable && viewProblem == null) return first;
            var types = matching.Select(c => cands[c]).ToArray();
            var ids = types.Select(Describe).ToArray();
            string summary = AmbiguitySummary(types, fieldPath, matching.Select(c => rel[c].BitOffset).ToArray(), refused);
            string why = AmbiguityText(typeName + "." + fieldPath, summary, refused, types, matching.Select(c => rel[c].Describe()).ToArray());
            if (refused == CoreRelocationKinds.All)
                throw new CoreException(why + ".", typeName, Name, ids, fieldPath) { Summary = summary };
            return refused == CoreRelocationKinds.None ? first.Ambiguous(refused, loadable, first.Problem, null, ids, viewProblem)
                : first.Ambiguous(refused, loadable, why, summary, ids, viewProblem);
        }

        private readonly ConcurrentDictionary<BtfTypeLayout, CoreTypeResolution[]> _single = new ConcurrentDictionary<BtfTypeLayout, CoreTypeResolution[]>(ReferenceComparer<BtfTypeLayout>.Instance);

        private static int IndexOf(IReadOnlyList<BtfType> list, BtfType t)
        {
            for (int i = 0; i < list.Count; i++) if (list[i].Id == t.Id && ReferenceEquals(list[i].Btf, t.Btf)) return i;
            return -1;
        }

        /// <summary>
        /// Why a generated view cannot reach the path though libbpf relocates it: a struct member on the way that the
        /// candidates put at different offsets (the view places that member first; libbpf sums each candidate's whole path).
        /// </summary>
        private static string? ViewProblem(CoreTypeResolution res, PlannedLayouts layouts, BtfTypeLayout layout, string[] parts)
        {
            for (int k = 0; k < parts.Length - 1; k++)
            {
                string name = parts[k];
                int br = name.IndexOf('[');
                if (br >= 0) name = name.Substring(0, br);
                int i = res.TryIndexOf(name);
                if (i < 0) return null;
                var f = res.Fields[i];
                if (f.IsAmbiguous && (br >= 0 || (f.AmbiguousKinds & CoreRelocationKinds.ByteOffset) != 0))
                    return $"{f.AmbiguitySummary}, and a view reaches {string.Join(".", parts)} through {parts[k]}";
                if (!f.Exists) return null;
                var next = layouts.FieldTypeLayout(layout, i);
                if (next == null) return null;
                try { res = br >= 0 ? res.Element(i, next) : res.Nested(i, next); }
                catch (CoreException e) { return e.Summary ?? e.Message; }
                layout = next;
            }
            return null;
        }

        /// <summary>The access path walked through one resolution (each member's resolution in turn), relocated from the root.</summary>
        private CoreFieldRelocation Walk(CoreTypeResolution res, BtfTypeLayout layout, PlannedLayouts layouts, string typeName, string fieldPath, string[] parts, Btf buildTime)
        {
            ulong baseBits = 0;
            string label = typeName;
            for (int k = 0; k < parts.Length; k++)
            {
                string part = parts[k], name = part;
                long index = -1;
                int br = part.IndexOf('[');
                if (br >= 0)
                {
                    if (!part.EndsWith(']') || !long.TryParse(part.AsSpan(br + 1, part.Length - br - 2), out index) || index < 0)
                        throw new ArgumentException($"bad path component '{part}' in '{fieldPath}'", nameof(fieldPath));
                    name = part.Substring(0, br);
                }
                int i = res.TryIndexOf(name);
                if (i < 0) throw new ArgumentException($"{label} has no member '{name}' in {buildTime.SourceName} (path '{fieldPath}')", nameof(fieldPath));
                var f = res.Fields[i];
                var lf = layout.Fields[i];
                label += "." + part;
                bool last = k == parts.Length - 1;
                if (f.IsAmbiguous) throw res.FieldError(f, null);
                if (!f.Exists) return CoreFieldRelocation.Missing(fieldPath, f.Problem ?? "not found").At(f);
                if (index >= 0)
                {
                    if (lf.Kind != BtfFieldKind.Array && lf.Kind != BtfFieldKind.FlexibleArray)
                        throw new ArgumentException($"{label}: '{name}' is not an array", nameof(fieldPath));
                    if (!f.IsFlexibleArray && (ulong)index >= f.ArrayLength)
                        return CoreFieldRelocation.Missing(fieldPath, $"index {index} is beyond the target's {f.ArrayLength} elements").At(f);
                    ulong elemBits = baseBits + f.BitOffset + (ulong)index * f.ArrayElementSize * 8;
                    if (last)
                    {
                        bool signed = false;
                        if (f.TargetType is BtfType arr && arr.Kind == BtfKind.Array)
                        {
                            try { signed = arr.Btf[arr.Btf.Skip(arr.ArrayElementTypeId)].IsSigned; } catch (BtfException) { }
                        }
                        return CoreFieldRelocation.Plain(fieldPath, elemBits, f.ArrayElementSize, signed, IsBigEndian).At(f);
                    }
                    var elemLayout = layouts.FieldTypeLayout(layout, i)
                        ?? throw new ArgumentException($"{label}: the elements are not structs or unions", nameof(fieldPath));
                    res = res.Element(i, elemLayout);
                    layout = elemLayout;
                    baseBits = elemBits;
                    continue;
                }
                if (last)
                {
                    ulong bitOff = baseBits + f.BitOffset;
                    if (!f.IsBitfield) return CoreFieldRelocation.Plain(fieldPath, bitOff, f.ByteSize, f.IsSigned, IsBigEndian).At(f);
                    // The load window is computed from the root, as libbpf does (a nested member's bits may straddle differently).
                    uint typeSize = f.TargetType is BtfType tt && (tt.Kind == BtfKind.Int || tt.Kind == BtfKind.Enum || tt.Kind == BtfKind.Enum64) ? tt.Size : f.ByteSize;
                    var w = Layout.BitfieldWindows.Bitfield(bitOff, f.BitSize, typeSize, IsBigEndian); // the one window rule (libbpf's)
                    bool fits = w.IsLoadable;
                    return new CoreFieldRelocation(fieldPath, true, fits ? null : "the bitfield cannot be read with one naturally aligned load of at most 8 bytes (libbpf: can't be satisfied for bitfield)",
                        bitOff, f.BitSize, true, w.ByteOffset, w.ByteSize, f.IsSigned, w.LeftShift, w.RightShift, fits).At(f);
                }
                var next = layouts.FieldTypeLayout(layout, i);
                if (next == null || lf.Kind != BtfFieldKind.Struct)
                    throw new ArgumentException($"{label} is not a struct or union, so '{parts[k + 1]}' cannot follow it", nameof(fieldPath));
                res = res.Nested(i, next);
                layout = next;
                baseBits += f.BitOffset;
            }
            throw new ArgumentException("empty field path", nameof(fieldPath));
        }

        /// <summary><c>bpf_core_field_exists</c> by name (see <see cref="ResolveField"/>).</summary>
        public bool FieldExists(string typeName, string fieldPath, Btf buildTime) => ResolveField(typeName, fieldPath, buildTime).Exists;

        /// <summary><c>bpf_core_field_offset</c> by name: the byte offset of <paramref name="fieldPath"/> from the start of <paramref name="typeName"/> in this kernel (see <see cref="ResolveField"/>).</summary>
        /// <exception cref="CoreFieldException">The kernel lacks the field.</exception>
        public uint FieldOffset(string typeName, string fieldPath, Btf buildTime)
        {
            var r = ResolveField(typeName, fieldPath, buildTime);
            if (!r.Exists)
                throw new CoreFieldException($"{typeName}.{fieldPath} does not exist in kernel {Name}: {r.Problem}", typeName, fieldPath, Name, Array.Empty<string>(), r.Problem ?? "");
            if ((r.AmbiguousKinds & CoreRelocationKinds.ByteOffset) != 0)
                throw new CoreException(r.Problem + ".", typeName, Name, r.AmbiguousCandidates, fieldPath);
            return r.ByteOffset;
        }

        /// <inheritdoc />
        public override string ToString() => Name;

        private sealed class ReferenceComparer<T> : IEqualityComparer<T> where T : class
        {
            public static readonly ReferenceComparer<T> Instance = new ReferenceComparer<T>();
            public bool Equals(T? x, T? y) => ReferenceEquals(x, y);
            public int GetHashCode(T obj) => RuntimeHelpers.GetHashCode(obj);
        }
    }
}
