using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BtfBindings.Cli.Commands
{
    /// <summary><c>btfgen list [PATTERN] [--kind K] [--json]</c>: type names, kinds and sizes, filtered by a glob.</summary>
    internal static class ListCommand
    {
        // Every kind name btfgen accepts: the kind table's (BtfKinds), in lower case.
        private static readonly string[] Kinds_ = KnownKindNames();

        private static string[] KnownKindNames()
        {
            var names = new List<string>();
            foreach (var k in BtfKinds.All) if (BtfKinds.IsKnown((int)k.Kind)) names.Add(k.LowerName);
            return names.ToArray();
        }

        public static Command Create(CliContext ctx)
        {
            var pattern = new Argument<string?>("PATTERN") { Description = "Glob over type names ('*' any run, '?' one character), e.g. 'sk_buff*'. Default: every named type.", Arity = ArgumentArity.ZeroOrOne };
            BtfGenCommand.RejectOptionLikeTokens(pattern, typeNames: true);
            var btfOpt = BtfGenCommand.BtfOption();
            var baseOpt = BtfGenCommand.BaseOption();
            var kind = new Option<string[]>("--kind", "-k") { Description = "Only these kinds (repeatable, or comma-separated): " + string.Join("|", Kinds_) + ". 'enum' includes enum64.", HelpName = "KIND", AllowMultipleArgumentsPerToken = true };
            var json = BtfGenCommand.JsonOption("the list");
            var anon = new Option<bool>("--anonymous") { Description = "Include anonymous types (listed as '(anon)')." };
            var cmd = new Command("list", "List type names, kinds and sizes (sorted by name).") { pattern, btfOpt, baseOpt, kind, json, anon };
            cmd.Validators.Add(r =>
            {
                foreach (var k in Kinds(r.GetValue(kind)))
                    if (Array.IndexOf(Kinds_, k) < 0) r.AddError($"unknown kind '{k}' (expected one of: {string.Join(", ", Kinds_)})");
            });
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                var btf = BtfGenCommand.LoadAny(pr.GetValue(btfOpt)!, pr.GetValue(baseOpt), ctx);
                var kinds = new HashSet<BtfKind>();
                foreach (var k in Kinds(pr.GetValue(kind)))
                {
                    kinds.Add(Parse(k));
                    if (k == "enum") kinds.Add(BtfKind.Enum64);
                }
                var glob = pr.GetValue(pattern);
                var re = glob == null ? null : Glob(glob);
                bool includeAnon = pr.GetValue(anon);
                var rows = new List<(string name, BtfType t, long? size)>();
                for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
                {
                    var t = btf[id];
                    if (kinds.Count > 0 && !kinds.Contains(t.Kind)) continue;
                    if (t.IsAnonymous && !includeAnon) continue;
                    string name = t.IsAnonymous ? "(anon)" : t.Name;
                    if (re != null && !re.IsMatch(name)) continue;
                    rows.Add((name, t, SizeOf(btf, t)));
                }
                rows.Sort((a, b) =>
                {
                    int c = string.CompareOrdinal(a.name, b.name);
                    return c != 0 ? c : a.t.Id.CompareTo(b.t.Id);
                });
                if (pr.GetValue(json)) WriteJson(ctx, rows);
                else WriteTable(ctx, rows);
                if (rows.Count == 0) ctx.Progress("no types match");
                return 0;
            }));
            return cmd;
        }

        private static IEnumerable<string> Kinds(string[]? values)
        {
            if (values == null) yield break;
            foreach (var v in values)
                foreach (var k in v.Split(',', StringSplitOptions.RemoveEmptyEntries))
                    yield return k.Trim().ToLowerInvariant();
        }

        private static BtfKind Parse(string k) => BtfKinds.TryParse(k, out var kind) ? kind : throw new ArgumentException(k);

        /// <summary>A glob as an anchored regex: '*' any run, '?' one character, everything else literal.</summary>
        internal static Regex Glob(string glob)
        {
            var sb = new System.Text.StringBuilder("^");
            foreach (char c in glob)
                sb.Append(c == '*' ? ".*" : c == '?' ? "." : Regex.Escape(c.ToString()));
            return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
        }

        /// <summary>Size in bytes where the kind has one (resolved through typedefs, arrays and qualifiers), else null.</summary>
        internal static long? SizeOf(Btf btf, BtfType t)
        {
            switch (t.Kind)
            {
                case BtfKind.Func: case BtfKind.FuncProto: case BtfKind.Fwd: case BtfKind.DeclTag: case BtfKind.Void:
                    return null;
                default:
                    try { return btf.ResolveSize(t.Id); }
                    catch (BtfException) { return null; }
            }
        }

        internal static string KindName(BtfKind k) => BtfKinds.LowerName(k);

        private static void WriteTable(CliContext ctx, List<(string name, BtfType t, long? size)> rows)
        {
            int w = 4;
            foreach (var r in rows) w = Math.Max(w, r.name.Length);
            w = Math.Min(w, 48);
            ctx.Out.WriteLine($"{"KIND",-10} {"NAME".PadRight(w)} {"SIZE",8} {"ID",8}");
            foreach (var r in rows)
                ctx.Out.WriteLine($"{KindName(r.t.Kind),-10} {r.name.PadRight(w)} {(r.size?.ToString() ?? "-"),8} {r.t.Id,8}");
        }

        private static void WriteJson(CliContext ctx, List<(string name, BtfType t, long? size)> rows)
        {
            ctx.Out.Flush();
            using var w = new Utf8JsonWriter(ctx.StdoutStream, new JsonWriterOptions { Indented = true });
            w.WriteStartArray();
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteNumber("id", r.t.Id);
                w.WriteString("kind", KindName(r.t.Kind));
                w.WriteString("name", r.t.IsAnonymous ? "" : r.name);
                if (r.size.HasValue) w.WriteNumber("size", r.size.Value); else w.WriteNull("size");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.Flush();
            ctx.StdoutStream.Write(new byte[] { (byte)'\n' }, 0, 1);
            ctx.StdoutStream.Flush();
        }
    }
}
