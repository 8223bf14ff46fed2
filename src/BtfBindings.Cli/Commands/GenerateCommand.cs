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
        internal sealed class Options
        {
            public readonly Argument<string[]> Types = new("TYPES") { Description = "Kernel type names (struct, union, enum or typedef), e.g. task_struct iphdr.", Arity = ArgumentArity.ZeroOrMore };
            public readonly Option<string> Btf = BtfGenCommand.BtfOption();
            public readonly Option<string?> Base = BtfGenCommand.BaseOption();
            public readonly Option<string?> Output = new("--output", "-o") { Description = "Write the C# to FILE instead of standard output.", HelpName = "FILE" };
            public readonly Option<string?> Namespace = new("--namespace", "-n") { Description = "Namespace of the generated types (default: the global namespace).", HelpName = "NS" };
            public readonly Option<string?> Class = new("--class", "-c") { Description = "Nest the types in 'public partial class NAME' (as [BtfTypes] on a partial class does).", HelpName = "NAME" };
            public readonly Option<bool> All = new("--all") { Description = "Generate every named struct, union and enum of the BTF." };
            public readonly Option<bool> FollowPointers = new("--follow-pointers") { Description = "Generate pointee types in full instead of opaque stubs." };
            public readonly Option<bool> NoUnsafe = new("--no-unsafe") { Description = "Not needed: generated code never uses unsafe (arrays are inline arrays), so passing it is an error.", Hidden = true };

            public Options() => BtfGenCommand.RejectOptionLikeTokens(Types, typeNames: true);

            public void AddTo(Command c)
            {
                c.Arguments.Add(Types);
                foreach (var o in new Option[] { Btf, Base, Output, Namespace, Class, All, FollowPointers, NoUnsafe }) c.Options.Add(o);
            }
        }

        /// <summary>What one <c>generate</c> run was asked for, however it was parsed.</summary>
        internal sealed class Request
        {
            public string[] Types = Array.Empty<string>();
            public string Btf = BtfGenCommand.DefaultKernelBtf;
            public string? Base, Output, Namespace, Class;
            public bool All, FollowPointers, NoUnsafe;
            /// <summary>Parsed without the word 'generate' (<c>btfgen task_struct</c>): the first name may be a mistyped command.</summary>
            public bool Root;

            public static Request From(ParseResult pr, Options o, bool root) => new Request
            {
                Root = root,
                Types = pr.GetValue(o.Types) ?? Array.Empty<string>(),
                Btf = pr.GetValue(o.Btf)!,
                Base = pr.GetValue(o.Base),
                Output = pr.GetValue(o.Output),
                Namespace = pr.GetValue(o.Namespace),
                Class = pr.GetValue(o.Class),
                All = pr.GetValue(o.All),
                FollowPointers = pr.GetValue(o.FollowPointers),
                NoUnsafe = pr.GetValue(o.NoUnsafe),
            };
        }

        /// <summary>The subcommands (a token naming one never takes the fast path).</summary>
        internal static readonly string[] CommandNames = { "generate", "dump", "list", "show", "diff", "extract", "minimize", "header", "compat" };
        /// <summary>Options of <c>generate</c> that take a value, and the flags; the fast path knows exactly these.</summary>
        internal static readonly string[] ValueOptions = { "--btf", "-b", "--base", "-B", "--output", "-o", "--namespace", "-n", "--class", "-c" };
        internal static readonly string[] FlagOptions = { "--all", "--follow-pointers", "--no-unsafe" };

        /// <summary>
        /// The common command line (<c>btfgen [generate] TYPE… [--btf FILE] [-o FILE] …</c>) without System.CommandLine,
        /// whose command tree costs more to build than a small run takes. Only the plain forms are accepted: type names
        /// and generate's options, each option at most once, every value a token of its own that cannot be read as
        /// anything else. Everything else (no arguments, help, version, other commands, <c>--opt=value</c>, response
        /// files, directives, unknown or repeated options, a flag followed by true/false, values starting with '-')
        /// returns false and goes through System.CommandLine, so help, errors and every other form behave as before.
        /// </summary>
        internal static bool TryParseFast(string[] args, out Request request)
        {
            request = new Request();
            if (args.Length == 0) return false;
            request.Root = args[0] != "generate";
            var types = new List<string>();
            bool btf = false;
            for (int i = args[0] == "generate" ? 1 : 0; i < args.Length; i++)
            {
                string a = args[i];
                if (!PlainToken(a)) return false;
                if (a[0] != '-') { types.Add(a); continue; }
                switch (a)
                {
                    case "--all": case "--follow-pointers": case "--no-unsafe":
                        if (i + 1 < args.Length && bool.TryParse(args[i + 1], out _)) return false; // "--all true": the flag's value
                        ref bool flag = ref a == "--all" ? ref request.All : ref a == "--no-unsafe" ? ref request.NoUnsafe : ref request.FollowPointers;
                        if (flag) return false;
                        flag = true;
                        continue;
                }
                if (i + 1 >= args.Length || !PlainToken(args[i + 1]) || args[i + 1][0] == '-') return false;
                string v = args[++i];
                switch (a)
                {
                    case "--btf": case "-b": if (btf) return false; btf = true; request.Btf = v; break;
                    case "--base": case "-B": if (request.Base != null) return false; request.Base = v; break;
                    case "--output": case "-o": if (request.Output != null) return false; request.Output = v; break;
                    case "--namespace": case "-n": if (request.Namespace != null) return false; request.Namespace = v; break;
                    case "--class": case "-c": if (request.Class != null) return false; request.Class = v; break;
                    default: return false;
                }
            }
            request.Types = types.ToArray();
            return true;
        }

        /// <summary>Not empty, no response file ('@') or directive ('['), no command name.</summary>
        private static bool PlainToken(string a)
            => a.Length > 0 && a[0] != '@' && a[0] != '[' && Array.IndexOf(CommandNames, a) < 0;

        /// <summary>Makes generation the root command's own action: <c>btfgen task_struct iphdr</c>.</summary>
        public static void ConfigureRoot(RootCommand root, CliContext ctx)
        {
            var o = new Options();
            o.AddTo(root);
            root.SetAction(pr => BtfGenCommand.Guard(ctx, () => Execute(Request.From(pr, o, root: true), ctx)));
        }

        public static Command Create(CliContext ctx)
        {
            var o = new Options();
            var cmd = new Command("generate", "Generate C# structs for kernel types (the default command): the same code the BtfBindings source generator writes.");
            o.AddTo(cmd);
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () => Execute(Request.From(pr, o, root: false), ctx)));
            return cmd;
        }

        internal static int Execute(Request r, CliContext ctx)
        {
            var names = r.Types;
            bool all = r.All;
            // Names for the generated code are checked before any BTF is read: a bad one would only give C# that does not compile.
            if (r.Namespace != null && CSharpIdentifier.CheckNamespace(r.Namespace) is string badNs)
                return UsageError(ctx, $"--namespace '{r.Namespace}' is not a C# namespace name: {badNs}" + EscapeHint("--namespace", r.Namespace));
            if (r.Class != null && CSharpIdentifier.CheckClassName(r.Class) is string badClass)
                return UsageError(ctx, $"--class '{r.Class}' is not a C# class name: {badClass}" + EscapeHint("--class", r.Class));
            // Kept as an option so that old scripts get a reason rather than "unknown option".
            if (r.NoUnsafe)
                return UsageError(ctx, "--no-unsafe is not needed: generated code never uses unsafe (C arrays are inline arrays) and builds without AllowUnsafeBlocks; remove the option");
            if (!all && names.Length == 0)
            {
                ctx.Error("no type names given: name the types to generate (e.g. 'btfgen task_struct iphdr'), or pass --all");
                ctx.Err.WriteLine("Try 'btfgen --help'.");
                return BtfGenCommand.ExitError;
            }
            if (all && names.Length > 0) ctx.Warning("--all generates every type; the names given are ignored");
            string btfPath = r.Btf;
            // BTFGEN_TIMING=1 prints where the time goes (load, plan, emit, write) to stderr.
            var timer = Environment.GetEnvironmentVariable("BTFGEN_TIMING") == "1" ? System.Diagnostics.Stopwatch.StartNew() : null;
            void Mark(string phase) { if (timer != null) { ctx.Err.WriteLine($"timing: {phase} {timer.Elapsed.TotalMilliseconds:0.0} ms (since start of process {(DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime).TotalMilliseconds:0} ms; jitted so far {System.Runtime.JitInfo.GetCompiledMethodCount()} methods in {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms; {GC.GetTotalAllocatedBytes() >> 20} MB allocated, {GC.CollectionCount(0)} GCs)"); timer.Restart(); } }
            Mark("start");
            var btf = BtfGenCommand.LoadAny(btfPath, r.Base, ctx);
            Mark("load");
            var layoutOptions = new LayoutOptions { FollowPointers = r.FollowPointers };
            LayoutPlan plan;
            if (all) plan = LayoutPlanner.PlanAll(btf, layoutOptions);
            else
            {
                plan = LayoutPlanner.Plan(btf, names, layoutOptions, out var unknown);
                if (unknown.Count > 0)
                {
                    // 'btfgen lsit': with no command, the first word is a type name; one that is not a type but is close to a
                    // command's name was meant as that command.
                    if (r.Root && unknown[0].Name == names[0] && NearCommand(names[0]) is string cmd)
                    {
                        ctx.Error($"unknown command '{names[0]}'; did you mean '{cmd}'? (as a type name, '{names[0]}' is not in {btfPath} either)");
                        ctx.Err.WriteLine("Try 'btfgen --help'.");
                        return BtfGenCommand.ExitError;
                    }
                    bool commandWord = r.Root && names.Length == 1 && IsLowercaseWord(names[0]);
                    foreach (var u in unknown)
                        ctx.Error(commandWord
                            ? $"'{u.Name}' is neither a command ({string.Join(", ", CommandNames)}) nor a type in {btfPath}" + (u.Suggestions.Count > 0 ? "; similar type names: " + string.Join(", ", u.Suggestions) : "")
                            : UnknownMessage(u, btfPath));
                    return 1;
                }
            }
            // A class cannot hold a type of its own name (CS0542), and the generated types are its members.
            if (!string.IsNullOrEmpty(r.Class))
            {
                string id = r.Class![0] == '@' ? r.Class.Substring(1) : r.Class;
                foreach (var t in plan.Types)
                    if (!t.IsNested && t.Name == id)
                        return UsageError(ctx, $"--class '{r.Class}' is also the name of a generated type ({t.CName}), which C# does not allow inside a class of that name: choose another");
            }
            ReportWarnings(plan, ctx);
            Mark("plan");

            var output = r.Output;
            if (output == null || output == "-")
            {
                Generate(plan, r.Namespace ?? "", r.Class, Path.GetFileName(btfPath), ctx.Out);
            }
            else
            {
                long chars = WriteFile(output, w => Generate(plan, r.Namespace ?? "", r.Class, Path.GetFileName(btfPath), w));
                ctx.Progress($"wrote {plan.Types.Count} types ({chars / 1024} KB of C#) to {output}");
            }
            Mark("emit and write");
            return 0;
        }

        /// <summary>For a name whose only fault is a keyword: how to pass it escaped (a separate argument starting with '@' names a response file).</summary>
        private static string EscapeHint(string option, string value)
        {
            var parts = value.Split('.');
            bool any = false;
            for (int i = 0; i < parts.Length; i++)
                if (CSharpIdentifier.NeedsEscape(parts[i], typeName: option == "--class")) { parts[i] = "@" + parts[i]; any = true; }
            string escaped = string.Join(".", parts);
            if (!any || (option == "--class" ? CSharpIdentifier.CheckClassName(escaped) : CSharpIdentifier.CheckNamespace(escaped)) != null) return "";
            return $" (on the command line: {option}={escaped})";
        }

        private static int UsageError(CliContext ctx, string message)
        {
            ctx.Error(message);
            ctx.Err.WriteLine("Try 'btfgen generate --help'.");
            return BtfGenCommand.ExitError;
        }

        /// <summary>
        /// Writes what <paramref name="write"/> writes as UTF-8 to <paramref name="path"/>; returns its number of characters. An
        /// existing file is overwritten in place and then cut to the new length, rather than truncated to zero first: freeing a
        /// large file's pages only to allocate them again took longer (3.5 ms for task_struct's 1.5 MB) than writing it.
        /// </summary>
        internal static long WriteFile(string path, Func<TextWriter, long> write)
        {
            using var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1);
            long chars;
            using (var w = new StreamWriter(fs, new UTF8Encoding(false), 1 << 16, leaveOpen: true)) chars = write(w);
            if (fs.CanSeek && fs.Length > fs.Position) fs.SetLength(fs.Position);
            return chars;
        }

        /// <summary>The command <paramref name="word"/> is a likely misspelling of (<see cref="LayoutPlanner.Suggest(IEnumerable{string}, string)"/>'s rule), or null.</summary>
        internal static string? NearCommand(string word)
        {
            var near = LayoutPlanner.Suggest(CommandNames, word);
            return near.Count > 0 ? near[0] : null;
        }

        private static bool IsLowercaseWord(string s)
        {
            foreach (char c in s) if (c < 'a' || c > 'z') return false;
            return s.Length > 0;
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

        /// <summary>
        /// Writes the emitter's output for <paramref name="plan"/> as one C# file (one header, one namespace, one container) to
        /// <paramref name="writer"/> as it is produced, a few types at a time: memory stays at the largest type's code whatever
        /// the total (--all on a kernel is 120-130 MB; a hostile BTF can ask for more than a string can hold). Returns the number
        /// of characters written.
        /// </summary>
        internal static long Generate(LayoutPlan plan, string ns, string? cls, string sourceLabel, TextWriter writer)
        {
            var options = new EmitOptions { Namespace = ns, SourceLabel = sourceLabel };
            if (!string.IsNullOrEmpty(cls)) options.Containers.Add(new KeyValuePair<string, string>("public partial class", cls!));
            long chars = 0;
            // The container class is ours (with [BtfTypes] the user declares it), so it gets the doc comment.
            new CSharpEmitter(plan, options).EmitSingleFile(new StringBuilder(1 << 20), $"Kernel types from <c>{CSharpNames.Xml(sourceLabel)}</c>, generated by btfgen.", chunk =>
            {
                foreach (var part in chunk.GetChunks()) writer.Write(part.Span);
                chars += chunk.Length;
            });
            return chars;
        }
    }
}
