using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace BtfBindings.Compatibility
{
    /// <summary>
    /// The one classification rule. It asks the runtime's by-name CO-RE API (<see cref="TargetKernel.ResolveField"/>,
    /// <see cref="TargetKernel.Resolve(string, Btf)"/>, <see cref="TargetKernel.ResolveEnum(string, Btf)"/>) what a view
    /// would get on the target, and the same API on the build-time BTF what the generated code was compiled with, and
    /// compares: no matching rule of its own, so the build-time report and the run never disagree.
    /// </summary>
    internal static class CompatibilityRule
    {
        // The build-time BTF as a "kernel" of its own: its relocations are what the generated plain structs hard-code.
        private static readonly ConditionalWeakTable<Btf, TargetKernel> BuildKernels = new ConditionalWeakTable<Btf, TargetKernel>();

        private static TargetKernel BuildKernel(Btf buildTime) => BuildKernels.GetValue(buildTime, b => new TargetKernel(b, "build-time BTF " + b.SourceName));

        /// <summary>Checks that <paramref name="buildTime"/> has what <paramref name="use"/> names (before any target is loaded).</summary>
        /// <exception cref="CompatUseException">It does not; the message names the BTF.</exception>
        public static void Validate(CompatUse use, Btf buildTime) => Classify(BuildKernel(buildTime), use, buildTime);

        /// <summary>
        /// The verdict on <paramref name="use"/> in <paramref name="target"/> for code generated from <paramref name="buildTime"/>.
        /// </summary>
        /// <exception cref="CompatUseException">The use names a type, member or enumerator <paramref name="buildTime"/> lacks (the message names the BTF).</exception>
        public static CompatResult Classify(TargetKernel target, CompatUse use, Btf buildTime)
        {
            ArgumentNullException.ThrowIfNull(target);
            ArgumentNullException.ThrowIfNull(use);
            ArgumentNullException.ThrowIfNull(buildTime);
            if (!target.IsPortable) return new CompatResult(CompatVerdict.Missing, "the target has no BTF: " + target.NonPortableReason);
            try
            {
                return use.Kind switch
                {
                    CompatUseKind.Field => ClassifyField(target, use, buildTime),
                    CompatUseKind.EnumValue => ClassifyEnumValue(target, use, buildTime),
                    _ => ClassifyType(target, use, buildTime),
                };
            }
            // TargetKernel's look-ups say "not in the build-time BTF" with an ArgumentException naming their parameter;
            // to the user that is their use, said without the parameter.
            catch (ArgumentException e) when (e is not CompatUseException and not ArgumentNullException)
            {
                string suffix = e.ParamName != null ? $" (Parameter '{e.ParamName}')" : "";
                string message = suffix.Length > 0 && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message.Substring(0, e.Message.Length - suffix.Length) : e.Message;
                throw new CompatUseException(message, e);
            }
        }

        private static CompatResult ClassifyField(TargetKernel target, CompatUse use, Btf buildTime)
        {
            CoreFieldRelocation built;
            try { built = BuildKernel(buildTime).ResolveField(use.TypeName, use.Member!, buildTime); }
            catch (CoreException e) { return new CompatResult(CompatVerdict.Ambiguous, "the build-time BTF itself is ambiguous: " + e.Message); }
            if (!built.Exists) throw new CompatUseException($"{use.Text} is not usable in the build-time BTF {buildTime.SourceName}: {built.Problem}");

            CoreFieldRelocation r;
            try { r = target.ResolveField(use.TypeName, use.Member!, buildTime); }
            catch (CoreException e) { return new CompatResult(CompatVerdict.Ambiguous, e.Summary ?? e.Message); }
            if (!r.Exists)
            {
                bool incompatible = r.Member?.HasIncompatibleType == true;
                return new CompatResult(incompatible ? CompatVerdict.Incompatible : CompatVerdict.Missing, r.Problem ?? "not found");
            }
            // What a view needs: a struct/union member only its offset (its own fields are decided in turn), a value all of
            // it; a plain read copies the build-time size, so it needs the size too.
            bool composite = r.Member?.Local.Kind is BtfFieldKind.Struct or BtfFieldKind.Union && !r.IsBitfield && use.Access != CompatAccess.Plain;
            var needed = composite ? CoreRelocationKinds.ByteOffset : CoreRelocationKinds.Value;
            if ((r.AmbiguousKinds & needed) != 0) return new CompatResult(CompatVerdict.Ambiguous, r.AmbiguitySummary ?? r.Problem ?? "ambiguous");
            if (r.ViewProblem != null && use.Access != CompatAccess.Plain) return new CompatResult(CompatVerdict.Ambiguous, r.ViewProblem);
            if (!r.IsLoadable) return new CompatResult(CompatVerdict.Incompatible, r.Problem ?? "the bitfield cannot be loaded");
            if (r.Member is { IsReadable: false } m) return new CompatResult(CompatVerdict.Incompatible, m.Problem ?? "cannot be read as the generated type");

            string where = Where(r);
            if (SamePlace(built, r, buildTime.IsBigEndian == target.IsBigEndian)) return new CompatResult(CompatVerdict.Ok, where);
            return new CompatResult(CompatVerdict.Moved, where + "; build time: " + Where(built));
        }

        // Whether a plain struct read compiled from the build-time layout reads this target's field: same bytes (plain
        // fields are read in the machine's own byte order, so the target's order does not matter), or for bitfields the
        // same bits in the same byte order.
        private static bool SamePlace(CoreFieldRelocation built, CoreFieldRelocation r, bool sameByteOrder)
        {
            if (built.IsBitfield || r.IsBitfield)
                return built.IsBitfield == r.IsBitfield && built.BitOffset == r.BitOffset && built.BitSize == r.BitSize && sameByteOrder;
            return built.ByteOffset == r.ByteOffset && built.ByteSize == r.ByteSize;
        }

        private static string Where(CoreFieldRelocation r) => r.IsBitfield
            ? string.Format(CultureInfo.InvariantCulture, "bits {0}..{1} ({2} bits)", r.BitOffset, r.BitOffset + r.BitSize - 1, r.BitSize)
            : string.Format(CultureInfo.InvariantCulture, "offset {0}, size {1}", r.ByteOffset, r.ByteSize);

        private static CompatResult ClassifyEnumValue(TargetKernel target, CompatUse use, Btf buildTime)
        {
            CoreEnumResolution local, there;
            try { local = BuildKernel(buildTime).ResolveEnum(use.TypeName, buildTime); }
            catch (CoreException e) { return new CompatResult(CompatVerdict.Ambiguous, "the build-time BTF itself is ambiguous: " + e.Message); }
            ulong? built = Lookup(local, use, buildTime);
            try { there = target.ResolveEnum(use.TypeName, buildTime); }
            catch (CoreException e) { return new CompatResult(CompatVerdict.Ambiguous, e.Message); }
            if (there.Target == null)
                return new CompatResult(CompatVerdict.Missing, $"the kernel has no enum {FlavorRules.EssentialName(use.TypeName)} with any of the build-time enumerators");
            ulong? v = there[use.Member!];
            if (!v.HasValue) return new CompatResult(CompatVerdict.Missing, $"{target.Describe(there.Target.Value)} has no enumerator {use.Member}");
            string val = Show(v.Value, there.Local.IsSigned);
            return v == built ? new CompatResult(CompatVerdict.Ok, "value " + val)
                : new CompatResult(CompatVerdict.Moved, $"value {val}; build time: {(built.HasValue ? Show(built.Value, local.Local.IsSigned) : "missing")}");
        }

        private static ulong? Lookup(CoreEnumResolution local, CompatUse use, Btf buildTime)
        {
            foreach (var kv in local.Local.EnumValues)
                if (kv.Key == use.Member) return local[use.Member!];
            throw new CompatUseException($"enum {use.TypeName} in the build-time BTF {buildTime.SourceName} has no enumerator {use.Member}");
        }

        private static string Show(ulong v, bool signed) => signed ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

        private static CompatResult ClassifyType(TargetKernel target, CompatUse use, Btf buildTime)
        {
            var layout = TargetKernel.LocalLayoutsOf(buildTime, use.TypeName);
            bool isEnum = use.TypeKeyword == "enum" || IsEnumRoot(layout, use.TypeName) && use.TypeKeyword.Length == 0;
            try
            {
                if (isEnum)
                {
                    var e = target.ResolveEnum(use.TypeName, buildTime);
                    return e.Target == null
                        ? new CompatResult(CompatVerdict.Missing, $"the kernel has no enum {FlavorRules.EssentialName(use.TypeName)} with any of the build-time enumerators")
                        : new CompatResult(CompatVerdict.Ok, target.Describe(e.Target.Value));
                }
                var res = target.Resolve(use.TypeName, buildTime);
                if (res.Candidates.Count == 0)
                    return new CompatResult(CompatVerdict.Missing, $"the kernel has no {(res.Local.Kind == BtfKind.Union ? "union" : "struct")} named {FlavorRules.EssentialName(use.TypeName)} (or a ___flavor of it)");
                if (res.SizeAmbiguity != null) return new CompatResult(CompatVerdict.Ambiguous, res.SizeAmbiguity);
                string size = "size " + res.Size.ToString(CultureInfo.InvariantCulture);
                return res.Size == res.Local.Size ? new CompatResult(CompatVerdict.Ok, size)
                    : new CompatResult(CompatVerdict.Moved, size + "; build time: size " + res.Local.Size.ToString(CultureInfo.InvariantCulture));
            }
            catch (CoreException e) { return new CompatResult(CompatVerdict.Ambiguous, e.Message); }
        }

        private static bool IsEnumRoot(PlannedLayouts layouts, string name)
        {
            bool composite = false, enumeration = false;
            foreach (var kv in layouts.All)
            {
                if (kv.Key.IsNested || kv.Value.BtfName != name) continue;
                if (kv.Value.Kind is BtfKind.Enum or BtfKind.Enum64) enumeration = true; else composite = true;
            }
            return enumeration && !composite; // a struct wins over a same-named enum, as TargetKernel.Resolve(string, Btf) picks it
        }
    }
}
