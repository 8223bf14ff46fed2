using System;

namespace BtfBindings.Compatibility
{
    /// <summary>What a use names: a member path, one enumerator, or a whole type.</summary>
    internal enum CompatUseKind
    {
        /// <summary><c>task_struct.se.vruntime</c>.</summary>
        Field,
        /// <summary><c>enum pid_type::PIDTYPE_TGID</c>.</summary>
        EnumValue,
        /// <summary><c>struct iphdr</c> (the type itself: its existence and, for a plain copy, its size).</summary>
        Type,
    }

    /// <summary>How the code reaches a field: "moved" is harmless through a relocating view and wrong for a plain struct read.</summary>
    internal enum CompatAccess
    {
        /// <summary>Not known (a path given on the command line): judged as the runtime's view would read it.</summary>
        Unknown,
        /// <summary>Through a generated <c>View</c> (relocated by CO-RE at run time).</summary>
        View,
        /// <summary>A plain generated struct's field (the build-time offset, as compiled).</summary>
        Plain,
    }

    /// <summary>
    /// One thing the program uses from the kernel's types, by kernel C names. The identity of a row in the report;
    /// where the code uses it is in <see cref="CompatUseSite"/>.
    /// </summary>
    internal sealed class CompatUse : IEquatable<CompatUse>, IComparable<CompatUse>
    {
        public CompatUse(CompatUseKind kind, string typeName, string? member, CompatAccess access = CompatAccess.Unknown, string typeKeyword = "")
        {
            if (string.IsNullOrEmpty(typeName)) throw new ArgumentException("type name required", nameof(typeName));
            if (kind != CompatUseKind.Type && string.IsNullOrEmpty(member)) throw new ArgumentException("member required", nameof(member));
            Kind = kind; TypeName = typeName; Member = kind == CompatUseKind.Type ? null : member; Access = access;
            TypeKeyword = kind == CompatUseKind.EnumValue ? "enum" : typeKeyword;
        }

        /// <summary>Field, enumerator or type.</summary>
        public CompatUseKind Kind { get; }
        /// <summary>The kernel type's C name (<c>task_struct</c>, <c>pid_type</c>).</summary>
        public string TypeName { get; }
        /// <summary>"struct", "union", "enum" or "" (not said) for a type use; "enum" for an enumerator.</summary>
        public string TypeKeyword { get; }
        /// <summary>The member path (<c>se.vruntime</c>, <c>comm[3]</c>) or the enumerator; null for a type use.</summary>
        public string? Member { get; }
        /// <summary>How the code reaches it.</summary>
        public CompatAccess Access { get; }

        /// <summary>The use in the notation <see cref="TryParse"/> reads: <c>task_struct.se.vruntime</c>, <c>enum pid_type::PIDTYPE_TGID</c>, <c>struct iphdr</c>.</summary>
        public string Text => Kind switch
        {
            CompatUseKind.Field => TypeName + "." + Member,
            CompatUseKind.EnumValue => "enum " + TypeName + "::" + Member,
            _ => TypeKeyword.Length == 0 ? TypeName : TypeKeyword + " " + TypeName,
        };

        /// <summary>The same use reached another way.</summary>
        public CompatUse WithAccess(CompatAccess access) => access == Access ? this : new CompatUse(Kind, TypeName, Member, access, TypeKeyword);

        /// <summary>
        /// Reads <c>type.member.path</c>, <c>[enum ]type::ENUMERATOR</c>, or <c>[struct|union|enum ]type</c>.
        /// Returns null and says why for anything else.
        /// </summary>
        public static CompatUse? TryParse(string text, out string? error)
        {
            error = null;
            string s = (text ?? "").Trim();
            string keyword = "";
            foreach (var k in new[] { "struct", "union", "enum" })
                if (s.StartsWith(k + " ", StringComparison.Ordinal)) { keyword = k; s = s.Substring(k.Length).Trim(); break; }
            int colons = s.IndexOf("::", StringComparison.Ordinal);
            if (colons >= 0)
            {
                string e = s.Substring(0, colons), v = s.Substring(colons + 2);
                if (keyword.Length > 0 && keyword != "enum") error = $"'{text}': '::' names an enumerator, so the type must be an enum";
                else if (!IsIdentifier(e) || !IsIdentifier(v)) error = $"'{text}': expected enum::ENUMERATOR with C identifiers";
                return error == null ? new CompatUse(CompatUseKind.EnumValue, e, v) : null;
            }
            int dot = s.IndexOf('.');
            if (dot < 0)
            {
                if (!IsIdentifier(s)) { error = $"'{text}': expected a type name, type.field.path or enum::ENUMERATOR"; return null; }
                return new CompatUse(CompatUseKind.Type, s, null, CompatAccess.Unknown, keyword);
            }
            if (keyword == "enum") { error = $"'{text}': an enum has no fields (enum::ENUMERATOR names a value)"; return null; }
            string type = s.Substring(0, dot), path = s.Substring(dot + 1);
            if (!IsIdentifier(type) || !IsPath(path)) { error = $"'{text}': expected type.field.path (C identifiers, optional [index])"; return null; }
            return new CompatUse(CompatUseKind.Field, type, path);
        }

