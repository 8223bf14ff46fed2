using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The package tier (issue 10): the real <c>BtfBindings</c> nupkg, packed once per run with a unique prerelease version
    /// into a temporary feed, consumed by fresh apps under /tmp (outside the repository, so no Directory.Build.props,
    /// ProjectReference or in-tree targets help) exactly as a user writes them: a PackageReference, BtfFile items,
    /// <c>[BtfTypes]</c>, no AllowUnsafeBlocks. Each app is built with <c>dotnet build</c>, run with <c>dotnet out/App.dll</c>,
    /// and what it prints (sizes, field offsets both as the CLR lays the struct out and as <c>BtfLayout</c> records them) is
    /// compared with bpftool's JSON dump of the same BTF.
    /// <para>
    /// Sources: the temporary feed only for BtfBindings (packageSourceMapping), the machine's own NuGet sources (its user NuGet.Config) for everything else. A net10.0
    /// app needs nothing from it (the .NET 10 SDK carries its targeting and apphost packs); a net8.0 app restores the .NET 8
    /// targeting and apphost packs (Microsoft.NETCore.App.Ref / .Host.linux-x64 8.0.x), which the .NET 10 SDK does not ship.
    /// NUGET_PACKAGES is a fresh folder of this run, shared by its apps: the package is really restored from the feed, once,
    /// and nothing comes from a stale cache.
    /// </para>
    /// Run the tier alone: <c>dotnet test tests/BtfBindings.Tests -c Release --filter Tier=Package</c>.
    /// </summary>
    [Trait("Tier", "Package")]
    [Collection(PackageTier.Name)]
    public partial class UserJourneyTests : IClassFixture<JourneyFeed>
    {
        private readonly JourneyFeed _feed;
        private readonly ITestOutputHelper _log;

        public UserJourneyTests(JourneyFeed feed, ITestOutputHelper log)
        {
            _feed = feed;
            _log = log;
            _log.WriteLine($"feed {_feed.Feed}, BtfBindings {_feed.Version}, packed in {_feed.PackTime.TotalSeconds:F1} s");
        }

        // ------------------------------------------------------------------ scenarios

        /// <summary>1. Two BtfFiles, each [BtfTypes] class naming its file: both compile, both match bpftool.</summary>
        [FullFact]
        public void Two_btf_files_each_class_picks_its_file()
        {
            var app = _feed.NewApp("two-files", "net10.0",
                Items(("aarch64-6.1.btf", null), ("x86_64-5.10.btf", null)),
                Program(
                    @"[BtfTypes(""task_struct"", ""iphdr"", BtfFile = ""aarch64-6.1.btf"")]
public static partial class Arm { }

[BtfTypes(""task_struct"", ""iphdr"", BtfFile = ""x86_64-5.10.btf"")]
public static partial class X86 { }",
                    Probe("aarch64-6.1", "Arm", "task_struct", TaskFields),
                    Probe("aarch64-6.1", "Arm", "iphdr", IpFields),
                    Probe("x86_64-5.10", "X86", "task_struct", TaskFields),
                    Probe("x86_64-5.10", "X86", "iphdr", IpFields),
                    Source("aarch64-6.1", "Arm", "task_struct"), Source("x86_64-5.10", "X86", "task_struct")));
            CopyFixture("aarch64-6.1", app, "aarch64-6.1.btf");
            CopyFixture("x86_64-5.10", app, "x86_64-5.10.btf");
            var output = BuildAndRun(app);

            var arm = Truth(Fixtures.Path("aarch64-6.1"));
            var x86 = Truth(Fixtures.Path("x86_64-5.10"));
            AssertLine(output, Expected(arm, "aarch64-6.1", "task_struct", TaskFields));
            AssertLine(output, Expected(arm, "aarch64-6.1", "iphdr", IpFields));
            AssertLine(output, Expected(x86, "x86_64-5.10", "task_struct", TaskFields));
            AssertLine(output, Expected(x86, "x86_64-5.10", "iphdr", IpFields));
            AssertLine(output, "aarch64-6.1 source=aarch64-6.1.btf");
            AssertLine(output, "x86_64-5.10 source=x86_64-5.10.btf");
            // The two kernels really differ (else picking the wrong file would pass unnoticed).
            Assert.NotEqual(arm.Size("task_struct"), x86.Size("task_struct"));
        }

        /// <summary>2. Three BtfFiles and a [BtfTypes] without BtfFile = "...": BTFB003, naming every file.</summary>
        [FullFact]
        public void Three_btf_files_and_no_choice_fails_with_BTFB003_listing_them()
        {
            var app = _feed.NewApp("ambiguous", "net10.0",
                Items(("x86_64-6.12.btf", null), ("x86_64-5.10.btf", null), ("aarch64-6.1.btf", null)),
                Program(@"[BtfTypes(""task_struct"")]
public static partial class Kernel { }"));
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            CopyFixture("x86_64-5.10", app, "x86_64-5.10.btf");
            CopyFixture("aarch64-6.1", app, "aarch64-6.1.btf");
            var (code, output, time) = _feed.Dotnet(app, JourneyFeed.BuildArgs);
            _log.WriteLine($"build (expected to fail): {time.TotalSeconds:F1} s");
            Assert.True(code != 0, "the build succeeded; expected error BTFB003\n" + Errors(output));
            var btfb003 = output.Split('\n').FirstOrDefault(l => l.Contains("error BTFB003"));
            Assert.True(btfb003 != null, "no error BTFB003 in the build output:\n" + Errors(output));
            foreach (var f in new[] { "x86_64-6.12.btf", "x86_64-5.10.btf", "aarch64-6.1.btf" })
                Assert.True(btfb003!.Contains(f), $"BTFB003 does not name {f}: {btfb003}");
            Assert.Contains("Program.cs", btfb003); // on the attribute, not somewhere in the targets
        }

        /// <summary>3. A split module over its base, as README shows it: module-only types match bpftool -B.</summary>
        [FullFact]
        public void Split_module_over_its_base()
        {
            var app = _feed.NewApp("split", "net10.0",
                Items(("ip_vs.ko", "vmlinux.btf")),
                Program(@"[BtfTypes(""ip_vs_service"", ""ip_vs_conn"")]
public static partial class IpVs { }",
                    Probe("ip_vs", "IpVs", "ip_vs_service", ServiceFields),
                    Probe("ip_vs", "IpVs", "ip_vs_conn", ConnFields),
                    Source("ip_vs", "IpVs", "ip_vs_service")));
            CopyFixture("x86_64-6.12-ip_vs.ko", app, "ip_vs.ko");
            CopyFixture("x86_64-6.12", app, "vmlinux.btf");
            var output = BuildAndRun(app);

            var truth = Truth(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Fixtures.Path("x86_64-6.12"));
            Assert.DoesNotContain(Bpftool.Types(Fixtures.Path("x86_64-6.12")).All, t => t.Name == "ip_vs_service"); // module-only
            AssertLine(output, Expected(truth, "ip_vs", "ip_vs_service", ServiceFields));
            AssertLine(output, Expected(truth, "ip_vs", "ip_vs_conn", ConnFields));
            AssertLine(output, "ip_vs source=ip_vs.ko");
        }

        // Spaces, ';' (%3B in MSBuild), '#', '=' and non-ASCII, in the folder and the file name.
        private const string AwkwardDir = "BTF #2;=ü dir";
        private const string AwkwardBtf = "kérnel #1;=a.btf";
        private const string AwkwardModDir = "mods #4;=ö";
        private const string AwkwardKo = "ip_vs #3;=ö.ko";

        /// <summary>4a. A BtfFile whose folder and name hold spaces, ';', '#', '=' and non-ASCII.</summary>
        [FullFact]
        public void Awkward_path_without_base()
        {
            var app = _feed.NewApp("awkward app é", "net10.0",
                Items((AwkwardDir + "/" + AwkwardBtf, null)),
                Program(@"[BtfTypes(""task_struct"", ""iphdr"")]
public static partial class Kernel { }",
                    Probe("x86_64-5.10", "Kernel", "task_struct", TaskFields),
                    Probe("x86_64-5.10", "Kernel", "iphdr", IpFields),
                    Source("x86_64-5.10", "Kernel", "task_struct")));
            CopyFixture("x86_64-5.10", app, Path.Combine(AwkwardDir, AwkwardBtf));
            var output = BuildAndRun(app);

            var truth = Truth(Fixtures.Path("x86_64-5.10"));
            AssertLine(output, Expected(truth, "x86_64-5.10", "task_struct", TaskFields));
            AssertLine(output, Expected(truth, "x86_64-5.10", "iphdr", IpFields));
            AssertLine(output, "x86_64-5.10 source=" + AwkwardBtf);
        }

        /// <summary>4b. A split module and its Base, both at awkward paths.</summary>
        [FullFact]
        public void Awkward_path_with_base()
        {
            var app = _feed.NewApp("awkward split é", "net10.0",
                Items((AwkwardModDir + "/" + AwkwardKo, AwkwardDir + "/" + AwkwardBtf)),
                Program(@"[BtfTypes(""ip_vs_service"")]
public static partial class IpVs { }",
                    Probe("ip_vs", "IpVs", "ip_vs_service", ServiceFields),
                    Source("ip_vs", "IpVs", "ip_vs_service")));
            CopyFixture("x86_64-6.12-ip_vs.ko", app, Path.Combine(AwkwardModDir, AwkwardKo));
            CopyFixture("x86_64-6.12", app, Path.Combine(AwkwardDir, AwkwardBtf));
            var output = BuildAndRun(app);

            var truth = Truth(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Fixtures.Path("x86_64-6.12"));
            AssertLine(output, Expected(truth, "ip_vs", "ip_vs_service", ServiceFields));
            AssertLine(output, "ip_vs source=" + AwkwardKo);
        }

        /// <summary>
        /// 5. net8.0 and net10.0, TreatWarningsAsErrors, Nullable, no AllowUnsafeBlocks (not in the project, not from the
        /// package's props/targets): README's "Use it" code verbatim, plus <c>task.comm</c> as an indexable inline array, a
        /// span and a C string.
        /// </summary>
        [FullTheory]
        [InlineData("net8.0")]
        [InlineData("net10.0")]
        public void Readme_code_builds_warning_free_without_unsafe(string tfm)
        {
            var app = _feed.NewApp("readme-" + tfm, tfm, Items(("x86_64-6.12.btf", null)),
                Program(@"[BtfTypes(""task_struct"", ""iphdr"")]                   // BtfFile = ""name"" picks one of several files
public static partial class Kernel { }",
                    // README "Use it", verbatim (a real IPv4 header as the packet):
                    @"byte[] packet = Convert.FromHexString(""450000358a5c40004011c0a8c0a80001c0000201"");
        ref var ip = ref MemoryMarshal.AsRef<Kernel.iphdr>(packet.AsSpan());
        Console.WriteLine($""{ip.version} {ip.ihl} {Kernel.task_struct.BtfLayout.Field(""pid"")}"");",
                    // task.comm: indexable, a span, a C string.
                    @"var task = new Kernel.task_struct();
        Span<byte> comm = task.comm;
        ""journey""u8.CopyTo(comm);
        task.comm[1] = (byte)'J';
        Console.WriteLine($""comm={task.comm.ToCString()} length={comm.Length} first={(char)task.comm[0]} layout={Kernel.task_struct.BtfLayout.Field(""comm"")!.ByteOffset}/{Kernel.task_struct.BtfLayout.Field(""comm"")!.ByteSize} at={Off(ref task, ref task.comm)}"");",
                    Probe("x86_64-6.12", "Kernel", "task_struct", TaskFields),
                    Probe("x86_64-6.12", "Kernel", "iphdr", IpFields)),
                "\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>");
            Assert.DoesNotContain("AllowUnsafeBlocks", File.ReadAllText(Path.Combine(app, "App.csproj")));
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            var output = BuildAndRun(app);

            var truth = Truth(Fixtures.Path("x86_64-6.12"));
            var pid = truth.Field("task_struct", "pid");
            AssertLine(output, $"4 5 pid_t pid /* {pid.BitOffset / 8} {pid.BitSize / 8} */");
            var comm = truth.Field("task_struct", "comm");
            AssertLine(output, $"comm=jJurney length=16 first=j layout={comm.BitOffset / 8}/16 at={comm.BitOffset / 8}");
            AssertLine(output, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            AssertLine(output, Expected(truth, "x86_64-6.12", "iphdr", IpFields));

            // Nothing turned unsafe code on behind the user's back (the package's build/buildTransitive props and targets included).
            var (code, props, _) = _feed.Dotnet(app, "msbuild", "-nologo", "-getProperty:AllowUnsafeBlocks", "-getProperty:TreatWarningsAsErrors", "-getProperty:Nullable", "-getProperty:TargetFramework");
            Assert.True(code == 0, props);
            using var json = JsonDocument.Parse(props);
            var p = json.RootElement.GetProperty("Properties");
            Assert.True(p.GetProperty("AllowUnsafeBlocks").GetString() is null or "" or "false", props);
            Assert.Equal("true", p.GetProperty("TreatWarningsAsErrors").GetString());
            Assert.Equal("enable", p.GetProperty("Nullable").GetString());
            Assert.Equal(tfm, p.GetProperty("TargetFramework").GetString());
        }

        /// <summary>
        /// The opt-in <c>&lt;BtfTypesAssembly Include="Kernel.cs" /&gt;</c>: the request is compiled into App.BtfTypes.dll,
        /// which the app uses with the same names (internal request class: InternalsVisibleTo) and at bpftool's offsets, views
        /// included. An unrelated edit of Program.cs leaves that assembly as it was (not compiled again); an edit of the
        /// request compiles it again, and the new type is there.
        /// </summary>
        [FullFact]
        public void Types_assembly_is_exact_and_compiled_only_when_its_request_changes()
        {
            string probeTask = Probe("x86_64-6.12", "Kernel", "task_struct", TaskFields);
            // The view too (relocated against the same BTF read as the running kernel): pid written at its offset, read back.
            string where = @"var data = new byte[Kernel.task_struct.BtfLayout.Size];
        BitConverter.TryWriteBytes(data.AsSpan((int)Kernel.task_struct.BtfLayout.Field(""pid"")!.ByteOffset), 4242);
        var view = new Kernel.task_struct.View(data, TargetKernel.Load(""x86_64-6.12.btf""));
        Console.WriteLine($""assembly={typeof(Kernel.task_struct).Assembly.GetName().Name} view={view.Has_pid} {view.pid}"");";
            var app = _feed.NewApp("types-assembly", "net10.0", Items(("x86_64-6.12.btf", null)) + "\n    <BtfTypesAssembly Include=\"Kernel.cs\" />",
                Program("", where, probeTask), "\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>");
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), "[BtfBindings.BtfTypes(\"task_struct\")]\ninternal static partial class Kernel { }\n");
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            var truth = Truth(Fixtures.Path("x86_64-6.12"));

            var output = BuildAndRun(app);
            AssertLine(output, "assembly=App.BtfTypes view=True 4242");
            AssertLine(output, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            var dll = Directory.GetFiles(Path.Combine(app, "obj"), "App.BtfTypes.dll", SearchOption.AllDirectories).Single();
            var built = File.GetLastWriteTimeUtc(dll);
            var bytes = File.ReadAllBytes(dll);

            // An unrelated edit: the app is compiled again, the types assembly is not.
            File.AppendAllText(Path.Combine(app, "Program.cs"), "// an edit\n");
            output = BuildAndRun(app);
            AssertLine(output, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            Assert.Equal(built, File.GetLastWriteTimeUtc(dll));

            // An edit of the request: compiled again, with the new type.
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), "[BtfBindings.BtfTypes(\"task_struct\", \"iphdr\")]\ninternal static partial class Kernel { }\n");
            File.WriteAllText(Path.Combine(app, "Program.cs"), Program("", where, probeTask, Probe("x86_64-6.12", "Kernel", "iphdr", IpFields)));
            output = BuildAndRun(app);
            AssertLine(output, Expected(truth, "x86_64-6.12", "iphdr", IpFields));
            Assert.NotEqual(bytes, File.ReadAllBytes(dll));
        }

        /// <summary>
        /// README's "Use it", followed literally: its project items, its Kernel.cs and its Program.cs, unchanged, in a fresh
        /// app from the packed package (the BTF file copied to the path the README names); the app prints what bpftool says.
        /// Then the several-files variant: its items and its Kernel.cs (each class naming its file), same Program.cs.
        /// </summary>
        [FullFact]
        public void Readme_use_it_followed_literally_builds_and_runs()
        {
            var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "README.md"));
            int from = readme.IndexOf("\n## Use it\n", StringComparison.Ordinal);
            int to = readme.IndexOf("\n## ", from + 5, StringComparison.Ordinal);
            int sub = readme.IndexOf("\n### ", from + 5, StringComparison.Ordinal);    // its subsections are other stories
            if (sub > from && sub < to) to = sub;
            Assert.True(from >= 0 && to > from, "README has no '## Use it' section");
            var section = readme.Substring(from, to - from);
            var blocks = System.Text.RegularExpressions.Regex.Matches(section, "```(xml|csharp)\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline)
                .Select(m => (lang: m.Groups[1].Value, text: m.Groups[2].Value)).ToList();
            var xml = blocks.Where(b => b.lang == "xml").Select(b => b.text).ToList();
            var kernels = blocks.Where(b => b.lang == "csharp" && b.text.StartsWith("// Kernel.cs", StringComparison.Ordinal)).Select(b => b.text).ToList();
            var program = blocks.Single(b => b.lang == "csharp" && b.text.StartsWith("// Program.cs", StringComparison.Ordinal)).text;
            Assert.True(xml.Count == 2 && kernels.Count == 2, $"README's Use it: expected 2 xml blocks and 2 Kernel.cs blocks, found {xml.Count} and {kernels.Count}");
            static string Items(string block) => string.Join("\n", block.Split('\n').Where(l => l.TrimStart().StartsWith("<BtfFile", StringComparison.Ordinal)));

            var x86 = Truth(Fixtures.Path("x86_64-6.12"));
            var pid = x86.Field("task_struct", "pid");
            var saddr = x86.Field("iphdr", "saddr");
            var packet = Convert.FromHexString("450000358a5c40004011c0a8c0a80001c0000201");
            string expectIp = $"4 5 {BitConverter.ToUInt32(packet, (int)(saddr.BitOffset / 8)):x8}";

            // 1. One file.
            var app = _feed.NewApp("readme-literal", "net10.0", Items(xml[0]), program, "\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>");
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), kernels[0]);
            CopyFixture("x86_64-6.12", app, "btf/x86_64-6.12.btf");
            var output = BuildAndRun(app);
            AssertLine(output, expectIp);
            AssertLine(output, "Demo");
            AssertLine(output, $"pid_t pid /* {pid.BitOffset / 8} {pid.BitSize / 8} */");

            // 2. Several files, a split module over its base.
            var app2 = _feed.NewApp("readme-literal-several", "net10.0", Items(xml[1]), program, "\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>");
            File.WriteAllText(Path.Combine(app2, "Kernel.cs"), kernels[1]);
            File.WriteAllText(Path.Combine(app2, "Probe.cs"), @"internal static class Probe
{
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Print() => System.Console.WriteLine($""arm64 task_struct={Arm64.task_struct.BtfLayout.Size} {Arm64.task_struct.BtfLayout.SourceFile}; ip_vs_service={IpVs.ip_vs_service.BtfLayout.Size} {IpVs.ip_vs_service.BtfLayout.SourceFile}"");
}
");
            CopyFixture("x86_64-6.12", app2, "btf/x86_64-6.12.btf");
            CopyFixture("aarch64-6.1", app2, "btf/aarch64-6.1.btf");
            CopyFixture("x86_64-6.12-ip_vs.ko", app2, "modules/ip_vs.ko");
            var output2 = BuildAndRun(app2);
            AssertLine(output2, expectIp);
            AssertLine(output2, $"pid_t pid /* {pid.BitOffset / 8} {pid.BitSize / 8} */");
            var arm = Truth(Fixtures.Path("aarch64-6.1"));
            var mod = Truth(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Fixtures.Path("x86_64-6.12"));
            AssertLine(output2, $"arm64 task_struct={arm.Size("task_struct")} aarch64-6.1.btf; ip_vs_service={mod.Size("ip_vs_service")} ip_vs.ko");
        }

        /// <summary>
        /// README's "BPF programs" section, literally: its BtfFile and BpfProgram items in a fresh app of the packed package, its C
        /// file, its Program.cs. The build compiles the C with clang against the vmlinux.h it writes from the BTF; the app loads
        /// it, attaches it, execs /bin/true and must print that exec as a typed ring-buffer event. Skips where bpf() is refused.
        /// </summary>
        [FullSkippableFact]
        public void Readme_bpf_programs_followed_literally_builds_loads_and_reads_events()
        {
            var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "README.md"));
            int from = readme.IndexOf("\n## BPF programs", StringComparison.Ordinal);
            int to = readme.IndexOf("\n## ", from + 5, StringComparison.Ordinal);
            Assert.True(from >= 0 && to > from, "README has no '## BPF programs' section");
            var blocks = System.Text.RegularExpressions.Regex.Matches(readme.Substring(from, to - from), "```(xml|c|csharp)\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline)
                .Select(m => (lang: m.Groups[1].Value, text: m.Groups[2].Value)).ToList();
            var items = string.Join("\n", blocks.Single(b => b.lang == "xml").text.Split('\n')
                .Where(l => l.TrimStart().StartsWith("<BtfFile", StringComparison.Ordinal) || l.TrimStart().StartsWith("<BpfProgram", StringComparison.Ordinal)));
            var c = blocks.Single(b => b.lang == "c" && b.text.StartsWith("// execsnoop.bpf.c", StringComparison.Ordinal)).text;
            var program = blocks.Single(b => b.lang == "csharp" && b.text.StartsWith("// Program.cs", StringComparison.Ordinal)).text;

            var app = _feed.NewApp("readme-bpf", "net10.0", items, program, "\n    <RootNamespace>Snoop</RootNamespace>\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>");
            File.WriteAllText(Path.Combine(app, "execsnoop.bpf.c"), c);
            CopyFixture("x86_64-6.12", app, "btf/x86_64-6.12.btf");
            var (code, output, time) = _feed.Dotnet(app, JourneyFeed.BuildArgs);
            _log.WriteLine($"build: {time.TotalSeconds:F1} s");
            Assert.True(code == 0, "dotnet build failed:\n" + Errors(output));
            var (runCode, run, _) = _feed.Dotnet(app, "out/App.dll");
            _log.WriteLine(run);
            if (runCode != 0 && run.Contains("refused", StringComparison.OrdinalIgnoreCase)) throw new SkipTestException("bpf() refused here: " + run.Split('\n')[0]);
            Assert.True(runCode == 0, $"dotnet out/App.dll exited {runCode}:\n{run}");
            var lines = run.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d+ true 0$"));   // the /bin/true exec, typed
            var seen = lines.Single(l => l.StartsWith("seen ", StringComparison.Ordinal));
            Assert.True(ulong.Parse(seen.Substring(5)) >= 1, seen);
            Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^pid \d+: 1$"));
        }

        // ------------------------------------------------------------------ the apps

        private static readonly string[] TaskFields = { "pid", "tgid", "flags", "prio" };
        private static readonly string[] IpFields = { "tos", "tot_len", "ttl", "protocol", "check", "saddr", "daddr" };
        private static readonly string[] ServiceFields = { "refcnt", "af", "protocol", "addr", "port", "fwmark", "flags", "stats", "sched_lock", "conntrack_afmask" };
        private static readonly string[] ConnFields = { "cport", "dport", "vport", "af", "caddr", "vaddr", "daddr", "timer", "state", "fwmark", "pe_data_len" };

        private static string Items(params (string file, string? baseFile)[] files)
            => string.Join("\n", files.Select(f => $"    <BtfFile Include=\"{MsBuildEscape(f.file)}\"" + (f.baseFile != null ? $" Base=\"{MsBuildEscape(f.baseFile)}\"" : "") + " />"));

        /// <summary>What a user writes in a project file for a path with ';' (and '%'): MSBuild's escapes.</summary>
        private static string MsBuildEscape(string path) => path.Replace("%", "%25").Replace(";", "%3B");

        /// <summary>Program.cs: the declarations, then Main running each statement block.</summary>
        private static string Program(string declarations, params string[] statements)
            => @"using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BtfBindings;

