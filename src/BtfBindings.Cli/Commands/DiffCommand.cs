using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using BtfBindings.Layout;

namespace BtfBindings.Cli.Commands
{
    /// <summary>
    /// <c>btfgen diff OLD NEW [TYPES…]</c>: per type, the fields added, removed, moved (offset change), resized or
    /// retyped between two kernels' BTF, compared on their <see cref="LayoutPlan"/>s. Exit code 0 = no differences,
    /// 1 = differences, 2 = error.
    /// </summary>
    internal static class DiffCommand
    {
        internal sealed class FieldInfo
        {
            public string Path = "";
            public uint BitOffset;
            public uint BitSize;
            public bool IsBitfield;
            public string CType = "";
        }

        internal sealed class FieldChange
        {
            public string Path = "";
            public List<string> Changes = new List<string>();
            public FieldInfo? Old, New;
        }

        internal sealed class TypeDiff
        {
            public string Name = "";
            public string Kind = "";
            public string Status = "unchanged"; // unchanged, changed, added, removed, missing
            public uint? OldSize, NewSize;
            public string? OldKind, NewKind;
            public List<FieldChange> Fields = new List<FieldChange>();
            public List<(string name, ulong? oldValue, ulong? newValue)> Values = new List<(string, ulong?, ulong?)>();
            public bool Differs => Status != "unchanged";
        }

