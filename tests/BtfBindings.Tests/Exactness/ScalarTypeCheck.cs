using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace BtfBindings.Tests.Exactness
{
    /// <summary>
    /// Issue 3's "exact C-like types", checked on the compiled, loaded generated assembly (reflection on the same image the
    /// layout checker runs, no second compile) against bpftool's JSON:
    /// <list type="bullet">
    /// <item>every non-bitfield member whose type resolves (through typedefs, qualifiers and array dimensions) to an INT, ENUM,
    /// ENUM64 or FLOAT has a C# field of exactly the C# type that scalar's size and signedness call for (arrays: the element
    /// type of the fixed buffer or <c>[InlineArray]</c>, and the element count);</item>
    /// <item>every anonymous-enum constant has bpftool's value, a C# type that holds it as C types it, and every enumerator of
    /// every anonymous enum a checked member reaches has its constant.</item>
    /// </list>
    /// The expected C# types, as the generator documents them (LayoutModel.ScalarKind, CSharpEmitter.Scalar):
    /// INT SIGNED → sbyte/short/int/long/Int128 by size; INT (none) or CHAR → byte/ushort/uint/ulong/UInt128 (signedness is
    /// BTF_INT_SIGNED alone; BTF_INT_CHAR only asks for character printing, and pahole writes plain <c>char</c> as SIGNED
    /// where the target's char is signed, e.g. i686); INT BOOL of 1 byte → bool; ENUM/ENUM64 → a C# enum (anonymous ones:
    /// the plain integer) whose underlying type has the enum's size and signedness (bpftool's "encoding", the kind_flag);
    /// FLOAT 2/4/8 → Half/float/double; anything without a C# scalar of its size (long double of 12 or 16 bytes, odd-sized
    /// INTs) → bytes, as many as the BTF size.
    /// </summary>
    internal static class ScalarTypeCheck
    {
        private static readonly Type[] Signed = { typeof(sbyte), typeof(short), typeof(int), typeof(long), typeof(Int128) };
        private static readonly Type[] Unsigned = { typeof(byte), typeof(ushort), typeof(uint), typeof(ulong), typeof(UInt128) };

        private static Type? Integral(ulong size, bool signed) => size switch
        {
            1 => (signed ? Signed : Unsigned)[0],
            2 => (signed ? Signed : Unsigned)[1],
            4 => (signed ? Signed : Unsigned)[2],
            8 => (signed ? Signed : Unsigned)[3],
            16 => (signed ? Signed : Unsigned)[4],
            _ => null,
        };

        /// <summary>The C# scalar bpftool's type calls for; null: represented as <see cref="TruthScalar.Size"/> bytes.</summary>
        internal static Type? Expected(TruthScalar s, out string? problem)
        {
            problem = null;
            switch (s.Kind)
            {
                case "INT":
                    switch (s.Encoding)
                    {
                        case "BOOL": return s.Size == 1 ? typeof(bool) : Integral(s.Size, false);
                        case "SIGNED": return Integral(s.Size, true);
                        case "(none)": case "CHAR": return Integral(s.Size, false);
                        default: problem = $"bpftool encoding '{s.Encoding}' of INT {s.CName}: signedness unknown"; return null;
                    }
                case "ENUM":
                case "ENUM64":
                    if (s.Encoding is not ("SIGNED" or "UNSIGNED")) { problem = $"bpftool encoding '{s.Encoding}' of {s.CName}: signedness unknown"; return null; }
                    return Integral(s.Size, s.Encoding == "SIGNED");
                case "FLOAT":
                    return s.Size switch { 2 => typeof(Half), 4 => typeof(float), 8 => typeof(double), _ => null };
                default:
                    problem = "not a scalar: " + s.Kind;
                    return null;
            }
        }

        /// <summary>A field's element type and total element count: through a fixed buffer, or nested <c>[InlineArray]</c> types.</summary>
        internal static (Type element, ulong count, bool wrapped) Unwrap(FieldInfo fi)
        {
            var fb = fi.GetCustomAttribute<FixedBufferAttribute>();
            if (fb != null) return (fb.ElementType, (ulong)fb.Length, true);
            Type t = fi.FieldType;
            ulong n = 1;
            bool wrapped = false;
            for (int guard = 0; guard < 16; guard++)
            {
                var ia = t.GetCustomAttribute<InlineArrayAttribute>();
                if (ia == null || !t.IsGenericType) break;
                n *= (ulong)ia.Length;
                t = t.GetGenericArguments()[0];
                wrapped = true;
            }
            return (t, n, wrapped);
        }

        private static string Show(Type t) => t.IsEnum ? $"enum {t.Name} : {Show(Enum.GetUnderlyingType(t))}" : t == typeof(bool) ? "bool" : t.Name;

        private static void Count(ExactnessRun run, string key) => run.ScalarCounts[key] = run.ScalarCounts.TryGetValue(key, out var n) ? n + 1 : 1;

        /// <summary>What a checked scalar is, for the report.</summary>
        private static string Category(TruthScalar s, Type? expected) => s.Kind switch
        {
            "ENUM" or "ENUM64" => s.EnumNames.Count == 0 ? $"anonymous {(s.Kind == "ENUM64" ? "enum64" : "enum")} {s.Size}B" : $"{(s.Kind == "ENUM64" ? "enum64" : "enum")} {s.Size}B {(s.Encoding == "SIGNED" ? "signed" : "unsigned")}",
            "FLOAT" => expected == null ? $"float {s.Size}B as bytes" : s.CName,
            _ => s.Encoding == "BOOL" ? "_Bool" : s.CName.Contains("char", StringComparison.Ordinal) ? $"{s.CName} ({s.Encoding})" : s.Size == 16 ? s.CName : expected == null ? $"int {s.Size}B as bytes" : $"int{s.Size * 8} {(s.Encoding == "SIGNED" ? "signed" : "unsigned")}",
        };

        /// <summary>Checks every plain (non-bitfield) scalar field and scalar array field of every checked type.</summary>
        public static void CheckFields(ExactnessRun run, Assembly asm, BpftoolLayoutTruth truth)
        {
            var mismatches = run.Mismatches;
            var enums = new Dictionary<Type, int>();
            foreach (var ct in run.CheckedTypes)
            {
                Type? type = null;
                foreach (var p in ct.Probes)
                {
                    var s = p.Member.Scalar;
                    if (s == null || (p.Kind != ProbeKind.Field && p.Kind != ProbeKind.FixedBuffer)) continue;
                    string F = $"{ct.MetadataName} (BTF id {ct.BtfId}).{p.Member.Name}";
                    type ??= asm.GetType(ct.MetadataName);
                    if (type == null) { mismatches.Add($"{ct.MetadataName}: no such type in the compiled assembly"); break; }
                    var fi = type.GetField(p.CsMetadataName, BindingFlags.Public | BindingFlags.Instance);
                    if (fi == null) { mismatches.Add($"{F}: no public field '{p.CsMetadataName}'"); continue; }
                    var (elem, count, wrapped) = Unwrap(fi);
                    var expected = Expected(s, out var problem);
                    if (problem != null) { mismatches.Add($"{F}: {problem}"); continue; }
                    string want = $"{s.CName}{(s.IsArray ? $"[{s.Elements}]" : "")} ({s.Kind} {s.Size}B {s.Encoding})".Replace(" )", ")", StringComparison.Ordinal);
                    string actual = $"{Show(elem)}{(wrapped ? $"[{count}]" : "")}";
                    run.ScalarFields++;
                    if (s.IsArray) run.ScalarArrayFields++;
                    Count(run, Category(s, expected));
                    if (expected == null)
                    {
                        // No C# scalar of this size: the documented representation is the bytes.
                        if (elem != typeof(byte) || count != s.Elements * s.Size) mismatches.Add($"{F}: C# {actual}, expected byte[{s.Elements * s.Size}] for BTF {want}");
                        continue;
                    }
                    if (count != s.Elements || wrapped != s.IsArray) { mismatches.Add($"{F}: C# {actual}, BTF {want}: element count differs"); continue; }
                    bool isEnum = s.Kind is "ENUM" or "ENUM64";
                    if (isEnum && s.EnumNames.Count > 0)
                    {
                        if (!elem.IsEnum) { mismatches.Add($"{F}: C# {actual} is not an enum, BTF {want}"); continue; }
                        if (!s.EnumNames.Any(n => elem.Name == n || IsFlavor(elem.Name, n)))
                            mismatches.Add($"{F}: C# enum {elem.Name}, BTF {want} named {string.Join(" or ", s.EnumNames)}");
                        var u = Enum.GetUnderlyingType(elem);
                        if (u != expected) mismatches.Add($"{F}: C# {actual}, BTF {want} calls for underlying {Show(expected)}");
                        if (enums.TryGetValue(elem, out int other) && other != s.EnumId) mismatches.Add($"{F}: C# enum {elem.Name} stands for BTF enums {other} and {s.EnumId}");
                        enums[elem] = s.EnumId;
                    }
                    else if (elem != expected) mismatches.Add($"{F}: C# {actual}, BTF {want} calls for {Show(expected)}");
                }
            }
            CheckEnumValues(run, enums, truth);
        }

        /// <summary>Every enumerator of every C# enum a checked field uses: the same names as bpftool's enum, each with bpftool's value.</summary>
        private static void CheckEnumValues(ExactnessRun run, Dictionary<Type, int> enums, BpftoolLayoutTruth truth)
        {
            foreach (var (type, id) in enums.OrderBy(kv => kv.Key.Name, StringComparer.Ordinal))
            {
                var want = truth.EnumeratorsOf(id);
                var have = type.GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(f => f.Name, f => ToInt128(f.GetRawConstantValue()!), StringComparer.Ordinal);
                run.EnumTypes++;
                if (have.Count != want.Count) run.Mismatches.Add($"enum {type.Name}: {have.Count} C# members, bpftool's id {id} has {want.Count} enumerators");
                foreach (var e in want)
                {
                    run.EnumValues++;
                    if (!have.TryGetValue(e.Name, out var v)) run.Mismatches.Add($"enum {type.Name}: no member {e.Name} (bpftool: {e.Value})");
                    else if (v != e.Value) run.Mismatches.Add($"enum {type.Name}.{e.Name}: C# {v}, bpftool {e.Value} ({e.Kind} id {id}, {e.Size}B {(e.Signed ? "signed" : "unsigned")})");
                }
            }
        }

        private static Int128 ToInt128(object raw) => raw switch
        {
            int i => i, uint u => u, long l => l, ulong ul => ul, short s => s, ushort us => us, sbyte sb => sb, byte b => b,
            _ => throw new InvalidOperationException("not an integer constant: " + raw.GetType()),
        };

        /// <summary><c>name___N</c>: a duplicate BTF name's stable suffix.</summary>
        private static bool IsFlavor(string cs, string btf) =>
            cs.Length > btf.Length + 3 && cs.StartsWith(btf + "___", StringComparison.Ordinal) && cs.AsSpan(btf.Length + 3).IndexOfAnyExceptInRange('0', '9') < 0;

        /// <summary>
        /// The anonymous-enum constants (<c>{ns}.BtfConstants</c>): each one's value is bpftool's, its C# type is what C gives
        /// the enumerator (int when the value fits an int, else the enum's own type: an integer of the enum's size and
        /// signedness), and every enumerator of every anonymous enum a checked member uses (by value, in arrays too) has one.
        /// </summary>
        public static void CheckConstants(ExactnessRun run, Assembly asm, BpftoolLayoutTruth truth, string ns)
        {
            var mismatches = run.Mismatches;
            var all = truth.AnonymousEnumerators();
            var reachedIds = new HashSet<int>(run.CheckedTypes.SelectMany(c => c.Truth.Members)
                .Where(m => m.Scalar != null && m.Scalar.Kind is "ENUM" or "ENUM64" && m.Scalar.EnumNames.Count == 0).Select(m => m.Scalar!.EnumId));
            var byName = all.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            var constType = asm.GetType(ns.Length > 0 ? ns + ".BtfConstants" : "BtfConstants");
            var constants = new Dictionary<string, FieldInfo>(StringComparer.Ordinal);
            if (constType != null)
                foreach (var f in constType.GetFields(BindingFlags.Public | BindingFlags.Static))
                    if (f.IsLiteral) constants[f.Name] = f;
            if (reachedIds.Count > 0 && constType == null) mismatches.Add($"{reachedIds.Count} anonymous enums are used by value, but there is no {ns}.BtfConstants");

            foreach (var f in constants.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                string C = $"{ns}.BtfConstants.{f.Name}";
                if (!byName.TryGetValue(f.Name, out var cands)) { mismatches.Add($"{C}: no anonymous enum in bpftool's dump has an enumerator of that name"); continue; }
                // The enumerators the generator could have emitted: those of reached enums (any anonymous one, if none is reached).
                var reached = cands.Where(e => reachedIds.Contains(e.EnumId)).ToList();
                if (reached.Count > 0) cands = reached;
                object raw = f.GetRawConstantValue()!;
                Int128 v = ToInt128(raw);
                Type t = raw.GetType();
                run.Constants++;
                run.ConstantTypes[t.Name] = run.ConstantTypes.TryGetValue(t.Name, out var n) ? n + 1 : 1;
                var match = cands.FirstOrDefault(e => e.Value == v);
                string truthText = string.Join(" or ", cands.Select(e => $"{e.Value} ({e.Kind} id {e.EnumId}, {e.Size}B {(e.Signed ? "signed" : "unsigned")})").Distinct());
                if (cands.Select(e => e.Value).Distinct().Count() > 1) run.AmbiguousConstants.Add($"{f.Name} = {v} (bpftool: {truthText})");
                if (match == null) { mismatches.Add($"{C}: C# {t.Name} {v}, bpftool {truthText}"); continue; }
                bool fitsInt = v >= int.MinValue && v <= int.MaxValue;
                var enumType = Integral(match.Size, match.Signed);
                if (!(fitsInt && t == typeof(int)) && t != enumType)
                    mismatches.Add($"{C}: C# {t.Name} {v}, expected {(fitsInt ? "int (the value fits) or " : "")}{enumType?.Name ?? "?"} (the enum's size and signedness: {match.Kind} id {match.EnumId}, {match.Size}B {(match.Signed ? "signed" : "unsigned")})");
            }

            // Completeness: every enumerator of every anonymous enum used by value has its constant.
            foreach (var e in all)
            {
                if (!reachedIds.Contains(e.EnumId)) continue;
                run.ReachedEnumerators++;
                if (!constants.ContainsKey(e.Name)) mismatches.Add($"anonymous {e.Kind} id {e.EnumId} is used by value, but its enumerator {e.Name} = {e.Value} has no constant in {ns}.BtfConstants");
            }
            run.ReachedAnonymousEnums = reachedIds.Count;
        }
    }
}
