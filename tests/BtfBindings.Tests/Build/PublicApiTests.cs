using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Build
{
    /// <summary>
    /// The public surface is deliberate: the built assemblies export exactly what src/*/PublicAPI.*.txt declare (the build's
    /// RS0016/RS0017 check the source; this checks the dll that ships), and the Runtime has at most 32 public top-level
    /// types (what an application needs: the type model, CO-RE, what generated code calls).
    /// </summary>
    public class PublicApiTests
    {
        private const int MaxRuntimeTopLevelTypes = 32;

        [Fact]
        public void Runtime_has_at_most_32_public_top_level_types()
        {
            var top = typeof(Btf).Assembly.GetExportedTypes().Where(t => !t.IsNested).Select(t => t.FullName).OrderBy(n => n, StringComparer.Ordinal).ToList();
            Assert.True(top.Count <= MaxRuntimeTopLevelTypes, $"{top.Count} public top-level types (limit {MaxRuntimeTopLevelTypes}):\n{string.Join("\n", top)}");
        }

        [Fact]
        public void Runtime_dll_matches_its_baseline() => AssertMatches(typeof(Btf).Assembly, "BtfBindings.Runtime");

        [Fact]
        public void Generator_dll_matches_its_baseline() => AssertMatches(typeof(BtfBindings.Generator.BtfSourceGenerator).Assembly, "BtfBindings.Generator");

        [Fact]
        public void Baseline_keys_read_every_line_form()
        {
            // The forms PublicAPI files use, each reduced to the member it declares.
            Assert.Equal("BtfBindings.Btf.FindType", Key("BtfBindings.Btf.FindType(string! name, BtfBindings.BtfKind kind) -> BtfBindings.BtfType?"));
            Assert.Equal("BtfBindings.Btf.this[].get", Key("BtfBindings.Btf.this[int id].get -> BtfBindings.BtfType"));
            Assert.Equal("BtfBindings.BtfEnum<T>.Register", Key("static BtfBindings.BtfEnum<T>.Register(System.Func<BtfBindings.BtfTypeLayout!>! factory) -> void"));
            Assert.Equal("BtfBindings.KernelBtfOptions.DefaultEnvironmentVariable", Key("const BtfBindings.KernelBtfOptions.DefaultEnvironmentVariable = \"BTFBINDINGS_KERNEL_BTF\" -> string!"));
            Assert.Equal("BtfBindings.BtfKind.Void", Key("BtfBindings.BtfKind.Void = 0 -> BtfBindings.BtfKind"));
            Assert.Equal("BtfBindings.KernelPointer64<T>.Address", Key("readonly BtfBindings.KernelPointer64<T>.Address -> ulong"));
            Assert.Equal("BtfBindings.CoreView.TryLoad<T>", Key("BtfBindings.CoreView.TryLoad<T>(int index, out T value) -> bool"));
        }

        private static void AssertMatches(Assembly assembly, string project)
        {
            var dir = Path.Combine(Fixtures.RepoRoot, "src", project);
            var declared = new List<string>();
            foreach (var file in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" })
                foreach (var line in File.ReadAllLines(Path.Combine(dir, file)))
                    if (line.Length > 0 && !line.StartsWith("#", StringComparison.Ordinal) && !line.StartsWith("*REMOVED*", StringComparison.Ordinal))
                        declared.Add(Key(line));
            var built = Surface(assembly);
            var missing = Subtract(declared, built);   // declared, not in the dll
            var extra = Subtract(built, declared);     // in the dll, not declared
            Assert.True(missing.Count == 0 && extra.Count == 0,
                $"{assembly.GetName().Name}.dll and src/{project}/PublicAPI.*.txt differ.\nIn the dll only: {string.Join(", ", extra)}\nIn the baseline only: {string.Join(", ", missing)}");
            Assert.True(built.Count > 10, $"only {built.Count} public members found in {assembly.Location}");
        }

        private static List<string> Subtract(List<string> a, List<string> b)
        {
            var left = b.GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
            var result = new List<string>();
            foreach (var x in a)
            {
                if (left.TryGetValue(x, out var n) && n > 0) left[x] = n - 1;
                else result.Add(x);
            }
            return result;
        }

        private static readonly HashSet<string> Modifiers = new HashSet<string>(StringComparer.Ordinal) { "abstract", "const", "override", "readonly", "sealed", "static", "virtual", "new", "~" };

        /// <summary>A baseline line reduced to its declaring type and member (one line per overload).</summary>
        private static string Key(string line)
        {
            var words = line.Split(' ').ToList();
            while (words.Count > 1 && Modifiers.Contains(words[0])) words.RemoveAt(0);
            string s = string.Join(" ", words);
            int arrow = s.IndexOf(" -> ", StringComparison.Ordinal);
            if (arrow >= 0) s = s.Substring(0, arrow);
            int eq = s.IndexOf(" = ", StringComparison.Ordinal);
            if (eq >= 0) s = s.Substring(0, eq);
            int paren = s.IndexOf('(');
            if (paren >= 0) s = s.Substring(0, paren);
            return Regex.Replace(s, @"this\[[^\]]*\]", "this[]");
        }

        /// <summary>Every public or protected type and member the assembly exports, as <see cref="Key"/> spells it.</summary>
        private static List<string> Surface(Assembly assembly)
        {
            var keys = new List<string>();
            const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var t in assembly.GetExportedTypes())
            {
                string tn = TypeName(t);
                keys.Add(tn);
                if (t.IsEnum)
                {
                    foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.Static)) keys.Add(tn + "." + f.Name);
                    continue;
                }
                string simple = StripArity(t.Name);
                var ctors = t.GetConstructors(All).Where(c => Visible(c) && !c.IsStatic).ToList();
                foreach (var c in ctors) keys.Add(tn + "." + simple);
                if (t.IsValueType && !ctors.Any(c => c.GetParameters().Length == 0)) keys.Add(tn + "." + simple); // the implicit one
                foreach (var m in t.GetMethods(All).Where(m => Visible(m) && !m.IsSpecialName))
                    keys.Add(tn + "." + m.Name + (m.IsGenericMethodDefinition ? "<" + string.Join(",", m.GetGenericArguments().Select(a => a.Name)) + ">" : ""));
                foreach (var p in t.GetProperties(All))
                {
                    string pn = p.GetIndexParameters().Length > 0 ? "this[]" : p.Name;
                    if (p.GetMethod != null && Visible(p.GetMethod)) keys.Add(tn + "." + pn + ".get");
                    if (p.SetMethod != null && Visible(p.SetMethod)) keys.Add(tn + "." + pn + ".set");
                }
                foreach (var f in t.GetFields(All).Where(f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && !f.IsSpecialName)) keys.Add(tn + "." + f.Name);
                foreach (var e in t.GetEvents(All).Where(e => e.AddMethod != null && Visible(e.AddMethod))) keys.Add(tn + "." + e.Name);
            }
            return keys;
        }

        private static bool Visible(MethodBase m) => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly;

        private static string StripArity(string name) { int i = name.IndexOf('`'); return i < 0 ? name : name.Substring(0, i); }

        private static string TypeName(Type t)
        {
            string own = StripArity(t.Name);
            var args = t.GetGenericArguments();
            int inherited = t.IsNested ? t.DeclaringType!.GetGenericArguments().Length : 0;
            if (args.Length > inherited) own += "<" + string.Join(",", args.Skip(inherited).Select(a => a.Name)) + ">";
            return (t.IsNested ? TypeName(t.DeclaringType!) : t.Namespace) + "." + own;
        }
    }
}
