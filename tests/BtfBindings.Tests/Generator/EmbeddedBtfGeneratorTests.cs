using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace BtfBindings.Tests.Generator
{
    /// <summary>
    /// The embedding generator through Roslyn's driver: Embed="true" targets come out as gzip'd minimized BTF in the
    /// compilation (deduplicated, registered by release and arch), answering CO-RE questions as the full target BTF does;
    /// unreadable targets are BTFB023, a target lacking a requested type BTFB024 (still embedded), and an unrelated edit
    /// reads no target again (nor does the IDE, ever).
    /// </summary>
    public sealed class EmbeddedBtfGeneratorTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "btfbindings-embedgen-" + Guid.NewGuid().ToString("N"));
        public EmbeddedBtfGeneratorTests() { Directory.CreateDirectory(Path.Combine(_dir, "obj")); }
        public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

        private sealed class Manifest : AdditionalText
        {
            private readonly SourceText _text;
            public Manifest(string path, string text) { Path = path; _text = SourceText.From(text); }
            public override string Path { get; }
            public override SourceText GetText(System.Threading.CancellationToken cancellationToken = default) => _text;
        }

        private const string Code = "using BtfBindings;\n[BtfTypes(\"task_struct\", \"iphdr\")]\npublic static partial class Kernel { }\n";

        private static string Target(string path, bool embed, string release, string arch, string distro = "")
            => $"target\t{path}\t{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)))}\t{(embed ? "true" : "false")}\t{release}\t{arch}\t{distro}\n";

        private string BuildTime => Fixtures.Path("x86_64-6.12");

        private string ManifestText(params string[] targets)
            => "file\t" + BuildTime + "\tH0\t\n" + string.Concat(targets);

        private sealed class OptionsProvider : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
        {
            private readonly Options _global;
            public OptionsProvider(Dictionary<string, string> values) { _global = new Options(values); }
            public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions => _global;
            public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(new Dictionary<string, string>());
            public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(new Dictionary<string, string>());
            private sealed class Options : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
            {
                private readonly Dictionary<string, string> _v;
                public Options(Dictionary<string, string> v) { _v = v; }
                public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => _v.TryGetValue(key, out value);
            }
        }

        private (GeneratorDriver driver, Compilation output, IReadOnlyList<Diagnostic> diags) Run(string manifest, string code = Code, GeneratorDriver? driver = null, Compilation? input = null, bool designTime = false)
        {
            var comp = input ?? GeneratorHarness.Compile(new[] { code });
            var text = new Manifest(Path.Combine(_dir, "obj", "BtfBindings.btfrefs"), manifest);
            var options = new OptionsProvider(designTime ? new Dictionary<string, string> { ["build_property.DesignTimeBuild"] = "true" } : new Dictionary<string, string>());
            driver ??= CSharpGeneratorDriver.Create(
                new[] { new BtfBindings.Generator.BtfSourceGenerator().AsSourceGenerator(), new BtfBindings.Embed.EmbeddedBtfGenerator().AsSourceGenerator() },
                additionalTexts: new[] { text }, parseOptions: TestCompilation.ParseOptions, optionsProvider: options);
            driver = driver.RunGeneratorsAndUpdateCompilation(comp, out var output, out var diags);
            return (driver, output, diags);
        }

        private static string NoIds(string s) => Regex.Replace(s, @"\[\d+\]", "[#]");   // type ids differ in the minimized BTF

        private static string Embedded(Compilation c) => c.SyntaxTrees.Single(t => t.FilePath.EndsWith("BtfBindings.EmbeddedKernelBtf.g.cs", StringComparison.Ordinal)).ToString();

        /// <summary>The registrations (name, release, arch, blob) and blobs (gunzip'd) the generated code holds.</summary>
        private static (List<(string name, string release, string arch, int blob)> entries, List<byte[]> blobs) Parse(string source)
        {
            var entries = Regex.Matches(source, "RegisterEmbedded\\(\"([^\"]*)\", \"([^\"]*)\", \"([^\"]*)\", static \\(\\) => Decode\\(Blob(\\d+)\\)\\)")
                .Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, int.Parse(m.Groups[4].Value))).ToList();
            var blobs = Regex.Matches(source, "Blob(\\d+) => \"([A-Za-z0-9+/=]*)\"u8;").OrderBy(m => int.Parse(m.Groups[1].Value)).Select(m =>
            {
                using var z = new GZipStream(new MemoryStream(Convert.FromBase64String(m.Groups[2].Value)), CompressionMode.Decompress);
                var o = new MemoryStream();
                z.CopyTo(o);
                return o.ToArray();
            }).ToList();
            return (entries, blobs);
        }

        [Fact]
        public void Embed_targets_are_minimized_deduplicated_registered_and_answer_like_the_full_btf()
        {
            // The 5.10 kernel twice (a copy under another distro's tree): one blob. 6.12 not embedded.
            var copy = Path.Combine(_dir, "hub", "ubuntu", "20.04", "x86_64", "5.10.0-46-amd64.btf");
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(Fixtures.Path("x86_64-5.10"), copy);
            var manifest = ManifestText(
                Target(Fixtures.Path("x86_64-5.10"), true, "5.10.0-46-amd64", "x86_64", "debian/11"),
                Target(copy, true, "", ""),                                      // release and arch from the BTFHub path
                Target(Fixtures.Path("aarch64-6.1"), true, "6.1.0-28-arm64", "arm64"),
                Target(Fixtures.Path("x86_64-6.12"), false, "6.12.38+deb13-amd64", "x86_64"));
            var (_, output, diags) = Run(manifest);
            Assert.Empty(diags.Where(d => d.Severity == DiagnosticSeverity.Error));
            Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            var src = Embedded(output);
            var (entries, blobs) = Parse(src);
            Assert.Equal(3, entries.Count);
            Assert.Equal(2, blobs.Count);
            Assert.Contains(entries, e => e.release == "5.10.0-46-amd64" && e.arch == "x86_64" && e.name == "ubuntu/20.04/x86_64/5.10.0-46-amd64.btf");
            Assert.Contains(entries, e => e.release == "6.1.0-28-arm64" && e.arch == "aarch64");
            Assert.DoesNotContain(entries, e => e.release.StartsWith("6.12", StringComparison.Ordinal));
            Assert.Single(entries.Where(e => e.release == "5.10.0-46-amd64").Select(e => e.blob).Distinct());
            Assert.DoesNotContain(_dir, src);   // no build-machine paths in the assembly

            // Each blob answers as its full BTF does, against the build-time BTF (offsets checked against the full target).
            var buildTime = Fixtures.Kernel("x86_64-6.12");
            foreach (var (release, fixture) in new[] { ("5.10.0-46-amd64", "x86_64-5.10"), ("6.1.0-28-arm64", "aarch64-6.1") })
            {
                var small = new TargetKernel(Btf.Parse(blobs[entries.First(e => e.release == release).blob], "embedded"), "K");
                var full = new TargetKernel(Fixtures.Kernel(fixture), "K");
                foreach (var path in new[] { "pid", "tgid", "comm", "se.vruntime", "__state", "real_parent", "flags" })
                    Assert.Equal(NoIds(full.ResolveField("task_struct", path, buildTime).ToString()), NoIds(small.ResolveField("task_struct", path, buildTime).ToString()));
                Assert.Equal(full.ResolveField("iphdr", "daddr", buildTime).ToString(), small.ResolveField("iphdr", "daddr", buildTime).ToString());
                Assert.Equal(full.FieldExists("task_struct", "__state", buildTime), small.FieldExists("task_struct", "__state", buildTime));
                Assert.True(blobs[entries.First(e => e.release == release).blob].Length < new FileInfo(Fixtures.Path(fixture)).Length / 50);
            }

            // The size report beside the manifest: its first line is what the build prints.
            var report = File.ReadAllLines(Path.Combine(_dir, "obj", "btfbindings", "embedded.md"));
            Assert.StartsWith("BtfBindings: embedded BTF for 3 kernels: ", report[0]);
            Assert.Contains("2 distinct after dedup", report[0]);
            Assert.Contains(report, l => l.StartsWith("| 6.1.0-28-arm64 | aarch64 |", StringComparison.Ordinal));
        }

        [Fact]
        public void Unreadable_target_is_BTFB023_naming_it_and_a_target_lacking_a_type_is_BTFB024_and_still_embedded()
        {
            var bad = Path.Combine(_dir, "broken.btf");
            File.WriteAllBytes(bad, new byte[] { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0 });
            var b = new BtfBuilder();
            int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
            b.AddInt("long int", 8, BtfIntEncoding.Signed);
            b.AddComposite(BtfKind.Struct, "task_struct", 8, ("pid", i, 0, 0), ("tgid", i, 32, 0));
            var noIp = Path.Combine(_dir, "4.19.0-1-amd64.btf");
            File.WriteAllBytes(noIp, b.ToArray());
            var (_, output, diags) = Run(ManifestText(Target(bad, true, "5.0.0-1", "x86_64"), Target(noIp, true, "", "x86_64")));
            var e23 = Assert.Single(diags, d => d.Id == "BTFB023");
            Assert.Equal(DiagnosticSeverity.Error, e23.Severity);
            Assert.Contains(bad, e23.GetMessage());
            var w24 = Assert.Single(diags, d => d.Id == "BTFB024");
            Assert.Equal(DiagnosticSeverity.Warning, w24.Severity);
            Assert.Contains("'iphdr'", w24.GetMessage());
            Assert.Contains("4.19.0-1-amd64 (x86_64)", w24.GetMessage());
            Assert.Equal("\"iphdr\"", Code.Substring(w24.Location.SourceSpan.Start, w24.Location.SourceSpan.Length));   // on the name in the attribute
            var (entries, blobs) = Parse(Embedded(output));
            var only = Assert.Single(entries);
            Assert.Equal("4.19.0-1-amd64", only.release);
            var k = new TargetKernel(Btf.Parse(blobs[0], "embedded"), "K");
            Assert.False(k.Resolve("iphdr", Fixtures.Kernel("x86_64-6.12")).TypeExists);
        }

        [Fact]
        public void Unrelated_edit_reads_no_target_again_and_no_embed_target_costs_nothing()
        {
            var counter = typeof(BtfBindings.Embed.EmbeddedBtfGenerator).Assembly.GetType("BtfBindings.Embed.EmbeddedBtfBuilder", throwOnError: true)!.GetField("MinimizeCount")!;
            var manifest = ManifestText(Target(Fixtures.Path("x86_64-5.10"), true, "5.10.0-46-amd64", "x86_64"));
            var (driver, output, _) = Run(manifest);
            int after = (int)counter.GetValue(null)!;
            var edited = GeneratorHarness.Compile(new[] { Code, "class Unrelated { int X => 1; }" });
            var (_, output2, _) = Run(manifest, driver: driver, input: edited);
            Assert.Equal(after, (int)counter.GetValue(null)!);
            Assert.Equal(Embedded(output), Embedded(output2));

            var (_, plain, _) = Run(ManifestText(Target(Fixtures.Path("x86_64-5.10"), false, "5.10.0-46-amd64", "x86_64")));
            Assert.DoesNotContain(plain.SyntaxTrees, t => t.FilePath.EndsWith("EmbeddedKernelBtf.g.cs", StringComparison.Ordinal));

            // The IDE (a design-time build's options) with a new type set: nothing read, nothing embedded.
            var (_, ide, _) = Run(manifest, code: Code.Replace("\"iphdr\"", "\"sk_buff\""), designTime: true);
            Assert.Equal(after, (int)counter.GetValue(null)!);
            Assert.DoesNotContain(ide.SyntaxTrees, t => t.FilePath.EndsWith("EmbeddedKernelBtf.g.cs", StringComparison.Ordinal));
            Assert.Contains(ide.SyntaxTrees, t => t.FilePath.Contains("Kernel", StringComparison.Ordinal));   // the types are still generated
        }
    }
}
