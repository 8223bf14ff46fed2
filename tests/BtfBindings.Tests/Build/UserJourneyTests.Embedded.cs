using System;
using System.IO;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    public partial class UserJourneyTests
    {
        private const string EmbedKernel = @"[BtfBindings.BtfTypes(""task_struct"", ""iphdr"")]
public static partial class Kernel { }
";

        private const string EmbedProgram = @"using System.Buffers.Binary;
using BtfBindings;

public static class Program
{
    // Each argument is a fake root (proc/sys/kernel/osrelease and arch, no sys/kernel/btf): which BTF does the app pick,
    // and does a view read task_struct.pid where that kernel has it?
    public static void Main(string[] roots)
    {
        foreach (var root in roots)
        {
            var kernel = TargetKernel.Current(new KernelBtfOptions { RootDirectory = root, EnvironmentVariable = null });
            string tag = Path.GetFileName(root);
            Console.WriteLine($""{tag} portable={kernel.IsPortable}"");
            Console.WriteLine($""{tag} description={kernel.Description}"");
            if (!kernel.IsPortable) continue;
            var res = kernel.Resolve<Kernel.task_struct>();
            var bytes = new byte[res.Size];
            int at = (int)res[""pid""].ByteOffset;
            if (kernel.IsBigEndian) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), 0x1234567);
            else BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), 0x1234567);
            var task = new Kernel.task_struct.View(bytes, res);
            Console.WriteLine($""{tag} size={res.Size} pid_offset={at} view_pid={task.pid:x}"");
        }
    }
}
";

        /// <summary>
        /// 6. Ship the BTF the targets lack: the README's BTFHub-shaped folder (tests/fixtures/make-btfhub-tree.sh) as
        /// <c>&lt;BtfTarget Include="btfhub/**/*.btf.tar.xz" Embed="true" /&gt;</c>; the build prints the size report; the
        /// app, run on fake roots without sysfs BTF, picks the entry for the root's release and arch, says so, and a view
        /// reads task_struct.pid at the offset bpftool gives in that kernel's FULL BTF (32-bit and big-endian included);
        /// a release that is not embedded, or embedded only for another arch, is non-portable and lists what is embedded.
        /// </summary>
        [FullFact]
        public void Embedded_btf_targets_are_picked_by_release_and_arch_on_a_kernel_without_btf() => EmbedJourney("embed", TypesIn.Project);

        /// <summary>6b. The same with the opt-in <c>&lt;BtfTypesAssembly Include="Kernel.cs" /&gt;</c>: the BTF is embedded in the
        /// types assembly, a library, and still found by <c>TargetKernel.Current()</c> before any of its types is used.</summary>
        [FullFact]
        public void Embedded_btf_in_a_types_assembly_is_found_too() => EmbedJourney("embed-types-assembly", TypesIn.ExplicitAssembly);

        /// <summary>6c. The same by default: Kernel.cs stands alone, so its types (and the embedded BTF) go into the types
        /// assembly without any opt-in.</summary>
        [FullFact]
        public void Embedded_btf_in_the_default_types_assembly_is_found_too() => EmbedJourney("embed-default", TypesIn.Default);

        private enum TypesIn { Project, ExplicitAssembly, Default }

        private void EmbedJourney(string name, TypesIn types)
        {
            bool typesAssembly = types != TypesIn.Project;
            var app = _feed.NewApp(name, "net10.0",
                "    <BtfFile Include=\"x86_64-6.12.btf\" />\n    <BtfTarget Include=\"btfhub/**/*.btf.tar.xz\" Embed=\"true\" />"
                + (types == TypesIn.ExplicitAssembly ? "\n    <BtfTypesAssembly Include=\"Kernel.cs\" />" : ""), EmbedProgram,
                // Embedded in the application itself: Kernel.cs stands alone, so the default would compile it into its own assembly.
                types == TypesIn.Project ? "\n    <BtfBindingsTypesAssembly>false</BtfBindingsTypesAssembly>" : "");
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), EmbedKernel);
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            var tree = BtfHubTree.Make();
            foreach (var f in Directory.GetFiles(tree, "*.btf.tar.xz", SearchOption.AllDirectories))
            {
                var dest = Path.Combine(app, "btfhub", Path.GetRelativePath(tree, f));
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                File.Copy(f, dest);
            }
            var (code, build, time) = _feed.Dotnet(app, JourneyFeed.BuildArgs);
            _log.WriteLine($"build: {time.TotalSeconds:F1} s");
            Assert.True(code == 0, "dotnet build failed:\n" + Errors(build));
            var summary = build.Split('\n').FirstOrDefault(l => l.Contains("BtfBindings: embedded BTF for 6 kernels"));
            Assert.True(summary != null, "no size report line in the build output:\n" + build);
            _log.WriteLine(summary!.Trim());
            var report = Directory.GetFiles(Path.Combine(app, "obj"), "embedded.md", SearchOption.AllDirectories).Single();
            if (typesAssembly) Assert.Contains("btftypes", report);
            else Assert.DoesNotContain("btftypes", report);
            _log.WriteLine(File.ReadAllText(report));

            var roots = Path.Combine(app, "roots");
            string Root(string tag, string release, string arch)
            {
                var r = Path.Combine(roots, tag);
                Directory.CreateDirectory(Path.Combine(r, "proc", "sys", "kernel"));
                File.WriteAllText(Path.Combine(r, "proc", "sys", "kernel", "osrelease"), release + "\n");
                File.WriteAllText(Path.Combine(r, "proc", "sys", "kernel", "arch"), arch + "\n");
                return r;
            }
            var cases = BtfHubTree.Kernels.Select(k => (k.fixture, root: Root(k.fixture, k.release, k.arch), k.release, k.arch)).ToList();
            string missing = Root("not-embedded", "5.4.0-1010-aws", "x86_64");
            string otherArch = Root("other-arch", "6.1.0-50-arm64", "x86_64");
            var (runCode, run, _) = _feed.Dotnet(app, new[] { "out/App.dll" }.Concat(cases.Select(c => c.root)).Append(missing).Append(otherArch).ToArray());
            _log.WriteLine(run);
            Assert.True(runCode == 0, run);

            foreach (var (fixture, _, release, arch) in cases)
            {
                AssertLine(run, $"{fixture} portable=True");
                var desc = run.Split('\n').Single(l => l.StartsWith(fixture + " description=", StringComparison.Ordinal));
                Assert.Contains($"kernel BTF for {release} from ", desc);
                Assert.Contains($"embedded in the application: the entry for release {release} on {arch}, minimized to the program's types", desc);
                // The truth: bpftool's dump of the FULL target BTF, not the embedded one.
                var truth = Truth(Fixtures.Path(fixture));
                var pid = truth.Field("task_struct", "pid");
                AssertLine(run, $"{fixture} size={truth.Size("task_struct")} pid_offset={pid.BitOffset / 8} view_pid=1234567");
            }
            AssertLine(run, "not-embedded portable=False");
            var nd = run.Split('\n').Single(l => l.StartsWith("not-embedded description=", StringComparison.Ordinal));
            Assert.Contains("no kernel BTF found for kernel 5.4.0-1010-aws", nd);
            Assert.Contains("embedded BTF: none for release 5.4.0-1010-aws on x86_64 among 6: ", nd);
            foreach (var (_, _, release, arch) in cases) Assert.Contains($"{release} ({arch})", nd);
            AssertLine(run, "other-arch portable=False");
            Assert.Contains("for aarch64, not this machine (x86_64)", run.Split('\n').Single(l => l.StartsWith("other-arch description=", StringComparison.Ordinal)));
        }
    }
}
