using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;
using GNames = BtfBindings.Emit.CSharpNames;

namespace BtfBindings.Tests.Generator
{
    /// <summary>
    /// Names from BTF reach generated C# as identifiers, doc comments and string literals. Whatever a name holds — a C#
    /// keyword or contextual keyword, any character, a line break followed by C# — the output compiles, declares exactly
    /// the planned types and members, and keeps the kernel's spelling in its metadata.
    /// </summary>
    [Collection("generator-cache")]
    public class NameEscapingTests
    {
        private static readonly string[] Keywords =
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
            "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
            "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
            "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
            "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
            "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
            "using", "virtual", "void", "volatile", "while",
        };

        /// <summary>Every contextual keyword of C# 14 (the ones the emitter escapes, checked to be a superset below).</summary>
        private static readonly string[] ContextualKeywords =
        {
            "add", "allows", "alias", "and", "args", "ascending", "assembly", "async", "await", "by", "descending", "dynamic",
            "equals", "extension", "field", "file", "from", "get", "global", "group", "init", "into", "join", "let",
            "managed", "method", "module", "nameof", "nint", "not", "notnull", "nuint", "on", "or", "orderby", "param",
            "partial", "property", "record", "remove", "required", "scoped", "select", "set", "type", "typevar", "unmanaged",
            "value", "var", "when", "where", "with", "yield",
        };

        /// <summary>Names of members every class and struct inherits from object: a C name may be one (declared 'new', not renamed).</summary>
        private static readonly string[] ObjectMemberNames = { "Equals", "Finalize", "GetHashCode", "GetType", "MemberwiseClone", "ReferenceEquals", "ToString" };

