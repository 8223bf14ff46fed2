using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using BtfBindings.Emit;
using BtfBindings.Layout;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace BtfBindings.Generator
{
    /// <summary>
    /// Emits kernel types named by <c>[BtfTypes("task_struct", …)]</c> from the project's <c>&lt;BtfFile&gt;</c> items.
    /// The BTF arrives as a path plus a content hash in compiler-visible properties (binary files cannot be
    /// AdditionalFiles), is parsed once per process (<see cref="BtfCache"/>), and every pipeline model is
    /// equatable, so an unrelated edit re-runs nothing expensive.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class BtfSourceGenerator : IIncrementalGenerator
    {
        internal const string AttributeName = "BtfBindings.BtfTypesAttribute";

        /// <summary>Tracking names of the pipeline steps (tests check their cache states).</summary>
        public static class Steps
        {
            public const string Files = "BtfFiles";
            public const string Requests = "BtfRequests";
            public const string Features = "BtfFeatures";
            public const string Generate = "BtfGenerate";
        }

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var files = context.AnalyzerConfigOptionsProvider
                .Select((p, _) => ReadFiles(p.GlobalOptions))
                .WithTrackingName(Steps.Files);

            var features = context.CompilationProvider
                .Select((c, _) => ReadFeatures(c))
                .WithTrackingName(Steps.Features);

            var requests = context.SyntaxProvider.ForAttributeWithMetadataName(
                    AttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => ReadRequest(ctx, ct))
                .WithTrackingName(Steps.Requests);

            var generated = requests.Combine(files).Combine(features)
                .Select((x, ct) => Generate(x.Left.Left, x.Left.Right, x.Right, ct))
                .WithTrackingName(Steps.Generate);

            context.RegisterSourceOutput(generated, static (spc, result) =>
            {
                foreach (var d in result.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
                foreach (var s in result.Sources) spc.AddSource(s.HintName, s.Text);
            });
        }

        internal static BtfFileSet ReadFiles(AnalyzerConfigOptions options)
        {
            options.TryGetValue("build_property.BtfBindingsFiles", out var list);
            options.TryGetValue("build_property.BtfBindingsBaseHashes", out var baseHashes);
            options.TryGetValue("build_property.MSBuildProjectDirectory", out var projectDir);
            var baseHashByName = ParseBaseHashes(baseHashes);
            var refs = new List<BtfFileRef>();
            foreach (var entry in (list ?? "").Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = entry.Split('|');
                string path = parts[0].Trim();
                if (path.Length == 0) continue;
                string hash = parts.Length > 1 ? parts[1].Trim() : "";
                string? rawBase = parts.Length > 2 && parts[2].Trim().Length > 0 ? parts[2].Trim() : null;
                string? basePath = rawBase;
                if (basePath != null && !Path.IsPathRooted(basePath) && !string.IsNullOrEmpty(projectDir)) basePath = Path.GetFullPath(Path.Combine(projectDir, basePath));
                // The base's content hash, matched by the Base metadata as written (the targets hash each distinct Base
                // value). Without a match (an older targets file: bare hashes), every base hash stands in, so a change to
                // any base still gives a new key rather than BTF parsed over the old base.
                string? baseHash = rawBase == null ? null
                    : baseHashByName.TryGetValue(rawBase, out var h) ? h : (baseHashes ?? "").Trim();
                refs.Add(new BtfFileRef(path, hash, basePath, baseHash));
            }
            refs.Sort();
            return new BtfFileSet(new EquatableArray<BtfFileRef>(refs), baseHashes ?? "");
        }

        /// <summary>
        /// <c>BtfBindingsBaseHashes</c> as the targets write it: <c>base|sha256</c> entries separated by ';', where
        /// <c>base</c> is the <c>Base</c> metadata as written. Entries without '|' (the older bare-hash list) are ignored.
        /// </summary>
        internal static Dictionary<string, string> ParseBaseHashes(string? value)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in (value ?? "").Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                int bar = entry.LastIndexOf('|');
                if (bar <= 0) continue;
                string name = entry.Substring(0, bar).Trim();
                if (name.Length > 0) map[name] = entry.Substring(bar + 1).Trim();
            }
            return map;
        }

        internal static CompilationFeatures ReadFeatures(Compilation c)
        {
            // Runs on every edit: only cheap checks (the core library alone is searched, not every reference).
            var lv = c is CSharpCompilation cs ? cs.LanguageVersion : LanguageVersion.Default;
            bool langOk = lv >= LanguageVersion.CSharp12;
            var core = c.GetSpecialType(SpecialType.System_Object).ContainingAssembly;
            bool inline = core?.GetTypeByMetadataName("System.Runtime.CompilerServices.InlineArrayAttribute") != null;
            bool unsafeOk = c.Options is CSharpCompilationOptions o && o.AllowUnsafe;
            return new CompilationFeatures(langOk, lv.ToDisplayString(), inline, unsafeOk);
        }

        internal static RequestModel ReadRequest(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
        {
            var problems = new List<DiagnosticInfo>();
            var cls = (ClassDeclarationSyntax)ctx.TargetNode;
            var symbol = (INamedTypeSymbol)ctx.TargetSymbol;
            var attr = ctx.Attributes[0];
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

        internal static GenerationResult Generate(RequestModel req, BtfFileSet files, CompilationFeatures features, CancellationToken ct)
        {
            var diags = new List<DiagnosticInfo>(req.Problems);
            var sources = new List<GeneratedSource>();
            GenerationResult Done() => new GenerationResult(new EquatableArray<GeneratedSource>(sources), new EquatableArray<DiagnosticInfo>(diags));
            try
            {
                if (diags.Count > 0) return Done();
                if (!features.LanguageOk) { diags.Add(DiagnosticInfo.Create("BTFB005", req.AttributeLocation, features.LanguageVersion)); return Done(); }
                if (!features.HasInlineArray) { diags.Add(DiagnosticInfo.Create("BTFB006", req.AttributeLocation, "System.Runtime.CompilerServices.InlineArrayAttribute")); return Done(); }
                if (req.Names.Count == 0) { diags.Add(DiagnosticInfo.Create("BTFB010", req.AttributeLocation)); return Done(); }

                var file = ChooseFile(req, files, diags);
                if (file == null) return Done();
                ct.ThrowIfCancellationRequested();

                Btf btf;
                try { btf = BtfCache.Get(file); }
                catch (BtfException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, e.Message)); return Done(); }
                catch (IOException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, file.Path + ": " + e.Message)); return Done(); }

                LayoutPlan plan;
                List<UnknownTypeName> unknown;
                try { plan = LayoutPlanner.Plan(btf, req.Names.Select(n => n.Name), new LayoutOptions { FollowPointers = req.FollowPointers }, out unknown); }
                catch (BtfException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, e.Message)); return Done(); }

                foreach (var u in unknown)
                {
                    var loc = req.Names.FirstOrDefault(n => n.Name == u.Name)?.Location ?? req.AttributeLocation;
                    string hint = u.Suggestions.Count > 0 ? "; did you mean " + string.Join(", ", u.Suggestions.Select(s => "'" + s + "'")) + "?" : "";
                    diags.Add(DiagnosticInfo.Create("BTFB001", loc, u.Name, file.FileName, hint));
                }
                foreach (var w in plan.Warnings.Distinct().Take(20)) diags.Add(DiagnosticInfo.Create("BTFB008", req.AttributeLocation, w));

                var options = new EmitOptions { Namespace = req.Namespace, AllowUnsafe = features.AllowUnsafe, SourceLabel = file.FileName };
                foreach (var c in req.Containers) options.Containers.Add(new KeyValuePair<string, string>(c.Keyword, c.Name));
                options.RegisterEnums = req.Containers.All(c => c.ModuleAccessible);
                foreach (var f in new CSharpEmitter(plan, options).Emit()) sources.Add(new GeneratedSource(f.HintName, f.Text));
                return Done();
            }
            catch (OperationCanceledException) { throw; }
            catch (Exception e)
            {
                // Never let an exception escape into the compiler.
                diags.Add(DiagnosticInfo.Create("BTFB009", req.AttributeLocation, e.GetType().Name + ": " + e.Message));
                sources.Clear();
                return Done();
            }
        }

        private static BtfFileRef? ChooseFile(RequestModel req, BtfFileSet files, List<DiagnosticInfo> diags)
        {
            var all = files.Files.ToList();
            if (req.BtfFile != null)
            {
                var match = all.Where(f => f.FileName == req.BtfFile || f.Path == req.BtfFile || f.Path.EndsWith("/" + req.BtfFile, StringComparison.Ordinal) || f.Path.EndsWith("\\" + req.BtfFile, StringComparison.Ordinal)).ToList();
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
    }
}
