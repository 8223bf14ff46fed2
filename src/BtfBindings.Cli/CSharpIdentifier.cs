using System;
using System.Collections.Generic;
using System.Globalization;

namespace BtfBindings.Cli
{
    /// <summary>
    /// Checks the names the user gives for generated code (<c>--namespace</c>, <c>--class</c>) by the C# lexical rules, as Roslyn
    /// applies them (per UTF-16 code unit, so characters outside the BMP are not identifier characters), so that a bad name is a
    /// usage error before any BTF is read rather than C# that does not compile.
    /// </summary>
    internal static class CSharpIdentifier
    {
        /// <summary>Reserved keywords: an identifier only with the '@' prefix (<c>@class</c>).</summary>
        private static readonly HashSet<string> Keywords = new HashSet<string>(StringComparer.Ordinal)
        {
            "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
            "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
            "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock", "long",
            "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected", "public",
            "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string", "struct", "switch",
            "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void",
            "volatile", "while", "__arglist", "__makeref", "__reftype", "__refvalue",
        };

        /// <summary>Contextual keywords C# does not accept, unescaped, as a type's name ('@record' is fine).</summary>
        private static readonly HashSet<string> NotTypeNames = new HashSet<string>(StringComparer.Ordinal)
        {
            "record", "file", "required", "scoped", "extension",
        };

        /// <summary>Null if <paramref name="name"/> is one C# identifier (optionally '@'-prefixed), else why not.</summary>
        public static string? CheckIdentifier(string name)
        {
            if (name.Length == 0) return "an empty name";
            bool verbatim = name[0] == '@';
            string id = verbatim ? name.Substring(1) : name;
            if (id.Length == 0) return "'@' with no identifier after it";
            for (int i = 0; i < id.Length; i++)
            {
                char c = id[i];
                if (i == 0 ? !IsStart(c) : !IsPart(c))
                {
                    string what = Describe(c);
                    return i == 0 && IsPart(c)
                        ? $"it starts with {what}; an identifier starts with a letter or '_'"
                        : $"it contains {what}, which cannot be part of a C# identifier";
                }
            }
            if (!verbatim && Keywords.Contains(id)) return $"'{id}' is a C# keyword: escape it as '@{id}'";
            return null;
        }

        /// <summary>True if <paramref name="name"/> needs the '@' prefix: a reserved keyword, or for a type's name, a contextual keyword C# rejects there.</summary>
        public static bool NeedsEscape(string name, bool typeName) => Keywords.Contains(name) || (typeName && NotTypeNames.Contains(name));

        /// <summary>Null if <paramref name="ns"/> is a valid namespace name (dot-separated identifiers), else why not.</summary>
        public static string? CheckNamespace(string ns)
        {
            if (ns.Length == 0) return null; // the global namespace (the default)
            var parts = ns.Split('.');
            for (int i = 0; i < parts.Length; i++)
            {
                if (parts[i].Length == 0)
                    return i == 0 ? "it starts with '.'" : i == parts.Length - 1 ? "it ends with '.'" : "it has an empty part between two dots ('..')";
                var why = CheckIdentifier(parts[i]);
                if (why != null) return parts.Length == 1 ? why : $"part '{parts[i]}': {why}";
            }
            return null;
        }

        /// <summary>Null if <paramref name="name"/> can name the generated container class, else why not.</summary>
        public static string? CheckClassName(string name)
        {
            var why = CheckIdentifier(name);
            if (why != null) return why;
            if (NotTypeNames.Contains(name)) return $"'{name}' cannot name a type in current C# unless escaped as '@{name}'";
            return null;
        }

        private static bool IsStart(char c) => c == '_' || IsLetter(CharUnicodeInfo.GetUnicodeCategory(c));

        private static bool IsPart(char c)
        {
            var cat = CharUnicodeInfo.GetUnicodeCategory(c);
            return IsLetter(cat) || cat == UnicodeCategory.DecimalDigitNumber || cat == UnicodeCategory.ConnectorPunctuation
                || cat == UnicodeCategory.NonSpacingMark || cat == UnicodeCategory.SpacingCombiningMark || cat == UnicodeCategory.Format;
        }

        private static bool IsLetter(UnicodeCategory cat) => cat == UnicodeCategory.UppercaseLetter || cat == UnicodeCategory.LowercaseLetter
            || cat == UnicodeCategory.TitlecaseLetter || cat == UnicodeCategory.ModifierLetter || cat == UnicodeCategory.OtherLetter
            || cat == UnicodeCategory.LetterNumber;

        private static string Describe(char c)
        {
            if (c == ' ') return "a space";
            if (c >= 0x21 && c < 0x7f) return $"'{c}'";
            return $"U+{(int)c:X4} ({CharUnicodeInfo.GetUnicodeCategory(c)})";
        }
    }
}
