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
    /// <see cref="FileOpenWatch"/> on the targets' folders and that cache, started before the server. Its types: task_struct,
    /// mm_slot (two disagreeing definitions in 5.10) and the enum bpf_func_id (grown since 5.10).
    /// </summary>
    public sealed class CompatLanguageServerSession : LanguageServerSession
    {
        public const string Kernel = "[BtfBindings.BtfTypes(\"task_struct\", \"mm_slot\", \"bpf_func_id\")]\npublic static partial class Kernel { }\n";

        /// <summary>Program.cs with <paramref name="read"/> as State's body and <paramref name="main"/> as Main's.</summary>
        public static string Program(string read, string main = "") => ProgramWith($"static uint State(Kernel.task_struct.View v) => {read};", main);

        /// <summary>Program.cs with <paramref name="method"/> (one line, the use's: marked <c>#use</c>) and <paramref name="main"/> as Main's body.</summary>
        public static string ProgramWith(string method, string main = "") => $@"static class Program
{{
    {method} // #use
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
    /// the use is guarded, and kept without any BTF work (no target file opened or read by anyone) after an edit that adds no use;
    /// likewise BTFB020 (a field whose type changed kind), BTFB022 (a plain struct read of a field that moved), BTFB019 for an
    /// enumerator passed to <c>TargetKernel.ValueOf</c>, and BTFB021 (same-named types disagreeing), which no guard silences.
    /// Every expected kernel comes from bpftool's dumps of the fixtures (build time 6.12, targets 5.10 and 6.12).
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
                Assert.True(missing.Count == 1, "expected one BTFB019 on Program.cs. " + Context(c, ds));
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
                Assert.True(ds.Any(x => LanguageServerTests.Code(x) == "CS0168"), "the server never analysed the edited text (no CS0168 for 'int unrelated;'). " + Context(c, ds));
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
                Assert.True(ds.Any(x => LanguageServerTests.Code(x) == "CS0168"), "the server never analysed the guarded text. " + Context(c, ds));
                Assert.False(ds.Any(IsMissing), "BTFB019 stays on a use guarded by Has___state. " + Context(c, ds));
                Assert.DoesNotContain(ds, d => LanguageServerTests.Code(d).StartsWith("BTFB", StringComparison.Ordinal));
                again = watch.Drain();
                Assert.True(again.Count == 0, $"guarding a known use made the server open or read target BTF: {string.Join(", ", again.Distinct())}");
            }
            finally { _s.EditProgram(CompatLanguageServerSession.Program(CompatLanguageServerSession.Unguarded)); }
        });

        // The fixtures' facts for the cases below, from bpftool (libbpf's parser): build time is 6.12, 5.10 the other target.
        private static BpftoolTypes Dump(string kernel) => Bpftool.Types(Fixtures.Path(kernel));

        /// <summary>A member of <paramref name="t"/> by name, anonymous members flattened as C names them; with its bit offset.</summary>
        private static (BpftoolMember m, long bits)? Member(BpftoolTypes d, BpftoolType t, string name, long baseBits = 0)
        {
            foreach (var m in t.Members)
            {
                if (m.Name == name) return (m, baseBits + m.BitsOffset);
                if (m.Name.Length == 0 && d[d.Resolve(m.TypeId)] is { IsComposite: true } inner && Member(d, inner, name, baseBits + m.BitsOffset) is { } found)
                    return found;
            }
            return null;
        }

        /// <summary>The type (typedefs and qualifiers skipped) at the end of a member path from a named struct.</summary>
        private static BpftoolType TypeAt(BpftoolTypes d, string root, params string[] path)
        {
            var t = d.Composite(root);
            foreach (var name in path)
                t = d[d.Resolve((Member(d, t, name) ?? throw new InvalidOperationException($"bpftool: {d.Source} has no {t.Name}.{name}")).m.TypeId)];
            return t;
        }

        private static string Others => $"5.10 (1 of {CompatLanguageServerSession.Targets.Length} targets)";

        [FullSkippableFact]
        public Task Field_whose_type_changed_kind_warns_BTFB020_at_the_view_read_and_clears_when_guarded() => Run(async c =>
        {
            // bpftool: 6.12's sched_avg.util_est (task_struct.se.avg) is an INT, 5.10's a STRUCT util_est: libbpf's field rule
            // (bpf_core_fields_are_compat) rejects a kind change, so on 5.10 the view reports the field missing.
            Assert.Equal("INT", TypeAt(Dump("x86_64-6.12"), "task_struct", "se", "avg", "util_est").Kind);
            Assert.Equal("STRUCT", TypeAt(Dump("x86_64-5.10"), "task_struct", "se", "avg", "util_est").Kind);
            await Case(c, "BTFB020", $"'task_struct.se.avg.util_est' is incompatible on {Others}; guard it with Has_util_est",
                main => CompatLanguageServerSession.Program("v.se.avg.util_est", main),
                main => CompatLanguageServerSession.Program("v.se.avg.Has_util_est ? v.se.avg.util_est : 0u", main));
        });

        [FullSkippableFact]
        public Task Plain_struct_read_of_a_moved_field_warns_BTFB022_and_clears_read_through_the_view() => Run(async c =>
        {
            // bpftool: task_struct.pid is an int on both kernels, at different offsets (so a view finds it, a plain struct does not).
            var (o, n) = (Dump("x86_64-5.10"), Dump("x86_64-6.12"));
            var (om, oldBits) = Member(o, o.Composite("task_struct"), "pid")!.Value;
            var (nm, newBits) = Member(n, n.Composite("task_struct"), "pid")!.Value;
            Assert.NotEqual(oldBits, newBits);
            Assert.Equal((o[o.Resolve(om.TypeId)].Kind, o[o.Resolve(om.TypeId)].Size), (n[n.Resolve(nm.TypeId)].Kind, n[n.Resolve(nm.TypeId)].Size));
            await Case(c, "BTFB022", $"'task_struct.pid' is moved on {Others}; read it through task_struct.View",
                main => CompatLanguageServerSession.ProgramWith("static int Pid(in Kernel.task_struct t) => t.pid;", main),
                main => CompatLanguageServerSession.ProgramWith("static int Pid(Kernel.task_struct.View t) => t.pid;", main));
        });

        [FullSkippableFact]
        public Task Enumerator_missing_on_a_target_warns_at_ValueOf_and_clears_when_checked_with_EnumValueExists() => Run(async c =>
        {
            // bpftool: 6.12's enum bpf_func_id has BPF_FUNC_user_ringbuf_drain, 5.10's does not.
            const string value = "BPF_FUNC_user_ringbuf_drain", e = "Kernel.bpf_func_id." + value;
            Assert.Contains(Dump("x86_64-6.12").All.Single(t => t.IsEnum && t.Name == "bpf_func_id").Values, v => v.Name == value);
            Assert.DoesNotContain(Dump("x86_64-5.10").All.Single(t => t.IsEnum && t.Name == "bpf_func_id").Values, v => v.Name == value);
            const string method = "static Kernel.bpf_func_id Drain(BtfBindings.TargetKernel k) => ";
            await Case(c, "BTFB019", $"'enum bpf_func_id::{value}' is missing on {Others}; check it with TargetKernel.EnumValueExists or TryValueOf first",
                main => CompatLanguageServerSession.ProgramWith(method + $"k.ValueOf({e});", main),
                main => CompatLanguageServerSession.ProgramWith(method + $"k.EnumValueExists({e}) ? k.ValueOf({e}) : default;", main));
        });

        [FullSkippableFact]
        public Task Ambiguous_type_on_a_target_warns_BTFB021_and_a_guard_does_not_silence_it() => Run(async c =>
        {
            // bpftool: 5.10 has two structs mm_slot (ksm's and khugepaged's) that both have mm, at different offsets (320 and 256
            // bits), so libbpf finds two candidates on which mm matches and refuses the relocation (libbpf 1.1, core_oracle:
            // "field offset ambiguity: 256 != 320", for EXISTS too); 6.12 has one. hash only khugepaged's has: libbpf relocates
            // s->hash.next to 0 there without complaint, and so does the rule (per field), so that use draws no warning.
            var o = Dump("x86_64-5.10");
            var slots = o.All.Where(t => t.Kind == "STRUCT" && t.Name == "mm_slot").ToList();
            Assert.Equal(2, slots.Count);
            var offsets = slots.Select(t => Member(o, t, "mm")!.Value.bits).ToList();
            Assert.NotEqual(offsets[0], offsets[1]);
            Assert.Single(Dump("x86_64-6.12").All, t => t.Kind == "STRUCT" && t.Name == "mm_slot");
            // The message names the candidates and their offsets, in bpftool's type-id order.
            string where = string.Join(", ", slots.Select(t => $"[{t.Id}]")) + ") put mm at " + string.Join(" vs ", offsets.Select(b => $"byte {b / 8}"));
            string message = $"'mm_slot.mm' is ambiguous on {Others}: 2 struct mm_slot ({where}; CO-RE cannot pick one of the candidates there; leave those targets out or avoid the field";
            string program = CompatLanguageServerSession.ProgramWith("static string Mm(Kernel.mm_slot.View s) => s.mm.ToString();", Marker("ambiguous"));
            try
            {
                var ds = await Analysed(c, program, "ambiguous", d => d.Any(x => LanguageServerTests.Code(x) == "BTFB021"), LanguageServerTests.FirstAnswer);
                AssertOnly(ds, "BTFB021", UseLine(program), message);
                // Has_mm cannot help: no test picks a candidate, so the warning stays (the message advises no guard).
                program = CompatLanguageServerSession.ProgramWith("static string Mm(Kernel.mm_slot.View s) => s.Has_mm ? s.mm.ToString() : \"\";", Marker("ambiguous_guarded"));
                ds = await Analysed(c, program, "ambiguous_guarded", d => d.Any(x => LanguageServerTests.Code(x) == "BTFB021"), LanguageServerTests.Settle);
                AssertOnly(ds, "BTFB021", UseLine(program), message);
                program = CompatLanguageServerSession.ProgramWith("static string Next(Kernel.mm_slot.View s) => s.hash.next.ToString();", Marker("one_candidate"));
                ds = await Analysed(c, program, "one_candidate", d => !d.Any(x => LanguageServerTests.Code(x) == "BTFB021"), LanguageServerTests.Settle);
                Assert.True(!ds.Any(d => LanguageServerTests.Code(d).StartsWith("BTFB", StringComparison.Ordinal)), "mm_slot.hash.next is not ambiguous on 5.10. " + Context(c, ds));
            }
            finally { _s.EditProgram(CompatLanguageServerSession.Program(CompatLanguageServerSession.Unguarded)); }
        });

        /// <summary>An unused local in Main: its CS0168 (naming it) shows the server analysed the text that has it.</summary>
        private static string Marker(string name) => $"        int {name};\n";

        /// <summary>
        /// Program.cs as <paramref name="use"/> makes it (given Main's body): exactly one <paramref name="code"/> (a warning, with
        /// <paramref name="message"/>) at the use's line and no other BTFB; then as <paramref name="fixedUse"/> makes it: no BTFB
        /// at all. Program.cs is put back after.
        /// </summary>
        private async Task Case(LspClient c, string code, string message, Func<string, string> use, Func<string, string> fixedUse)
        {
            string useMarker = code.ToLowerInvariant() + "_use", fixedMarker = code.ToLowerInvariant() + "_fixed";
            try
            {
                string text = use(Marker(useMarker));
                var ds = await Analysed(c, text, useMarker, d => d.Any(x => LanguageServerTests.Code(x) == code), LanguageServerTests.FirstAnswer);
                AssertOnly(ds, code, UseLine(text), message);
                ds = await Analysed(c, fixedUse(Marker(fixedMarker)), fixedMarker, d => !d.Any(x => LanguageServerTests.Code(x) == code), LanguageServerTests.Settle);
                Assert.True(!ds.Any(d => LanguageServerTests.Code(d).StartsWith("BTFB", StringComparison.Ordinal)), $"{code} stays on the fixed use. " + Context(c, ds));
            }
            finally { _s.EditProgram(CompatLanguageServerSession.Program(CompatLanguageServerSession.Unguarded)); }
        }

        /// <summary>Puts <paramref name="text"/> in Program.cs and polls its diagnostics until the server analysed it (the marker's CS0168) and <paramref name="done"/> holds.</summary>
        private async Task<IReadOnlyList<JsonNode?>> Analysed(LspClient c, string text, string marker, Func<IReadOnlyList<JsonNode?>, bool> done, TimeSpan timeout)
        {
            bool seen(IReadOnlyList<JsonNode?> ds) => ds.Any(d => LanguageServerTests.Code(d) == "CS0168" && (d?["message"]?.ToString() ?? "").Contains($"'{marker}'", StringComparison.Ordinal));
            _s.EditProgram(text);
            var sw = Stopwatch.StartNew();
            var ds = await LanguageServerTests.DiagnosticsUntil(c, _s.ProgramUri, _s.ServerCapabilities?["diagnosticProvider"] != null, d => seen(d) && done(d), timeout);
            _s.Time($"{marker} analysed", sw.Elapsed);
            _out.WriteLine($"{marker}: {LanguageServerTests.Show(ds)}");
            Assert.True(seen(ds), $"the server never analysed the text with '{marker}' (no CS0168 naming it). " + Context(c, ds));
            return ds;
        }

        /// <summary>Exactly one <paramref name="code"/> and no other BTFB: a warning at <paramref name="line"/> saying <paramref name="message"/>.</summary>
        private void AssertOnly(IReadOnlyList<JsonNode?> ds, string code, int line, string message)
        {
            var ours = ds.Where(d => LanguageServerTests.Code(d).StartsWith("BTFB", StringComparison.Ordinal)).ToList();
            Assert.True(ours.Count == 1 && LanguageServerTests.Code(ours[0]) == code, $"expected one {code} and no other BTFB on Program.cs. " + Context(_s.Client!, ds));
            Assert.Equal(line, (int?)ours[0]?["range"]?["start"]?["line"]);
            Assert.Equal(2, (int?)ours[0]?["severity"]); // LSP Warning
            Assert.Equal(message, ours[0]?["message"]?.ToString());
        }

        private string Context(LspClient c, IReadOnlyList<JsonNode?> ds) => $"Program.cs diagnostics: {LanguageServerTests.Show(ds)}\n{_s.Summary()}\n{c.RecentTraffic(6)}";

        private Task Run(Func<LspClient, Task> body) => _s.Run(body, _out);
    }
}
