using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Cli;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Cli
{
    /// <summary>Runs btfgen in-process (the same entry point as the tool) and helps with bpftool's JSON as an oracle.</summary>
    internal static class CliSupport
    {
        public sealed record CliResult(int ExitCode, byte[] StdOutBytes, string StdErr)
        {
            public string StdOut => Encoding.UTF8.GetString(StdOutBytes);
            public JsonDocument Json() => JsonDocument.Parse(StdOutBytes, new JsonDocumentOptions { MaxDepth = 256 });
            public override string ToString() => $"exit {ExitCode}\nstderr: {StdErr}\nstdout: {(StdOut.Length > 2000 ? StdOut.Substring(0, 2000) + "..." : StdOut)}";
        }

        public static CliResult Run(params string[] args)
        {
            var stdout = new MemoryStream();
            var stderr = new StringWriter();
            int rc = BtfGenCommand.Run(args, stdout, stderr);
            return new CliResult(rc, stdout.ToArray(), stderr.ToString());
        }

        /// <summary>Runs and asserts the exit code.</summary>
        public static CliResult Check(int expected, params string[] args)
        {
            var r = Run(args);
            Assert.True(r.ExitCode == expected, $"btfgen {string.Join(" ", args)}: expected exit {expected}\n{r}");
            return r;
        }

        /// <summary>
        /// Runs the built tool as its own process (<c>dotnet btfgen.dll</c>, copied next to the tests) in <paramref name="workDir"/>,
        /// with standard input closed; a run that takes longer than <paramref name="timeoutMs"/> is killed and fails the test
        /// (a FIFO or a device must never make btfgen wait or read forever).
        /// </summary>
        public static CliResult RunProcess(string workDir, int timeoutMs, params string[] args)
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "btfgen.dll");
            Assert.True(File.Exists(dll), "btfgen.dll is not next to the tests: " + dll);
            var psi = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is string host && File.Exists(host) ? host : "dotnet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = workDir,
            };
            psi.ArgumentList.Add(dll);
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardInput.Close();
            var stdout = new MemoryStream();
            var outTask = p.StandardOutput.BaseStream.CopyToAsync(stdout);
            var errTask = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new TimeoutException($"btfgen {string.Join(" ", args)} did not finish in {timeoutMs} ms (killed)");
            }
            System.Threading.Tasks.Task.WaitAll(outTask, errTask);
            return new CliResult(p.ExitCode, stdout.ToArray(), errTask.Result);
        }

        public static string Scratch(string name)
        {
            var dir = Path.Combine(Path.GetTempPath(), "btfgen-cli-tests", name + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(dir);
            return dir;
        }

        private static readonly ConcurrentDictionary<string, Lazy<Bpftool>> Dumps = new ConcurrentDictionary<string, Lazy<Bpftool>>();

        /// <summary>bpftool -j btf dump of a file, parsed (cached per path).</summary>
        public static Bpftool BpftoolJson(string path)
            => Dumps.GetOrAdd(path, p => new Lazy<Bpftool>(() => new Bpftool(Tool.Check("bpftool", $"-j btf dump file {p} format raw").StdOutBytes))).Value;
    }

    /// <summary>bpftool's JSON type list as an independent model: ids, kinds, names, sizes, members.</summary>
    internal sealed class Bpftool
    {
        public readonly Dictionary<int, JsonElement> Types = new Dictionary<int, JsonElement>();
        private readonly JsonDocument _doc;
        public int PointerSize { get; }

        public Bpftool(byte[] json)
        {
            _doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            foreach (var t in _doc.RootElement.GetProperty("types").EnumerateArray()) Types[t.GetProperty("id").GetInt32()] = t;
            var lng = Types.Values.FirstOrDefault(t => Kind(t) == "INT" && Name(t) == "long int");
            PointerSize = lng.ValueKind == JsonValueKind.Object ? lng.GetProperty("size").GetInt32() : 8;
        }

        public static string Kind(JsonElement t) => t.GetProperty("kind").GetString()!;
        public static string Name(JsonElement t) => Anon(t.GetProperty("name").GetString()!);
        public static string Anon(string n) => n == "(anon)" ? "" : n;

        /// <summary>The first STRUCT/UNION named <paramref name="name"/> (lowest id).</summary>
        public JsonElement Composite(string name)
            => Types.OrderBy(kv => kv.Key).First(kv => (Kind(kv.Value) == "STRUCT" || Kind(kv.Value) == "UNION") && Name(kv.Value) == name).Value;

        public int Strip(int id, bool typedefs = true)
        {
            for (int i = 0; i < 64 && id != 0; i++)
            {
                var k = Kind(Types[id]);
                if (k == "CONST" || k == "VOLATILE" || k == "RESTRICT" || k == "TYPE_TAG" || (typedefs && k == "TYPEDEF")) id = Types[id].GetProperty("type_id").GetInt32();
                else break;
            }
            return id;
        }

        public long SizeOf(int id)
        {
            id = Strip(id);
            if (id == 0) return 0;
            var t = Types[id];
            switch (Kind(t))
            {
                case "PTR": return PointerSize;
                case "ARRAY": return t.GetProperty("nr_elems").GetInt64() * SizeOf(t.GetProperty("type_id").GetInt32());
                case "INT": case "STRUCT": case "UNION": case "ENUM": case "ENUM64": case "FLOAT": return t.GetProperty("size").GetInt64();
                default: return 0;
            }
        }

        private HashSet<int>? _typedefNamed;

        /// <summary>Anonymous composites some typedef names (the planner names them after it rather than nesting them).</summary>
        public bool NamedByTypedef(int id)
        {
            if (_typedefNamed == null)
            {
                _typedefNamed = new HashSet<int>();
                foreach (var t in Types.Values)
                    if (Kind(t) == "TYPEDEF" && Name(t).Length > 0) _typedefNamed.Add(Strip(t.GetProperty("type_id").GetInt32(), typedefs: false));
            }
            return _typedefNamed.Contains(id);
        }

        public sealed record Field(string Path, long BitOffset, long BitSize, bool Bitfield);

        /// <summary>
        /// Fields of a struct/union the way a C programmer reaches them: members of anonymous members flattened into
        /// the parent, members of a named member of anonymous type as 'member.field'.
        /// </summary>
        public List<Field> Flatten(JsonElement composite)
        {
            var list = new List<Field>();
            Walk(composite, "", 0, list, 0);
            return list;
        }

        private void Walk(JsonElement t, string prefix, long baseBits, List<Field> into, int depth)
        {
            foreach (var m in t.GetProperty("members").EnumerateArray())
            {
                string name = Anon(m.GetProperty("name").GetString()!);
                int type = m.GetProperty("type_id").GetInt32();
                long bits = baseBits + m.GetProperty("bits_offset").GetInt64();
                int bf = m.TryGetProperty("bitfield_size", out var b) ? b.GetInt32() : 0;
                int target = Strip(type);
                var tt = target == 0 ? default : Types[target];
                bool composite = target != 0 && (Kind(tt) == "STRUCT" || Kind(tt) == "UNION");
                bool anonType = composite && Name(tt).Length == 0 && !NamedByTypedef(target);
                if (name.Length == 0)
                {
                    if (composite && bf == 0) Walk(tt, prefix, bits, into, depth + 1);
                    continue;
                }
                into.Add(new Field(prefix + name, bits, bf != 0 ? bf : SizeOf(type) * 8, bf != 0));
                if (anonType && depth < 32) Walk(tt, prefix + name + ".", bits, into, depth + 1);
            }
        }
    }
}
