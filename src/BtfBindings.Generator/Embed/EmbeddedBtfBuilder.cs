using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using BtfBindings.Compatibility;
using BtfBindings.Emit;
using BtfBindings.Generator;
using BtfBindings.Layout;
using BtfBindings.Minimize;

namespace BtfBindings.Embed
{
    /// <summary>
    /// What <see cref="EmbeddedBtfGenerator"/> computes: the program's type set, each embedded target minimized to it
    /// (<see cref="BtfMinimizer.MinimizeForCore"/>: every CO-RE answer as against the full BTF), identical results
    /// deduplicated, gzip'd (the runtime reads gzip; no xz encoder is at hand in a compiler), and the size report.
    /// Minimized targets are cached in the compiler process by path + content hash + type set, so an edit that leaves
    /// the type set alone parses no target again.
    /// </summary>
    internal static class EmbeddedBtfBuilder
    {
        /// <summary>The report's file name in <see cref="EmbedTargets.ReportDirectory"/>.</summary>
        public const string ReportFile = "embedded.md";

        /// <summary>The names the request's generated types are looked up by in a target, plus the names it requested.</summary>
        public static EmbedTypeSet TypeSet(RequestModel req, BtfFileSet files, CancellationToken ct)
        {
            // Problems in the request are reported by the analyzer and the type generator; nothing to embed for it.
            if (req.Problems.Count > 0 || req.Names.Count == 0) return EmbedTypeSet.Empty;
            var file = BtfTypesRequest.ChooseFile(req, files, new List<DiagnosticInfo>());
            if (file == null) return EmbedTypeSet.Empty;
            try
            {
                var btf = BtfCache.Get(file);
                ct.ThrowIfCancellationRequested();
                var plan = LayoutPlanner.Plan(btf, req.Names.Select(n => n.Name), new LayoutOptions { FollowPointers = req.FollowPointers }, out _);
                var names = new SortedSet<string>(BtfMinimizer.CoreNames(plan), StringComparer.Ordinal);
                foreach (var n in req.Names) names.Add(n.Name);
                return new EmbedTypeSet(new EquatableArray<string>(names), req.Names);
            }
            catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
            {
                return EmbedTypeSet.Empty; // BTFB004 comes from the type generator
            }
        }

        /// <summary>One target minimized to a type set (cached).</summary>
        private sealed class Minimized
        {
            public byte[] Raw = Array.Empty<byte>();
            public long FullBytes;
            public string[] Absent = Array.Empty<string>();
            public string? Error;
        }

        private static readonly object Gate = new object();
        private static readonly Dictionary<string, Minimized> Cache = new Dictionary<string, Minimized>(StringComparer.Ordinal);
        private const int CacheCapacity = 512;

        /// <summary>Number of targets actually read and minimized (tests use it to prove caching).</summary>
        public static int MinimizeCount;

        /// <summary>No source, no diagnostics.</summary>
        public static readonly GenerationResult Nothing = new GenerationResult(new EquatableArray<GeneratedSource>(Array.Empty<GeneratedSource>()), new EquatableArray<DiagnosticInfo>(Array.Empty<DiagnosticInfo>()));

        /// <summary>Builds the generated source, the diagnostics and the size report.</summary>
        public static GenerationResult Build(ImmutableArray<EmbedTypeSet> sets, EmbedTargets targets, CancellationToken ct)
        {
            var diags = new List<DiagnosticInfo>();
            var sources = new List<GeneratedSource>();
            GenerationResult Done() => new GenerationResult(new EquatableArray<GeneratedSource>(sources), new EquatableArray<DiagnosticInfo>(diags));
            if (targets.Targets.Count == 0) return Done();
            try
            {
                var names = new SortedSet<string>(StringComparer.Ordinal);
                var requested = new Dictionary<string, RequestedName>(StringComparer.Ordinal);
                foreach (var s in sets)
                {
                    foreach (var n in s.Names) names.Add(n);
                    foreach (var r in s.Requested) if (!requested.ContainsKey(r.Name)) requested[r.Name] = r;
                }
                if (names.Count == 0) return Done(); // no [BtfTypes] yet (or all in error): nothing the program could resolve
                string namesKey = string.Join("\n", names);

                var list = targets.Targets.ToList();
                var results = new Minimized[list.Count];
                Parallel.For(0, list.Count, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) },
                    i => results[i] = Get(list[i], names, namesKey));

