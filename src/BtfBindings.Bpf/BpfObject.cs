using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>
    /// A BPF ELF object opened by libbpf (struct bpf_object): its programs and maps, loaded into the kernel by
    /// <see cref="Load"/>. Not thread-safe; dispose it to unload (links it attached are destroyed first).
    /// </summary>
    public sealed unsafe class BpfObject : IDisposable
    {
        private nint _obj;
        private void* _elfCopy;           // open_mem keeps pointing at the ELF until load, so the object owns a native copy
        private readonly List<BpfProgram> _programs = new();
        private readonly List<BpfMap> _maps = new();
        private readonly List<BpfLink> _links = new();

        private BpfObject(nint obj, void* elfCopy)
        {
            _obj = obj;
            _elfCopy = elfCopy;
            Name = Marshal.PtrToStringUTF8((nint)Libbpf.ObjectName(obj)) ?? "";
            for (nint p = Libbpf.ObjectNextProgram(obj, 0); p != 0; p = Libbpf.ObjectNextProgram(obj, p)) _programs.Add(new BpfProgram(this, p));
            for (nint m = Libbpf.ObjectNextMap(obj, 0); m != 0; m = Libbpf.ObjectNextMap(obj, m)) _maps.Add(new BpfMap(this, m));
        }

        /// <summary>Opens an object from its ELF bytes (copied); <paramref name="name"/> becomes the object's name (map name prefix).</summary>
        public static BpfObject Open(ReadOnlySpan<byte> elf, string name)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            LibbpfLibrary.EnsureLoaded();
            void* copy = NativeMemory.Alloc((nuint)Math.Max(elf.Length, 1));
            elf.CopyTo(new Span<byte>(copy, elf.Length));
            using var log = LibbpfLog.Capture();
            fixed (byte* n = Utf8(name))
            {
                var opts = new OpenOptions { Size = (nuint)sizeof(OpenOptions), ObjectName = n };
                nint obj = Libbpf.ObjectOpenMem(copy, (nuint)elf.Length, &opts);
                if (obj == 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    NativeMemory.Free(copy);
                    throw BpfErrors.Exception($"Opening BPF object '{name}' ({elf.Length} bytes)", errno, log.Text);
                }
                return new BpfObject(obj, copy);
            }
        }

        /// <summary>Opens an object file (a clang -target bpf ELF with .BTF).</summary>
        public static BpfObject Open(string path)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            LibbpfLibrary.EnsureLoaded();
            using var log = LibbpfLog.Capture();
            fixed (byte* p = Utf8(path))
            {
                var opts = new OpenOptions { Size = (nuint)sizeof(OpenOptions) };
                nint obj = Libbpf.ObjectOpenFile(p, &opts);
                if (obj == 0) throw BpfErrors.Exception($"Opening BPF object file '{path}'", Marshal.GetLastPInvokeError(), log.Text);
                return new BpfObject(obj, null);
            }
        }

        /// <summary>The object's name (libbpf's: the file name without .o/.bpf.o, or the name given to <see cref="Open(ReadOnlySpan{byte}, string)"/>).</summary>
        public string Name { get; }

        /// <summary>True after a successful <see cref="Load"/>.</summary>
        public bool IsLoaded { get; private set; }

        /// <summary>Every program, in the object's order.</summary>
        public IReadOnlyList<BpfProgram> Programs => _programs;

        /// <summary>Every map, in the object's order (the .rodata/.data/.bss globals included).</summary>
        public IReadOnlyList<BpfMap> Maps => _maps;

        /// <summary>
        /// Creates the maps and loads the programs (CO-RE relocated against the running kernel). A rejected program throws a
        /// <see cref="BpfException"/> with the errno and the verifier's log.
        /// </summary>
        public void Load()
        {
            ThrowIfDisposed();
            if (IsLoaded) throw new InvalidOperationException($"BPF object '{Name}' is already loaded");
            using var log = LibbpfLog.Capture();
            int err = Libbpf.ObjectLoad(_obj);
            if (err < 0) throw BpfErrors.Exception($"Loading BPF object '{Name}'", err, log.Text);
            IsLoaded = true;
            foreach (var m in _maps) m.OnLoaded();
            foreach (var p in _programs) p.OnLoaded();
        }

        /// <summary>
        /// Attaches every loaded program whose section says where (as libbpf's skeleton attach does): programs that cannot
        /// auto-attach (SEC("xdp"), SEC("socket"), a bare SEC("kprobe"), ...: EOPNOTSUPP from libbpf) are skipped, any
        /// other failure throws. The object keeps the links until disposed; they are also returned.
        /// </summary>
        public IReadOnlyList<BpfLink> AttachAll()
        {
            ThrowIfDisposed();
            var links = new List<BpfLink>();
            foreach (var p in _programs)
                if (p.IsLoadedProgram && p.TryAttach() is { } link) links.Add(link);
            return links;
        }

        /// <summary>The program named <paramref name="name"/> (its C function name).</summary>
        public BpfProgram Program(string name) =>
            _programs.FirstOrDefault(p => p.Name == name)
            ?? throw new BpfException($"BPF object '{Name}' has no program '{name}'; it has: {string.Join(", ", _programs.Select(p => p.Name))}", BpfErrors.ENOENT, null);

        /// <summary>
        /// The map named <paramref name="name"/> as libbpf names it; a global section map also answers to its section name
        /// (".rodata", ".data", ".bss", ".rodata.x"), since libbpf prefixes it with the object's name.
        /// </summary>
        public BpfMap Map(string name) =>
            _maps.FirstOrDefault(m => m.Name == name)
            ?? (name.StartsWith('.') ? _maps.FirstOrDefault(m => m.IsInternal && m.Name.EndsWith(name, StringComparison.Ordinal)
                                                              && m.Name.IndexOf('.') == m.Name.Length - name.Length) : null)
            ?? throw new BpfException($"BPF object '{Name}' has no map '{name}'; it has: {string.Join(", ", _maps.Select(m => m.Name))}", BpfErrors.ENOENT, null);

        /// <summary>Destroys the links attached through this object's programs, then closes the object (maps and programs go when nothing else holds them).</summary>
        public void Dispose()
        {
            if (_obj == 0) return;
            foreach (var l in _links.ToArray()) l.Dispose();
            Libbpf.ObjectClose(_obj);
            _obj = 0;
            if (_elfCopy != null) { NativeMemory.Free(_elfCopy); _elfCopy = null; }
            GC.SuppressFinalize(this);
        }

        /// <summary>Closes the object if it was not disposed (leaks the kernel objects otherwise until the process exits).</summary>
        ~BpfObject()
        {
            if (_obj != 0) Libbpf.ObjectClose(_obj);
            if (_elfCopy != null) NativeMemory.Free(_elfCopy);
        }

        internal bool IsDisposed => _obj == 0;
        internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_obj == 0, this);
        internal void Track(BpfLink link) => _links.Add(link);
        internal void Untrack(BpfLink link) => _links.Remove(link);

        /// <summary>NUL-terminated UTF-8 of a string, for libbpf's const char* parameters.</summary>
        internal static byte[] Utf8(string s)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, bytes);
            return bytes;
        }
    }
}
