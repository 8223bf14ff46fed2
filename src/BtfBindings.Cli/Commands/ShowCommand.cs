using System;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Cli.Layout;
using BtfBindings.Layout;

namespace BtfBindings.Cli.Commands
{
    /// <summary>
    /// <c>btfgen show TYPE</c>: a type's layout the way <c>pahole -C TYPE</c> prints it (offsets, sizes, holes,
    /// padding, bitfields, cachelines), computed from the <see cref="LayoutPlan"/>.
    /// </summary>
    internal static class ShowCommand
    {
        private const int TypeColumn = 26;
        private const int CommentColumn = 50;

        public static Command Create(CliContext ctx)
        {
            var type = new Argument<string[]>("TYPE") { Description = "Struct, union, enum or typedef name(s).", Arity = ArgumentArity.OneOrMore };
            BtfGenCommand.RejectOptionLikeTokens(type, typeNames: true);
            var btfOpt = BtfGenCommand.BtfOption();
            var baseOpt = BtfGenCommand.BaseOption();
            var json = BtfGenCommand.JsonOption("the layout");
            var cacheline = new Option<int>("--cacheline") { Description = "Cacheline size in bytes.", DefaultValueFactory = _ => 64 };
            var cmd = new Command("show", "Show a type's layout like 'pahole -C TYPE': offsets, sizes, holes, padding, bitfields, cachelines.") { type, btfOpt, baseOpt, json, cacheline };
            cmd.SetAction(pr => BtfGenCommand.Guard(ctx, () =>
            {
                string path = pr.GetValue(btfOpt)!;
                var btf = BtfGenCommand.LoadAny(path, pr.GetValue(baseOpt), ctx);
                var names = pr.GetValue(type)!;
                var plan = LayoutPlanner.Plan(btf, names, null, out var unknown);
                if (unknown.Count > 0)
                {
                    foreach (var u in unknown) ctx.Error(GenerateCommand.UnknownMessage(u, path));
                    return 1;
                }
                int cl = Math.Max(1, pr.GetValue(cacheline));
                var builder = new LayoutViewBuilder(btf, plan);
                bool asJson = pr.GetValue(json);
                Utf8JsonWriter? jw = null;
                if (asJson)
                {
                    ctx.Out.Flush();
                    jw = new Utf8JsonWriter(ctx.StdoutStream, new JsonWriterOptions { Indented = true });
                    jw.WriteStartArray();
                }
                bool first = true;
                foreach (var name in names)
                {
                    var t = PlanLookup.Find(plan, btf, name) ?? throw new BtfException($"'{name}' was planned but not found in the plan", path);
                    if (t.Kind == PlannedKind.Opaque) throw new BtfException(t.OpaqueReason != null && t.OpaqueReason.StartsWith("C# cannot represent it", StringComparison.Ordinal) ? $"'{name}' ({t.CName}, id {t.BtfId}, {t.Size} bytes): {t.OpaqueReason}" : $"'{name}' has no definition in this BTF (forward declaration only)", path);
                    if (asJson)
                    {
                        if (t.Kind == PlannedKind.Enum) WriteEnumJson(jw!, t);
                        else WriteJson(jw!, t, builder.Build(t), cl, plan.PointerSize);
                    }
                    else
                    {
                        if (!first) ctx.Out.WriteLine();
                        if (t.Kind == PlannedKind.Enum) WriteEnumText(ctx, t);
                        else WriteText(ctx, t, builder.Build(t), cl);
                    }
                    first = false;
                }
                if (jw != null)
                {
                    jw.WriteEndArray();
                    jw.Flush();
                    ctx.StdoutStream.WriteByte((byte)'\n');
                    ctx.StdoutStream.Flush();
                }
                return 0;
            }));
            return cmd;
        }

        // ---- text ------------------------------------------------------------------------------------

        private sealed class TextState
        {
            public readonly StringBuilder Sb = new StringBuilder();
            public int Cacheline; // last cacheline reported
            public int Size;
        }

