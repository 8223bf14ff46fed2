using System.Collections.Generic;

namespace BtfBindings.Emit
{
    /// <summary>
    /// C#'s reserved keywords: never a name unless written with '@'. One list for the emitter's escaping
    /// (<c>CSharpNames</c>) and for the build task that reads request files (linked into BtfBindings.Build).
    /// </summary>
    internal static class CSharpKeywords
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

        public static bool IsReserved(string word) => Reserved.Contains(word);
    }
}
