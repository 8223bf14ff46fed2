using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Support
{
    /// <summary>Shared helpers for the core tests: cached fixture parses, bpftool runs, JSON comparison, temp dirs.</summary>
    internal static class BtfSupport
    {
        /// <summary>A kernel (or object) fixture parsed once per run and shared (Btf is immutable).</summary>
        public static Btf Kernel(string name) => Fixtures.Kernel(name);

        /// <summary>A split module fixture over its (shared) base.</summary>
        public static Btf Module(string module, string baseKernel) => Fixtures.Module(module, baseKernel);

        /// <summary>The base kernel of a module fixture.</summary>
        public static string BaseOf(string module) => Fixtures.Modules.Single(m => m.module == module).baseKernel;

        /// <summary>bpftool's raw dump of fixture <paramref name="name"/> (over its base for modules), text or JSON.</summary>
        public static byte[] BpftoolDump(string name, bool json)
        {
            var isModule = Fixtures.Modules.Any(m => m.module == name);
            return Bpftool.Dump(Fixtures.Path(name), isModule ? Fixtures.Path(BaseOf(name)) : null, json).StdOutBytes;
        }

        /// <summary>Our Btf for any fixture name (kernel, module with base, or object).</summary>
        public static Btf AnyFixture(string name)
            => Fixtures.Modules.Any(m => m.module == name) ? Module(name, BaseOf(name)) : Kernel(name);

        public static byte[] Text(Btf btf)
        {
            var ms = new MemoryStream();
            global::BtfBindings.Dump.BtfRawDump.WriteText(btf, ms);
            return ms.ToArray();
        }

        public static byte[] Json(Btf btf)
        {
            var ms = new MemoryStream();
            global::BtfBindings.Dump.BtfRawDump.WriteJson(btf, ms);
            return ms.ToArray();
        }

        /// <summary>Fails with the first differing line when the two byte strings differ.</summary>
        public static void AssertSameText(byte[] expected, byte[] actual, string what)
        {
            if (expected.AsSpan().SequenceEqual(actual)) return;
            var e = Encoding.UTF8.GetString(expected).Split('\n');
            var a = Encoding.UTF8.GetString(actual).Split('\n');
            int n = Math.Min(e.Length, a.Length);
            for (int i = 0; i < n; i++)
                if (e[i] != a[i])
                    Assert.Fail($"{what}: line {i + 1} differs\n  bpftool: {e[i]}\n  ours:    {a[i]}\n(previous line: {(i > 0 ? e[i - 1] : "")})");
            Assert.Fail($"{what}: outputs differ in length (bpftool {expected.Length} bytes / {e.Length} lines, ours {actual.Length} bytes / {a.Length} lines)");
        }

        /// <summary>Deep structural JSON equality (object member order ignored, numbers compared by value); returns the first difference or null.</summary>
        public static string? JsonDiff(JsonElement e, JsonElement a, string path)
        {
            if (e.ValueKind != a.ValueKind) return $"{path}: kind {e.ValueKind} vs {a.ValueKind} ({Short(e)} vs {Short(a)})";
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    {
                        var ep = e.EnumerateObject().ToList();
                        var ap = a.EnumerateObject().ToList();
                        var en = ep.Select(p => p.Name).OrderBy(x => x, StringComparer.Ordinal).ToList();
                        var an = ap.Select(p => p.Name).OrderBy(x => x, StringComparer.Ordinal).ToList();
                        if (!en.SequenceEqual(an)) return $"{path}: properties [{string.Join(",", en)}] vs [{string.Join(",", an)}]";
                        if (ep.Count != ep.Select(p => p.Name).Distinct().Count()) return $"{path}: duplicate property in expected";
                        foreach (var p in ep)
                        {
                            var d = JsonDiff(p.Value, a.GetProperty(p.Name), path + "." + p.Name);
                            if (d != null) return d;
                        }
                        return null;
                    }
                case JsonValueKind.Array:
                    {
                        int el = e.GetArrayLength(), al = a.GetArrayLength();
                        if (el != al) return $"{path}: array length {el} vs {al}";
                        int i = 0;
                        using var ea = e.EnumerateArray();
                        using var aa = a.EnumerateArray();
                        while (ea.MoveNext() && aa.MoveNext())
                        {
                            var d = JsonDiff(ea.Current, aa.Current, $"{path}[{i}]");
                            if (d != null) return d;
                            i++;
                        }
                        return null;
                    }
                case JsonValueKind.String:
                    {
                        // Names are raw bytes in BTF and may be invalid UTF-8 (bpftool copies them through): compare the
                        // raw JSON bytes when either side cannot be decoded.
                        string? es = null, @as = null;
                        try { es = e.GetString(); @as = a.GetString(); }
                        catch (InvalidOperationException)
                        {
                            var er = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e);
                            var ar = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(a);
                            return er.SequenceEqual(ar) ? null : $"{path}: raw {Convert.ToHexString(er)} vs {Convert.ToHexString(ar)}";
                        }
                        return es == @as ? null : $"{path}: \"{es}\" vs \"{@as}\"";
                    }
                case JsonValueKind.Number:
                    {
                        bool eo = e.TryGetDecimal(out var ed), ao = a.TryGetDecimal(out var ad);
                        if (eo && ao) return ed == ad ? null : $"{path}: {e.GetRawText()} vs {a.GetRawText()}";
                        return e.GetRawText() == a.GetRawText() ? null : $"{path}: {e.GetRawText()} vs {a.GetRawText()}";
                    }
                default:
                    return null; // true/false/null: kinds already equal
            }
        }

        private static string Short(JsonElement x) { var s = x.GetRawText(); return s.Length > 60 ? s.Substring(0, 60) + "…" : s; }

        /// <summary>Number of "[id] KIND" lines in a bpftool raw text dump.</summary>
        public static int CountTypeLines(byte[] text)
        {
            int n = 0;
            bool lineStart = true;
            foreach (var b in text)
            {
                if (lineStart && b == (byte)'[') n++;
                lineStart = b == (byte)'\n';
            }
            return n;
        }

        /// <summary>First id printed by a bpftool raw dump.</summary>
        public static int FirstDumpedId(byte[] text)
        {
            var s = Encoding.ASCII.GetString(text, 0, Math.Min(text.Length, 32));
            int close = s.IndexOf(']');
            return int.Parse(s.Substring(1, close - 1), CultureInfo.InvariantCulture);
        }

        /// <summary>Asserts that <paramref name="action"/> throws exactly a BtfException (not a subclass of something else) and returns it.</summary>
        public static BtfException Throws(Action action, params string[] messageParts)
        {
            Exception? caught = null;
            try { action(); }
            catch (Exception e) { caught = e; }
            if (caught == null) Assert.Fail("expected a BtfException, but nothing was thrown");
            if (caught is not BtfException be) { Assert.Fail($"expected a BtfException, got {caught!.GetType().FullName}: {caught.Message}\n{caught.StackTrace}"); return null!; }
            foreach (var part in messageParts)
                Assert.True(be.Message.Contains(part, StringComparison.OrdinalIgnoreCase), $"message \"{be.Message}\" does not mention \"{part}\"");
            return be;
        }

        /// <summary>Little-endian u32 write.</summary>
        public static void PutU32(byte[] d, int at, uint v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(at, 4), v);

        public static uint GetU32(byte[] d, int at) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(at, 4));
    }
}
