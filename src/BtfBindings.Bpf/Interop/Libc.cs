using System.Runtime.InteropServices;

namespace BtfBindings.Bpf.Interop
{
    /// <summary>The few libc calls the ring buffer (mmap, epoll) and the log capture (vsnprintf) need. Return -1 and set errno.</summary>
    internal static unsafe partial class Libc
    {
        private const string Name = "libc";

        internal const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapFixed = 0x10;
        internal const uint EpollIn = 1;
        internal const int EpollCtlAdd = 1, EpollCloexec = 0x80000, Eintr = 4;
        /// <summary>Bytes of one struct epoll_event, rounded up over the ABIs (12 packed on x86-64, 16 elsewhere); callers only set events at offset 0.</summary>
        internal const int EpollEventSize = 16;

        [LibraryImport(Name, EntryPoint = "mmap", SetLastError = true)]
        internal static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);
        [LibraryImport(Name, EntryPoint = "munmap")]
        internal static partial int Munmap(void* addr, nuint length);
        [LibraryImport(Name, EntryPoint = "epoll_create1", SetLastError = true)]
        internal static partial int EpollCreate(int flags);
        [LibraryImport(Name, EntryPoint = "epoll_ctl", SetLastError = true)]
        internal static partial int EpollCtl(int epfd, int op, int fd, void* ev);
        [LibraryImport(Name, EntryPoint = "epoll_wait", SetLastError = true)]
        internal static partial int EpollWait(int epfd, void* events, int max, int timeoutMs);
        [LibraryImport(Name, EntryPoint = "close")]
        internal static partial int Close(int fd);
        [LibraryImport(Name, EntryPoint = "getpagesize")]
        internal static partial int PageSize();
        [LibraryImport(Name, EntryPoint = "vsnprintf")]
        internal static partial int VsnPrintf(byte* buf, nuint size, byte* format, nint args);
    }
}
