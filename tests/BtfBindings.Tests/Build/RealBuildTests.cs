using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    /// <summary>A real `dotnet build` (compiler server on) of projects that use the generator through its MSBuild targets.</summary>
    public class RealBuildTests
    {
        private static (int code, string output) Dotnet(string workDir, params string[] args)
        {
            // Keep defaults: node reuse and the compiler server (UseSharedCompilation) stay on.
            var r = ProcessRunner.Run("dotnet", args, workDir, TimeSpan.FromMinutes(10), new Dictionary<string, string?> { ["MSBUILDNOINPROCNODE"] = null });
            return (r.ExitCode, r.Output);
        }

        [FullFact]
        public void Sample_builds_with_the_compiler_server_and_prints_real_data()
        {
            var sample = Path.Combine(Fixtures.RepoRoot, "samples", "KernelTypes");
            var outDir = Path.Combine(Path.GetTempPath(), "btfb-sample-" + Guid.NewGuid().ToString("N"));
            var (code, output) = Dotnet(sample, "build", sample, "-c", "Release", "-o", outDir, "-p:UseSharedCompilation=true", "-nologo");
            Assert.True(code == 0, output);
            Assert.DoesNotContain("CS2015", output);
            var (runCode, runOut) = Dotnet(sample, Path.Combine(outDir, "KernelTypes.dll"));
            Assert.True(runCode == 0, runOut);
            Assert.Contains("struct task_struct: 9792 bytes (BTF says 9792)", runOut);
            Assert.Contains("pid_t pid /* 2432 4 */", runOut); // bpftool: task_struct.pid bits_offset 19456
            Assert.Contains("iphdr: version=4 ihl=5 (20 bytes) ttl=64 protocol=17 tot_len=53", runOut);
        }

        [FullFact]
        public void Btf_listed_as_AdditionalFiles_does_not_break_the_build_and_changes_regenerate()
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfb-addfiles-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var root = Fixtures.RepoRoot;
            File.Copy(Fixtures.Path("x86_64-5.10"), Path.Combine(dir, "kernel.btf"));
            File.WriteAllText(Path.Combine(dir, "App.csproj"), $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <Import Project=""{root}/src/BtfBindings.Generator/build/BtfBindings.props"" />
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net8.0</TargetFramework><RollForward>Major</RollForward>
    <!-- The package's tasks: the Build project's output, which -o out puts beside the app's. -->
    <BtfBindingsTasksAssembly>$(MSBuildProjectDirectory)/out/BtfBindings.Build.dll</BtfBindingsTasksAssembly></PropertyGroup>
  <ItemGroup>
    <AdditionalFiles Include=""kernel.btf"" />
    <ProjectReference Include=""{root}/src/BtfBindings.Runtime/BtfBindings.Runtime.csproj"" />
    <ProjectReference Include=""{root}/src/BtfBindings.Generator/BtfBindings.Generator.csproj"" OutputItemType=""Analyzer"" ReferenceOutputAssembly=""false"" />
  </ItemGroup>
  <Import Project=""{root}/src/BtfBindings.Generator/build/BtfBindings.targets"" />
</Project>");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), @"
[BtfBindings.BtfTypes(""task_struct"")] partial class K { }
static class P { static void Main() => System.Console.WriteLine(""size="" + K.task_struct.BtfLayout.Size); }");
            var (code, output) = Dotnet(dir, "build", "-nologo", "-o", "out");
            Assert.True(code == 0, output);
            Assert.DoesNotContain("CS2015", output);
            var (_, run1) = Dotnet(dir, "out/App.dll");
            var expected510 = Btf.Load(Path.Combine(dir, "kernel.btf")).FindTypes("task_struct", BtfKind.Struct)[0].Size;
            Assert.Contains("size=" + expected510, run1);

            // Replace the BTF's content: the next incremental build must regenerate from the new file.
            File.Copy(Fixtures.Path("x86_64-6.12"), Path.Combine(dir, "kernel.btf"), overwrite: true);
            (code, output) = Dotnet(dir, "build", "-nologo", "-o", "out");
            Assert.True(code == 0, output);
            var (_, run2) = Dotnet(dir, "out/App.dll");
            Assert.Contains("size=9792", run2);
            Directory.Delete(dir, true);
        }
    }
}
