using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using BtfBindings.Cli.Commands;
using BtfBindings.Emit;
using BtfBindings.Layout;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.Cli
{
    /// <summary>
    /// <c>btfgen generate --all</c>: the output is streamed as it is produced (memory bounded by the largest type, not the
    /// total, which may pass what a string can hold), and one type with no layout does not sink the others.
    /// </summary>
    public class GenerateAllTests
    {
        private readonly ITestOutputHelper _out;
        public GenerateAllTests(ITestOutputHelper output) => _out = output;

        [Fact]
        public void Streamed_output_is_the_emitters_whole_text_handed_over_in_bounded_pieces()
        {
            // task_struct and what it holds (1.1 MB of C#), handed over every 64 Ki characters (btfgen: every 1 Mi).
            var btf = Btf.Load(Fixtures.Path("x86_64-5.10"));
            var plan = LayoutPlanner.Plan(btf, new[] { "task_struct", "iphdr" }, null, out _);
            var options = new EmitOptions { SourceLabel = "x86_64-5.10.btf" };
            const int FlushAt = 64 << 10;

            var whole = new StringBuilder();
            new CSharpEmitter(plan, options).EmitSingleFile(whole, "doc");
            var pieces = new List<int>();
            var streamed = new StringBuilder();
            new CSharpEmitter(plan, options).EmitSingleFile(new StringBuilder(), "doc", sb => { pieces.Add(sb.Length); streamed.Append(sb); }, FlushAt);
            Assert.Equal(whole.ToString(), streamed.ToString());

            // Each piece is at most the threshold plus one declaration, bounded by the largest per-type file.
            int largestType = new CSharpEmitter(plan, options).Emit().Max(f => f.Text.Length);
            _out.WriteLine($"{whole.Length} characters in {pieces.Count} pieces, largest {pieces.Max()}, largest type file {largestType}");
            // Handed over as soon as the threshold is reached: every piece but the last holds at least FlushAt characters.
            Assert.True(pieces.Count > 1, $"{pieces.Count} pieces");
            Assert.All(pieces.Take(pieces.Count - 1), n => Assert.True(n >= FlushAt, $"a piece of {n} characters before the last"));
            Assert.All(pieces, n => Assert.True(n <= FlushAt + largestType, $"a piece of {n} characters"));

            // btfgen's path (no container, so no container doc): the same text, its length counted in 64 bits.
            var writer = new StringWriter();
            long chars = GenerateCommand.Generate(plan, "", null, "x86_64-5.10.btf", writer);
            Assert.Equal(whole.ToString(), writer.ToString());
            Assert.Equal(whole.Length, chars);
        }

        /// <summary>int, then struct good { int a; }, a struct (anon) holding itself by value, struct bad { that anon x; }.</summary>
        private static string CyclicPlusGood(string dir)
        {
            var b = new BtfBuilder();
            b.AddInt("int", 4, BtfIntEncoding.Signed);                                          // 1
            b.AddComposite(BtfKind.Struct, "good", 8, ("a", 1, 0, 0), ("b", 1, 32, 0));        // 2
            b.AddComposite(BtfKind.Struct, "", 4, ("y", 1, 0, 0), ("self", 3, 0, 0));           // 3
            b.AddComposite(BtfKind.Struct, "bad", 4, ("x", 3, 0, 0));                           // 4
            var path = Path.Combine(dir, "cyclic.btf");
            File.WriteAllBytes(path, b.ToArray());
            return path;
        }

        [Fact]
        public void All_plans_every_other_type_and_warns_about_the_one_that_contains_itself()
        {
            var dir = CliSupport.Scratch("all-cycle");
            try
            {
                var path = CyclicPlusGood(dir);
                var r = CliSupport.Check(0, "generate", "--all", "--btf", path, "--namespace", "K");
                Assert.Contains("btfgen: warning: struct bad (id 4) is emitted opaque: it has no layout: ", r.StdErr);
                Assert.Contains("cyclic.btf, type [3]: struct (anon) (id 3) contains itself by value: struct (anon) (id 3) -> struct (anon) (id 3)", r.StdErr);
                var code = r.StdOut;
                Assert.Contains("public partial struct good", code);
                Assert.Contains("public int a;", code);
                Assert.Contains("public partial struct bad", code);
                Assert.DoesNotContain(GenerateTests.Compile(code), d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);

                // Asked for by name it is still an error naming the cycle (exit 2), as are the types holding it.
                var named = CliSupport.Check(2, "generate", "bad", "--btf", path);
                Assert.Contains("struct (anon) (id 3) contains itself by value", named.StdErr);
            }
            finally { Directory.Delete(dir, true); }
        }

        /// <summary>
        /// A BTF whose C# is more than 2^31 characters (what one string or StringBuilder can hold): 1,250 structs of 16 ints
        /// whose names, shared by all of them, are 16,000 characters long (each name appears ~7 times per struct). btfgen
        /// streams it to its standard output, read here as it comes, under a 2 GiB GC heap limit: holding the output (4.5 GB
        /// as UTF-16) cannot fit, the plan (~1.3 GB: every member keeps its name and C declaration) does. Peak RSS is
        /// sampled from /proc while it runs.
        /// </summary>
        [FullFact]
        public void All_streams_more_than_2_GiB_of_CSharp_with_bounded_memory()
        {
            const int Structs = 1250, Members = 16, NameLength = 16000;
            var dir = CliSupport.Scratch("all-2g");
            try
            {
                var b = new BtfBuilder();
                b.AddInt("int", 4, BtfIntEncoding.Signed);
                var members = Enumerable.Range(0, Members).Select(k => ($"m{k:00}_" + new string('x', NameLength), 1, (uint)(32 * k), 0)).ToArray();
                for (int i = 0; i < Structs; i++) b.AddComposite(BtfKind.Struct, "s" + i, 4 * Members, members);
                var path = Path.Combine(dir, "huge-names.btf");
                File.WriteAllBytes(path, b.ToArray());

                var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is string host && File.Exists(host) ? host : "dotnet")
                { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                psi.Environment["DOTNET_GCHeapHardLimit"] = "0x80000000";
                foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "btfgen.dll"), "generate", "--all", "--btf", path }) psi.ArgumentList.Add(a);
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                long peakKb = 0;
                var sampler = new Thread(() =>
                {
                    while (!p.HasExited)
                    {
                        try { foreach (var l in File.ReadLines($"/proc/{p.Id}/status")) if (l.StartsWith("VmHWM:")) peakKb = Math.Max(peakKb, long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])); }
                        catch (IOException) { }
                        Thread.Sleep(200);
                    }
                }) { IsBackground = true };
                sampler.Start();
                var errTask = p.StandardError.ReadToEndAsync();

                // Read as it comes: bytes, struct declarations, and the last line.
                long bytes = 0, declarations = 0;
                string? line, last = null;
                var stdout = new StreamReader(p.StandardOutput.BaseStream, new UTF8Encoding(false), false, 1 << 20);
                while ((line = stdout.ReadLine()) != null)
                {
                    bytes += line.Length + 1;
                    if (line.StartsWith("public partial struct s", StringComparison.Ordinal)) declarations++;
                    if (line.Length > 0) last = line;
                }
                Assert.True(p.WaitForExit(600_000), "btfgen did not finish in 10 minutes");
                sampler.Join();
                _out.WriteLine($"{bytes:N0} bytes of C# ({bytes / (double)int.MaxValue:0.00} x 2^31), {declarations} structs, {sw.Elapsed.TotalSeconds:0.0} s, btfgen peak RSS {peakKb / 1024} MiB");
                Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {errTask.Result}");
                Assert.True(bytes > int.MaxValue, $"{bytes} bytes: the input should make more than 2^31 characters");
                Assert.Equal(Structs, declarations);
                Assert.Equal("}", last);
                // Streaming: beyond the plan, memory holds the largest type (~2 MB of text here), not the total (before: a
                // StringBuilder, which cannot pass 2^31 characters at all; x86_64-6.12's 123 MB took 340 MB of RSS, now 124 MB).
                Assert.True(peakKb > 0 && peakKb < 2560 * 1024, $"btfgen peak RSS {peakKb} KiB");
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
