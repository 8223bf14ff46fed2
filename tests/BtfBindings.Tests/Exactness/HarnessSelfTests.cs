
using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Tests.Support;
using Xunit;
using GBtf = BtfBindings.Btf;
using GEmitOptions = BtfBindings.Emit.EmitOptions;
using GEmitter = BtfBindings.Emit.CSharpEmitter;
using GPlanner = BtfBindings.Layout.LayoutPlanner;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>The exactness harness is not vacuous: the same check that passes on the emitter's output fails on output with a wrong offset, size or bit position.</summary>
    [Collection(ExactnessCollection.Name)]
    public class HarnessSelfTests
    {
        [Fact]
        public void Tampered_layout_is_caught()
        {
            const string kernel = "x86_64-6.12";
            var path = Fixtures.Path(kernel);
            var truth = new BpftoolLayoutTruth(path);
            var plan = GPlanner.Plan(GBtf.Load(path), new[] { "iphdr", "tcphdr" }, null, out var unknown);
            Assert.Empty(unknown);
            var files = new GEmitter(plan, new GEmitOptions { Namespace = "K", SourceLabel = kernel + ".btf" }).Emit()
                .Select(f => (f.HintName, f.Text)).ToList();

            // Control: the emitter's own output passes.
            var clean = ExactnessHarness.Run(kernel + "_clean", truth, plan, files.ToList(), bigEndian: false, requireAllNamed: false);
            Assert.True(clean.Mismatches.Count == 0 && clean.GeneratedErrors.Count == 0 && clean.CheckerErrors.Count == 0,
                "control run: " + string.Join("\n", clean.Mismatches) + TestCompilation.Describe(clean.GeneratedErrors.Concat(clean.CheckerErrors)));
            Assert.True(clean.Fields > 10 && clean.Bitfields >= 10, $"control run checked {clean.Fields} fields, {clean.Bitfields} bitfields");

            // Three lies: iphdr.daddr one byte late, tcphdr four bytes too big, tcphdr.doff one bit early.
            string Tamper(string hint, string text)
            {
                if (hint.EndsWith("iphdr.g.cs", StringComparison.Ordinal) && !hint.Contains("tcp")) return ReplaceOnce(text, "FieldOffset(16)] public uint daddr;", "FieldOffset(17)] public uint daddr;");
                if (hint.EndsWith("tcphdr.g.cs", StringComparison.Ordinal)) return ReplaceOnce(text, "Size = 20,", "Size = 24,").Replace(", 100, 4, false", ", 99, 4, false");
                return text;
            }
            var tampered = files.Select(f => (f.HintName, Tamper(f.HintName, f.Text))).ToList();
            var bad = ExactnessHarness.Run(kernel + "_tampered", truth, plan, tampered, bigEndian: false, requireAllNamed: false);
            Assert.Empty(bad.GeneratedErrors);
            var all = string.Join("\n", bad.Mismatches);
            Assert.Contains("K.iphdr (BTF id", all);
            Assert.Contains(".daddr: runtime offset 17, BTF offset 16", all);
            Assert.Contains("Unsafe.SizeOf = 21, BTF size 20", all); // the CLR grows an explicit struct to hold a field past its Size
            Assert.Contains("K.tcphdr (BTF id", all);
            Assert.Contains("Unsafe.SizeOf = 24, BTF size 20", all);
            Assert.Contains(".doff (Unsigned ushort, bits 100+4): writing the maximum on zeros set bits [99,100,101,102], expected [100,101,102,103]", all);
            Assert.Contains(".doff (Unsigned ushort, bits 100+4): writing 0 on ones cleared bits [99,100,101,102], expected [100,101,102,103]", all);
            Assert.True(bad.Mismatches.Count == 5, "expected exactly 5 mismatches:\n" + all);
        }

        /// <summary>
        /// The scalar-type and anonymous-enum-constant checks are not vacuous: on the emitter's output they pass; with an unsigned
        /// field made signed, a signed enum given an unsigned underlying type, an anonymous-enum field made signed and a
        /// constant off by one, each is caught, and nothing else.
        /// </summary>
        [Fact]
        public void Tampered_scalar_types_and_constants_are_caught()
        {
            const string kernel = "x86_64-6.12";
            var path = Fixtures.Path(kernel);
            var truth = new BpftoolLayoutTruth(path);
            // iphdr: __be16 tot_len (unsigned short); cpu_down_work: enum cpuhp_state target (SIGNED, CPUHP_INVALID = -1);
            // bpf_test_timer: enum { NO_PREEMPT, NO_MIGRATE } mode (anonymous, UNSIGNED): a uint field and two constants.
            var plan = GPlanner.Plan(GBtf.Load(path), new[] { "iphdr", "cpu_down_work", "bpf_test_timer" }, null, out var unknown);
            Assert.Empty(unknown);
            var files = new GEmitter(plan, new GEmitOptions { Namespace = "K", SourceLabel = kernel + ".btf" }).Emit()
                .Select(f => (f.HintName, f.Text)).ToList();

            var clean = ExactnessHarness.Run(kernel + "_types_clean", truth, plan, files.ToList(), bigEndian: false, requireAllNamed: false);
            Assert.True(clean.Mismatches.Count == 0 && clean.GeneratedErrors.Count == 0 && clean.CheckerErrors.Count == 0,
                "control run: " + string.Join("\n", clean.Mismatches) + TestCompilation.Describe(clean.GeneratedErrors.Concat(clean.CheckerErrors)));
            Assert.True(clean.ScalarFields > 10, $"control run checked {clean.ScalarFields} scalar fields");
            Assert.True(clean.Constants >= 2 && clean.ReachedAnonymousEnums >= 1, $"control run checked {clean.Constants} constants, {clean.ReachedAnonymousEnums} anonymous enums");

            string Tamper(string hint, string text)
            {
                if (hint.EndsWith(".iphdr.g.cs", StringComparison.Ordinal) || hint == "iphdr.g.cs") return ReplaceOnce(text, "public ushort tot_len;", "public short tot_len;");
                if (hint.EndsWith("cpuhp_state.g.cs", StringComparison.Ordinal)) return ReplaceOnce(text, "enum cpuhp_state : int", "enum cpuhp_state : uint").Replace("unchecked((int)", "unchecked((uint)", StringComparison.Ordinal);
                if (hint.EndsWith("bpf_test_timer.g.cs", StringComparison.Ordinal)) return ReplaceOnce(text, "public uint mode;", "public int mode;");
                if (hint.EndsWith("BtfConstants.g.cs", StringComparison.Ordinal)) return ReplaceOnce(text, "public const int NO_MIGRATE = 1;", "public const int NO_MIGRATE = 2;");
                return text;
            }
            var tampered = files.Select(f => (f.HintName, Tamper(f.HintName, f.Text))).ToList();
            var bad = ExactnessHarness.Run(kernel + "_types_tampered", truth, plan, tampered, bigEndian: false, requireAllNamed: false);
            Assert.Empty(bad.GeneratedErrors);
            var all = string.Join("\n", bad.Mismatches);
            Assert.Contains("K.iphdr (BTF id", all);
            Assert.Contains(".tot_len: C# Int16, BTF short unsigned int (INT 2B (none)) calls for UInt16", all);
            Assert.Contains(".target: C# enum cpuhp_state : UInt32, BTF enum cpuhp_state (ENUM 4B SIGNED) calls for underlying Int32", all);
            Assert.Contains(".mode: C# Int32, BTF enum (anon) (ENUM 4B UNSIGNED) calls for UInt32", all);
            Assert.Contains("K.BtfConstants.NO_MIGRATE: C# Int32 2, bpftool 1 (ENUM id", all);
            // The enumerator values follow the underlying type: CPUHP_INVALID = -1 became 4294967295.
            Assert.Contains("enum cpuhp_state.CPUHP_INVALID: C# 4294967295, bpftool -1 (ENUM id", all);
            Assert.True(bad.Mismatches.Count == 5, "expected exactly 5 mismatches:\n" + all);
        }

        private static string ReplaceOnce(string text, string what, string with)
        {
            int i = text.IndexOf(what, StringComparison.Ordinal);
            Assert.True(i >= 0, "tamper target not found: " + what);
            return text.Substring(0, i) + with + text.Substring(i + what.Length);
        }
    }
}
