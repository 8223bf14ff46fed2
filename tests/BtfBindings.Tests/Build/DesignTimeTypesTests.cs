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
    /// The editor on the default types-assembly path: the session's Kernel.cs stands alone, so a real build (made before the
    /// server starts) compiles it into obj/…/btftypes/App.BtfTypes.dll; the language server's design-time build must keep Kernel.cs in the project instead
    /// (not reference that assembly), so an edit of the request in the editor changes what Program.cs sees with no build:
    /// after a real build holding task_struct and iphdr (completion after <c>Kernel.</c> offers both), taking "iphdr" out of
    /// the request in the editor makes Program.cs's <c>Kernel.iphdr</c> an error (CS0426; the built assembly still has the
    /// type), and putting it back clears it. (csharp-ls 0.28's completion list was seen to keep offering the removed type for
    /// 300 s while its diagnostics follow the edit in seconds, so the edit is judged by diagnostics, as LanguageServerTests does.)
    /// </summary>
    /// <summary>The default session's app, built once (types assembly and all) before the language server loads it.</summary>
    public sealed class BuiltAppLanguageServerSession : LanguageServerSession
    {
        public string BuildOutput { get; private set; } = "";
        public int BuildExitCode { get; private set; } = -1;

        protected override void PrepareApp(string app)
        {
            base.PrepareApp(app);
            (BuildExitCode, BuildOutput, _) = Feed!.Dotnet(app, "build", "-nologo");
        }
    }

    [Collection(PackageTier.Name)] // its session packs the package (JourneyFeed), as the journeys do: one at a time
    public class DesignTimeTypesTests : IClassFixture<BuiltAppLanguageServerSession>
    {
        private static readonly TimeSpan Wait = TimeSpan.FromSeconds(300);   // includes the workspace load on a loaded machine
        private readonly BuiltAppLanguageServerSession _s;
        private readonly ITestOutputHelper _out;

        public DesignTimeTypesTests(BuiltAppLanguageServerSession session, ITestOutputHelper output) { _s = session; _out = output; }

        [FullSkippableFact]
        public async Task Editing_the_request_updates_the_types_without_a_build_though_a_build_made_the_assembly()
        {
            var c = _s.Ready();
            try
            {
                Assert.True(_s.BuildExitCode == 0, _s.BuildOutput);
                Assert.Single(Directory.GetFiles(Path.Combine(_s.App, "obj"), "App.BtfTypes.dll", SearchOption.AllDirectories));

                string typed = LanguageServerSession.ProgramText.Replace(LanguageServerSession.BodyEnd, "        Kernel.\n" + LanguageServerSession.BodyEnd);
                _s.EditProgram(typed);
                var pos = (line: typed.Split('\n').ToList().FindIndex(l => l == "        Kernel."), character: "        Kernel.".Length);
                var labels = await CompleteUntil(c, pos, l => l.Contains("task_struct") && l.Contains("iphdr"));
                Assert.True(labels.Contains("iphdr") && labels.Contains("task_struct"), $"'Kernel.' offers [{string.Join(", ", labels.Take(40))}]\n{_s.Summary()}");
                _s.EditProgram(LanguageServerSession.ProgramText);

                // Program.cs declares a Kernel.iphdr: without iphdr in the (edited, unsaved) request it is CS0426, with it again it is not.
                _s.EditKernel(LanguageServerSession.KernelText.Replace(", \"iphdr\"", ""));
                var d = await DiagnosticsUntil(c, l => l.Contains("CS0426"));
                Assert.True(d.Contains("CS0426"), $"after taking iphdr out of Kernel.cs in the editor, Program.cs still compiles against a Kernel.iphdr (the built App.BtfTypes.dll instead of the edited request?): [{string.Join(", ", d)}]\n{_s.Summary()}");
                _s.EditKernel(LanguageServerSession.KernelText);
                d = await DiagnosticsUntil(c, l => !l.Contains("CS0426"));
                Assert.False(d.Contains("CS0426"), $"after adding iphdr back to Kernel.cs, Program.cs still lacks it: [{string.Join(", ", d)}]\n{_s.Summary()}");
            }
            catch (Exception e) when (e is not SkipTestException) { _s.Failed = true; throw; }
            finally
            {
                _s.EditKernel(LanguageServerSession.KernelText);
                _s.EditProgram(LanguageServerSession.ProgramText);
                foreach (var t in _s.Timings) _out.WriteLine(t);
            }
        }

        /// <summary>Program.cs's diagnostic codes (pulled), polled until <paramref name="done"/> holds or <see cref="Wait"/> passes.</summary>
        private async Task<List<string>> DiagnosticsUntil(LspClient c, Func<List<string>, bool> done)
        {
            var sw = Stopwatch.StartNew();
            var last = new List<string>();
            await LspClient.PollAsync<List<string>>(async () =>
            {
                try
                {
                    var r = await c.RequestAsync("textDocument/diagnostic", new JsonObject { ["textDocument"] = new JsonObject { ["uri"] = _s.ProgramUri } }, Wait);
                    last = (r?["items"] as JsonArray)?.Select(i => i?["code"]?.ToString() ?? "").ToList() ?? new List<string>();
                }
                catch (Exception e) when (e is LspErrorException || e is TimeoutException) { last = new List<string>(); }
                return done(last) ? last : null;
            }, Wait, TimeSpan.FromMilliseconds(500));
            _out.WriteLine($"diagnostics settled in {sw.Elapsed.TotalSeconds:0.0} s: [{string.Join(", ", last)}]");
            return last;
        }

        /// <summary>Completion labels at <paramref name="pos"/> in Program.cs, polled until <paramref name="done"/> holds or <see cref="Wait"/> passes.</summary>
        private async Task<List<string>> CompleteUntil(LspClient c, (int line, int character) pos, Func<List<string>, bool> done)
        {
            var sw = Stopwatch.StartNew();
            var last = new List<string>();
            await LspClient.PollAsync<List<string>>(async () =>
            {
                var req = new JsonObject
                {
                    ["textDocument"] = new JsonObject { ["uri"] = _s.ProgramUri },
                    ["position"] = new JsonObject { ["line"] = pos.line, ["character"] = pos.character },
                    ["context"] = new JsonObject { ["triggerKind"] = 2, ["triggerCharacter"] = "." },
                };
                try
                {
                    var r = await c.RequestAsync("textDocument/completion", req, Wait);
                    var items = r is JsonArray a ? a : r?["items"] as JsonArray;
                    last = items?.Select(i => i?["label"]?.ToString() ?? "").ToList() ?? new List<string>();
                }
                catch (Exception e) when (e is LspErrorException || e is TimeoutException) { last = new List<string>(); }
                return done(last) ? last : null;
            }, Wait, TimeSpan.FromMilliseconds(500));
            _out.WriteLine($"completion settled in {sw.Elapsed.TotalSeconds:0.0} s");
            return last;
        }
    }
}
