using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>
    /// Compares Btf.ResolveSize / AlignOf / PointerSize with libbpf's btf__resolve_size / btf__align_of /
    /// btf__pointer_size, computed by tests/oracle/btf_oracle.c (built here with gcc -lbpf), for every type.
    /// </summary>
    public class LibbpfOracleTests
    {
        private readonly ITestOutputHelper _out;
        public LibbpfOracleTests(ITestOutputHelper output) { _out = output; }

        private sealed record OracleRow(int Id, long Size, int SizeErr, int Align, int AlignErr);

        private sealed record OracleResult(int Count, int First, int PointerSize, List<OracleRow> Rows);

        private static OracleResult RunOracle(string file, string? baseFile)
        {
            var p = ProcessRunner.Run(LibbpfOracles.Executable("btf_oracle"), baseFile != null ? [file, baseFile] : [file]);
            var rows = new List<OracleRow>();
            int count = -1, first = -1, ptr = -1;
            bool end = false;
            foreach (var line in p.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split(' ');
                switch (f[0])
                {
                    case "count": count = int.Parse(f[1], CultureInfo.InvariantCulture); break;
                    case "first": first = int.Parse(f[1], CultureInfo.InvariantCulture); break;
                    case "ptr": ptr = int.Parse(f[1], CultureInfo.InvariantCulture); break;
                    case "end": end = true; break;
                    default:
                        {
                            int id = int.Parse(f[0], CultureInfo.InvariantCulture);
                            long size = -1; int sizeErr = 0, align = -1, alignErr = 0;
                            if (f[1][0] == 'E') sizeErr = int.Parse(f[1].Substring(1), CultureInfo.InvariantCulture);
                            else size = long.Parse(f[1], CultureInfo.InvariantCulture);
                            if (f[2][0] == 'E') alignErr = int.Parse(f[2].Substring(1), CultureInfo.InvariantCulture);
                            else align = int.Parse(f[2], CultureInfo.InvariantCulture);
                            rows.Add(new OracleRow(id, size, sizeErr, align, alignErr));
                            break;
                        }
                }
            }
            Assert.True(p.ExitCode == 0 && end, "btf_oracle failed: " + p.Describe());
            return new OracleResult(count, first, ptr, rows);
        }

        public static IEnumerable<object[]> KernelData() => Tier.Rows(Fixtures.Kernels.Select(k => new object[] { k }));

        [Theory]
        [MemberData(nameof(KernelData))]
        public void Resolve_size_align_of_and_pointer_size_match_libbpf_on_kernels(string kernel)
        {
            var btf = BtfSupport.Kernel(kernel);
            var oracle = RunOracle(Fixtures.Path(kernel), null);
            int checkedTypes = Compare(btf, oracle, kernel);
            Assert.Equal(btf.TypeCount - 1, checkedTypes);
            if (kernel.StartsWith("armhf", StringComparison.Ordinal) || kernel.StartsWith("i686", StringComparison.Ordinal))
                Assert.Equal(4, btf.PointerSize);
            else
                Assert.Equal(8, btf.PointerSize);
        }

        public static IEnumerable<object[]> ModuleData() => Fixtures.Modules.Select(m => new object[] { m.module, m.baseKernel });

        [Theory]
        [MemberData(nameof(ModuleData))]
        public void Resolve_size_align_of_and_pointer_size_match_libbpf_on_split_modules(string module, string baseKernel)
        {
            var btf = BtfSupport.Module(module, baseKernel);
            var oracle = RunOracle(Fixtures.Path(module), Fixtures.Path(baseKernel));
            int checkedTypes = Compare(btf, oracle, module);
            Assert.Equal(btf.TypeCount - btf.FirstTypeId, checkedTypes);
        }

        public static IEnumerable<object[]> ObjectData() => Fixtures.Objects.Select(o => new object[] { o });

        /// <summary>
        /// ELF objects: libbpf's btf__parse takes the pointer size from the ELF class (ELFCLASS32 = 4) when it
        /// parses an ELF file, so a 32-bit object without a <c>long</c> type (elf32be-ppc.o) has 4-byte pointers.
        /// </summary>
        [Theory]
        [MemberData(nameof(ObjectData))]
        public void Resolve_size_align_of_and_pointer_size_match_libbpf_on_objects(string obj)
        {
            var btf = BtfSupport.Kernel(obj);
            var oracle = RunOracle(Fixtures.Path(obj), null);
            int checkedTypes = Compare(btf, oracle, obj);
            Assert.Equal(btf.TypeCount - 1, checkedTypes);
        }

        private int Compare(Btf btf, OracleResult oracle, string what)
        {
            Assert.Equal(oracle.Count, btf.TypeCount);
            Assert.Equal(oracle.First, btf.FirstTypeId);
            var mismatches = new List<string>();
            // libbpf's btf__pointer_size is 0 when it cannot tell; it then computes with sizeof(void *) = 8.
            if (oracle.PointerSize == 0)
            {
                if (btf.PointerSizeKnown) mismatches.Add($"pointer size: libbpf cannot tell, ours claims {btf.PointerSize}");
                if (btf.PointerSize != 8) mismatches.Add($"pointer size: libbpf uses 8 when unknown, ours {btf.PointerSize}");
            }
            else if (oracle.PointerSize != btf.PointerSize || !btf.PointerSizeKnown)
                mismatches.Add($"pointer size: libbpf {oracle.PointerSize}, ours {btf.PointerSize} (known={btf.PointerSizeKnown})");

            int sizeOk = 0, sizeErr = 0, alignOk = 0, alignErr = 0;
            foreach (var row in oracle.Rows)
            {
                var t = btf[row.Id];
                string label = $"[{row.Id}] {t.Kind} '{t.Name}'";
                long? ourSize = null; string? ourSizeErr = null;
                try { ourSize = btf.ResolveSize(row.Id); }
                catch (BtfException e) { ourSizeErr = e.Message; }
                if (row.SizeErr != 0)
                {
                    if (ourSize != null) mismatches.Add($"{label}: libbpf resolve_size fails (errno {row.SizeErr}), ours returns {ourSize}");
                    else sizeErr++;
                }
                else if (ourSize != row.Size)
                    mismatches.Add($"{label}: libbpf resolve_size {row.Size}, ours {(ourSize?.ToString(CultureInfo.InvariantCulture) ?? "error: " + ourSizeErr)}");
                else sizeOk++;

                int? ourAlign = null; string? ourAlignErr = null;
                try { ourAlign = btf.AlignOf(row.Id); }
                catch (BtfException e) { ourAlignErr = e.Message; }
                if (row.AlignErr != 0)
                {
                    if (ourAlign != null && ourAlign > 0) mismatches.Add($"{label}: libbpf align_of fails (errno {row.AlignErr}), ours returns {ourAlign}");
                    else alignErr++;
                }
                else if (ourAlign != row.Align)
                    mismatches.Add($"{label}: libbpf align_of {row.Align}, ours {(ourAlign?.ToString(CultureInfo.InvariantCulture) ?? "error: " + ourAlignErr)}");
                else alignOk++;
            }
            _out.WriteLine($"{what}: {oracle.Rows.Count} types checked; resolve_size {sizeOk} equal + {sizeErr} error/error; align_of {alignOk} equal + {alignErr} error/error; libbpf pointer size {oracle.PointerSize}, ours {btf.PointerSize}");
            Assert.True(mismatches.Count == 0, $"{what}: {mismatches.Count} mismatches with libbpf, first ones:\n" + string.Join("\n", mismatches.Take(25)));
            return oracle.Rows.Count;
        }
    }
}
