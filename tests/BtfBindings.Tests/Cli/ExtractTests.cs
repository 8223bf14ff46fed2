using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// <c>btfgen extract</c>: the raw BTF out of every kind of input. Kernel images are built at test time around the
    /// fixture BTF (random bytes, an odd offset, compressed payloads in bzImage-, zboot- and zImage-like containers),
    /// and the extracted bytes must equal the fixture's exactly. One real Debian kernel package is fetched with apt
    /// (skipped with the reason when it cannot be) and checked against an extraction made with the lz4/xz/gzip tools
    /// and read by bpftool.
    /// </summary>
    public class ExtractTests : IDisposable
    {
        private readonly List<string> _scratch = new List<string>();
        private string Scratch(string name) { var d = CliSupport.Scratch(name); _scratch.Add(d); return d; }
        public void Dispose() { foreach (var d in _scratch) try { Directory.Delete(d, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } }

        private readonly ITestOutputHelper _out;
        public ExtractTests(ITestOutputHelper output) { _out = output; }

        private static byte[] Random(int n, int seed)
        {
            var b = new byte[n];
            new System.Random(seed).NextBytes(b);
            // Keep accidental BTF magics out of the noise (a real image has none outside .BTF either).
            for (int i = 0; i + 1 < n; i++) if ((b[i] == 0x9f && b[i + 1] == 0xeb) || (b[i] == 0xeb && b[i + 1] == 0x9f)) b[i] = 0;
            return b;
        }

        private static byte[] Concat(params byte[][] parts)
        {
            var ms = new MemoryStream();
            foreach (var p in parts) ms.Write(p, 0, p.Length);
            return ms.ToArray();
        }

        private static byte[] Gzip(byte[] data)
        {
            var ms = new MemoryStream();
            using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data, 0, data.Length);
            return ms.ToArray();
        }

        private static byte[] Le32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }

        /// <summary>Compresses with an external tool (stdin -> stdout).</summary>
        private static byte[] ToolCompress(string dir, string tool, string args, byte[] data)
        {
            var r = ProcessRunner.Check(tool, args.Split(' ', StringSplitOptions.RemoveEmptyEntries), dir, stdin: data);
            return r.StdOutBytes;
        }

        /// <summary>A minimal ELF64 little-endian executable whose only content is a .BTF section (a vmlinux stand-in).</summary>
        internal static byte[] Elf64WithBtf(byte[] btf)
        {
            var shstr = Encoding.ASCII.GetBytes("\0.BTF\0.shstrtab\0");
            int btfOff = 64, strOff = btfOff + btf.Length, shOff = (strOff + shstr.Length + 7) & ~7;
            var o = new byte[shOff + 3 * 64];
            new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1 }.CopyTo(o, 0);
            BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(16), 2);      // ET_EXEC
            BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(18), 62);     // EM_X86_64
            BinaryPrimitives.WriteUInt32LittleEndian(o.AsSpan(20), 1);
            BinaryPrimitives.WriteUInt64LittleEndian(o.AsSpan(40), (ulong)shOff);
            BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(52), 64);
            BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(58), 64);
            BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(60), 3);
            BinaryPrimitives.WriteUInt16LittleEndian(o.AsSpan(62), 2);
            btf.CopyTo(o, btfOff);
            shstr.CopyTo(o, strOff);
            void Sh(int i, uint name, uint type, long off, long size)
            {
                var s = o.AsSpan(shOff + i * 64);
                BinaryPrimitives.WriteUInt32LittleEndian(s, name);
                BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(4), type);
                BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(24), (ulong)off);
                BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(32), (ulong)size);
                BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(48), 1);
            }
            Sh(1, 1, 1, btfOff, btf.Length);
            Sh(2, 6, 3, strOff, shstr.Length);
            return o;
        }

        /// <summary>An x86 boot image: boot sector + setup header (protocol 2.15) pointing at <paramref name="payload"/>.</summary>
        internal static byte[] BzImage(byte[] payload, int seed)
        {
            const int setupSects = 3;
            var setup = Random((setupSects + 1) * 512, seed);
            setup[0x1f1] = setupSects;
            setup[0x1fe] = 0x55; setup[0x1ff] = 0xaa;
            Encoding.ASCII.GetBytes("HdrS").CopyTo(setup, 0x202);
            BinaryPrimitives.WriteUInt16LittleEndian(setup.AsSpan(0x206), 0x020f);
            var decompressorStub = Random(0x1234, seed + 1); // the protected-mode part before the payload
            BinaryPrimitives.WriteUInt32LittleEndian(setup.AsSpan(0x248), (uint)decompressorStub.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(setup.AsSpan(0x24c), (uint)payload.Length);
            return Concat(setup, decompressorStub, payload, Random(777, seed + 2));
        }

        private void AssertExtracts(byte[] image, byte[] expected, string dir, string name, string? expectStep = null)
        {
            var input = Path.Combine(dir, name);
            File.WriteAllBytes(input, image);
            var output = Path.Combine(dir, name + ".btf");
            var r = CliSupport.Check(0, "extract", input, "-o", output, "--json");
            var got = File.ReadAllBytes(output);
            Assert.True(expected.AsSpan().SequenceEqual(got), $"{name}: extracted {got.Length} bytes differ from the {expected.Length}-byte original\n{r}");
            using var doc = r.Json();
            Assert.True(doc.RootElement.GetProperty("validated").GetBoolean());
            if (expectStep != null) Assert.Contains(expectStep, doc.RootElement.GetProperty("found").GetString());
            _out.WriteLine($"{name}: {doc.RootElement.GetProperty("found").GetString()}");
        }

        [Fact]
        public void Raw_images_with_btf_at_an_odd_offset_little_and_big_endian()
        {
            var dir = Scratch("extract");
            var le = Fixtures.Bytes("x86_64-5.10");
            AssertExtracts(Concat(Random(1_000_003, 1), le, Random(2_345_679, 2)), le, dir, "raw-le.img", "BTF header at offset 0xf4243");
            var be = Fixtures.Bytes("s390x-6.12");
            AssertExtracts(Concat(Random(77_777, 3), be, Random(4_321, 4)), be, dir, "raw-be.img", "big-endian");
        }

        [Fact]
        public void Bzimage_with_gzip_xz_and_lz4_payloads()
        {
            var dir = Scratch("extract");
            var btf = Fixtures.Bytes("x86_64-5.10");
            var vmlinux = Elf64WithBtf(btf);
            AssertExtracts(BzImage(Gzip(vmlinux), 10), btf, dir, "bzImage-gzip", "gzip");
            // As Linux builds them: xz with the x86 BCJ filter and CRC32, lz4 legacy frames; both followed by the 4-byte size.
            var xz = ToolCompress(dir, "xz", "--format=xz --check=crc32 --x86 --lzma2=dict=32MiB -c", vmlinux);
            AssertExtracts(BzImage(Concat(xz, Le32((uint)vmlinux.Length)), 11), btf, dir, "bzImage-xz", "xz");
            var lz4 = ToolCompress(dir, "lz4", "-l -9 -c", vmlinux);
            AssertExtracts(BzImage(Concat(lz4, Le32((uint)vmlinux.Length)), 12), btf, dir, "bzImage-lz4", "lz4");
        }

        [Fact]
        public void Compressed_payload_inside_an_unknown_container_and_arm64_image_gz_and_zboot()
        {
            var dir = Scratch("extract");
            var btf = Fixtures.Bytes("aarch64-6.1");
            // An arm64 Image: a header with the "ARM\x64" magic, code, and the BTF somewhere in the data.
            var image = Concat(Random(0x10001, 20), btf, Random(0x20003, 21));
            Encoding.ASCII.GetBytes("ARM\x64").CopyTo(image, 0x38);
            AssertExtracts(Gzip(image), btf, dir, "Image.gz", "gzip");
            // zImage / s390x style: decompressor code, then a compressed raw image at an unannounced offset.
            AssertExtracts(Concat(Random(50_001, 22), Gzip(image), Random(999, 23)), btf, dir, "zImage", "gzip payload at offset 0xc351");
            // EFI zboot (vmlinuz.efi): "MZ", "zimg", payload offset and size, compression name.
            var payload = Gzip(image);
            var head = Random(4096, 24);
            head[0] = (byte)'M'; head[1] = (byte)'Z';
            Encoding.ASCII.GetBytes("zimg").CopyTo(head, 4);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(8), (uint)head.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), (uint)payload.Length);
            Array.Clear(head, 16, 40);
            Encoding.ASCII.GetBytes("gzip").CopyTo(head, 24);
            AssertExtracts(Concat(head, payload, Random(100, 25)), btf, dir, "vmlinuz.efi", "EFI zboot image (gzip)");
        }

        [Fact]
        public void Btfhub_archive_elf_vmlinux_and_gzip_and_xz_files()
        {
            var dir = Scratch("extract");
            var btf = Fixtures.Bytes("i686-6.1");
            File.WriteAllBytes(Path.Combine(dir, "5.10.0-1-i686.btf"), btf);
            ProcessRunner.Check("tar", ["-C", dir, "-cJf", $"{dir}/5.10.0-1-i686.btf.tar.xz", "5.10.0-1-i686.btf"]);
            var archive = File.ReadAllBytes(Path.Combine(dir, "5.10.0-1-i686.btf.tar.xz"));
            AssertExtracts(archive, btf, dir, "hub.btf.tar.xz", "tar member 5.10.0-1-i686.btf");
            AssertExtracts(Elf64WithBtf(btf), btf, dir, "vmlinux", ".BTF section");
            AssertExtracts(Gzip(btf), btf, dir, "btf.gz", "raw BTF");
            AssertExtracts(btf, btf, dir, "plain.btf", "raw BTF");
        }

        [Fact]
        public void Kernel_modules_ko_and_ko_xz_give_their_split_btf()
        {
            var dir = Scratch("extract");
            var ko = Fixtures.Path("x86_64-6.12-ip_vs.ko");
            var baseBtf = Fixtures.Path("x86_64-6.12");
            var koXz = Path.Combine(dir, "ip_vs.ko.xz");
            File.WriteAllBytes(koXz, ToolCompress(dir, "xz", "--check=crc32 -c", File.ReadAllBytes(ko)));
            var expected = Bpftool.Dump(ko, baseBtf).StdOut;
            foreach (var input in new[] { ko, koXz })
            {
                var output = Path.Combine(dir, Path.GetFileName(input) + ".btf");
                var r = CliSupport.Check(0, "extract", input, "--base", baseBtf, "-o", output);
                Assert.Contains(".BTF section", r.StdErr);
                Assert.Equal(expected, Bpftool.Dump(output, baseBtf).StdOut);
            }
            // Without the base the split BTF is still extracted, with a warning that it could not be checked.
            var noBase = CliSupport.Check(0, "extract", ko, "-o", Path.Combine(dir, "nobase.btf"));
            Assert.Contains("warning", noBase.StdErr);
            Assert.Equal(expected, Bpftool.Dump(Path.Combine(dir, "nobase.btf"), baseBtf).StdOut);
        }

        [Fact]
        public void Zstd_payload_says_there_is_no_managed_decoder_and_junk_says_no_btf()
        {
            var dir = Scratch("extract");
            var vmlinux = Elf64WithBtf(Fixtures.Bytes("x86_64-5.10"));
            var zst = ToolCompress(dir, "zstd", "-1 -c", vmlinux);
            var img = Path.Combine(dir, "bzImage-zstd");
            File.WriteAllBytes(img, BzImage(Concat(zst, Le32((uint)vmlinux.Length)), 30));
            var r = CliSupport.Check(2, "extract", img, "-o", Path.Combine(dir, "out.btf"));
            Assert.Contains("zstd-compressed kernel image: no managed zstd decoder; decompress with `zstd -d` first", r.StdErr);
            File.WriteAllBytes(Path.Combine(dir, "x.zst"), zst);
            r = CliSupport.Check(2, "extract", Path.Combine(dir, "x.zst"), "-o", Path.Combine(dir, "out.btf"));
            Assert.Contains("no managed zstd decoder", r.StdErr);

            File.WriteAllBytes(Path.Combine(dir, "junk"), Random(100_000, 31));
            r = CliSupport.Check(2, "extract", Path.Combine(dir, "junk"), "-o", Path.Combine(dir, "out.btf"));
            Assert.Contains("no BTF found", r.StdErr);
            Assert.False(File.Exists(Path.Combine(dir, "out.btf")));
        }

        [Fact]
        public void Large_images_report_progress_and_commands_read_images_directly()
        {
            var dir = Scratch("extract");
            var btf = Fixtures.Bytes("x86_64-6.12");
            var img = Path.Combine(dir, "big.img");
            File.WriteAllBytes(img, Concat(Random(20 << 20, 40), btf, Random(1 << 20, 41)));
            var r = CliSupport.Check(0, "extract", img, "-o", Path.Combine(dir, "out.btf"));
            Assert.Contains("scanning", r.StdErr);
            Assert.Contains("wrote " + btf.Length + " bytes", r.StdErr);
            Assert.DoesNotContain("scanning", CliSupport.Check(0, "extract", img, "-o", Path.Combine(dir, "out2.btf"), "-q").StdErr);
            // Every command accepts a kernel image where it takes BTF.
            using var doc = CliSupport.Check(0, "show", "iphdr", "--btf", img, "--json").Json();
            Assert.Equal(20, doc.RootElement[0].GetProperty("size").GetInt32());
        }

        [SkippableFact]
        public void Real_debian_cloud_kernel_vmlinuz_matches_tool_extraction()
        {
            var cache = Path.Combine(Path.GetTempPath(), "btfgen-cli-tests-cache");
            Directory.CreateDirectory(cache);
            var vmlinuz = Directory.GetFiles(cache, "vmlinuz-*").FirstOrDefault();
            if (vmlinuz == null)
            {
                var search = ProcessRunner.Run("bash", ["-c", "apt-cache search --names-only '^linux-image-6\\.1\\.0-[0-9]+-cloud-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -n1"]);
                var pkg = search.StdOut.Trim();
                if (search.ExitCode != 0 || pkg.Length == 0) throw new SkipTestException("no linux-image-6.1.0-*-cloud-amd64-unsigned package in the apt index (run apt-get update)");
                var dl = ProcessRunner.Run("bash", ["-c", $"cd '{cache}' && apt-get download {pkg} && dpkg-deb --fsys-tarfile {pkg}_*.deb | tar -x --wildcards --strip-components=2 -C '{cache}' './boot/vmlinuz-*' && rm -f {pkg}_*.deb"], cache, TimeSpan.FromMinutes(10));
                vmlinuz = Directory.GetFiles(cache, "vmlinuz-*").FirstOrDefault();
                if (dl.ExitCode != 0 || vmlinuz == null) throw new SkipTestException($"cannot fetch {pkg} with apt-get: {dl.StdErr.Trim()}");
            }
            var dir = Scratch("real");
            var ours = Path.Combine(dir, "ours.btf");
            var r = CliSupport.Check(0, "extract", vmlinuz, "-o", ours);
            Assert.Contains("bzImage", r.StdErr);

            // Independent extraction: the payload located from the setup header, decompressed by the format's own tool.
            var data = File.ReadAllBytes(vmlinuz);
            int setup = (data[0x1f1] == 0 ? 4 : data[0x1f1]) + 1;
            int off = setup * 512 + (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(0x248));
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(0x24c));
            var payload = Path.Combine(dir, "payload");
            File.WriteAllBytes(payload, data.AsSpan(off, len).ToArray());
            string tool = data[off] == 0x1f ? "gzip -dc" : data[off] == 0xfd ? "xz -dc --single-stream" : data[off] == 0x02 ? "lz4 -dc" : data[off] == 0x28 ? "zstd -dc" : "false";
            var vmlinux = ProcessRunner.Run(tool.Split(' ')[0], tool.Split(' ').Skip(1), dir, stdin: File.ReadAllBytes(payload)).StdOutBytes; // trailing size bytes make the tools complain; the output is complete
            var vmlinuxPath = Path.Combine(dir, "vmlinux");
            File.WriteAllBytes(vmlinuxPath, vmlinux);
            var expected = Bpftool.Dump(vmlinuxPath).StdOut;
            var actual = Bpftool.Dump(ours).StdOut;
            Assert.True(expected == actual, "bpftool reads different BTF from btfgen's extraction and from the tool-decompressed vmlinux");
            _out.WriteLine($"{Path.GetFileName(vmlinuz)} ({data.Length} bytes, {tool.Split(' ')[0]} payload): {new FileInfo(ours).Length} bytes of BTF, {expected.Split('\n').Count(l => l.StartsWith("["))} types, identical to bpftool on the tool-decompressed vmlinux");
        }
    }
}