        private static void WriteText(CliContext ctx, PlannedType t, ViewStruct v, int cl)
        {
            var s = new TextState { Size = cl };
            s.Sb.Append(t.CName).Append(" {\n");
            WriteBody(s, v, 1, topLevel: true);
            s.Sb.Append('}').Append(t.IsPacked ? " __attribute__((__packed__))" : v.ForcedAlignment != 0 ? $" __attribute__((__aligned__({v.ForcedAlignment})))" : "").Append(";\n");
            ctx.Out.Write(s.Sb.ToString());
        }

        private static string Tabs(int n) => new string('\t', n);

        private static void Comment(StringBuilder sb, int lineStart, int indent, string comment)
        {
            // Align the /* offset size */ comment like pahole does (tabs count as 8 columns).
            int col = indent * 8 + (sb.Length - lineStart - indent);
            int pad = Math.Max(1, CommentColumn + 8 - col);
            sb.Append(' ', pad).Append(comment);
        }

        private static string OffsetComment(uint off, ViewMember m)
            => m.IsBitfield
                ? string.Format(CultureInfo.InvariantCulture, "/* {0,5}:{1,2} {2,2} */", off, m.BitfieldOffset, m.ByteSize)
                : string.Format(CultureInfo.InvariantCulture, "/* {0,5} {1,5} */", off, m.ByteSize);

        private static string Plural(int n, string unit) => $"{n} {unit}{(n != 1 ? "s" : "")}";

