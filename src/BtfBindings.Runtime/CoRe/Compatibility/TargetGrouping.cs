using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace BtfBindings.Compatibility
{
    /// <summary>
    /// Names a subset of the targets the way a message should: ranges over the version-sorted targets of each
    /// architecture, with the count (<c>5.4–5.13 (12 of 40 targets)</c>). A range is named by major.minor when its ends
    /// are whole kernel lines (no target of the same line just outside it), else by the releases at its ends, so a name
    /// never covers a target it does not mean. Plain string work (netstandard2.0: the analyzer links it).
    /// </summary>
    internal static class TargetGrouping
    {
        /// <summary>The order reports and groupings list targets in: by architecture, then kernel version, then path.</summary>
        public static int Compare(KernelTargetInfo a, KernelTargetInfo b)
        {
            int c = string.CompareOrdinal(a.Arch ?? "\uffff", b.Arch ?? "\uffff");
            if (c == 0) c = a.Version.CompareTo(b.Version);
            if (c == 0) c = string.CompareOrdinal(a.Release, b.Release);
            return c != 0 ? c : string.CompareOrdinal(a.Path, b.Path);
        }

        /// <summary>
        /// "5.4–5.13 (12 of 40 targets)"; with several architectures among <paramref name="targets"/>, each range is
        /// prefixed by its arch ("x86_64 5.4–5.13, aarch64 6.1 (3 of 40 targets)", "all aarch64" for every one of several); "all 40 targets" when all are selected.
        /// </summary>
        /// <param name="targets">Every target of the check.</param>
        /// <param name="selected">Per target (same order): whether it is in the subset.</param>
        public static string Describe(IReadOnlyList<KernelTargetInfo> targets, IReadOnlyList<bool> selected)
        {
            if (targets.Count != selected.Count) throw new ArgumentException("one flag per target", nameof(selected));
            int n = selected.Count(s => s);
            if (n == 0) return "no target";
            if (n == targets.Count) return n == 1 ? "the only target (" + targets[0].Label + ")" : "all " + n.ToString(CultureInfo.InvariantCulture) + " targets";
            var order = Enumerable.Range(0, targets.Count).OrderBy(i => i, Comparer<int>.Create((x, y) => Compare(targets[x], targets[y]))).ToArray();
            bool manyArches = targets.Select(t => t.Arch).Distinct().Count() > 1;
            var parts = new List<string>();
            foreach (var arch in order.GroupBy(i => targets[i].Arch))
            {
                var list = arch.ToArray();
                var ranges = new List<string>();
                int inArch = 0;
                for (int k = 0; k < list.Length; k++)
                {
                    if (!selected[list[k]]) continue;
                    int end = k;
                    while (end + 1 < list.Length && selected[list[end + 1]]) end++;
                    inArch += end - k + 1;
                    ranges.Add(Range(targets, list, k, end));
                    k = end;
                }
                if (ranges.Count == 0) continue;
                string archName = arch.Key ?? "unknown arch";
                if (!manyArches) parts.AddRange(ranges);
                else if (inArch == list.Length && list.Length > 1) parts.Add("all " + archName);
                else parts.Add(archName + " " + string.Join(", ", ranges));
            }
            return string.Join(", ", parts) + " (" + n.ToString(CultureInfo.InvariantCulture) + " of " + targets.Count.ToString(CultureInfo.InvariantCulture) + " targets)";
        }

        // list[from..to] (indexes into targets, version-sorted within one arch) are selected; name the run.
        private static string Range(IReadOnlyList<KernelTargetInfo> targets, int[] list, int from, int to)
        {
            var first = targets[list[from]]; var last = targets[list[to]];
            bool wholeStart = first.Version.IsValid && (from == 0 || targets[list[from - 1]].Version.Short != first.Version.Short);
            bool wholeEnd = last.Version.IsValid && (to == list.Length - 1 || targets[list[to + 1]].Version.Short != last.Version.Short);
            if (from == to) return wholeStart && wholeEnd ? first.Version.Short : first.Release;
            string a = wholeStart ? first.Version.Short : first.Release;
            string b = wholeEnd ? last.Version.Short : last.Release;
            return a == b ? a : a + "\u2013" + b;
        }

        /// <summary>
        /// The sentence for one use across all targets: "'task_struct.pid' is missing on 5.4–5.13 (12 of 40 targets);
        /// moved on 6.1 (3 of 40 targets)"; "'x' is ok on all 40 targets". Verdicts in <see cref="CompatVerdict"/> order,
        /// <c>ok</c> only when nothing else is said.
        /// </summary>
        public static string Sentence(string useText, IReadOnlyList<KernelTargetInfo> targets, IReadOnlyList<CompatVerdict> verdicts)
        {
            if (targets.Count != verdicts.Count) throw new ArgumentException("one verdict per target", nameof(verdicts));
            var sb = new StringBuilder("'").Append(useText).Append("' is ");
            bool any = false;
            foreach (CompatVerdict v in new[] { CompatVerdict.Missing, CompatVerdict.Incompatible, CompatVerdict.Ambiguous, CompatVerdict.Moved })
            {
                var sel = verdicts.Select(x => x == v).ToArray();
                if (!sel.Any(s => s)) continue;
                if (any) sb.Append("; ");
                sb.Append(Name(v)).Append(" on ").Append(Describe(targets, sel));
                any = true;
            }
            if (!any) sb.Append("ok on ").Append(Describe(targets, verdicts.Select(_ => true).ToArray()));
            return sb.ToString();
        }

        /// <summary>The verdict's lower-case name, as reports print it.</summary>
        public static string Name(CompatVerdict v) => v switch
        {
            CompatVerdict.Ok => "ok",
            CompatVerdict.Moved => "moved",
            CompatVerdict.Missing => "missing",
            CompatVerdict.Incompatible => "incompatible",
            _ => "ambiguous",
        };
    }
}
