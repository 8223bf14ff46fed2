using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// <c>btfgen minimize</c>: bpftool must accept the small BTF, and bpftool's JSON of it must give every requested
    /// type the same layout as bpftool's JSON of the full BTF: size, every member's name, bit offset and bitfield size,
    /// recursively through every type held by value (pointers are compared as pointers).
    /// </summary>
    public class MinimizeTests : IDisposable
    {
        private readonly List<string> _scratch = new List<string>();
        private string Scratch(string name) { var d = CliSupport.Scratch(name); _scratch.Add(d); return d; }
        public void Dispose() { foreach (var d in _scratch) try { Directory.Delete(d, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } }

        private readonly ITestOutputHelper _out;
        public MinimizeTests(ITestOutputHelper output) { _out = output; }

        /// <summary>A canonical, id-free description of a type's by-value layout.</summary>
        private static string Layout(BpftoolTypes b, int id, Dictionary<int, string> memo, int depth = 0)
        {
            if (memo.TryGetValue(id, out var s)) return s;
            if (depth > 64) throw new InvalidOperationException("too deep");
            id = b.Resolve(id);
            if (id == 0) return "void";
            var t = b[id];
            string k = t.Kind;
            var sb = new StringBuilder();
            switch (k)
            {
                case "STRUCT": case "UNION":
                    sb.Append(k).Append(' ').Append(t.Name).Append(" size=").Append(t.Size).Append(" {");
                    foreach (var m in t.Members)
                    {
                        sb.Append(m.Name).Append('@').Append(m.BitsOffset);
                        if (m.BitfieldSize != 0) sb.Append(':').Append(m.BitfieldSize);
                        sb.Append('=').Append(Layout(b, m.TypeId, memo, depth + 1)).Append(';');
                    }
                    sb.Append('}');
                    break;
                case "ARRAY":
                    sb.Append(Layout(b, t.TypeId, memo, depth + 1)).Append('[').Append(t.NrElems).Append(']');
                    break;
                case "PTR": sb.Append("ptr"); break;
                case "INT": sb.Append("int").Append(t.Size).Append(t.Encoding).Append(t.NrBits).Append('+').Append(t.BitsOffset); break;
                case "ENUM": case "ENUM64":
                    sb.Append("enum").Append(t.Size).Append('{');
                    foreach (var v in t.Values) sb.Append(v.Name).Append('=').Append(v.ValueText).Append(',');
                    sb.Append('}');
                    break;
                default: sb.Append(k).Append(' ').Append(t.Name); break;
            }
            return memo[id] = sb.ToString();
        }

        private static int Root(BpftoolTypes b, string name)
            => b.All.First(t => t.Name == name && t.Kind is "STRUCT" or "UNION" or "ENUM" or "ENUM64" or "TYPEDEF").Id;

        private (long full, long small) MinimizeAndCompare(string input, string? baseFile, params string[] types)
        {
            var dir = Scratch("min");
            var small = Path.Combine(dir, "small.btf");
            var args = new List<string> { "minimize", "--btf", input, "-o", small, "--json" };
            if (baseFile != null) { args.Add("--base"); args.Add(baseFile); }
            args.AddRange(types);
            var r = CliSupport.Check(0, args.ToArray());
            using var report = r.Json();

            // bpftool accepts it (raw and C output) and it stands alone (no base needed).
            var raw = Bpftool.Dump(small);
            Assert.Contains("STRUCT", raw.StdOut);
            Bpftool.Dump(small, format: "c");

            // The module's own dump lists only its types; resolve base ids from the base's dump.
            var fullJson = baseFile == null ? Bpftool.Types(input) : Bpftool.Types(input, baseFile).WithBase(Bpftool.Types(baseFile));
            var smallJson = Bpftool.Types(small);
            var fm = new Dictionary<int, string>();
            var sm = new Dictionary<int, string>();
            foreach (var type in types)
            {
                var expected = Layout(fullJson, Root(fullJson, type), fm);
                var actual = Layout(smallJson, Root(smallJson, type), sm);
                Assert.True(expected == actual, $"{type}: layouts differ\nfull:  {expected.Substring(0, Math.Min(600, expected.Length))}\nsmall: {actual.Substring(0, Math.Min(600, actual.Length))}");
            }
            long full = report.RootElement.GetProperty("full_bytes").GetInt64();
            long smallBytes = report.RootElement.GetProperty("small_bytes").GetInt64();
            Assert.Equal(new FileInfo(small).Length, smallBytes);
            if (baseFile == null) Assert.True(smallBytes < full / 10, $"small {smallBytes} vs full {full}");
            var head = File.ReadAllBytes(small).Take(2).ToArray();
            bool inputBigEndian = Btf.Load(input, baseFile == null ? null : Btf.Load(baseFile)).IsBigEndian;
            Assert.Equal(inputBigEndian ? new byte[] { 0xeb, 0x9f } : new byte[] { 0x9f, 0xeb }, head);
            _out.WriteLine($"{Path.GetFileName(input)} {string.Join(" ", types)}: {full} -> {smallBytes} bytes ({100.0 * smallBytes / full:0.00}%), {report.RootElement.GetProperty("full_types").GetInt32()} -> {report.RootElement.GetProperty("small_types").GetInt32()} types");
            return (full, smallBytes);
        }

        [Fact]
        public void Task_struct_needs_keep_the_same_layout_in_a_fraction_of_the_bytes()
        {
            var (full, small) = MinimizeAndCompare(Fixtures.Path("x86_64-6.12"), null, "task_struct");
            Assert.True(small < 64 * 1024, $"task_struct's minimized BTF is {small} bytes");
            Assert.True(full > 4_000_000);
        }

        [Fact]
        public void Several_types_including_a_typedef_on_arm64()
            => MinimizeAndCompare(Fixtures.Path("aarch64-6.1"), null, "sk_buff", "iphdr", "tcp_sock", "cpumask_t", "pid_type");

        [Fact]
        public void Big_endian_s390x_stays_big_endian_and_bpftool_reads_it()
        {
            MinimizeAndCompare(Fixtures.Path("s390x-6.12"), null, "task_struct");
        }

        [Fact]
        public void Module_types_over_their_base_become_standalone_btf()
            => MinimizeAndCompare(Fixtures.Path("x86_64-6.12-ip_vs.ko"), Fixtures.Path("x86_64-6.12"), "ip_vs_conn", "ip_vs_service");

        [Fact]
        public void Unknown_type_exits_1()
        {
            var r = CliSupport.Check(1, "minimize", "--btf", Fixtures.Path("aarch64-6.1"), "-o", Path.Combine(Scratch("min"), "x.btf"), "task_strukt");
            Assert.Contains("did you mean: task_struct", r.StdErr);
        }
    }
}
