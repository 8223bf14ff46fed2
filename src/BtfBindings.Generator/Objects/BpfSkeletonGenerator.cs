using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using BtfBindings.Emit;
using BtfBindings.Generator;
using BtfBindings.Layout;
using Microsoft.CodeAnalysis;

namespace BtfBindings.Objects
{
    /// <summary>
    /// A skeleton class per <c>&lt;BpfObject&gt;</c> (and compiled <c>&lt;BpfProgram&gt;</c>) of the project, from the targets'
    /// manifest (<see cref="BtfFileManifest"/>): the object's programs, maps and globals (<see cref="SkeletonWriter"/>), and
    /// every named struct, union and enum of its BTF nested in the class through the kernel-type emitter, so event types,
    /// map keys and values come out exactly as kernel types do (bitfields, unions, anonymous members, padding); plus the
    /// types only locals reach, from pahole's BTF of the object's DWARF where the targets made one (<see cref="LocalTypes"/>).
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class BpfSkeletonGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var objects = BtfFileManifest.Read(context)
                .SelectMany(static (m, _) => BtfFileManifest.ParseObjects(BtfFileManifest.Texts(m)));
            var rootNamespace = context.AnalyzerConfigOptionsProvider
                .Select(static (o, _) => o.GlobalOptions.TryGetValue("build_property.RootNamespace", out var ns) ? ns : "");
            var features = context.CompilationProvider.Select((c, _) => BtfSourceGenerator.ReadFeatures(c));
            var generated = objects.Combine(rootNamespace).Combine(features)
                .Select(static (x, ct) => Generate(x.Left.Left, x.Left.Right, x.Right, ct));
            context.RegisterSourceOutput(generated, static (spc, result) =>
            {
                foreach (var d in result.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
                foreach (var s in result.Sources) spc.AddSource(s.HintName, s.Text);
            });
        }

        internal static GenerationResult Generate(BpfObjectRef obj, string rootNamespace, CompilationFeatures features, CancellationToken ct)
        {
            var diags = new List<DiagnosticInfo>();
            var sources = new List<GeneratedSource>();
            GenerationResult Done() => new GenerationResult(new EquatableArray<GeneratedSource>(sources), new EquatableArray<DiagnosticInfo>(diags));
            try
            {
                if (!features.LanguageOk) { diags.Add(DiagnosticInfo.Create("BTFB005", null, features.LanguageVersion)); return Done(); }
                if (!features.HasInlineArray) { diags.Add(DiagnosticInfo.Create("BTFB006", null, "System.Runtime.CompilerServices.InlineArrayAttribute")); return Done(); }
                BpfObjectInfo info;
                try { info = BpfObjectReader.Read(obj.Path); }
                catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
                {
                    diags.Add(DiagnosticInfo.Create("BTFB014", null, obj.Path, e.Message));
                    return Done();
                }
                ct.ThrowIfCancellationRequested();
                System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
                LayoutPlan plan;
                try { plan = LayoutPlanner.PlanAll(info.Btf); }
                catch (BtfException e) { diags.Add(DiagnosticInfo.Create("BTFB014", null, obj.Path, e.Message)); return Done(); }
                if (obj.TypesPath.Length > 0)
                {
                    try { LocalTypes.AddTo(plan, info.Btf, Btf.Load(obj.TypesPath), obj.Kernel == null ? null : BtfCache.Get(obj.Kernel)); }
                    catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
                    {
                        diags.Add(DiagnosticInfo.Create("BTFB014", null, obj.TypesPath, e.Message));
                        return Done();
                    }
                }

                string className = obj.ClassName.Length > 0 ? obj.ClassName : SkeletonWriter.ClassNameOf(obj.FileName);
                string ns = obj.Namespace.Length > 0 ? obj.Namespace : rootNamespace;
                string resource = obj.ResourceName.Length > 0 ? obj.ResourceName : "BtfBindings.Bpf/" + obj.FileName;
                var options = new EmitOptions { Namespace = ns, SourceLabel = obj.FileName };
                var emitter = new CSharpEmitter(plan, options);
                var warnings = new List<string>(info.Warnings);
                // The object's types are nested in the class: its name, and every member the skeleton adds, yield to theirs.
                var scope = new SkeletonNames("the skeleton class", emitter.DeclaredNames(), warnings);
                string cls = scope.Add(CSharpNames.Type(className).TrimStart('@'));
                options.Containers.Add(new KeyValuePair<string, string>("public sealed partial class", cls));
                foreach (var f in emitter.Emit()) sources.Add(new GeneratedSource(f.HintName, f.Text));
                string skeleton = SkeletonWriter.Write(info, emitter, scope, ns, cls, obj.FileName, resource, warnings);
                sources.Add(new GeneratedSource(cls.TrimStart('@') + ".Skeleton.g.cs", skeleton));
                foreach (var w in warnings.Take(20)) diags.Add(DiagnosticInfo.Create("BTFB015", null, obj.FileName, w));
                foreach (var w in plan.Warnings.Concat(emitter.Warnings).Distinct().Take(20)) diags.Add(DiagnosticInfo.Create("BTFB008", null, w));
                return Done();
            }
            catch (OperationCanceledException) { throw; }
            catch (Exception e)
            {
                diags.Add(DiagnosticInfo.Create("BTFB009", null, BtfSourceGenerator.Describe(e)));
                sources.Clear();
                return Done();
            }
        }
    }
}
