using System;
using System.Collections.Generic;
using System.Linq;
using BtfBindings.Tests.Cli;
using Xunit;
using Xunit.Sdk;

namespace BtfBindings.Tests.Support
{
    /// <summary>
    /// Two tiers. The fast tier (<c>dotnet test BtfBindings.sln -c Release</c>) is unit, snapshot and small-fixture tests
    /// and one kernel pair; the full tier (<c>BTFBINDINGS_TIER=full</c>, what <c>.ci/run</c> sets) adds every kernel and
    /// pair, the mutation fuzzing, the packages built and installed the way users do, the language server and the live
    /// kernel. A full-tier test in a fast run is reported skipped, with how to run it.
    /// </summary>
    public static class Tier
    {
        /// <summary>True when the full tier runs.</summary>
        public static bool Full { get; } = string.Equals(Environment.GetEnvironmentVariable("BTFBINDINGS_TIER"), "full", StringComparison.OrdinalIgnoreCase);

        /// <summary>Why a full-tier test did not run.</summary>
        public const string SkipReason = "full tier: run with BTFBINDINGS_TIER=full (.ci/run does)";

        /// <summary>The fast tier's kernels: one pair (x86_64 6.12 and 5.10).</summary>
        public static readonly string[] FastKernels = { "x86_64-6.12", "x86_64-5.10" };

        /// <summary>
        /// Theory rows for this tier: all of them in the full tier; in the fast tier the rows whose fixture kernels are all
        /// in <see cref="FastKernels"/> (rows naming no fixture kernel stay).
        /// </summary>
        public static IEnumerable<object[]> Rows(IEnumerable<object[]> rows)
        {
            foreach (var r in rows)
                if (Full || r.OfType<string>().All(a => Array.IndexOf(Fixtures.Kernels, a) < 0 || Array.IndexOf(FastKernels, a) >= 0))
                    yield return r;
        }
    }

    /// <summary>A <see cref="FactAttribute"/> of the full tier.</summary>
    public sealed class FullFactAttribute : FactAttribute
    {
        public FullFactAttribute() { if (!Tier.Full) Skip = Tier.SkipReason; }
    }

    /// <summary>A <see cref="TheoryAttribute"/> of the full tier.</summary>
    public sealed class FullTheoryAttribute : TheoryAttribute
    {
        public FullTheoryAttribute() { if (!Tier.Full) Skip = Tier.SkipReason; }
    }

    /// <summary>A <see cref="SkippableFactAttribute"/> (may skip itself at run time) of the full tier.</summary>
    [XunitTestCaseDiscoverer("BtfBindings.Tests.Support.SkippableFactDiscoverer", "BtfBindings.Tests")]
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class FullSkippableFactAttribute : FactAttribute
    {
        public FullSkippableFactAttribute() { if (!Tier.Full) Skip = Tier.SkipReason; }
    }
}
