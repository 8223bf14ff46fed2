using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace BtfBindings.Tests.Generator
{
    /// <summary>
    /// What the generator emits for pointers (opaque stubs, FollowPointers), forward declarations and duplicate names,
    /// over small BTF built for the purpose with <see cref="BtfBuilder"/>; and BTFB006.
    /// </summary>
    [Collection("generator-cache")]
    public class GeneratorShapeTests
    {
        private static string WriteBtf(string fileName, byte[] bytes)
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfb-gen-shape-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, fileName);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        private static (GeneratorDriver driver, Compilation output, IReadOnlyList<Diagnostic> diags) Run(string code, string btfPath)
        {
            var comp = GeneratorHarness.Compile(new[] { code });
            var files = GeneratorHarness.FilesProperty((btfPath, Path.GetFileName(Path.GetDirectoryName(btfPath))!));
            var driver = GeneratorHarness.CreateDriver(files).RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            return (driver, output, diags.Concat(GeneratorHarness.AnalyzerDiagnostics(comp, files)).ToList());
        }

        private static void AssertCompilesClean(Compilation output)
        {
            var bad = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(bad.Count == 0, string.Join("\n", bad.Take(20)));
        }

        private static List<IFieldSymbol> InstanceFields(INamedTypeSymbol t) => t.GetMembers().OfType<IFieldSymbol>().Where(f => !f.IsStatic).ToList();

        private static int FieldOffset(IFieldSymbol f)
            => (int)f.GetAttributes().Single(a => a.AttributeClass?.Name == "FieldOffsetAttribute").ConstructorArguments[0].Value!;

        private static int LayoutSize(INamedTypeSymbol t)
            => (int)t.GetAttributes().Single(a => a.AttributeClass?.Name == "StructLayoutAttribute").NamedArguments.Single(n => n.Key == "Size").Value.Value!;

        // struct payload { int a; unsigned long b; };  struct hidden;  (declared, never defined)
        // struct node { struct payload *p; struct hidden *h; int x; };
        private static readonly Lazy<string> PointerBtf = new Lazy<string>(() =>
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            int u64 = b.AddInt("long unsigned int", 8);
            int payload = b.AddComposite(BtfKind.Struct, "payload", 16, ("a", i32, 0, 0), ("b", u64, 64, 0));
            int hidden = b.AddFwd("hidden");
            int pPayload = b.AddRef(BtfKind.Ptr, payload);
            int pHidden = b.AddRef(BtfKind.Ptr, hidden);
            b.AddComposite(BtfKind.Struct, "node", 24, ("p", pPayload, 0, 0), ("h", pHidden, 64, 0), ("x", i32, 128, 0));
            return WriteBtf("pointers.btf", b.ToArray());
        });

        [Fact]
        public void Pointer_to_a_type_not_requested_is_an_opaque_named_stub()
        {
            var (driver, output, diags) = Run("[BtfBindings.BtfTypes(\"node\")] partial class K { }", PointerBtf.Value);
            Assert.Empty(diags);
            AssertCompilesClean(output);
            var hints = driver.GetRunResult().GeneratedTrees.Select(t => Path.GetFileName(t.FilePath)).ToList();
            Assert.Contains(hints, h => h.EndsWith("K.payload.g.cs", StringComparison.Ordinal));

            var node = output.GetTypeByMetadataName("K+node")!;
            var p = InstanceFields(node).Single(f => f.Name == "p");
            Assert.Equal("K.payload.Pointer", p.Type.ToDisplayString()); // the typed pointer says what it points to
            Assert.Equal(0, FieldOffset(p));
            var address = Assert.Single(InstanceFields((INamedTypeSymbol)p.Type)); // a target-sized address, nothing else
            Assert.Equal(("Address", SpecialType.System_UInt64), (address.Name, address.Type.SpecialType));

            var stub = output.GetTypeByMetadataName("K+payload")!;
            Assert.Equal(TypeKind.Struct, stub.TypeKind);
            Assert.Empty(InstanceFields(stub));                                   // no members: opaque
            Assert.Empty(stub.GetMembers("a"));
            Assert.DoesNotContain(stub.AllInterfaces, i => i.Name == "IBtfType"); // no layout claimed for it
            Assert.Equal(new[] { "Pointer" }, stub.GetTypeMembers().Select(t => t.Name).ToArray());
            Assert.Contains("Opaque <c>struct payload</c> (16 bytes)", stub.DeclaringSyntaxReferences.Single().GetSyntax().GetLeadingTrivia().ToFullString());
        }

        [Fact]
        public void FollowPointers_emits_the_full_pointee()
        {
            var (_, output, diags) = Run("[BtfBindings.BtfTypes(\"node\", FollowPointers = true)] partial class K { }", PointerBtf.Value);
            Assert.Empty(diags);
            AssertCompilesClean(output);
            Assert.Equal("K.payload.Pointer", InstanceFields(output.GetTypeByMetadataName("K+node")!).Single(f => f.Name == "p").Type.ToDisplayString());

            var payload = output.GetTypeByMetadataName("K+payload")!;
            var fields = InstanceFields(payload);
            Assert.Equal(new[] { ("a", 0, SpecialType.System_Int32), ("b", 8, SpecialType.System_UInt64) },
                fields.Select(f => (f.Name, FieldOffset(f), f.Type.SpecialType)).OrderBy(x => x.Item2).ToArray());
            Assert.Equal(16, LayoutSize(payload));
            Assert.Contains(payload.AllInterfaces, i => i.Name == "IBtfType");

            // A forward declaration has nothing to follow: it stays opaque.
            var hidden = output.GetTypeByMetadataName("K+hidden")!;
            Assert.Empty(InstanceFields(hidden));
            Assert.Equal("K.hidden.Pointer", InstanceFields(output.GetTypeByMetadataName("K+node")!).Single(f => f.Name == "h").Type.ToDisplayString());
        }

        [Fact]
        public void Forward_declaration_becomes_an_opaque_type()
        {
            // Requested by name, and reached through a pointer: both give the same fieldless stub.
            var (driver, output, diags) = Run("[BtfBindings.BtfTypes(\"hidden\", \"node\")] partial class K { }", PointerBtf.Value);
            Assert.Empty(diags);
            AssertCompilesClean(output);
            var hidden = output.GetTypeByMetadataName("K+hidden")!;
            Assert.Equal(TypeKind.Struct, hidden.TypeKind);
            Assert.Empty(InstanceFields(hidden));
            Assert.DoesNotContain(hidden.AllInterfaces, i => i.Name == "IBtfType");
            Assert.Equal(new[] { "Pointer" }, hidden.GetTypeMembers().Select(t => t.Name).ToArray());
            var doc = hidden.DeclaringSyntaxReferences.Single().GetSyntax().GetLeadingTrivia().ToFullString();
            Assert.Contains("Opaque <c>struct hidden</c>: forward declaration", doc);
            Assert.Single(driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith("K.hidden.g.cs", StringComparison.Ordinal));
        }

        /// <summary>
        /// Two <c>struct dup</c> (4 and 8 bytes) and a <c>struct user</c> holding one of each, with the duplicates added in
        /// the given order, so their type ids swap between the two blobs.
        /// </summary>
        private static string DuplicateBtf(bool smallFirst)
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddInt("long unsigned int", 8);
            int AddSmall() => b.AddComposite(BtfKind.Struct, "dup", 4, ("a", i32, 0, 0));
            int AddBig() => b.AddComposite(BtfKind.Struct, "dup", 8, ("a", i32, 0, 0), ("b", i32, 32, 0));
            int small, big;
            if (smallFirst) { small = AddSmall(); big = AddBig(); }
            else { big = AddBig(); small = AddSmall(); }
            b.AddComposite(BtfKind.Struct, "user", 12, ("s", small, 0, 0), ("l", big, 32, 0));
            return WriteBtf("dups.btf", b.ToArray()); // same file name: the outputs may differ only through the BTF's content
        }

        [Fact]
        public void Duplicate_suffix_follows_content_not_type_ids()
        {
            const string code = "[BtfBindings.BtfTypes(\"user\")] partial class K { }";
            var a = Run(code, DuplicateBtf(smallFirst: true));
            var b = Run(code, DuplicateBtf(smallFirst: false));
            foreach (var (_, output, diags) in new[] { a, b })
            {
                Assert.Empty(diags);
                AssertCompilesClean(output);
                var user = InstanceFields(output.GetTypeByMetadataName("K+user")!).ToDictionary(f => f.Name, f => f.Type.ToDisplayString());
                Assert.Equal("K.dup", user["s"]);      // the 4-byte one keeps the plain name in both
                Assert.Equal("K.dup___2", user["l"]);  // the 8-byte one is ___2 in both
                Assert.Equal(4, LayoutSize(output.GetTypeByMetadataName("K+dup")!));
                Assert.Equal(8, LayoutSize(output.GetTypeByMetadataName("K+dup___2")!));
            }
            // Not only the names: every generated file is the same whatever the ids were.
            var textA = a.driver.GetRunResult().GeneratedTrees.Select(t => Path.GetFileName(t.FilePath) + "\n" + t).ToList();
            var textB = b.driver.GetRunResult().GeneratedTrees.Select(t => Path.GetFileName(t.FilePath) + "\n" + t).ToList();
            Assert.Equal(3, textA.Count);
            Assert.Equal(textA, textB);
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Name_with_duplicate_suffix_selects_that_duplicate(bool smallFirst)
        {
            var path = DuplicateBtf(smallFirst);
            var (driver, output, diags) = Run("[BtfBindings.BtfTypes(\"dup___2\")] partial class K { }", path);
            Assert.Empty(diags);
            AssertCompilesClean(output);
            var dup2 = output.GetTypeByMetadataName("K+dup___2")!;
            Assert.Equal(8, LayoutSize(dup2));
            Assert.Equal(new[] { "a", "b" }, InstanceFields(dup2).Select(f => f.Name).OrderBy(n => n).ToArray());
            Assert.Null(output.GetTypeByMetadataName("K+dup")); // only the one asked for
            var layout = Assert.Single(GeneratorHarness.DecodedLayouts(driver.GetRunResult().GeneratedTrees));
            Assert.Equal(("dup", global::BtfBindings.BtfKind.Struct, 8u), (layout.BtfName, layout.Kind, layout.Size)); // its BTF name stays "dup"

            // The plain name is the first in that order; a suffix past the last duplicate is unknown.
            var (_, first, d1) = Run("[BtfBindings.BtfTypes(\"dup\")] partial class K { }", path);
            Assert.Empty(d1);
            Assert.Equal(4, LayoutSize(first.GetTypeByMetadataName("K+dup")!));
            var (_, _, d3) = Run("[BtfBindings.BtfTypes(\"dup___3\")] partial class K { }", path);
            Assert.Equal("BTFB001", Assert.Single(d3).Id);
        }

        [Fact]
        public void Target_framework_without_inline_arrays_is_BTFB006_on_the_attribute()
        {
            // A core library of its own, without System.Runtime.CompilerServices.InlineArrayAttribute (as before .NET 8).
            const string corlib = @"
namespace System
{
    public class Object { }
    public abstract class ValueType { }
    public abstract class Enum : ValueType { }
    public struct Void { }
    public struct Boolean { }
    public struct Int32 { }
    public sealed class String { }
    public abstract class Array { }
    public class Attribute { }
    public sealed class ParamArrayAttribute : Attribute { }
    public enum AttributeTargets { Class = 4 }
    public sealed class AttributeUsageAttribute : Attribute
    {
        public AttributeUsageAttribute(AttributeTargets validOn) { }
        public bool AllowMultiple { get; set; }
        public bool Inherited { get; set; }
    }
    public abstract class Type { }
}
namespace BtfBindings
{
    [System.AttributeUsage(System.AttributeTargets.Class)]
    public sealed class BtfTypesAttribute : System.Attribute
    {
        public BtfTypesAttribute(params string[] names) { }
        public string BtfFile { get; set; }
    }
}";
            var parse = new CSharpParseOptions(LanguageVersion.CSharp12);
            var core = TestCompilation.Create("oldcore", new[] { CSharpSyntaxTree.ParseText(corlib, parse) }, Array.Empty<MetadataReference>(),
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
            Assert.Empty(core.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            const string code = @"
namespace Demo
{
    [BtfBindings.BtfTypes(""iphdr"")]
    public partial class Kernel { }
}";
            var comp = TestCompilation.Create("OldTfm", new[] { CSharpSyntaxTree.ParseText(code, parse, path: "/src/File0.cs") }, new[] { core.ToMetadataReference() },
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
            Assert.Empty(comp.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

            var driver = GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((BtfBindings.Tests.Support.Fixtures.Path("x86_64-6.12"), "h1")))
                .RunGeneratorsAndUpdateCompilation(comp, out _, out var diags);
            var d = Assert.Single(diags);
            Assert.Equal("BTFB006", d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Equal("BtfBindings needs .NET 8 or later (System.Runtime.CompilerServices.InlineArrayAttribute is missing from the target framework)", d.GetMessage());
            Assert.Equal("/src/File0.cs", d.Location.GetLineSpan().Path);
            Assert.Equal(3, d.Location.GetLineSpan().StartLinePosition.Line);
            Assert.Equal("BtfBindings.BtfTypes(\"iphdr\")", code.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
            Assert.Empty(driver.GetRunResult().GeneratedTrees);

            // The same code against the real framework generates: the diagnostic is about the framework, nothing else.
            var ok = GeneratorHarness.Compile(new[] { code });
            GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((BtfBindings.Tests.Support.Fixtures.Path("x86_64-6.12"), "h1")))
                .RunGeneratorsAndUpdateCompilation(ok, out _, out var okDiags);
            Assert.Empty(okDiags);
        }

        [Fact]
        public void Anonymous_enum_constants_keep_their_enums_signedness_and_size()
        {
            // struct holder { enum { U_BIG = 0xFFFFFFFF00000000, U_ALL = ~0UL, U_SMALL = 7 } u : 64;
            //                 enum { S_NEG = -5, S_BIG = -(1L << 40) } s;  enum { W_TOP = 0x80000000U } w; };
            var b = new BtfBuilder();
            int u64 = b.AddEnum("", 8, signed: false, enum64: true, ("U_BIG", unchecked((long)0xFFFFFFFF00000000UL)), ("U_ALL", -1L), ("U_SMALL", 7));
            int s64 = b.AddEnum("", 8, signed: true, enum64: true, ("S_NEG", -5), ("S_BIG", -(1L << 40)));
            int u32 = b.AddEnum("", 4, signed: false, enum64: false, ("W_TOP", 0x80000000L));
            b.AddComposite(BtfKind.Struct, "holder", 24, ("u", u64, 0, 0), ("s", s64, 64, 0), ("w", u32, 128, 0));
            var (_, output, diags) = Run("[BtfBindings.BtfTypes(\"holder\")] partial class K { }", WriteBtf("anon-enums.btf", b.ToArray()));
            Assert.Empty(diags);
            AssertCompilesClean(output);
            var constants = output.GetTypeByMetadataName("K")!.GetMembers().OfType<IFieldSymbol>().Where(f => f.IsConst)
                .ToDictionary(f => f.Name, f => (f.Type.SpecialType, f.ConstantValue));
            Assert.Equal((SpecialType.System_UInt64, (object)0xFFFFFFFF00000000UL), constants["U_BIG"]);
            Assert.Equal((SpecialType.System_UInt64, (object)ulong.MaxValue), constants["U_ALL"]);
            Assert.Equal((SpecialType.System_Int32, (object)7), constants["U_SMALL"]);
            Assert.Equal((SpecialType.System_Int32, (object)(-5)), constants["S_NEG"]);
            Assert.Equal((SpecialType.System_Int64, (object)(-(1L << 40))), constants["S_BIG"]);
            Assert.Equal((SpecialType.System_UInt32, (object)0x80000000U), constants["W_TOP"]);
        }
    }
}
