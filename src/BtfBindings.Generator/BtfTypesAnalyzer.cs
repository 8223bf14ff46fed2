using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace BtfBindings.Generator
{
    /// <summary>
    /// The generator's companion analyzer (LibraryImport's model in dotnet/runtime): reports the checks on user code —
    /// BTFB001 (with "did you mean"), 002, 003, 007, 010, 011 — because language servers and IDEs show analyzer
    /// diagnostics live, and a generator's only on build. It reads the same manifest and shares the process's parsed-BTF
    /// cache (<see cref="BtfCache"/>), so a keystroke costs a dictionary look-up, not a parse.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class BtfTypesAnalyzer : DiagnosticAnalyzer
    {
        private static readonly ImmutableArray<DiagnosticDescriptor> Supported = ImmutableArray.Create(
            Diagnostics.UnknownType, Diagnostics.NoBtfFile, Diagnostics.AmbiguousBtfFile, Diagnostics.NotPartial,
            Diagnostics.NoNames, Diagnostics.Generic);

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Supported;

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterCompilationStartAction(start =>
            {
                var attribute = start.Compilation.GetTypeByMetadataName(BtfSourceGenerator.AttributeName);
                if (attribute == null) return;
                BtfFileSet? files = null;
                var gate = new object();
                BtfFileSet Files()
                {
                    lock (gate)
                    {
                        if (files != null) return files;
                        return files = BtfFileManifest.Parse(BtfFileManifest.Texts(start.Options, start.CancellationToken));
                    }
                }
                start.RegisterSymbolAction(sa => Analyze(sa, attribute, Files), SymbolKind.NamedType);
            });
        }

        private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol attribute, System.Func<BtfFileSet> files)
        {
            var symbol = (INamedTypeSymbol)context.Symbol;
            foreach (var attr in symbol.GetAttributes())
            {
                if (!SymbolEqualityComparer.Default.Equals(attr.AttributeClass, attribute)) continue;
                var cls = attr.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken)?.FirstAncestorOrSelf<ClassDeclarationSyntax>();
                if (cls == null) continue;
                var req = BtfTypesRequest.Read(symbol, attr, cls, context.CancellationToken);
                foreach (var d in BtfTypesRequest.Check(req, files(), context.CancellationToken))
                    context.ReportDiagnostic(d.ToDiagnostic());
            }
        }
    }
}
