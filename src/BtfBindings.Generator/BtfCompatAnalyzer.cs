using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using BtfBindings.Compatibility;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace BtfBindings.Generator
{
    /// <summary>
    /// Checks every read or write of a generated member in user code against the project's <c>&lt;BtfTarget&gt;</c> kernels
    /// and warns at the use, naming the kernels grouped: BTFB019 missing, BTFB020 incompatible, BTFB021 ambiguous, BTFB022 a
    /// plain struct read of a field that is elsewhere on some targets (a view relocates it). The verdicts are compat-engine's
    /// one rule (<see cref="CompatibilityRule"/>), memoised per (target, use) in the process (<see cref="BtfCache.Verdict"/>).
    /// <para>
    /// A use is a field or property reference whose containing type is a generated struct/union (plain access) or its
    /// <c>View</c> (view access), or an enumerator of a generated enum; a chain (<c>t.se.vruntime</c>) is one use of the whole
    /// path from the first generated type (<c>task_struct.se.vruntime</c>). An enumerator passed to <c>TargetKernel.ValueOf</c>,
    /// <c>TryValueOf</c> or <c>EnumValueExists</c> is read the way a view reads (its value is relocated).
    /// </para>
    /// <para>
    /// BTFB019/020 are silenced where the use is guarded, in the same method (or lambda/local function), by a test of that
    /// member by name — <c>Has_x</c>, <c>Exists(nameof(….x))</c> or <c>Exists("x")</c> (for an enumerator
    /// <c>EnumValueExists(E.x)</c> or <c>TryValueOf(E.x, out …)</c>) — as: the condition of an enclosing <c>if</c> whose
    /// then-branch holds the use (the test alone or one operand of a <c>&amp;&amp;</c> chain), the negated test of an enclosing
    /// <c>if</c> whose else-branch holds it, the condition of a <c>?:</c> or the left of a <c>&amp;&amp;</c> holding it, or
    /// an earlier statement of an enclosing block <c>if (!test) return/continue/break/throw…;</c> (the negated test alone or
    /// one operand of a <c>||</c> chain). Ambiguity (021) and a plain read of a moved field (022) are never silenced: no
    /// test makes them right.
    /// </para>
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class BtfCompatAnalyzer : DiagnosticAnalyzer
    {
        private static readonly ImmutableArray<DiagnosticDescriptor> Supported = ImmutableArray.Create(
            Diagnostics.MissingOnTargets, Diagnostics.IncompatibleOnTargets, Diagnostics.AmbiguousOnTargets, Diagnostics.MovedForPlainRead);

        private static readonly HashSet<string> ViewPlumbing = new HashSet<string>(StringComparer.Ordinal) { "Data", "Resolution", "IsComplete" };

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Supported;

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.RegisterCompilationStartAction(Start);
        }

        private static void Start(CompilationStartAnalysisContext start)
        {
            // Nothing to do (and nothing parsed) without generated types or without BtfTarget items.
            var attribute = start.Compilation.GetTypeByMetadataName(BtfSourceGenerator.AttributeName);
            var btfType = start.Compilation.GetTypeByMetadataName("BtfBindings.IBtfType");
            if (attribute == null || btfType == null) return;
            var texts = BtfFileManifest.Texts(start.Options, start.CancellationToken);
            var targets = BtfFileManifest.ParseTargets(texts);
            if (targets.Count == 0) return;
            var manifest = start.Options.AdditionalFiles.First(a => BtfFileManifest.IsManifest(a.Path)).Path;
            string verdictFile = VerdictFile.PathFor(manifest);
            var ctx = new Context(attribute, btfType, BtfFileManifest.Parse(texts), targets, VerdictFile.LoadShared(verdictFile));
            start.RegisterOperationAction(oc => Analyze(oc, ctx), OperationKind.FieldReference, OperationKind.PropertyReference);
            // A build's compile hands its new verdicts to the report task that follows and to the next compiler process
            // (an IDE runs this only in full-solution analysis; its own process keeps the verdicts anyway).
            start.RegisterCompilationEndAction(_ => ctx.Save(verdictFile));
        }

        /// <summary>What one compilation's checks share: the symbols, the manifest, and the targets as messages name them.</summary>
        private sealed class Context
        {
            public Context(INamedTypeSymbol attribute, INamedTypeSymbol btfType, BtfFileSet files, EquatableArray<BtfTargetRef> targets, IReadOnlyDictionary<string, CompatResult> known)
            {
                Attribute = attribute; BtfType = btfType; Files = files; Targets = targets; Known = known;
                Infos = targets.Select(t => KernelTargetInfo.FromPath(t.Path, t.Release.Length == 0 ? null : t.Release, t.Arch.Length == 0 ? null : t.Arch)).ToArray();
            }
            public INamedTypeSymbol Attribute { get; }
            public INamedTypeSymbol BtfType { get; }
            public BtfFileSet Files { get; }
            public EquatableArray<BtfTargetRef> Targets { get; }
            public KernelTargetInfo[] Infos { get; }
            /// <summary>The last build's verdicts (<see cref="VerdictFile"/>): a fresh compiler process parses no target for them.</summary>
            public IReadOnlyDictionary<string, CompatResult> Known { get; }
            /// <summary>Verdicts this compilation's analysis added to <see cref="Known"/>.</summary>
            public System.Collections.Concurrent.ConcurrentDictionary<string, CompatResult> Added { get; } = new System.Collections.Concurrent.ConcurrentDictionary<string, CompatResult>(StringComparer.Ordinal);

            /// <summary>Writes <see cref="Known"/> and <see cref="Added"/> to the verdict file when something was added (atomically: an IDE may build at once).</summary>
            public void Save(string path)
            {
                // Only beside a real manifest (an in-memory one, as in tests, has no folder of its own).
                if (Added.IsEmpty || !Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(path)))) return;
                string tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllText(tmp, VerdictFile.Write(Known.Concat(Added.Where(kv => !Known.ContainsKey(kv.Key)))));
                    if (File.Exists(path)) File.Replace(tmp, path, null); else File.Move(tmp, path);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    try { File.Delete(tmp); } catch (Exception e2) when (e2 is IOException || e2 is UnauthorizedAccessException) { }
                } // only a cache: the next build computes again
            }

            /// <summary>The parsed targets this compilation's analysis used: alive while it runs, collectable after.</summary>
            public HashSet<TargetKernel> Kept { get; } = new HashSet<TargetKernel>();
        }

        private static void Analyze(OperationAnalysisContext oc, Context ctx)
        {
            var op = (IMemberReferenceOperation)oc.Operation;
            if (op.Member.IsStatic && op.Member.ContainingType.TypeKind != TypeKind.Enum) return;
            for (var p = op.Parent; p != null; p = p.Parent) if (p is INameOfOperation) return; // nameof(v.x) reads nothing
            var found = Describe(op, ctx);
            if (found == null) return;
            var (use, owner, member) = found.Value;
            var file = BuildFile(owner, ctx);
            if (file == null) return;

            var verdicts = new CompatVerdict[ctx.Targets.Count];
            var details = new string[ctx.Targets.Count];
            try
            {
                // Concurrent uses start at different targets, so a clean build parses several targets at once.
                int start = Environment.CurrentManagedThreadId % verdicts.Length;
                for (int k = 0; k < verdicts.Length; k++)
                {
                    oc.CancellationToken.ThrowIfCancellationRequested();
                    int i = (start + k) % verdicts.Length;
                    string key = VerdictFile.Key(ctx.Targets[i].Hash, file.Hash, use);
                    if (ctx.Known.TryGetValue(key, out var known)) { verdicts[i] = known.Verdict; details[i] = known.Detail; continue; }
                    var r = BtfCache.Verdict(ctx.Targets[i], file, use, ctx.Kept);
                    ctx.Added[key] = r;
                    verdicts[i] = r.Verdict;
                    details[i] = r.Detail;
                }
            }
            catch (ArgumentException) { return; }      // not a path the build-time BTF has (a renamed C# member): nothing to judge
            catch (BtfException) { return; }           // an unreadable target or BtfFile: the report and the generator say so
            catch (IOException) { return; }
            catch (UnauthorizedAccessException) { return; }

            bool guarded = IsGuarded(op, member, use.Kind == CompatUseKind.EnumValue);
            var location = op.Syntax.GetLocation();
            void Report(DiagnosticDescriptor d, CompatVerdict v, string advice)
            {
                var selected = verdicts.Select(x => x == v).ToArray();
                if (!selected.Any(s => s)) return;
                string what = "'" + use.Text + "' is " + TargetGrouping.Name(v) + " on " + TargetGrouping.Describe(ctx.Infos, selected);
                // An ambiguity names the candidates (on the first such target): "2 struct mm_slot ([29595], [30148]) put mm at byte 40 vs byte 32".
                if (v == CompatVerdict.Ambiguous && Array.FindIndex(verdicts, x => x == v) is int first && !string.IsNullOrEmpty(details[first]))
                    what += ": " + details[first];
                oc.ReportDiagnostic(Diagnostic.Create(d, location, what, advice));
            }
            string guard = use.Kind == CompatUseKind.EnumValue ? "check it with TargetKernel.EnumValueExists or TryValueOf first"
                : use.Access == CompatAccess.View ? "guard it with Has_" + member
                : "read it through " + use.TypeName + ".View and guard it with Has_" + member;
            if (!guarded)
            {
                Report(Diagnostics.MissingOnTargets, CompatVerdict.Missing, guard);
                Report(Diagnostics.IncompatibleOnTargets, CompatVerdict.Incompatible, guard);
            }
            Report(Diagnostics.AmbiguousOnTargets, CompatVerdict.Ambiguous, "CO-RE cannot pick one of the candidates there; leave those targets out or avoid the field");
            if (use.Access == CompatAccess.Plain)
                Report(Diagnostics.MovedForPlainRead, CompatVerdict.Moved, use.Kind == CompatUseKind.EnumValue
                    ? "the constant is the build-time value; read it with TargetKernel.ValueOf" : "read it through " + use.TypeName + ".View");
        }

        /// <summary>
        /// The use an operation is, with the generated type holding its first member (to find the BtfFile) and the last
        /// member's name; null when it is not a use of a generated member, or only the inner part of a longer chain.
        /// </summary>
        private static (CompatUse use, INamedTypeSymbol owner, string member)? Describe(IMemberReferenceOperation op, Context ctx)
        {
            var kind = MemberKind(op.Member, ctx, out _);
            if (kind == Access.None) return null;
            if (kind == Access.Enum)
            {
                var e = op.Member.ContainingType;
                if (IsAnonymous(e.Name) || op.Member is not IFieldSymbol { HasConstantValue: true }) return null;
                var access = IsRelocatedEnumArgument(op) ? CompatAccess.View : CompatAccess.Plain;
                return (new CompatUse(CompatUseKind.EnumValue, e.Name, op.Member.Name, access), e, op.Member.Name);
            }
            // Only the end of a chain is a use: t.se is the inner part of t.se.vruntime.
            if (op.Parent is IMemberReferenceOperation outer && outer.Instance == op && MemberKind(outer.Member, ctx, out _) is Access.Plain or Access.View)
                return null;
            var path = new List<string> { op.Member.Name };
            var first = op;
            while (first.Instance is IMemberReferenceOperation inner && MemberKind(inner.Member, ctx, out _) == kind)
            {
                path.Insert(0, inner.Member.Name);
                first = inner;
            }
            MemberKind(first.Member, ctx, out var root);
            if (root == null || IsAnonymous(root.Name)) return null;
            var use = new CompatUse(CompatUseKind.Field, root.Name, string.Join(".", path), kind == Access.View ? CompatAccess.View : CompatAccess.Plain);
            return (use, root, op.Member.Name);
        }

        private enum Access { None, Plain, View, Enum }

        /// <summary>How <paramref name="member"/> is a generated one, and the generated struct/union or enum it belongs to.</summary>
        private static Access MemberKind(ISymbol member, Context ctx, out INamedTypeSymbol? generated)
        {
            generated = null;
            var t = member.ContainingType;
            if (t == null || member is not (IFieldSymbol or IPropertySymbol)) return Access.None;
            if (t.TypeKind == TypeKind.Enum)
            {
                if (!InBtfTypesClass(t, ctx)) return Access.None;
                generated = t;
                return Access.Enum;
            }
            if (member.IsStatic) return Access.None;
            if (t.TypeKind == TypeKind.Struct && IsGenerated(t, ctx))
            {
                generated = t;
                return Access.Plain;
            }
            if (t.Name == "View" && t.ContainingType is { } parent && IsGenerated(parent, ctx))
            {
                if (ViewPlumbing.Contains(member.Name) || member.Name.StartsWith("Has_", StringComparison.Ordinal)) return Access.None;
                generated = parent;
                return Access.View;
            }
            return Access.None;
        }

        private static bool IsGenerated(INamedTypeSymbol t, Context ctx)
            => t.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, ctx.BtfType)) && InBtfTypesClass(t, ctx);

        private static bool InBtfTypesClass(INamedTypeSymbol t, Context ctx) => BtfTypesClass(t, ctx) != null;

        /// <summary>The [BtfTypes] class a generated type is nested in (and its attribute).</summary>
        private static AttributeData? BtfTypesClass(INamedTypeSymbol t, Context ctx)
        {
            for (var c = t.ContainingType; c != null; c = c.ContainingType)
                foreach (var a in c.GetAttributes())
                    if (SymbolEqualityComparer.Default.Equals(a.AttributeClass, ctx.Attribute)) return a;
            return null;
        }

        // Anonymous members' types get generated names; a use through them is named from their named parent.
        private static bool IsAnonymous(string name) => name.StartsWith("__anon", StringComparison.Ordinal);

        /// <summary>The BtfFile the generated type came from, by the generator's own choice rule.</summary>
        private static BtfFileRef? BuildFile(INamedTypeSymbol owner, Context ctx)
        {
            var attr = BtfTypesClass(owner, ctx);
            if (attr == null) return null;
            string? named = null;
            foreach (var kv in attr.NamedArguments) if (kv.Key == "BtfFile") named = kv.Value.Value as string;
            var req = new RequestModel("", default, default, named, false, null, default);
            return BtfTypesRequest.ChooseFile(req, ctx.Files, new List<DiagnosticInfo>());
        }

        private static bool IsRelocatedEnumArgument(IOperation op)
        {
            var p = op.Parent;
            while (p is IConversionOperation) p = p.Parent;
            return p is IArgumentOperation { Parent: IInvocationOperation inv }
                && inv.TargetMethod.ContainingType?.ToDisplayString() == "BtfBindings.TargetKernel"
                && inv.TargetMethod.Name is "ValueOf" or "TryValueOf" or "EnumValueExists";
        }

        // ---- guards --------------------------------------------------------------------------------------------------

        /// <summary>Whether the use is only reached after a test of <paramref name="member"/> (see the class remarks).</summary>
        private static bool IsGuarded(IOperation use, string member, bool enumerator)
        {
            // The check itself (EnumValueExists(E.x), TryValueOf(E.x, out …)) reads nothing the kernel may lack.
            var arg = use.Parent;
            while (arg is IConversionOperation) arg = arg.Parent;
            if (enumerator && arg is IArgumentOperation { Parent: IInvocationOperation check } && Tests(check, member, enumerator)) return true;
            IOperation child = use;
            for (var p = use.Parent; p != null; child = p, p = p.Parent)
            {
                switch (p)
                {
                    case IConditionalOperation c when c.WhenTrue == child && Asserts(c.Condition, member, enumerator, negated: false):
                        return true;
                    case IConditionalOperation c when c.WhenFalse == child && Asserts(c.Condition, member, enumerator, negated: true):
                        return true;
                    case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd } b when b.RightOperand == child && Asserts(b.LeftOperand, member, enumerator, negated: false):
                        return true;
                    case IBlockOperation block:
                        foreach (var s in block.Operations)
                        {
                            if (s == child) break;
                            if (s is IConditionalOperation { WhenFalse: null } early && Exits(early.WhenTrue) && Asserts(early.Condition, member, enumerator, negated: true))
                                return true;
                        }
                        break;
                    case IAnonymousFunctionOperation or ILocalFunctionOperation or IMethodBodyBaseOperation:
                        return false;
                }
            }
            return false;
        }

        /// <summary>Whether a statement always leaves: return, continue, break, throw, or a block ending in one.</summary>
        private static bool Exits(IOperation s) => s switch
        {
            IReturnOperation or IThrowOperation => true,
            IBranchOperation br => br.BranchKind is BranchKind.Continue or BranchKind.Break,
            IExpressionStatementOperation { Operation: IThrowOperation } => true,
            IBlockOperation b => b.Operations.Length > 0 && Exits(b.Operations[b.Operations.Length - 1]),
            _ => false,
        };

        /// <summary>
        /// Whether <paramref name="cond"/> being true (or false, when <paramref name="negated"/>) means the member was found:
        /// the test itself, or an operand of an <c>&amp;&amp;</c> chain (of an <c>||</c> chain of negations when negated).
        /// </summary>
        private static bool Asserts(IOperation cond, string member, bool enumerator, bool negated)
        {
            while (cond is IParenthesizedOperation par) cond = par.Operand;
            if (cond is IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not) return Asserts(not.Operand, member, enumerator, !negated);
            if (cond is IBinaryOperation b)
            {
                if (!negated && b.OperatorKind == BinaryOperatorKind.ConditionalAnd || negated && b.OperatorKind == BinaryOperatorKind.ConditionalOr)
                    return Asserts(b.LeftOperand, member, enumerator, negated) || Asserts(b.RightOperand, member, enumerator, negated);
                if (b.OperatorKind is BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals && b.RightOperand.ConstantValue is { HasValue: true, Value: bool v })
                    return Asserts(b.LeftOperand, member, enumerator, negated ^ (v != (b.OperatorKind == BinaryOperatorKind.Equals)));
                return false;
            }
            if (negated) return false;
            return Tests(cond, member, enumerator);
        }

        /// <summary>A single test that <paramref name="member"/> exists.</summary>
        private static bool Tests(IOperation op, string member, bool enumerator)
        {
            if (!enumerator && op is IPropertyReferenceOperation p) return p.Property.Name == "Has_" + member;
            if (op is not IInvocationOperation inv || inv.Arguments.Length == 0) return false;
            var arg = inv.Arguments[0].Value;
            while (arg is IConversionOperation conv) arg = conv.Operand;
            if (enumerator)
                return inv.TargetMethod.Name is "EnumValueExists" or "TryValueOf" && arg is IFieldReferenceOperation f && f.Field.Name == member;
            if (inv.TargetMethod.Name != "Exists") return false;
            if (arg is INameOfOperation nameOf) return nameOf.ConstantValue.Value as string == member;
            return arg.ConstantValue.HasValue && arg.ConstantValue.Value is string s && (s == member || s.EndsWith("." + member, StringComparison.Ordinal));
        }
    }
}
