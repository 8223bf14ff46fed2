using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using BtfBindings.Cli.Layout;
using BtfBindings.Minimize;
using BtfBindings.Layout;

namespace BtfBindings.Cli.Commands
{
    /// <summary>
    /// <c>btfgen minimize --btf FULL -o SMALL.btf TYPES…</c>: a small valid BTF with just what CO-RE needs for the types and
    /// the types generated with them, by the rule the build embeds <c>Embed="true"</c> targets with
    /// (<see cref="BtfMinimizer.MinimizeForCore"/>), checked to give the same layouts as the full BTF before it is written.
    /// </summary>
    internal static class MinimizeCommand
    {
        public static Command Create(CliContext ctx)
        {
            var types = new Argument<string[]>("TYPES") { Description = "Types the application needs (struct, union, enum or typedef names).", Arity = ArgumentArity.OneOrMore };
            BtfGenCommand.RejectOptionLikeTokens(types, typeNames: true);
            var btfOpt = BtfGenCommand.BtfOption();
            var baseOpt = BtfGenCommand.BaseOption();
            var output = new Option<string>("--output", "-o") { Description = "Where to write the minimized raw BTF.", HelpName = "FILE", Required = true };
            var json = BtfGenCommand.JsonOption("the size report");
            var cmd = new Command("minimize", "Write a small BTF holding just what the named types need (like 'bpftool gen min_core_btf'), for shipping with an application to kernels without BTF.")
            { types, btfOpt, baseOpt, output, json };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                string path = pr.GetValue(btfOpt)!;
                var btf = BtfGenCommand.LoadAny(path, pr.GetValue(baseOpt), ctx);
                var names = pr.GetValue(types)!;
                var plan = LayoutPlanner.Plan(btf, names, null, out var unknown);
                if (unknown.Count > 0)
                {
                    foreach (var u in unknown) ctx.Error(GenerateCommand.UnknownMessage(u, path));
                    return 1;
                }
                var rootTypes = new List<PlannedType>();
                foreach (var n in names)
                    rootTypes.Add(PlanLookup.Find(plan, btf, n) ?? throw new BtfException($"'{n}' not found in the plan", path));
                // The build's rule for Embed="true" targets: every type CO-RE may look up for the generated types (all
                // same-named candidates, by essential name; the names as given, so a typedef answers to its name too).
                var result = BtfMinimizer.MinimizeForCore(btf, BtfMinimizer.CoreNames(plan).Concat(names));

                // Self-check: the small BTF parses and plans every requested type to the same layout.
                var small = Btf.Parse((byte[])result.Data.Clone(), pr.GetValue(output)!);
                var smallPlan = LayoutPlanner.Plan(small, names, null, out var lost);
                if (lost.Count > 0) throw new InvalidOperationException("minimized BTF lost " + string.Join(", ", lost.Select(l => l.Name)));
                for (int i = 0; i < names.Length; i++)
                {
                    var s = PlanLookup.Find(smallPlan, small, names[i]);
                    var d = DiffCommand.Compare(names[i], rootTypes[i], s);
                    if (d.Differs) throw new InvalidOperationException($"minimized BTF changes the layout of {names[i]} ({d.Status}, {d.Fields.Count} fields)");
                }

                string outPath = pr.GetValue(output)!;
                File.WriteAllBytes(outPath, result.Data);
                long fullBytes = FullSize(path, btf, ctx);
                int fullTypes = btf.TypeCount - 1;
                int smallTypes = small.TypeCount - 1;
                if (pr.GetValue(json))
                {
                    ctx.Out.Flush();
                    using var w = new Utf8JsonWriter(ctx.StdoutStream, new JsonWriterOptions { Indented = true });
                    w.WriteStartObject();
                    w.WriteString("input", path);
                    w.WriteString("output", outPath);
                    w.WriteStartArray("types");
                    foreach (var n in names) w.WriteStringValue(n);
                    w.WriteEndArray();
                    w.WriteNumber("full_bytes", fullBytes);
                    w.WriteNumber("small_bytes", result.Data.Length);
                    w.WriteNumber("full_types", fullTypes);
                    w.WriteNumber("small_types", smallTypes);
                    w.WriteNumber("kept_by_value", result.KeptFull);
                    w.WriteNumber("kept_for_pointers", result.KeptForPointers);
                    w.WriteNumber("forward_declarations", result.Forwards);
                    w.WriteEndObject();
                    w.Flush();
                    ctx.StdoutStream.WriteByte((byte)'\n');
                    ctx.StdoutStream.Flush();
                }
                else
                {
                    double pct = fullBytes > 0 ? 100.0 * result.Data.Length / fullBytes : 0;
                    ctx.Out.WriteLine($"{outPath}: {result.Data.Length} bytes, {smallTypes} types ({result.KeptFull} kept by value, {result.KeptForPointers} to spell pointers, {result.Forwards} forward declarations)");
                    ctx.Out.WriteLine($"full BTF: {fullBytes} bytes, {fullTypes} types; the minimized BTF is {pct.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}% of it ({(fullBytes > 0 ? (double)fullBytes / result.Data.Length : 0).ToString("0", System.Globalization.CultureInfo.InvariantCulture)}x smaller)");
                }
                return 0;
            }));
            return cmd;
        }

        /// <summary>Size of the full raw BTF blob in the input (its own types and strings; not a module's base).</summary>
        private static long FullSize(string path, Btf btf, CliContext ctx)
        {
            try
            {
                var found = Containers.KernelImage.FindBtf(File.ReadAllBytes(path), path, btf.Base, null);
                return found.Data.Length;
            }
            catch (BtfException) { return new FileInfo(path).Length; }
        }
    }
}
