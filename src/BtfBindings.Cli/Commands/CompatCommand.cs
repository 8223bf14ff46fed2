using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using BtfBindings.Compatibility;

namespace BtfBindings.Cli.Commands
{
    /// <summary>
    /// <c>btfgen compat --targets DIR|FILE… [--btf BUILD.btf] (--assembly APP.dll | PATH…) [--json F] [--markdown F]</c>:
    /// every use (a compiled assembly's reads and writes of generated members, or the given <c>type.field</c> paths)
    /// against every target kernel, with the runtime's CO-RE rules (<see cref="CompatibilityRule"/>). Exit code 0: every
    /// use works on every target; 1: some use is missing, incompatible or ambiguous somewhere (or moved, for a plain
    /// struct read); 2: bad usage or unreadable input.
    /// </summary>
    internal static class CompatCommand
    {
        public static Command Create(CliContext ctx)
        {
            var paths = new Argument<string[]>("PATH") { Description = "Uses to check: type.field.path (task_struct.se.vruntime), enum::ENUMERATOR (pid_type::PIDTYPE_TGID), or a type (struct iphdr).", Arity = ArgumentArity.ZeroOrMore };
            BtfGenCommand.RejectOptionLikeTokens(paths, typeNames: true);
            var targets = new Option<string[]>("--targets", "-t") { Description = "Target kernels: BTF files or folders searched recursively (a BTFHub tree: <distro>/<version>/<arch>/<release>.btf.tar.xz).", HelpName = "DIR|FILE", Required = true, AllowMultipleArgumentsPerToken = true };
            var btf = new Option<string?>("--btf", "-b") { Description = "The build-time BTF the generated types (or the paths) come from. Default for paths: " + BtfGenCommand.DefaultKernelBtf + "; required with --assembly.", HelpName = "FILE" };
            var assembly = new Option<string?>("--assembly", "-a") { Description = "A compiled assembly: check every generated member its code reads or writes (source lines from its portable PDB).", HelpName = "APP.dll" };
            var json = new Option<string?>("--json") { Description = "Write the JSON report to FILE ('-' for standard output, instead of the summary).", HelpName = "FILE" };
            var markdown = new Option<string?>("--markdown") { Description = "Write the Markdown report (kernels x uses matrix) to FILE ('-' for standard output).", HelpName = "FILE" };
            var cmd = new Command("compat", "Check field, enum value and type uses against many target kernels with the runtime's CO-RE rules (ok, moved, missing, incompatible, ambiguous). Exit code 0: all ok, 1: a problem on some target, 2: error.")
            { paths, targets, btf, assembly, json, markdown };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                try { return Run(ctx, pr.GetValue(paths) ?? Array.Empty<string>(), pr.GetValue(targets) ?? Array.Empty<string>(), pr.GetValue(btf), pr.GetValue(assembly), pr.GetValue(json), pr.GetValue(markdown)); }
                catch (CompatInputException e) { ctx.Error(e.Message); return BtfGenCommand.ExitError; }
                catch (BadImageFormatException e) { ctx.Error(e.Message); return BtfGenCommand.ExitError; }
                catch (CompatUseException e) { ctx.Error(e.Message); return BtfGenCommand.ExitError; }
            }));
            return cmd;
        }

        private static int Run(CliContext ctx, string[] paths, string[] targetArgs, string? btfPath, string? assemblyPath, string? jsonPath, string? markdownPath)
        {
            if (assemblyPath != null && paths.Length > 0) { ctx.Error("give either --assembly or PATHs, not both"); return BtfGenCommand.ExitError; }
            if (assemblyPath == null && paths.Length == 0) { ctx.Error("nothing to check: give --assembly APP.dll or PATHs (task_struct.pid, pid_type::PIDTYPE_TGID, struct iphdr)"); return BtfGenCommand.ExitError; }
            if (jsonPath == "-" && markdownPath == "-") { ctx.Error("--json - and --markdown - both want standard output"); return BtfGenCommand.ExitError; }

            List<(CompatUse use, IReadOnlyList<CompatUseSite> sites)> uses;
            Btf? buildTime = null;
            if (assemblyPath != null)
            {
                if (!File.Exists(assemblyPath)) throw new CompatInputException($"assembly '{assemblyPath}' does not exist");
                var scan = AssemblyUseScanner.Scan(assemblyPath);
                if (scan.GeneratedTypes == 0) throw new CompatInputException($"{assemblyPath} holds no generated types (no struct implementing BtfBindings.IBtfType)");
                if (btfPath == null)
                    throw new CompatInputException($"{assemblyPath}'s generated types come from {string.Join(", ", scan.SourceFiles)}: give that build-time BTF with --btf");
                buildTime = BtfGenCommand.LoadAny(btfPath, null, ctx);
                string stem = KernelTargetInfo.ReleaseFromFileName(Path.GetFileName(btfPath));
                if (scan.SourceFiles.Count > 0 && !scan.SourceFiles.Any(s => KernelTargetInfo.ReleaseFromFileName(s) == stem))
                    ctx.Warning($"{assemblyPath}'s generated types come from {string.Join(", ", scan.SourceFiles)}, not {Path.GetFileName(btfPath)}: the verdicts assume it is the BTF they were generated from");
                uses = scan.ForBuildBtf(buildTime, btfPath, out var skipped).ToList();
                foreach (var g in skipped.GroupBy(x => x.reason, StringComparer.Ordinal))
                    ctx.Warning($"not checked ({g.Key}): {string.Join(", ", g.Select(x => x.use.Text).Distinct(StringComparer.Ordinal))}");
                if (uses.Count == 0) ctx.Warning($"{assemblyPath}: its code reads or writes no generated member of {Path.GetFileName(btfPath)}'s types");
            }
            else
            {
                uses = new List<(CompatUse, IReadOnlyList<CompatUseSite>)>();
                foreach (var p in paths)
                {
                    var u = CompatUse.TryParse(p, out var error);
                    if (u == null) { ctx.Error(error!); return BtfGenCommand.ExitError; }
                    if (!uses.Any(x => x.use.Equals(u))) uses.Add((u, Array.Empty<CompatUseSite>()));
                }
            }
            btfPath ??= BtfGenCommand.DefaultKernelBtf;
            buildTime ??= BtfGenCommand.LoadAny(btfPath, null, ctx);
            var files = CompatCheck.ExpandTargets(targetArgs);
            var report = CompatCheck.Run(buildTime, btfPath, files, uses);

            if (jsonPath != null) Write(ctx, jsonPath, CompatReportJson.Write(report));
            if (markdownPath != null) Write(ctx, markdownPath, CompatReportMarkdown.Write(report));
            if (jsonPath != "-" && markdownPath != "-") WriteSummary(ctx, report);
            return report.HasProblems ? 1 : 0;
        }

        private static void Write(CliContext ctx, string path, string text)
        {
            if (path == "-") { ctx.Out.Write(text); return; }
            File.WriteAllText(path, text, new System.Text.UTF8Encoding(false));
        }

        // Per use: the grouped sentence, marked, with where the program uses it.
        private static void WriteSummary(CliContext ctx, CompatReport report)
        {
            int problems = report.Rows.Count(r => r.HasProblem);
            var arches = report.Targets.Select(t => t.Info.Arch ?? "unknown arch").Distinct().ToArray();
            ctx.Out.WriteLine($"{report.Rows.Count} use{(report.Rows.Count == 1 ? "" : "s")} against {report.Targets.Count} target kernel{(report.Targets.Count == 1 ? "" : "s")} ({string.Join(", ", arches)}): "
                + (problems == 0 ? "no problem" : $"{problems} with problems"));
            foreach (var r in report.Rows)
            {
                string access = r.Use.Access switch
                {
                    CompatAccess.Plain => " [plain struct read]",
                    CompatAccess.View => r.IsGuarded ? " [view, guarded by Has_" + CompatReportMarkdown.LastMember(r.Use) + "]" : " [view]",
                    _ => "",
                };
                ctx.Out.WriteLine($"{(r.HasProblem ? "problem" : "ok     ")}  {r.Sentence}{access}");
                foreach (var s in r.Sites.Take(3)) ctx.Out.WriteLine("         at " + s);
                if (r.Sites.Count > 3) ctx.Out.WriteLine($"         and {r.Sites.Count - 3} more");
            }
            if (report.Rows.Any(r => r.Results.Any(x => x.Verdict == CompatVerdict.Moved)))
                ctx.Out.WriteLine("moved: present at another offset, size or value; fine through a View (or ValueOf), wrong for a plain struct read.");
        }
    }
}
