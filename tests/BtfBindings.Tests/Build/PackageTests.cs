using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The one NuGet package (runtime + analyzer + buildTransitive targets) works for a consumer that only adds a
    /// PackageReference, and for one that gets the package transitively through a project reference.
    /// </summary>
    [Trait("Tier", "Package")]
    [Collection(BtfBindings.Tests.Build.PackageTier.Name)]
    public class PackageTests
    {
        private static (int code, string output) Dotnet(string workDir, params string[] args)
        {
            var r = ProcessRunner.Run("dotnet", args, workDir, TimeSpan.FromMinutes(10));
            return (r.ExitCode, r.Output);
        }

        [FullFact]
        public void Package_reference_alone_generates_kernel_types()
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfb-pkg-" + Guid.NewGuid().ToString("N"));
            var feed = Path.Combine(dir, "feed");
            var app = Path.Combine(dir, "app");
            Directory.CreateDirectory(app);
            string version = "0.1.0-t" + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + Guid.NewGuid().ToString("N").Substring(0, 6);
            var (code, output) = Dotnet(Fixtures.RepoRoot, "pack", Path.Combine(Fixtures.RepoRoot, "src", "BtfBindings.Runtime"), "-c", "Release", "-o", feed, $"-p:PackageVersion={version}", "-nologo");
            Assert.True(code == 0, output);

            var nupkg = Directory.GetFiles(feed, "BtfBindings." + version + ".nupkg").Single();
            using (var zip = ZipFile.OpenRead(nupkg))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("lib/net8.0/BtfBindings.Runtime.dll", entries);
                Assert.Contains("lib/net8.0/BtfBindings.Bpf.dll", entries);    // the libbpf loader rides in the same package
                Assert.Contains("analyzers/dotnet/cs/BtfBindings.Generator.dll", entries);
                Assert.Contains("tasks/netstandard2.0/BtfBindings.Build.dll", entries);  // vmlinux.h for <BpfProgram>, where the targets look
                Assert.Contains("tasks/linux-x64/BtfBindings.Build.dll", entries);       // the same, ReadyToRun (UserJourneyTests.ReadyToRun.cs)
                Assert.Contains("buildTransitive/BtfBindings.targets", entries);
                Assert.Contains("build/BtfBindings.props", entries);
            }
            Nupkg.AssertUserFacingMetadata(nupkg, "BtfBindings");

            File.Copy(Fixtures.Path("aarch64-6.1"), Path.Combine(app, "aarch64.btf"));
            File.WriteAllText(Path.Combine(app, "nuget.config"), $@"<configuration><packageSources><add key=""local"" value=""{feed}"" /></packageSources></configuration>");
            File.WriteAllText(Path.Combine(app, "App.csproj"), $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net8.0</TargetFramework><RollForward>Major</RollForward><Nullable>enable</Nullable></PropertyGroup>
  <ItemGroup>
    <PackageReference Include=""BtfBindings"" Version=""{version}"" />
    <BtfFile Include=""aarch64.btf"" />
  </ItemGroup>
</Project>");
            File.WriteAllText(Path.Combine(app, "Program.cs"), @"
[BtfBindings.BtfTypes(""task_struct"", ""iphdr"")] partial class K { }
static class P { static void Main() => System.Console.WriteLine($""task_struct={K.task_struct.BtfLayout.Size} iphdr={System.Runtime.CompilerServices.Unsafe.SizeOf<K.iphdr>()}""); }");
            (code, output) = Dotnet(app, "build", "-nologo", "-o", "out");
            Assert.True(code == 0, output);
            var (runCode, run) = Dotnet(app, "out/App.dll");
            Assert.True(runCode == 0, run);
            var btf = Btf.Load(Path.Combine(app, "aarch64.btf"));
            Assert.Contains($"task_struct={btf.FindTypes("task_struct", BtfKind.Struct)[0].Size} iphdr=20", run);

            // Transitively: Lib has the PackageReference, App2 only a ProjectReference to Lib. buildTransitive brings the
            // targets, the analyzer flows with the package, so App2's own BtfFile and [BtfTypes] generate too.
            var lib = Path.Combine(dir, "lib");
            var app2 = Path.Combine(dir, "app2");
            Directory.CreateDirectory(lib);
            Directory.CreateDirectory(app2);
            File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(dir, "nuget.config"));
            File.WriteAllText(Path.Combine(lib, "Lib.csproj"), $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageReference Include=""BtfBindings"" Version=""{version}"" /></ItemGroup>
</Project>");
            File.WriteAllText(Path.Combine(lib, "Lib.cs"), "public static class Lib { public static string Name => nameof(BtfBindings.TargetKernel); }");
            File.Copy(Fixtures.Path("x86_64-5.10"), Path.Combine(app2, "x86_64-5.10.btf"));
            File.WriteAllText(Path.Combine(app2, "App2.csproj"), @"<Project Sdk=""Microsoft.NET.Sdk"">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net8.0</TargetFramework><RollForward>Major</RollForward><Nullable>enable</Nullable></PropertyGroup>
  <ItemGroup>
    <ProjectReference Include=""../lib/Lib.csproj"" />
    <BtfFile Include=""x86_64-5.10.btf"" />
  </ItemGroup>
</Project>");
            File.WriteAllText(Path.Combine(app2, "Program.cs"), @"
[BtfBindings.BtfTypes(""task_struct"")] partial class K { }
static class P { static void Main() => System.Console.WriteLine($""{Lib.Name} task_struct={K.task_struct.BtfLayout.Size}""); }");
            (code, output) = Dotnet(app2, "build", "-nologo", "-o", "out");
            Assert.True(code == 0, output);
            (runCode, run) = Dotnet(app2, "out/App2.dll");
            Assert.True(runCode == 0, run);
            var btf510 = Btf.Load(Path.Combine(app2, "x86_64-5.10.btf"));
            Assert.Contains($"TargetKernel task_struct={btf510.FindTypes("task_struct", BtfKind.Struct)[0].Size}", run);
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
