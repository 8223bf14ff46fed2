using System;
using System.IO;
using System.IO.Compression;

namespace BtfBindings
{
    /// <summary>Recognises the containers BTF arrives in and extracts the raw blob.</summary>
    public static class BtfContainer
    {
        /// <summary>Largest decompressed input accepted (a full vmlinux BTF is ~6 MB; kernel images ~100 MB).</summary>
        public const long MaxDecompressedBytes = 1L << 30;

        /// <summary>Reads and parses BTF from <paramref name="path"/> in any supported container (see <see cref="Btf.Load"/>).</summary>
        public static Btf Load(string path, Btf? baseBtf = null) => Load(path, baseBtf, null);

        /// <summary>As <see cref="Load(string, Btf)"/>, reporting long work (decompressing and scanning kernel images) to <paramref name="progress"/>.</summary>
        public static Btf Load(string path, Btf? baseBtf, Action<string>? progress)
        {
            if (path is null) throw new ArgumentNullException(nameof(path));
            FileStream fs;
            try { fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            { throw new BtfException("cannot open: " + e.Message, path, inner: e); }
            using (fs)
            {
                var head = new byte[Math.Min(fs.Length, 512)];
                ReadFully(fs, head, path);
                if (Containers.ElfFile.IsElf(head))
                    return FromElf(fs, path, baseBtf);
                if (IsBtfMagic(head))
                {
                    if (fs.Length > int.MaxValue) throw new BtfException("file too large for raw BTF", path);
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

        /// <summary>Parses BTF held in memory in any supported container; the array may be modified.</summary>
        public static Btf Parse(byte[] bytes, string sourceName, Btf? baseBtf = null) => Parse(bytes, sourceName, baseBtf, null);

        private static Btf Parse(byte[] bytes, string sourceName, Btf? baseBtf, Action<string>? progress)
        {
            for (int layer = 0; layer < 4; layer++)
            {
                if (IsBtfMagic(bytes)) return Btf.Parse(bytes, sourceName, baseBtf);
                if (Containers.ElfFile.IsElf(bytes))
                    using (var ms = new MemoryStream(bytes, writable: false)) return FromElf(ms, sourceName, baseBtf);
                if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) { bytes = Gunzip(bytes, sourceName); continue; }
#if !BTFB_NO_XZ
                if (Compression.XzDecoder.IsXz(bytes))
                {
                    try { bytes = Compression.XzDecoder.Decompress(bytes, sourceName, MaxDecompressedBytes); }
                    catch (InvalidDataException e) { throw new BtfException(e.Message, sourceName, inner: e); }
                    continue;
                }
                if (Compression.TarReader.IsTar(bytes)) { bytes = FromTar(bytes, sourceName); continue; }
#endif
                break;
            }
            // Anything else may be a kernel boot image (bzImage, Image.gz, EFI zboot, s390x image): find the BTF inside.
            Containers.FoundBtf found;
            try { found = Containers.KernelImage.FindBtf(bytes, sourceName, baseBtf, progress); }
            catch (BtfException e) when (e.SourceName == sourceName)
            {
                throw new BtfException("not BTF: no BTF magic (0xeb9f), ELF, gzip, xz or tar header, and not a kernel image with BTF inside ("
                    + e.Message.Substring(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2) + ")", sourceName, 0, inner: e);
            }
            return Btf.Parse(found.Data, sourceName + " (" + found.Description + ")", baseBtf);
        }

#if !BTFB_NO_XZ
        private static byte[] FromTar(byte[] tar, string source)
        {
            byte[]? found = null;
            string? foundName = null;
            try
            {
                foreach (var e in Compression.TarReader.ReadEntries(tar, source))
                {
                    if (e.Type != Compression.TarEntryType.RegularFile) continue;
                    bool btfName = e.Name.EndsWith(".btf", StringComparison.Ordinal);
                    if (btfName || (found == null && IsBtfMagic(e.Data.Span)))
                    {
                        if (found != null && btfName && foundName!.EndsWith(".btf", StringComparison.Ordinal))
                            throw new BtfException($"archive holds several .btf files ({foundName}, {e.Name}); extract one", source);
                        found = e.Data.ToArray(); foundName = e.Name;
                    }
                }
            }
            catch (InvalidDataException ex) { throw new BtfException(ex.Message, source, inner: ex); }
            return found ?? throw new BtfException("tar archive holds no .btf file", source);
        }
#endif

        internal static Btf FromElf(Stream s, string path, Btf? baseBtf)
        {
            var elf = Containers.ElfFile.Read(s, path);
            var sec = elf.FindSection(".BTF")
                ?? throw new BtfException("ELF file has no .BTF section (built without BTF? try pahole -J, or a BTFHub file)", path);
            var data = elf.ReadSection(s, sec);
            // libbpf (btf_parse_elf) takes the pointer size from the ELF class, not from 'long'.
            return Btf.Parse(data, path + ":.BTF", baseBtf, sec.Offset, pointerSize: elf.Is64Bit ? 8 : 4);
        }

        internal static bool IsBtfMagic(ReadOnlySpan<byte> b)
            => b.Length >= 4 && ((b[0] == 0x9f && b[1] == 0xeb) || (b[0] == 0xeb && b[1] == 0x9f));

        private static byte[] Gunzip(byte[] gz, string source)
        {
            try
            {
                using var input = new MemoryStream(gz, writable: false);
                using var z = new GZipStream(input, CompressionMode.Decompress);
                using var output = new MemoryStream();
                var buf = new byte[81920];
                int n;
                while ((n = z.Read(buf, 0, buf.Length)) > 0)
                {
                    output.Write(buf, 0, n);
                    if (output.Length > MaxDecompressedBytes) throw new BtfException($"gzip data expands beyond {MaxDecompressedBytes} bytes", source);
                }
                return output.ToArray();
            }
            catch (InvalidDataException e) { throw new BtfException("corrupt gzip data: " + e.Message, source, inner: e); }
        }

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
