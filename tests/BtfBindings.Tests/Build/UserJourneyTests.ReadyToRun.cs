using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The task assembly ships twice: IL (tasks/netstandard2.0, any MSBuild) and precompiled ReadyToRun for linux-x64
    /// (tasks/linux-x64), which the targets pick when MSBuild runs on .NET on Linux x64, so the fresh MSBuild of every build
    /// does not JIT the report task (issue 11). Checked against the PE format (the image's ReadyToRun header and its
    /// Linux-x64 machine) and against the runtime's own JIT (DOTNET_JitDisasmSummary lists every method it compiles).
    /// </summary>
    public partial class UserJourneyTests
    {
        private const string IlTasks = "tasks/netstandard2.0/BtfBindings.Build.dll";
        private const string ReadyToRunTasks = "tasks/linux-x64/BtfBindings.Build.dll";

        [FullFact]
        public void Package_carries_the_tasks_as_IL_and_as_a_linux_x64_ReadyToRun_image_of_the_same_assembly()
        {
            using var zip = ZipFile.OpenRead(Path.Combine(_feed.Feed, $"BtfBindings.{_feed.Version}.nupkg"));
            byte[] Entry(string name)
            {
                var e = zip.GetEntry(name);
                Assert.True(e != null, name + " is not in the package");
                using var s = e!.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                return m.ToArray();
            }
            using var il = new PEReader(new MemoryStream(Entry(IlTasks)));
            using var r2r = new PEReader(new MemoryStream(Entry(ReadyToRunTasks)));

            Assert.Equal(0, il.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size);
            var (major, minor) = ReadyToRunVersion(r2r);
            _log.WriteLine($"{ReadyToRunTasks}: ReadyToRun {major}.{minor}, {r2r.PEHeaders.PEHeader!.SizeOfImage} bytes of image");
            // crossgen2 marks an image for Linux by xor-ing the machine with 0x7B79 (the runtime's IMAGE_FILE_MACHINE_NATIVE_OS_OVERRIDE).
            Assert.Equal((ushort)Machine.Amd64 ^ 0x7B79, (int)r2r.PEHeaders.CoffHeader.Machine);
            // Made for this machine's runtime (the one MSBuild runs on): the ReadyToRun major version of its own CoreLib.
            // A runtime ignores an image of another major version and runs its IL instead.
            using (var corelib = new PEReader(File.OpenRead(typeof(object).Assembly.Location)))
                Assert.Equal(ReadyToRunVersion(corelib).major, major);

            // The same assembly: the image keeps the IL's metadata (identity, version, module id).
            var a = il.GetMetadataReader();
            var b = r2r.GetMetadataReader();
            Assert.Equal(a.GetAssemblyDefinition().GetAssemblyName().FullName, b.GetAssemblyDefinition().GetAssemblyName().FullName);
            Assert.Equal(a.GetGuid(a.GetModuleDefinition().Mvid), b.GetGuid(b.GetModuleDefinition().Mvid));
        }

        /// <summary>The READYTORUN_HEADER the CLI header's ManagedNativeHeader points to: signature 'RTR', major, minor.</summary>
        private static (int major, int minor) ReadyToRunVersion(PEReader pe)
        {
            var dir = pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory;
            Assert.True(dir.Size > 0, "no ManagedNativeHeader: not a ReadyToRun image");
            var reader = pe.GetSectionData(dir.RelativeVirtualAddress).GetReader();
            Assert.Equal(0x00525452u, reader.ReadUInt32());
            return (reader.ReadUInt16(), reader.ReadUInt16());
        }

        [FullSkippableFact]
        public void A_linux_x64_build_runs_the_ReadyToRun_tasks_and_the_IL_ones_when_named_with_the_same_report()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.ProcessArchitecture != Architecture.X64)
                throw new SkipTestException("the ReadyToRun tasks are for MSBuild on Linux x64; this is " + RuntimeInformation.RuntimeIdentifier);
            var tree = BtfHubTree.Make();
            const string code = "[BtfBindings.BtfTypes(\"task_struct\")]\npublic static partial class Kernel { }\n"
                + "public static class Program\n{\n    static int Plain(Kernel.task_struct t) => t.pid;\n    public static void Main() => System.Console.WriteLine(Plain(default));\n}\n";
            string ilTasks = Path.Combine(_feed.Packages, "btfbindings", _feed.Version.ToLowerInvariant(), IlTasks);

            (string output, string jitted, string report) Build(string name, params string[] extra)
            {
                var app = _feed.NewApp(name, "net10.0", $@"    <BtfFile Include=""x86_64-6.12.btf"" />
    <BtfTarget Include=""{tree}/**/*.btf.tar.xz"" />", code);
                File.Copy(Fixtures.Path("x86_64-6.12"), Path.Combine(app, "x86_64-6.12.btf"));
                // One MSBuild process (with its task hosts) and no compiler server, so the JIT's list is this build's alone.
                string jit = Path.Combine(app, "jit.txt");
                var env = new Dictionary<string, string> { ["DOTNET_JitDisasmSummary"] = "1", ["DOTNET_JitStdOutFile"] = jit };
                var (exit, output, _) = _feed.Dotnet(env, app, ["build", "-nologo", "-v:d", "-m:1", "-nodeReuse:false", "-p:UseSharedCompilation=false", .. extra]);
                Assert.True(exit == 0, output);
                Assert.True(File.Exists(jit), "the runtime wrote no JIT summary to " + jit);
                var report = File.ReadAllText(Path.Combine(app, "obj", "Debug", "net10.0", "btfbindings", "compat.json")).Replace(app, "<app>");
                return (output, File.ReadAllText(jit), report);
            }

            var (r2rLog, r2rJit, r2rReport) = Build("r2r-tasks");
            Assert.Contains($"Using \"WriteCompatReport\" task from assembly \"{Path.Combine(_feed.Packages, "btfbindings", _feed.Version.ToLowerInvariant(), "buildTransitive", "..", ReadyToRunTasks)}\"", r2rLog);
            var (ilLog, ilJit, ilReport) = Build("il-tasks", "-p:BtfBindingsTasksAssembly=" + ilTasks);
            Assert.Contains($"Using \"WriteCompatReport\" task from assembly \"{ilTasks}\"", ilLog);

            // The IL build JITs the report task's Execute; the ReadyToRun build runs its precompiled code (no first, Tier0, JIT of any task method).
            const string execute = "JIT compiled BtfBindings.Build.WriteCompatReport:Execute()";
            Assert.Contains(execute, ilJit);
            Assert.DoesNotContain(execute, r2rJit);
            int Jitted(string jit) => jit.Split('\n').Count(l => l.Contains("JIT compiled BtfBindings.Build.") && l.Contains("Tier0"));   // Tier1 would be hot precompiled code made faster
            _log.WriteLine($"methods of BtfBindings.Build.* the JIT compiled: IL {Jitted(ilJit)}, ReadyToRun {Jitted(r2rJit)}");
            Assert.Equal(0, Jitted(r2rJit));

            // Same warnings, same report.
            static string[] Warnings(string log) => log.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(": warning BTFB"))
                .Select(l => l.Substring(l.IndexOf("Program.cs", StringComparison.Ordinal))).Distinct().OrderBy(l => l, StringComparer.Ordinal).ToArray();
            Assert.NotEmpty(Warnings(r2rLog));
            Assert.Equal(Warnings(ilLog).Select(w => w.Replace("il-tasks", "APP")), Warnings(r2rLog).Select(w => w.Replace("r2r-tasks", "APP")));
            Assert.Contains("task_struct.pid", r2rReport);
            Assert.Equal(ilReport, r2rReport);
        }
    }
}
