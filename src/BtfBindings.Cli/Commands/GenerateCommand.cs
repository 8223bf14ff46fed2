using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Text;
using BtfBindings.Emit;
using BtfBindings.Layout;

namespace BtfBindings.Cli.Commands
{
    /// <summary>
    /// <c>btfgen [generate] TYPE… [--btf FILE]</c>: the C# the source generator writes for the same types (the
    /// emitter is shared as source), as one file: one namespace, optionally one container class.
    /// </summary>
    internal static class GenerateCommand
    {
        private sealed class Options
        {
            public readonly Argument<string[]> Types = new("TYPES") { Description = "Kernel type names (struct, union, enum or typedef), e.g. task_struct iphdr.", Arity = ArgumentArity.ZeroOrMore };
            public readonly Option<string> Btf = BtfGenCommand.BtfOption();
            public readonly Option<string?> Base = BtfGenCommand.BaseOption();
            public readonly Option<string?> Output = new("--output", "-o") { Description = "Write the C# to FILE instead of standard output.", HelpName = "FILE" };
            public readonly Option<string?> Namespace = new("--namespace", "-n") { Description = "Namespace of the generated types (default: the global namespace).", HelpName = "NS" };
            public readonly Option<string?> Class = new("--class", "-c") { Description = "Nest the types in 'public partial class NAME' (as [BtfTypes] on a partial class does).", HelpName = "NAME" };
            public readonly Option<bool> All = new("--all") { Description = "Generate every named struct, union and enum of the BTF." };
            public readonly Option<bool> FollowPointers = new("--follow-pointers") { Description = "Generate pointee types in full instead of opaque stubs." };
            public readonly Option<bool> NoUnsafe = new("--no-unsafe") { Description = "Use inline arrays instead of fixed buffers (no AllowUnsafeBlocks needed for arrays)." };

            public void AddTo(Command c)
            {
                c.Arguments.Add(Types);
                foreach (var o in new Option[] { Btf, Base, Output, Namespace, Class, All, FollowPointers, NoUnsafe }) c.Options.Add(o);
            }
        }

        /// <summary>Makes generation the root command's own action: <c>btfgen task_struct iphdr</c>.</summary>
        public static void ConfigureRoot(RootCommand root, CliContext ctx)
        {
            var o = new Options();
            o.AddTo(root);
            root.SetAction(pr => BtfGenCommand.Guard(ctx, () => Execute(pr, o, ctx)));
        }

        public static Command Create(CliContext ctx)
        {
            var o = new Options();
            var cmd = new Command("generate", "Generate C# structs for kernel types (the default command): the same code the BtfBindings source generator writes.");
            o.AddTo(cmd);
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () => Execute(pr, o, ctx)));
            return cmd;
        }

        private static int Execute(ParseResult pr, Options o, CliContext ctx)
        {
            var names = pr.GetValue(o.Types) ?? Array.Empty<string>();
            bool all = pr.GetValue(o.All);
            if (!all && names.Length == 0)
            {
                ctx.Error("no type names given: name the types to generate (e.g. 'btfgen task_struct iphdr'), or pass --all");
                ctx.Err.WriteLine("Try 'btfgen --help'.");
                return BtfGenCommand.ExitError;
            }
            if (all && names.Length > 0) ctx.Warning("--all generates every type; the names given are ignored");
            string btfPath = pr.GetValue(o.Btf)!;
            // BTFGEN_TIMING=1 prints where the time goes (load, plan, emit, write) to stderr.
            var timer = Environment.GetEnvironmentVariable("BTFGEN_TIMING") == "1" ? System.Diagnostics.Stopwatch.StartNew() : null;
            void Mark(string phase) { if (timer != null) { ctx.Err.WriteLine($"timing: {phase} {timer.Elapsed.TotalMilliseconds:0.0} ms (since start of process {(DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime).TotalMilliseconds:0} ms; jitted so far {System.Runtime.JitInfo.GetCompiledMethodCount()} methods in {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms; {GC.GetTotalAllocatedBytes() >> 20} MB allocated, {GC.CollectionCount(0)} GCs)"); timer.Restart(); } }
            Mark("start");
            var btf = BtfGenCommand.LoadAny(btfPath, pr.GetValue(o.Base), ctx);
            Mark("load");
            var layoutOptions = new LayoutOptions { FollowPointers = pr.GetValue(o.FollowPointers) };
            LayoutPlan plan;
            if (all) plan = LayoutPlanner.PlanAll(btf, layoutOptions);
            else
            {
                plan = LayoutPlanner.Plan(btf, names, layoutOptions, out var unknown);
                if (unknown.Count > 0)
                {
                    foreach (var u in unknown) ctx.Error(UnknownMessage(u, btfPath));
                    return 1;
                }
            }
            ReportWarnings(plan, ctx);
            Mark("plan");

            string? ns = pr.GetValue(o.Namespace);
            string? cls = pr.GetValue(o.Class);
            var text = Generate(plan, ns ?? "", cls, !pr.GetValue(o.NoUnsafe), Path.GetFileName(btfPath));
            Mark("emit");
            var output = pr.GetValue(o.Output);
            if (output == null || output == "-")
            {
                ctx.Out.Write(text);
            }
            else
            {
                using (var file = new StreamWriter(output, false, new UTF8Encoding(false), 1 << 16)) file.Write(text);
                ctx.Progress($"wrote {plan.Types.Count} types ({text.Length / 1024} KB of C#) to {output}");
            }
            Mark("write");
            return 0;
        }

        /// <summary>"unknown type 'x' in FILE; did you mean: a, b?"</summary>
        internal static string UnknownMessage(UnknownTypeName u, string source)
            => $"unknown type '{u.Name}' in {source}" + (u.Suggestions.Count > 0 ? "; did you mean: " + string.Join(", ", u.Suggestions) + "?" : " (no similar names)");

        internal static void ReportWarnings(LayoutPlan plan, CliContext ctx, int max = 10)
        {
            int n = 0;
            foreach (var w in plan.Warnings)
                if (n++ < max) ctx.Warning(w);
            if (n > max) ctx.Warning($"... and {n - max} more warnings");
        }

        /// <summary>The emitter's output for <paramref name="plan"/> as one C# file: one header, one namespace, one container.</summary>
        internal static StringBuilder Generate(LayoutPlan plan, string ns, string? cls, bool allowUnsafe, string sourceLabel)
        {
            var options = new EmitOptions { Namespace = ns, AllowUnsafe = allowUnsafe, SourceLabel = sourceLabel };
            if (!string.IsNullOrEmpty(cls)) options.Containers.Add(new KeyValuePair<string, string>("public partial class", cls!));
            // The container class is ours (with [BtfTypes] the user declares it), so it gets the doc comment.
            var text = new StringBuilder(1 << 20);
            new CSharpEmitter(plan, options).EmitSingleFile(text, $"Kernel types from <c>{CSharpNames.Xml(sourceLabel)}</c>, generated by btfgen.");
            return text;
        }
    }
}