        /// <summary>The members of one struct/union, following dwarves_fprintf.c's __class__fprintf / union__fprintf (1.24).</summary>
        private static void WriteBody(TextState s, ViewStruct v, int indent, bool topLevel)
        {
            var sb = s.Sb;
            string tabs = Tabs(indent);
            int newline = 0;
            if (!v.IsUnion)
            {
                if (v.PreBitHole > 0) { if (newline++ == 0) sb.Append('\n'); sb.Append(tabs).Append($"/* XXX {Plural(v.PreBitHole, "bit")} hole, try to pack */\n"); }
                if (v.PreHole > 0) { if (newline++ == 0) sb.Append('\n'); sb.Append(tabs).Append($"/* XXX {Plural(v.PreHole, "byte")} hole, try to pack */\n"); }
            }
            int unionCacheline = s.Cacheline;
            ViewMember? last = null;
            uint lastSize = 0;
            foreach (var m in v.Members)
            {
                if (!v.IsUnion && last != null && lastSize != 0)
                {
                    if (last.BitHole != 0 && m.IsBitfield)
                    {
                        int bits = last.BitHole;
                        if (last.RelByteOffset != m.RelByteOffset)
                        {
                            sb.Append('\n').Append(tabs).Append("/* Force alignment to the next boundary: */\n");
                            bits = 0;
                        }
                        sb.Append(tabs).Append(m.CType).Append(" :").Append(bits).Append(";\n");
                    }
                    if (m.RelByteOffset < last.RelByteOffset || (m.RelByteOffset == last.RelByteOffset && !last.IsBitfield && m.IsBitfield))
                    {
                        if (newline++ == 0) sb.Append('\n');
                        sb.Append(tabs).Append("/* Bitfield combined with previous fields */\n");
                    }
                    else
                    {
                        long cc = (long)m.RelByteOffset - last.RelByteOffset;
                        if (cc > 0 && cc < lastSize)
                        {
                            if (newline++ == 0) sb.Append('\n');
                            sb.Append(tabs).Append("/* Bitfield combined with next fields */\n");
                        }
                    }
                }
                if (newline != 0) { sb.Append('\n'); newline = 0; }

                uint abs = v.BaseBits / 8 + m.RelByteOffset;
                int line = (int)(abs / (uint)s.Size);
                if (line > s.Cacheline)
                {
                    uint pos = abs % (uint)s.Size;
                    sb.Append(tabs).Append(pos == 0
                        ? $"/* --- cacheline {line} boundary ({abs - pos} bytes) --- */\n"
                        : $"/* --- cacheline {line} boundary ({abs - pos} bytes) was {Plural((int)pos, "byte")} ago --- */\n");
                    s.Cacheline = line;
                }
                string aligned = m.ForcedAlignment != 0 ? $" __attribute__((__aligned__({m.ForcedAlignment})))" : "";
                if (m.Inline != null)
                {
                    sb.Append(tabs).Append(m.Inline.IsUnion ? "union" : "struct").Append(" {\n");
                    WriteBody(s, m.Inline, indent + 1, topLevel: false);
                    int start = sb.Length;
                    sb.Append(tabs).Append('}').Append(m.Name.Length > 0 ? " " + m.Name : "").Append(aligned).Append(';');
                    Comment(sb, start, indent, OffsetComment(abs, m));
                }
                else
                {
                    int start = sb.Length;
                    sb.Append(tabs);
                    string decl;
                    if (m.IsBitfield) decl = Pad(m.CType) + m.Name + ":" + m.BitfieldSize;
                    else if (m.CDeclaration == m.CType + " " + m.Name || m.CDeclaration == m.CType + m.Name) decl = Pad(m.CType) + m.Name;
                    else decl = m.CDeclaration;
                    sb.Append(decl).Append(aligned).Append(';');
                    Comment(sb, start, indent, OffsetComment(abs, m));
                }
                if (!v.IsUnion)
                {
                    if (m.MemberTypePadding > 0)
                    {
                        if (newline++ == 0) sb.Append('\n');
                        sb.Append('\n').Append(tabs).Append($"/* XXX last struct has {Plural(m.MemberTypePadding, "byte")} of padding */");
                    }
                    if (m.BitHole != 0)
                    {
                        if (newline++ == 0) sb.Append('\n');
                        sb.Append('\n').Append(tabs).Append($"/* XXX {Plural(m.BitHole, "bit")} hole, try to pack */");
                    }
                    if (m.Hole > 0)
                    {
                        if (newline++ == 0) sb.Append('\n');
                        sb.Append('\n').Append(tabs).Append($"/* XXX {Plural(m.Hole, "byte")} hole, try to pack */");
                    }
                }
                sb.Append('\n');
                if (v.IsUnion) s.Cacheline = unionCacheline;
                else
                {
                    if (last == null || lastSize == 0 || last.RelByteOffset != m.RelByteOffset) lastSize = m.ByteSize;
                    else if (!last.IsBitfield && m.IsBitfield) lastSize = m.ByteSize;
                    last = m;
                }
            }
            if (!topLevel) return;
            sb.Append('\n');
            sb.Append(tabs).Append($"/* size: {v.Size}, cachelines: {v.Cachelines(s.Size)}, members: {v.Members.Count} */\n");
            if (v.SumHoles > 0 || v.SumBitHoles > 0)
            {
                if (v.SumBytes > 0)
                    sb.Append(tabs).Append($"/* sum members: {v.SumBytes}").Append(v.SumHoles > 0 ? $", holes: {v.NrHoles}, sum holes: {v.SumHoles}" : "").Append(" */\n");
                if (v.SumBits > 0)
                    sb.Append(tabs).Append($"/* sum bitfield members: {v.SumBits} bits")
                      .Append(v.SumBitHoles > 0 ? $", bit holes: {v.NrBitHoles}, sum bit holes: {v.SumBitHoles} bits" : $" ({v.SumBits / 8} bytes)").Append(" */\n");
            }
            if (v.Padding > 0) sb.Append(tabs).Append($"/* padding: {v.Padding} */\n");
            if (v.NrPaddings > 0) sb.Append(tabs).Append($"/* paddings: {v.NrPaddings}, sum paddings: {v.SumPaddings} */\n");
            if (v.BitPadding > 0) sb.Append(tabs).Append($"/* bit_padding: {v.BitPadding} bits */\n");
            if (v.NrForcedAlignments > 0)
                sb.Append(tabs).Append($"/* forced alignments: {v.NrForcedAlignments}")
                  .Append(v.NrForcedHoles > 0 ? $", forced holes: {v.NrForcedHoles}, sum forced holes: {v.SumForcedHoles}" : "").Append(" */\n");
            uint lastLine = v.Size % (uint)s.Size;
            if (lastLine != 0) sb.Append(tabs).Append($"/* last cacheline: {lastLine} bytes */\n");
        }

        private static string Pad(string ctype) => ctype.Length + 1 >= TypeColumn ? ctype + " " : ctype.PadRight(TypeColumn + 1);

