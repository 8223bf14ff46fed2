using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using BtfBindings.Compatibility;

namespace BtfBindings
{
    /// <summary>
    /// <c>obj/…/btfbindings/compat.verdicts</c>: the verdicts the build's report computed, one per line —
    /// target SHA-256, build-time BTF SHA-256, use text, verdict number, detail (tab-separated) — so the next compile's
    /// analyzer (a fresh compiler process without the server, CI) and the next report parse no target for a known use.
    /// Written by the report task, read by it and by the analyzer (by path, beside the manifest: not a compiler input,
    /// since it changes no result, only how fast it comes); keyed by content hashes, so a stale line is never used for a
    /// changed file, and headed by the package build, so another version's rule is never trusted.
    /// </summary>
    internal static class VerdictFile
    {
        /// <summary>The file's name.</summary>
        public const string FileName = "compat.verdicts";

        /// <summary>The key of a verdict: both hashes (as the manifest writes them) and the use.</summary>
        public static string Key(string targetHash, string buildHash, CompatUse use)
            => targetHash.ToUpperInvariant() + "\t" + buildHash.ToUpperInvariant() + "\t" + use.Text;

        /// <summary>The file's first line: the package build that wrote it (the generator and the task assembly are built together).</summary>
        public static readonly string Header = "# BtfBindings " + (typeof(VerdictFile).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?");

        /// <summary>Where the file is for a manifest (<c>obj/…/BtfBindings.btfrefs</c>): <c>obj/…/btfbindings/compat.verdicts</c>.</summary>
        public static string PathFor(string manifest) => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(manifest) ?? "", "btfbindings", FileName);

        /// <summary>The verdicts in the file at <paramref name="path"/>; none when it is missing, unreadable or another build's.</summary>
        public static Dictionary<string, CompatResult> Load(string path)
        {
            try { return System.IO.File.Exists(path) ? Read(System.IO.File.ReadAllText(path)) : new Dictionary<string, CompatResult>(StringComparer.Ordinal); }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException) { return new Dictionary<string, CompatResult>(StringComparer.Ordinal); }
        }

        // Per path: the file's size and time when read, and its verdicts. A compiler server or IDE compiles the same
        // project again and again; parsing ~400 KB (50 uses x 40 targets) at every compilation start was most of the
        // analyzer's time in an incremental build.
        private static readonly Dictionary<string, (long size, DateTime time, IReadOnlyDictionary<string, CompatResult> verdicts)> Shared
            = new Dictionary<string, (long, DateTime, IReadOnlyDictionary<string, CompatResult>)>(StringComparer.Ordinal);
        private const int SharedCapacity = 16;

        /// <summary>Number of times <see cref="LoadShared"/> actually read a file (tests use it to prove the cache).</summary>
        public static int SharedReadCount;

        /// <summary>
        /// <see cref="Load"/> for readers that do not change the result: read again only when the file's size or
        /// modification time changed since this process last read it (every writer replaces the whole file).
        /// </summary>
        public static IReadOnlyDictionary<string, CompatResult> LoadShared(string path)
        {
            long size; DateTime time;
            try
            {
                var info = new System.IO.FileInfo(path);
                if (!info.Exists) return new Dictionary<string, CompatResult>(StringComparer.Ordinal);
                size = info.Length; time = info.LastWriteTimeUtc;
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException) { return new Dictionary<string, CompatResult>(StringComparer.Ordinal); }
            lock (Shared)
                if (Shared.TryGetValue(path, out var hit) && hit.size == size && hit.time == time) return hit.verdicts;
            var verdicts = Load(path);
            System.Threading.Interlocked.Increment(ref SharedReadCount);
            lock (Shared)
            {
                if (Shared.Count >= SharedCapacity && !Shared.ContainsKey(path)) Shared.Clear(); // projects of one server: rarely more
                Shared[path] = (size, time, verdicts);
            }
            return verdicts;
        }

        private static readonly int MaxVerdict = Enum.GetValues(typeof(CompatVerdict)).Cast<int>().Max();

        /// <summary>The verdicts in <paramref name="text"/> (malformed lines skipped; none when another build wrote it).</summary>
        public static Dictionary<string, CompatResult> Read(string text)
        {
            var d = new Dictionary<string, CompatResult>(StringComparer.Ordinal);
            int eol = text.IndexOf('\n');
            if ((eol < 0 ? text : text.Substring(0, eol)).TrimEnd('\r') != Header) return d;
            // By offsets, not Split: a fresh compiler process reads ~2,000 lines at the analyzer's start.
            for (int at = eol + 1; at > 0 && at < text.Length; at = eol + 1)
            {
                eol = text.IndexOf('\n', at);
                int end = eol < 0 ? text.Length : eol;
                if (end > at && text[end - 1] == '\r') end--;
                int t1 = text.IndexOf('\t', at, end - at);
                int t2 = t1 < 0 ? -1 : text.IndexOf('\t', t1 + 1, end - t1 - 1);
                int t3 = t2 < 0 ? -1 : text.IndexOf('\t', t2 + 1, end - t2 - 1);
                int t4 = t3 < 0 ? -1 : text.IndexOf('\t', t3 + 1, end - t3 - 1);
                if (t4 < 0 || text.IndexOf('\t', t4 + 1, end - t4 - 1) >= 0) continue; // not 5 fields
                if (!int.TryParse(text.Substring(t3 + 1, t4 - t3 - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int v)
                    || v < 0 || v > MaxVerdict) continue;
                d[text.Substring(at, t3 - at)] = new CompatResult((CompatVerdict)v, text.Substring(t4 + 1, end - t4 - 1));
            }
            return d;
        }

        /// <summary>The file's text, sorted (so it is rewritten only when a verdict is added).</summary>
        public static string Write(IEnumerable<KeyValuePair<string, CompatResult>> verdicts)
        {
            var sb = new StringBuilder(Header).Append('\n');
            foreach (var kv in verdicts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append(kv.Key).Append('\t').Append(((int)kv.Value.Verdict).ToString(CultureInfo.InvariantCulture)).Append('\t')
                  .Append(kv.Value.Detail.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ')).Append('\n');
            return sb.ToString();
        }
    }
}