                // Distinct minimized BTF, gzip'd once each; entries point at their blob.
                var blobIndex = new Dictionary<string, int>(StringComparer.Ordinal);
                var blobs = new List<byte[]>();
                var rawOfBlob = new List<int>();
                var entries = new List<EmbeddedBtfEntry>();
                var rows = new List<(KernelTargetInfo info, BtfTargetRef t, Minimized m, int blob)>();
                for (int i = 0; i < list.Count; i++)
                {
                    var t = list[i];
                    var m = results[i];
                    if (m.Error != null) { diags.Add(DiagnosticInfo.Create("BTFB023", null, t.Path, m.Error)); continue; }
                    var info = KernelTargetInfo.FromPath(t.Path, t.Release.Length > 0 ? t.Release : null, t.Arch.Length > 0 ? t.Arch : null);
                    if (info.Arch == null) diags.Add(DiagnosticInfo.Create("BTFB025", null, t.Path, info.Release));
                    foreach (var a in m.Absent)
                        if (requested.TryGetValue(a, out var r)) diags.Add(DiagnosticInfo.Create("BTFB024", r.Location, t.Path, info.Label, a));
                    string key = Hash(m.Raw);
                    if (!blobIndex.TryGetValue(key, out int b))
                    {
                        b = blobs.Count;
                        blobIndex[key] = b;
                        blobs.Add(Gzip(m.Raw));
                        rawOfBlob.Add(m.Raw.Length);
                    }
                    entries.Add(new EmbeddedBtfEntry(EntryName(info), info.Release, info.Arch ?? "", b));
                    rows.Add((info, t, m, b));
                }
                if (entries.Count == 0) return Done();
                var report = Report(rows, blobs, names.Count);
                sources.Add(new GeneratedSource(EmbeddedBtfEmitter.HintName, EmbeddedBtfEmitter.Emit(blobs, entries, report.summary)));
                WriteReport(targets.ReportDirectory, report.text);
                return Done();
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                // Never into the compiler: BTFB009 with where it came from, and nothing half-built.
                return new GenerationResult(Nothing.Sources, new EquatableArray<DiagnosticInfo>(new[] { DiagnosticInfo.Create("BTFB009", null, BtfSourceGenerator.Describe(e)) }));
            }
        }

        private static Minimized Get(BtfTargetRef t, SortedSet<string> names, string namesKey)
        {
            string key = t.Path + "|" + t.Hash + "|" + namesKey;
            lock (Gate) { if (Cache.TryGetValue(key, out var hit)) return hit; }
            var m = new Minimized();
            try
            {
                // Parsed through the compatibility check's cache (one parse per target and content hash in the process).
                var btf = BtfCache.Target(t).Vmlinux!;
                m.Raw = BtfMinimizer.MinimizeForCore(btf, names).Data;
                m.FullBytes = btf.RawLength;
                m.Absent = names.Where(n => BtfMinimizer.CoreRoots(btf, new[] { n }).Count == 0).ToArray();
                Interlocked.Increment(ref MinimizeCount);
            }
            catch (Exception e) when (e is BtfException || e is IOException || e is UnauthorizedAccessException)
            {
                m.Error = e.Message;   // not cached: the file may be fixed without its hash changing the key (unreadable)
                return m;
            }
            lock (Gate)
            {
                if (Cache.Count >= CacheCapacity) Cache.Clear();
                Cache[key] = m;
            }
            return m;
        }

        /// <summary>How messages name an entry: its place in a BTFHub tree (<c>debian/11/x86_64/5.10.0-46-amd64.btf.tar.xz</c>), never the build machine's path.</summary>
        private static string EntryName(KernelTargetInfo info)
        {
            string file = Path.GetFileName(info.Path);
            if (info.Distro == null) return file;
            return info.DistroLabel + "/" + Path.GetFileName(Path.GetDirectoryName(info.Path)) + "/" + file;
        }

        private static string Hash(byte[] data)
        {
            using var sha = SHA256.Create();
            return Convert.ToBase64String(sha.ComputeHash(data));
        }

        private static byte[] Gzip(byte[] data)
        {
            using var ms = new MemoryStream();
            using (var z = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data, 0, data.Length);
            return ms.ToArray();
        }

        private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

        /// <summary>The Markdown report; its first line is the one-line summary the build prints.</summary>
        private static (string summary, string text) Report(List<(KernelTargetInfo info, BtfTargetRef t, Minimized m, int blob)> rows, List<byte[]> blobs, int typeNames)
        {
            long full = rows.Sum(r => r.m.FullBytes);
            long gz = blobs.Sum(b => (long)b.Length);
            long b64 = blobs.Sum(b => (long)((b.Length + 2) / 3 * 4));
            string pct = full > 0 ? (100.0 * gz / full).ToString("0.000", CultureInfo.InvariantCulture) : "0";
            long noDedup = rows.Sum(r => (long)blobs[r.blob].Length);
            string summary = $"embedded BTF for {rows.Count} kernels: {N(gz)} bytes gzip'd ({blobs.Count} distinct after dedup, {N(noDedup)} without, {N(b64)} bytes as base64 in the assembly), {pct}% of their {N(full)} bytes of full BTF; minimized to {typeNames} type names";
            var sb = new StringBuilder();
            sb.Append("BtfBindings: ").Append(summary).Append("\n\n");
            sb.Append("| kernel | arch | distro | full BTF bytes | minimized bytes | gzip bytes | blob |\n|---|---|---|---:|---:|---:|---:|\n");
            var firstOf = new Dictionary<int, string>();
            foreach (var r in rows.OrderBy(r => r.info.Arch ?? "", StringComparer.Ordinal).ThenBy(r => r.info.Version))
            {
                bool shared = firstOf.TryGetValue(r.blob, out var first);
                if (!shared) firstOf[r.blob] = r.info.Label;
                sb.Append("| ").Append(r.info.Release).Append(" | ").Append(r.info.Arch ?? "?").Append(" | ").Append(r.info.DistroLabel ?? "")
                  .Append(" | ").Append(N(r.m.FullBytes)).Append(" | ").Append(N(r.m.Raw.Length)).Append(" | ")
                  .Append(shared ? "(same as " + first + ")" : N(blobs[r.blob].Length)).Append(" | ").Append(r.blob).Append(" |\n");
            }
            sb.Append("| **total** | | | ").Append(N(full)).Append(" | ").Append(N(rows.Sum(r => (long)r.m.Raw.Length))).Append(" | ").Append(N(gz)).Append(" | ").Append(blobs.Count).Append(" distinct |\n");
            return (summary, sb.ToString());
        }

        /// <summary>
        /// Writes the report where the build prints it from (a generator has no other way to hand MSBuild a file); only when
        /// changed, and never failing the build: the same text is in the generated file's header.
        /// </summary>
        private static void WriteReport(string dir, string text)
        {
            if (dir.Length == 0) return;
            try
            {
                Directory.CreateDirectory(dir);
                string path = Path.Combine(dir, ReportFile);
                if (File.Exists(path) && File.ReadAllText(path) == text) return;
                File.WriteAllText(path, text, new UTF8Encoding(false));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }
    }
}
