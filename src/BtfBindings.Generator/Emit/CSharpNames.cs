using System.Collections.Generic;
using System.Text;
using System.Globalization;

namespace BtfBindings.Emit
{
    /// <summary>
    /// The one escaping path for everything a BTF name can reach in generated C#: identifiers (kept as the kernel spells
    /// them when C# can take them), XML doc text, line comments and string literals. BTF comes from downloads, so a name may
    /// hold any byte: nothing in it may end a comment line, a literal or an identifier early.
    /// </summary>
    internal static class CSharpNames
    {
        /// <summary>
        /// Contextual keywords. As type names C# refuses or warns about several (CS9056 for 'file', 'record', …); as member names
        /// some change meaning inside generated accessors ('field' is the backing field in C# 14, 'value' the setter's
        /// parameter). Escaped with '@' everywhere: '@field' is the identifier 'field', so users still write <c>x.field</c>.
        /// </summary>
        internal static readonly HashSet<string> Contextual = new HashSet<string>(System.StringComparer.Ordinal)
        {
            "add", "allows", "alias", "and", "args", "ascending", "assembly", "async", "await", "by", "descending", "dynamic",
            "equals", "event", "extension", "field", "file", "from", "get", "global", "group", "init", "into", "join", "let",
            "managed", "method", "module", "nameof", "nint", "not", "notnull", "nuint", "on", "or", "orderby", "param",
            "partial", "property", "record", "remove", "required", "scoped", "select", "set", "type", "typevar", "unmanaged",
            "value", "var", "when", "where", "with", "yield",
        };

        // What every class and struct inherits from object (ValueType overrides three of them under the same names). Not
        // Finalize: C# treats it as the destructor, which nothing hides ('new' on it is CS0109).
        private static readonly HashSet<string> ObjectMembers = new HashSet<string>(System.StringComparer.Ordinal)
        {
            "Equals", "GetHashCode", "GetType", "MemberwiseClone", "ReferenceEquals", "ToString",
        };

        /// <summary>
        /// "new " before a field, property or nested type named like an inherited <see cref="object"/> member (a C name such
        /// as a struct <c>ToString</c> or a field <c>Equals</c>), which would otherwise warn CS0108; else "". Not for a method
        /// with parameters: it overloads rather than hides, and 'new' would warn CS0109.
        /// </summary>
        public static string New(string identifier) => ObjectMembers.Contains(identifier.TrimStart('@')) ? "new " : "";

        /// <summary>A member or enumerator identifier.</summary>
        public static string Member(string name) => Escape(Identifier(name));

        /// <summary>A type identifier.</summary>
        public static string Type(string name) => Escape(Identifier(name));

        private static string Escape(string id) => CSharpKeywords.IsReserved(id) || Contextual.Contains(id) ? "@" + id : id;

        /// <summary>True when <paramref name="name"/> is a C identifier (libbpf's <c>btf_name_valid_identifier</c>: [A-Za-z_][A-Za-z0-9_]*).</summary>
        public static bool IsCIdentifier(string name)
        {
            if (name.Length == 0) return false;
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
                if (!ok) return false;
            }
            return true;
        }

        /// <summary>
        /// The name itself when it is a C identifier (every kernel name is); otherwise a deterministic identifier: a leading
        /// digit gets '_' before it, and every other character becomes <c>_xHH</c> (ASCII) or <c>_uHHHH</c> (UTF-16 unit).
        /// </summary>
        public static string Identifier(string name)
        {
            if (IsCIdentifier(name)) return name;
            if (name.Length == 0) return "_";
            var sb = new StringBuilder(name.Length + 8);
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                bool word = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (i == 0 && c >= '0' && c <= '9') sb.Append('_');
                if (word) sb.Append(c);
                else if (c < 0x80) sb.Append("_x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                else sb.Append("_u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }

        /// <summary>
        /// Text for an XML doc comment line: markup escaped, and every control, line-breaking or non-XML character (and a lone
        /// surrogate) written as <c>\xHH</c>/<c>\uHHHH</c>, so the text can never leave its <c>///</c> line or break the XML.
        /// </summary>
        public static string Xml(string s)
        {
            if (IsPlain(s, xml: true)) return s;
            var sb = new StringBuilder(s.Length + 16);
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                switch (c)
                {
                    case '&': sb.Append("&amp;"); continue;
                    case '<': sb.Append("&lt;"); continue;
                    case '>': sb.Append("&gt;"); continue;
                }
                if (IsUnsafeChar(s, i)) AppendEscape(sb, c);
                else sb.Append(c);
            }
            return sb.ToString();
        }

        /// <summary>Text for a <c>//</c> comment: nothing in it can end the line.</summary>
        public static string Comment(string s)
        {
            if (IsPlain(s, xml: false)) return s;
            var sb = new StringBuilder(s.Length + 16);
            for (int i = 0; i < s.Length; i++)
            {
                if (IsUnsafeChar(s, i)) AppendEscape(sb, s[i]);
                else sb.Append(s[i]);
            }
            return sb.ToString();
        }

        /// <summary>A C# string literal holding exactly <paramref name="s"/> (controls, line breaks and lone surrogates as <c>\uHHHH</c>).</summary>
        public static string Literal(string s)
        {
            var sb = new StringBuilder(s.Length + 2).Append('"');
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c == '\\') sb.Append("\\\\");
                else if (c == '"') sb.Append("\\\"");
                else if (IsUnsafeChar(s, i)) sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                else sb.Append(c);
            }
            return sb.Append('"').ToString();
        }

        private static bool IsPlain(string s, bool xml)
        {
            foreach (char c in s)
            {
                if (c < 0x20 || c >= 0x7F) return false;
                if (xml && (c == '&' || c == '<' || c == '>')) return false;
            }
            return true;
        }

        /// <summary>Controls (C0, DEL, C1), Unicode line/paragraph separators, non-characters and unpaired surrogates.</summary>
        private static bool IsUnsafeChar(string s, int i)
        {
            char c = s[i];
            if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029' || c == '\uFFFE' || c == '\uFFFF' || c == '\uFEFF') return true;
            if (char.IsHighSurrogate(c)) return !(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]));
            if (char.IsLowSurrogate(c)) return !(i > 0 && char.IsHighSurrogate(s[i - 1]));
            return false;
        }

        private static void AppendEscape(StringBuilder sb, char c)
        {
            if (c < 0x100) sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
    }
}