        /// <summary>
        /// A struct <c>holder</c> whose members are named after every keyword (plain int, bitfield, array, zero-size member and
        /// nested struct variants) and every object member, plus one struct type named after each, all held by value.
        /// </summary>
        private static byte[] KeywordBtf()
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            int u32 = b.AddInt("unsigned int", 4);
            int ch = b.AddInt("char", 1, BtfIntEncoding.Char);
            int arr = b.AddArray(ch, i32, 16);
            int empty = b.AddComposite(BtfKind.Struct, "empty", 0);
            var members = new List<(string, int, uint, int)>();
            uint bit = 0;
            var all = Keywords.Concat(ContextualKeywords).Concat(ObjectMemberNames).ToList();
            foreach (var k in all) { members.Add((k, i32, bit, 0)); bit += 32; }
            // Variants whose accessors have bodies: bitfields ('value' in a setter), arrays, zero-size members.
            foreach (var k in new[] { "value", "field", "get", "set", "this" })
            {
                members.Add((k + "_bits", u32, bit, 3)); bit += 32;
            }
            members.Add(("value", u32, bit, 5)); bit += 32; // a duplicate C name, as a bitfield
            members.Add(("field", arr, bit, 0)); bit += 128;
            members.Add(("init", empty, bit, 0));
            foreach (var k in all)
            {
                int t = b.AddComposite(BtfKind.Struct, k, 4, ("x", i32, 0, 0));
                members.Add(("m_" + k, t, bit, 0)); bit += 32;
            }
            b.AddComposite(BtfKind.Struct, "holder", bit / 8, members.ToArray());
            return b.ToArray();
        }

        private static string WriteTemp(byte[] bytes, string tag)
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfb-names-" + tag + "-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, tag + ".btf");
            File.WriteAllBytes(path, bytes);
            return path;
        }

        [Fact]
        public void Emitter_escapes_every_contextual_keyword()
        {
            foreach (var k in ContextualKeywords) Assert.Equal("@" + k, GNames.Member(k));
            foreach (var k in Keywords) Assert.Equal("@" + k, GNames.Type(k));
            // SyntaxFacts agrees that these are all the keywords Roslyn 4.8 knows of (newer ones are in the list by hand).
            foreach (var kind in SyntaxFacts.GetContextualKeywordKinds())
            {
                var text = SyntaxFacts.GetText(kind);
                if (text.Length == 0 || text.StartsWith("__", StringComparison.Ordinal)) continue; // __arglist & co.
                Assert.True(ContextualKeywords.Contains(text), "not escaped: " + text);
            }
            foreach (var kind in SyntaxFacts.GetReservedKeywordKinds())
            {
                var text = SyntaxFacts.GetText(kind);
                if (text.Length == 0 || text.StartsWith("__", StringComparison.Ordinal)) continue;
                Assert.True(Keywords.Contains(text), "not escaped: " + text);
            }
        }

        [Fact]
        public void Keyword_names_compile_in_memory_and_keep_their_spelling()
        {
            var path = WriteTemp(KeywordBtf(), "kw");
            const string code = "[BtfBindings.BtfTypes(\"holder\")] public static partial class K { }";
            var comp = GeneratorHarness.Compile(new[] { code });
            GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((path, "kw"))).RunGeneratorsAndUpdateCompilation(comp, out var output, out var gd);
            Assert.Empty(gd);
            var bad = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(bad.Count == 0, string.Join("\n", bad.Take(20)));
            var holder = output.GetTypeByMetadataName("K+holder")!;
            foreach (var k in Keywords.Concat(ContextualKeywords).Concat(ObjectMemberNames))
            {
                Assert.NotNull(output.GetTypeByMetadataName("K+" + k));
                Assert.NotEmpty(holder.GetMembers(k));
            }
            Assert.NotEmpty(holder.GetMembers("value_")); // the duplicate 'value'
            Assert.IsAssignableFrom<IPropertySymbol>(holder.GetMembers("init_").Single()); // the second 'init' is zero-size: a ref accessor
            // The metadata keeps the C spelling.
            var holderLayout = GeneratorHarness.DecodedLayouts(output.SyntaxTrees).Single(l => l.BtfName == "holder");
            Assert.Contains(holderLayout.Fields, f => f.Name == "field");
            Assert.Equal(2, holderLayout.Fields.Count(f => f.Name == "value"));
        }

        [FullFact]
        public void Keyword_names_compile_with_the_sdk_compiler_and_read_back()
        {
            // C# 14 (the .NET 10 SDK's compiler) made 'field' a keyword inside accessors: a real build, not Roslyn 4.8.
            var path = WriteTemp(KeywordBtf(), "sdk");
            var dir = Path.GetDirectoryName(path)!;
            var btf = Btf.Load(path);
            var plan = BtfBindings.Layout.LayoutPlanner.Plan(btf, new[] { "holder" }, null, out var unknown);
            Assert.Empty(unknown);
            var text = new System.IO.StringWriter();
            BtfBindings.Cli.Commands.GenerateCommand.Generate(plan, "Gen", "K", "kw.btf", text);
            var source = text.ToString();
            File.WriteAllText(Path.Combine(dir, "K.g.cs"), source);
            var runtime = typeof(BtfBindings.IBtfType).Assembly.Location;
            File.WriteAllText(Path.Combine(dir, "App.csproj"), $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><LangVersion>latest</LangVersion>
    <Nullable>enable</Nullable><TreatWarningsAsErrors>true</TreatWarningsAsErrors><ImplicitUsings>disable</ImplicitUsings></PropertyGroup>
  <ItemGroup><Reference Include=""BtfBindings.Runtime""><HintPath>{runtime}</HintPath></Reference></ItemGroup>
</Project>");
            File.WriteAllText(Path.Combine(dir, "Program.cs"), @"
var h = new Gen.K.holder();
h.field = 7; h.value = 9; h.@this = 11; h.value_bits = 5; h.value_ = 17; h.field_ [3] = 65;
System.Span<byte> f = h.field_;
ref Gen.K.empty e = ref h.init_;
System.Console.WriteLine($""{h.field} {h.value} {h.@this} {h.value_bits} {h.value_} {f[3]} {h.field_.Length} {Gen.K.holder.BtfLayout.Field(""field"")!.BitOffset}"");
");
            var (code, output) = Dotnet(dir, "build", "-nologo", "-o", "out");
            Assert.True(code == 0, output);
            var (runCode, run) = Dotnet(dir, "out/App.dll");
            Assert.True(runCode == 0, run);
            int fieldIndex = Keywords.Length + Array.IndexOf(ContextualKeywords, "field");
            Assert.Equal($"7 9 11 5 17 65 16 {fieldIndex * 32}", run.Trim());
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }

        /// <summary>Every character 1..255, line breaks with C# after them, XML markup, quotes and a lone surrogate, in type, member and enumerator names.</summary>
        private static readonly string[] Hostile = Enumerable.Range(1, 255).Select(c => "n" + (char)c + "x")
            .Concat(new[] { "a\nclass Injected { }\n//", "b\r\n} class Injected2 { void M() { } } /*", "c</summary><see cref=\"X\"/>", "d\"+\"", "e\\", "1x", "f\u2028g", "h\ud800i", "" + "\u00e9t\u00e9", "k\u202eevil" })
            .ToArray();

        [Fact]
        public void Names_holding_any_character_cannot_change_the_generated_code()
        {
            var b = new BtfBuilder();
            int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
            var members = new List<(string, int, uint, int)>();
            uint bit = 0;
            foreach (var n in Hostile) { members.Add((n, i32, bit, 0)); bit += 32; }
            foreach (var n in Hostile)
            {
                int t = b.AddComposite(BtfKind.Struct, n, 4, ("x" + n, i32, 0, 0));
                members.Add(("s" + n, t, bit, 0)); bit += 32;
            }
            int en = b.AddEnum("hostile_enum", 4, false, false, Hostile.Select((n, i) => (n, (long)i)).ToArray());
            members.Add(("e", en, bit, 0)); bit += 32;
            b.AddComposite(BtfKind.Struct, "holder\n} class Injected3 {", bit / 8, members.ToArray());
            var path = WriteTemp(b.ToArray(), "hostile");
            var btf = Btf.Load(path);
            var comp = GeneratorHarness.Compile(new[] { "[BtfBindings.BtfTypes(\"holder\\n} class Injected3 {\")] public static partial class K { }" });
            var driver = GeneratorHarness.CreateDriver(GeneratorHarness.FilesProperty((path, "hostile"))).RunGeneratorsAndUpdateCompilation(comp, out var output, out var gd);
            // Escaped type names are reported (BTFB008 naming the type id), never silently changed.
            Assert.All(gd, d => Assert.Equal("BTFB008", d.Id));
            Assert.Contains(gd, d => d.GetMessage().Contains("type id") && d.GetMessage().Contains("is not a C identifier"));
            var bad = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(bad.Count == 0, string.Join("\n", bad.Take(20)));

            // Exactly the planned types, nothing injected: the container holds holder, the enum and one struct per name.
            var k = output.GetTypeByMetadataName("K")!;
            Assert.Equal(Hostile.Length + 2, k.GetTypeMembers().Count(t => !t.Name.StartsWith("BtfArray", StringComparison.Ordinal) && t.Name != "BtfEnumLayouts"));
            foreach (var tree in driver.GetRunResult().GeneratedTrees)
            {
                var root = tree.GetRoot();
                Assert.DoesNotContain(root.DescendantNodes().OfType<BaseTypeDeclarationSyntax>(), t => t.Identifier.ValueText.StartsWith("Injected", StringComparison.Ordinal));
                Assert.DoesNotContain(root.DescendantNodes().OfType<MethodDeclarationSyntax>(), m => m.Identifier.ValueText == "M");
            }
            var holder = k.GetTypeMembers().Single(t => t.GetMembers().OfType<IFieldSymbol>().Count() > 2 * Hostile.Length - 1);
            Assert.Equal(2 * Hostile.Length + 1, holder.GetMembers().OfType<IFieldSymbol>().Count(f => !f.IsStatic));

            // The layout metadata keeps every name exactly as BTF spells it (string literals escape, never alter).
            using var ms = new MemoryStream();
            Assert.True(output.Emit(ms).Success);
            var asm = System.Reflection.Assembly.Load(ms.ToArray());
            var layoutType = asm.GetTypes().Single(t => t.FullName == "K+" + holder.MetadataName);
            var layout = (BtfTypeLayout)layoutType.GetProperty("BtfLayout")!.GetValue(null)!;
            Assert.Equal("holder\n} class Injected3 {", layout.BtfName);
            var expected = btf.FindTypes("holder\n} class Injected3 {", BtfKind.Struct).Single().Members.Select(m => m.Name).ToList();
            Assert.Equal(expected, layout.Fields.Select(f => f.Name).ToList());
        }

        private static (int code, string output) Dotnet(string workDir, params string[] args)
        {
            var r = ProcessRunner.Run("dotnet", args, workDir);
            return (r.ExitCode, r.Output);
        }
    }
}
