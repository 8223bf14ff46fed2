using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace BtfBindings
{
    /// <summary>Where kernel BTF was found.</summary>
    internal enum KernelBtfOrigin
    {
        /// <summary>Nothing was found: non-portable mode.</summary>
        None,
        /// <summary><see cref="KernelBtfOptions.ExplicitPath"/>.</summary>
        ExplicitPath,
        /// <summary>The environment variable (<see cref="KernelBtfOptions.EnvironmentVariable"/>).</summary>
        EnvironmentVariable,
        /// <summary><c>/sys/kernel/btf/vmlinux</c> (with module BTF from <c>/sys/kernel/btf/*</c>).</summary>
        Sysfs,
        /// <summary>One of libbpf's fallback paths for <c>uname -r</c> (a vmlinux image, ELF or raw BTF).</summary>
        FallbackPath,
        /// <summary>A BTFHub-style cache folder (<c>distro/version/arch/release.btf[.tar.xz]</c>).</summary>
        BtfHubCache,
        /// <summary>BTF embedded in the application (a manifest resource or a byte array).</summary>
        Embedded,
    }

    /// <summary>Module BTF (split over vmlinux), parsed on first use.</summary>
    internal sealed class KernelModuleBtf
    {
        private readonly Func<Btf, Btf> _load;
        private Btf? _btf;
        private readonly object _gate = new object();

        /// <summary>A module whose BTF is read from <paramref name="path"/> when first needed.</summary>
        public KernelModuleBtf(string name, string path) : this(name, path, b => Btf.Load(path, b)) { }

        /// <summary>A module whose BTF comes from <paramref name="load"/> (given the vmlinux base).</summary>
        public KernelModuleBtf(string name, string? path, Func<Btf, Btf> load) { Name = name; Path = path; _load = load; }

        /// <summary>The module name (<c>ip_vs</c>).</summary>
        public string Name { get; }
        /// <summary>Where the BTF is read from, if a file.</summary>
        public string? Path { get; }
        /// <summary>True once parsed.</summary>
        public bool IsLoaded => Volatile.Read(ref _btf) != null;
        internal Btf? Loaded => Volatile.Read(ref _btf);

        /// <summary>Parses the module BTF over <paramref name="vmlinux"/> (once).</summary>
        public Btf Load(Btf vmlinux)
        {
            var b = Volatile.Read(ref _btf);
            if (b != null) return b;
            lock (_gate)
            {
                if (_btf == null) _btf = _load(vmlinux);
                return _btf;
            }
        }

        /// <inheritdoc />
        public override string ToString() => Name + (Path != null ? " (" + Path + ")" : "");
    }

    /// <summary>Kernel BTF shipped inside the application (for kernels built without <c>CONFIG_DEBUG_INFO_BTF</c>).</summary>
    internal sealed class EmbeddedKernelBtf
    {
        private readonly Func<byte[]> _bytes;

        /// <summary>The assembly and prefix this entry was listed from by <see cref="FromResources"/> (else null).</summary>
        internal Assembly? SourceAssembly { get; private set; }
        internal string? SourcePrefix { get; private set; }

        /// <summary>Creates an entry.</summary>
        /// <param name="name">For messages.</param>
        /// <param name="release">The kernel release (<c>uname -r</c>) it describes, or null for "any kernel" (used when no entry names the running release).</param>
        /// <param name="bytes">The BTF in any container <see cref="BtfContainer.Parse(byte[], string, Btf)"/> reads (raw, ELF, gzip, xz, tar.xz).</param>
        /// <param name="machine">The architecture (<c>uname -m</c>, any spelling <see cref="Compatibility.KernelTargetInfo.NormalizeArch"/> knows), or null when not known.</param>
        /// <param name="minimized">True when the BTF was minimized to the program's types (the build's <c>Embed="true"</c> targets).</param>
        public EmbeddedKernelBtf(string name, string? release, Func<byte[]> bytes, string? machine = null, bool minimized = false)
        {
            Name = name; Release = release; _bytes = bytes; Minimized = minimized;
            Machine = string.IsNullOrEmpty(machine) ? null : Compatibility.KernelTargetInfo.NormalizeArch(machine) ?? machine;
        }

        /// <summary>For messages.</summary>
        public string Name { get; }
        /// <summary>The release it is for, or null for any.</summary>
        public string? Release { get; }
        /// <summary>The architecture it is for in <c>uname -m</c> spelling, or null when not known (then only the release decides).</summary>
        public string? Machine { get; }
        /// <summary>True when minimized to the program's types at build time.</summary>
        public bool Minimized { get; }

        /// <summary>"5.10.0-46-amd64 (x86_64)": how lists of entries name it.</summary>
        public string Label => (Release ?? "any release") + (Machine != null ? " (" + Machine + ")" : "");

        /// <summary>An entry over a byte array.</summary>
        public static EmbeddedKernelBtf FromBytes(string name, byte[] bytes, string? release = null, string? machine = null)
            => new EmbeddedKernelBtf(name, release, () => (byte[])bytes.Clone(), machine);

        private static readonly List<EmbeddedKernelBtf> RegistryList = new List<EmbeddedKernelBtf>();

        /// <summary>Entries registered by generated code (<see cref="KernelBtfOptions.RegisterEmbedded"/>), in registration order.</summary>
        internal static IReadOnlyList<EmbeddedKernelBtf> Registered
        {
            get { lock (RegistryList) return RegistryList.ToArray(); }
        }

        /// <summary>Removes an entry (tests: the registry is process-wide).</summary>
        internal static void Unregister(EmbeddedKernelBtf e)
        {
            lock (RegistryList) RegistryList.RemoveAll(x => x.Name == e.Name && x.Release == e.Release && x.Machine == e.Machine);
        }

        /// <summary>Adds an entry to the process-wide registry (once per name, release and machine).</summary>
        internal static void Register(EmbeddedKernelBtf e)
        {
            lock (RegistryList)
            {
                foreach (var x in RegistryList)
                    if (x.Name == e.Name && x.Release == e.Release && x.Machine == e.Machine) return;
                RegistryList.Add(e);
            }
        }

        /// <summary>
        /// Every manifest resource of <paramref name="assembly"/> whose name starts with <paramref name="prefix"/>, e.g.
        /// <c>&lt;EmbeddedResource Include="5.4.0-1010-aws.btf.tar.xz" LogicalName="btf/5.4.0-1010-aws.btf.tar.xz" /&gt;</c>.
        /// The release is the name after the prefix without its <c>.btf</c>, <c>.gz</c>, <c>.xz</c>, <c>.tar</c> extensions;
        /// <c>btf/vmlinux.btf</c> (release "vmlinux") is for any kernel.
        /// </summary>
        public static IReadOnlyList<EmbeddedKernelBtf> FromResources(Assembly assembly, string prefix = "btf/")
        {
            var list = new List<EmbeddedKernelBtf>();
            foreach (var res in assembly.GetManifestResourceNames().OrderBy(n => n, StringComparer.Ordinal))
            {
                if (!res.StartsWith(prefix, StringComparison.Ordinal)) continue;
                string rel = res.Substring(prefix.Length);
                foreach (var ext in new[] { ".xz", ".gz", ".tar", ".btf" })
                    if (rel.EndsWith(ext, StringComparison.Ordinal)) rel = rel.Substring(0, rel.Length - ext.Length);
                string name = res;
                list.Add(new EmbeddedKernelBtf("resource " + res, rel == "vmlinux" || rel.Length == 0 ? null : rel, () =>
                {
                    using var s = assembly.GetManifestResourceStream(name) ?? throw new BtfException("resource vanished", name);
                    using var ms = new MemoryStream();
                    s.CopyTo(ms);
                    return ms.ToArray();
                }) { SourceAssembly = assembly, SourcePrefix = prefix });
            }
            return list;
        }

        internal byte[] Bytes() => _bytes();
    }

    /// <summary>Where <see cref="KernelBtf.Locate"/> looks. Every part is replaceable so tests can fake a machine.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class KernelBtfOptions
    {
        /// <summary>The name of the environment variable holding a BTF path that overrides discovery.</summary>
        public const string DefaultEnvironmentVariable = "BTFBINDINGS_KERNEL_BTF";

        /// <summary>The name of the environment variable naming a BTFHub-style cache folder.</summary>
        public const string DefaultBtfHubVariable = "BTFBINDINGS_BTFHUB_DIR";

        /// <summary>Use this BTF file (any container) and nothing else; failing to read it is an error.</summary>
        public string? ExplicitPath { get; set; }

        /// <summary>Environment variable with a BTF path (same meaning as <see cref="ExplicitPath"/>); null to ignore the environment.</summary>
        public string? EnvironmentVariable { get; set; } = DefaultEnvironmentVariable;

        /// <summary>Reads environment variables (tests replace it).</summary>
        public Func<string, string?> GetEnvironmentVariable { get; set; } = Environment.GetEnvironmentVariable;

        /// <summary>Prefix for every fixed system path (<c>/sys</c>, <c>/boot</c>, <c>/lib/modules</c>, <c>/proc</c>, <c>/etc/os-release</c>): a fake root for tests, a container's host mount, …</summary>
        public string RootDirectory { get; set; } = "/";

        /// <summary>The kernel release (<c>uname -r</c>); default: <c>/proc/sys/kernel/osrelease</c> under <see cref="RootDirectory"/>.</summary>
        public string? KernelRelease { get; set; }

        /// <summary>The machine (<c>uname -m</c>: x86_64, aarch64, s390x…); default: <c>/proc/sys/kernel/arch</c>, else the process architecture.</summary>
        public string? Machine { get; set; }

        /// <summary>Look at <c>/sys/kernel/btf/vmlinux</c>.</summary>
        public bool UseSysfs { get; set; } = true;

        /// <summary>Also offer the module BTF files of <c>/sys/kernel/btf</c> (loaded only when vmlinux has no candidate).</summary>
        public bool IncludeModules { get; set; } = true;

        /// <summary>Try libbpf's fallback paths for the release.</summary>
        public bool UseFallbackPaths { get; set; } = true;

        /// <summary>A BTFHub-style cache folder (default: the <see cref="DefaultBtfHubVariable"/> environment variable).</summary>
        public string? BtfHubDirectory { get; set; }

        /// <summary>The distribution id for the BTFHub layout (default: <c>ID</c> from os-release).</summary>
        public string? DistroId { get; set; }

        /// <summary>The distribution version for the BTFHub layout (default: <c>VERSION_ID</c> from os-release).</summary>
        public string? DistroVersion { get; set; }

        /// <summary>
        /// BTF shipped with the application, tried last together with the resources of <see cref="ResourceAssembly"/>
        /// (these entries first among equals): an entry for the running release first, then release-less ones.
        /// </summary>
        internal List<EmbeddedKernelBtf> Embedded { get; } = new List<EmbeddedKernelBtf>();

        /// <summary>
        /// Ships <paramref name="bytes"/> (BTF in any container <see cref="Btf.Load"/> reads: raw, ELF, gzip, xz, tar.xz) with
        /// the application, for kernel <paramref name="release"/> (<c>uname -r</c>), or for any kernel when null (used when no
        /// entry names the running release). Tried last, before the resources of <see cref="ResourceAssembly"/>.
        /// </summary>
        /// <param name="name">How messages name it.</param>
        /// <param name="bytes">The BTF; read only if chosen (copied when it is).</param>
        /// <param name="release">The release it describes, or null for any.</param>
        public KernelBtfOptions AddEmbedded(string name, byte[] bytes, string? release = null)
        {
            Embedded.Add(EmbeddedKernelBtf.FromBytes(name, bytes ?? throw new ArgumentNullException(nameof(bytes)), release));
            return this;
        }

        /// <summary>
        /// Registers kernel BTF that generated code embeds in the application (<c>&lt;BtfTarget Include="…" Embed="true" /&gt;</c>:
        /// minimized to the program's types, compressed), for every <see cref="TargetKernel.Current"/> in the process: tried
        /// after <see cref="AddEmbedded"/>'s entries and before the resources of <see cref="ResourceAssembly"/>, chosen only
        /// for the running kernel's release and architecture. Called by a generated module initializer; not for user code.
        /// </summary>
        /// <param name="name">How messages name it (the target's path in its BTFHub tree).</param>
        /// <param name="release">The kernel release (<c>uname -r</c>).</param>
        /// <param name="machine">The architecture (<c>uname -m</c>).</param>
        /// <param name="bytes">Returns the BTF (gzip'd raw BTF); called only if the entry is chosen.</param>
        [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
        public static void RegisterEmbedded(string name, string release, string machine, Func<byte[]> bytes)
            => EmbeddedKernelBtf.Register(new EmbeddedKernelBtf(name ?? throw new ArgumentNullException(nameof(name)), release, bytes ?? throw new ArgumentNullException(nameof(bytes)), machine, minimized: true));

        /// <summary>Whether entries registered by generated code (<see cref="RegisterEmbedded"/>) are searched (default true; tests turn it off).</summary>
        internal bool UseRegistered { get; set; } = true;

        /// <summary>
        /// An assembly whose manifest resources named <see cref="ResourcePrefix"/>… are searched as embedded BTF after
        /// <see cref="Embedded"/>'s entries, with the naming of <see cref="EmbeddedKernelBtf.FromResources"/>
        /// (<c>btf/RELEASE.btf[.gz|.xz|.tar.xz]</c> for one release, <c>btf/vmlinux.btf</c> for any). Default: the
        /// application's entry assembly (<see cref="Assembly.GetEntryAssembly"/>), or null when there is none (a native
        /// host); null searches <see cref="Embedded"/> only. Its resource names are listed only when discovery gets that
        /// far, and nothing is read unless one matches.
        /// </summary>
        public Assembly? ResourceAssembly { get; set; } = Assembly.GetEntryAssembly();

        /// <summary>The resource name prefix for <see cref="ResourceAssembly"/> (default <c>btf/</c>).</summary>
        public string ResourcePrefix { get; set; } = "btf/";
    }

    /// <summary>The result of kernel BTF discovery: the BTF, where it came from, and everything tried.</summary>
    internal sealed class KernelBtfSource
    {
        internal KernelBtfSource(KernelBtfOrigin origin, string? path, string? release, Btf? vmlinux, IReadOnlyList<KernelModuleBtf> modules, IReadOnlyList<string> attempts)
        {
            Origin = origin; Path = path; Release = release; Vmlinux = vmlinux; Modules = modules; Attempts = attempts;
        }

        /// <summary>Where the BTF came from (<see cref="KernelBtfOrigin.None"/> in non-portable mode).</summary>
        public KernelBtfOrigin Origin { get; }
        /// <summary>The file (or resource) read.</summary>
        public string? Path { get; }
        /// <summary>The running kernel's release, when known.</summary>
        public string? Release { get; }
        /// <summary>The kernel's BTF, or null.</summary>
        public Btf? Vmlinux { get; }
        /// <summary>Module BTF offered with it (sysfs only).</summary>
        public IReadOnlyList<KernelModuleBtf> Modules { get; }
        /// <summary>Every location looked at, in order, with what happened.</summary>
        public IReadOnlyList<string> Attempts { get; }
        /// <summary>The embedded entry used (<see cref="KernelBtfOrigin.Embedded"/>), else null.</summary>
        public EmbeddedKernelBtf? Embedded { get; internal set; }
        /// <summary>True when BTF was found, so layouts can be verified and relocated.</summary>
        public bool IsPortable => Vmlinux != null;

        /// <summary>One sentence for logs: where the BTF came from, or that layouts cannot be verified.</summary>
        public string Description => Vmlinux != null
            ? $"kernel BTF for {Release ?? "an unknown release"} from {Path} ({OriginText(Origin)}{EmbeddedText()}{(Modules.Count > 0 ? $", {Modules.Count} modules" : "")})"
            : $"no kernel BTF found for {(Release != null ? "kernel " + Release : "this kernel")}: layouts cannot be verified (non-portable mode; the build-time offsets are used as they are). Tried: {string.Join("; ", Attempts)}";

        private string EmbeddedText() => Embedded == null ? ""
            : $": the entry for release {Embedded.Release ?? "(any)"} on {Embedded.Machine ?? "any architecture"}{(Embedded.Minimized ? ", minimized to the program's types" : "")}";

        private static string OriginText(KernelBtfOrigin o) => o switch
        {
            KernelBtfOrigin.ExplicitPath => "explicit path",
            KernelBtfOrigin.EnvironmentVariable => "environment override",
            KernelBtfOrigin.Sysfs => "sysfs",
            KernelBtfOrigin.FallbackPath => "libbpf fallback path",
            KernelBtfOrigin.BtfHubCache => "BTFHub cache",
            KernelBtfOrigin.Embedded => "embedded in the application",
            _ => "none",
        };

        /// <summary>The target for CO-RE resolution (non-portable when nothing was found).</summary>
        public TargetKernel CreateTarget() => TargetKernel.FromSource(this);

        /// <inheritdoc />
        public override string ToString() => Description;
    }

    /// <summary>Finds the running kernel's BTF the way libbpf does, plus a BTFHub cache and BTF embedded in the application.</summary>
    internal static class KernelBtf
    {
        /// <summary>libbpf's fallback locations for a release (<c>btf__load_vmlinux_btf</c>), each read as ELF or raw BTF.</summary>
        public static IReadOnlyList<string> FallbackPaths(string release) => new[]
        {
            $"/boot/vmlinux-{release}",
            $"/lib/modules/{release}/vmlinux-{release}",
            $"/lib/modules/{release}/build/vmlinux",
            $"/usr/lib/modules/{release}/kernel/vmlinux",
            $"/usr/lib/debug/boot/vmlinux-{release}",
            $"/usr/lib/debug/boot/vmlinux-{release}.debug",
            $"/usr/lib/debug/lib/modules/{release}/vmlinux",
        };

        /// <summary>
        /// Finds kernel BTF in this order: <see cref="KernelBtfOptions.ExplicitPath"/>; the environment variable;
        /// <c>/sys/kernel/btf/vmlinux</c> (+ module BTF); libbpf's fallback paths for <c>uname -r</c>; the BTFHub cache
        /// folder; BTF embedded in the application (<see cref="KernelBtfOptions.Embedded"/>, then the <c>btf/</c> manifest
        /// resources of <see cref="KernelBtfOptions.ResourceAssembly"/>, by default the entry assembly). With none, the
        /// result is non-portable and says so.
        /// </summary>
        /// <exception cref="BtfException">An explicit path (option or environment variable) cannot be read.</exception>
        public static KernelBtfSource Locate(KernelBtfOptions? options = null)
        {
            var o = options ?? new KernelBtfOptions();
            var attempts = new List<string>();
            string? release = o.KernelRelease ?? ReadLine(Under(o, "/proc/sys/kernel/osrelease"));
            var none = Array.Empty<KernelModuleBtf>();

            if (!string.IsNullOrEmpty(o.ExplicitPath))
                return new KernelBtfSource(KernelBtfOrigin.ExplicitPath, o.ExplicitPath, release, Btf.Load(o.ExplicitPath!), none, new[] { o.ExplicitPath + ": used (explicit path)" });

            if (o.EnvironmentVariable != null)
            {
                var env = o.GetEnvironmentVariable(o.EnvironmentVariable);
                if (!string.IsNullOrWhiteSpace(env))
                {
                    try { return new KernelBtfSource(KernelBtfOrigin.EnvironmentVariable, env, release, Btf.Load(env!), none, new[] { $"{o.EnvironmentVariable}={env}: used" }); }
                    catch (BtfException e) { throw new BtfException($"{o.EnvironmentVariable} names BTF that cannot be read: {e.Message}", env, inner: e); }
                }
                attempts.Add(o.EnvironmentVariable + ": not set");
            }

            if (o.UseSysfs)
            {
                string p = Under(o, "/sys/kernel/btf/vmlinux");
                var btf = TryLoad(p, attempts);
                if (btf != null)
                {
                    var modules = new List<KernelModuleBtf>();
                    if (o.IncludeModules)
                    {
                        try
                        {
                            foreach (var f in Directory.GetFiles(Path.GetDirectoryName(p)!).OrderBy(x => x, StringComparer.Ordinal))
                                if (Path.GetFileName(f) != "vmlinux") modules.Add(new KernelModuleBtf(Path.GetFileName(f), f));
                        }
                        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { attempts.Add("module BTF: " + e.Message); }
                    }
                    return new KernelBtfSource(KernelBtfOrigin.Sysfs, p, release, btf, modules, attempts);
                }
            }

            if (o.UseFallbackPaths)
            {
                if (release == null) attempts.Add("libbpf fallback paths: kernel release unknown");
                else
                    foreach (var fp in FallbackPaths(release))
                    {
                        var btf = TryLoad(Under(o, fp), attempts);
                        if (btf != null) return new KernelBtfSource(KernelBtfOrigin.FallbackPath, Under(o, fp), release, btf, none, attempts);
                    }
            }

            string? hub = o.BtfHubDirectory ?? o.GetEnvironmentVariable(KernelBtfOptions.DefaultBtfHubVariable);
            if (!string.IsNullOrWhiteSpace(hub))
            {
                if (release == null) attempts.Add($"BTFHub cache {hub}: kernel release unknown");
                else
                {
                    foreach (var fp in BtfHubPaths(o, hub!, release))
                    {
                        var btf = TryLoad(fp, attempts);
                        if (btf != null) return new KernelBtfSource(KernelBtfOrigin.BtfHubCache, fp, release, btf, none, attempts);
                    }
                }
            }
            else attempts.Add($"BTFHub cache: none configured ({KernelBtfOptions.DefaultBtfHubVariable})");

            var embedded = EmbeddedEntries(o, attempts);
            string machine = Machine(o);
            bool SameArch(EmbeddedKernelBtf e) => e.Machine == null || e.Machine == machine;
            // An entry for this release and architecture first, then one for this release whose architecture is not known,
            // then release-less ones; an entry for this release built for another architecture is never used.
            var ordered = embedded.Where(e => e.Release != null && e.Release == release && e.Machine != null && SameArch(e))
                .Concat(embedded.Where(e => e.Release != null && e.Release == release && e.Machine == null))
                .Concat(embedded.Where(e => e.Release == null && SameArch(e))).ToList();
            foreach (var e in embedded)
                if (e.Release == release && !SameArch(e)) attempts.Add($"{e.Name}: for {e.Machine}, not this machine ({machine})");
            foreach (var e in ordered)
            {
                try
                {
                    var btf = BtfContainer.Parse(e.Bytes(), "embedded:" + e.Name);
                    attempts.Add(e.Name + ": used");
                    return new KernelBtfSource(KernelBtfOrigin.Embedded, e.Name, release, btf, none, attempts) { Embedded = e };
                }
                catch (BtfException ex) { attempts.Add(e.Name + ": " + ex.Message); }
            }
            if (embedded.Count == 0) attempts.Add("embedded BTF: none");
            else if (ordered.Count == 0)
            {
                const int shown = 12;
                var labels = embedded.Select(e => e.Label).Distinct().ToList();
                attempts.Add($"embedded BTF: none for release {release ?? "(unknown)"} on {machine} among {embedded.Count}: "
                    + string.Join(", ", labels.Take(shown)) + (labels.Count > shown ? $" and {labels.Count - shown} more" : ""));
            }

            return new KernelBtfSource(KernelBtfOrigin.None, null, release, null, none, attempts);
        }

        /// <summary><see cref="KernelBtfOptions.Embedded"/>, then the resources of <see cref="KernelBtfOptions.ResourceAssembly"/> unless already listed there.</summary>
        private static List<EmbeddedKernelBtf> EmbeddedEntries(KernelBtfOptions o, List<string> attempts)
        {
            var list = new List<EmbeddedKernelBtf>(o.Embedded);
            if (o.UseRegistered)
            {
                RunRegistrations();
                list.AddRange(EmbeddedKernelBtf.Registered);
            }
            var asm = o.ResourceAssembly;
            if (asm == null) return list;
            string prefix = o.ResourcePrefix ?? "btf/";
            if (o.Embedded.Any(e => e.SourceAssembly == asm && e.SourcePrefix == prefix)) return list;
            string asmName = asm.GetName().Name ?? asm.FullName ?? "assembly";
            try
            {
                var res = EmbeddedKernelBtf.FromResources(asm, prefix);
                if (res.Count == 0) attempts.Add($"resources {prefix}* of {asmName}: none");
                list.AddRange(res);
            }
            catch (NotSupportedException e) { attempts.Add($"resources of {asmName}: {e.Message}"); } // a dynamic assembly
            return list;
        }

#if !BTFBINDINGS_GENERATOR
        /// <summary>
        /// Embedded BTF registers itself from a generated module initializer, which the runtime runs only once something in
        /// that module is used: before <c>Main</c> for the application, but for a library holding the types (a
        /// <c>BtfTypesAssembly</c>, a class library) maybe not yet when discovery runs. So the module initializers of the
        /// loaded assemblies that reference this one are run here (each runs once in a process anyway; Native AOT has run
        /// them all at start-up).
        /// </summary>
        [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026",
            Justification = "Only the names of the references are compared; a reference the trimmer removed is one no code uses, so there is nothing to register from it.")]
        private static void RunRegistrations()
        {
            string self = typeof(KernelBtf).Assembly.GetName().Name ?? "BtfBindings";
            foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (asm.IsDynamic) continue;
                try
                {
                    foreach (var r in asm.GetReferencedAssemblies())
                        if (r.Name == self) { RuntimeHelpers.RunModuleConstructor(asm.ManifestModule.ModuleHandle); break; }
                }
                catch (Exception e) when (e is NotSupportedException || e is TypeInitializationException || e is FileNotFoundException || e is BadImageFormatException) { }
            }
        }
#else
        private static void RunRegistrations() { }
#endif

        /// <summary>The files looked for in a BTFHub-style cache: <c>ID/VERSION_ID/ARCH/RELEASE.btf[.tar.xz]</c>, then <c>RELEASE.btf[.tar.xz]</c> at the top.</summary>
        public static IReadOnlyList<string> BtfHubPaths(KernelBtfOptions o, string dir, string release)
        {
            var (id, ver) = OsRelease(o);
            var arches = new List<string>();
            string machine = Machine(o);
            arches.Add(machine);
            string alias = machine switch { "aarch64" => "arm64", "x86_64" => "x86_64", "arm64" => "aarch64", "amd64" => "x86_64", _ => machine };
            if (!arches.Contains(alias)) arches.Add(alias);
            var files = new List<string>();
            if (id != null && ver != null)
                foreach (var a in arches)
                    foreach (var ext in new[] { ".btf", ".btf.tar.xz" })
                        files.Add(Path.Combine(dir, id, ver, a, release + ext));
            foreach (var ext in new[] { ".btf", ".btf.tar.xz" }) files.Add(Path.Combine(dir, release + ext));
            return files;
        }

        private static (string? id, string? version) OsRelease(KernelBtfOptions o)
        {
            string? id = o.DistroId, ver = o.DistroVersion;
            if (id != null && ver != null) return (id, ver);
            foreach (var p in new[] { "/etc/os-release", "/usr/lib/os-release" })
            {
                string f = Under(o, p);
                if (!File.Exists(f)) continue;
                try
                {
                    foreach (var line in File.ReadAllLines(f))
                    {
                        int eq = line.IndexOf('=');
                        if (eq <= 0) continue;
                        string k = line.Substring(0, eq).Trim(), v = line.Substring(eq + 1).Trim().Trim('"', '\'');
                        if (k == "ID") id ??= v;
                        else if (k == "VERSION_ID") ver ??= v;
                    }
                }
                catch (IOException) { }
                break;
            }
            return (id, ver);
        }

        /// <summary>
        /// The running machine in <c>uname -m</c> spelling: <see cref="KernelBtfOptions.Machine"/>, else
        /// <c>/proc/sys/kernel/arch</c>, else the process architecture; normalised by the target naming rule (arm64 is aarch64).
        /// </summary>
        internal static string Machine(KernelBtfOptions o)
        {
            string m = o.Machine ?? ReadLine(Under(o, "/proc/sys/kernel/arch")) ?? ProcessMachine();
            return Compatibility.KernelTargetInfo.NormalizeArch(m) ?? m;
        }

        private static string ProcessMachine() => RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            Architecture.X86 => "i686",
            Architecture.Arm => "armv7l",
#if !BTFBINDINGS_GENERATOR // not in netstandard2.0
            Architecture.S390x => "s390x",
            Architecture.Ppc64le => "ppc64le",
            Architecture.LoongArch64 => "loongarch64",
#endif
            var a => a.ToString().ToLowerInvariant(),
        };

        private static Btf? TryLoad(string path, List<string> attempts)
        {
            if (!File.Exists(path)) { attempts.Add(path + ": not found"); return null; }
            try
            {
                var btf = Btf.Load(path);
                attempts.Add(path + ": used");
                return btf;
            }
            catch (BtfException e) { attempts.Add(path + ": " + e.Message); return null; }
        }

        private static string Under(KernelBtfOptions o, string absolute)
        {
            string root = string.IsNullOrEmpty(o.RootDirectory) ? "/" : o.RootDirectory;
            if (root == "/") return absolute;
            return Path.Combine(root, absolute.TrimStart('/'));
        }

        private static string? ReadLine(string path)
        {
            try { return File.Exists(path) ? File.ReadAllText(path).Trim() is { Length: > 0 } s ? s : null : null; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
        }
    }
}
