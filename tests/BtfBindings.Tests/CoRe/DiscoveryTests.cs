using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using BtfBindings.Tests.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>Kernel BTF discovery over a fake file system root: order, formats, modules, BTFHub layout, embedded BTF, non-portable mode.</summary>
    [Collection(DiscoveryCollection.Name)]
    public sealed class DiscoveryTests : IDisposable
    {
        private const string Release = "6.1.0-99-test";
        private readonly string _root = Path.Combine(Path.GetTempPath(), "btfbindings-discovery-" + Guid.NewGuid().ToString("N"));

        public DiscoveryTests() { Directory.CreateDirectory(_root); }
        public void Dispose() { try { Directory.Delete(_root, true); } catch (IOException) { } }

        /// <summary>A small raw vmlinux BTF with struct task_struct { int pid; }, marked by a struct named <paramref name="marker"/>.</summary>
        private static byte[] Vmlinux(string marker, bool withTask = true)
        {
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddInt("long int", 8, BtfIntEncoding.Signed);
            if (withTask) b.AddComposite(BtfKind.Struct, "task_struct", 8, ("pid", i, 0, 0), ("tgid", i, 32, 0));
            b.AddComposite(BtfKind.Struct, marker, 4, ("x", i, 0, 0));
            return b.ToArray();
        }

        private string Put(string rel, byte[] bytes)
        {
            var p = Path.Combine(_root, rel.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllBytes(p, bytes);
            return p;
        }

        private KernelBtfOptions Options(Dictionary<string, string>? env = null) => new KernelBtfOptions
        {
            RootDirectory = _root,
            GetEnvironmentVariable = n => env != null && env.TryGetValue(n, out var v) ? v : null,
        };

        private static bool Has(KernelBtfSource s, string marker) => s.Vmlinux!.FindTypes(marker).Count == 1;

        [Fact]
        public void Nothing_found_is_non_portable_and_says_so()
        {
            Put("/proc/sys/kernel/osrelease", System.Text.Encoding.ASCII.GetBytes(Release + "\n"));
            var s = KernelBtf.Locate(Options());
            Assert.False(s.IsPortable);
            Assert.Equal(KernelBtfOrigin.None, s.Origin);
            Assert.Equal(Release, s.Release);
            Assert.Contains("layouts cannot be verified", s.Description);
            Assert.Contains("non-portable mode", s.Description);
            Assert.Contains(s.Attempts, a => a.Contains("/sys/kernel/btf/vmlinux") && a.Contains("not found"));
            Assert.Equal(7, s.Attempts.Count(a => a.Contains(Release)));
            var target = s.CreateTarget();
            Assert.False(target.IsPortable);
            var layout = new BtfTypeLayout("task_struct", BtfKind.Struct, 8, new[] { new BtfFieldLayout("pid", 32, 32, false, true, BtfFieldKind.Int, "int", 4) }, "x", 8);
            var r = target.Resolve(layout);
            Assert.False(r.IsVerified);
            Assert.Equal(7, r.ReadInt64("pid", new byte[] { 0, 0, 0, 0, 7, 0, 0, 0 }));
            Assert.Contains("non-portable", r.KernelName);
        }

        [Fact]
        public void Sysfs_comes_first_with_modules_as_split_btf_searched_only_when_vmlinux_has_no_candidate()
        {
            var vmlinux = Vmlinux("sysfs_marker");
            Put("/sys/kernel/btf/vmlinux", vmlinux);
            Put("/boot/vmlinux-" + Release, Vmlinux("boot_marker"));
            var baseBtf = Btf.Parse((byte[])vmlinux.Clone());
            var m = new BtfBuilder(baseBtf);
            m.AddComposite(BtfKind.Struct, "ip_vs_conn", 4, ("flags", 1, 0, 0));
            m.AddComposite(BtfKind.Struct, "task_struct", 4, ("pid", 1, 0, 0)); // a module type that must not win over vmlinux
            Put("/sys/kernel/btf/ip_vs", m.ToArray());
            var o = Options();
            o.KernelRelease = Release;
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.Sysfs, s.Origin);
            Assert.True(Has(s, "sysfs_marker"));
            Assert.Equal(new[] { "ip_vs" }, s.Modules.Select(x => x.Name));
            Assert.False(s.Modules[0].IsLoaded);
            var t = s.CreateTarget();
            Assert.Single(t.FindCandidates("task_struct", BtfKind.Struct));
            Assert.False(s.Modules[0].IsLoaded); // vmlinux had a candidate: the module was not even read
            var conn = t.FindCandidates("ip_vs_conn", BtfKind.Struct);
            Assert.Single(conn);
            Assert.True(s.Modules[0].IsLoaded);
            Assert.Contains("module ip_vs", t.Describe(conn[0]));
            Assert.Contains("sysfs", s.Description);
        }

        [Fact]
        public void Explicit_path_and_environment_override_everything_and_fail_loudly()
        {
            Put("/sys/kernel/btf/vmlinux", Vmlinux("sysfs_marker"));
            var mine = Put("/mine.btf", Vmlinux("explicit_marker"));
            var env = Put("/env.btf", Vmlinux("env_marker"));
            var o = Options(new Dictionary<string, string> { [KernelBtfOptions.DefaultEnvironmentVariable] = env });
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.EnvironmentVariable, s.Origin);
            Assert.True(Has(s, "env_marker"));
            o.ExplicitPath = mine;
            s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.ExplicitPath, s.Origin);
            Assert.True(Has(s, "explicit_marker"));
            o.ExplicitPath = Path.Combine(_root, "missing.btf");
            Assert.Throws<BtfException>(() => KernelBtf.Locate(o));
            o.ExplicitPath = null;
            Put("/env.btf", new byte[] { 1, 2, 3 });
            var e = Assert.Throws<BtfException>(() => KernelBtf.Locate(o));
            Assert.Contains(KernelBtfOptions.DefaultEnvironmentVariable, e.Message);
        }

        public static IEnumerable<object[]> FallbackIndices() => Enumerable.Range(0, 7).Select(i => new object[] { i });

        [Theory]
        [MemberData(nameof(FallbackIndices))]
        public void Fallback_paths_in_libbpf_order_raw_or_elf(int index)
        {
            var paths = KernelBtf.FallbackPaths(Release);
            // The index-th path holds the kernel; every earlier one is absent, every later one holds a decoy.
            bool elf = index % 2 == 1;
            byte[] content = elf ? File.ReadAllBytes(CoreFixtures.CorePath("target.o")) : Vmlinux("raw_marker");
            Put(paths[index], content);
            for (int j = index + 1; j < paths.Count; j++) Put(paths[j], Vmlinux("decoy_" + j));
            Put("/proc/sys/kernel/osrelease", System.Text.Encoding.ASCII.GetBytes(Release + "\n"));
            var s = KernelBtf.Locate(Options());
            Assert.Equal(KernelBtfOrigin.FallbackPath, s.Origin);
            Assert.EndsWith(paths[index], s.Path);
            Assert.True(elf ? s.Vmlinux!.FindTypes("core_bits").Count == 1 : Has(s, "raw_marker"));
            Assert.Equal(index, s.Attempts.Count(a => a.Contains(Release) && a.EndsWith("not found")));
        }

        [Fact]
        public void Fallback_path_elf_without_btf_is_skipped()
        {
            var paths = KernelBtf.FallbackPaths(Release);
            Put(paths[0], File.ReadAllBytes(Environment.ProcessPath!)); // an ELF executable without .BTF (the test host)
            Put(paths[2], Vmlinux("third"));
            var o = Options();
            o.KernelRelease = Release;
            var s = KernelBtf.Locate(o);
            Assert.True(Has(s, "third"));
            Assert.Contains(s.Attempts, a => a.StartsWith(Path.Combine(_root, paths[0].TrimStart('/'))) && !a.EndsWith("not found") && !a.EndsWith("used"));
        }

        [Theory]
        [InlineData("x86_64", "x86_64")]
        [InlineData("aarch64", "arm64")]
        public void Btf_hub_cache_distro_version_arch_release(string machine, string hubArch)
        {
            Put("/etc/os-release", System.Text.Encoding.ASCII.GetBytes("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"20.04\"\n"));
            var hub = Path.Combine(_root, "hub");
            Put($"/hub/ubuntu/20.04/{hubArch}/{Release}.btf", Vmlinux("hub_marker"));
            var o = Options(new Dictionary<string, string> { [KernelBtfOptions.DefaultBtfHubVariable] = hub });
            o.KernelRelease = Release;
            o.Machine = machine;
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.BtfHubCache, s.Origin);
            Assert.True(Has(s, "hub_marker"));
            Assert.Contains("BTFHub", s.Description);
        }

        [Fact]
        public void Embedded_byte_arrays_and_resources_release_match_first()
        {
            var o = Options();
            o.KernelRelease = Release;
            o.Embedded.Add(EmbeddedKernelBtf.FromBytes("generic", Vmlinux("generic_marker")));
            o.Embedded.Add(EmbeddedKernelBtf.FromBytes("other release", Vmlinux("other_marker"), "5.4.0-1"));
            o.Embedded.Add(EmbeddedKernelBtf.FromBytes("this release", Vmlinux("exact_marker"), Release));
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.Embedded, s.Origin);
            Assert.True(Has(s, "exact_marker"));
            o.Embedded.RemoveAt(2);
            Assert.True(Has(KernelBtf.Locate(o), "generic_marker"));
            o.Embedded.RemoveAt(0);
            Assert.False(KernelBtf.Locate(o).IsPortable);

            // Manifest resources (an assembly built here with two of them; gzip is read too).
            var gz = new MemoryStream();
            using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) z.Write(Vmlinux("resource_marker"));
            var asm = AssemblyWithResources(("btf/" + Release + ".btf.gz", gz.ToArray()), ("btf/vmlinux.btf", Vmlinux("any_marker")), ("other.txt", new byte[] { 1 }));
            var res = EmbeddedKernelBtf.FromResources(asm);
            Assert.Equal(2, res.Count);
            Assert.Contains(res, r => r.Release == Release);
            Assert.Contains(res, r => r.Release == null);
            var o2 = Options();
            o2.KernelRelease = Release;
            o2.Embedded.AddRange(res);
            var s2 = KernelBtf.Locate(o2);
            Assert.True(Has(s2, "resource_marker"));
            Assert.Contains("resource btf/" + Release, s2.Path);
        }

        private static Assembly AssemblyWithResources(params (string name, byte[] data)[] resources)
        {
            var c = TestCompilation.Create("Res" + Guid.NewGuid().ToString("N"), new[] { CSharpSyntaxTree.ParseText("class C {}") });
            var ms = new MemoryStream();
            var r = c.Emit(ms, manifestResources: resources.Select(x => new ResourceDescription(x.name, () => new MemoryStream(x.data), true)));
            Assert.True(r.Success);
            return Assembly.Load(ms.ToArray());
        }

        /// <summary>A fake machine where every stage has BTF, each marked by its own struct.</summary>
        private (KernelBtfOptions o, Dictionary<string, string> env, string sysfs, string fallback, string hubFile) EveryStage(Assembly? resources)
        {
            Put("/etc/os-release", System.Text.Encoding.ASCII.GetBytes("ID=debian\nVERSION_ID=\"12\"\n"));
            var env = new Dictionary<string, string>();
            var o = Options(env);
            o.KernelRelease = Release;
            o.Machine = "x86_64";
            o.ExplicitPath = Put("/explicit.btf", Vmlinux("explicit_marker"));
            env[KernelBtfOptions.DefaultEnvironmentVariable] = Put("/env.btf", Vmlinux("env_marker"));
            string sysfs = Put("/sys/kernel/btf/vmlinux", Vmlinux("sysfs_marker"));
            // The last of libbpf's fallback paths, so that every other one is tried (and absent) first.
            string fallback = Put(KernelBtf.FallbackPaths(Release)[6], Vmlinux("fallback_marker"));
            string hubFile = Put($"/hub/debian/12/x86_64/{Release}.btf", Vmlinux("hub_marker"));
            env[KernelBtfOptions.DefaultBtfHubVariable] = Path.Combine(_root, "hub");
            o.Embedded.Add(EmbeddedKernelBtf.FromBytes("listed", Vmlinux("listed_marker"), Release));
            o.ResourceAssembly = resources;
            return (o, env, sysfs, fallback, hubFile);
        }

        [Fact]
        public void Every_stage_present_each_wins_over_all_later_ones_in_the_issues_order()
        {
            var asm = AssemblyWithResources(("btf/vmlinux.btf", Vmlinux("resource_marker")));
            var (o, env, sysfs, fallback, hubFile) = EveryStage(asm);
            void Expect(KernelBtfOrigin origin, string marker)
            {
                var s = KernelBtf.Locate(o);
                Assert.Equal(origin, s.Origin);
                Assert.True(Has(s, marker), $"{origin}: expected {marker}, got {s.Path}");
                var t = TargetKernel.Current(o);
                Assert.Single(t.Vmlinux!.FindTypes(marker));
                Assert.Contains(origin.ToString(), t.Name);
            }
            Expect(KernelBtfOrigin.ExplicitPath, "explicit_marker");
            o.ExplicitPath = null;
            Expect(KernelBtfOrigin.EnvironmentVariable, "env_marker");
            env.Remove(KernelBtfOptions.DefaultEnvironmentVariable);
            Expect(KernelBtfOrigin.Sysfs, "sysfs_marker");
            File.Delete(sysfs);
            Expect(KernelBtfOrigin.FallbackPath, "fallback_marker");
            File.Delete(fallback);
            Expect(KernelBtfOrigin.BtfHubCache, "hub_marker");
            File.Delete(hubFile);
            Expect(KernelBtfOrigin.Embedded, "listed_marker");
            o.Embedded.Clear();
            Expect(KernelBtfOrigin.Embedded, "resource_marker");
            o.ResourceAssembly = null;
            var none = KernelBtf.Locate(o);
            Assert.False(none.IsPortable);
            Assert.Contains("embedded BTF: none", none.Attempts);
        }

        [Fact]
        public void Fallback_path_beats_btf_hub_cache()
        {
            var (o, env, sysfs, fallback, hubFile) = EveryStage(null);
            o.ExplicitPath = null;
            env.Remove(KernelBtfOptions.DefaultEnvironmentVariable);
            File.Delete(sysfs);
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.FallbackPath, s.Origin);
            Assert.Equal(fallback, s.Path);
            Assert.True(Has(s, "fallback_marker"));
            // The cache was never looked at: the attempts stop at the fallback path that was used.
            Assert.Equal(fallback + ": used", s.Attempts[^1]);
            Assert.DoesNotContain(s.Attempts, a => a.Contains(Path.Combine(_root, "hub")));
            // And it is the fallback path, not the order of anything else, that decides: without it the cache is used.
            File.Delete(fallback);
            s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.BtfHubCache, s.Origin);
            Assert.Equal(hubFile, s.Path);
            Assert.Equal(7, s.Attempts.Count(a => a.Contains(Release) && a.EndsWith("not found") && !a.Contains("hub")));
        }

        [Fact]
        public void Btf_hub_cache_beats_embedded_btf_listed_or_resource()
        {
            var asm = AssemblyWithResources(("btf/" + Release + ".btf", Vmlinux("resource_marker")));
            var (o, env, sysfs, fallback, hubFile) = EveryStage(asm);
            o.ExplicitPath = null;
            env.Remove(KernelBtfOptions.DefaultEnvironmentVariable);
            File.Delete(sysfs);
            File.Delete(fallback);
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.BtfHubCache, s.Origin);
            Assert.True(Has(s, "hub_marker"));
            Assert.Equal(hubFile + ": used", s.Attempts[^1]);
            Assert.DoesNotContain(s.Attempts, a => a.Contains("listed") || a.Contains("resource"));
            // A cache folder without this release falls through to embedded BTF.
            File.Move(hubFile, Path.Combine(Path.GetDirectoryName(hubFile)!, "5.4.0-1-other.btf"));
            s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.Embedded, s.Origin);
            Assert.True(Has(s, "listed_marker"));
            Assert.Contains(s.Attempts, a => a == hubFile + ": not found");
        }

        [Fact]
        public void Resource_assembly_defaults_to_the_entry_assembly_and_its_resources_are_searched_without_listing_them()
        {
            // The default: the entry assembly (here the test host's, which has no btf/ resources), searched without being asked.
            Assert.Same(Assembly.GetEntryAssembly(), new KernelBtfOptions().ResourceAssembly);
            Assert.Equal("btf/", new KernelBtfOptions().ResourcePrefix);
            var o = Options();
            o.KernelRelease = Release;
            var entry = Assembly.GetEntryAssembly();
            var s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.None, s.Origin);
            Assert.Contains("embedded BTF: none", s.Attempts);
            if (entry != null) Assert.Contains($"resources btf/* of {entry.GetName().Name}: none", s.Attempts);
            var t = TargetKernel.Current(o);
            Assert.False(t.IsPortable);
            Assert.Contains("non-portable", t.Name);
            // With nothing embedded, the default falls through to the earlier stages as before.
            Put("/sys/kernel/btf/vmlinux", Vmlinux("sysfs_marker"));
            t = TargetKernel.Current(o);
            Assert.True(t.IsPortable);
            Assert.Single(t.Vmlinux!.FindTypes("sysfs_marker"));

            // An application assembly with resources (the naming of EmbeddedKernelBtf.FromResources): found with nothing in Embedded,
            // the running release's resource before the release-less one, entries listed in Embedded before resources.
            File.Delete(Path.Combine(_root, "sys/kernel/btf/vmlinux"));
            var gz = new MemoryStream();
            using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) z.Write(Vmlinux("release_resource"));
            var asm = AssemblyWithResources(("btf/vmlinux.btf", Vmlinux("any_resource")), ("btf/" + Release + ".btf.gz", gz.ToArray()), ("other/vmlinux.btf", Vmlinux("other_prefix")));
            o.ResourceAssembly = asm;
            s = KernelBtf.Locate(o);
            Assert.Equal(KernelBtfOrigin.Embedded, s.Origin);
            Assert.True(Has(s, "release_resource"));
            Assert.Equal("resource btf/" + Release + ".btf.gz", s.Path);
            t = TargetKernel.Current(o);
            Assert.True(t.IsPortable);
            Assert.Single(t.Vmlinux!.FindTypes("release_resource"));
            o.KernelRelease = "5.4.0-1-other";
            Assert.True(Has(KernelBtf.Locate(o), "any_resource"));
            o.Embedded.Add(EmbeddedKernelBtf.FromBytes("listed any", Vmlinux("listed_any")));
            Assert.True(Has(KernelBtf.Locate(o), "listed_any"));
            o.Embedded.Clear();
            o.ResourcePrefix = "other/";
            Assert.True(Has(KernelBtf.Locate(o), "other_prefix"));
        }

        [Fact]
        public void Resource_assembly_already_listed_is_not_searched_twice_null_and_dynamic_assemblies_do_not_throw()
        {
            var asm = AssemblyWithResources(("btf/vmlinux.btf", new byte[] { 1, 2, 3 }));
            var o = Options();
            o.KernelRelease = Release;
            o.ResourceAssembly = asm;
            o.Embedded.AddRange(EmbeddedKernelBtf.FromResources(asm));
            var s = KernelBtf.Locate(o);
            Assert.False(s.IsPortable);
            Assert.Single(s.Attempts, a => a.StartsWith("resource btf/vmlinux.btf: ", StringComparison.Ordinal));

            o.Embedded.Clear();
            o.ResourceAssembly = null;
            s = KernelBtf.Locate(o);
            Assert.False(s.IsPortable);
            Assert.Contains("embedded BTF: none", s.Attempts);
            Assert.DoesNotContain(s.Attempts, a => a.StartsWith("resource", StringComparison.Ordinal));

            o.ResourceAssembly = System.Reflection.Emit.AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Dyn" + Guid.NewGuid().ToString("N")), System.Reflection.Emit.AssemblyBuilderAccess.Run);
            Assert.False(TargetKernel.Current(o).IsPortable);
            Assert.Equal(KernelBtfOrigin.None, KernelBtf.Locate(o).Origin);
        }

        [Fact]
        public void Release_and_machine_from_proc_under_the_root()
        {
            Put("/proc/sys/kernel/osrelease", System.Text.Encoding.ASCII.GetBytes("9.9.9-fake\n"));
            Put("/proc/sys/kernel/arch", System.Text.Encoding.ASCII.GetBytes("aarch64\n"));
            var o = Options();
            o.DistroId = "debian"; o.DistroVersion = "12";
            var paths = KernelBtf.BtfHubPaths(o, "/hub", "9.9.9-fake");
            Assert.Contains("/hub/debian/12/aarch64/9.9.9-fake.btf", paths);
            Assert.Contains("/hub/debian/12/arm64/9.9.9-fake.btf.tar.xz", paths);
            Assert.Equal("9.9.9-fake", KernelBtf.Locate(o).Release);
        }

        [Fact]
        public void Real_machine_default_options_describe_their_source()
        {
            // Works with or without /sys/kernel/btf/vmlinux: either a portable source or a plain non-portable message.
            var s = KernelBtf.Locate();
            Assert.False(string.IsNullOrEmpty(s.Description));
            if (File.Exists("/sys/kernel/btf/vmlinux")) Assert.Equal(KernelBtfOrigin.Sysfs, s.Origin);
            else Assert.Contains(s.Attempts, a => a.Contains("/sys/kernel/btf/vmlinux"));
        }
    }
}
