using System;
using System.Linq;
using BtfBindings.Layout;

namespace BtfBindings.Cli.Layout
{
    /// <summary>Finds the planned type a user's name denotes (the plan also holds the requested types' closure).</summary>
    internal static class PlanLookup
    {
        public static PlannedType? Find(LayoutPlan plan, Btf btf, string name)
        {
            var direct = plan.Types.FirstOrDefault(t => t.Kind != PlannedKind.Opaque && t.Name == name)
                ?? plan.Types.FirstOrDefault(t => t.Kind != PlannedKind.Opaque && t.BtfName == name);
            if (direct != null) return direct;
            foreach (var td in btf.FindTypes(name, BtfKind.Typedef))
            {
                int target;
                try { target = btf.Skip(td.Id); } catch (BtfException) { continue; }
                var hit = plan.Types.FirstOrDefault(t => t.BtfId == target);
                if (hit != null) return hit;
            }
            return plan.Types.FirstOrDefault(t => t.Name == name);
        }
    }
}
