using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;

namespace BtfBindings.Tests.Support
{
    /// <summary>An error response to a request.</summary>
    public sealed class LspErrorException : Exception
    {
        public int Code { get; }
        public LspErrorException(string method, int code, string message) : base($"{method}: error {code}: {message}") { Code = code; }
    }

    /// <summary>
    /// A minimal language-server client: JSON-RPC 2.0 over a child process's stdin/stdout with <c>Content-Length</c>
    /// framing. Requests get ids and are awaited; notifications are kept (<c>textDocument/publishDiagnostics</c> by document);
    /// server-to-client requests (<c>workspace/configuration</c>, <c>client/registerCapability</c>,
    /// <c>window/workDoneProgress/create</c>, ...) are answered at once so the server never waits on us. Every message both
    /// ways is written to a traffic log.
    /// </summary>
    public sealed class LspClient : IDisposable
    {
        private readonly Process _process;
        private readonly Stream _stdin;
        private readonly Stream _stdout;
        private readonly StreamWriter _log;
        private readonly object _writeGate = new object();
        private readonly object _logGate = new object();
        private readonly ConcurrentDictionary<int, (string method, TaskCompletionSource<JsonNode?> tcs)> _pending = new();
        private readonly object _stateGate = new object();
        private readonly List<(double at, string method, JsonNode? @params)> _notifications = new();
        private readonly Dictionary<string, JsonArray> _published = new(StringComparer.Ordinal);
        private readonly Queue<string> _recent = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Thread _reader;
        private int _nextId;
        private volatile bool _closed;
        private bool _disposed;
        private volatile string? _readerError;

        /// <summary>The answer to each <c>workspace/configuration</c> item, by section (null for sections not listed).</summary>
        public Dictionary<string, JsonNode?> Configuration { get; } = new(StringComparer.Ordinal);

        /// <summary>Path of the traffic log (one line per message, both directions, with seconds since start).</summary>
        public string LogPath { get; }

        /// <summary>Path of the server's stderr.</summary>
        public string StderrPath { get; }

        public Process Process => _process;

        private LspClient(Process process, string logPath, string stderrPath)
        {
            _process = process;
            _stdin = process.StandardInput.BaseStream;
            _stdout = process.StandardOutput.BaseStream;
            LogPath = logPath;
            StderrPath = stderrPath;
            _log = new StreamWriter(logPath, append: false, new UTF8Encoding(false)) { AutoFlush = true };
            _reader = new Thread(ReadLoop) { IsBackground = true, Name = "lsp-reader" };
        }

        /// <summary>Starts <paramref name="file"/> in <paramref name="workDir"/>; <paramref name="env"/> entries set (or, with a null value, remove) variables.</summary>
        public static LspClient Start(string file, IEnumerable<string> args, string workDir, IDictionary<string, string?> env, string logPath, string stderrPath)
        {
            var psi = ProcessRunner.StartInfo(file, args, workDir, env);
            var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
            var client = new LspClient(p, logPath, stderrPath);
            var err = new StreamWriter(stderrPath, append: false, new UTF8Encoding(false)) { AutoFlush = true };
            p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (err) err.WriteLine(e.Data); };
            p.BeginErrorReadLine();
            client._reader.Start();
            return client;
        }

        /// <summary>Seconds since the client started.</summary>
        public double Elapsed => _clock.Elapsed.TotalSeconds;

