using System.Linq;
using BtfBindings.Cli;
using Microsoft.CodeAnalysis;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>The CLI's checks of --namespace and --class agree with the C# compiler: a name it accepts compiles, one it rejects does not.</summary>
    public class CSharpIdentifierTests
    {
        /// <summary>Errors and warnings (other than the lower-case type name warning, CS8981) for a namespace holding a partial class.</summary>
        private static string[] Compile(string ns, string cls)
        {
            string code = (ns.Length > 0 ? "namespace " + ns + " { " : "") + "public partial class " + cls + " { }" + (ns.Length > 0 ? " }" : "");
            var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.CSharp12));
            var comp = TestCompilation.Create("t", new[] { tree }, options: TestCompilation.CompilationOptions(allowUnsafe: false, warningLevel: 4));
            return comp.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS8981").Select(d => d.ToString()).ToArray();
        }

        [Theory]
        [InlineData("Kernel")]
        [InlineData("_")]
        [InlineData("_x1")]
        [InlineData("x1")]
        [InlineData("Ωmega")]
        [InlineData("ДЯ")]
        [InlineData("a\u0301")]          // combining acute accent (Mn)
        [InlineData("a\u200D")]          // zero-width joiner (Cf)
        [InlineData("a\u203Fb")]         // undertie (Pc)
        [InlineData("@class")]
        [InlineData("var")]
        [InlineData("dynamic")]
        [InlineData("async")]
        [InlineData("1x")]
        [InlineData("a b")]
        [InlineData("a-b")]
        [InlineData("a;")]
        [InlineData("a.b")]
        [InlineData("")]
        [InlineData("@")]
        [InlineData("class")]
        [InlineData("int")]
        [InlineData("__arglist")]
        [InlineData("\u0663x")]          // Arabic-Indic digit three first (Nd)
        [InlineData("a\u00B7b")]         // middle dot (Po)
        [InlineData("\U0001D465")]       // mathematical italic x: outside the BMP, not an identifier character for Roslyn
        [InlineData("record")]
        [InlineData("file")]
        [InlineData("required")]
        [InlineData("scoped")]
        [InlineData("@record")]
        [InlineData("@file")]
        [InlineData("@required")]
        [InlineData("@scoped")]
        public void Class_names_agree_with_the_compiler(string name)
        {
            bool accepted = CSharpIdentifier.CheckClassName(name) == null;
            var diagnostics = Compile("N", name);
            Assert.True(accepted == (diagnostics.Length == 0), $"'{name}': CLI {(accepted ? "accepts" : "rejects: " + CSharpIdentifier.CheckClassName(name))}; compiler: {string.Join("; ", diagnostics)}");
        }

        [Theory]
        [InlineData("My.Kernel")]
        [InlineData("A")]
        [InlineData("A.B.C_1")]
        [InlineData("A.@class")]
        [InlineData("A.record")]
        [InlineData("a b;")]
        [InlineData("A..B")]
        [InlineData(".A")]
        [InlineData("A.")]
        [InlineData("A.class")]
        [InlineData("A.1b")]
        [InlineData("A::B")]
        [InlineData("global.A")]
        [InlineData("global")]
        public void Namespace_names_agree_with_the_compiler(string ns)
        {
            bool accepted = CSharpIdentifier.CheckNamespace(ns) == null;
            var diagnostics = Compile(ns, "K");
            Assert.True(accepted == (diagnostics.Length == 0), $"'{ns}': CLI {(accepted ? "accepts" : "rejects: " + CSharpIdentifier.CheckNamespace(ns))}; compiler: {string.Join("; ", diagnostics)}");
        }

        /// <summary>Unusual names the CLI accepts give generated C# that compiles (the emitter writes them as given).</summary>
        [Theory]
        [InlineData("global.A", "K")]
        [InlineData("A.@class", "@class")]
        [InlineData("Ωmega.ДЯ", "a\u0301")]
        [InlineData("N", "_")]
        public void Accepted_names_generate_code_that_compiles(string ns, string cls)
        {
            cls = System.Text.RegularExpressions.Regex.Unescape(cls);
            Assert.Null(CSharpIdentifier.CheckNamespace(ns));
            Assert.Null(CSharpIdentifier.CheckClassName(cls));
            // --opt=value: a separate argument starting with '@' would be read as a response file.
            var r = CliSupport.Check(0, "generate", "iphdr", "--btf", Support.Fixtures.Path("aarch64-6.1"), "--namespace=" + ns, "--class=" + cls);
            var errors = GenerateTests.Compile(r.StdOut).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            Assert.True(errors.Count == 0, $"-n {ns} -c {cls}:\n" + string.Join("\n", errors.Take(10)));
        }

        [Fact]
        public void The_global_namespace_is_the_empty_name() => Assert.Null(CSharpIdentifier.CheckNamespace(""));
    }
}
