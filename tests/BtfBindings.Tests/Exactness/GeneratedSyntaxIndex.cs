using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>A member declared in generated code, as its syntax shows it.</summary>
    internal sealed class DeclaredMember
    {
        public SymbolKind Kind;
        /// <summary>For a <c>fixed T name[N]</c> field: N; otherwise 0.</summary>
        public int FixedSize;
        public bool IsFixed;
        /// <summary>Field or property type as written (<c>byte</c>, <c>global::K.rw_hint</c>).</summary>
        public string TypeText = "";
        public bool HasGetter, HasSetter;
        public int ParameterCount;
        /// <summary>The declaration's first line, for reports.</summary>
        public string Line = "";
    }

    /// <summary>
    /// The structs of the generated trees by metadata name (<c>K.task_struct</c>, <c>K.outer+__anon_x</c>), with their members:
    /// pairing needs only declarations, so it reads syntax and leaves all binding to the single compilation that follows.
    /// </summary>
    internal sealed class GeneratedSyntaxIndex
    {
        public sealed class Entry
        {
            /// <summary>How C# code names the type: <c>global::K.@file</c>.</summary>
            public string CsType = "";
            public Dictionary<string, List<DeclaredMember>> Members = new Dictionary<string, List<DeclaredMember>>(StringComparer.Ordinal);
        }

        private readonly Dictionary<string, Entry> _types = new Dictionary<string, Entry>(StringComparer.Ordinal);

        public GeneratedSyntaxIndex(IEnumerable<SyntaxTree> trees)
        {
            foreach (var tree in trees)
                foreach (var td in tree.GetRoot().DescendantNodes(n => n is CompilationUnitSyntax || n is BaseNamespaceDeclarationSyntax || n is TypeDeclarationSyntax).OfType<StructDeclarationSyntax>())
                    Add(td);
        }

        public Entry? this[string metadataName] => _types.TryGetValue(metadataName, out var e) ? e : null;

        private void Add(StructDeclarationSyntax td)
        {
            var meta = new List<string>();
            var cs = new List<string>();
            for (SyntaxNode? n = td; n != null; n = n.Parent)
            {
                if (n is TypeDeclarationSyntax t) { meta.Insert(0, t.Identifier.ValueText); cs.Insert(0, t.Identifier.Text); }
                else if (n is BaseNamespaceDeclarationSyntax ns) { meta.Insert(0, ns.Name.ToString() + "."); cs.Insert(0, ns.Name.ToString()); }
            }
            string metaName = meta.Count > 0 && meta[0].EndsWith(".", StringComparison.Ordinal) ? meta[0] + string.Join("+", meta.Skip(1)) : string.Join("+", meta);
            if (!_types.TryGetValue(metaName, out var e)) _types[metaName] = e = new Entry { CsType = "global::" + string.Join(".", cs) };
            foreach (var m in td.Members)
            {
                switch (m)
                {
                    case FieldDeclarationSyntax f:
                        {
                            bool isFixed = f.Modifiers.Any(SyntaxKind.FixedKeyword);
                            foreach (var v in f.Declaration.Variables)
                            {
                                int size = 0;
                                if (isFixed && v.ArgumentList?.Arguments.Count == 1 && v.ArgumentList.Arguments[0].Expression is LiteralExpressionSyntax lit && lit.Token.Value is int n) size = n;
                                AddMember(e, v.Identifier.ValueText, new DeclaredMember { Kind = SymbolKind.Field, IsFixed = isFixed, FixedSize = size, TypeText = f.Declaration.Type.ToString(), Line = FirstLine(f) });
                            }
                            break;
                        }
                    case PropertyDeclarationSyntax p:
                        {
                            bool get = p.ExpressionBody != null || (p.AccessorList?.Accessors.Any(a => a.IsKind(SyntaxKind.GetAccessorDeclaration)) ?? false);
                            bool set = p.AccessorList?.Accessors.Any(a => a.IsKind(SyntaxKind.SetAccessorDeclaration)) ?? false;
                            AddMember(e, p.Identifier.ValueText, new DeclaredMember { Kind = SymbolKind.Property, TypeText = p.Type.ToString(), HasGetter = get, HasSetter = set, Line = FirstLine(p) });
                            break;
                        }
                    case MethodDeclarationSyntax md:
                        AddMember(e, md.Identifier.ValueText, new DeclaredMember { Kind = SymbolKind.Method, ParameterCount = md.ParameterList.Parameters.Count, TypeText = md.ReturnType.ToString(), Line = FirstLine(md) });
                        break;
                }
            }
        }

        private static void AddMember(Entry e, string name, DeclaredMember m)
        {
            if (!e.Members.TryGetValue(name, out var l)) e.Members[name] = l = new List<DeclaredMember>();
            l.Add(m);
        }

        private static string FirstLine(SyntaxNode n)
        {
            var s = n.WithoutTrivia().ToString();
            int nl = s.IndexOf('\n');
            return nl < 0 ? s : s.Substring(0, nl).TrimEnd();
        }
    }
}
