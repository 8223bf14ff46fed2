using System;
using System.Collections.Generic;
using BtfBindings.Layout;

namespace BtfBindings.Objects
{
    /// <summary>
    /// Types only locals reach (libbpf-rs#1024): clang puts a type into the object's .BTF only when a global, a function
    /// signature or a CO-RE relocation uses it, so a ring-buffer record held in a local is missing there. Its DWARF has it, and
    /// the targets hand over pahole's BTF of that DWARF; this adds the named types found there and not in the object's .BTF
    /// to the object's plan. Types of the kernel BTF the program was compiled against are left out (vmlinux.h brings
    /// thousands; they are the kernel's, through [BtfTypes]). On a name clash the .BTF type wins.
    /// </summary>
    internal static class LocalTypes
    {
        public static void AddTo(LayoutPlan plan, Btf objectBtf, Btf types, Btf? kernel)
        {
            var have = DefinedNames(objectBtf);
            var wanted = new List<string>();
            foreach (var name in DefinedNames(types))
                if (!have.Contains(name) && (kernel == null || !Defines(kernel, name))) wanted.Add(name);
            if (wanted.Count == 0) return;
            wanted.Sort(StringComparer.Ordinal);

            LayoutPlan extra;
            try { extra = LayoutPlanner.Plan(types, wanted, null, out _); }
            catch (BtfException e) { plan.Warnings.Add("types only locals use (pahole's BTF of the object's DWARF) left out: " + e.Message); return; }

            var planned = new Dictionary<string, PlannedType>(StringComparer.Ordinal);
            foreach (var t in plan.Types) planned[t.Name] = t;
            foreach (var t in extra.Types)
            {
                if (planned.TryGetValue(t.Name, out var mine))
                {
                    if (mine.Size != t.Size)
                        plan.Warnings.Add($"'{t.Name}' is {mine.Size} bytes in the object's .BTF but {t.Size} in its DWARF; the .BTF layout is used");
                    continue;
                }
                // Its id is one of the DWARF BTF's: cleared so the skeleton's lookups by .BTF id never land on it.
                t.BtfId = 0;
                plan.Types.Add(t);
                planned[t.Name] = t;
            }
            var constants = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in plan.AnonymousEnumConstants) constants.Add(c.Name);
            foreach (var c in extra.AnonymousEnumConstants) if (constants.Add(c.Name)) plan.AnonymousEnumConstants.Add(c);
            plan.Warnings.AddRange(extra.Warnings);
        }

        /// <summary>Names of the named structs, unions and enums, and of typedefs of anonymous ones.</summary>
        private static HashSet<string> DefinedNames(Btf btf)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in btf.NamedTypes())
            {
                if (IsDefinable(t.Kind)) names.Add(t.Name);
                else if (t.Kind == BtfKind.Typedef)
                {
                    var target = btf[btf.Skip(t.Id)];
                    if (IsDefinable(target.Kind) && target.IsAnonymous) names.Add(t.Name);
                }
            }
            return names;
        }

        private static bool Defines(Btf btf, string name)
        {
            foreach (var t in btf.FindTypes(name)) if (IsDefinable(t.Kind) || t.Kind == BtfKind.Typedef) return true;
            return false;
        }

        private static bool IsDefinable(BtfKind k) => k == BtfKind.Struct || k == BtfKind.Union || k == BtfKind.Enum || k == BtfKind.Enum64;
    }
}