        public static Command Create(CliContext ctx)
        {
            var oldArg = new Argument<string>("OLD") { Description = "The old kernel's BTF (any input btfgen reads)." };
            var newArg = new Argument<string>("NEW") { Description = "The new kernel's BTF." };
            var types = new Argument<string[]>("TYPES") { Description = "Types to compare (default: every named struct and union present in either).", Arity = ArgumentArity.ZeroOrMore };
            BtfGenCommand.RejectOptionLikeTokens(oldArg, typeNames: false);
            BtfGenCommand.RejectOptionLikeTokens(newArg, typeNames: false);
            BtfGenCommand.RejectOptionLikeTokens(types, typeNames: true);
            var oldBase = new Option<string?>("--old-base") { Description = "Base BTF of OLD, if it is split BTF.", HelpName = "FILE" };
            var newBase = new Option<string?>("--new-base") { Description = "Base BTF of NEW, if it is split BTF.", HelpName = "FILE" };
            var json = BtfGenCommand.JsonOption("the differences");
            var all = new Option<bool>("--show-unchanged") { Description = "Also list types that did not change." };
            var cmd = new Command("diff", "Compare type layouts between two kernels: fields added, removed, moved or resized. Exit code 0: same, 1: different, 2: error.")
            { oldArg, newArg, types, oldBase, newBase, json, all };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                string oldPath = pr.GetValue(oldArg)!, newPath = pr.GetValue(newArg)!;
                var oldBtf = BtfGenCommand.LoadAny(oldPath, pr.GetValue(oldBase), ctx);
                var newBtf = BtfGenCommand.LoadAny(newPath, pr.GetValue(newBase), ctx);
                var names = pr.GetValue(types) ?? Array.Empty<string>();
                List<TypeDiff> diffs;
                if (names.Length == 0) diffs = DiffAll(oldBtf, newBtf);
                else
                {
                    var oldPlan = LayoutPlanner.Plan(oldBtf, names, null, out var unknownOld);
                    var newPlan = LayoutPlanner.Plan(newBtf, names, null, out var unknownNew);
                    var missingBoth = unknownOld.Select(u => u.Name).Intersect(unknownNew.Select(u => u.Name)).ToList();
                    if (missingBoth.Count > 0)
                    {
                        foreach (var n in missingBoth)
                        {
                            var u = unknownNew.First(x => x.Name == n);
                            ctx.Error($"unknown type '{n}' in both {oldPath} and {newPath}" + (u.Suggestions.Count > 0 ? "; did you mean: " + string.Join(", ", u.Suggestions) + "?" : ""));
                        }
                        return BtfGenCommand.ExitError;
                    }
                    diffs = new List<TypeDiff>();
                    foreach (var n in names)
                    {
                        var o = unknownOld.Any(u => u.Name == n) ? null : Layout.PlanLookup.Find(oldPlan, oldBtf, n);
                        var nw = unknownNew.Any(u => u.Name == n) ? null : Layout.PlanLookup.Find(newPlan, newBtf, n);
                        diffs.Add(Compare(n, o, nw));
                    }
                }
                int differing = diffs.Count(d => d.Differs);
                bool showUnchanged = pr.GetValue(all) || names.Length > 0;
                if (pr.GetValue(json)) WriteJson(ctx, oldPath, newPath, diffs, showUnchanged);
                else WriteText(ctx, oldPath, newPath, diffs, showUnchanged);
                return differing > 0 ? 1 : 0;
            }));
            return cmd;
        }

        private static List<TypeDiff> DiffAll(Btf oldBtf, Btf newBtf)
        {
            var oldPlan = LayoutPlanner.PlanAll(oldBtf);
            var newPlan = LayoutPlanner.PlanAll(newBtf);
            bool Wanted(PlannedType t) => t.Kind == PlannedKind.Struct || t.Kind == PlannedKind.Union;
            var o = oldPlan.Types.Where(Wanted).ToDictionary(t => t.Name, StringComparer.Ordinal);
            var n = newPlan.Types.Where(Wanted).ToDictionary(t => t.Name, StringComparer.Ordinal);
            var names = new SortedSet<string>(o.Keys, StringComparer.Ordinal);
            names.UnionWith(n.Keys);
            return names.Select(name => Compare(name, o.TryGetValue(name, out var a) ? a : null, n.TryGetValue(name, out var b) ? b : null)).ToList();
        }

        private static string KindOf(PlannedType t) => t.Kind switch
        {
            PlannedKind.Struct => "struct", PlannedKind.Union => "union", PlannedKind.Enum => "enum", _ => "opaque",
        };

        internal static TypeDiff Compare(string name, PlannedType? o, PlannedType? n)
        {
            var d = new TypeDiff { Name = name, OldSize = o?.Size, NewSize = n?.Size, OldKind = o == null ? null : KindOf(o), NewKind = n == null ? null : KindOf(n) };
            d.Kind = d.NewKind ?? d.OldKind ?? "";
            if (o == null || n == null)
            {
                d.Status = o == null ? "added" : "removed";
                return d;
            }
            bool changed = o.Size != n.Size || d.OldKind != d.NewKind;
            if (o.Kind == PlannedKind.Enum || n.Kind == PlannedKind.Enum)
            {
                var ov = new Dictionary<string, ulong>(StringComparer.Ordinal);
                foreach (var kv in o.Values) ov[kv.Key] = kv.Value;
                var nv = new Dictionary<string, ulong>(StringComparer.Ordinal);
                foreach (var kv in n.Values) nv[kv.Key] = kv.Value;
                foreach (var kv in o.Values)
                    if (!nv.TryGetValue(kv.Key, out var v)) d.Values.Add((kv.Key, kv.Value, null));
                    else if (v != kv.Value) d.Values.Add((kv.Key, kv.Value, v));
                foreach (var kv in n.Values)
                    if (!ov.ContainsKey(kv.Key)) d.Values.Add((kv.Key, null, kv.Value));
                changed |= d.Values.Count > 0;
            }
            else
            {
                var of = Flatten(o);
                var nf = Flatten(n);
                var nByPath = new Dictionary<string, FieldInfo>(StringComparer.Ordinal);
                foreach (var f in nf) if (!nByPath.ContainsKey(f.Path)) nByPath[f.Path] = f;
                var oPaths = new HashSet<string>(StringComparer.Ordinal);
                foreach (var f in of)
                {
                    if (!oPaths.Add(f.Path)) continue;
                    if (!nByPath.TryGetValue(f.Path, out var g)) { d.Fields.Add(new FieldChange { Path = f.Path, Changes = { "removed" }, Old = f }); continue; }
                    var c = new FieldChange { Path = f.Path, Old = f, New = g };
                    if (f.BitOffset != g.BitOffset) c.Changes.Add("moved");
                    if (f.BitSize != g.BitSize || f.IsBitfield != g.IsBitfield) c.Changes.Add("resized");
                    if (f.CType != g.CType) c.Changes.Add("retyped");
                    if (c.Changes.Count > 0) d.Fields.Add(c);
                }
                foreach (var g in nf)
                    if (oPaths.Add(g.Path)) { d.Fields.Add(new FieldChange { Path = g.Path, Changes = { "added" }, New = g }); }
                // Show changes in the new layout's order (removed fields where they were).
                d.Fields = d.Fields.OrderBy(c => (c.New ?? c.Old)!.BitOffset).ThenBy(c => c.New == null ? 0 : 1).ToList();
                changed |= d.Fields.Count > 0;
            }
            d.Status = changed ? "changed" : "unchanged";
            return d;
        }

        /// <summary>A planned type's fields with dotted paths through named members of anonymous types (<c>headers.protocol</c>).</summary>
        internal static List<FieldInfo> Flatten(PlannedType t)
        {
            var list = new List<FieldInfo>();
            Walk(t, "", 0, list, 0);
            return list;
        }

        private static void Walk(PlannedType t, string prefix, uint baseBits, List<FieldInfo> into, int depth)
        {
            foreach (var f in t.Fields)
            {
                var fi = new FieldInfo { Path = prefix + f.Name, BitOffset = baseBits + f.BitOffset, BitSize = f.BitSize, IsBitfield = f.IsBitfield, CType = f.CType };
                into.Add(fi);
                if (f.Type.Kind == TypeShapeKind.Composite && f.Type.IsNested && depth < 32)
                {
                    var nested = t.Nested.FirstOrDefault(n => n.Name == f.Type.TypeName);
                    if (nested != null)
                    {
                        fi.CType = nested.Kind == PlannedKind.Union ? "union {...}" : "struct {...}";
                        Walk(nested, fi.Path + ".", fi.BitOffset, into, depth + 1);
                    }
                }
            }
        }

        // ---- output ----------------------------------------------------------------------------------

        private static string Off(FieldInfo? f)
        {
            if (f == null) return "-";
            return f.IsBitfield || f.BitOffset % 8 != 0
                ? (f.BitOffset / 8).ToString(CultureInfo.InvariantCulture) + ":" + (f.BitOffset % 8).ToString(CultureInfo.InvariantCulture)
                : (f.BitOffset / 8).ToString(CultureInfo.InvariantCulture);
        }

        private static string Size(FieldInfo? f)
        {
            if (f == null) return "-";
            return f.IsBitfield ? f.BitSize + " bits" : (f.BitSize / 8).ToString(CultureInfo.InvariantCulture);
        }

        private static void WriteText(CliContext ctx, string oldPath, string newPath, List<TypeDiff> diffs, bool showUnchanged)
        {
            var w = ctx.Out;
            w.WriteLine($"--- {oldPath}");
            w.WriteLine($"+++ {newPath}");
            foreach (var d in diffs)
            {
                if (!d.Differs && !showUnchanged) continue;
                w.WriteLine();
                switch (d.Status)
                {
                    case "added": w.WriteLine($"{d.Kind} {d.Name}: added ({d.NewSize} bytes)"); continue;
                    case "removed": w.WriteLine($"{d.Kind} {d.Name}: removed (was {d.OldSize} bytes)"); continue;
                    case "unchanged": w.WriteLine($"{d.Kind} {d.Name}: unchanged ({d.NewSize} bytes)"); continue;
                }
                string size = d.OldSize == d.NewSize ? $"size {d.NewSize}" : $"size {d.OldSize} -> {d.NewSize} ({(long)d.NewSize! - (long)d.OldSize!:+#;-#;0})";
                string kind = d.OldKind == d.NewKind ? d.Kind : d.OldKind + " -> " + d.NewKind;
                w.WriteLine($"{kind} {d.Name}: {size}, {d.Fields.Count + d.Values.Count} change{(d.Fields.Count + d.Values.Count != 1 ? "s" : "")}");
                if (d.Fields.Count > 0)
                {
                    int nameW = Math.Max(5, Math.Min(40, d.Fields.Max(f => f.Path.Length)));
                    w.WriteLine($"  {"CHANGE",-16} {"FIELD".PadRight(nameW)} {"OLD OFFSET",10} {"NEW OFFSET",10} {"OLD SIZE",9} {"NEW SIZE",9}  TYPE");
                    foreach (var c in d.Fields)
                    {
                        string type = c.Old != null && c.New != null && c.Old.CType != c.New.CType ? c.Old.CType + " -> " + c.New.CType : (c.New ?? c.Old)!.CType;
                        w.WriteLine($"  {string.Join(",", c.Changes),-16} {c.Path.PadRight(nameW)} {Off(c.Old),10} {Off(c.New),10} {Size(c.Old),9} {Size(c.New),9}  {type}");
                    }
                }
                foreach (var v in d.Values)
                {
                    string change = v.oldValue == null ? "added" : v.newValue == null ? "removed" : "value";
                    w.WriteLine($"  {change,-16} {v.name} {(v.oldValue?.ToString(CultureInfo.InvariantCulture) ?? "-")} -> {(v.newValue?.ToString(CultureInfo.InvariantCulture) ?? "-")}");
                }
            }
            int n = diffs.Count(d => d.Differs);
            w.WriteLine();
            w.WriteLine($"{n} of {diffs.Count} type{(diffs.Count != 1 ? "s" : "")} differ{(n == 1 && diffs.Count == 1 ? "s" : "")}"
                + (n > 0 ? $" ({diffs.Count(d => d.Status == "changed")} changed, {diffs.Count(d => d.Status == "added")} added, {diffs.Count(d => d.Status == "removed")} removed)" : ""));
        }

        private static void WriteJson(CliContext ctx, string oldPath, string newPath, List<TypeDiff> diffs, bool showUnchanged)
        {
            ctx.Out.Flush();
            using var w = new Utf8JsonWriter(ctx.StdoutStream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("old", oldPath);
            w.WriteString("new", newPath);
            w.WriteNumber("compared", diffs.Count);
            w.WriteNumber("differences", diffs.Count(d => d.Differs));
            w.WriteStartArray("types");
            foreach (var d in diffs)
            {
                if (!d.Differs && !showUnchanged) continue;
                w.WriteStartObject();
                w.WriteString("name", d.Name);
                w.WriteString("kind", d.Kind);
                w.WriteString("status", d.Status);
                if (d.OldKind != null && d.NewKind != null && d.OldKind != d.NewKind) { w.WriteString("old_kind", d.OldKind); w.WriteString("new_kind", d.NewKind); }
                if (d.OldSize.HasValue) w.WriteNumber("old_size", d.OldSize.Value); else w.WriteNull("old_size");
                if (d.NewSize.HasValue) w.WriteNumber("new_size", d.NewSize.Value); else w.WriteNull("new_size");
                w.WriteStartArray("fields");
                foreach (var c in d.Fields)
                {
                    w.WriteStartObject();
                    w.WriteString("name", c.Path);
                    w.WriteStartArray("changes");
                    foreach (var ch in c.Changes) w.WriteStringValue(ch);
                    w.WriteEndArray();
                    WriteField(w, "old", c.Old);
                    WriteField(w, "new", c.New);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (d.Values.Count > 0)
                {
                    w.WriteStartArray("values");
                    foreach (var v in d.Values)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", v.name);
                        if (v.oldValue.HasValue) w.WriteNumber("old", v.oldValue.Value); else w.WriteNull("old");
                        if (v.newValue.HasValue) w.WriteNumber("new", v.newValue.Value); else w.WriteNull("new");
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.Flush();
            ctx.StdoutStream.WriteByte((byte)'\n');
            ctx.StdoutStream.Flush();
        }

        private static void WriteField(Utf8JsonWriter w, string name, FieldInfo? f)
        {
            if (f == null) { w.WriteNull(name); return; }
            w.WriteStartObject(name);
            w.WriteNumber("bit_offset", f.BitOffset);
            w.WriteNumber("bit_size", f.BitSize);
            w.WriteNumber("offset", f.BitOffset / 8);
            if (!f.IsBitfield) w.WriteNumber("size", f.BitSize / 8);
            w.WriteBoolean("bitfield", f.IsBitfield);
            w.WriteString("type", f.CType);
            w.WriteEndObject();
        }
    }
}
