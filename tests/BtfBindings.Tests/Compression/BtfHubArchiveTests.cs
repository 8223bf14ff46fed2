using System;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using BtfBindings.Containers;
using BtfBindings.Tests.Support;
using Xunit;
using static BtfBindings.Tests.Compression.CompressionTestSupport;

namespace BtfBindings.Tests.Compression;

/// <summary>
/// BTFHub archives (<c>&lt;kernel&gt;.btf.tar.xz</c>, made by tar(1) as BTFHub makes them) through the one unwrapping path
/// every input takes (<see cref="Btf.Load"/>, <c>btfgen extract</c>): the <c>*.btf</c> member is the BTF, and what is wrong
/// is a <see cref="BtfException"/> naming the file (and the offset, where the data says it).
/// </summary>
public class BtfHubArchiveTests
{
    /// <summary>A small, real BTF blob: an int and a struct using it.</summary>
    private static byte[] SmallBtf()
    {
        var b = new BtfBuilder();
        int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
        b.AddComposite(BtfKind.Struct, "hub_probe", 8, ("a", i, 0, 0), ("b", i, 32, 0));
        return b.ToArray();
    }

    [Theory]
    [InlineData("5.4.0-1009-aws.btf", false)]
    [InlineData("5.4.0-1009-aws.btf", true)]
    public void Extracts_the_btf_member_from_tar_xz(string memberName, bool dotPrefix)
    {
        using var tmp = new TempDir("compression");
        string dir = tmp.File("content");
        Directory.CreateDirectory(dir);
        byte[] btf = SmallBtf();
        File.WriteAllBytes(Path.Combine(dir, memberName), btf);
        File.WriteAllText(Path.Combine(dir, "README"), "not btf");
        string archive = tmp.File(memberName + ".tar.xz");
        Run("tar", new[] { "-cJf", archive, "-C", dir, dotPrefix ? "." : memberName });

        var found = KernelImage.FindBtf(File.ReadAllBytes(archive), archive);
        Assert.Equal(btf, found.Data);
        Assert.Contains("tar member " + (dotPrefix ? "./" : "") + memberName, found.Description);
        Assert.Equal(2, Btf.Load(archive).FindType("hub_probe", BtfKind.Struct)!.Value.Vlen);
    }

    [FullFact]
    public void Real_kernel_btf_round_trips_through_a_btf_hub_style_archive()
    {
        byte[] btf = File.ReadAllBytes(Fixtures.Path("x86_64-6.12"));
        Assert.Equal("e0e6430bf6ddca2c65bebe329cd8244ffd06756cbc25f9b37acff9d1d0244131", Convert.ToHexStringLower(SHA256.HashData(btf)));

        using var tmp = new TempDir("compression");
        File.WriteAllBytes(tmp.File("6.12.117+deb12-amd64.btf"), btf);
        string archive = tmp.File("6.12.117+deb12-amd64.btf.tar.xz");
        // BTFHub creates its archives with "tar cvfJ".
        Run("tar", new[] { "cfJ", archive, "-C", tmp.Path, "6.12.117+deb12-amd64.btf" });

        Assert.Equal(btf, KernelImage.FindBtf(File.ReadAllBytes(archive), archive).Data);
        Assert.Equal(Btf.Parse((byte[])btf.Clone()).TypeCount, Btf.Load(archive).TypeCount);
    }

    [Fact]
    public void Accepts_bare_xz_btf_and_uncompressed_tar()
    {
        byte[] btf = SmallBtf();
        Assert.Equal(btf, KernelImage.FindBtf(XzCompress(btf), "vmlinux.btf.xz").Data);

        using var tmp = new TempDir("compression");
        File.WriteAllBytes(tmp.File("k.btf"), btf);
        File.WriteAllText(tmp.File("README"), "not btf");
        byte[] tar = Run("tar", new[] { "-cf", "-", "-C", tmp.Path, "README", "k.btf" });
        Assert.Equal(btf, KernelImage.FindBtf(tar, "k.tar").Data);
    }

    [Fact]
    public void Missing_or_ambiguous_btf_member_is_reported_as_btf_exception()
    {
        using var tmp = new TempDir("compression");
        File.WriteAllBytes(tmp.File("a.btf"), SmallBtf());
        File.WriteAllBytes(tmp.File("b.btf"), SmallBtf());
        File.WriteAllText(tmp.File("notes.txt"), "text");

        byte[] none = Run("tar", new[] { "-cJf", "-", "-C", tmp.Path, "notes.txt" });
        var e = Assert.Throws<BtfException>(() => BtfContainer.Parse((byte[])none.Clone(), "x.btf.tar.xz"));
        Assert.Equal("x.btf.tar.xz", e.SourceName);
        Assert.Contains("tar archive holds no BTF (no .btf member)", e.Message);

        byte[] two = Run("tar", new[] { "-cJf", "-", "-C", tmp.Path, "a.btf", "b.btf" });
        e = Assert.Throws<BtfException>(() => BtfContainer.Parse((byte[])two.Clone(), "y.btf.tar.xz"));
        Assert.Equal("y.btf.tar.xz", e.SourceName);
        Assert.Contains("archive holds several .btf files (a.btf, b.btf); extract one", e.Message);

        // Corrupt xz: the decoder's own error, with the file and the offset of the damage.
        byte[] corrupt = (byte[])none.Clone();
        corrupt[corrupt.Length / 2] ^= 0x10;
        e = Assert.Throws<BtfException>(() => BtfContainer.Parse(corrupt, "z.btf.tar.xz"));
        Assert.Equal("z.btf.tar.xz", e.SourceName);
        Assert.NotNull(e.Offset);
        Assert.InRange(e.Offset!.Value, 0, none.Length);
        Assert.Contains(": xz: ", e.Message);
    }
}