        /// <summary>Sends a request and waits for its response; an error response throws <see cref="LspErrorException"/>.</summary>
        public async Task<JsonNode?> RequestAsync(string method, object? @params, TimeSpan timeout)
        {
            int id = Interlocked.Increment(ref _nextId);
            var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = (method, tcs);
            Send(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = ToNode(@params) });
            var done = await Task.WhenAny(tcs.Task, Task.Delay(timeout)).ConfigureAwait(false);
            if (done != tcs.Task)
            {
                _pending.TryRemove(id, out _);
                TrySend(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "$/cancelRequest", ["params"] = new JsonObject { ["id"] = id } });
                throw new TimeoutException($"{method} (id {id}) got no response in {timeout.TotalSeconds:0} s{(_readerError != null ? "; " + _readerError : "")}");
            }
            return await tcs.Task.ConfigureAwait(false);
        }

        /// <summary>Sends a notification.</summary>
        public void Notify(string method, object? @params)
            => Send(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = ToNode(@params) });

        /// <summary>The latest <c>textDocument/publishDiagnostics</c> for <paramref name="uri"/>, or null if none came.</summary>
        public JsonArray? PublishedDiagnostics(string uri)
        {
            lock (_stateGate) return _published.TryGetValue(uri, out var a) ? (JsonArray)a.DeepClone() : null;
        }

        /// <summary>Every notification received so far, in order, with its arrival (seconds since start).</summary>
        public IReadOnlyList<(double at, string method, JsonNode? @params)> Notifications
        {
            get { lock (_stateGate) return _notifications.ToList(); }
        }

        /// <summary>The last messages of the traffic, for assertion messages.</summary>
        public string RecentTraffic(int max = 20)
        {
            lock (_logGate) return string.Join("\n", _recent.Skip(Math.Max(0, _recent.Count - max)));
        }

        /// <summary>Why the reader stopped (server closed stdout, bad frame), if it did.</summary>
        public string? ReaderError => _readerError;

        /// <summary>Polls <paramref name="probe"/> until it returns non-null or <paramref name="timeout"/> passes; returns the last value (null on timeout).</summary>
        public static async Task<T?> PollAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, TimeSpan interval) where T : class
        {
            var sw = Stopwatch.StartNew();
            while (true)
            {
                var v = await probe().ConfigureAwait(false);
                if (v != null || sw.Elapsed >= timeout) return v;
                await Task.Delay(interval).ConfigureAwait(false);
            }
        }

        /// <summary>shutdown + exit (briefly), then kills the server's whole process tree.</summary>
        public async Task ShutdownAsync()
        {
            if (!_process.HasExited && _readerError == null)
            {
                try
                {
                    await RequestAsync("shutdown", null, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                    Notify("exit", null);
                    await Task.Run(() => _process.WaitForExit(5000)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException || e is LspErrorException || e is IOException || e is InvalidOperationException) { Log("!!", "shutdown: " + e.Message); }
            }
            Dispose();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _closed = true;
            try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
            try { _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
            foreach (var (_, p) in _pending) p.tcs.TrySetException(new IOException("client closed"));
            lock (_logGate) _log.Dispose();
            _process.Dispose();
        }

        private static JsonNode? ToNode(object? o) => o switch
        {
            null => null,
            JsonNode n => n,
            _ => JsonSerializer.SerializeToNode(o),
        };

        private void Send(JsonObject message)
        {
            var body = Encoding.UTF8.GetBytes(message.ToJsonString());
            var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
            Log(">>", Encoding.UTF8.GetString(body));
            lock (_writeGate)
            {
                _stdin.Write(header, 0, header.Length);
                _stdin.Write(body, 0, body.Length);
                _stdin.Flush();
            }
        }

        private void TrySend(JsonObject message)
        {
            try { Send(message); } catch (IOException) { } catch (ObjectDisposedException) { }
        }

        private void Log(string dir, string text)
        {
            string line = $"{_clock.Elapsed.TotalSeconds,8:0.000} {dir} {text}";
            lock (_logGate)
            {
                if (_closed) return;
                try { _log.WriteLine(line); } catch (ObjectDisposedException) { return; }
                _recent.Enqueue(line.Length > 1500 ? line.Substring(0, 1500) + " ...(" + line.Length + " chars)" : line);
                while (_recent.Count > 200) _recent.Dequeue();
            }
        }

        private void ReadLoop()
        {
            try
            {
                while (true)
                {
                    int length = -1;
                    while (true)
                    {
                        string? line = ReadHeaderLine();
                        if (line == null) { _readerError = "server closed its output"; return; }
                        if (line.Length == 0) break;
                        int colon = line.IndexOf(':');
                        if (colon > 0 && line.Substring(0, colon).Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                            length = int.Parse(line.Substring(colon + 1).Trim());
                    }
                    if (length < 0) { _readerError = "a message without Content-Length"; return; }
                    var body = new byte[length];
                    int read = 0;
                    while (read < length)
                    {
                        int n = _stdout.Read(body, read, length - read);
                        if (n == 0) { _readerError = "server closed its output mid-message"; return; }
                        read += n;
                    }
                    string text = Encoding.UTF8.GetString(body);
                    Log("<<", text);
                    Dispatch(JsonNode.Parse(text)!.AsObject());
                }
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException || e is JsonException || e is FormatException)
            {
                _readerError = "reader: " + e.Message;
            }
            finally
            {
                foreach (var (_, p) in _pending) p.tcs.TrySetException(new IOException(_readerError ?? "reader stopped"));
            }
        }

        private string? ReadHeaderLine()
        {
            var sb = new StringBuilder();
            while (true)
            {
                int b = _stdout.ReadByte();
                if (b < 0) return sb.Length == 0 ? null : sb.ToString();
                if (b == '\n') return sb.ToString().TrimEnd('\r');
                sb.Append((char)b);
            }
        }

        private void Dispatch(JsonObject m)
        {
            bool hasMethod = m.TryGetPropertyValue("method", out var methodNode) && methodNode != null;
            bool hasId = m.TryGetPropertyValue("id", out var idNode) && idNode != null;
            if (hasMethod && hasId)
            {
                string method = methodNode!.GetValue<string>();
                JsonNode? result = method switch
                {
                    "workspace/configuration" => ConfigurationAnswer(m["params"]),
                    _ => null, // client/registerCapability, window/workDoneProgress/create, workspace/*/refresh, ...: accept
                };
                TrySend(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = idNode!.DeepClone(), ["result"] = result });
                return;
            }
            if (hasMethod)
            {
                string method = methodNode!.GetValue<string>();
                var p = m["params"];
                lock (_stateGate)
                {
                    _notifications.Add((Elapsed, method, p?.DeepClone()));
                    if (method == "textDocument/publishDiagnostics" && p?["uri"] is JsonNode u && p["diagnostics"] is JsonArray d)
                        _published[u.GetValue<string>()] = (JsonArray)d.DeepClone();
                }
                return;
            }
            if (hasId && idNode is JsonValue v && v.TryGetValue<int>(out int id) && _pending.TryRemove(id, out var pending))
            {
                if (m["error"] is JsonObject err)
                    pending.tcs.TrySetException(new LspErrorException(pending.method, err["code"]?.GetValue<int>() ?? 0, err["message"]?.ToString() ?? ""));
                else
                    pending.tcs.TrySetResult(m["result"]?.DeepClone());
            }
        }

        private JsonArray ConfigurationAnswer(JsonNode? p)
        {
            var answer = new JsonArray();
            if (p?["items"] is JsonArray items)
                foreach (var item in items)
                {
                    string? section = item?["section"]?.GetValue<string>();
                    answer.Add(section != null && Configuration.TryGetValue(section, out var value) ? value?.DeepClone() : null);
                }
            return answer;
        }
    }
}
