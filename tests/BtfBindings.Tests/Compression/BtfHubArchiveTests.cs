using System;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using BtfBindings.Compression;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

public class BtfHubArchiveTests
{
    [Theory]
    [InlineData("5.4.0-1009-aws.btf", false)]
    [InlineData("5.4.0-1009-aws.btf", true)]
    public void Extracts_the_btf_member_from_tar_xz(string memberName, bool dotPrefix)
    {
        using var tmp = new TempDirectory();
        string dir = tmp.Combine("content");
        Directory.CreateDirectory(dir);
        byte[] btf = CompressibleBytes(300_000, 7);
        btf[0] = 0x9F;
        btf[1] = 0xEB;
        File.WriteAllBytes(Path.Combine(dir, memberName), btf);
        string archive = tmp.Combine(memberName + ".tar.xz");
        Run("tar", new[] { "-cJf", archive, "-C", dir, dotPrefix ? "." : memberName });

        Assert.Equal(btf, BtfHubArchive.ExtractBtfFile(archive));
        byte[] fromBytes = BtfHubArchive.ExtractBtf(File.ReadAllBytes(archive), out string name);
        Assert.Equal(btf, fromBytes);
        Assert.Equal(dotPrefix ? "./" + memberName : memberName, name);
    }

    [FullFact]
    public void Real_kernel_btf_round_trips_through_a_btf_hub_style_archive()
    {
        // tests/fixtures/x86_64-6.12.btf.gz: real vmlinux BTF (see tests/fixtures/README.md).
        string fixture = FindFixture("x86_64-6.12.btf.gz");
        byte[] btf;
        using (var gz = new GZipStream(File.OpenRead(fixture), CompressionMode.Decompress))
        using (var ms = new MemoryStream())
        {
            gz.CopyTo(ms);
            btf = ms.ToArray();
        }

        Assert.Equal("e0e6430bf6ddca2c65bebe329cd8244ffd06756cbc25f9b37acff9d1d0244131", Convert.ToHexStringLower(SHA256.HashData(btf)));

        using var tmp = new TempDirectory();
        File.WriteAllBytes(tmp.Combine("6.12.117+deb12-amd64.btf"), btf);
        string archive = tmp.Combine("6.12.117+deb12-amd64.btf.tar.xz");
        // BTFHub creates its archives with "tar cvfJ".
        Run("tar", new[] { "cfJ", archive, "-C", tmp.FullPath, "6.12.117+deb12-amd64.btf" });

        Assert.Equal(btf, BtfHubArchive.ExtractBtfFile(archive));
    }

    private static string FindFixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("fixture tests/fixtures/" + name + " not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Accepts_bare_btf_blob()
    {
        byte[] btf = CompressibleBytes(4000, 10);
        btf[0] = 0x9F;
        btf[1] = 0xEB;
        btf[2] = 1;
        Assert.Equal(btf, BtfHubArchive.ExtractBtf(XzCompress(btf), out string name));
        Assert.Equal(string.Empty, name);
        Assert.Equal(btf, BtfHubArchive.ExtractBtf(btf));
    }

    [Fact]
    public void Accepts_uncompressed_tar()
    {
        using var tmp = new TempDirectory();
        byte[] btf = RandomBytes(5000, 8);
        File.WriteAllBytes(tmp.Combine("k.btf"), btf);
        File.WriteAllText(tmp.Combine("README"), "not btf");
        byte[] tar = Run("tar", new[] { "-cf", "-", "-C", tmp.FullPath, "README", "k.btf" });
        Assert.Equal(btf, BtfHubArchive.ExtractBtf(tar));
    }

    [Fact]
    public void Missing_or_ambiguous_btf_member_is_reported()
    {
        using var tmp = new TempDirectory();
        File.WriteAllText(tmp.Combine("a.btf"), "one");
        File.WriteAllText(tmp.Combine("b.btf"), "two");
        File.WriteAllText(tmp.Combine("notes.txt"), "text");

        byte[] none = Run("tar", new[] { "-cJf", "-", "-C", tmp.FullPath, "notes.txt" });
        var e = Assert.Throws<InvalidDataException>(() => BtfHubArchive.ExtractBtf(none, "x.btf.tar.xz"));
        Assert.Equal("tar: no *.btf member found in x.btf.tar.xz (members: notes.txt)", e.Message);

        byte[] two = Run("tar", new[] { "-cJf", "-", "-C", tmp.FullPath, "a.btf", "b.btf" });
        e = Assert.Throws<InvalidDataException>(() => BtfHubArchive.ExtractBtf(two, "y.btf.tar.xz"));
        Assert.Equal("tar: more than one *.btf member found in y.btf.tar.xz (a.btf, b.btf)", e.Message);

        e = Assert.Throws<InvalidDataException>(() => BtfHubArchive.ExtractBtf(XzCompress(RandomBytes(2000, 9)), "r.tar.xz"));
        Assert.Equal("tar: not a tar archive (nor xz-compressed tar, nor raw BTF) at offset 0 in r.tar.xz", e.Message);

        byte[] corrupt = (byte[])none.Clone();
        corrupt[corrupt.Length / 2] ^= 0x10;
        e = Assert.Throws<InvalidDataException>(() => BtfHubArchive.ExtractBtf(corrupt, "z.btf.tar.xz"));
        Assert.StartsWith("xz: ", e.Message);
        Assert.EndsWith(" in z.btf.tar.xz", e.Message);
    }
}
