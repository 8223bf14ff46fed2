using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>One map of a <see cref="BpfObject"/> (struct bpf_map); the As* methods give typed views.</summary>
    public sealed unsafe class BpfMap
    {
        private const uint MapFlagRdonlyProg = 1u << 7;   // BPF_F_RDONLY_PROG: libbpf's flag on .rodata (and .kconfig)
        private const uint MapFlagMmapable = 1u << 10;    // BPF_F_MMAPABLE: libbpf's flag on every global section map

        private readonly BpfObject _owner;
        private readonly nint _map;
        private int _fd = -1;

        internal BpfMap(BpfObject owner, nint map)
        {
            _owner = owner;
            _map = map;
            Name = Marshal.PtrToStringUTF8((nint)Libbpf.MapName(map)) ?? "";
            IsInternal = Libbpf.MapIsInternal(map);
        }

        /// <summary>The map's name as libbpf gives it (globals: the object name's prefix plus ".rodata", ".data", ".bss").</summary>
        public string Name { get; }

        /// <summary>The map's type.</summary>
        public BpfMapType Type { get { _owner.ThrowIfDisposed(); return (BpfMapType)Libbpf.MapType(_map); } }

        /// <summary>Key size in bytes.</summary>
        public int KeySize { get { _owner.ThrowIfDisposed(); return (int)Libbpf.MapKeySize(_map); } }

        /// <summary>Value size in bytes (per CPU, for per-CPU maps).</summary>
        public int ValueSize { get { _owner.ThrowIfDisposed(); return (int)Libbpf.MapValueSize(_map); } }

        /// <summary>Maximum number of entries (bytes of the ring, for a ring buffer).</summary>
        public int MaxEntries { get { _owner.ThrowIfDisposed(); return (int)Libbpf.MapMaxEntries(_map); } }

        /// <summary>True for a map libbpf made from a global section (.rodata, .data, .bss, .kconfig).</summary>
        public bool IsInternal { get; }

        /// <summary>The map's file descriptor after Load.</summary>
        public int Fd
        {
            get
            {
                if (_fd < 0) ThrowNotLoaded();
                return _fd;
            }
        }

        internal BpfObject Owner => _owner;
        internal void OnLoaded()
        {
            _fd = Libbpf.MapFd(_map);
            if (IsInternal) MapGlobals();
        }

        /// <summary>
        /// Puts the kernel map where libbpf kept the initial value, so <see cref="Global{T}"/> refs taken before Load see the
        /// live map. libbpf up to 1.2 does this only in bpf_object__load_skeleton; later versions do it in Load too (then
        /// this maps the same thing again). Same address, same size: bpf_object__close unmaps it as its own.
        /// </summary>
        private void MapGlobals()
        {
            uint flags = Libbpf.MapFlags(_map);
            if ((flags & MapFlagMmapable) == 0) return;
            nuint size;
            void* p = Libbpf.MapInitialValue(_map, &size);
            if (p == null) return;
            nuint page = (nuint)Libc.PageSize();
            nuint length = (((nuint)((Libbpf.MapValueSize(_map) + 7) & ~7u) * Libbpf.MapMaxEntries(_map)) + page - 1) & ~(page - 1);
            int prot = (flags & MapFlagRdonlyProg) != 0 ? Libc.ProtRead : Libc.ProtRead | Libc.ProtWrite;
            void* q = Libc.Mmap(p, length, prot, Libc.MapShared | Libc.MapFixed, _fd, 0);
            if (q == (void*)-1) throw BpfErrors.Exception($"Mapping the globals of map '{Name}' after Load", Marshal.GetLastPInvokeError());
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void ThrowNotLoaded()
        {
            _owner.ThrowIfDisposed();
            throw new InvalidOperationException($"Map '{Name}' has no fd yet: load its object '{_owner.Name}' first");
        }

        /// <summary>
        /// The variables of a global section map (.data, .bss, .rodata) as one struct: before Load the initial value (set
        /// it, and the programs see it), after Load the map's memory itself (mmap'd; reads see what programs write). After
        /// Load .rodata is frozen: use <see cref="GlobalReadOnly{T}"/>. The ref is valid until the object is disposed.
        /// </summary>
        public ref T Global<T>() where T : unmanaged
        {
            T* p = GlobalPointer<T>();
            if (_owner.IsLoaded && (Libbpf.MapFlags(_map) & MapFlagRdonlyProg) != 0)
                throw new BpfException($"Map '{Name}' is read-only after Load (the kernel froze it); read it with GlobalReadOnly<T>() or set it before Load", BpfErrors.EPERM, null);
            return ref *p;
        }

        /// <summary>The variables of a global section map, read-only (what <see cref="Global{T}"/> gives, also for .rodata after Load).</summary>
        public ref readonly T GlobalReadOnly<T>() where T : unmanaged => ref *GlobalPointer<T>();

        private T* GlobalPointer<T>() where T : unmanaged
        {
            _owner.ThrowIfDisposed();
            if (!IsInternal)
                throw new BpfException($"Map '{Name}' is not a global section (.rodata/.data/.bss); use its typed view (AsHash, AsArray, ...)", BpfErrors.EINVAL, null);
            nuint size;
            void* p = Libbpf.MapInitialValue(_map, &size);
            if (p == null) throw new BpfException($"Map '{Name}' has no memory-mapped value (libbpf could not mmap it)", BpfErrors.EINVAL, null);
            // The section may end mid-alignment (a u64 then a u32: 12 bytes) where a C# struct rounds up (16); the memory
            // behind it is page-rounded (libbpf maps whole pages), so up to 7 bytes of tail padding are addressable.
            if ((nuint)sizeof(T) < size || (nuint)sizeof(T) > ((size + 7) & ~(nuint)7))
                throw new BpfException($"Map '{Name}' holds {size} bytes of globals but {typeof(T).Name} is {sizeof(T)} bytes", BpfErrors.EINVAL, null);
            return (T*)p;
        }

        /// <summary>A HASH or LRU_HASH map as a typed dictionary.</summary>
        public BpfHashMap<TKey, TValue> AsHash<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
        {
            Check<TKey, TValue>(perCpu: false, BpfMapType.Hash, BpfMapType.LruHash);
            return new BpfHashMap<TKey, TValue>(this);
        }

        /// <summary>An ARRAY map as a typed array.</summary>
        public BpfArrayMap<TValue> AsArray<TValue>() where TValue : unmanaged
        {
            Check<uint, TValue>(perCpu: false, BpfMapType.Array);
            return new BpfArrayMap<TValue>(this);
        }

        /// <summary>A PERCPU_HASH or LRU_PERCPU_HASH map: one value per possible CPU.</summary>
        public BpfPerCpuHashMap<TKey, TValue> AsPerCpuHash<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
        {
            Check<TKey, TValue>(perCpu: true, BpfMapType.PerCpuHash, BpfMapType.LruPerCpuHash);
            return new BpfPerCpuHashMap<TKey, TValue>(this);
        }

        /// <summary>A PERCPU_ARRAY map: one value per possible CPU for each index.</summary>
        public BpfPerCpuArrayMap<TValue> AsPerCpuArray<TValue>() where TValue : unmanaged
        {
            Check<uint, TValue>(perCpu: true, BpfMapType.PerCpuArray);
            return new BpfPerCpuArrayMap<TValue>(this);
        }

        /// <summary>A RINGBUF map's consumer (memory-mapped on first use, which needs the object loaded).</summary>
        public BpfRingBuffer AsRingBuffer()
        {
            CheckType(BpfMapType.RingBuf);
            return new BpfRingBuffer(this);
        }

        /// <summary>A PERF_EVENT_ARRAY map's consumer with <paramref name="pagesPerCpu"/> pages (a power of two) per CPU.</summary>
        public BpfPerfBuffer AsPerfBuffer(int pagesPerCpu = 8)
        {
            CheckType(BpfMapType.PerfEventArray);
            if (pagesPerCpu <= 0 || (pagesPerCpu & (pagesPerCpu - 1)) != 0)
                throw new ArgumentOutOfRangeException(nameof(pagesPerCpu), pagesPerCpu, "a power of two");
            return new BpfPerfBuffer(this, pagesPerCpu);
        }

        private void Check<TKey, TValue>(bool perCpu, params BpfMapType[] types) where TKey : unmanaged where TValue : unmanaged
        {
            CheckType(types);
            if (sizeof(TKey) != KeySize)
                throw new BpfException($"Map '{Name}' has {KeySize}-byte keys but {typeof(TKey).Name} is {sizeof(TKey)} bytes", BpfErrors.EINVAL, null);
            if (sizeof(TValue) != ValueSize)
                throw new BpfException($"Map '{Name}' has {ValueSize}-byte values{(perCpu ? " per CPU" : "")} but {typeof(TValue).Name} is {sizeof(TValue)} bytes", BpfErrors.EINVAL, null);
        }

        private void CheckType(params BpfMapType[] types)
        {
            var t = Type;
            if (Array.IndexOf(types, t) < 0)
                throw new BpfException($"Map '{Name}' is {t}, not {string.Join(" or ", types)}", BpfErrors.EINVAL, null);
        }
    }
}
