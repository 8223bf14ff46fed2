using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// Which files in some folders any process opens or reads (Linux inotify, IN_OPEN and IN_ACCESS on the folders): how a test
    /// sees, from outside, that another process (a language server) read a file or did not. Events queue in the kernel until
    /// <see cref="Drain"/>.
    /// </summary>
    public sealed partial class FileOpenWatch : IDisposable
    {
        private const int InNonBlock = 0x800, InCloExec = 0x80000;
        private const uint InAccess = 0x1, InOpen = 0x20, InQueueOverflow = 0x4000;
        private const int EAgain = 11;

        private readonly int _fd;
        private readonly Dictionary<int, string> _folders = new Dictionary<int, string>();

        [LibraryImport("libc", SetLastError = true, EntryPoint = "inotify_init1")]
        private static partial int InotifyInit(int flags);

        [LibraryImport("libc", SetLastError = true, EntryPoint = "inotify_add_watch", StringMarshalling = StringMarshalling.Utf8)]
        private static partial int InotifyAddWatch(int fd, string path, uint mask);

        [LibraryImport("libc", SetLastError = true, EntryPoint = "read")]
        private static partial nint Read(int fd, byte[] buffer, nint count);

        [LibraryImport("libc", EntryPoint = "close")]
        private static partial int Close(int fd);

        /// <summary>Watches <paramref name="folders"/> (each must exist; files directly in them, not below).</summary>
        public FileOpenWatch(IEnumerable<string> folders)
        {
            _fd = InotifyInit(InNonBlock | InCloExec);
            if (_fd < 0) throw new IOException($"inotify_init1 failed: errno {Marshal.GetLastPInvokeError()}");
            foreach (var folder in folders)
            {
                int wd = InotifyAddWatch(_fd, folder, InOpen | InAccess);
                if (wd < 0) throw new IOException($"inotify_add_watch({folder}) failed: errno {Marshal.GetLastPInvokeError()}");
                _folders[wd] = folder;
            }
        }

        /// <summary>"open PATH" / "read PATH" for each file event since the watch began or the last drain, in order (the kernel merges identical successive events).</summary>
        /// <exception cref="IOException">The kernel's event queue overflowed, so opens may be missing.</exception>
        public List<string> Drain()
        {
            var opened = new List<string>();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                nint n = Read(_fd, buffer, buffer.Length);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EAgain) return opened;
                    throw new IOException($"reading inotify events failed: errno {errno}");
                }
                // struct inotify_event { int wd; uint32_t mask, cookie, len; char name[len]; }
                for (int at = 0; at < n;)
                {
                    int wd = BitConverter.ToInt32(buffer, at);
                    uint mask = BitConverter.ToUInt32(buffer, at + 4);
                    int len = (int)BitConverter.ToUInt32(buffer, at + 12);
                    if ((mask & InQueueOverflow) != 0) throw new IOException("inotify event queue overflowed: opens were lost");
                    int nameLength = Array.IndexOf(buffer, (byte)0, at + 16, len) is int z && z >= 0 ? z - (at + 16) : len;
                    // An event without a name is the folder itself (listed), not a file in it.
                    if (len > 0 && _folders.TryGetValue(wd, out var folder))
                        opened.Add(((mask & InOpen) != 0 ? "open " : "read ") + Path.Combine(folder, System.Text.Encoding.UTF8.GetString(buffer, at + 16, nameLength)));
                    at += 16 + len;
                }
            }
        }

        public void Dispose() => Close(_fd);
    }
}
