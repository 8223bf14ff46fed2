using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Containers;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Support.BtfSupport;

namespace BtfBindings.Tests.Containers
{
    /// <summary>Btf.Load through every container: gzip, xz, BTFHub tar.xz, and ELF of both classes and byte orders.</summary>
    public class ContainerTests
    {
        [Theory]
        [InlineData("x86_64-5.10.btf", null)]
        [InlineData("bpf-features.o", null)]
        [InlineData("armhf-6.1-ip_vs.ko", "armhf-6.1")]
        public void Gzip_compressed_fixtures_load_directly(string file, string? baseKernel)
        {
            var gz = Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", file + ".gz");
            Btf? b = baseKernel == null ? null : Kernel(baseKernel);
            var fromGz = Btf.Load(gz, b);
            var fromRaw = Btf.Load(Fixtures.Path(file), b);
            Assert.Equal(fromRaw.TypeCount, fromGz.TypeCount);
            Assert.Equal(Text(fromRaw), Text(fromGz));
        }

        [Theory]
        [InlineData("elf32be-ppc.o")]
        [InlineData("x86_64-5.10.btf")]
        [InlineData("s390x-6.12-qeth.ko")]
        public void Xz_compressed_files_load(string file)
        {
            using var tmp = new TempDir();
            var copy = tmp.File(file);
            File.Copy(Fixtures.Path(file), copy);
            ProcessRunner.Check("xz", ["-k", "-1", "-T1", copy]);
            var xz = copy + ".xz";
            Assert.True(File.Exists(xz));
            Btf? b = file.StartsWith("s390x", StringComparison.Ordinal) ? Kernel("s390x-6.12") : null;
            var fromXz = Btf.Load(xz, b);
            var fromRaw = Btf.Load(copy, b);
            Assert.Equal(fromRaw.TypeCount, fromXz.TypeCount);
            Assert.Equal(Text(fromRaw), Text(fromXz));
        }

        [Fact]
        public void Btf_hub_style_tar_xz_loads()
        {
            using var tmp = new TempDir();
            var dir = tmp.File("content");
            Directory.CreateDirectory(dir);
            const string member = "5.10.0-46-amd64.btf";
            File.Copy(Fixtures.Path("x86_64-5.10"), Path.Combine(dir, member));
            var archive = tmp.File(member + ".tar.xz");
            ProcessRunner.Check("tar", ["-cJf", archive, "-C", dir, member]);
            var btf = Btf.Load(archive);
            var raw = Kernel("x86_64-5.10");
            Assert.Equal(raw.TypeCount, btf.TypeCount);
            Assert.Equal(Text(raw), Text(btf));
            Assert.Single(btf.FindTypes("task_struct", BtfKind.Struct));

            // Also with a directory entry and a non-BTF file in front, as some archives have.
            File.WriteAllText(Path.Combine(dir, "README"), "not btf\n");
            var archive2 = tmp.File("two.tar.xz");
            ProcessRunner.Check("tar", ["-cJf", archive2, "-C", dir, "README", member]);
            Assert.Equal(raw.TypeCount, Btf.Load(archive2).TypeCount);
        }

        [Fact]
        public void Gzip_of_tar_loads()
        {
            using var tmp = new TempDir();
            var dir = tmp.File("c");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "ppc.btf"), ExtractBtf("elf32be-ppc.o"));
            var archive = tmp.File("ppc.tar.gz");
            ProcessRunner.Check("tar", ["-czf", archive, "-C", dir, "ppc.btf"]);
            var btf = Btf.Load(archive);
            Assert.Equal(Text(Kernel("elf32be-ppc.o")), Text(btf));
        }

        /// <summary>The raw .BTF bytes of an ELF fixture, extracted with llvm-objcopy (independent of our ELF reader).</summary>
        private static byte[] ExtractBtf(string obj)
        {
            using var tmp = new TempDir();
            var outFile = tmp.File("btf.bin");
            var copy = tmp.File("in.o");
            File.Copy(Fixtures.Path(obj), copy);
            ProcessRunner.Check("llvm-objcopy", ["--dump-section", $".BTF={outFile}", copy, tmp.File("junk.o")]);
            return File.ReadAllBytes(outFile);
        }

        public static IEnumerable<object[]> ElfCases()
        {
            // file, base, expected ELF class (32/64), big-endian
            yield return new object[] { "armhf-6.1-ip_vs.ko", "armhf-6.1", 32, false };
            yield return new object[] { "s390x-6.12-qeth.ko", "s390x-6.12", 64, true };
            yield return new object[] { "x86_64-6.12-ip_vs.ko", "x86_64-6.12", 64, false };
            yield return new object[] { "elf32be-ppc.o", null!, 32, true };
            yield return new object[] { "bpf-features.o", null!, 64, false };
            yield return new object[] { "bpf-features-eb.o", null!, 64, true };
        }

        [Theory]
        [MemberData(nameof(ElfCases))]
        public void Elf_of_every_class_and_byte_order_loads(string file, string? baseKernel, int elfClass, bool bigEndian)
        {
            var path = Fixtures.Path(file);
            var bytes = File.ReadAllBytes(path);
            // The fixture really is what the case says (read straight from e_ident).
            Assert.Equal(elfClass == 64 ? 2 : 1, bytes[4]);
            Assert.Equal(bigEndian ? 2 : 1, bytes[5]);
            using (var fs = File.OpenRead(path))
            {
                var elf = ElfFile.Read(fs, path);
                Assert.Equal(elfClass == 64, elf.Is64Bit);
                Assert.Equal(bigEndian, elf.IsBigEndian);
                var sec = elf.FindSection(".BTF");
                Assert.NotNull(sec);
                Assert.Equal(ExtractBtf(file), elf.ReadSection(fs, sec!));
            }

            var b = baseKernel == null ? null : Kernel(baseKernel);
            var btf = Btf.Load(path, b);
            Assert.Equal(bigEndian, btf.IsBigEndian);
            var bpftool = BpftoolDump(file, json: false);
            Assert.Equal(CountTypeLines(bpftool), btf.TypeCount - btf.FirstTypeId);

            // The same bytes through BtfContainer.Parse (in memory) and Btf.Parse of the extracted .BTF agree.
            Assert.Equal(Text(btf), Text(BtfContainer.Parse(File.ReadAllBytes(path), file, b)));
            Assert.Equal(Text(btf), Text(Btf.Parse(ExtractBtf(file), file, b)));
        }

        [Fact]
        public void Little_and_big_endian_objects_decode_identically()
        {
            Assert.Equal(Text(Kernel("bpf-features.o")), Text(Kernel("bpf-features-eb.o")));
        }
    }
}