        private static void WriteEnumText(CliContext ctx, PlannedType t)
        {
            var sb = new StringBuilder();
            sb.Append(t.CName).Append(" {\n");
            foreach (var v in t.Values)
                sb.Append('\t').Append(v.Key).Append(" = ").Append(t.IsSigned ? ((long)v.Value).ToString(CultureInfo.InvariantCulture) : v.Value.ToString(CultureInfo.InvariantCulture)).Append(",\n");
            sb.Append("};\n\n\t/* size: ").Append(t.Size).Append(", ").Append(t.IsSigned ? "signed" : "unsigned").Append(", values: ").Append(t.Values.Count).Append(" */\n");
            ctx.Out.Write(sb.ToString());
        }

        // ---- JSON ------------------------------------------------------------------------------------

        private static void WriteJson(Utf8JsonWriter w, PlannedType t, ViewStruct v, int cl, int ptrSize)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("cname", t.CName);
            w.WriteString("kind", t.Kind == PlannedKind.Union ? "union" : "struct");
            w.WriteNumber("size", v.Size);
            w.WriteNumber("alignment", t.Alignment);
            w.WriteBoolean("packed", t.IsPacked);
            w.WriteNumber("cachelines", v.Cachelines(cl));
            w.WriteNumber("pointer_size", ptrSize);
            WriteStats(w, v);
            w.WritePropertyName("members");
            WriteMembers(w, v);
            w.WriteEndObject();
        }

        private static void WriteStats(Utf8JsonWriter w, ViewStruct v)
        {
            w.WriteNumber("nr_members", v.Members.Count);
            w.WriteNumber("sum_members", v.SumBytes);
            w.WriteNumber("sum_bitfield_members", v.SumBits);
            w.WriteNumber("holes", v.NrHoles);
            w.WriteNumber("sum_holes", v.SumHoles);
            w.WriteNumber("bit_holes", v.NrBitHoles);
            w.WriteNumber("sum_bit_holes", v.SumBitHoles);
            w.WriteNumber("padding", v.Padding);
            w.WriteNumber("bit_padding", v.BitPadding);
            w.WriteNumber("paddings", v.NrPaddings);
            w.WriteNumber("sum_paddings", v.SumPaddings);
            w.WriteNumber("pre_hole", v.PreHole);
            w.WriteNumber("pre_bit_hole", v.PreBitHole);
        }

        private static void WriteMembers(Utf8JsonWriter w, ViewStruct v)
        {
            w.WriteStartArray();
            foreach (var m in v.Members)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteString("type", m.CType);
                w.WriteString("declaration", m.CDeclaration);
                w.WriteNumber("offset", v.BaseBits / 8 + m.RelByteOffset);
                w.WriteNumber("size", m.ByteSize);
                w.WriteNumber("bit_offset", m.AbsBitOffset);
                if (m.IsBitfield)
                {
                    w.WriteNumber("bitfield_offset", m.BitfieldOffset);
                    w.WriteNumber("bitfield_size", m.BitfieldSize);
                }
                w.WriteNumber("hole", m.Hole);
                w.WriteNumber("bit_hole", m.BitHole);
                if (m.MemberTypePadding > 0) w.WriteNumber("member_type_padding", m.MemberTypePadding);
                if (m.Inline != null)
                {
                    w.WriteString("inline_kind", m.Inline.IsUnion ? "union" : "struct");
                    if (!m.Inline.IsUnion)
                    {
                        w.WriteStartObject("inline_stats");
                        WriteStats(w, m.Inline);
                        w.WriteEndObject();
                    }
                    w.WritePropertyName("members");
                    WriteMembers(w, m.Inline);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }

        private static void WriteEnumJson(Utf8JsonWriter w, PlannedType t)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("cname", t.CName);
            w.WriteString("kind", "enum");
            w.WriteNumber("size", t.Size);
            w.WriteBoolean("signed", t.IsSigned);
            w.WriteStartArray("values");
            foreach (var v in t.Values)
            {
                w.WriteStartObject();
                w.WriteString("name", v.Key);
                if (t.IsSigned) w.WriteNumber("value", (long)v.Value); else w.WriteNumber("value", v.Value);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }
}
