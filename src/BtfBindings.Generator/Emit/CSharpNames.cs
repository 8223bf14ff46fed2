using System.Collections.Generic;

namespace BtfBindings.Emit
{
    /// <summary>Escaping kernel names into C# identifiers while keeping them as the kernel spells them.</summary>
    internal static class CSharpNames
    {
        private static readonly HashSet<string> Reserved = new HashSet<string>(System.StringComparer.Ordinal)
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
            "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
            "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
            "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
            "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
            "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
            "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
        };

        // Contextual keywords that C# refuses or warns about as type names (CS9056 for 'file', 'record', …).
        private static readonly HashSet<string> TypeContextual = new HashSet<string>(System.StringComparer.Ordinal)
        {
            "file", "record", "required", "scoped", "var", "dynamic", "managed", "unmanaged", "notnull", "nint", "nuint",
            "field", "value", "await", "async", "yield", "partial", "when", "with", "init", "get", "set", "add", "remove",
            "global", "nameof", "args", "select", "from", "where", "allows", "extension",
        };

        /// <summary>A member or enumerator identifier.</summary>
        public static string Member(string name) => Reserved.Contains(name) ? "@" + name : name;

        /// <summary>A type identifier.</summary>
        public static string Type(string name) => Reserved.Contains(name) || TypeContextual.Contains(name) ? "@" + name : name;

        /// <summary>Text for an XML doc comment.</summary>
        public static string Xml(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        /// <summary>A C# string literal.</summary>
        public static string Literal(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
