using System;
using System.Collections.Generic;
using System.Globalization;

namespace BtfBindings.Build.TypesAssembly
{
    internal enum TokenKind { Identifier, Punctuation, String, Other }

    /// <summary>A token of a request file: its text (an identifier without its '@'), kind and 1-based line.</summary>
    internal readonly struct Token
    {
        public readonly TokenKind Kind;
        public readonly string Text;
        public readonly int Line;
        /// <summary>Written as <c>@name</c>: never a keyword.</summary>
        public readonly bool Verbatim;
        public Token(TokenKind kind, string text, int line, bool verbatim = false) { Kind = kind; Text = text; Line = line; Verbatim = verbatim; }
        public bool Is(string punctuation) => Kind == TokenKind.Punctuation && Text == punctuation;
        public bool IsKeyword(string keyword) => Kind == TokenKind.Identifier && !Verbatim && Text == keyword;
        public override string ToString() => Text;
    }

    /// <summary>
    /// The part of C#'s lexical grammar a request file needs, and a refusal (with its line) for anything else: comments,
    /// identifiers (ASCII or Unicode letters; no \u escapes), regular, verbatim and raw string literals, char and numeric
    /// literals, punctuation, and the harmless preprocessor lines (#nullable, #pragma, #region, #endregion). Interpolated
    /// strings, conditional compilation and the other directives are refused: a file using them is not a plain request.
    /// </summary>
    internal static class CSharpTokenizer
    {
        private static readonly string[] HarmlessDirectives = { "nullable", "pragma", "region", "endregion" };

        /// <summary>The tokens of <paramref name="text"/>, or null and <paramref name="refusal"/> saying what and where.</summary>
        public static List<Token>? Tokenize(string text, out string refusal)
        {
            var tokens = new List<Token>();
            int i = 0, line = 1;
            bool lineStart = true;   // only whitespace so far on this line: a '#' here is a directive
            refusal = "";
            while (i < text.Length)
            {
                char c = text[i];
                if (c == '\n') { line++; i++; lineStart = true; continue; }
                if (c == '\uFEFF' || char.IsWhiteSpace(c)) { i++; continue; }
                if (c == '/' && At(text, i + 1) == '/') { while (i < text.Length && text[i] != '\n') i++; continue; }
                if (c == '/' && At(text, i + 1) == '*')
                {
                    int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    if (end < 0) { refusal = $"line {line}: an unterminated comment"; return null; }
                    line += Count(text, i, end, '\n');
                    i = end + 2;
                    continue;
                }
                if (c == '#')
                {
                    int end = text.IndexOf('\n', i);
                    if (end < 0) end = text.Length;
                    string directive = Word(text, i + 1);
                    if (!lineStart || Array.IndexOf(HarmlessDirectives, directive) < 0)
                    {
                        refusal = $"line {line}: the preprocessor directive #{directive} (only #nullable, #pragma and #region are known to be harmless)";
                        return null;
                    }
                    i = end;
                    continue;
                }
                lineStart = false;
                int start = i, startLine = line;
                if (c == '"' || (c == '@' && At(text, i + 1) == '"'))
                {
                    if (!SkipString(text, ref i, ref line, out refusal)) return null;
                    tokens.Add(new Token(TokenKind.String, text.Substring(start, i - start), startLine));
                }
                else if (c == '$') { refusal = $"line {line}: an interpolated string"; return null; }
                else if (c == '\'')
                {
                    i++;
                    while (i < text.Length && text[i] != '\'' && text[i] != '\n') i += text[i] == '\\' ? 2 : 1;
                    if (At(text, i) != '\'') { refusal = $"line {line}: an unterminated character literal"; return null; }
                    i++;
                    tokens.Add(new Token(TokenKind.Other, text.Substring(start, i - start), line));
                }
                else if (c >= '0' && c <= '9')
                {
                    while (i < text.Length && (IsIdentifierPart(text[i]) || text[i] == '.')) i++;
                    tokens.Add(new Token(TokenKind.Other, text.Substring(start, i - start), line));
                }
                else if (IsIdentifierStart(c) || (c == '@' && i + 1 < text.Length && IsIdentifierStart(text[i + 1])))
                {
                    bool verbatim = c == '@';
                    if (verbatim) { i++; start++; }
                    while (i < text.Length && IsIdentifierPart(text[i])) i++;
                    if (At(text, i) == '\\') { refusal = $"line {line}: a Unicode escape in an identifier"; return null; }
                    tokens.Add(new Token(TokenKind.Identifier, text.Substring(start, i - start), line, verbatim));
                }
                else if (c == ':' && At(text, i + 1) == ':') { tokens.Add(new Token(TokenKind.Punctuation, "::", line)); i += 2; }
                else if (";.,()[]{}=:<>!?+-*/%&|^~".IndexOf(c) >= 0) { tokens.Add(new Token(TokenKind.Punctuation, c.ToString(), line)); i++; }
                else { refusal = $"line {line}: the character '{c}' (U+{(int)c:X4})"; return null; }
            }
            return tokens;
        }

        /// <summary>Past a regular, verbatim or raw string literal starting at <paramref name="i"/>.</summary>
        private static bool SkipString(string text, ref int i, ref int line, out string refusal)
        {
            refusal = "";
            int startLine = line;
            if (text[i] == '@')
            {
                for (i += 2; i < text.Length; i++)
                {
                    if (text[i] == '\n') line++;
                    else if (text[i] == '"')
                    {
                        if (At(text, i + 1) == '"') { i++; continue; }
                        i++;
                        return true;
                    }
                }
                refusal = $"line {startLine}: an unterminated verbatim string";
                return false;
            }
            int quotes = Run(text, i, '"');
            if (quotes >= 3)
            {
                // Raw: ends at the first run of exactly as many quotes (a longer run is an error in C#).
                for (i += quotes; i < text.Length;)
                {
                    if (text[i] == '\n') line++;
                    if (text[i] != '"') { i++; continue; }
                    int run = Run(text, i, '"');
                    i += run;
                    if (run == quotes) return true;
                    if (run > quotes) break;
                }
                refusal = $"line {startLine}: an unterminated raw string";
                return false;
            }
            if (quotes == 2) { i += 2; return true; }   // ""
            for (i++; i < text.Length && text[i] != '\n'; i++)
            {
                if (text[i] == '\\') { i++; continue; }
                if (text[i] == '"') { i++; return true; }
            }
            refusal = $"line {startLine}: an unterminated string";
            return false;
        }

        private static char At(string s, int i) => i < s.Length ? s[i] : '\0';

        private static int Run(string s, int i, char c)
        {
            int n = 0;
            while (i + n < s.Length && s[i + n] == c) n++;
            return n;
        }

        private static int Count(string s, int from, int to, char c)
        {
            int n = 0;
            for (int i = from; i < to; i++) if (s[i] == c) n++;
            return n;
        }

        private static string Word(string s, int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
            int start = i;
            while (i < s.Length && IsIdentifierPart(s[i])) i++;
            return s.Substring(start, i - start);
        }

        internal static bool IsIdentifierStart(char c) => c == '_' || char.IsLetter(c);

        internal static bool IsIdentifierPart(char c)
        {
            if (c == '_' || char.IsLetterOrDigit(c)) return true;
            var cat = CharUnicodeInfo.GetUnicodeCategory(c);
            return cat == UnicodeCategory.NonSpacingMark || cat == UnicodeCategory.SpacingCombiningMark
                || cat == UnicodeCategory.ConnectorPunctuation || cat == UnicodeCategory.Format;
        }
    }
}
