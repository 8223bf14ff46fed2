using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using BtfBindings.Layout;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BtfBindings.Generator
{
    /// <summary>
    /// What a <c>[BtfTypes]</c> attribute asks for, and the checks on it that are about the user's code (BTFB001, 002, 003,
    /// 007, 010, 011). The generator and the companion analyzer read requests the same way; the analyzer reports these
    /// checks (language servers and IDEs show analyzer diagnostics, not a generator's), the generator only needs the answer.
    /// </summary>
    internal static class BtfTypesRequest
    {
        /// <summary>Reads the attribute <paramref name="attr"/> on <paramref name="symbol"/> (declared by <paramref name="cls"/>).</summary>
        public static RequestModel Read(INamedTypeSymbol symbol, AttributeData attr, ClassDeclarationSyntax cls, CancellationToken ct)
        {
            var problems = new List<DiagnosticInfo>();
            var attrSyntax = attr.ApplicationSyntaxReference?.GetSyntax(ct) as AttributeSyntax;

            // Containing types, outermost first; each must be partial.
            var containers = new List<ContainerInfo>();
            for (var t = symbol; t != null; t = t.ContainingType)
            {
                var decl = t.DeclaringSyntaxReferences.Select(r => r.GetSyntax(ct)).OfType<TypeDeclarationSyntax>().FirstOrDefault();
                bool partial = decl != null && decl.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword));
                if (!partial) problems.Add(DiagnosticInfo.Create("BTFB007", LocationInfo.From(cls.Identifier.Parent), t.Name));
                if (t.TypeParameters.Length > 0) problems.Add(DiagnosticInfo.Create("BTFB011", LocationInfo.From(cls.Identifier.Parent), t.Name));
                string keyword = decl switch
                {
                    RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "partial record struct" : "partial record",
                    StructDeclarationSyntax => "partial struct",
                    InterfaceDeclarationSyntax => "partial interface",
                    _ => "partial class",
                };
                string name = t.Name + (decl?.TypeParameterList?.ToString() ?? "");
                bool accessible = t.TypeParameters.Length == 0
                    && t.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal or Accessibility.NotApplicable;
                containers.Insert(0, new ContainerInfo(keyword, name, accessible));
            }
            string ns = symbol.ContainingNamespace.IsGlobalNamespace ? "" : symbol.ContainingNamespace.ToDisplayString();

            // Names: positional params array; locations from the argument syntax when available.
            var names = new List<RequestedName>();
            var args = attrSyntax?.ArgumentList?.Arguments.Where(a => a.NameEquals == null).ToList() ?? new List<AttributeArgumentSyntax>();
            if (attr.ConstructorArguments.Length == 1 && attr.ConstructorArguments[0].Kind == TypedConstantKind.Array)
            {
                var values = attr.ConstructorArguments[0].Values;
                for (int i = 0; i < values.Length; i++)
                {
                    if (values[i].Value is not string s) continue;
                    LocationInfo? loc = i < args.Count && args.Count == values.Length ? LocationInfo.From(args[i]) : LocationInfo.From(attrSyntax);
                    if (args.Count == 1 && args[0].Expression is CollectionExpressionSyntax or ArrayCreationExpressionSyntax or ImplicitArrayCreationExpressionSyntax)
                        loc = LocationInfo.From(args[0]);
                    names.Add(new RequestedName(s.Trim(), loc));
                }
            }
            string? btfFile = null;
            bool follow = false;
            foreach (var kv in attr.NamedArguments)
            {
                if (kv.Key == "BtfFile") btfFile = kv.Value.Value as string;
                else if (kv.Key == "FollowPointers" && kv.Value.Value is bool b) follow = b;
            }
            return new RequestModel(ns, new EquatableArray<ContainerInfo>(containers), new EquatableArray<RequestedName>(names),
                btfFile, follow, LocationInfo.From(attrSyntax), new EquatableArray<DiagnosticInfo>(problems));
        }

        /// <summary>
        /// The BTF file the request uses, or null with the reason in <paramref name="diags"/> (BTFB002 none or no such
        /// name, BTFB003 several and none named). <c>BtfFile = "name"</c> matches a file name, a full path, or a path suffix.
        /// </summary>
        public static BtfFileRef? ChooseFile(RequestModel req, BtfFileSet files, List<DiagnosticInfo> diags)
        {
            var all = files.Files.ToList();
            if (req.BtfFile != null)
            {
                string wanted = req.BtfFile.Replace('\\', '/');
                var match = all.Where(f => f.FileName == req.BtfFile || f.Path == req.BtfFile
                    || f.Path.Replace('\\', '/').EndsWith("/" + wanted.TrimStart('/'), StringComparison.Ordinal)).ToList();
                if (match.Count == 1) return match[0];
                if (match.Count == 0)
                {
                    diags.Add(DiagnosticInfo.Create("BTFB002", req.AttributeLocation,
                        $"No BtfFile item is named '{req.BtfFile}'" + (all.Count > 0 ? " (the project has: " + string.Join(", ", all.Select(f => f.FileName)) + ")" : "; add <BtfFile Include=\"...\" /> to the project")));
                    return null;
                }
                diags.Add(DiagnosticInfo.Create("BTFB003", req.AttributeLocation, string.Join(", ", match.Select(f => f.Path))));
                return null;
            }
            if (all.Count == 1) return all[0];
            if (all.Count == 0)
            {
                diags.Add(DiagnosticInfo.Create("BTFB002", req.AttributeLocation, "The project has no BtfFile item: add <BtfFile Include=\"path/to/vmlinux.btf\" /> (raw BTF, an ELF file with .BTF, or a BTFHub .btf.tar.xz)"));
                return null;
            }
            diags.Add(DiagnosticInfo.Create("BTFB003", req.AttributeLocation, string.Join(", ", all.Select(f => f.FileName))));
            return null;
        }

        /// <summary>
        /// Every user-code check of one request: the attributed class (BTFB007, 011), no names (010), the file choice (002,
        /// 003) and names the BTF lacks (001, with suggestions). Unreadable BTF is the generator's BTFB004, not repeated here.
        /// </summary>
        public static List<DiagnosticInfo> Check(RequestModel req, BtfFileSet files, CancellationToken ct)
        {
            var diags = new List<DiagnosticInfo>(req.Problems);
            if (diags.Count > 0) return diags;
            if (req.Names.Count == 0) { diags.Add(DiagnosticInfo.Create("BTFB010", req.AttributeLocation)); return diags; }
            var file = ChooseFile(req, files, diags);
            if (file == null) return diags;
            ct.ThrowIfCancellationRequested();
            Btf btf;
            try { btf = BtfCache.Get(file); }
            catch (BtfException) { return diags; }
            catch (IOException) { return diags; }
            catch (UnauthorizedAccessException) { return diags; }
            foreach (var u in LayoutPlanner.FindUnknown(btf, req.Names.Select(n => n.Name)))
                diags.Add(UnknownName(req, u, file));
            return diags;
        }

        /// <summary>BTFB001 on the argument that names <paramref name="u"/>.</summary>
        public static DiagnosticInfo UnknownName(RequestModel req, UnknownTypeName u, BtfFileRef file)
        {
            var loc = req.Names.FirstOrDefault(n => n.Name == u.Name)?.Location ?? req.AttributeLocation;
            string hint = u.Suggestions.Count > 0 ? "; did you mean " + string.Join(", ", u.Suggestions.Select(s => "'" + s + "'")) + "?" : "";
            return DiagnosticInfo.Create("BTFB001", loc, u.Name, file.FileName, hint);
        }
    }
}
