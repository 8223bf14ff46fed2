using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace BtfBindings.Containers
{
    /// <summary>A raw BTF blob found inside some input, byte for byte as stored there.</summary>
    internal sealed class FoundBtf
    {
        /// <summary>The blob: header, type and string sections, exactly as in the input (big-endian BTF stays big-endian).</summary>
        public byte[] Data { get; }

        /// <summary>How it was found, outermost container first, e.g. <c>bzImage -> lz4 payload at 0x4ac0 -> ELF .BTF section</c>.</summary>
        public string Description { get; }

        /// <summary>True if the blob is big-endian BTF (s390x, bpfeb).</summary>
        public bool IsBigEndian { get; }

        /// <summary>
        /// True if the blob parsed as BTF (over the base, when one was given). False only for an ELF <c>.BTF</c> section
        /// that is split BTF (a kernel module's) when no base was given: its header was checked, its types could not be.
        /// </summary>
        public bool Validated { get; }

        /// <summary>Why the blob is not validated, when <see cref="Validated"/> is false.</summary>
        public string? ValidationNote { get; }

        /// <summary>The target's pointer size when the container says it (an ELF file's class, as libbpf takes it), else 0.</summary>
        public int PointerSize { get; }

        internal FoundBtf(byte[] data, string description, bool bigEndian, bool validated, string? note, int pointerSize = 0)
        { Data = data; Description = description; IsBigEndian = bigEndian; Validated = validated; ValidationNote = note; PointerSize = pointerSize; }
    }

    /// <summary>The parsed fields of a BTF header (<c>struct btf_header</c>).</summary>
    internal readonly struct BtfHeaderInfo
    {
        /// <summary>True for big-endian BTF.</summary>
        public bool BigEndian { get; }
        /// <summary>Header length.</summary>
        public int HeaderLength { get; }
        /// <summary>Type section offset (after the header).</summary>
        public uint TypeOffset { get; }
        /// <summary>Type section length.</summary>
        public uint TypeLength { get; }
        /// <summary>String section offset (after the header).</summary>
        public uint StringOffset { get; }
        /// <summary>String section length.</summary>
        public uint StringLength { get; }
        /// <summary>Total blob length: header plus the sections.</summary>
        public int TotalLength { get; }

        internal BtfHeaderInfo(bool be, int hdr, uint typeOff, uint typeLen, uint strOff, uint strLen, int total)
        { BigEndian = be; HeaderLength = hdr; TypeOffset = typeOff; TypeLength = typeLen; StringOffset = strOff; StringLength = strLen; TotalLength = total; }
    }

    /// <summary>
    /// Finds the BTF in anything a user may hold: raw BTF, ELF files (<c>vmlinux</c>, kernel modules, eBPF objects),
    /// gzip / xz / LZ4-legacy compression, tar archives (BTFHub <c>.btf.tar.xz</c>), and kernel boot images: x86
    /// <c>bzImage</c> (the compressed payload located through the setup header), EFI zboot images (arm64 / riscv
    /// <c>vmlinuz.efi</c>), arm64 <c>Image</c> / <c>Image.gz</c>, and any other raw image (s390x, ARM zImage…), which
    /// is scanned for a valid BTF header and, failing that, for compressed payloads. zstd, bzip2, LZMA and LZO have
    /// no managed decoder here; inputs that need one fail with a message saying so and which tool to use.
    /// </summary>
    internal static class KernelImage
    {
        /// <summary>Largest decompressed layer accepted.</summary>
        public const long MaxDecompressedBytes = 1L << 30;

        private const int MaxDepth = 5;
        private const int MaxCandidatesPerFormat = 48;

        /// <summary>
        /// Finds the BTF blob in <paramref name="data"/> (a whole file). The array is not modified.
        /// </summary>
        /// <param name="data">The input file's bytes.</param>
        /// <param name="sourceName">File name for messages.</param>
        /// <param name="baseBtf">Base BTF used to validate split BTF (kernel modules); optional.</param>
        /// <param name="progress">Receives one line per step of long work (decompression, scanning).</param>
        /// <exception cref="BtfException">No BTF was found; the message says what the input looked like and, for
        /// compressions without a managed decoder, which tool decompresses it.</exception>
        /// <param name="validate">False when the caller parses the blob anyway: a blob found where a format says it is
        /// (raw, an ELF <c>.BTF</c> section) is then not parsed here too; blobs found by scanning always are.</param>
        public static FoundBtf FindBtf(byte[] data, string sourceName, Btf? baseBtf = null, Action<string>? progress = null, bool validate = true)
        {
            if (data is null) throw new ArgumentNullException(nameof(data));
            var ctx = new Context(sourceName, baseBtf, progress) { Validate = validate };
            var found = Find(ctx, data, "", 0);
            if (found != null) return found;
            if (ctx.Unsupported != null)
                throw new BtfException(ctx.Unsupported, sourceName);
            throw new BtfException("no BTF found: not raw BTF, no ELF .BTF section, no valid BTF header anywhere in the data"
                + (ctx.Layers > 0 ? " (also searched " + ctx.Layers + " decompressed payload" + (ctx.Layers > 1 ? "s" : "") + ")" : "")
                + "; was the kernel built with CONFIG_DEBUG_INFO_BTF=y?", sourceName);
        }

        private sealed class Context
        {
            public readonly string Source;
            public readonly Btf? Base;
            public readonly Action<string>? Progress;
            public string? Unsupported;
            public int Layers;
            public bool Validate = true;
            public Context(string source, Btf? b, Action<string>? progress) { Source = source; Base = b; Progress = progress; }
            public void Say(string s) => Progress?.Invoke(s);
        }

        private static string Step(string chain, string step) => chain.Length == 0 ? step : chain + " -> " + step;

        private static FoundBtf? Find(Context ctx, byte[] data, string chain, int depth)
        {
            if (depth > MaxDepth) return null;
            var span = (ReadOnlySpan<byte>)data;

            // Raw BTF at the start.
            if (TryReadHeader(span, 0, out var h0, allowSplit: true))
            {
                var blob = Slice(data, 0, h0.TotalLength);
                var (ok, note) = Validate(blob, ctx, "raw BTF");
                return new FoundBtf(blob, Step(chain, "raw BTF (" + Endian(h0) + ")"), h0.BigEndian, ok, note);
            }

            if (ElfFile.IsElf(span))
            {
                var r = FromElf(ctx, data, chain);
                if (r != null) return r;
            }

            // A whole file only needs the gzip magic to be read as one (and told truncated or corrupt if it is not).
            if (depth == 0 ? span.Length >= 2 && span[0] == 0x1f && span[1] == 0x8b : IsGzip(span, 0)) return Decompressed(ctx, chain, depth, "gzip", () => depth == 0 ? GunzipFile(data, ctx.Source) : Gunzip(data, 0, ctx.Source, within: "the data decompressed from " + chain));
            if (Compression.XzDecoder.IsXz(span)) return Decompressed(ctx, chain, depth, "xz", () => Unxz(data, 0, ctx.Source, wholeFile: true));
            if (Compression.TarReader.IsTar(span)) return FromTar(ctx, data, chain, depth);
            if (Compression.Lz4LegacyDecoder.IsLz4Legacy(span)) return Decompressed(ctx, chain, depth, "lz4", () => Unlz4(ctx, data, 0));
            var unsupported = UnsupportedAt(span, 0);
            if (unsupported != null)
            {
                ctx.Unsupported ??= NoDecoder(unsupported, chain.Length == 0 ? "input" : "payload");
                throw new BtfException(ctx.Unsupported, ctx.Source);
            }

            if (IsBzImage(span))
            {
                var r = FromBzImage(ctx, data, chain, depth);
                if (r != null) return r;
            }
            if (IsEfiZboot(span))
            {
                var r = FromZboot(ctx, data, chain, depth);
                if (r != null) return r;
            }

            // Anything else (arm64 Image, s390x image, ARM zImage, a decompressed raw kernel): scan for the header.
            var scanned = ScanForBtf(ctx, data, chain);
            if (scanned != null) return scanned;
            return ScanForPayloads(ctx, data, chain, depth);
        }

        private static string Endian(BtfHeaderInfo h) => h.BigEndian ? "big-endian" : "little-endian";

        private static byte[] Slice(byte[] data, int offset, int length)
        {
            var b = new byte[length];
            Buffer.BlockCopy(data, offset, b, 0, length);
            return b;
        }

        /// <summary>Parses a copy of the blob: (true, null) when valid; (false, note) when it does not parse on its own and no base was given (split BTF, perhaps).</summary>
        /// <exception cref="BtfException">A base was given and the blob does not parse over it.</exception>
        private static (bool ok, string? note) Validate(byte[] blob, Context ctx, string what)
        {
            if (!ctx.Validate) return (true, null);
            try
            {
                Btf.Parse((byte[])blob.Clone(), ctx.Source, ctx.Base);
                return (true, null);
            }
            catch (BtfException e)
            {
                if (ctx.Base != null) throw;
                return (false, "the " + what + " does not parse on its own (" + e.Message + "); if it is a kernel module's split BTF, pass its base (vmlinux) to validate it");
            }
        }

        private static FoundBtf? FromElf(Context ctx, byte[] data, string chain)
        {
            ElfFile elf;
            using (var ms = new MemoryStream(data, writable: false))
            {
                try { elf = ElfFile.Read(ms, ctx.Source); }
                catch (BtfException) { return null; }
                var sec = elf.BtfSection;
                if (sec == null) return null;
                var blob = elf.ReadSection(ms, sec);
                if (!TryReadHeader(blob, 0, out var h, allowSplit: true))
                    throw new BtfException($"ELF .BTF section (offset 0x{sec.Offset:x}, {sec.Size} bytes) does not start with a valid BTF header", ctx.Source, sec.Offset);
                if (h.TotalLength < blob.Length) blob = Slice(blob, 0, h.TotalLength);
                string desc = Step(chain, $"ELF{(elf.Is64Bit ? "64" : "32")} .BTF section at 0x{sec.Offset:x} ({Endian(h)})");
                var (ok, note) = Validate(blob, ctx, ".BTF section");
                return new FoundBtf(blob, desc, h.BigEndian, ok, note, elf.PointerSize);
            }
        }

        /// <summary>
        /// The one tar policy (BTFHub archives hold one <c>&lt;kernel&gt;.btf</c>): the member named <c>*.btf</c>, unwrapped like
        /// any input (so <c>.btf.gz</c> inside works); with none, the first regular member that holds BTF; several
        /// <c>*.btf</c> members are an error naming them.
        /// </summary>
        private static FoundBtf? FromTar(Context ctx, byte[] data, string chain, int depth)
        {
            var entries = new List<Compression.TarEntry>(Compression.TarReader.ReadEntries(data, ctx.Source));
            entries.Sort((a, b) => (b.Name.EndsWith(".btf", StringComparison.Ordinal) ? 1 : 0).CompareTo(a.Name.EndsWith(".btf", StringComparison.Ordinal) ? 1 : 0));
            var btfNames = new List<string>();
            foreach (var e in entries) if (e.Type == Compression.TarEntryType.RegularFile && e.Name.EndsWith(".btf", StringComparison.Ordinal)) btfNames.Add(e.Name);
            if (btfNames.Count > 1) throw new BtfException("archive holds several .btf files (" + string.Join(", ", btfNames) + "); extract one", ctx.Source);
            foreach (var e in entries)
            {
                if (e.Type != Compression.TarEntryType.RegularFile || e.Size == 0) continue;
                FoundBtf? r;
                try { r = Find(ctx, e.Data.ToArray(), Step(chain, "tar member " + e.Name), depth + 1); }
                catch (BtfException) when (!e.Name.EndsWith(".btf", StringComparison.Ordinal)) { continue; }
                if (r != null) return r;
            }
            throw new BtfException("tar archive holds no BTF (no .btf member)", ctx.Source);
        }

        private static FoundBtf? Decompressed(Context ctx, string chain, int depth, string what, Func<byte[]> decompress)
        {
            ctx.Say($"decompressing {what} data...");
            var output = decompress();
            ctx.Layers++;
            ctx.Say($"{what}: {Mb(output.Length)} decompressed");
            return Find(ctx, output, Step(chain, what + $" ({Mb(output.Length)})"), depth + 1)
                ?? throw new BtfException($"no BTF in the {what}-decompressed data ({output.Length} bytes)", ctx.Source);
        }

        /// <summary>Human-readable size.</summary>
        private static string Mb(long n) => n >= 1 << 20 ? (n / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB"
            : n >= 1024 ? (n / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB" : n + " bytes";

        // ---- BTF header ----------------------------------------------------------------------------

        /// <summary>
        /// Checks for a structurally valid BTF header at <paramref name="offset"/>: magic 0xEB9F in either byte order,
        /// version 1, flags 0, a header length of 24..1024 bytes, a 4-byte aligned type section that precedes and
        /// does not overlap the string section, both inside <paramref name="data"/>, and a string section that ends
        /// with NUL and (unless <paramref name="allowSplit"/>) starts with NUL.
        /// </summary>
        public static bool TryReadHeader(ReadOnlySpan<byte> data, int offset, out BtfHeaderInfo info, bool allowSplit = false)
        {
            info = default;
            if (offset < 0 || data.Length - offset < 24) return false;
            var d = data.Slice(offset);
            bool be;
            if (d[0] == 0x9f && d[1] == 0xeb) be = false;
            else if (d[0] == 0xeb && d[1] == 0x9f) be = true;
            else return false;
            if (d[2] != 1 || d[3] != 0) return false;
            uint hdr = U32(d, 4, be), typeOff = U32(d, 8, be), typeLen = U32(d, 12, be), strOff = U32(d, 16, be), strLen = U32(d, 20, be);
            if (hdr < 24 || hdr > 1024 || hdr % 4 != 0 || hdr > (uint)d.Length) return false;
            if (typeOff % 4 != 0 || typeLen % 4 != 0) return false;
            if (typeOff > strOff || (ulong)typeOff + typeLen > strOff) return false;
            ulong total = (ulong)hdr + strOff + strLen;
            if (total > (ulong)d.Length || total > int.MaxValue) return false;
            if (strLen == 0) { if (!allowSplit || typeLen != 0) return false; }
            else
            {
                int s = (int)(hdr + strOff);
                if (d[s + (int)strLen - 1] != 0) return false;
                if (!allowSplit && d[s] != 0) return false;
            }
            // Extra header bytes beyond the 24 (or 32 with the kind layout section) must be zero, as libbpf requires.
            if (hdr > 32) for (int i = 32; i < hdr; i++) if (d[i] != 0) return false;
            info = new BtfHeaderInfo(be, (int)hdr, typeOff, typeLen, strOff, strLen, (int)total);
            return true;
        }

        private static uint U32(ReadOnlySpan<byte> d, int o, bool be)
            => be ? BinaryPrimitives.ReadUInt32BigEndian(d.Slice(o)) : BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(o));

        /// <summary>Offsets of every structurally valid BTF header in <paramref name="data"/> (see <see cref="TryReadHeader"/>).</summary>
        public static List<int> FindHeaderCandidates(ReadOnlySpan<byte> data)
        {
            var hits = new List<int>();
            ReadOnlySpan<byte> le = new byte[] { 0x9f, 0xeb, 0x01, 0x00 };
            ReadOnlySpan<byte> be = new byte[] { 0xeb, 0x9f, 0x01, 0x00 };
            foreach (var pattern in new[] { le.ToArray(), be.ToArray() })
            {
                int at = 0;
                while (at < data.Length)
                {
                    int i = data.Slice(at).IndexOf(pattern);
                    if (i < 0) break;
                    if (TryReadHeader(data, at + i, out _)) hits.Add(at + i);
                    at += i + 1;
                }
            }
            hits.Sort();
            return hits;
        }

        private static FoundBtf? ScanForBtf(Context ctx, byte[] data, string chain)
        {
            if (data.Length > 4 << 20) ctx.Say($"scanning {Mb(data.Length)} for a BTF header...");
            FoundBtf? best = null;
            foreach (var off in FindHeaderCandidates(data))
            {
                TryReadHeader(data, off, out var h);
                if (best != null && h.TotalLength <= best.Data.Length) continue;
                var blob = Slice(data, off, h.TotalLength);
                try { Btf.Parse((byte[])blob.Clone(), ctx.Source, null); }
                catch (BtfException) { continue; } // a header-shaped accident; keep looking
                best = new FoundBtf(blob, Step(chain, $"BTF header at offset 0x{off:x} ({Endian(h)}, {Mb(h.TotalLength)})"), h.BigEndian, true, null);
            }
            if (best != null) ctx.Say("found " + best.Description);
            return best;
        }

        // ---- boot image formats --------------------------------------------------------------------

        /// <summary>True when <paramref name="d"/> starts like a compressed stream or archive this class unwraps (gzip, xz, tar, LZ4).</summary>
        internal static bool IsCompressedOrArchive(ReadOnlySpan<byte> d)
            => (d.Length >= 2 && d[0] == 0x1f && d[1] == 0x8b) || Compression.XzDecoder.IsXz(d) || Compression.TarReader.IsTar(d) || Compression.Lz4LegacyDecoder.IsLz4Legacy(d);

        /// <summary>True for an x86 boot image with a Linux boot-protocol setup header (<c>HdrS</c>).</summary>
        public static bool IsBzImage(ReadOnlySpan<byte> d)
            => d.Length > 0x250 && d[0x1fe] == 0x55 && d[0x1ff] == 0xaa && d[0x202] == (byte)'H' && d[0x203] == (byte)'d' && d[0x204] == (byte)'r' && d[0x205] == (byte)'S';

        /// <summary>True for an EFI zboot image (<c>MZ</c> + <c>zimg</c>: arm64, riscv and loongarch <c>vmlinuz.efi</c>).</summary>
        public static bool IsEfiZboot(ReadOnlySpan<byte> d)
            => d.Length > 64 && d[0] == (byte)'M' && d[1] == (byte)'Z' && d[4] == (byte)'z' && d[5] == (byte)'i' && d[6] == (byte)'m' && d[7] == (byte)'g';

        private static FoundBtf? FromBzImage(Context ctx, byte[] data, string chain, int depth)
        {
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(0x206));
            if (version < 0x208) return null; // no payload fields before boot protocol 2.08: fall back to scanning
            int setupSects = data[0x1f1] == 0 ? 4 : data[0x1f1];
            long start = (long)(setupSects + 1) * 512 + BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(0x248));
            long len = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(0x24c));
            if (start < 0 || len <= 0 || start + len > data.Length) return null;
            var payload = Slice(data, (int)start, (int)len);
            string where = $"bzImage (boot protocol {version >> 8}.{version & 0xff:00}) payload at 0x{start:x}, {Mb(len)}";
            ctx.Say(where);
            return FromPayload(ctx, payload, Step(chain, where), depth, "bzImage")
                ?? throw new BtfException("no BTF in the decompressed bzImage payload (kernel built without CONFIG_DEBUG_INFO_BTF?)", ctx.Source);
        }

        private static FoundBtf? FromZboot(Context ctx, byte[] data, string chain, int depth)
        {
            long off = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8));
            long len = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(12));
            if (off <= 0 || len <= 0 || off + len > data.Length) return null;
            int nul = Array.IndexOf(data, (byte)0, 24, 32);
            string comp = System.Text.Encoding.ASCII.GetString(data, 24, (nul < 0 ? 56 : nul) - 24);
            string where = $"EFI zboot image ({comp}) payload at 0x{off:x}, {Mb(len)}";
            ctx.Say(where);
            return FromPayload(ctx, Slice(data, (int)off, (int)len), Step(chain, where), depth, "EFI zboot image");
        }

        /// <summary>A compressed kernel payload whose start is known: decompress by its magic, then search the result.</summary>
        private static FoundBtf? FromPayload(Context ctx, byte[] payload, string chain, int depth, string container)
        {
            var p = (ReadOnlySpan<byte>)payload;
            byte[] output;
            string what;
            if (IsGzip(p, 0)) { what = "gzip"; ctx.Say("decompressing gzip payload..."); output = Gunzip(payload, 0, ctx.Source, within: "the " + container + " payload"); }
            else if (Compression.XzDecoder.IsXz(p)) { what = "xz"; ctx.Say("decompressing xz payload..."); output = Unxz(payload, 0, ctx.Source, wholeFile: false); }
            else if (Compression.Lz4LegacyDecoder.IsLz4Legacy(p)) { what = "lz4"; output = Unlz4(ctx, payload, 0); }
            else
            {
                var u = UnsupportedAt(p, 0);
                if (u != null) throw new BtfException(NoDecoder(u, container), ctx.Source);
                return null;
            }
            ctx.Layers++;
            ctx.Say($"{what}: {Mb(output.Length)} decompressed");
            return Find(ctx, output, Step(chain, $"{what} -> {Mb(output.Length)}"), depth + 1);
        }

        /// <summary>Last resort for unknown containers: try every managed-decodable compressed stream found in the data.</summary>
        private static FoundBtf? ScanForPayloads(Context ctx, byte[] data, string chain, int depth)
        {
            var span = (ReadOnlySpan<byte>)data;
            var tried = new List<(int off, string what)>();
            foreach (var (magic, what) in new[]
            {
                (new byte[] { 0x1f, 0x8b, 0x08 }, "gzip"),
                (new byte[] { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 }, "xz"),
                (new byte[] { 0x02, 0x21, 0x4c, 0x18 }, "lz4"),
            })
            {
                int at = 0, n = 0;
                while (at < span.Length && n < MaxCandidatesPerFormat)
                {
                    int i = span.Slice(at).IndexOf(magic);
                    if (i < 0) break;
                    int off = at + i;
                    at = off + 1;
                    if (off == 0 && depth == 0) continue; // already handled at the top
                    n++;
                    byte[] output;
                    try
                    {
                        output = what switch
                        {
                            "gzip" => Gunzip(data, off, ctx.Source, strict: false),
                            "xz" => Unxz(data, off, ctx.Source, wholeFile: false),
                            _ => Unlz4(ctx, data, off),
                        };
                    }
                    catch (BtfException) { continue; }
                    if (output.Length < 24) continue;
                    ctx.Layers++;
                    string step = $"{what} payload at offset 0x{off:x} ({Mb(output.Length)} decompressed)";
                    ctx.Say(step);
                    FoundBtf? r;
                    try { r = Find(ctx, output, Step(chain, step), depth + 1); }
                    catch (BtfException) { continue; }
                    if (r != null) return r;
                    tried.Add((off, what));
                }
            }
            // Nothing managed worked: name a compression we cannot decode, if the data holds one.
            foreach (var (magic, what) in UnsupportedMagics)
            {
                int i = span.IndexOf(magic);
                if (i >= 0 && UnsupportedAt(span, i) != null)
                {
                    ctx.Unsupported ??= NoDecoder(what, chain.Length == 0 ? "kernel image" : "payload") + $" (a {what} stream starts at offset 0x{i:x})";
                    break;
                }
            }
            return null;
        }

        // ---- compressions --------------------------------------------------------------------------

        private static readonly (byte[] magic, string name)[] UnsupportedMagics =
        {
            (new byte[] { 0x28, 0xb5, 0x2f, 0xfd }, "zstd"),
            (new byte[] { (byte)'B', (byte)'Z', (byte)'h' }, "bzip2"),
            (new byte[] { 0x89, (byte)'L', (byte)'Z', (byte)'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a }, "lzo"),
            (new byte[] { 0x5d, 0x00, 0x00 }, "lzma"),
        };

        /// <summary>Name of a compression without a managed decoder whose stream starts at <paramref name="off"/>, or null.</summary>
        private static string? UnsupportedAt(ReadOnlySpan<byte> d, int off)
        {
            var s = d.Slice(off);
            if (s.Length >= 5 && s[0] == 0x28 && s[1] == 0xb5 && s[2] == 0x2f && s[3] == 0xfd && (s[4] & 0x08) == 0) return "zstd"; // reserved bit clear
            if (s.Length >= 10 && s[0] == 'B' && s[1] == 'Z' && s[2] == 'h' && s[3] >= '1' && s[3] <= '9' && s[4] == 0x31 && s[5] == 0x41 && s[6] == 0x59 && s[7] == 0x26 && s[8] == 0x53 && s[9] == 0x59) return "bzip2";
            if (s.Length >= 9 && s[0] == 0x89 && s[1] == 'L' && s[2] == 'Z' && s[3] == 'O' && s[4] == 0 && s[5] == 0x0d && s[6] == 0x0a && s[7] == 0x1a && s[8] == 0x0a) return "lzo";
            if (s.Length >= 13 && s[0] == 0x5d && s[1] == 0 && s[2] == 0)
            {
                ulong size = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(5));
                if (size == ulong.MaxValue || size < 1UL << 36) return "lzma"; // legacy .lzma header: props 0x5d, then dictionary and (unknown) size
            }
            return null;
        }

        private static string NoDecoder(string compression, string what)
        {
            string tool = compression switch
            {
                "zstd" => "zstd -d",
                "bzip2" => "bzip2 -d",
                "lzo" => "lzop -d",
                "lzma" => "unlzma",
                _ => compression + " -d",
            };
            return $"{compression}-compressed {(what == "input" ? "input" : what == "payload" ? "payload" : "kernel image")}: no managed {compression} decoder; decompress with `{tool}` first"
                + (what == "bzImage" || what == "kernel image" || what == "payload" ? " (for a boot image, Linux's scripts/extract-vmlinux does that and writes the vmlinux to pass here)" : "");
        }

        private static bool IsGzip(ReadOnlySpan<byte> d, int off) => d.Length - off >= 18 && d[off] == 0x1f && d[off + 1] == 0x8b && d[off + 2] == 8 && (d[off + 3] & 0xe0) == 0;

        /// <summary>
        /// Decompresses the gzip member at <paramref name="off"/>; data after the member (another member, a size, padding) is
        /// ignored. A member cut off by the end of the data is an error ("truncated gzip stream") unless <paramref name="strict"/>
        /// is false (candidates found by scanning for the gzip magic, where a partial result is still searched). <paramref name="within"/>
        /// names what <paramref name="data"/> is when it is not the whole file (a payload, a decompressed layer).
        /// </summary>
        private static byte[] Gunzip(byte[] data, int off, string source, bool strict = true, string? within = null)
        {
            // RFC 1952 header: ID1 ID2 CM FLG MTIME(4) XFL OS [FEXTRA] [FNAME] [FCOMMENT] [FHCRC]; a member is at least
            // the 10-byte header and the 8-byte trailer (the payload scan calls this for any 1f 8b 08, even at the very end).
            if (data.Length - off < 18) throw new BtfException($"truncated gzip header ({data.Length - off} bytes left)", source, off);
            int p = off + 10;
            byte flg = data[off + 3];
            if ((flg & 4) != 0)
            {
                if (data.Length - p < 2) throw new BtfException("truncated gzip header (FEXTRA length)", source, off);
                p += 2 + BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(p));
            }
            if ((flg & 8) != 0) p = SkipZeroTerminated(data, p, "FNAME", source, off);
            if ((flg & 16) != 0) p = SkipZeroTerminated(data, p, "FCOMMENT", source, off);
            if ((flg & 2) != 0) p += 2;
            if (p >= data.Length) throw new BtfException("truncated gzip header", source, off);
            try
            {
                using var input = new EndWatchingStream(new MemoryStream(data, p, data.Length - p, writable: false));
                using var z = new DeflateStream(input, CompressionMode.Decompress);
                using var output = new MemoryStream();
                var buf = new byte[1 << 16];
                int n;
                while ((n = z.Read(buf, 0, buf.Length)) > 0)
                {
                    output.Write(buf, 0, n);
                    if (output.Length > MaxDecompressedBytes) throw new BtfException($"gzip data expands beyond {MaxDecompressedBytes} bytes", source, off);
                }
                // DeflateStream stops without an error when its input runs out mid-stream; a whole member ends (final block,
                // then the 8-byte trailer) before the input does, so asking for more input after the end means it was cut off.
                if (strict && input.HitEnd)
                    throw within != null
                        ? new BtfException($"truncated gzip stream: {within} ends before its gzip stream does", source)
                        : new BtfException($"truncated gzip stream: the file ends before the gzip stream that starts at 0x{off:x} does", source, data.Length);
                return output.ToArray();
            }
            catch (InvalidDataException e) { throw new BtfException("corrupt gzip data: " + e.Message, source, off, inner: e); }
        }

        /// <summary>
        /// A whole gzip file as gzip(1) reads it: every member, in order, and trailing zeros or garbage after the last one
        /// ignored; a file cut short (no trailer for the data decoded) is an error. <see cref="Gunzip"/> is for a member
        /// embedded in other data.
        /// </summary>
        private static byte[] GunzipFile(byte[] gz, string source)
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
                var result = output.ToArray();
                if (!HasGzipTrailer(gz, result))
                    throw new BtfException("truncated gzip stream: the file ends before the gzip stream does", source, gz.Length);
                return result;
            }
            catch (InvalidDataException e) { throw new BtfException("corrupt gzip data: " + e.Message, source, inner: e); }
        }

        /// <summary>
        /// True if <paramref name="gz"/> holds the trailer of the gzip member that produced the end of <paramref name="output"/>
        /// (RFC 1952: CRC-32 and length of that member's data). <see cref="GZipStream"/> returns what it decoded without an
        /// error when its input stops early, so a cut-off file is told from a whole one by its trailer: normally the last 8
        /// bytes (with several members it covers the last one, whose output is the last ISIZE bytes); or, as gzip(1)
        /// ignores trailing garbage after a member and so does GZipStream, a single member's trailer followed by other bytes.
        /// </summary>
        private static bool HasGzipTrailer(byte[] gz, byte[] output)
        {
            if (gz.Length < 18) return false;
            var span = (ReadOnlySpan<byte>)gz;
            uint crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(gz.Length - 8));
            uint isize = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(gz.Length - 4));
            if (isize <= output.Length && BtfBindings.Compression.Crc32.Compute(output.AsSpan(output.Length - (int)isize)) == crc) return true;
            // Trailing bytes after one member: look for its trailer (CRC-32 of all the output, then its length).
            Span<byte> size = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)output.Length);
            uint all = 0;
            bool haveAll = false;
            for (int at = 14; at + 4 <= gz.Length;)
            {
                int i = span.Slice(at).IndexOf(size);
                if (i < 0) break;
                int q = at + i;
                if (!haveAll) { all = BtfBindings.Compression.Crc32.Compute(output); haveAll = true; }
                if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(q - 4)) == all) return true;
                at = q + 1;
            }
            return false;
        }

        /// <summary>A read-only pass-through that records whether a read found no more data.</summary>
        private sealed class EndWatchingStream : Stream
        {
            private readonly Stream _s;
            public bool HitEnd { get; private set; }
            public EndWatchingStream(Stream s) { _s = s; }
            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = _s.Read(buffer, offset, count);
                if (n == 0 && count > 0) HitEnd = true;
                return n;
            }
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            protected override void Dispose(bool disposing) { if (disposing) _s.Dispose(); base.Dispose(disposing); }
        }

        /// <summary>The offset after the NUL that ends the header string at <paramref name="p"/>.</summary>
        private static int SkipZeroTerminated(byte[] data, int p, string field, string source, int off)
        {
            int nul = p < data.Length ? Array.IndexOf(data, (byte)0, p) : -1;
            if (nul < 0) throw new BtfException($"truncated gzip header ({field} has no terminating NUL)", source, off);
            return nul + 1;
        }

        /// <summary>The xz stream at <paramref name="off"/>; errors carry offsets in <paramref name="data"/>.</summary>
        private static byte[] Unxz(byte[] data, int off, string source, bool wholeFile)
        {
            var span = new ReadOnlySpan<byte>(data, off, data.Length - off);
            try
            {
                if (wholeFile)
                {
                    try { return Compression.XzDecoder.Decompress(span, source, MaxDecompressedBytes); }
                    catch (BtfException) { /* trailing data after the stream: decode just the first stream */ }
                }
                return Compression.XzDecoder.DecompressSingleStream(span, out _, source, MaxDecompressedBytes);
            }
            catch (BtfException e) when (off != 0) { throw e.Shifted(off); }
        }

        private static byte[] Unlz4(Context ctx, byte[] data, int off)
        {
            int lastPercent = -1;
            long total = data.Length - off;
            try
            {
                return Compression.Lz4LegacyDecoder.Decompress(new ReadOnlySpan<byte>(data, off, data.Length - off), MaxDecompressedBytes, out _,
                    total < 8 << 20 ? null : (pos, len) =>
                    {
                        int pct = (int)(pos * 100 / Math.Max(1, len));
                        if (pct / 25 != lastPercent / 25) { lastPercent = pct; ctx.Say($"lz4: {pct}% of {Mb(len)}"); }
                    }, ctx.Source);
            }
            catch (BtfException e) when (off != 0) { throw e.Shifted(off); }
        }
    }
}
