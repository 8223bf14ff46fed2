using System;
using System.Collections.Generic;
using BtfBindings.Emit;

namespace BtfBindings.Build.TypesAssembly
{
    /// <summary>
    /// One file's verdict: does it hold a <c>[BtfTypes]</c> request and nothing else, so that it compiles alone (with the
    /// generator, referencing only what the project references)? Decided from the text, conservatively: the accepted shape is
    /// <code>
    /// using System…; using BtfBindings…;                 (no alias, static or global using)
    /// namespace N;  |  namespace N { using …; … }         (optional)
    /// [BtfTypes("a", "b", BtfFile = "x.btf")]            (string literals; named true/false/string; one per class)
    /// public|internal static unsafe partial class Kernel { }
    /// </code>
    /// and anything else is refused with the reason. Whether the file's names clash with the rest of the project is
    /// <see cref="StandaloneRequests"/>'s part.
    /// </summary>
    internal sealed class RequestFile
    {
        /// <summary>True when the file stands alone (and holds at least one request).</summary>
        public bool StandsAlone => Refusal.Length == 0;
        /// <summary>Why not, with the line ("" when it does).</summary>
        public string Refusal { get; private set; } = "";
        /// <summary>Whether some class carries [BtfTypes] (a file that merely mentions the name is no request).</summary>
        public bool HasRequest { get; private set; }
        /// <summary>The classes declared, by full name (namespace.Name), and whether each carries [BtfTypes].</summary>
        public List<(string fullName, string name, bool request)> Classes { get; } = new List<(string, string, bool)>();
        /// <summary>Namespaces named by using directives, other than System and BtfBindings themselves.</summary>
        public List<string> Usings { get; } = new List<string>();

        private static readonly string[] Modifiers = { "public", "internal", "static", "unsafe", "partial" };
        private static readonly string[] OtherTypes = { "struct", "record", "interface", "enum", "delegate" };

        private List<Token> _t = new List<Token>();
        private int _i;

        public static RequestFile Read(string text)
        {
            var f = new RequestFile();
            var tokens = CSharpTokenizer.Tokenize(text, out string refusal);
            if (tokens == null) { f.Refusal = refusal; return f; }
            f._t = tokens;
            try { f.ParseFile(); }
            catch (Refused r) { f.Refusal = r.Message; }
            if (f.StandsAlone && !f.HasRequest) f.Refusal = "no class carries [BtfTypes]";
            return f;
        }

        private sealed class Refused : Exception { public Refused(string m) : base(m) { } }

        private Token Peek(int ahead = 0) => _i + ahead < _t.Count ? _t[_i + ahead] : new Token(TokenKind.Other, "end of file", _t.Count > 0 ? _t[_t.Count - 1].Line : 1);
        private int Line => Peek().Line;
        private Refused Refuse(string what) => new Refused($"line {Line}: {what}");

        private void Expect(string punctuation)
        {
            if (!Peek().Is(punctuation)) throw Refuse($"'{Peek().Text}' where '{punctuation}' was expected");
            _i++;
        }

        private void ParseFile()
        {
            bool bt = ParseUsings();
            if (Peek().IsKeyword("namespace") && Peek(1).Kind == TokenKind.Identifier)
            {
                int save = _i;
                _i++;
                string ns = QualifiedName();
                if (Peek().Is(";"))
                {
                    _i++;
                    bt |= ParseUsings();
                    ParseMembers(ns, bt, fileScoped: true);
                    return;
                }
                _i = save;
            }
            ParseMembers("", bt, fileScoped: false);
        }

        /// <summary>Using directives; true when one of them is <c>using BtfBindings;</c>.</summary>
        private bool ParseUsings()
        {
            bool btfBindings = false;
            while (true)
            {
                if (Peek().IsKeyword("global") && Peek(1).IsKeyword("using"))
                    throw Refuse("a global using directive (it applies to the whole project)");
                if (Peek().IsKeyword("extern")) throw Refuse("an extern alias");
                if (!Peek().IsKeyword("using")) return btfBindings;
                _i++;
                if (Peek().IsKeyword("static")) throw Refuse("a using static directive");
                if (Peek(1).Is("=")) throw Refuse("a using alias");
                string name = QualifiedName(allowGlobal: true);
                Expect(";");
                string first = name.Split('.')[0];
                if (first != "System" && first != "BtfBindings")
                    throw new Refused($"line {Peek(-1).Line}: 'using {name};' (only System and BtfBindings namespaces are known outside the project)");
                if (name == "BtfBindings") btfBindings = true;
                else if (name != "System") Usings.Add(name);
            }
        }

        private string QualifiedName(bool allowGlobal = false)
        {
            if (allowGlobal && Peek().IsKeyword("global") && Peek(1).Is("::")) _i += 2;
            var parts = new List<string> { Identifier() };
            while (Peek().Is(".")) { _i++; parts.Add(Identifier()); }
            if (Peek().Is("<") || Peek().Is("::")) throw Refuse($"'{Peek().Text}' in a name");
            return string.Join(".", parts);
        }

