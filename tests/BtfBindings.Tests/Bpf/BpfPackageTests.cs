using System;
using System.Collections.Generic;
using System.Linq;
using System.IO;
using BtfBindings.Tests.Build;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// The packed BtfBindings package gives a fresh app outside the repository (one PackageReference, no AllowUnsafeBlocks)
    /// the BtfBindings.Bpf types: it opens the test object, sets .rodata, loads, test-runs a program and reads .bss; run
    /// again with BTFBINDINGS_LIBBPF naming a library that does not exist, it gets the exception naming libbpf.so.1 and libbpf1.
    /// </summary>
    [Trait("Tier", "Package")]
    [Collection(PackageTier.Name)]
    public class BpfPackageTests : IClassFixture<JourneyFeed>
    {
        private readonly JourneyFeed _feed;
        private readonly ITestOutputHelper _log;

        public BpfPackageTests(JourneyFeed feed, ITestOutputHelper log) { _feed = feed; _log = log; }

        private const string Program = @"using System.Runtime.InteropServices;
using BtfBindings.Bpf;

try
{
    using var obj = BpfObject.Open(args[0]);
    if (obj.Programs.Count == 1) { obj.Load(); return 0; }     // rejected.bpf.o: the verifier refuses its one program
    ref var ro = ref obj.Map("".rodata"").Global<Rodata>();
    ro.Magic = 0xFEED;
    ro.Factor = 5;
    obj.Load();
    ref var bss = ref obj.Map("".bss"").Global<Bss>();
    bss.Key = 9;
    var run = obj.Program(""echo"").TestRun(new byte[64]);
    Console.WriteLine($""retval={run.ReturnValue} seen={bss.SeenMagic:x} scaled={bss.Scaled}"");
    return 0;
}
catch (BpfException e)
{
    Console.WriteLine($""BpfException errno={e.Errno}: {e.Message}"");
    return 3;
}

[StructLayout(LayoutKind.Sequential)]
struct Rodata { public ulong Magic; public uint Factor; }

[StructLayout(LayoutKind.Explicit, Size = 0x60)]
struct Bss { [FieldOffset(0)] public uint Key; [FieldOffset(8)] public ulong SeenMagic; [FieldOffset(0x10)] public ulong Scaled; }
";

        [FullSkippableFact]
        public void A_fresh_app_with_only_the_BtfBindings_package_loads_and_runs_a_bpf_object()
        {
            BpfTestSupport.RequireBpf();
            var app = _feed.NewApp("bpf-load", "net10.0", "", Program);
            var obj = Path.Combine(app, "maps_globals.bpf.o");
            File.Copy(BpfTestSupport.Object("maps_globals"), obj);
            var (code, output, _) = _feed.Dotnet(app, JourneyFeed.BuildArgs);
            Assert.True(code == 0, "dotnet build failed:\n" + output);
            Assert.DoesNotContain("AllowUnsafeBlocks", File.ReadAllText(Path.Combine(app, "App.csproj")));

            var (runCode, run, _) = _feed.Dotnet(app, "out/App.dll", obj);
            _log.WriteLine(run);
            Assert.True(runCode == 0, run);
            Assert.Contains("retval=2 seen=feed scaled=45", run);     // XDP_PASS; .rodata as set; key 9 * factor 5

            var missing = RunApp(app, "dotnet", new[] { "out/App.dll", obj }, ("BTFBINDINGS_LIBBPF", "libbpf-not-here.so.9"));
            Assert.Contains("libbpf.so.1 could not be loaded (from 'libbpf-not-here.so.9'", missing);
            Assert.Contains("package libbpf1", missing);

            // Root without capabilities (bounding set emptied, so exec grants none): bpf() itself is refused.
            if (!ProcessRunner.Exists("setpriv")) throw new SkipTestException("setpriv (util-linux) is not installed: the refused-bpf() run needs it");
            var refused = RunApp(app, "setpriv", new[] { "--bounding-set=-all", "--inh-caps=-all", ProcessRunner.Dotnet, "out/App.dll", obj });
            Assert.Contains("bpf() was refused (EPERM)", refused);
            Assert.Contains("CAP_BPF", refused);
        }

        /// <summary>
        /// The same app published with Native AOT (no trim or AOT warnings from BtfBindings.Bpf): the LibraryImports, the
        /// unmanaged log callback with its va_list and the ring buffer work compiled ahead of time; a rejected load carries
        /// the verifier log.
        /// </summary>
        [FullSkippableFact]
        public void The_app_published_with_native_aot_runs_the_same()
        {
            BpfTestSupport.RequireBpf();
            if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
                throw new SkipTestException("the Native AOT check publishes for linux-x64");
            var app = _feed.NewApp("bpf-aot", "net10.0", "", Program, "\n    <PublishAot>true</PublishAot>");
            var obj = Path.Combine(app, "maps_globals.bpf.o");
            File.Copy(BpfTestSupport.Object("maps_globals"), obj);
            var (code, output, _) = _feed.Dotnet(app, "publish", "-r", "linux-x64", "-o", "aot", "-nologo", "-nodeReuse:false");
            Assert.True(code == 0, "dotnet publish (Native AOT) failed:\n" + output);
            Assert.DoesNotContain("BtfBindings.Bpf", string.Join("\n", output.Split('\n').Where(l => l.Contains("warning IL"))));

            var run = RunApp(app, Path.Combine(app, "aot", "App"), new[] { obj }, expectedExit: 0);
            Assert.Contains("retval=2 seen=feed scaled=45", run);
            var rejected = Path.Combine(app, "rejected.bpf.o");
            File.Copy(BpfTestSupport.Object("rejected"), rejected);
            var log = RunApp(app, Path.Combine(app, "aot", "App"), new[] { rejected });
            Assert.Contains("errno=13", log);
            Assert.Contains("invalid access to packet", log);
        }

        /// <summary>Runs the built app (exit code 3: it caught a BpfException, unless told otherwise) and returns what it printed.</summary>
        private string RunApp(string app, string exe, string[] args, (string name, string value) env = default, int expectedExit = 3)
        {
            var environment = new Dictionary<string, string?> { ["DOTNET_ROLL_FORWARD"] = "Major" };
            if (env.name != null) environment[env.name] = env.value;
            var r = ProcessRunner.Run(exe, args, app, environment: environment);
            _log.WriteLine(r.Describe());
            Assert.True(r.ExitCode == expectedExit, $"expected exit {expectedExit} (3: the app caught a BpfException), got:\n{r.Describe()}");
            return r.StdOut;
        }
    }
}
