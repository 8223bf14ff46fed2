using System.Runtime.InteropServices;

namespace BtfBindings.Bpf.Interop
{
    /// <summary>
    /// libbpf 1.x entry points (source-generated, blittable only, so every call is a direct native call). Functions that
    /// return a pointer report errno (libbpf 1.0 mode sets it on NULL); the int ones return -errno.
    /// <see cref="LibbpfLibrary"/> resolves the library name; call <see cref="LibbpfLibrary.EnsureLoaded"/> before the first call.
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        internal const string Name = "libbpf.so.1";

        // ---- object -------------------------------------------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
        internal static partial nint ObjectOpenMem(void* buf, nuint size, OpenOptions* opts);
        [LibraryImport(Name, EntryPoint = "bpf_object__open_file", SetLastError = true)]
        internal static partial nint ObjectOpenFile(byte* path, OpenOptions* opts);
        [LibraryImport(Name, EntryPoint = "bpf_object__load")]
        internal static partial int ObjectLoad(nint obj);
        [LibraryImport(Name, EntryPoint = "bpf_object__close")]
        internal static partial void ObjectClose(nint obj);
        [LibraryImport(Name, EntryPoint = "bpf_object__name")]
        internal static partial byte* ObjectName(nint obj);
        [LibraryImport(Name, EntryPoint = "bpf_object__next_program")]
        internal static partial nint ObjectNextProgram(nint obj, nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_object__next_map")]
        internal static partial nint ObjectNextMap(nint obj, nint map);

        // ---- program ------------------------------------------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "bpf_program__name")]
        internal static partial byte* ProgramName(nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_program__section_name")]
        internal static partial byte* ProgramSectionName(nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_program__fd")]
        internal static partial int ProgramFd(nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_program__type")]
        internal static partial int ProgramType(nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_program__autoload")]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static partial bool ProgramAutoload(nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_program__set_autoload")]
        internal static partial int ProgramSetAutoload(nint prog, [MarshalAs(UnmanagedType.U1)] bool autoload);
        [LibraryImport(Name, EntryPoint = "bpf_program__attach", SetLastError = true)]
        internal static partial nint ProgramAttach(nint prog);
        [LibraryImport(Name, EntryPoint = "bpf_prog_test_run_opts")]
        internal static partial int ProgTestRun(int fd, TestRunOptions* opts);

        // ---- link ---------------------------------------------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "bpf_link__fd")]
        internal static partial int LinkFd(nint link);
        [LibraryImport(Name, EntryPoint = "bpf_link__pin")]
        internal static partial int LinkPin(nint link, byte* path);
        [LibraryImport(Name, EntryPoint = "bpf_link__destroy")]
        internal static partial int LinkDestroy(nint link);
        [LibraryImport(Name, EntryPoint = "bpf_iter_create")]
        internal static partial int IterCreate(int linkFd);

        // ---- map ----------------------------------------------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "bpf_map__name")]
        internal static partial byte* MapName(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__type")]
        internal static partial int MapType(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__key_size")]
        internal static partial uint MapKeySize(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__value_size")]
        internal static partial uint MapValueSize(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__max_entries")]
        internal static partial uint MapMaxEntries(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__map_flags")]
        internal static partial uint MapFlags(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__fd")]
        internal static partial int MapFd(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__is_internal")]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static partial bool MapIsInternal(nint map);
        [LibraryImport(Name, EntryPoint = "bpf_map__initial_value")]
        internal static partial void* MapInitialValue(nint map, nuint* size);

        // ---- map elements (low-level API: return -errno) -------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "bpf_map_lookup_elem")]
        internal static partial int MapLookupElem(int fd, void* key, void* value);
        [LibraryImport(Name, EntryPoint = "bpf_map_update_elem")]
        internal static partial int MapUpdateElem(int fd, void* key, void* value, ulong flags);
        [LibraryImport(Name, EntryPoint = "bpf_map_delete_elem")]
        internal static partial int MapDeleteElem(int fd, void* key);
        [LibraryImport(Name, EntryPoint = "bpf_map_get_next_key")]
        internal static partial int MapGetNextKey(int fd, void* key, void* nextKey);
        [LibraryImport(Name, EntryPoint = "bpf_map_create")]
        internal static partial int MapCreate(int type, byte* name, uint keySize, uint valueSize, uint maxEntries, void* opts);

        // ---- perf buffer --------------------------------------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "perf_buffer__new", SetLastError = true)]
        internal static partial nint PerfBufferNew(int mapFd, nuint pageCount,
            delegate* unmanaged<nint, int, void*, uint, void> sample, delegate* unmanaged<nint, int, ulong, void> lost, nint ctx, void* opts);
        [LibraryImport(Name, EntryPoint = "perf_buffer__free")]
        internal static partial void PerfBufferFree(nint pb);
        [LibraryImport(Name, EntryPoint = "perf_buffer__poll")]
        internal static partial int PerfBufferPoll(nint pb, int timeoutMs);
        [LibraryImport(Name, EntryPoint = "perf_buffer__consume")]
        internal static partial int PerfBufferConsume(nint pb);
        [LibraryImport(Name, EntryPoint = "perf_buffer__epoll_fd")]
        internal static partial int PerfBufferEpollFd(nint pb);

        // ---- misc ---------------------------------------------------------------------------------------------------
        [LibraryImport(Name, EntryPoint = "libbpf_set_print")]
        internal static partial nint SetPrint(delegate* unmanaged<int, byte*, nint, int> fn);
        [LibraryImport(Name, EntryPoint = "libbpf_num_possible_cpus")]
        internal static partial int NumPossibleCpus();
        [LibraryImport(Name, EntryPoint = "libbpf_strerror")]
        internal static partial int StrError(int err, byte* buf, nuint size);
    }

    /// <summary>struct bpf_object_open_opts as libbpf 1.1 declares it (80 bytes on LP64; sz tells libbpf which fields we know).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct OpenOptions
    {
        public nuint Size;
        public byte* ObjectName;
        public byte RelaxedMaps;
        public byte* PinRootPath;
        public uint Reserved;
        public byte* Kconfig;
        public byte* BtfCustomPath;
        public byte* KernelLogBuf;
        public nuint KernelLogSize;
        public uint KernelLogLevel;
    }

    /// <summary>struct bpf_test_run_opts (libbpf 1.1, 80 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct TestRunOptions
    {
        public nuint Size;
        public void* DataIn;
        public void* DataOut;
        public uint DataSizeIn;
        public uint DataSizeOut;
        public void* CtxIn;
        public void* CtxOut;
        public uint CtxSizeIn;
        public uint CtxSizeOut;
        public uint Retval;
        public int Repeat;
        public uint Duration;
        public uint Flags;
        public uint Cpu;
        public uint BatchSize;
    }
}
