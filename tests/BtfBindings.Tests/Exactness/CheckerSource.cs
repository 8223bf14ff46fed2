using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>What the checker measures, in the order it writes results.</summary>
    internal enum ProbeKind
    {
        /// <summary>A field: offset, size.</summary>
        Field,
        /// <summary>A fixed buffer: offset of element 0, element size × length.</summary>
        FixedBuffer,
        /// <summary>A flexible array method: offset of the span's start, 0.</summary>
        FlexibleArray,
        /// <summary>A member of size 0 (an empty struct, an array of length 0 that is not the last): a ref or span accessor at its offset, size 0.</summary>
        ZeroSized,
        /// <summary>A bitfield property: bits set after writing the maximum on zeros, getter ok, bits cleared after writing 0 on ones, getter ok.</summary>
        Bitfield,
    }

    internal sealed class Probe
    {
        public ProbeKind Kind;
        public TruthMember Member = null!;
        public string CsName = "";
        /// <summary>The C# member's metadata name (no <c>@</c>), for reflection.</summary>
        public string CsMetadataName = "";
        /// <summary>For bitfields: the value bits written (LSB = 0), as a mask; the C# property type.</summary>
        public UInt128 ValueBits;
        public string PropertyType = "";
    }

    /// <summary>One generated struct/union paired with bpftool's view of the same BTF type.</summary>
    internal sealed class CheckedType
    {
        public int Index;
        public string PlanName = "";
        public string MetadataName = "";
        public string CsType = "";
        public int BtfId;
        public bool IsNested;
        public bool IsUnion;
        public TruthComposite Truth = null!;
        /// <summary>What BtfLayout.BtfName may be: the BTF name, or for a typedef'd anonymous type one of its typedefs, "" for nested anonymous types.</summary>
        public IReadOnlyList<string> ExpectedBtfNames = Array.Empty<string>();
        public List<Probe> Probes = new List<Probe>();
        /// <summary>Members that take no space (empty struct/zero-length non-flex array): accessors at their offset.</summary>
        public int ZeroSized;
    }

    /// <summary>What the checker recorded for one bitfield.</summary>
    internal sealed class BitfieldResult
    {
        /// <summary>The accessor threw (index into the checker's E list), or -1.</summary>
        public int Exception = -1;
        public List<long> Set = new List<long>(), Cleared = new List<long>();
        public bool GetMax, GetZero;

        public static BitfieldResult Read(List<long> R, ref int c, ref int exceptions)
        {
            var r = new BitfieldResult();
            if (R[c++] == -1) { r.Exception = exceptions++; return r; }
            r.Set = Bits(R, ref c); r.GetMax = R[c++] == 1;
            r.Cleared = Bits(R, ref c); r.GetZero = R[c++] == 1;
            return r;
        }

        private static List<long> Bits(List<long> R, ref int c)
        {
            int n = (int)R[c++];
            var l = new List<long>(n);
            for (int i = 0; i < n; i++) l.Add(R[c++]);
            return l;
        }
    }

    /// <summary>
    /// Writes the C# checker: for every struct/union, one method that measures <c>Unsafe.SizeOf</c>, every field's runtime
    /// offset (<c>Unsafe.ByteOffset</c> from the struct to the field) and size, and exercises every bitfield property on a
    /// byte buffer. It only measures; the test compares with bpftool.
    /// </summary>
    internal static class CheckerSource
    {
        public const string ClassName = "BtfExactnessChecker";

        public static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

        /// <summary>Pairs bpftool's members with the generated type's C# members (from its declarations); problems go to <paramref name="mismatches"/>.</summary>
        public static void Pair(CheckedType t, GeneratedSyntaxIndex.Entry type, List<string> mismatches)
        {
            foreach (var m in t.Truth.Members)
            {
                // Members named like their type are renamed name_ (CS0542).
                string cs = m.Name == t.PlanName ? m.Name + "_" : m.Name;
                var found = type.Members.TryGetValue(cs, out var l) ? l : new List<DeclaredMember>();
                string where = $"{t.MetadataName} (BTF id {t.BtfId}) member '{m.Name}'";
                bool zeroSized = !m.IsBitfield && !m.IsFlexibleArray && m.ByteSize == 0;
                if (found.Count != 1) { mismatches.Add($"{where}: {(found.Count == 0 ? "no C# member '" + cs + "'" : "ambiguous C# member '" + cs + "'")}"); continue; }
                if (zeroSized)
                {
                    // C has the member, so C# has it: a ref to the empty type at its offset, or an empty span there.
                    var z = found[0];
                    if (z.Kind != SymbolKind.Property || !z.HasGetter) { mismatches.Add($"{where}: takes no space in BTF (size 0); emitted as {z.Kind} ({z.Line}), expected a ref or span property"); continue; }
                    t.ZeroSized++;
                    t.Probes.Add(new Probe { Member = m, CsName = Escape(cs), CsMetadataName = cs, Kind = ProbeKind.ZeroSized, PropertyType = z.TypeText });
                    continue;
                }
                if (found.Count != 1) { mismatches.Add($"{where}: {(found.Count == 0 ? "no C# member '" + cs + "'" : "ambiguous C# member '" + cs + "'")}"); continue; }
                var s = found[0];
                var p = new Probe { Member = m, CsName = Escape(cs), CsMetadataName = cs };
                if (m.IsBitfield)
                {
                    if (s.Kind != SymbolKind.Property || !s.HasGetter || !s.HasSetter) { mismatches.Add($"{where}: bitfield is emitted as {s.Kind} ({s.Line}), expected a get/set property"); continue; }
                    p.Kind = ProbeKind.Bitfield;
                    p.PropertyType = s.TypeText;
                    bool isBool = s.TypeText is "bool" or "global::System.Boolean" or "System.Boolean";
                    uint w = m.BitfieldSize;
                    if (w == 0 || w > 128) { mismatches.Add($"{where}: bitfield width {w} not testable"); continue; }
                    UInt128 all = w == 128 ? UInt128.MaxValue : (UInt128.One << (int)w) - 1;
                    if (m.ValueKind == TruthValueKind.Bool && !isBool) mismatches.Add($"{where}: BTF _Bool bitfield but C# property type {p.PropertyType}");
                    if (isBool && m.ValueKind != TruthValueKind.Bool) mismatches.Add($"{where}: C# bool property for a BTF {m.ValueKind} bitfield");
                    p.ValueBits = isBool ? UInt128.One : all;
                }
                else if (m.IsFlexibleArray)
                {
                    if (s.Kind != SymbolKind.Method || s.ParameterCount != 1) { mismatches.Add($"{where}: flexible array is emitted as {s.Kind} ({s.Line}), expected a method name(int count)"); continue; }
                    p.Kind = ProbeKind.FlexibleArray;
                }
                else
                {
                    if (s.Kind != SymbolKind.Field) { mismatches.Add($"{where}: is emitted as {s.Kind} ({s.Line}), expected a field"); continue; }
                    if (s.IsFixed && s.FixedSize <= 0) { mismatches.Add($"{where}: fixed buffer without a literal length: {s.Line}"); continue; }
                    p.Kind = s.IsFixed ? ProbeKind.FixedBuffer : ProbeKind.Field;
                    if (s.IsFixed) p.PropertyType = s.FixedSize.ToString(CultureInfo.InvariantCulture);
                }
                t.Probes.Add(p);
            }
        }

        private static string ValueLiteral(Probe p)
        {
            if (p.PropertyType == "bool") return "true";
            if (p.Member.ValueKind == TruthValueKind.Signed) return $"unchecked(({p.PropertyType})(-1L))";
            if (p.ValueBits <= ulong.MaxValue) return $"unchecked(({p.PropertyType})0x{(ulong)p.ValueBits:X}UL)";
            // Wider than 64 bits (an unsigned __int128 base): no literal of that size in C#.
            return $"unchecked(({p.PropertyType})(((global::System.UInt128)1 << {p.Member.BitfieldSize}) - 1))";
        }

        /// <summary>The checker as one source text.</summary>
        public static string Build(IReadOnlyList<CheckedType> types) => string.Concat(BuildParts(types, int.MaxValue));

        /// <summary>The checker as several partial-class files of about <paramref name="typesPerPart"/> types each, so Roslyn parses and binds them in parallel.</summary>
        public static List<string> BuildParts(IReadOnlyList<CheckedType> types, int typesPerPart)
        {
            var parts = new List<string>();
            var sb = new StringBuilder(1 << 20);
            sb.Append("#nullable enable\n");
            sb.Append("using Unsafe = global::System.Runtime.CompilerServices.Unsafe;\n");
            sb.Append("/// <summary>Measures generated types.</summary>\n");
            sb.Append("public static unsafe partial class ").Append(ClassName).Append("\n{\n");
            sb.Append("    /// <summary>Results.</summary>\n");
            sb.Append("    public static readonly global::System.Collections.Generic.List<long> R = new global::System.Collections.Generic.List<long>();\n");
            sb.Append("    /// <summary>Layouts.</summary>\n");
            sb.Append("    public static readonly global::System.Collections.Generic.List<object> L = new global::System.Collections.Generic.List<object>();\n");
            sb.Append("    /// <summary>Exceptions thrown by bitfield accessors.</summary>\n");
            sb.Append("    public static readonly global::System.Collections.Generic.List<string> E = new global::System.Collections.Generic.List<string>();\n");
            sb.Append(@"    private static void Failed(int at, global::System.Exception e)
    {
        R.RemoveRange(at, R.Count - at);
        R.Add(-1);
        E.Add(e.GetType().Name + "": "" + e.Message);
    }
");
            sb.Append(@"    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void O<T, F>(ref T s, ref F f, int n)
    {
        R.Add((long)Unsafe.ByteOffset(ref Unsafe.As<T, byte>(ref s), ref Unsafe.As<F, byte>(ref f)));
        R.Add((long)Unsafe.SizeOf<F>() * n);
    }
    private static void Bits(byte[] b, bool want)
    {
        int at = R.Count, n = 0;
        R.Add(0);
        byte skip = want ? (byte)0 : (byte)0xFF;
        for (int i = 0; i < b.Length; i++)
        {
            if (b[i] == skip) continue;
            for (int k = 0; k < 8; k++)
                if ((((b[i] >> k) & 1) != 0) == want) { R.Add(i * 8L + k); n++; }
        }
        R[at] = n;
    }
");
            sb.Append("    /// <summary>Checks type i.</summary>\n");
            sb.Append("    public static void Run(int i)\n    {\n        switch (i)\n        {\n");
            foreach (var t in types) sb.Append("            case ").Append(t.Index).Append(": T").Append(t.Index).Append("(); break;\n");
            sb.Append("            default: throw new global::System.ArgumentOutOfRangeException(nameof(i));\n        }\n    }\n");
            sb.Append("}\n");
            int inPart = 0;
            foreach (var t in types)
            {
                if (inPart == 0)
                {
                    if (sb.Length == 0) sb.Append("#nullable enable\nusing Unsafe = global::System.Runtime.CompilerServices.Unsafe;\n");
                    sb.Append("public static unsafe partial class ").Append(ClassName).Append("\n{\n");
                }
                string T = t.CsType;
                sb.Append("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]\n");
                sb.Append("    private static void T").Append(t.Index).Append("()\n    {\n");
                sb.Append("        var b = new byte[Unsafe.SizeOf<").Append(T).Append(">()];\n");
                sb.Append("        ref ").Append(T).Append(" s = ref Unsafe.As<byte, ").Append(T).Append(">(ref b[0]);\n");
                sb.Append("        R.Add(Unsafe.SizeOf<").Append(T).Append(">());\n");
                sb.Append("        L.Add(").Append(T).Append(".BtfLayout);\n");
                foreach (var p in t.Probes)
                {
                    switch (p.Kind)
                    {
                        case ProbeKind.Field: sb.Append("        O(ref s, ref s.").Append(p.CsName).Append(", 1);\n"); break;
                        case ProbeKind.FixedBuffer: sb.Append("        O(ref s, ref s.").Append(p.CsName).Append("[0], ").Append(p.PropertyType).Append(");\n"); break;
                        case ProbeKind.FlexibleArray: sb.Append("        O(ref s, ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(s.").Append(p.CsName).Append("(0)), 0);\n"); break;
                        case ProbeKind.ZeroSized:
                            if (p.PropertyType.Contains("Span<")) sb.Append("        O(ref s, ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(s.").Append(p.CsName).Append("), s.").Append(p.CsName).Append(".Length);\n");
                            else sb.Append("        O(ref s, ref s.").Append(p.CsName).Append(", 0);\n");
                            break;
                        case ProbeKind.Bitfield:
                            {
                                string v = ValueLiteral(p);
                                sb.Append("        { int at = R.Count; try { R.Add(0);\n");
                                sb.Append("            global::System.Array.Clear(b); s.").Append(p.CsName).Append(" = ").Append(v).Append("; Bits(b, true); R.Add(s.").Append(p.CsName).Append(" == ").Append(v).Append(" ? 1 : 0);\n");
                                sb.Append("            global::System.Array.Fill(b, (byte)0xFF); s.").Append(p.CsName).Append(" = default; Bits(b, false); R.Add(s.").Append(p.CsName).Append(" == default ? 1 : 0);\n");
                                sb.Append("        } catch (global::System.Exception e) { Failed(at, e); } }\n");
                                break;
                            }
                    }
                }
                sb.Append("    }\n");
                if (++inPart >= typesPerPart) { sb.Append("}\n"); parts.Add(sb.ToString()); sb.Clear(); inPart = 0; }
            }
            if (inPart > 0) sb.Append("}\n");
            if (sb.Length > 0) parts.Add(sb.ToString());
            return parts;
        }
    }
}
