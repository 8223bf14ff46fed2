using System;
using System.Collections.Generic;
using System.Text;

namespace BtfBindings.Build.TypesAssembly
{
    /// <summary>A file that mentions BtfTypes, and whether it goes into the types assembly (else why not).</summary>
    internal readonly struct RequestVerdict
    {
        public readonly string Path;
        public readonly bool StandsAlone;
        public readonly string Reason;
        public RequestVerdict(string path, bool standsAlone, string reason) { Path = path; StandsAlone = standsAlone; Reason = reason; }
        public override string ToString() => StandsAlone ? Path + ": stands alone" : Path + ": " + Reason;
    }

    /// <summary>
    /// The project-wide rule for the automatic types assembly: of the project's C# files, those that hold a
    /// <c>[BtfTypes]</c> request and stand alone (<see cref="RequestFile"/>), and whose class names no file left in the
    /// project declares too (a second <c>partial class Kernel</c> part would be split from the generated types) and whose
    /// using directives name no namespace a file left in the project declares. The files are scanned as UTF-8 bytes: one
    /// without "BtfTypes" is not parsed, and the name checks in the others look for the names' declarations textually,
    /// counting an unsure case (a comment or directive next to the name) as a declaration.
    /// </summary>
    internal static class StandaloneRequests
    {
        private static readonly byte[] Marker = Encoding.ASCII.GetBytes("BtfTypes");
        private static readonly byte[] Delegate = Encoding.ASCII.GetBytes("delegate");
        private static readonly byte[][] TypeKeywords = { Encoding.ASCII.GetBytes("class"), Encoding.ASCII.GetBytes("struct"),
            Encoding.ASCII.GetBytes("interface"), Encoding.ASCII.GetBytes("enum"), Encoding.ASCII.GetBytes("record"), Encoding.ASCII.GetBytes("namespace") };

        /// <summary>The verdict for every file (UTF-8 or BOM-marked UTF-16 contents) that mentions BtfTypes, in input order.</summary>
        public static List<RequestVerdict> Decide(IReadOnlyList<(string path, byte[] bytes)> files)
        {
            var verdicts = new List<RequestVerdict>();
            var texts = new byte[files.Count][];
            var requests = new Dictionary<int, RequestFile>();
            for (int i = 0; i < files.Count; i++)
            {
                texts[i] = AsUtf8(files[i].bytes);
                if (texts[i].AsSpan().IndexOf(Marker) >= 0) requests[i] = RequestFile.Read(Encoding.UTF8.GetString(texts[i]));
            }
            if (requests.Count == 0) return verdicts;

            var reasons = new Dictionary<int, string>();
            foreach (var r in requests) if (!r.Value.StandsAlone) reasons[r.Key] = r.Value.Refusal;
            // Two requests on one class (in two files): an error wherever they are compiled; left to the project's build.
            var requestFiles = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var r in requests)
                if (r.Value.StandsAlone)
                    foreach (var c in r.Value.Classes)
                        if (c.request)
                        {
                            if (requestFiles.TryGetValue(c.fullName, out int other))
                            {
                                reasons[r.Key] = $"class {c.fullName} has [BtfTypes] in {files[other].path} too";
                                reasons[other] = $"class {c.fullName} has [BtfTypes] in {files[r.Key].path} too";
                            }
                            else requestFiles[c.fullName] = r.Key;
                        }

            // Until nothing changes: a file staying in the project may declare what a leaving file needs for itself.
            for (bool changed = true; changed;)
            {
                changed = false;
                foreach (var r in requests)
                {
                    if (reasons.ContainsKey(r.Key)) continue;
                    string? clash = Clash(r.Value, files, texts, i => requests.ContainsKey(i) && !reasons.ContainsKey(i));
                    if (clash != null) { reasons[r.Key] = clash; changed = true; }
                }
            }
            foreach (var r in requests)
                verdicts.Add(new RequestVerdict(files[r.Key].path, !reasons.ContainsKey(r.Key), reasons.TryGetValue(r.Key, out var why) ? why : ""));
            verdicts.Sort((a, b) => IndexOf(files, a.Path).CompareTo(IndexOf(files, b.Path)));
            return verdicts;
        }

        private static int IndexOf(IReadOnlyList<(string path, byte[] bytes)> files, string path)
        {
            for (int i = 0; i < files.Count; i++) if (files[i].path == path) return i;
            return -1;
        }

