using System.Collections.Immutable;
using System.IO;
using System.Linq;
using BtfBindings.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BtfBindings.Embed
{
    /// <summary>
    /// Embeds the BTF of the project's <c>&lt;BtfTarget … Embed="true" /&gt;</c> kernels in the assembly, minimized to the
    /// program's generated types (every <c>[BtfTypes]</c> request's types and their closure), deduplicated and compressed
    /// (<see cref="EmbeddedBtfBuilder"/>, <see cref="Emit.EmbeddedBtfEmitter"/>), so <c>TargetKernel.Current()</c> finds it on
    /// kernels built without BTF. Costs nothing in a project without such targets, or in the IDE: the type sets are not
    /// even planned.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class EmbeddedBtfGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var manifests = BtfFileManifest.Read(context);
            var files = manifests.Select(static (m, _) => BtfFileManifest.Parse(BtfFileManifest.Texts(m)));
            var targets = manifests.Select(static (m, _) => new EmbedTargets(
                new EquatableArray<BtfTargetRef>(BtfFileManifest.ParseTargets(BtfFileManifest.Texts(m)).Where(t => t.Embed)),
                m.Length > 0 ? Path.Combine(Path.GetDirectoryName(m[0].Path) ?? "", "btfbindings") : ""));
            // The IDE's compilations come with DesignTimeBuild=true: no code there uses the embedded blobs, so the IDE never
            // reads or minimizes a target, whatever is edited.
            var designTime = context.AnalyzerConfigOptionsProvider
                .Select(static (o, _) => o.GlobalOptions.TryGetValue("build_property.DesignTimeBuild", out var v) && string.Equals(v, "true", System.StringComparison.OrdinalIgnoreCase));
            var hasTargets = targets.Combine(designTime).Select(static (x, _) => x.Left.Targets.Count > 0 && !x.Right);

            var typeSets = context.SyntaxProvider.ForAttributeWithMetadataName(
                    BtfSourceGenerator.AttributeName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    static (ctx, ct) => BtfTypesRequest.Read((INamedTypeSymbol)ctx.TargetSymbol, ctx.Attributes[0], (ClassDeclarationSyntax)ctx.TargetNode, ct))
                .Combine(files).Combine(hasTargets)
                .Select(static (x, ct) => x.Right ? EmbeddedBtfBuilder.TypeSet(x.Left.Left, x.Left.Right, ct) : EmbedTypeSet.Empty)
                .Collect();

            var generated = typeSets.Combine(targets).Combine(hasTargets)
                .Select(static (x, ct) => x.Right ? EmbeddedBtfBuilder.Build(x.Left.Left, x.Left.Right, ct) : EmbeddedBtfBuilder.Nothing);
            context.RegisterSourceOutput(generated, static (spc, result) =>
            {
                foreach (var d in result.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
                foreach (var s in result.Sources) spc.AddSource(s.HintName, s.Text);
            });
        }
    }

    /// <summary>The targets to embed and where the size report goes (<c>obj/…/btfbindings</c>).</summary>
    internal sealed record EmbedTargets(EquatableArray<BtfTargetRef> Targets, string ReportDirectory);

    /// <summary>One request's contribution: the names its generated types are looked up by, and the names it requested (with where).</summary>
    internal sealed record EmbedTypeSet(EquatableArray<string> Names, EquatableArray<RequestedName> Requested)
    {
        public static readonly EmbedTypeSet Empty = new EmbedTypeSet(new EquatableArray<string>(ImmutableArray<string>.Empty), new EquatableArray<RequestedName>(ImmutableArray<RequestedName>.Empty));
    }
}
