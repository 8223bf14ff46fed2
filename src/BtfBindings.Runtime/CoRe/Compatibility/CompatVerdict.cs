namespace BtfBindings.Compatibility
{
    /// <summary>The verdict on one use in one target kernel.</summary>
    internal enum CompatVerdict
    {
        /// <summary>Present where the build-time BTF has it: any read works.</summary>
        Ok,
        /// <summary>Present and compatible at another offset, bit window, size or value: fine through a view (or ValueOf), wrong for a plain struct read (or a constant).</summary>
        Moved,
        /// <summary>The type, field or enumerator is absent.</summary>
        Missing,
        /// <summary>Present under the name but unusable: its type changed kind (libbpf's field rule), or its value cannot be read as the generated type.</summary>
        Incompatible,
        /// <summary>Several same-named target types disagree (libbpf refuses to relocate).</summary>
        Ambiguous,
    }

    /// <summary>A verdict and one line saying why, in the target's terms.</summary>
    internal readonly struct CompatResult
    {
        public CompatResult(CompatVerdict verdict, string detail) { Verdict = verdict; Detail = detail; }
        /// <summary>The verdict.</summary>
        public CompatVerdict Verdict { get; }
        /// <summary>Where it is, or why not.</summary>
        public string Detail { get; }

        /// <summary>
        /// Whether the program breaks on this target: missing, incompatible and ambiguous always; moved only for a plain
        /// struct read (a view relocates).
        /// </summary>
        public bool IsProblemFor(CompatAccess access, bool guarded = false) => IsProblem(Verdict, access, guarded);

        /// <summary>See <see cref="IsProblemFor"/>; a guarded use (the code checks <c>Has_x</c> first) is fine where the member is missing or incompatible.</summary>
        public static bool IsProblem(CompatVerdict verdict, CompatAccess access, bool guarded = false)
            => verdict == CompatVerdict.Ambiguous
               || verdict is CompatVerdict.Missing or CompatVerdict.Incompatible && !guarded
               || verdict == CompatVerdict.Moved && access == CompatAccess.Plain;

        /// <inheritdoc />
        public override string ToString() => Verdict + ": " + Detail;
    }
}