        /// <summary>Why <paramref name="request"/> cannot leave the project because of a file staying in it, or null.</summary>
        private static string? Clash(RequestFile request, IReadOnlyList<(string path, byte[] bytes)> files, byte[][] texts, Func<int, bool> leaving)
        {
            var names = new List<(byte[] bytes, string why)>();
            foreach (var c in request.Classes)
                names.Add((Encoding.UTF8.GetBytes(c.name), $"declares a type or namespace named {c.name} too (a second part of the class would be split from the generated types)"));
            foreach (var ns in request.Usings)
            {
                string last = ns.Substring(ns.LastIndexOf('.') + 1);
                names.Add((Encoding.UTF8.GetBytes(last), $"may declare the namespace of 'using {ns};' (it declares '{last}')"));
            }
            for (int i = 0; i < files.Count; i++)
            {
                if (leaving(i)) continue;
                foreach (var (bytes, why) in names)
                    if (DeclaresName(texts[i], bytes)) return files[i].path + " " + why;
            }
            return null;
        }

        /// <summary>
        /// True when <paramref name="text"/> may declare a type or namespace <paramref name="name"/>: the word right after
        /// class/struct/interface/enum/record/namespace (or after a dotted namespace name), any use in a file with a
        /// delegate, and any use next to a comment or directive (unsure: counted).
        /// </summary>
        internal static bool DeclaresName(byte[] text, byte[] name)
        {
            bool? delegates = null;
            for (int from = 0; ;)
            {
                int at = text.AsSpan(from).IndexOf(name);
                if (at < 0) return false;
                at += from;
                from = at + 1;
                int end = at + name.Length;
                if ((at > 0 && IsWordByte(text[at - 1])) || (end < text.Length && IsWordByte(text[end]))) continue;
                if (delegates ??= ContainsWord(text, Delegate)) return true;
                int p = at - 1;
                if (p >= 0 && text[p] == '@') p--;
                bool newline = false;
                while (p >= 0 && IsSpace(text[p])) { newline |= text[p] == '\n'; p--; }
                if (p < 0) continue;
                if (text[p] == '/' && p > 0 && text[p - 1] == '*') return true;   // the end of a /* comment */
                if (newline && UnsureLine(text, p)) return true;
                while (p >= 0 && text[p] == '.')                        // namespace A.B.Name
                {
                    p--;
                    while (p >= 0 && IsSpace(text[p])) p--;
                    while (p >= 0 && IsWordByte(text[p])) p--;
                    while (p >= 0 && IsSpace(text[p])) p--;
                }
                int wordEnd = p + 1;
                while (p >= 0 && IsWordByte(text[p])) p--;
                var word = text.AsSpan(p + 1, wordEnd - p - 1);
                foreach (var k in TypeKeywords) if (word.SequenceEqual(k)) return true;
            }
        }

        /// <summary>The line ending at <paramref name="p"/> has a // comment or is a directive.</summary>
        private static bool UnsureLine(byte[] text, int p)
        {
            int start = p;
            while (start > 0 && text[start - 1] != '\n') start--;
            var line = text.AsSpan(start, p - start + 1);
            return line.IndexOf((byte)'#') >= 0 || line.IndexOf(new[] { (byte)'/', (byte)'/' }) >= 0;
        }

        internal static bool ContainsWord(byte[] text, byte[] word)
        {
            for (int from = 0; ;)
            {
                int at = text.AsSpan(from).IndexOf(word);
                if (at < 0) return false;
                at += from;
                int end = at + word.Length;
                if ((at == 0 || !IsWordByte(text[at - 1])) && (end == text.Length || !IsWordByte(text[end]))) return true;
                from = at + 1;
            }
        }

        // Non-ASCII bytes are parts of (UTF-8 encoded) identifiers: a name followed by one is a longer name.
        private static bool IsWordByte(byte b) => b >= 0x80 || b == '_' || (b >= '0' && b <= '9') || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z');

        private static bool IsSpace(byte b) => b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\f' || b == '\v';

        /// <summary>UTF-16 files (byte order mark) as UTF-8; UTF-8 (with or without its mark) as it is.</summary>
        private static byte[] AsUtf8(byte[] bytes)
        {
            if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE) return Encoding.UTF8.GetBytes(Encoding.Unicode.GetString(bytes, 2, bytes.Length - 2));
            if (bytes.Length >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF) return Encoding.UTF8.GetBytes(Encoding.BigEndianUnicode.GetString(bytes, 2, bytes.Length - 2));
            return bytes;
        }
    }
}
