using System.Text;

namespace BtfBindings
{
    // Errors naming the type, field, kernel and candidates, and the printable report of what moved.
    partial class CoreTypeResolution // accessibility: see the main part
    {
        // ---- errors and report --------------------------------------------------------------------

        private string CandidateText => Candidates.Count == 0 ? "no candidates" : "candidates: " + string.Join("; ", Candidates);

        /// <summary>
        /// The exception for using field <paramref name="f"/>: for an ambiguous field the <see cref="CoreException"/> libbpf's
        /// refusal stands for, else a <see cref="CoreFieldException"/> (missing or unreadable, or <paramref name="extra"/>).
        /// </summary>
        internal CoreException FieldError(CoreFieldResolution f, string? extra)
        {
            if (f.AmbiguousCandidates is string[] disagree) return new CoreException(f.Problem + ".", Local.BtfName, KernelName, disagree, f.Name) { Summary = f.AmbiguitySummary };
            string reason = extra ?? f.Problem ?? (f.Exists ? "unreadable" : "missing");
            string what = !f.Exists ? "does not exist in" : "cannot be used as generated on";
            string msg = $"{TypeLabel}.{f.Name} {what} kernel {KernelName}: {reason}. {CandidateText}. "
                       + $"Generated from {Local.SourceFile}; check Exists(\"{f.Name}\") (Has_{f.Name} on the view) before reading optional fields.";
            return new CoreFieldException(msg, Local.BtfName, f.Name, KernelName, Candidates, reason);
        }

        private CoreException BeforeObject(CoreFieldResolution f)
            => FieldError(f, $"libbpf's load window for it is aligned in the outermost object and starts {-f.WindowOffset} bytes before this member; read it through the view of the object that contains the member");

        private CoreException Truncated(CoreFieldResolution f, int length)
            => FieldError(f, $"the data holds {length} bytes, the field is at [{f.ByteOffset}, +{f.ByteSize}) of the {Size}-byte target type");

        /// <summary>
        /// A printable account of what differs from the build-time layout: the target type chosen, the candidates,
        /// counts per <see cref="CoreFieldStatus"/>, then every field that is not unchanged.
        /// </summary>
        public string Report(bool includeUnchanged = false)
        {
            var sb = new StringBuilder();
            sb.Append("CO-RE: ").Append(TypeLabel).Append(" generated from ").Append(Local.SourceFile).Append(" (").Append(Local.Size).Append(" bytes, ")
              .Append(_fields.Length).Append(" fields)\n");
            sb.Append("  kernel: ").Append(KernelName).Append('\n');
            if (!IsVerified)
            {
                sb.Append("  NOT VERIFIED (non-portable mode): ").Append(UnverifiedReason).Append("; the build-time offsets are used as they are\n");
                return sb.ToString();
            }
            var counts = new int[6];
            foreach (var f in _fields) counts[(int)f.Status]++;
            int ambiguous = counts[(int)CoreFieldStatus.Ambiguous];
            if (Target is BtfType t)
            {
                sb.Append("  target: ").Append(_kernel?.Describe(t) ?? CoreResolver.Describe(t));
                if (_targets.Length > 1) sb.Append(" (+").Append(_targets.Length - 1).Append(" more matching candidate").Append(_targets.Length > 2 ? "s" : "")
                    .Append(ambiguous == 0 ? " agreeing on every field they share)" : "; each field decided among those that have it)");
                sb.Append('\n');
                if (SizeAmbiguity != null) sb.Append("  ").Append(SizeAmbiguity).Append('\n');
            }
            else sb.Append("  target: the kernel has no such type\n");
            sb.Append("  ").Append(CandidateText).Append('\n');
            sb.Append("  fields: ").Append(counts[0]).Append(" unchanged, ").Append(counts[1]).Append(" moved, ").Append(counts[2]).Append(" resized, ")
              .Append(counts[3]).Append(" unreadable, ").Append(counts[4]).Append(" missing");
            if (ambiguous > 0) sb.Append(", ").Append(ambiguous).Append(" ambiguous");
            sb.Append('\n');
            foreach (var f in _fields)
            {
                if (f.Status == CoreFieldStatus.Unchanged && !includeUnchanged) continue;
                var lf = f.Local;
                string local = lf.IsBitfield ? $"bit {lf.BitOffset}:{lf.BitSize}" : $"{lf.ByteOffset}+{lf.ByteSize}";
                string target = !f.Exists ? "-" : f.IsBitfield ? $"bit {f.BitOffset}:{f.BitSize}" : $"{f.ByteOffset}+{f.ByteSize}";
                sb.Append("  ").Append(f.Status.ToString().ToLowerInvariant().PadRight(10)).Append(' ').Append(lf.Name.PadRight(28)).Append(' ')
                  .Append(local.PadLeft(12)).Append(" -> ").Append(target.PadRight(12));
                if (f.Problem != null) sb.Append("  ").Append(f.Problem);
                sb.Append('\n');
            }
            return sb.ToString();
        }

        /// <inheritdoc />
        public override string ToString()
        {
            int missing = 0;
            foreach (var f in _fields) if (!f.Exists) missing++;
            return $"{TypeLabel} on {KernelName}: {(Target is BtfType t ? CoreResolver.Describe(t) + " size " + Size : IsVerified ? "no such type" : "unverified")}, {_fields.Length - missing}/{_fields.Length} fields";
        }
    }
}
