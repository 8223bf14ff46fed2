using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using BtfBindings.Build.TypesAssembly;
using BtfBindings.Generator;
using BtfBindings.Tests.Generator;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The automatic types assembly's rule (src/BtfBindings.Build/TypesAssembly) against the compiler: for a corpus of
    /// request files in small projects, the expected verdict, and whenever the rule says "stands alone" the file compiles
    /// alone with the real generator against the runtime only (as the targets' Csc does, with InternalsVisibleTo for the
    /// project), and the rest of the project compiles against that assembly. Each project also compiles as a whole, so a
    /// refusal is never about broken code.
    /// </summary>
    public class StandaloneRequestTests
    {
        private const string Use = "internal static class Use { internal static int Size() => System.Runtime.CompilerServices.Unsafe.SizeOf<Kernel.iphdr>(); }\n";
        private const string Plain = "using BtfBindings;\n\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n";

        public static TheoryData<string, bool, string[]> Cases() => new()
        {
            { "plain", true, new[] { Plain, Use } },
            { "qualified attribute, no using", true, new[] { "[BtfBindings.BtfTypes(\"iphdr\")]\ninternal static partial class Kernel { }\n", Use } },
            { "global:: qualified", true, new[] { "[global::BtfBindings.BtfTypesAttribute(\"iphdr\", FollowPointers = false)]\npartial class Kernel { };\n", Use } },
            { "comments with braces and class", true, new[] { "// class Other { void M() {} }\nusing BtfBindings; /* } { class X */\n/// <summary>{ not a body }</summary>\n[BtfTypes(\"iphdr\" /* , \"x\" */)] // trailing {\npublic static partial class Kernel { /* } void M() { */ }\n", Use } },
            { "verbatim and raw strings", true, new[] { "using BtfBindings;\n[BtfTypes(@\"iphdr\", BtfFile = @\"x86_64-6.12.btf\")]\npublic static partial class Kernel { }\n[BtfTypes(\"\"\"\n    udphdr\n    \"\"\")]\npublic static partial class K2 { }\n", Use } },
            { "usings of System", true, new[] { "using System;\nusing System.Runtime.InteropServices;\nusing global::BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static unsafe partial class Kernel { }\n", Use } },
            { "file-scoped namespace", true, new[] { "using BtfBindings;\nnamespace App.Native;\n[BtfTypes(\"iphdr\")]\ninternal static partial class Kernel { }\n", "using App.Native;\n" + Use } },
            { "block namespaces, using inside", true, new[] { "namespace App { namespace Native {\nusing BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic partial class Kernel { }\n} }\n", "using App.Native;\n" + Use } },
            { "#nullable, #pragma and #region", true, new[] { "#nullable enable\n#pragma warning disable CS1591\n#region kernel\nusing BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n#endregion\n", Use } },
            { "another request class without the attribute", true, new[] { Plain + "public static partial class Empty { }\n", Use } },
            { "a use of Kernel elsewhere, an interpolated string there", true, new[] { Plain, "internal static class P { internal static string S() => $\"{Kernel.iphdr.BtfLayout.Size} {{0}}\"; }\n" + Use } },
            { "the words 'class Kernel' in a string elsewhere (unsure: counted as a declaration)", false, new[] { Plain, "internal static class P { internal const string S = \"partial class Kernel\"; }\n" + Use } },
            { "a // comment mentioning Kernel elsewhere", true, new[] { Plain, "// Kernel holds the generated types\n" + Use } },
            { "the name in another namespace's dotted use", true, new[] { Plain, "namespace Other { internal static class K { internal static int S => System.Runtime.CompilerServices.Unsafe.SizeOf<global::Kernel.iphdr>(); } }\n" + Use } },

            { "a method in the class", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { public static int Answer() => 42; }\n", Use } },
            { "a field in the class", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { static int x; }\n", Use } },
            { "a nested type", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { public struct Mine { } }\n", Use } },
            { "a second class with members", false, new[] { Plain + "internal static class Helper { internal static int Two => 2; }\n", Use } },
            { "a second partial part in another file", false, new[] { Plain, "public static partial class Kernel { internal static int Extra => 1; }\n" + Use } },
            { "a second part behind a comment", false, new[] { Plain, "public static partial class /* the same */ Kernel { internal static int Extra => 1; }\n" + Use } },
            { "a project namespace in a using", false, new[] { "using BtfBindings;\nusing System.Mine;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", "namespace System.Mine { internal static class X { } }\n" + Use } },
            { "using a project namespace", false, new[] { "using BtfBindings;\nusing App.Util;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", "namespace App.Util { internal static class X { } }\n" + Use } },
            { "an attribute other than BtfTypes", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\n[System.Obsolete]\npublic static partial class Kernel { }\n", Use.Replace("internal static class Use", "[System.Obsolete] internal static class Use") } },
            { "an assembly attribute", false, new[] { "using BtfBindings;\n[assembly: System.Reflection.AssemblyMetadata(\"a\", \"b\")]\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", Use } },
            { "a constant, not a literal", false, new[] { "using BtfBindings;\n[BtfTypes(Names.Ip)]\npublic static partial class Kernel { }\n", "internal static class Names { internal const string Ip = \"iphdr\"; }\n" + Use } },
            { "string concatenation", false, new[] { "using BtfBindings;\n[BtfTypes(\"ip\" + \"hdr\")]\npublic static partial class Kernel { }\n", Use } },
            { "an interpolated string", false, new[] { "using BtfBindings;\n[BtfTypes($\"iphdr\")]\npublic static partial class Kernel { }\n", Use } },
            { "#if", false, new[] { "using BtfBindings;\n#if DEBUG\n[BtfTypes(\"iphdr\")]\n#else\n[BtfTypes(\"iphdr\")]\n#endif\npublic static partial class Kernel { }\n", Use } },
            { "a struct beside the request", false, new[] { Plain + "public struct Mine { }\n", Use } },
            { "a record beside the request", false, new[] { Plain + "public record R(int X);\n", Use } },
            { "a request on a record", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic partial record Kernel { }\n", "" } },
            { "a base class", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic partial class Kernel : Base { }\n", "public class Base { }\n" + Use } },
            { "a using static", false, new[] { "using static System.Math;\nusing BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", Use } },
            { "a using alias", false, new[] { "using B = BtfBindings;\n[B.BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", Use } },
            { "a global using", false, new[] { "global using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", Use + "internal static class G { internal static BtfKind K => BtfKind.Struct; }\n" } },
            { "the attribute through a project-wide using", false, new[] { "[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n", "global using BtfBindings;\n" + Use } },
            { "a string holding class and braces, then a member", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\", BtfFile = \"x86_64-6.12.btf\")]\npublic static partial class Kernel { const string S = \"class X { }\"; }\n", Use } },
            { "a char literal member", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { const char C = '}'; }\n", Use } },
            { "a generic class", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel<T> { }\n", "" } },
            { "a nested request", false, new[] { "using BtfBindings;\npublic static partial class Outer {\n[BtfTypes(\"iphdr\")]\npublic static partial class Kernel { }\n}\n", "" } },
            { "file-local class", false, new[] { "using BtfBindings;\n[BtfTypes(\"iphdr\")]\nfile static partial class Kernel { }\n", "" } },
        };

        [Theory]
        [MemberData(nameof(Cases))]
        public void Verdict_and_stands_alone_means_it_compiles_alone(string name, bool expected, string[] sources)
        {
            var files = sources.Select((s, i) => (path: $"/src/File{i}.cs", bytes: Encoding.UTF8.GetBytes(s))).ToList();
            var verdicts = StandaloneRequests.Decide(files);
            var request = Assert.Single(verdicts, v => v.Path == "/src/File0.cs");
            Assert.True(expected == request.StandsAlone, $"{name}: expected {(expected ? "stands alone" : "stays")}, rule says {request}");
            if (!expected) Assert.False(string.IsNullOrEmpty(request.Reason));

            // The project as a whole compiles (the corpus is valid C#; a refusal is about standing alone, not broken code).
            var whole = Generate(sources, Array.Empty<MetadataReference>());
            Assert.True(whole.Errors.Count == 0, $"{name}: the whole project does not compile:\n{TestCompilation.Describe(whole.Errors)}");
            if (!request.StandsAlone) return;

            // Alone, as the targets' Csc compiles it: the file, InternalsVisibleTo for the project, the generator.
            var alone = Generate(new[] { sources[0], "[assembly: System.Runtime.CompilerServices.InternalsVisibleTo(\"GenTest\")]\n" }, Array.Empty<MetadataReference>(), "GenTest.BtfTypes");
            Assert.True(alone.Errors.Count == 0, $"{name}: the rule says it stands alone, but alone it does not compile:\n{TestCompilation.Describe(alone.Errors)}");
            var rest = Generate(sources.Skip(1).ToArray(), new[] { MetadataReference.CreateFromImage(alone.Image!) });
            Assert.True(rest.Errors.Count == 0, $"{name}: the project without the file does not compile against its assembly:\n{TestCompilation.Describe(rest.Errors)}");
        }

        private static TestCompilation.Result Generate(string[] sources, IEnumerable<MetadataReference> references, string assembly = "GenTest")
        {
            var parse = TestCompilation.Parse(LanguageVersion.CSharp12, DocumentationMode.Parse);
            var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"/src/{assembly}{i}.cs"));
            var comp = TestCompilation.Create(assembly, trees, TestCompilation.References.Concat(references), TestCompilation.CompilationOptions(allowUnsafe: true, warningLevel: 4));
            GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((Fixtures.Path("x86_64-6.12"), "h1")))
                .RunGeneratorsAndUpdateCompilation(comp, out var output, out var generatorDiagnostics);
            var result = TestCompilation.Emit((CSharpCompilation)output);
            result.Errors.AddRange(generatorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
            return result;
        }

        [Fact]
        public void Files_without_BtfTypes_get_no_verdict_and_are_not_parsed()
        {
            var files = new List<(string, byte[])> { ("/a.cs", Encoding.UTF8.GetBytes("class A { string s = $\"{1}\"; }")), ("/b.cs", new byte[] { 0xFF, 0x00, 0x22 }) };
            Assert.Empty(StandaloneRequests.Decide(files));
        }

        [Fact]
        public void A_UTF16_file_declaring_the_class_is_seen()
        {
            var other = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("partial class Kernel { int x; }")).ToArray();
            var v = StandaloneRequests.Decide(new List<(string, byte[])> { ("/k.cs", Encoding.UTF8.GetBytes(Plain)), ("/o.cs", other) });
            Assert.False(Assert.Single(v).StandsAlone);
            Assert.Contains("/o.cs declares a type or namespace named Kernel", v[0].Reason);
        }

        [Fact]
        public void The_same_request_class_in_two_files_stays()
        {
            var v = StandaloneRequests.Decide(new List<(string, byte[])> { ("/k.cs", Encoding.UTF8.GetBytes(Plain)), ("/k2.cs", Encoding.UTF8.GetBytes(Plain)) });
            Assert.Equal(2, v.Count);
            Assert.All(v, x => Assert.Contains("has [BtfTypes] in", x.Reason));
        }
    }
}