        private string Identifier()
        {
            var t = Peek();
            if (t.Kind != TokenKind.Identifier || (!t.Verbatim && CSharpKeywords.IsReserved(t.Text))) throw Refuse($"'{t.Text}' where a name was expected");
            _i++;
            return t.Text;
        }

        private void ParseMembers(string ns, bool btfBindingsInScope, bool fileScoped)
        {
            while (_i < _t.Count)
            {
                if (Peek().Is("}") && !fileScoped && ns.Length > 0) return;
                if (Peek().IsKeyword("namespace"))
                {
                    if (fileScoped) throw Refuse("a namespace block after a file-scoped namespace");
                    _i++;
                    string inner = QualifiedName();
                    Expect("{");
                    bool bt = ParseUsings() | btfBindingsInScope;
                    ParseMembers(ns.Length == 0 ? inner : ns + "." + inner, bt, false);
                    Expect("}");
                    continue;
                }
                if (Peek().IsKeyword("using") || Peek().IsKeyword("global") && Peek(1).IsKeyword("using"))
                    throw Refuse("a using directive after a declaration");
                ParseClass(ns, btfBindingsInScope);
            }
            if (ns.Length > 0 && !fileScoped) throw Refuse("a namespace block without its '}'");
        }

        private void ParseClass(string ns, bool btfBindingsInScope)
        {
            int requests = 0;
            while (Peek().Is("["))
            {
                _i++;
                if (Peek(1).Is(":")) throw Refuse($"an attribute with the target '{Peek().Text}:'");
                while (true)
                {
                    ParseAttribute(btfBindingsInScope);
                    requests++;
                    if (!Peek().Is(",")) break;
                    _i++;
                }
                Expect("]");
            }
            if (requests > 1) throw Refuse("more than one [BtfTypes] on a class");
            var seen = new List<string>();
            while (Peek().Kind == TokenKind.Identifier && !Peek().Verbatim && Array.IndexOf(Modifiers, Peek().Text) >= 0)
            {
                if (seen.Contains(Peek().Text)) throw Refuse($"the modifier '{Peek().Text}' twice");
                seen.Add(Peek().Text);
                _i++;
            }
            if (seen.Contains("public") && seen.Contains("internal")) throw Refuse("both public and internal");
            if (Peek().Kind == TokenKind.Identifier && !Peek().Verbatim && Array.IndexOf(OtherTypes, Peek().Text) >= 0)
                throw Refuse($"a {Peek().Text} (only classes are requests)");
            if (!Peek().IsKeyword("class")) throw Refuse($"'{Peek().Text}' (only [BtfTypes] and the modifiers public, internal, static, unsafe, partial may precede 'class')");
            if (seen.Count == 0 || seen[seen.Count - 1] != "partial") throw Refuse("a class that is not partial, or 'partial' not right before 'class'");
            _i++;
            string name = Identifier();
            if (Peek().Is("<")) throw Refuse("a generic class");
            if (Peek().Is(":")) throw Refuse("a base type or interface");
            if (Peek().IsKeyword("where")) throw Refuse("a generic constraint");
            Expect("{");
            if (!Peek().Is("}")) throw Refuse($"a class body that is not empty ('{Peek().Text}')");
            _i++;
            if (Peek().Is(";")) _i++;
            Classes.Add((ns.Length == 0 ? name : ns + "." + name, name, requests > 0));
            if (requests > 0) HasRequest = true;
        }

        private void ParseAttribute(bool btfBindingsInScope)
        {
            bool global = Peek().IsKeyword("global") && Peek(1).Is("::");
            string name = QualifiedName(allowGlobal: true);
            bool isBtfTypes = name == "BtfTypes" || name == "BtfTypesAttribute";
            bool qualified = name == "BtfBindings.BtfTypes" || name == "BtfBindings.BtfTypesAttribute";
            if (!isBtfTypes && !qualified) throw Refuse($"the attribute [{name}] (only [BtfTypes] goes with a request)");
            if (global && !qualified) throw Refuse($"the attribute [global::{name}]");
            if (isBtfTypes && !btfBindingsInScope)
                throw Refuse("[BtfTypes] without 'using BtfBindings;' in this file (a project-wide using does not reach a file compiled alone)");
            if (!Peek().Is("(")) return;
            _i++;
            bool first = true;
            while (!Peek().Is(")"))
            {
                if (!first) Expect(",");
                first = false;
                if (Peek().Kind == TokenKind.Identifier && Peek(1).Is("="))
                {
                    _i += 2;
                    if (Peek().IsKeyword("true") || Peek().IsKeyword("false") || Peek().Kind == TokenKind.String) { _i++; continue; }
                    throw Refuse($"the named argument value '{Peek().Text}' (only string literals, true and false)");
                }
                if (Peek().Kind != TokenKind.String) throw Refuse($"the argument '{Peek().Text}' (only string literals)");
                _i++;
            }
            _i++;
        }
    }
}