        private static bool IsIdentifier(string s)
        {
            if (s.Length == 0 || !(char.IsLetter(s[0]) || s[0] == '_')) return false;
            foreach (char c in s) if (!(c == '_' || c < 128 && char.IsLetterOrDigit(c))) return false;
            return true;
        }

        private static bool IsPath(string path)
        {
            foreach (var part in path.Split('.'))
            {
                int br = part.IndexOf('[');
                string name = br < 0 ? part : part.Substring(0, br);
                if (!IsIdentifier(name)) return false;
                if (br >= 0)
                {
                    if (part[part.Length - 1] != ']' || part.Length - br - 2 <= 0) return false;
                    for (int i = br + 1; i < part.Length - 1; i++) if (!char.IsDigit(part[i])) return false;
                }
            }
            return true;
        }

        /// <inheritdoc />
        public bool Equals(CompatUse? other) => other != null && Kind == other.Kind && Access == other.Access && TypeName == other.TypeName && Member == other.Member && TypeKeyword == other.TypeKeyword;
        /// <inheritdoc />
        public override bool Equals(object? obj) => Equals(obj as CompatUse);
        /// <inheritdoc />
        // From the fields Equals compares, not from Text: a build's scan hashes every use, and Text makes a string each time.
        public override int GetHashCode()
        {
            int h = StringComparer.Ordinal.GetHashCode(TypeName);
            h = h * 31 + (Member == null ? 0 : StringComparer.Ordinal.GetHashCode(Member));
            h = h * 31 + StringComparer.Ordinal.GetHashCode(TypeKeyword);
            return (h * 31 + (int)Kind) * 31 + (int)Access;
        }
        /// <summary>Sorted by text, then access: the report's row order.</summary>
        public int CompareTo(CompatUse? other)
        {
            if (other == null) return 1;
            int c = string.CompareOrdinal(Text, other.Text);
            return c != 0 ? c : Access.CompareTo(other.Access);
        }
        /// <inheritdoc />
        public override string ToString() => Access == CompatAccess.Plain ? Text + " (plain struct)" : Access == CompatAccess.View ? Text + " (view)" : Text;
    }

    /// <summary>Where a use is in the program: the method, the IL offset and, with a portable PDB, the source line.</summary>
    internal sealed class CompatUseSite
    {
        public CompatUseSite(string method, int ilOffset, string? document = null, int line = 0, bool guarded = false)
        {
            Method = method; ILOffset = ilOffset; Document = document; Line = line; Guarded = guarded;
        }

        /// <summary>
        /// True when the same method checks the member first (the View's <c>Has_x</c> or <c>Exists("x")</c> at a lower IL
        /// offset): then a kernel without it is handled, so missing or incompatible there is not a problem.
        /// </summary>
        public bool Guarded { get; }

        /// <summary>The same site, guarded.</summary>
        public CompatUseSite AsGuarded() => new CompatUseSite(Method, ILOffset, Document, Line, true);

        /// <summary><c>Namespace.Type.Method</c>.</summary>
        public string Method { get; }
        /// <summary>The IL offset of the instruction.</summary>
        public int ILOffset { get; }
        /// <summary>The source file, when a PDB says.</summary>
        public string? Document { get; }
        /// <summary>The 1-based source line, 0 when unknown.</summary>
        public int Line { get; }

        /// <inheritdoc />
        public override string ToString() => (Document != null && Line > 0 ? $"{Document}({Line}): {Method}" : $"{Method} IL_{ILOffset:x4}") + (Guarded ? " (guarded)" : "");
    }
}
