using System;
using System.IO;
using System.Runtime.InteropServices;

namespace BtfBindings
{
    /// <summary>Recognises the containers BTF arrives in and extracts the raw blob.</summary>
    internal static class BtfContainer
    {
        /// <summary>Reads and parses BTF from <paramref name="path"/> in any supported container (see <see cref="Btf.Load"/>).</summary>
        public static Btf Load(string path, Btf? baseBtf = null) => Load(path, baseBtf, null);

        /// <summary>As <see cref="Load(string, Btf)"/>, reporting long work (decompressing and scanning kernel images) to <paramref name="progress"/>.</summary>
        public static Btf Load(string path, Btf? baseBtf, Action<string>? progress)
        {
            if (path is null) throw new ArgumentNullException(nameof(path));
            CheckInputFile(path);
            FileStream fs;
            try { fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            { throw new BtfException("cannot open: " + e.Message, path, inner: e); }
            using (fs)
            {
                if (fs.Length == 0) throw new BtfException("is empty (0 bytes), not a BTF file", path);
                var head = new byte[Math.Min(fs.Length, 512)];
                ReadFully(fs, head, path);
                if (Containers.ElfFile.IsElf(head))
                    return FromElf(fs, path, baseBtf);
                if (IsBtfMagic(head))
                {
                    if (fs.Length > int.MaxValue) throw new BtfException("file too large for raw BTF", path);
                    // A truncated file is the parser's error, so loading a file and parsing its bytes say the same.
#if NET
                    return Btf.ParseFile(fs.SafeFileHandle, fs.Length, path, baseBtf);
#else
                    var all = new byte[fs.Length];
                    fs.Seek(0, SeekOrigin.Begin);
                    ReadFully(fs, all, path);
                    return Btf.Parse(all, path, baseBtf);
#endif
                }
                fs.Seek(0, SeekOrigin.Begin);
                var bytes = new byte[fs.Length];
                ReadFully(fs, bytes, path);
                return Parse(bytes, path, baseBtf, progress);
            }
        }

        /// <summary>
        /// Throws a <see cref="BtfException"/> naming <paramref name="path"/> unless it is a regular file (after following
        /// symbolic links): a missing file, a dangling symbolic link, a directory, a FIFO, a socket or a device each get
        /// their own message. Called before the file is opened, so a FIFO without a writer cannot block and
        /// <c>/dev/zero</c> cannot be read forever. The file type comes from <c>statx</c> on Linux; elsewhere only
        /// missing files and directories are told apart.
        /// </summary>
        public static void CheckInputFile(string path)
        {
            if (path is null) throw new ArgumentNullException(nameof(path));
            if (path.Length == 0) throw new BtfException("empty file name", "''");
            if (Directory.Exists(path)) throw new BtfException("is a directory, not a BTF file", path);
            int type = UnixFileType(path, followLinks: true);
            if (type == 0 || (type < 0 && !File.Exists(path)))
            {
                // The name does not resolve: a dangling symbolic link, or no such file.
                if (UnixFileType(path, followLinks: false) == S_IFLNK || IsSymlink(path))
                    throw new BtfException("is a dangling symbolic link" + LinkTargetText(path) + ", not a BTF file", path);
                if (type == 0) throw new BtfException(path == "-" ? "no such file (standard input is not read: pass a file)" : "no such file", path);
                return; // file type unknown: opening it says what is wrong
            }
            switch (type)
            {
                case S_IFIFO: throw new BtfException("is a FIFO (named pipe), not a BTF file: pass a regular file (save the stream to a file first)", path);
                case S_IFCHR: throw new BtfException("is a character device, not a BTF file: pass a regular file", path);
                case S_IFBLK: throw new BtfException("is a block device, not a BTF file: pass a regular file", path);
                case S_IFSOCK: throw new BtfException("is a socket, not a BTF file: pass a regular file", path);
            }
        }

        /// <summary>The whole of <paramref name="path"/> after <see cref="CheckInputFile"/>; I/O errors become a <see cref="BtfException"/> naming it.</summary>
        public static byte[] ReadInputFile(string path)
        {
            CheckInputFile(path);
            byte[] data;
            try { data = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            { throw new BtfException("cannot open: " + e.Message, path, inner: e); }
            if (data.Length == 0) throw new BtfException("is empty (0 bytes), not a BTF file", path);
            return data;
        }

        private const int S_IFMT = 0xf000, S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFLNK = 0xa000, S_IFSOCK = 0xc000;

        private static bool IsSymlink(string path)
        {
            try { return (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return false; }
        }

        private static string LinkTargetText(string path)
        {
#if NET
            try { return new FileInfo(path).LinkTarget is string t ? " to '" + t + "'" : ""; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return ""; }
#else
            return "";
#endif
        }

        /// <summary>
        /// The S_IFMT bits of <paramref name="path"/>'s mode from Linux's <c>statx</c> (whose buffer has one layout on every
        /// architecture, unlike <c>struct stat</c>): 0 if the name does not resolve (ENOENT and the like), -1 when unknown
        /// (not Linux, no <c>statx</c> in the C library, or another error).
        /// </summary>
        private static int UnixFileType(string path, bool followLinks)
        {
            bool linux;
#if NET
            linux = OperatingSystem.IsLinux();
#else
            linux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
#endif
            if (!linux) return -1;
            var name = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
            System.Text.Encoding.UTF8.GetBytes(path, 0, path.Length, name, 0);
            var buf = new byte[256]; // struct statx: stx_mode is the u16 at offset 28
            try
            {
                int rc;
                unsafe
                {
                    fixed (byte* n = name)
                    fixed (byte* b = buf)
                        rc = Statx(AT_FDCWD, n, followLinks ? 0 : AT_SYMLINK_NOFOLLOW, STATX_TYPE, b);
                }
                if (rc != 0)
                {
                    int errno = Marshal.GetLastWin32Error();
                    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
                }
            }
            catch (EntryPointNotFoundException) { return -1; }
            catch (DllNotFoundException) { return -1; }
            return (buf[28] | buf[29] << 8) & S_IFMT;
        }

        private const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, ENOENT = 2, ENOTDIR = 20;
        private const uint STATX_TYPE = 1;

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern unsafe int Statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

        /// <summary>Parses BTF held in memory in any supported container; the array may be modified.</summary>
        public static Btf Parse(byte[] bytes, string sourceName, Btf? baseBtf = null) => Parse(bytes, sourceName, baseBtf, null);

        private static Btf Parse(byte[] bytes, string sourceName, Btf? baseBtf, Action<string>? progress)
        {
            if (IsBtfMagic(bytes)) return Btf.Parse(bytes, sourceName, baseBtf);
            if (Containers.ElfFile.IsElf(bytes))
                using (var ms = new MemoryStream(bytes, writable: false)) return FromElf(ms, sourceName, baseBtf);
            // Everything else takes the one unwrapping path: gzip, xz, tar (BTFHub), LZ4, kernel images, in any nesting.
            Containers.FoundBtf found;
            // Progress is for kernel images (seconds of work); a compressed BTF file decompresses in a blink.
            bool image = !Containers.KernelImage.IsCompressedOrArchive(bytes);
            try { found = Containers.KernelImage.FindBtf(bytes, sourceName, baseBtf, image ? progress : null, validate: false); }
            catch (BtfException e) when (e.SourceName == sourceName && image)
            {
                throw new BtfException("not BTF: no BTF magic (0xeb9f), ELF, gzip, xz or tar header, and not a kernel image with BTF inside ("
                    + e.Detail + ")", sourceName, 0, inner: e);
            }
            return Btf.Parse(found.Data, sourceName + " (" + found.Description + ")", baseBtf, 0, found.PointerSize);
        }

        internal static Btf FromElf(Stream s, string path, Btf? baseBtf)
        {
            var elf = Containers.ElfFile.Read(s, path);
            var sec = elf.BtfSection
                ?? throw new BtfException("ELF file has no .BTF section (built without BTF? try pahole -J, or a BTFHub file)", path);
            var data = elf.ReadSection(s, sec);
            return Btf.Parse(data, path + ":.BTF", baseBtf, sec.Offset, pointerSize: elf.PointerSize);
        }

        internal static bool IsBtfMagic(ReadOnlySpan<byte> b)
            => b.Length >= 4 && ((b[0] == 0x9f && b[1] == 0xeb) || (b[0] == 0xeb && b[1] == 0x9f));

        private static void ReadFully(Stream s, byte[] buf, string source)
        {
            int done = 0;
            while (done < buf.Length)
            {
                int n = s.Read(buf, done, buf.Length - done);
                if (n <= 0) throw new BtfException("unexpected end of file", source, done);
                done += n;
            }
        }
    }
}
