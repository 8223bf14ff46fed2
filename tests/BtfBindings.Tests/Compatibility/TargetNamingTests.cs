using System.Linq;
using BtfBindings.Compatibility;
using Xunit;

namespace BtfBindings.Tests.Compatibility
{
    /// <summary>The naming rule (contract (a)): BTFHub tree paths and bare files to distro, version, arch, release; the version sort key.</summary>
    public class TargetNamingTests
    {
        [Theory]
        [InlineData("btfhub/ubuntu/20.04/x86_64/5.4.0-1010-aws.btf.tar.xz", "ubuntu", "20.04", "x86_64", "5.4.0-1010-aws")]
        [InlineData("/srv/archive/centos/8/arm64/4.18.0-305.el8.aarch64.btf.tar.xz", "centos", "8", "aarch64", "4.18.0-305.el8.aarch64")]
        [InlineData("out/debian/11/x86_64/5.10.0-46-amd64.btf.tar.xz", "debian", "11", "x86_64", "5.10.0-46-amd64")]
        [InlineData("out/debian/12/armhf/6.1.0-50-armmp.btf", "debian", "12", "armv7l", "6.1.0-50-armmp")]
        [InlineData("x86_64/6.12.117+deb12-amd64.btf.gz", null, null, "x86_64", "6.12.117+deb12-amd64")]
        [InlineData("kernels/6.1.0-50-686-pae.btf", null, null, "i686", "6.1.0-50-686-pae")]
        [InlineData("6.12.107+deb13-s390x.btf.xz", null, null, "s390x", "6.12.107+deb13-s390x")]
        [InlineData("/boot/vmlinux-6.1.0-50-arm64", null, null, "aarch64", "6.1.0-50-arm64")]
        [InlineData("4.18.0-305.el8.x86_64.btf", null, null, "x86_64", "4.18.0-305.el8.x86_64")]
        [InlineData("5.4.0-1010-aws.btf", null, null, null, "5.4.0-1010-aws")]
        public void Path_gives_distro_version_arch_and_release(string path, string? distro, string? version, string? arch, string release)
        {
            var t = KernelTargetInfo.FromPath(path);
            Assert.Equal(distro, t.Distro);
            Assert.Equal(version, t.DistroVersion);
            Assert.Equal(arch, t.Arch);
            Assert.Equal(release, t.Release);
        }

        [Fact]
        public void Metadata_overrides_the_path_and_is_normalised()
        {
            var t = KernelTargetInfo.FromPath("x/y/custom.btf", release: "6.6.0-1-custom", arch: "arm64");
            Assert.Equal("6.6.0-1-custom", t.Release);
            Assert.Equal("aarch64", t.Arch);
            Assert.Null(t.Distro);
        }

        [Theory]
        [InlineData("amd64", "x86_64")]
        [InlineData("x64", "x86_64")]
        [InlineData("ARM64", "aarch64")]
        [InlineData("armhf", "armv7l")]
        [InlineData("arm", "armv7l")]
        [InlineData("i386", "i686")]
        [InlineData("ppc64el", "ppc64le")]
        [InlineData("riscv64", "riscv64")]
        [InlineData("s390x", "s390x")]
        [InlineData("generic", null)]
        [InlineData("20.04", null)]
        public void Arch_names_normalise_to_uname_m(string name, string? expected) => Assert.Equal(expected, KernelTargetInfo.NormalizeArch(name));

        [Fact]
        public void Releases_sort_by_numeric_version_then_the_rest()
        {
            string[] sorted = { "4.18.0-305.el8.x86_64", "5.4.0-1010-aws", "5.4.0-1100-aws", "5.4.9-1-generic", "5.10.0-46-amd64", "5.13.0-19-generic", "6.1.0-50-arm64", "6.12.107+deb13-s390x", "6.12.117+deb12-amd64", "custom" };
            var shuffled = sorted.Reverse().Concat(new[] { sorted[3] }).Distinct().OrderBy(s => s.Length).ToArray();
            var byKey = shuffled.OrderBy(KernelVersion.Parse).ToArray();
            Assert.Equal(sorted, byKey);
            var v = KernelVersion.Parse("5.4.0-1010-aws");
            Assert.Equal((5, 4, 0, "-1010-aws", "5.4"), (v.Major, v.Minor, v.Patch, v.Rest, v.Short));
            Assert.False(KernelVersion.Parse("custom").IsValid);
        }
    }
}
