using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// One real editor session over the real package: the package packed into a temporary feed and a fresh console app
    /// outside the repository (<see cref="JourneyFeed"/>, the user journeys' one way to make such an app) that references it
    /// and names a BtfFile, <c>dotnet restore</c>, and the <c>csharp-ls</c> language server (a dotnet tool) driven over stdio
    /// by <see cref="LspClient"/>, with Program.cs and Kernel.cs open. Shared by the tests of <see cref="LanguageServerTests"/>;
    /// each test leaves the open documents as it found them. A derived session gives its own app (items, texts, files).
    /// </summary>
    public class LanguageServerSession : IAsyncLifetime
    {
        public const string ToolVersion = "0.28.*";
        public const string BtfName = "x86_64-6.12.btf";

        public const string KernelText = "[BtfBindings.BtfTypes(\"task_struct\", \"iphdr\")]\npublic static partial class Kernel { }\n";

        /// <summary>Program.cs as on disk: a valid program. <see cref="BodyEnd"/> marks where the tests type their completion lines.</summary>
        public static readonly string ProgramText = (
@"static class Program
{
    static void Main()
    {
        Kernel.iphdr x = default;
        x.saddr = 0x0100007f;
        Kernel.task_struct task = default;
        task.pid = 1;
        System.Console.WriteLine($""{x.saddr} {x.ihl} {task.pid} {Kernel.task_struct.BtfLayout.Size}"");
    }
}
").Replace("\r\n", "\n");
        public const string BodyEnd = "    }\n}\n";

        private readonly List<string> _timings = new List<string>();
        private readonly string _items, _kernelText, _programText, _properties;
        private Exception? _initError;
        private int _programVersion = 1, _kernelVersion = 1;

        public LanguageServerSession() : this($"    <BtfFile Include=\"{BtfName}\" />", KernelText, ProgramText) { }

        /// <param name="items">The app's items besides the package reference (e.g. BtfFile, BtfTarget).</param>
        /// <param name="kernelText">Kernel.cs as on disk and as first opened.</param>
        /// <param name="programText">Program.cs as on disk and as first opened.</param>
        /// <param name="properties">Extra MSBuild property lines for the app.</param>
        protected LanguageServerSession(string items, string kernelText, string programText, string properties = "")
        {
            _items = items;
            _kernelText = kernelText;
            _programText = programText;
            _properties = properties;
        }

        /// <summary>The feed and the folder the app is in (made in <see cref="InitializeAsync"/>); null before, or if packing failed.</summary>
        public JourneyFeed? Feed { get; private set; }
        public string Root => Feed?.Root ?? "(not made)";
        public string App => Path.Combine(Root, "app");
        public string? SkipReason { get; private set; }
        public LspClient? Client { get; private set; }
        public JsonNode? ServerCapabilities { get; private set; }
        public string ProgramUri => new Uri(Path.Combine(App, "Program.cs")).AbsoluteUri;
        public string KernelUri => new Uri(Path.Combine(App, "Kernel.cs")).AbsoluteUri;
        public string BtfPath => Path.Combine(App, BtfName);
        /// <summary>Tests run one at a time (xunit does within a class); the gate makes it explicit, since they share the open documents.</summary>
        public SemaphoreSlim Gate { get; } = new SemaphoreSlim(1, 1);
        /// <summary>Set by a failing test: the temp folder (traffic log, server stderr, app) is kept.</summary>
        public bool Failed { get; set; }

        public IReadOnlyList<string> Timings { get { lock (_timings) return _timings.ToList(); } }

        public void Time(string step, TimeSpan took)
        {
            lock (_timings) _timings.Add($"{step}: {took.TotalSeconds:0.0} s");
        }

        private T Step<T>(string step, Func<T> f)
        {
            var sw = Stopwatch.StartNew();
            try { return f(); }
            finally { Time(step, sw.Elapsed); }
        }

        public async Task InitializeAsync()
        {
            try { await Start(); }
            catch (Exception e) { _initError = e; Failed = true; }
        }

        /// <summary>Called with the app folder after it is written and before it is restored and the server starts (copy files the items name).</summary>
        protected virtual void PrepareApp(string app) => File.Copy(Fixtures.Path("x86_64-6.12"), Path.Combine(app, BtfName));

        /// <summary>Throws the skip (csharp-ls could not be installed) or the setup failure, if any.</summary>
        public LspClient Ready()
        {
            if (SkipReason != null) throw new SkipTestException(SkipReason);
            if (_initError != null) throw new InvalidOperationException($"language-server session setup failed (kept: {Root}): {_initError.Message}", _initError);
            return Client!;
        }

        private async Task Start()
        {
            // csharp-ls, cached per machine across runs. Failing to install it is the one reason to skip.
            string? server = Step("install csharp-ls " + ToolVersion, InstallServer);
            if (server == null) return;

            // The package, packed from what this test run already built, and the app beside its feed.
            var feed = Feed = Step("dotnet pack", () => new JourneyFeed());
            var app = feed.NewApp("app", $"net{Environment.Version.Major}.0", _items, _programText, _properties);
            File.WriteAllText(Path.Combine(app, "Kernel.cs"), _kernelText);
            PrepareApp(app);
            var restore = Step("dotnet restore", () => feed.Dotnet(app, "restore", "-nologo"));
            if (restore.code != 0) throw new InvalidOperationException("dotnet restore failed:\n" + restore.output);
            string packages = feed.Packages;

            var env = ChildEnvironment(packages);
            var client = LspClient.Start(server, ["--loglevel", "info"], App, env, Path.Combine(Root, "lsp-traffic.log"), Path.Combine(Root, "csharp-ls.stderr.log"));
            Client = client;
            // csharp-ls asks for the "csharp" section; it runs DiagnosticAnalyzers (pull and push) only with analyzersEnabled.
            client.Configuration["csharp"] = new JsonObject { ["analyzersEnabled"] = true };

            var sw = Stopwatch.StartNew();
            string rootUri = new Uri(App + "/").AbsoluteUri.TrimEnd('/');
            var init = await client.RequestAsync("initialize", new JsonObject
            {
                ["processId"] = Environment.ProcessId,
                ["clientInfo"] = new JsonObject { ["name"] = "BtfBindings.Tests" },
                ["rootUri"] = rootUri,
                ["rootPath"] = App,
                ["workspaceFolders"] = new JsonArray(new JsonObject { ["uri"] = rootUri, ["name"] = "app" }),
                ["capabilities"] = new JsonObject
                {
                    ["workspace"] = new JsonObject { ["configuration"] = true, ["workspaceFolders"] = true },
                    ["window"] = new JsonObject { ["workDoneProgress"] = true },
                    ["textDocument"] = new JsonObject
                    {
                        ["synchronization"] = new JsonObject { ["didSave"] = false },
                        ["completion"] = new JsonObject { ["completionItem"] = new JsonObject { ["snippetSupport"] = false } },
                        ["hover"] = new JsonObject { ["contentFormat"] = new JsonArray("markdown", "plaintext") },
                        ["publishDiagnostics"] = new JsonObject { ["relatedInformation"] = false },
                        ["diagnostic"] = new JsonObject { ["dynamicRegistration"] = false },
                    },
                },
            }, TimeSpan.FromSeconds(120));
            ServerCapabilities = init?["capabilities"];
            client.Notify("initialized", new JsonObject());
            Time("initialize", sw.Elapsed);
            client.Notify("textDocument/didOpen", new JsonObject { ["textDocument"] = new JsonObject { ["uri"] = ProgramUri, ["languageId"] = "csharp", ["version"] = _programVersion, ["text"] = _programText } });
            client.Notify("textDocument/didOpen", new JsonObject { ["textDocument"] = new JsonObject { ["uri"] = KernelUri, ["languageId"] = "csharp", ["version"] = _kernelVersion, ["text"] = _kernelText } });
        }

        /// <summary>Replaces the whole text of Program.cs (full-text didChange).</summary>
        public void EditProgram(string text) => Change(ProgramUri, ++_programVersion, text);

        /// <summary>Replaces the whole text of Kernel.cs (full-text didChange).</summary>
        public void EditKernel(string text) => Change(KernelUri, ++_kernelVersion, text);

        private void Change(string uri, int version, string text)
            => Client!.Notify("textDocument/didChange", new JsonObject
            {
                ["textDocument"] = new JsonObject { ["uri"] = uri, ["version"] = version },
                ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = text }),
            });

        public string Summary() => $"timings: {string.Join("; ", Timings)}; {WorkspaceLoaded()}\ntraffic log: {Client?.LogPath}\nserver stderr: {Client?.StderrPath}";

        /// <summary>When the server said it finished loading the workspace (its $/progress end), from the client's start.</summary>
        public string WorkspaceLoaded()
        {
            var end = Client?.Notifications.FirstOrDefault(n => n.method == "$/progress" && n.@params?["value"]?["kind"]?.ToString() == "end"
                && (n.@params?["value"]?["message"]?.ToString() ?? "").Contains("loading workspace", StringComparison.OrdinalIgnoreCase));
            return end?.method != null ? $"workspace loaded {end.Value.at:0.0} s after server start" : "workspace load end not reported yet";
        }

        /// <summary>Runs one test's <paramref name="body"/> alone on the session; a failure keeps the temp folder; the timings go to the test's output.</summary>
        public async Task Run(Func<LspClient, Task> body, ITestOutputHelper output)
        {
            var client = Ready();
            await Gate.WaitAsync();
            try { await body(client); }
            catch (Exception e) when (e is not SkipTestException)
            {
                Failed = true;
                throw;
            }
            finally
            {
                Gate.Release();
                foreach (var t in Timings) output.WriteLine(t);
                output.WriteLine(WorkspaceLoaded());
                output.WriteLine("temp folder (kept if a test fails): " + Root);
            }
        }

        public virtual async Task DisposeAsync()
        {
            if (Client != null)
            {
                var sw = Stopwatch.StartNew();
                await Client.ShutdownAsync();
                Time("shutdown", sw.Elapsed);
            }
            if (!Failed) Feed?.Dispose();
        }

        /// <summary>The server's environment: the app's package folder, and no MSBuild location inherited from the test host.</summary>
        private static Dictionary<string, string?> ChildEnvironment(string? packages)
        {
            var env = new Dictionary<string, string?>
            {
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["MSBuildExtensionsPath"] = null,
                ["MSBuildSDKsPath"] = null,
                ["MSBUILD_EXE_PATH"] = null,
            };
            if (packages != null) env["NUGET_PACKAGES"] = packages;
            return env;
        }

        private static (int code, string output) Run(string file, string[] args, string workDir, string? packages, int timeoutSeconds)
        {
            var r = ProcessRunner.Run(file, args, workDir, TimeSpan.FromSeconds(timeoutSeconds), ChildEnvironment(packages));
            return (r.ExitCode, r.Output);
        }

        /// <summary>csharp-ls from a per-machine cache folder, installed there with <c>dotnet tool install --tool-path</c> when missing; null (and <see cref="SkipReason"/>) if it cannot be installed.</summary>
        private string? InstallServer()
        {
            var cache = Path.Combine(Path.GetTempPath(), "btfbindings-csharp-ls", ToolVersion.Replace("*", "x"));
            var exe = Path.Combine(cache, "csharp-ls");
            if (File.Exists(exe)) return exe;
            var staging = cache + ".staging-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            var (code, output) = Run("dotnet", ["tool", "install", "csharp-ls", "--version", ToolVersion, "--tool-path", staging], Path.GetTempPath(), null, 300);
            if (code != 0 || !File.Exists(Path.Combine(staging, "csharp-ls")))
            {
                SkipReason = $"csharp-ls {ToolVersion} cannot be installed (dotnet tool install exited {code}): {output.Trim()}";
                return null;
            }
            try { Directory.Move(staging, cache); }
            catch (IOException) when (File.Exists(exe)) { try { Directory.Delete(staging, true); } catch (IOException) { } } // another run won
            return exe;
        }
    }

    /// <summary>
    /// What an editor shows for the generated kernel types, through a real language server (csharp-ls): completion of the
    /// generated types and fields, hover with the generated docs (C declaration, offset, BTF file), and the generator's
    /// diagnostics (BTFB001 for a misspelled type name) in the file that has the <c>[BtfTypes]</c> attribute.
    /// Language servers show what the compilation and the DiagnosticAnalyzers report, not what a source generator reports;
    /// csharp-ls runs analyzers only with its <c>analyzersEnabled</c> setting (answered in <c>workspace/configuration</c>),
    /// and keeps only diagnostics located in the document asked about, so BTFB001 must come from an analyzer, located in Kernel.cs.
    /// csharp-ls publishes (push) only to clients that do not pull; this client pulls (<c>textDocument/diagnostic</c>) and
    /// would take pushed ones too.
    /// </summary>
    [Collection(PackageTier.Name)] // its session packs the package (JourneyFeed), as the journeys do: one at a time
    public class LanguageServerTests : IClassFixture<LanguageServerSession>
    {
        // Generous: on a loaded 2-core machine the MSBuild workspace load takes 10-30 s, and with analyzers enabled the first
        // diagnostics pull after an edit that changes the generated code runs every analyzer over the whole compilation
        // (50-75 s seen here, with task_struct's ~130 generated types).
        internal static readonly TimeSpan FirstAnswer = TimeSpan.FromSeconds(300); // includes the MSBuild workspace load
        internal static readonly TimeSpan Settle = TimeSpan.FromSeconds(180);
        private static readonly TimeSpan Btfb001Wait = TimeSpan.FromSeconds(90); // after the server has taken the edit
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

        private readonly LanguageServerSession _s;
        private readonly ITestOutputHelper _out;

        public LanguageServerTests(LanguageServerSession session, ITestOutputHelper output)
        {
            _s = session;
            _out = output;
        }

        private Task Run(Func<LspClient, Task> body) => _s.Run(body, _out);

        private static JsonObject At(string uri, (int line, int character) pos) => new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri },
            ["position"] = new JsonObject { ["line"] = pos.line, ["character"] = pos.character },
        };

        /// <summary>(line, character) just after the first occurrence of <paramref name="marker"/> (UTF-16 columns; the texts are ASCII).</summary>
        private static (int line, int character) After(string text, string marker, int extra = 0)
        {
            int at = text.IndexOf(marker, StringComparison.Ordinal);
            Assert.True(at >= 0, "marker not found: " + marker);
            at += marker.Length + extra;
            int line = text.Take(at).Count(c => c == '\n');
            int col = at - (text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1);
            return (line, col);
        }

        private static List<string> Labels(JsonNode? completion)
        {
            var items = completion is JsonArray a ? a : completion?["items"] as JsonArray;
            return items?.Select(i => i?["label"]?.ToString() ?? "").ToList() ?? new List<string>();
        }

        /// <summary>Polls completion at <paramref name="pos"/> until every expected label is offered; returns the last list.</summary>
        private async Task<List<string>> CompleteUntil(LspClient c, string uri, (int, int) pos, string[] expected, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            var last = new List<string>();
            while (true)
            {
                var req = At(uri, pos);
                req["context"] = new JsonObject { ["triggerKind"] = 2, ["triggerCharacter"] = "." };
                try { last = Labels(await c.RequestAsync("textDocument/completion", req, timeout)); }
                catch (Exception e) when (e is LspErrorException || e is TimeoutException) { last = new List<string>(); } // e.g. not loaded yet
                if (expected.All(last.Contains) || sw.Elapsed >= timeout) return last;
                await Task.Delay(Poll);
            }
        }

        [FullSkippableFact]
        public Task Completion_offers_generated_types_and_fields() => Run(async c =>
        {
            try
            {
                string afterX = ProgramWith("        x.\n");
                _s.EditProgram(afterX);
                var sw = Stopwatch.StartNew();
                string[] fields = { "ihl", "version", "saddr", "daddr" };
                var labels = await CompleteUntil(c, _s.ProgramUri, After(afterX, "        x.\n", -1), fields, FirstAnswer);
                _s.Time("completion after 'x.' (iphdr fields)", sw.Elapsed);
                _out.WriteLine($"'x.' offers {labels.Count}: {string.Join(", ", labels)}");
                Assert.True(fields.All(labels.Contains),
                    $"completion after 'x.' (x is Kernel.iphdr) lacks {string.Join(", ", fields.Except(labels))}; offered {labels.Count}: [{string.Join(", ", labels.Take(60))}]\n{_s.Summary()}\n{c.RecentTraffic(8)}");

                string afterKernel = ProgramWith("        Kernel.\n");
                _s.EditProgram(afterKernel);
                sw.Restart();
                string[] types = { "task_struct", "iphdr" };
                labels = await CompleteUntil(c, _s.ProgramUri, After(afterKernel, "        Kernel.\n", -1), types, Settle);
                _s.Time("completion after 'Kernel.' (generated types)", sw.Elapsed);
                _out.WriteLine($"'Kernel.' offers {labels.Count}: {string.Join(", ", labels.Take(40))} ...");
                Assert.True(types.All(labels.Contains),
                    $"completion after 'Kernel.' lacks {string.Join(", ", types.Except(labels))}; offered {labels.Count}: [{string.Join(", ", labels.Take(60))}]\n{_s.Summary()}\n{c.RecentTraffic(8)}");
            }
            finally { _s.EditProgram(LanguageServerSession.ProgramText); }
        });

        private static string ProgramWith(string typed)
        {
            var t = LanguageServerSession.ProgramText;
            int end = t.LastIndexOf(LanguageServerSession.BodyEnd, StringComparison.Ordinal);
            return t.Substring(0, end) + typed + t.Substring(end);
        }

        [FullSkippableFact]
        public Task Hover_on_a_field_shows_its_C_declaration_offset_and_BTF_file() => Run(async c =>
        {
            var btf = Btf.Load(_s.BtfPath);
            uint pidOffset = btf.FindTypes("task_struct", BtfKind.Struct)[0].Members.Single(m => m.Name == "pid").BitOffset / 8;
            var cases = new (string what, (int, int) pos, string[] expect)[]
            {
                ("x.saddr", After(LanguageServerSession.ProgramText, "x.sa"), new[] { "__be32 saddr", "offset 12, size 4", "(" + LanguageServerSession.BtfName + ")" }),
                ("task.pid", After(LanguageServerSession.ProgramText, "task.p"), new[] { "pid_t pid", $"offset {pidOffset}, size 4", "(" + LanguageServerSession.BtfName + ")" }),
                ("x.ihl (a bitfield)", After(LanguageServerSession.ProgramText, "{x.ih"), new[] { "ihl", "4 bits", "(" + LanguageServerSession.BtfName + ")" }),
            };
            foreach (var (what, pos, expect) in cases)
            {
                var sw = Stopwatch.StartNew();
                string text = "";
                await LspClient.PollAsync<string>(async () =>
                {
                    JsonNode? r;
                    try { r = await c.RequestAsync("textDocument/hover", At(_s.ProgramUri, pos), FirstAnswer); }
                    catch (Exception e) when (e is LspErrorException || e is TimeoutException) { r = null; }
                    text = HoverText(r);
                    return expect.All(text.Contains) ? text : null;
                }, FirstAnswer, Poll);
                _s.Time($"hover on {what}", sw.Elapsed);
                _out.WriteLine($"hover on {what}: {text}");
                Assert.True(expect.All(text.Contains),
                    $"hover on {what} lacks [{string.Join(", ", expect.Where(e => !text.Contains(e)))}]; it showed: {(text.Length == 0 ? "(nothing)" : text)}\n{_s.Summary()}\n{c.RecentTraffic(6)}");
            }
        });

        private static string HoverText(JsonNode? hover)
        {
            var contents = hover?["contents"];
            return contents switch
            {
                null => "",
                JsonValue v => v.ToString(),
                JsonArray a => string.Join("\n", a.Select(x => x is JsonObject o ? o["value"]?.ToString() : x?.ToString())),
                JsonObject o => o["value"]?.ToString() ?? "",
                _ => "",
            };
        }

        [FullSkippableFact]
        public Task Misspelled_type_shows_BTFB001_in_the_attributed_file_and_clears_when_fixed() => Run(async c =>
        {
            bool pull = _s.ServerCapabilities?["diagnosticProvider"] != null;
            _out.WriteLine("server diagnosticProvider: " + (_s.ServerCapabilities?["diagnosticProvider"]?.ToJsonString() ?? "(none: push only)"));
            const string typo = "[BtfBindings.BtfTypes(\"task_strut\")]\npublic static partial class Kernel { }\n";
            bool restored = false;
            try
            {
                _s.EditKernel(typo);
                var sw = Stopwatch.StartNew();
                // First: the server has taken the edit and rerun the generator (Program.cs loses Kernel.iphdr / Kernel.task_struct).
                var program = await DiagnosticsUntil(c, _s.ProgramUri, pull, d => d.Any(x => Code(x) == "CS0426"), FirstAnswer);
                _s.Time("edit seen (CS0426 in Program.cs)", sw.Elapsed);
                _out.WriteLine("Program.cs after the typo: " + Show(program));
                Assert.True(program.Any(x => Code(x) == "CS0426"),
                    $"the server never reported Program.cs's missing kernel types after Kernel.cs was changed to \"task_strut\"; Program.cs diagnostics: {Show(program)}\n{_s.Summary()}\n{c.RecentTraffic(8)}");

                // Then: BTFB001 (unknown type, did you mean 'task_struct'?) on Kernel.cs.
                sw.Restart();
                var kernel = await DiagnosticsUntil(c, _s.KernelUri, pull, d => d.Any(IsBtfb001), Btfb001Wait);
                _s.Time("BTFB001 wait on Kernel.cs", sw.Elapsed);
                _out.WriteLine("Kernel.cs after the typo: " + Show(kernel));
                Assert.True(kernel.Any(IsBtfb001),
                    "no BTFB001 (mentioning 'task_struct') on Kernel.cs after changing it to [BtfTypes(\"task_strut\")] " +
                    "(a generator's own diagnostics never reach a language server: it needs a DiagnosticAnalyzer reporting BTFB001 at a location in Kernel.cs). " +
                    $"The server published for Kernel.cs: {Show(kernel)}; for Program.cs: {Show(program)}; " +
                    $"publishDiagnostics received: {c.Notifications.Count(n => n.method == "textDocument/publishDiagnostics")}\n{_s.Summary()}\n{c.RecentTraffic(6)}");

                // Fixed again: BTFB001 goes, the types come back.
                _s.EditKernel(LanguageServerSession.KernelText);
                restored = true;
                sw.Restart();
                kernel = await DiagnosticsUntil(c, _s.KernelUri, pull, d => !d.Any(x => Code(x) == "BTFB001"), FirstAnswer);
                program = await DiagnosticsUntil(c, _s.ProgramUri, pull, d => !d.Any(x => Code(x) == "CS0426"), FirstAnswer);
                _s.Time("fix seen (BTFB001 and CS0426 gone)", sw.Elapsed);
                Assert.False(kernel.Any(x => Code(x) == "BTFB001"), $"BTFB001 stays on Kernel.cs after the fix: {Show(kernel)}\n{_s.Summary()}");
                Assert.False(program.Any(x => Code(x) == "CS0426"), $"Program.cs still misses kernel types after the fix: {Show(program)}\n{_s.Summary()}");
            }
            finally
            {
                if (!restored) _s.EditKernel(LanguageServerSession.KernelText);
            }
        });

        private static bool IsBtfb001(JsonNode? d) => Code(d) == "BTFB001" && (d?["message"]?.ToString() ?? "").Contains("task_struct", StringComparison.Ordinal);

        internal static string Code(JsonNode? d) => d?["code"]?.ToString() ?? "";

        internal static string Show(IReadOnlyList<JsonNode?> ds)
            => ds.Count == 0 ? "(none)" : string.Join(" | ", ds.Select(d =>
                $"{Code(d)} sev{d?["severity"]} {d?["range"]?["start"]?["line"]}:{d?["range"]?["start"]?["character"]} {d?["message"]}"));

        /// <summary>
        /// The document's diagnostics, polled until <paramref name="done"/> holds or the timeout passes: pulled with
        /// <c>textDocument/diagnostic</c> when the server offers it, together with the latest <c>publishDiagnostics</c>.
        /// </summary>
        internal static async Task<IReadOnlyList<JsonNode?>> DiagnosticsUntil(LspClient c, string uri, bool pull, Func<IReadOnlyList<JsonNode?>, bool> done, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            while (true)
            {
                var all = new List<JsonNode?>();
                if (pull)
                {
                    try
                    {
                        var left = timeout - sw.Elapsed;
                        var r = await c.RequestAsync("textDocument/diagnostic", new JsonObject { ["textDocument"] = new JsonObject { ["uri"] = uri } }, left > TimeSpan.FromSeconds(30) ? left : TimeSpan.FromSeconds(30));
                        if (r?["items"] is JsonArray items) all.AddRange(items);
                    }
                    catch (Exception e) when (e is LspErrorException || e is TimeoutException) { }
                }
                var pushed = c.PublishedDiagnostics(uri);
                if (pushed != null) all.AddRange(pushed);
                if (done(all) || sw.Elapsed >= timeout) return all;
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}
