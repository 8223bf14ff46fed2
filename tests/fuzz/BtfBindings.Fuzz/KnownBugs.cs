using System;
using System.Collections.Generic;
using BtfBindings;

namespace BtfFuzz
{
    /// <summary>
    /// Inputs that hit a bug already found, committed under tests/fuzz/regressions and reported, in code this branch may
    /// not change. While it is open the harnesses skip the call that hits it, so a fuzzing run finds new bugs instead of
    /// the same one thousands of times (a stack overflow costs AFL seconds per execution). BTFFUZZ_KNOWN_BUGS=1 turns
    /// the filters off (the replay of tests/fuzz/regressions always runs with them off).
    /// </summary>
    public static class KnownBugs
    {
        public static bool Enabled = Environment.GetEnvironmentVariable("BTFFUZZ_KNOWN_BUGS") != "1";

        /// <summary>
        /// LayoutPlanner recursion through anonymous structs/unions is unbounded (regressions/btf/planner-anon-struct-contains-itself.btf):
        /// Shape -> BuildComposite -> Flatten -> MakeField -> Shape restarts its depth at 0, so an anonymous composite that
        /// contains itself by value (or a very deep chain of them) overflows the stack. True when planning
        /// <paramref name="btf"/> would: a by-value cycle through anonymous composites, or anonymous nesting deeper than 100.
        /// </summary>
        public static bool PlannerAnonymousRecursion(Btf btf)
        {
            bool hit = PlannerRecursionIn(btf);
            if (Contract.Trace) Console.Error.WriteLine($"[trace] known bug: planner anonymous recursion: {hit}{(Enabled ? "" : " (filter off)")}");
            return Enabled && hit;
        }

        private static bool PlannerRecursionIn(Btf btf)
        {
            var state = new Dictionary<int, int>(); // 1 = on the path, 2 = done (depth below it recorded in depthOf)
            var depthOf = new Dictionary<int, int>();
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
            {
                var k = btf[id].Kind;
                if ((k == BtfKind.Struct || k == BtfKind.Union) && Deep(btf, id, state, depthOf, 0)) return true;
            }
            return false;
        }

        // The planner recurses into a composite in two ways: an anonymous struct/union used by a named member becomes a
        // nested type (Shape -> BuildComposite, depth starts again), and any struct/union behind an anonymous member is
        // flattened into its parent (Flatten). A cycle along those edges, or a chain longer than 100, is the bug.
        private static bool Deep(Btf btf, int c, Dictionary<int, int> state, Dictionary<int, int> depthOf, int guard)
        {
            if (guard > 100) return true;
            if (state.TryGetValue(c, out int s)) return s == 1 || (depthOf[c] + guard > 100);
            state[c] = 1;
            var t = btf[c];
            int max = 0;
            for (int i = 0; i < t.Vlen; i++)
            {
                var member = t.GetMember(i);
                int m = Composite(btf, member.TypeId);
                if (m < 0 || !(member.IsAnonymous || btf[m].IsAnonymous)) continue;
                if (Deep(btf, m, state, depthOf, guard + 1)) return true;
                max = Math.Max(max, depthOf.TryGetValue(m, out int d) ? d + 1 : 1);
            }
            state[c] = 2;
            depthOf[c] = max;
            return false;
        }

        /// <summary>The struct/union a member of type <paramref name="id"/> holds by value (through typedefs, modifiers, arrays), or -1.</summary>
        private static int Composite(Btf btf, int id)
        {
            for (int hops = 0; hops < 64; hops++)
            {
                if (!btf.IsValidId(id) || id == 0) return -1;
                var t = btf[id];
                switch (t.Kind)
                {
                    case BtfKind.Struct: case BtfKind.Union: return id;
                    case BtfKind.Typedef: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.TypeTag:
                        id = t.TypeId; break;
                    case BtfKind.Array: id = t.ArrayElementTypeId; break;
                    default: return -1;
                }
            }
            return -1;
        }
    }
}
