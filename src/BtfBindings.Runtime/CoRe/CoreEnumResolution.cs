using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>A generated enum resolved against a kernel: each enumerator's target value, or null when the kernel lacks it.</summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class CoreEnumResolution
    {
        internal CoreEnumResolution(BtfTypeLayout local, string kernel, BtfType? target, ulong?[] values, IReadOnlyList<string> candidates, bool verified)
        {
            Local = local; KernelName = kernel; Target = target; Values = values; Candidates = candidates; IsVerified = verified;
        }

        /// <summary>The generated enum.</summary>
        public BtfTypeLayout Local { get; }
        /// <summary>The target kernel.</summary>
        public string KernelName { get; }
        /// <summary>The target enum the values come from, or null.</summary>
        public BtfType? Target { get; }
        /// <summary>Per local enumerator (in <see cref="BtfTypeLayout.EnumValues"/> order): the target's raw value, or null.</summary>
        public IReadOnlyList<ulong?> Values { get; }
        /// <summary>The candidates considered.</summary>
        public IReadOnlyList<string> Candidates { get; }
        /// <summary>False in non-portable mode.</summary>
        public bool IsVerified { get; }

        /// <summary>The target value of the enumerator named <paramref name="name"/> (essential-name match), or null.</summary>
        public ulong? this[string name]
        {
            get
            {
                for (int i = 0; i < Local.EnumValues.Count; i++)
                    if (Local.EnumValues[i].Key == name) return IsVerified ? Values[i] : Local.EnumValues[i].Value;
                throw new KeyNotFoundException($"enum {Local.BtfName} has no enumerator {name} in the generated type");
            }
        }
    }

#if !BTFBINDINGS_GENERATOR // generated enums exist only at run time
    /// <summary>
    /// A generated enum <typeparamref name="T"/> resolved against a kernel: the kernel's value of each enumerator, by name
    /// (C# enum values are numbers, so a value maps to every enumerator that had it at build time; those must agree).
    /// </summary>
    internal readonly struct CoreEnumResolution<T> where T : unmanaged, Enum
    {
        internal CoreEnumResolution(CoreEnumResolution untyped) { Untyped = untyped; }

        /// <summary>The name-based resolution (raw values).</summary>
        public CoreEnumResolution Untyped { get; }

        /// <summary>The target enum, or null when the kernel has none matching.</summary>
        public BtfType? Target => Untyped.Target;

        /// <summary>True when there was kernel BTF to resolve against.</summary>
        public bool IsVerified => Untyped.IsVerified;

        /// <summary>True when the kernel has an enumerator named like the one(s) with build-time value <paramref name="value"/>.</summary>
        public bool Exists(T value) => Lookup(value, out _, throwOnConflict: false) != Found.Missing;

        /// <summary>The kernel's raw value for <paramref name="value"/>'s enumerator, or null when it lacks it.</summary>
        public ulong? RawValueOf(T value) => Lookup(value, out var raw, throwOnConflict: true) == Found.Missing ? (ulong?)null : raw;

        /// <summary>The kernel's value for <paramref name="value"/>'s enumerator; false when the kernel lacks it.</summary>
        /// <exception cref="OverflowException">The kernel's value does not fit <typeparamref name="T"/>.</exception>
        public bool TryGetValue(T value, out T targetValue)
        {
            targetValue = default;
            if (Lookup(value, out var raw, throwOnConflict: true) == Found.Missing) return false;
            if (!BtfEnum<T>.TryFromRaw(raw, Untyped.Local.IsSigned, out targetValue))
                throw new OverflowException($"{Describe(value)} is {raw} in kernel {Untyped.KernelName}, which does not fit {typeof(T).Name}'s {Untyped.Local.Size}-byte underlying type");
            return true;
        }

        /// <summary>The kernel's value for <paramref name="value"/>'s enumerator.</summary>
        /// <exception cref="CoreFieldException">The kernel lacks it.</exception>
        public T ValueOf(T value)
        {
            if (TryGetValue(value, out var t)) return t;
            var l = Untyped.Local;
            string why = Untyped.Target == null
                ? $"the kernel has no enum {FlavorRules.EssentialName(l.BtfName)} (or a ___flavor of it) with any of the generated enumerators"
                : $"{CoreResolverNames(Untyped.Target.Value)} has no enumerator {string.Join(" or ", Names(value))}";
            throw new CoreFieldException($"enum {l.BtfName}: {Describe(value)} does not exist in kernel {Untyped.KernelName}: {why}. Candidates: {(Untyped.Candidates.Count == 0 ? "none" : string.Join("; ", Untyped.Candidates))}",
                l.BtfName, string.Join("/", Names(value)), Untyped.KernelName, Untyped.Candidates, why);
        }

        /// <summary>The kernel's value of the enumerator named <paramref name="enumerator"/> (for aliases whose build-time values coincide).</summary>
        public ulong? RawValueOf(string enumerator) => Untyped[enumerator];

        private static string CoreResolverNames(BtfType t) => $"[{t.Id}] {t.Kind.ToString().ToUpperInvariant()} '{t.Name}'";

        private enum Found { Missing, Value }

        private System.Collections.Generic.List<string> Names(T value)
        {
            var l = Untyped.Local;
            ulong raw = BtfEnum<T>.ToRaw(value, l.IsSigned);
            var names = new System.Collections.Generic.List<string>();
            foreach (var kv in l.EnumValues) if (kv.Value == raw) names.Add(kv.Key);
            return names;
        }

        private string Describe(T value)
        {
            var names = Names(value);
            return names.Count == 0 ? $"value {BtfEnum<T>.ToRaw(value, Untyped.Local.IsSigned)} (no enumerator has it at build time)" : string.Join("/", names);
        }

        private Found Lookup(T value, out ulong targetRaw, bool throwOnConflict)
        {
            var l = Untyped.Local;
            ulong raw = BtfEnum<T>.ToRaw(value, l.IsSigned);
            targetRaw = 0;
            string? first = null;
            for (int i = 0; i < l.EnumValues.Count; i++)
            {
                if (l.EnumValues[i].Value != raw) continue;
                ulong? v = Untyped.IsVerified ? Untyped.Values[i] : raw;
                if (!v.HasValue) continue;
                if (first == null) { first = l.EnumValues[i].Key; targetRaw = v.Value; }
                else if (v.Value != targetRaw && throwOnConflict)
                    throw new CoreException(
                        $"enum {l.BtfName}: {first} and {l.EnumValues[i].Key} share build-time value {raw} but are {targetRaw} and {v.Value} in kernel {Untyped.KernelName}; ask by name (TargetKernel.ResolveEnum(layout)[name])",
                        l.BtfName, Untyped.KernelName, Untyped.Candidates, first);
            }
            return first == null ? Found.Missing : Found.Value;
        }
    }
#endif
}
