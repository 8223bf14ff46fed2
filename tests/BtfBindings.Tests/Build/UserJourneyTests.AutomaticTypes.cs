using System.IO;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    public partial class UserJourneyTests
    {
        private const string AssemblyProbe = "Console.WriteLine($\"assembly={typeof(Kernel.task_struct).Assembly.GetName().Name}\");";

        private static string[] TypesAssemblies(string app)
            => Directory.Exists(Path.Combine(app, "obj")) ? Directory.GetFiles(Path.Combine(app, "obj"), "App.BtfTypes.dll", SearchOption.AllDirectories) : new string[0];

        /// <summary>
        /// The default path (no opt-in): README's plain app, its request in Kernel.cs alone, gets obj/…/btftypes/App.BtfTypes.dll,
        /// runs and prints bpftool's offsets from types in that assembly. An edit of Program.cs does not compile the types again
        /// (the assembly's file time stays); an edit of the request does, and the new type is there.
        /// </summary>
        [FullFact]
        public void Standalone_request_file_is_compiled_into_its_own_assembly_by_default()
        {
            const string kernel = "using BtfBindings;\n\n[BtfTypes(\"task_struct\")]\npublic static partial class Kernel { }\n";
            string probeTask = Probe("x86_64-6.12", "Kernel", "task_struct", TaskFields);
            var app = _feed.NewApp("types-automatic", "net10.0", Items(("x86_64-6.12.btf", null)), Program("", AssemblyProbe, probeTask),
                "\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>");
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), kernel);
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            var truth = Truth(Fixtures.Path("x86_64-6.12"));

            var output = BuildAndRun(app);
            AssertLine(output, "assembly=App.BtfTypes");
            AssertLine(output, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            var dll = Assert.Single(TypesAssemblies(app));
            var built = File.GetLastWriteTimeUtc(dll);
            var bytes = File.ReadAllBytes(dll);

            File.AppendAllText(Path.Combine(app, "Program.cs"), "// an edit\n");
            output = BuildAndRun(app);
            AssertLine(output, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            Assert.Equal(built, File.GetLastWriteTimeUtc(dll));

            File.WriteAllText(Path.Combine(app, "Kernel.cs"), kernel.Replace("\"task_struct\"", "\"task_struct\", \"iphdr\""));
            File.WriteAllText(Path.Combine(app, "Program.cs"), Program("", AssemblyProbe, probeTask, Probe("x86_64-6.12", "Kernel", "iphdr", IpFields)));
            output = BuildAndRun(app);
            AssertLine(output, "assembly=App.BtfTypes");
            AssertLine(output, Expected(truth, "x86_64-6.12", "iphdr", IpFields));
            Assert.NotEqual(bytes, File.ReadAllBytes(dll));
        }

        /// <summary>
        /// A request file that does not stand alone (a method in the class) is compiled with the project as before, and the
        /// build says which file and why (normal verbosity); so is a standalone one with BtfBindingsTypesAssembly=false.
        /// Both run and print bpftool's offsets from types in App itself.
        /// </summary>
        [FullFact]
        public void Request_that_does_not_stand_alone_or_opted_out_stays_in_the_project()
        {
            string probeTask = Probe("x86_64-6.12", "Kernel", "task_struct", TaskFields);
            var truth = Truth(Fixtures.Path("x86_64-6.12"));

            var app = _feed.NewApp("types-in-project", "net10.0", Items(("x86_64-6.12.btf", null)), Program("", AssemblyProbe, probeTask));
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), "using BtfBindings;\n\n[BtfTypes(\"task_struct\")]\npublic static partial class Kernel\n{\n    public static int Answer => 42;\n}\n");
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            var (code, build, _) = _feed.Dotnet(app, [.. JourneyFeed.BuildArgs, "-v:n"]);
            Assert.True(code == 0, "dotnet build failed:\n" + Errors(build));
            var why = build.Split('\n').FirstOrDefault(l => l.Contains("BtfBindings: 'Kernel.cs' mentions BtfTypes but is compiled with the project"));
            Assert.True(why != null, "the build does not say why Kernel.cs stays in the project:\n" + build);
            Assert.Contains("line 6: a class body that is not empty", why);
            var (runCode, run, _) = _feed.Dotnet(app, "out/App.dll");
            Assert.True(runCode == 0, run);
            AssertLine(run, "assembly=App");
            AssertLine(run, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            Assert.Empty(TypesAssemblies(app));

            var optOut = _feed.NewApp("types-opted-out", "net10.0", Items(("x86_64-6.12.btf", null)), Program("", AssemblyProbe, probeTask));
            File.WriteAllText(Path.Combine(optOut, "Kernel.cs"), "using BtfBindings;\n\n[BtfTypes(\"task_struct\")]\npublic static partial class Kernel { }\n");
            CopyFixture("x86_64-6.12", optOut, "x86_64-6.12.btf");
            (code, build, _) = _feed.Dotnet(optOut, [.. JourneyFeed.BuildArgs, "-p:BtfBindingsTypesAssembly=false", "-v:n"]);
            Assert.True(code == 0, "dotnet build failed:\n" + Errors(build));
            Assert.DoesNotContain("mentions BtfTypes", build);
            (runCode, run, _) = _feed.Dotnet(optOut, "out/App.dll");
            Assert.True(runCode == 0, run);
            AssertLine(run, "assembly=App");
            AssertLine(run, Expected(truth, "x86_64-6.12", "task_struct", TaskFields));
            Assert.Empty(TypesAssemblies(optOut));
        }
        /// <summary>
        /// The compat analyzer on the default path: with the request in Kernel.cs (so the types come from App.BtfTypes.dll,
        /// a referenced assembly) a plain read of a field missing on one BtfTarget still warns BTFB019 at the use in Program.cs,
        /// and a guarded read through the view does not.
        /// </summary>
        [FullFact]
        public void Compat_warnings_reach_uses_of_types_from_the_types_assembly()
        {
            const string program = @"using BtfBindings;

public static class Program
{
    static uint Plain(Kernel.task_struct t) => t.__state;                                      // #plain-missing
    static uint Guarded(Kernel.task_struct.View v) => v.Has___state ? v.__state : 0u;          // #guarded

    public static void Main() => System.Console.WriteLine($""assembly={typeof(Kernel.task_struct).Assembly.GetName().Name} {Plain(default)}"");
}
";
            static int Line(string marker) => program.Split('\n').Select((l, i) => (l, i)).Single(x => x.l.Contains(marker)).i + 1;
            var tree = BtfHubTree.Make();
            var app = _feed.NewApp("compat-automatic", "net10.0", @"    <BtfFile Include=""x86_64-6.12.btf"" />
    <BtfTarget Include=""btfhub/**/*.btf.tar.xz"" />", program);
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), "using BtfBindings;\n\n[BtfTypes(\"task_struct\")]\npublic static partial class Kernel { }\n");
            CopyFixture("x86_64-6.12", app, "x86_64-6.12.btf");
            foreach (var f in Directory.GetFiles(tree, "*", SearchOption.AllDirectories))
                CopyFixtureFile(f, Path.Combine(app, "btfhub", Path.GetRelativePath(tree, f)));

            var (code, output, _) = _feed.Dotnet(app, JourneyFeed.BuildArgs);
            Assert.True(code == 0, "dotnet build failed:\n" + Errors(output));
            Assert.Single(TypesAssemblies(app));
            var warnings = output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(": warning BTFB")).Distinct().ToList();
            string[] At(string marker) => warnings.Where(w => System.Text.RegularExpressions.Regex.IsMatch(w, $@"Program\.cs\({Line(marker)},\d+\): warning")).ToArray();
            Assert.Contains(At("#plain-missing"), w => w.Contains("warning BTFB019: 'task_struct.__state' is missing on x86_64 5.10"));
            Assert.Empty(At("#guarded"));
            var (runCode, run, _) = _feed.Dotnet(app, "out/App.dll");
            Assert.True(runCode == 0, run);
            Assert.Contains("assembly=App.BtfTypes", run);
        }

        private static void CopyFixtureFile(string from, string to)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to);
        }
    }
}
