using System;
using System.IO;
using System.Text;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Which embedded BTF <see cref="TargetKernel.Current"/> picks on a machine without sysfs BTF (a fake root whose
    /// <c>/proc/sys/kernel/osrelease</c> and <c>/proc/sys/kernel/arch</c> say the kernel): the entry for the exact release
    /// and architecture, never a same-release entry for another architecture, and non-portable mode listing what is
    /// embedded when nothing fits.
    /// </summary>
    [Collection(DiscoveryCollection.Name)]
    public sealed class EmbeddedSelectionTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "btfbindings-embedsel-" + Guid.NewGuid().ToString("N"));
        public EmbeddedSelectionTests() { Directory.CreateDirectory(_root); }
        public void Dispose() { try { Directory.Delete(_root, true); } catch (IOException) { } }

        private const string Shared = "6.1.0-99-test";   // one release string built for two architectures

        /// <summary>A small vmlinux BTF marked by a struct named <paramref name="marker"/>, with a long of the arch's size.</summary>
        private static byte[] Vmlinux(string marker, int longSize = 8, bool bigEndian = false)
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddInt("long int", longSize, BtfIntEncoding.Signed);
            b.AddComposite(BtfKind.Struct, "task_struct", 8, ("pid", i, 0, 0), ("tgid", i, 32, 0));
            b.AddComposite(BtfKind.Struct, marker, 4, ("x", i, 0, 0));
            return b.ToArray(bigEndian);
        }

        private KernelBtfOptions Machine(string release, string arch)
        {
            foreach (var (file, text) in new[] { ("proc/sys/kernel/osrelease", release), ("proc/sys/kernel/arch", arch) })
            {
                var p = Path.Combine(_root, file);
                Directory.CreateDirectory(Path.GetDirectoryName(p)!);
                File.WriteAllText(p, text + "\n");
            }
            var o = new KernelBtfOptions
            {
                RootDirectory = _root,                 // no sys/kernel/btf/vmlinux, no /boot: only embedded BTF can answer
                GetEnvironmentVariable = _ => null,
                ResourceAssembly = null,
                UseRegistered = false,
            };
            o.Embedded.Add(new EmbeddedKernelBtf("debian/11/x86_64/5.10.0-46-amd64.btf.tar.xz", "5.10.0-46-amd64", () => Vmlinux("x86_510"), "x86_64", minimized: true));
            o.Embedded.Add(new EmbeddedKernelBtf("debian/12/arm64/" + Shared + ".btf.tar.xz", Shared, () => Vmlinux("arm64_shared"), "arm64", minimized: true));
            o.Embedded.Add(new EmbeddedKernelBtf("debian/12/armhf/" + Shared + ".btf.tar.xz", Shared, () => Vmlinux("armhf_shared", 4), "armhf", minimized: true));
            o.Embedded.Add(new EmbeddedKernelBtf("debian/12/i686/6.1.0-28-686-pae.btf.tar.xz", "6.1.0-28-686-pae", () => Vmlinux("i686_61", 4), "i686", minimized: true));
            o.Embedded.Add(new EmbeddedKernelBtf("debian/13/s390x/6.12.38+deb13-s390x.btf.tar.xz", "6.12.38+deb13-s390x", () => Vmlinux("s390x_612", 8, true), "s390x", minimized: true));
            return o;
        }

        [Theory]
        [InlineData("5.10.0-46-amd64", "x86_64", "x86_510", "x86_64")]
        [InlineData(Shared, "aarch64", "arm64_shared", "aarch64")]
        [InlineData(Shared, "armv7l", "armhf_shared", "armv7l")]
        [InlineData("6.1.0-28-686-pae", "i686", "i686_61", "i686")]
        [InlineData("6.12.38+deb13-s390x", "s390x", "s390x_612", "s390x")]
        public void Exact_release_and_arch_is_picked_and_named(string release, string arch, string marker, string archName)
        {
            var k = TargetKernel.Current(Machine(release, arch));
            Assert.True(k.IsPortable, k.Description);
            Assert.Single(k.Vmlinux!.FindTypes(marker));
            Assert.Equal(release, k.Release);
            Assert.Contains($"release {release} on {archName}", k.Description);
            Assert.Contains("embedded in the application", k.Description);
            Assert.Contains("minimized", k.Description);
            if (arch is "armv7l" or "i686") Assert.Equal(4, k.Vmlinux.PointerSize);
        }

        [Fact]
        public void Release_embedded_only_for_other_architectures_is_never_used()
        {
            var o = Machine(Shared, "x86_64");
            var s = KernelBtf.Locate(o);
            Assert.False(s.IsPortable);
            Assert.Contains(s.Attempts, a => a.Contains("for aarch64, not this machine (x86_64)"));
            Assert.Contains(s.Attempts, a => a.Contains("for armv7l, not this machine (x86_64)"));
            Assert.Contains("non-portable", s.Description);
        }

        [Fact]
        public void Release_not_embedded_is_non_portable_and_lists_what_is()
        {
            var k = TargetKernel.Current(Machine("5.4.0-1010-aws", "x86_64"));
            Assert.False(k.IsPortable);
            Assert.Contains("no kernel BTF found for kernel 5.4.0-1010-aws", k.Description);
            Assert.Contains("embedded BTF: none for release 5.4.0-1010-aws on x86_64 among 5: 5.10.0-46-amd64 (x86_64), " + Shared + " (aarch64), " + Shared + " (armv7l)", k.Description);
            Assert.Contains("6.12.38+deb13-s390x (s390x)", k.Description);
        }

        [Fact]
        public void Exact_entry_wins_over_release_only_and_release_less_ones()
        {
            var o = Machine(Shared, "aarch64");
            o.Embedded.Insert(0, EmbeddedKernelBtf.FromBytes("any kernel", Vmlinux("generic")));
            o.Embedded.Insert(0, EmbeddedKernelBtf.FromBytes("release, arch unknown", Vmlinux("release_only"), Shared));
            var k = TargetKernel.Current(o);
            Assert.Single(k.Vmlinux!.FindTypes("arm64_shared"));
            o.Embedded.RemoveAll(e => e.Machine == "aarch64");
            Assert.Single(TargetKernel.Current(o).Vmlinux!.FindTypes("release_only"));
            o.Embedded.RemoveAll(e => e.Name == "release, arch unknown");
            Assert.Single(TargetKernel.Current(o).Vmlinux!.FindTypes("generic"));
        }

        [Fact]
        public void Generated_code_registration_is_found_for_its_release_and_arch()
        {
            string release = "9.9.9-registered-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            var gz = new MemoryStream();
            using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) z.Write(Vmlinux("registered"));
            string name = "hub/x/y/arm64/" + release + ".btf.tar.xz";
            KernelBtfOptions.RegisterEmbedded(name, release, "arm64", () => gz.ToArray());
            try
            {
                var o = Machine(release, "aarch64");
                o.UseRegistered = true;
                var k = TargetKernel.Current(o);
                Assert.Single(k.Vmlinux!.FindTypes("registered"));
                Assert.Contains($"release {release} on aarch64, minimized", k.Description);
                var other = Machine(release, "x86_64");
                other.UseRegistered = true;
                Assert.False(TargetKernel.Current(other).IsPortable);
            }
            finally { EmbeddedKernelBtf.Unregister(new EmbeddedKernelBtf(name, release, () => Array.Empty<byte>(), "arm64")); }
        }

        [Fact]
        public void A_library_registering_embedded_btf_is_found_before_anything_in_it_is_used()
        {
            // A library (a BtfTypesAssembly, a class library holding [BtfTypes]) whose generated module initializer has not
            // run, because nothing in it was used yet: discovery runs it.
            string release = "9.9.9-library-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            string b64 = Convert.ToBase64String(Vmlinux("from_library"));
            var code = "internal static class Reg { [System.Runtime.CompilerServices.ModuleInitializer] internal static void Init() => "
                + $"BtfBindings.KernelBtfOptions.RegisterEmbedded(\"lib/{release}.btf\", \"{release}\", \"x86_64\", static () => System.Convert.FromBase64String(\"{b64}\")); }}";
            var c = BtfBindings.Tests.Support.TestCompilation.Create("Lib" + Guid.NewGuid().ToString("N"), new[] { Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(code) });
            using var ms = new MemoryStream();
            var r = c.Emit(ms);
            Assert.True(r.Success, string.Join("\n", r.Diagnostics));
            System.Reflection.Assembly.Load(ms.ToArray());
            try
            {
                var o = Machine(release, "x86_64");
                o.UseRegistered = true;
                var k = TargetKernel.Current(o);
                Assert.True(k.IsPortable, k.Description);
                Assert.Single(k.Vmlinux!.FindTypes("from_library"));
            }
            finally { EmbeddedKernelBtf.Unregister(new EmbeddedKernelBtf($"lib/{release}.btf", release, () => Array.Empty<byte>(), "x86_64")); }
        }
    }

    /// <summary>Discovery tests share the process-wide registry of embedded BTF, so they do not run in parallel.</summary>
    [CollectionDefinition(Name)]
    public sealed class DiscoveryCollection { public const string Name = "kernel BTF discovery"; }
}