" + declarations + @"

public static class Program
{
    /// <summary>Where the CLR put a field: its byte offset from the start of the struct holding it.</summary>
    private static long Off<TStruct, TField>(ref TStruct s, ref TField f)
        => (long)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref f));

    public static void Main()
    {
" + string.Concat(statements.Select(s => "        {\n        " + s + "\n        }\n")) + @"    }
}
";

        /// <summary>
        /// A statement printing "label type size=N sizeof=N f=clr/layout …": BtfLayout's size, the CLR's size, and for each field
        /// the offset the CLR gave it and the one BtfLayout records.
        /// </summary>
        private static string Probe(string label, string cls, string type, string[] fields)
        {
            var t = cls + "." + type;
            var sb = new StringBuilder();
            sb.Append($"var v = new {t}();\n        Console.WriteLine($\"{label} {type} size={{{t}.BtfLayout.Size}} sizeof={{Unsafe.SizeOf<{t}>()}}");
            foreach (var f in fields) sb.Append($" {f}={{Off(ref v, ref v.{f})}}/{{{t}.BtfLayout.Field(\"{f}\")!.ByteOffset}}");
            sb.Append("\");");
            return sb.ToString();
        }

        /// <summary>A statement printing "label source=F": the BTF file the generated type says it came from.</summary>
        private static string Source(string label, string cls, string type)
            => $"Console.WriteLine($\"{label} source={{{cls}.{type}.BtfLayout.SourceFile}}\");";

        /// <summary>The line bpftool's numbers say the probe must print.</summary>
        private static string Expected(LayoutTruth truth, string label, string type, string[] fields)
        {
            long size = truth.Size(type);
            var sb = new StringBuilder($"{label} {type} size={size} sizeof={size}");
            foreach (var f in fields)
            {
                var field = truth.Field(type, f);
                Assert.False(field.Bitfield, $"{type}.{f} is a bitfield: not a probe field");
                sb.Append($" {f}={field.BitOffset / 8}/{field.BitOffset / 8}");
            }
            return sb.ToString();
        }

        private static void AssertLine(string output, string expected)
        {
            var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            Assert.True(lines.Contains(expected), $"expected the line\n  {expected}\nin the app's output:\n{output}");
        }

        private static void CopyFixture(string fixture, string app, string relative)
        {
            var dest = Path.Combine(app, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(Fixtures.Path(fixture), dest);
        }

        /// <summary>dotnet build -o out, then dotnet out/App.dll; both must succeed. Returns what the app printed.</summary>
        private string BuildAndRun(string app)
        {
            var (code, output, time) = _feed.Dotnet(app, JourneyFeed.BuildArgs);
            _log.WriteLine($"build: {time.TotalSeconds:F1} s");
            Assert.True(code == 0, "dotnet build failed:\n" + Errors(output));
            var (runCode, run, runTime) = _feed.Dotnet(app, "out/App.dll");
            _log.WriteLine($"run: {runTime.TotalSeconds:F1} s\n{run}");
            Assert.True(runCode == 0, $"dotnet out/App.dll exited {runCode}:\n{run}");
            return run;
        }

        /// <summary>
        /// A build log boiled down: how many of each error/warning code, then the distinct lines with BtfBindings' own
        /// (BTFB*) first, at most 30; the whole log when it has none.
        /// </summary>
        private static string Errors(string output)
        {
            var lines = output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(": error ") || l.Contains(": warning ")).Distinct().ToList();
            if (lines.Count == 0) return output;
            static string Code(string l) { var m = System.Text.RegularExpressions.Regex.Match(l, @": (error|warning) ([A-Z]+[0-9]+)"); return m.Success ? m.Groups[2].Value : "?"; }
            var counts = string.Join(", ", lines.GroupBy(Code).OrderByDescending(g => g.Key.StartsWith("BTFB", StringComparison.Ordinal)).ThenByDescending(g => g.Count()).Select(g => $"{g.Key} x{g.Count()}"));
            var shown = lines.OrderByDescending(l => Code(l).StartsWith("BTFB", StringComparison.Ordinal)).Take(30);
            return $"{lines.Count} distinct error/warning lines ({counts}):\n" + string.Join("\n", shown);
        }

        // ------------------------------------------------------------------ bpftool

        private static LayoutTruth Truth(string file, string? baseFile = null) => LayoutTruth.Of(file, baseFile);

        /// <summary>Sizes and flattened member offsets from <c>bpftool -j btf dump file F [-B BASE] format raw</c>.</summary>
        private sealed class LayoutTruth
        {
            private readonly BpftoolTypes _bt;
            private readonly int _firstId;

            private LayoutTruth(BpftoolTypes bt, int firstId) { _bt = bt; _firstId = firstId; }

            public static LayoutTruth Of(string file, string? baseFile)
            {
                if (baseFile == null) return new LayoutTruth(Bpftool.Types(file), 0);
                // A split dump lists only the module's types; their members refer to base ids. Merge both lists so sizes
                // resolve, and look names up among the module's own types first (ids above the base's).
                var split = Bpftool.Types(file, baseFile);
                return new LayoutTruth(split.WithBase(Bpftool.Types(baseFile)), split.All.Min(t => t.Id));
            }

            private BpftoolType Composite(string name)
                => _bt.All.Where(t => t.Id >= _firstId).First(t => t.IsComposite && t.Name == name);

            public long Size(string type) => Composite(type).Size;

            public CliSupport.Field Field(string type, string field)
            {
                var f = CliSupport.Flatten(_bt, Composite(type)).Where(x => x.Path == field).ToList();
                Assert.True(f.Count == 1, $"bpftool: {type}.{field} found {f.Count} times");
                return f[0];
            }
        }
    }

    /// <summary>The package tests (packing, tool installs, user journeys) run one at a time: they share the src/*/bin outputs they pack, and the machine's cores.</summary>
    [CollectionDefinition(Name)]
    public class PackageTier
    {
        public const string Name = "Package tier";
    }

    /// <summary>
    /// One temporary feed per test run: the BtfBindings package packed once (the build outputs of this test run, same
    /// configuration, unique prerelease version), a nuget.config (the feed for BtfBindings only, the machine's own sources for the rest),
    /// a fresh NUGET_PACKAGES shared by the apps, and guard Directory.Build.props/targets so nothing above /tmp leaks in.
    /// Set BTFBINDINGS_KEEP_JOURNEY=1 to keep the folder after the run.
    /// </summary>
    public sealed class JourneyFeed : IDisposable
    {
        public static readonly string[] BuildArgs = { "build", "-nologo", "-o", "out", "-nodeReuse:false" };

        public string Root { get; }
        public string Feed { get; }
        public string Packages { get; }
        public string Version { get; }
        public TimeSpan PackTime { get; }

        public JourneyFeed()
        {
            Root = Path.Combine(Path.GetTempPath(), "btfb-journey-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Feed = Path.Combine(Root, "feed");
            Packages = Path.Combine(Root, "nuget-packages");
            Directory.CreateDirectory(Feed);
            Directory.CreateDirectory(Packages);
            Version = "0.1.0-journey." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + ".g" + Guid.NewGuid().ToString("N").Substring(0, 8);

            // Pack what this test run built (same configuration): no second build of src/ racing the test run's outputs.
            string config = AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/") ? "Release" : "Debug";
            var sw = Stopwatch.StartNew();
            var (code, output, _) = Dotnet(Fixtures.RepoRoot, "pack", Path.Combine(Fixtures.RepoRoot, "src", "BtfBindings.Runtime"), "-c", config, "--no-build", "-o", Feed, $"-p:PackageVersion={Version}", "-nologo");
            PackTime = sw.Elapsed;
            if (code != 0) throw new InvalidOperationException("dotnet pack src/BtfBindings.Runtime failed:\n" + output);
            var nupkg = Path.Combine(Feed, $"BtfBindings.{Version}.nupkg");
            if (!File.Exists(nupkg)) throw new InvalidOperationException("no " + nupkg + " after dotnet pack:\n" + output);

            File.WriteAllText(Path.Combine(Root, "nuget.config"), $@"<?xml version=""1.0"" encoding=""utf-8""?>
<configuration>
  <packageSources>
    <clear />
    <add key=""journey"" value=""{Feed}"" />
{UpstreamSources.Adds}
  </packageSources>
  <packageSourceMapping>
    <packageSource key=""journey""><package pattern=""BtfBindings"" /></packageSource>
{UpstreamSources.Mappings}
  </packageSourceMapping>
</configuration>
");
            // An app under /tmp would import a Directory.Build.props/targets found above it; stop the search here.
            File.WriteAllText(Path.Combine(Root, "Directory.Build.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(Root, "Directory.Build.targets"), "<Project />\n");
        }

        /// <summary>A fresh app folder with App.csproj (PackageReference to the packed BtfBindings, the BtfFile items) and Program.cs.</summary>
        public string NewApp(string name, string tfm, string btfItems, string program, string extraProperties = "")
        {
            var dir = Path.Combine(Root, name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "App.csproj"), $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>{tfm}</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>{extraProperties}
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include=""BtfBindings"" Version=""{Version}"" />
  </ItemGroup>
  <ItemGroup>
{btfItems}
  </ItemGroup>
</Project>
");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
            return dir;
        }

        /// <summary>
        /// Runs dotnet in <paramref name="workDir"/> as a user's shell would: this run's NUGET_PACKAGES, none of the MSBuild
        /// variables the test host may carry, and DOTNET_ROLL_FORWARD=Major so a net8.0 app runs where only .NET 10 is installed.
        /// </summary>
        public (int code, string output, TimeSpan time) Dotnet(string workDir, params string[] args) => Dotnet((IReadOnlyDictionary<string, string>?)null, workDir, args);

        /// <summary><see cref="Dotnet(string, string[])"/> with variables of the caller's added (e.g. the runtime's DOTNET_ knobs).</summary>
        public (int code, string output, TimeSpan time) Dotnet(IReadOnlyDictionary<string, string>? extraEnv, string workDir, params string[] args)
        {
            var env = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToDictionary(k => k, k => (string?)null);
            env["NUGET_PACKAGES"] = Packages;
            env["DOTNET_NOLOGO"] = "1";
            env["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
            env["DOTNET_ROLL_FORWARD"] = "Major";
            foreach (var kv in extraEnv ?? new Dictionary<string, string>()) env[kv.Key] = kv.Value;
            var sw = Stopwatch.StartNew();
            var r = ProcessRunner.Run("dotnet", args, workDir, TimeSpan.FromMinutes(10), env);
            return (r.ExitCode, r.Output, sw.Elapsed);
        }

        public void Dispose()
        {
            if (Environment.GetEnvironmentVariable("BTFBINDINGS_KEEP_JOURNEY") == "1") return;
            try { Directory.Delete(Root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// The package sources this machine's user-level NuGet.Config lists (where the SDK's .NET 8 packs come from), as
    /// <c>add</c> lines and source-mapping lines for a test app's own nuget.config; nothing hard-coded.
    /// </summary>
    internal static class UpstreamSources
    {
        private static readonly (string key, string url)[] Sources = Read();

        private static (string, string)[] Read()
        {
            var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
            var path = Path.Combine(home, ".nuget", "NuGet", "NuGet.Config");
            if (!File.Exists(path)) return Array.Empty<(string, string)>();
            var doc = System.Xml.Linq.XDocument.Load(path);
            return System.Xml.Linq.Extensions.Elements(doc.Descendants("packageSources"), "add")
                .Select((e, i) => ("upstream" + i, (string?)e.Attribute("value") ?? ""))
                .Where(x => x.Item2.Length > 0).ToArray();
        }

        public static string Adds => string.Join("\n", Sources.Select(x => $"    <add key=\"{x.key}\" value=\"{System.Security.SecurityElement.Escape(x.url)}\" />"));
        public static string Mappings => string.Join("\n", Sources.Select(x => $"    <packageSource key=\"{x.key}\"><package pattern=\"*\" /></packageSource>"));
    }
}
