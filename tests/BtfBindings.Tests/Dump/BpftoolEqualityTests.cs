using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Cli;
using BtfBindings.Dump;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Dump
{
    /// <summary>
    /// BtfRawDump against bpftool 7.1 (libbpf 1.1) as the independent oracle: the text form must be byte-identical
    /// to <c>bpftool btf dump file X [-B BASE] format raw</c>, the JSON form structurally equal to <c>bpftool -j …</c>.
    /// </summary>
    public class BpftoolEqualityTests
    {
        public static IEnumerable<object[]> AllFixtures() => Tier.Rows(AllAllFixtures());

        private static IEnumerable<object[]> AllAllFixtures()
        {
            foreach (var k in Fixtures.Kernels) yield return new object[] { k };
            foreach (var m in Fixtures.Modules) yield return new object[] { m.module };
            foreach (var o in Fixtures.Objects) yield return new object[] { o };
        }

        [Theory]
        [MemberData(nameof(AllFixtures))]
        public void Text_dump_is_byte_identical_to_bpftool(string fixture)
        {
            var expected = BtfSupport.BpftoolDump(fixture, json: false);
            var btf = BtfSupport.AnyFixture(fixture);
            var actual = BtfSupport.Text(btf);
            BtfSupport.AssertSameText(expected, actual, fixture);

            // Type counts and (for split BTF) the numbering of the first own type agree with bpftool.
            Assert.Equal(BtfSupport.CountTypeLines(expected), btf.TypeCount - btf.FirstTypeId);
            Assert.Equal(BtfSupport.FirstDumpedId(expected), btf.FirstTypeId);
        }

        [Theory]
        [MemberData(nameof(AllFixtures))]
        public void Json_dump_is_structurally_equal_to_bpftool(string fixture)
        {
            var expected = BtfSupport.BpftoolDump(fixture, json: true);
            var actual = BtfSupport.Json(BtfSupport.AnyFixture(fixture));
            AssertJsonEqual(expected, actual, fixture);
        }

        [Fact]
        public void Cli_dump_json_matches_bpftool()
        {
            const string fixture = "x86_64-5.10";
            var expected = BtfSupport.BpftoolDump(fixture, json: true);
            var stdout = new MemoryStream();
            var stderr = new StringWriter();
            int rc = BtfGenCommand.Run(new[] { "dump", Fixtures.Path(fixture), "--format", "json" }, stdout, stderr);
            Assert.True(rc == 0, $"btfgen dump exited {rc}: {stderr}");
            AssertJsonEqual(expected, stdout.ToArray(), "btfgen dump --format json " + fixture);
        }

        [Fact]
        public void Cli_dump_raw_of_module_with_base_matches_bpftool()
        {
            var (module, baseKernel) = Fixtures.Modules[2]; // s390x qeth: big-endian ELF64 split BTF
            var expected = BtfSupport.BpftoolDump(module, json: false);
            var stdout = new MemoryStream();
            var stderr = new StringWriter();
            int rc = BtfGenCommand.Run(new[] { "dump", Fixtures.Path(module), "--base", Fixtures.Path(baseKernel) }, stdout, stderr);
            Assert.True(rc == 0, $"btfgen dump exited {rc}: {stderr}");
            BtfSupport.AssertSameText(expected, stdout.ToArray(), "btfgen dump " + module);
        }

        [Fact]
        public void Cli_reports_bad_input_with_exit_code_2_and_message()
        {
            using var tmp = new TempDir();
            var bad = tmp.File("bad.btf");
            File.WriteAllBytes(bad, new byte[] { 0x9f, 0xeb, 1, 0, 24, 0, 0 }); // magic, then a truncated header
            var stdout = new MemoryStream();
            var stderr = new StringWriter();
            int rc = BtfGenCommand.Run(new[] { "dump", bad }, stdout, stderr);
            Assert.Equal(2, rc);
            Assert.Contains("bad.btf", stderr.ToString());
            Assert.Contains("header", stderr.ToString());
        }

        private static void AssertJsonEqual(byte[] expected, byte[] actual, string what)
        {
            using var e = JsonDocument.Parse(expected, new JsonDocumentOptions { MaxDepth = 16 });
            using var a = JsonDocument.Parse(actual, new JsonDocumentOptions { MaxDepth = 16 });
            var types = e.RootElement.GetProperty("types");
            Assert.True(types.GetArrayLength() > 0, what + ": bpftool printed no types");
            var diff = BtfSupport.JsonDiff(e.RootElement, a.RootElement, "$");
            Assert.True(diff == null, $"{what}: JSON differs from bpftool -j at {diff}");
        }
    }
}
