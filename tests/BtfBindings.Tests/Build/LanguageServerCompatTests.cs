using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The language-server session of <see cref="LanguageServerCompatTests"/>: the app of <see cref="LanguageServerSession"/>
    /// with two <c>BtfTarget</c> kernels from the BTFHub-shaped tree (x86_64 5.10 and 6.12), its own raw-BTF cache, and a
    /// <see cref="FileOpenWatch"/> on the targets' folders and that cache, started before the server.
    /// </summary>
    public sealed class CompatLanguageServerSession : LanguageServerSession
    {
        public const string Kernel = "[BtfBindings.BtfTypes(\"task_struct\")]\npublic static partial class Kernel { }\n";

        /// <summary>Program.cs with <paramref name="read"/> as State's body and <paramref name="main"/> as Main's.</summary>
        public static string Program(string read, string main = "") => $@"static class Program
{{
    static uint State(Kernel.task_struct.View v) => {read}; // #use
    static void Main()
    {{
{main}    }}
}}
";

        public const string Unguarded = "v.__state";
        public const string Guarded = "v.Has___state ? v.__state : 0u";

        /// <summary>The targets: (fixture, folder in the tree, file name) of the BTFHub tree's x86_64 kernels.</summary>
        public static readonly (string fixture, string folder, string release)[] Targets =
            BtfHubTree.Kernels.Where(k => k.arch == "x86_64").Select(k => (k.fixture, k.folder, k.release)).ToArray();

        public CompatLanguageServerSession()
            : base($"    <BtfFile Include=\"{BtfName}\" />\n    <BtfTarget Include=\"btfhub/**/*.btf.tar.xz\" />", Kernel, Program(Unguarded),
                   "\n    <BtfBindingsRawBtfCache>$(MSBuildProjectDirectory)/../raw-btf</BtfBindingsRawBtfCache>") { }

        public FileOpenWatch? Watch { get; private set; }

        protected override void PrepareApp(string app)
        {
            base.PrepareApp(app);
            var tree = BtfHubTree.Make();
            var watched = new List<string> { Path.Combine(app, "..", "raw-btf") };
            foreach (var (_, folder, release) in Targets)
            {
                var to = Path.Combine(app, "btfhub", folder);
                Directory.CreateDirectory(to);
                File.Copy(Path.Combine(tree, folder, release + ".btf.tar.xz"), Path.Combine(to, release + ".btf.tar.xz"));
                watched.Add(to);
            }
            Directory.CreateDirectory(watched[0]);
            Watch = new FileOpenWatch(watched.Select(Path.GetFullPath));
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            Watch?.Dispose();
        }
    }

    /// <summary>
    /// The build-time compatibility check (BtfCompatAnalyzer) in an editor, through the real language server (csharp-ls with
    /// analyzers enabled, diagnostics pulled per document): BTFB019 at the use naming the kernel that lacks the field, gone when
    /// the use is guarded, and kept without any BTF work (no target file opened or read by anyone) after an edit that adds no use.
    /// The fixtures' fact (bpftool, pinned in Compatibility/ClassificationTests): 6.12's task_struct.__state is absent on 5.10.
    /// </summary>
    [Collection(PackageTier.Name)]
    public class LanguageServerCompatTests : IClassFixture<CompatLanguageServerSession>
    {
        private readonly CompatLanguageServerSession _s;
        private readonly ITestOutputHelper _out;

        public LanguageServerCompatTests(CompatLanguageServerSession session, ITestOutputHelper output)
        {
            _s = session;
            _out = output;
        }

        private static bool IsMissing(JsonNode? d) => LanguageServerTests.Code(d) == "BTFB019";

        private static int UseLine(string program) => program.Split('\n').Select((l, i) => (l, i)).Single(x => x.l.Contains("#use")).i;

        [FullSkippableFact]
        public Task Missing_field_warns_at_the_use_clears_when_guarded_and_an_unrelated_edit_reads_no_BTF() => Run(async c =>
        {
            // The truth the warning must state, from the fixtures themselves.
            Assert.DoesNotContain(Btf.Load(Fixtures.Path("x86_64-5.10")).FindTypes("task_struct", BtfKind.Struct)[0].Members, m => m.Name == "__state");
            Assert.Single(Btf.Load(Fixtures.Path("x86_64-6.12")).FindTypes("task_struct", BtfKind.Struct)[0].Members, m => m.Name == "__state");
            var watch = _s.Watch!;
            string uri = _s.ProgramUri;
            bool pull = _s.ServerCapabilities?["diagnosticProvider"] != null; // csharp-ls 0.28 offers pull; pushed ones count too
            string Show(IReadOnlyList<JsonNode?> ds) => LanguageServerTests.Show(ds);
            string Context(IReadOnlyList<JsonNode?> ds) => $"Program.cs diagnostics: {Show(ds)}\n{_s.Summary()}\n{c.RecentTraffic(6)}";
            int line = UseLine(CompatLanguageServerSession.Program(CompatLanguageServerSession.Unguarded));
            int targets = CompatLanguageServerSession.Targets.Length;
            const string unused = "        int unrelated;\n"; // CS0168: shows the server analysed the edited text
            try
            {
                // As opened: one BTFB019 at the use, a warning naming 5.10 with the count and the guard to write (one arch: none named).
                var sw = Stopwatch.StartNew();
                var ds = await LanguageServerTests.DiagnosticsUntil(c, uri, pull, d => d.Any(IsMissing), LanguageServerTests.FirstAnswer);
                _s.Time("BTFB019 as opened", sw.Elapsed);
                _out.WriteLine("as opened: " + Show(ds));
                _out.WriteLine($"server diagnosticProvider: {_s.ServerCapabilities?["diagnosticProvider"]?.ToJsonString() ?? "(none: push only)"}; "
                    + $"publishDiagnostics received: {c.Notifications.Count(n => n.method == "textDocument/publishDiagnostics")}");
                var missing = ds.Where(IsMissing).ToList();
                Assert.True(missing.Count == 1, "expected one BTFB019 on Program.cs. " + Context(ds));
                Assert.Equal(line, (int?)missing[0]?["range"]?["start"]?["line"]);
                Assert.Equal(2, (int?)missing[0]?["severity"]); // LSP Warning
                string message = missing[0]?["message"]?.ToString() ?? "";
                Assert.Equal($"'task_struct.__state' is missing on 5.10 (1 of {targets} targets); guard it with Has___state", message);
                // The server read the targets (its design-time build hashes the archives and writes raw copies, the analyzer parses
                // those): the watch sees that process's reads.
                var first = watch.Drain();
                _out.WriteLine($"target files opened/read until then: {first.Count}: {string.Join(", ", first.Distinct().Take(12))}");
                Assert.True(first.Any(e => e.StartsWith("read ", StringComparison.Ordinal) && e.Contains("/raw-btf/", StringComparison.Ordinal) && e.EndsWith(".btf", StringComparison.Ordinal)),
                    "the watch saw no raw target copy read while the server analysed the targets: it cannot see what it must");

                // An edit that adds no use: the warning stays, and no target file is opened or read (verdicts kept in the server).
                string unrelated = CompatLanguageServerSession.Program(CompatLanguageServerSession.Unguarded, unused);
                _s.EditProgram(unrelated);
                sw.Restart();
                ds = await LanguageServerTests.DiagnosticsUntil(c, uri, pull, d => d.Any(x => LanguageServerTests.Code(x) == "CS0168"), LanguageServerTests.Settle);
                _s.Time("unrelated edit seen (CS0168)", sw.Elapsed);
                _out.WriteLine("after an unrelated edit: " + Show(ds));
                Assert.True(ds.Any(x => LanguageServerTests.Code(x) == "CS0168"), "the server never analysed the edited text (no CS0168 for 'int unrelated;'). " + Context(ds));
                var kept = Assert.Single(ds, IsMissing);
                Assert.Equal(message, kept?["message"]?.ToString());
                Assert.Equal(line, (int?)kept?["range"]?["start"]?["line"]);
                var again = watch.Drain();
                Assert.True(again.Count == 0, $"an edit adding no use made the server open or read target BTF: {string.Join(", ", again.Distinct())}");

                // Guarded by Has___state: the warning goes (the unrelated line keeps showing the text was analysed), still no BTF read.
                _s.EditProgram(CompatLanguageServerSession.Program(CompatLanguageServerSession.Guarded, unused));
                sw.Restart();
                ds = await LanguageServerTests.DiagnosticsUntil(c, uri, pull, d => !d.Any(IsMissing) && d.Any(x => LanguageServerTests.Code(x) == "CS0168"), LanguageServerTests.Settle);
                _s.Time("guard seen (BTFB019 gone)", sw.Elapsed);
                _out.WriteLine("guarded: " + Show(ds));
                Assert.True(ds.Any(x => LanguageServerTests.Code(x) == "CS0168"), "the server never analysed the guarded text. " + Context(ds));
                Assert.False(ds.Any(IsMissing), "BTFB019 stays on a use guarded by Has___state. " + Context(ds));
                Assert.DoesNotContain(ds, d => LanguageServerTests.Code(d).StartsWith("BTFB", StringComparison.Ordinal));
                again = watch.Drain();
                Assert.True(again.Count == 0, $"guarding a known use made the server open or read target BTF: {string.Join(", ", again.Distinct())}");
            }
            finally { _s.EditProgram(CompatLanguageServerSession.Program(CompatLanguageServerSession.Unguarded)); }
        });

        private Task Run(Func<LspClient, Task> body) => _s.Run(body, _out);
    }
}
