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
            var files = BtfFileManifest.Read(context)
                .Select(static (m, _) => BtfFileManifest.Parse(BtfFileManifest.Texts(m)))
                .WithTrackingName(Steps.Files);

            var features = context.CompilationProvider
                .Select((c, _) => ReadFeatures(c))
                .WithTrackingName(Steps.Features);

            var requests = context.SyntaxProvider.ForAttributeWithMetadataName(
                    AttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => BtfTypesRequest.Read((INamedTypeSymbol)ctx.TargetSymbol, ctx.Attributes[0], (ClassDeclarationSyntax)ctx.TargetNode, ct))
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

        internal static CompilationFeatures ReadFeatures(Compilation c)
        {
            // Runs on every edit: only cheap checks (the core library alone is searched, not every reference).
            var lv = c is CSharpCompilation cs ? cs.LanguageVersion : LanguageVersion.Default;
            bool langOk = lv >= LanguageVersion.CSharp12;
            var core = c.GetSpecialType(SpecialType.System_Object).ContainingAssembly;
            bool inline = core?.GetTypeByMetadataName("System.Runtime.CompilerServices.InlineArrayAttribute") != null;
            return new CompilationFeatures(langOk, lv.ToDisplayString(), inline);
        }

        /// <summary>
        /// Generates one request. Problems in the user's code (BTFB001, 002, 003, 007, 010, 011) stop or trim generation
        /// silently here: <see cref="BtfTypesAnalyzer"/> reports them, so they show in the IDE and are not doubled on build.
        /// This reports what only generation finds: unreadable BTF (004), old language or framework (005, 006), layouts
        /// C# cannot hold exactly (008), and any failure of its own (009) — nothing it meets may take the compiler down.
        /// </summary>
        internal static GenerationResult Generate(RequestModel req, BtfFileSet files, CompilationFeatures features, CancellationToken ct)
        {
            var diags = new List<DiagnosticInfo>();
            var sources = new List<GeneratedSource>();
            GenerationResult Done() => new GenerationResult(new EquatableArray<GeneratedSource>(sources), new EquatableArray<DiagnosticInfo>(diags));
            try
            {
                if (req.Problems.Count > 0) return Done();
                if (!features.LanguageOk) { diags.Add(DiagnosticInfo.Create("BTFB005", req.AttributeLocation, features.LanguageVersion)); return Done(); }
                if (!features.HasInlineArray) { diags.Add(DiagnosticInfo.Create("BTFB006", req.AttributeLocation, "System.Runtime.CompilerServices.InlineArrayAttribute")); return Done(); }
                if (req.Names.Count == 0) return Done();

                var file = BtfTypesRequest.ChooseFile(req, files, new List<DiagnosticInfo>());
                if (file == null) return Done();
                ct.ThrowIfCancellationRequested();

                Btf btf;
                try { btf = BtfCache.Get(file); }
                catch (BtfException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, e.Message)); return Done(); }
                catch (IOException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, file.Path + ": " + e.Message)); return Done(); }
                catch (UnauthorizedAccessException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, file.Path + ": " + e.Message)); return Done(); }

                // Planning walks types the BTF defines; the walks are bounded, and this guard turns any deep recursion left
                // into an InsufficientExecutionStackException (BTFB009) rather than a stack overflow that kills the compiler.
                System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
                LayoutPlan plan;
                try { plan = LayoutPlanner.Plan(btf, req.Names.Select(n => n.Name), new LayoutOptions { FollowPointers = req.FollowPointers }, out _); }
                catch (BtfException e) { diags.Add(DiagnosticInfo.Create("BTFB004", req.AttributeLocation, e.Message)); return Done(); }

                var options = new EmitOptions { Namespace = req.Namespace, SourceLabel = file.FileName };
                foreach (var c in req.Containers) options.Containers.Add(new KeyValuePair<string, string>(c.Keyword, c.Name));
                options.RegisterEnums = req.Containers.All(c => c.ModuleAccessible);
                var emitter = new CSharpEmitter(plan, options);
                foreach (var f in emitter.Emit()) sources.Add(new GeneratedSource(f.HintName, f.Text));
                foreach (var w in plan.Warnings.Concat(emitter.Warnings).Distinct().Take(20)) diags.Add(DiagnosticInfo.Create("BTFB008", req.AttributeLocation, w));
                return Done();
            }
            catch (OperationCanceledException) { throw; }
            catch (Exception e)
            {
                // Never let an exception escape into the compiler: report it with where it came from.
                diags.Add(DiagnosticInfo.Create("BTFB009", req.AttributeLocation, Describe(e)));
                sources.Clear();
                return Done();
            }
        }

        /// <summary>The exception's type and message and its first frames, on one line (a diagnostic message is one line).</summary>
        internal static string Describe(Exception e)
        {
            var frames = (e.StackTrace ?? "").Split('\n').Select(f => f.Trim()).Where(f => f.Length > 0).Take(4);
            return e.GetType().Name + ": " + e.Message.Replace('\n', ' ').Replace('\r', ' ') + " | " + string.Join(" | ", frames);
        }
    }
}
