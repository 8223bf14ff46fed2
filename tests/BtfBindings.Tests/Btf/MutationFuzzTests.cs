using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using BtfBindings.Dump;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.BtfFormat
{
    /// <summary>
    /// Mutation fuzzing with fixed seeds: real BTF is corrupted thousands of times (bit flips, u32 overwrites in the
    /// header and type section, forged info words, truncations, splices, insertions/deletions), then parsed and
    /// walked completely. The only exception allowed is BtfException; a watchdog flags any iteration that hangs.
    /// </summary>
    public class MutationFuzzTests
    {
        private readonly ITestOutputHelper _out;
        public MutationFuzzTests(ITestOutputHelper output) { _out = output; }

        /// <summary>The watchdog: one mutation (parse and walk) running longer than this is a hang.</summary>
        private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(15);

        /// <summary>A whole run taking longer than this fails (a stuck machine or a pathological slowdown), never silently cut short.</summary>
        private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(240);

        private enum Mut { BitFlips, HeaderWord, TypeWord, InfoWord, Truncate, Splice, InsertDelete, StringByte, Several }

        private sealed class Stats
        {
            public int Iterations, Expected, Parsed, Rejected, TypesWalked, FullWalks;
            public TimeSpan Elapsed;
            public readonly Dictionary<Mut, int> ByKind = new Dictionary<Mut, int>();
            public readonly Dictionary<string, (int count, string example)> Unexpected = new Dictionary<string, (int, string)>();
            public string? Hang;
            public bool OverRunLimit;
        }

        // ---- mutations --------------------------------------------------------------------------------------

        private static uint Interesting(Random r, int typeCount)
        {
            switch (r.Next(12))
            {
                case 0: return 0;
                case 1: return 1;
                case 2: return (uint)r.Next(Math.Max(typeCount + 4, 2));
                case 3: return (uint)Math.Max(typeCount - 1, 0);
                case 4: return (uint)typeCount;
                case 5: return 0x7FFFFFFF;
                case 6: return 0x80000000;
                case 7: return 0xFFFFFFFF;
                case 8: return 0x00FFFFFF;
                case 9: return (uint)r.Next(1 << 16);
                case 10: return 0xFFFFFFF0u + (uint)r.Next(16);
                default: return (uint)r.Next() ^ ((uint)r.Next(2) << 31);
            }
        }

        private static byte[] Mutate(byte[] src, Random r, int hdrLen, int typeStart, int typeEnd, int typeCount, out Mut kind, out string desc)
        {
            kind = (Mut)r.Next(9);
            var d = (byte[])src.Clone();
            return Apply(d, r, kind, hdrLen, typeStart, typeEnd, typeCount, out desc);
        }

        private static byte[] Apply(byte[] d, Random r, Mut kind, int hdrLen, int typeStart, int typeEnd, int typeCount, out string desc)
        {
            if (d.Length < 8) { desc = "too short to mutate"; return d; }
            int AlignedIn(int lo, int hi) => lo + 4 * r.Next(Math.Max((hi - lo) / 4, 1));
            switch (kind)
            {
                case Mut.BitFlips:
                    {
                        int n = 1 + r.Next(8);
                        var at = new List<string>();
                        for (int i = 0; i < n; i++)
                        {
                            int p = r.Next(4) == 0 ? r.Next(Math.Min(d.Length, Math.Max(typeEnd, 1))) : r.Next(d.Length);
                            int bit = r.Next(8);
                            d[p] ^= (byte)(1 << bit);
                            at.Add($"{p}.{bit}");
                        }
                        desc = "flip " + string.Join(",", at);
                        return d;
                    }
                case Mut.HeaderWord:
                    {
                        int p = 4 * r.Next(Math.Max(hdrLen / 4, 1));
                        if (p + 4 > d.Length) p = 0;
                        uint v = Interesting(r, d.Length);
                        if (r.Next(3) == 0) v = (uint)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(p)) + r.Next(-16, 17));
                        BtfSupport.PutU32(d, p, v);
                        desc = $"header u32 @{p} = 0x{v:x}";
                        return d;
                    }
                case Mut.TypeWord:
                    {
                        int p = AlignedIn(typeStart, typeEnd);
                        if (p + 4 > d.Length) { desc = "noop"; return d; }
                        uint v = Interesting(r, typeCount);
                        BtfSupport.PutU32(d, p, v);
                        desc = $"type u32 @{p} = 0x{v:x}";
                        return d;
                    }
                case Mut.InfoWord:
                    {
                        // A plausible info word: kind 0..31, small or large vlen, random kind_flag.
                        int p = AlignedIn(typeStart, typeEnd);
                        if (p + 4 > d.Length) { desc = "noop"; return d; }
                        uint kindBits = (uint)r.Next(32);
                        uint vlen = r.Next(4) switch { 0 => 0u, 1 => (uint)r.Next(4), 2 => (uint)r.Next(300), _ => (uint)r.Next(1 << 24) };
                        uint v = (kindBits << 24) | vlen | (r.Next(2) == 0 ? 0x80000000u : 0);
                        BtfSupport.PutU32(d, p, v);
                        desc = $"info u32 @{p} = 0x{v:x}";
                        return d;
                    }
                case Mut.Truncate:
                    {
                        int len = r.Next(d.Length);
                        desc = $"truncate to {len}";
                        return d.AsSpan(0, len).ToArray();
                    }
                case Mut.Splice:
                    {
                        int len = 1 + r.Next(64);
                        int from = r.Next(d.Length), to = r.Next(d.Length);
                        len = Math.Min(len, Math.Min(d.Length - from, d.Length - to));
                        Buffer.BlockCopy(d, from, d, to, len);
                        desc = $"splice {len} bytes {from}->{to}";
                        return d;
                    }
                case Mut.InsertDelete:
                    {
                        int at = r.Next(d.Length);
                        int len = r.Next(2) == 0 ? 4 * (1 + r.Next(4)) : 1 + r.Next(16);
                        if (r.Next(2) == 0)
                        {
                            len = Math.Min(len, d.Length - at);
                            var o = new byte[d.Length - len];
                            Buffer.BlockCopy(d, 0, o, 0, at);
                            Buffer.BlockCopy(d, at + len, o, at, d.Length - at - len);
                            desc = $"delete {len} bytes at {at}";
                            return o;
                        }
                        else
                        {
                            var o = new byte[d.Length + len];
                            Buffer.BlockCopy(d, 0, o, 0, at);
                            for (int i = 0; i < len; i++) o[at + i] = (byte)r.Next(256);
                            Buffer.BlockCopy(d, at, o, at + len, d.Length - at);
                            desc = $"insert {len} bytes at {at}";
                            return o;
                        }
                    }
                case Mut.StringByte:
                    {
                        int p = typeEnd < d.Length ? r.Next(typeEnd, d.Length) : r.Next(d.Length);
                        byte v = (byte)(r.Next(3) == 0 ? 0 : r.Next(256));
                        d[p] = v;
                        desc = $"byte @{p} = 0x{v:x2}";
                        return d;
                    }
                default:
                    {
                        int n = 2 + r.Next(3);
                        var parts = new List<string>();
                        for (int i = 0; i < n; i++)
                        {
                            var k = (Mut)r.Next(8);
                            d = Apply(d, r, k, hdrLen, typeStart, typeEnd, typeCount, out var sub);
                            parts.Add(sub);
                            if (d.Length < 8) break;
                        }
                        desc = string.Join("; ", parts);
                        return d;
                    }
            }
        }

        // ---- walking everything ------------------------------------------------------------------------------

        private static int WalkEverything(Btf btf, Random r, int resolveEvery, bool dump, int window = 0)
        {
            long sink = 0;
            int walked = 0;
            var names = new List<string>();
            // window > 0: only that many consecutive types from a random start (and the dump, lookups and closures below).
            int from = btf.FirstTypeId, to = btf.TypeCount;
            if (window > 0 && to - from > window) { from = r.Next(from, to - window + 1); to = from + window; }
            for (int id = from; id < to; id++)
            {
                var t = btf[id];
                walked++;
                sink += (int)t.Kind + t.Vlen + (t.KindFlag ? 1 : 0) + t.Size + t.NameOffset;
                var name = t.Name;
                if (name.Length > 0 && names.Count < 64 && r.Next(8) == 0) names.Add(name);
                sink += name.Length + t.ToString().Length;
                switch (t.Kind)
                {
                    case BtfKind.Int:
                        sink += (int)t.IntEncoding + t.IntBits + t.IntBitOffset + (t.IsSigned ? 1 : 0);
                        break;
                    case BtfKind.Array:
                        sink += (int)btf[t.ArrayElementTypeId].Kind + (int)btf[t.ArrayIndexTypeId].Kind + t.ArrayLength;
                        break;
                    case BtfKind.Struct: case BtfKind.Union:
                        foreach (var m in t.Members)
                            sink += m.Name.Length + (int)m.Type.Kind + m.BitOffset + m.BitfieldSize + m.Index + (m.IsAnonymous ? 1 : 0);
                        break;
                    case BtfKind.Enum: case BtfKind.Enum64:
                        foreach (var v in t.EnumValues) sink += v.Name.Length + (long)v.RawValue + v.SignedValue + (v.IsSigned ? 1 : 0);
                        break;
                    case BtfKind.FuncProto:
                        sink += (int)t.Type.Kind;
                        foreach (var p in t.Params) sink += p.Name.Length + (int)btf[p.TypeId].Kind;
                        break;
                    case BtfKind.DataSec:
                        foreach (var v in t.VarSecInfos) sink += btf[v.TypeId].Name.Length + v.Offset + v.Size;
                        break;
                    case BtfKind.Func: case BtfKind.Var:
                        sink += (int)t.Linkage + (int)t.Type.Kind;
                        break;
                    case BtfKind.DeclTag:
                        sink += t.ComponentIndex + (int)t.Type.Kind;
                        break;
                    case BtfKind.Fwd:
                        sink += t.IsUnionForward ? 1 : 0;
                        break;
                    case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
                        sink += (int)t.Type.Kind;
                        break;
                }
                foreach (var rid in btf.GetReferencedIds(id)) sink += rid;
                if (resolveEvery <= 1 || r.Next(resolveEvery) == 0)
                {
                    try { sink += btf.ResolveSize(id); } catch (BtfException) { }
                    try { sink += btf.AlignOf(id); } catch (BtfException) { }
                    try { sink += btf.Skip(id); } catch (BtfException) { }
                    try { sink += btf.Skip(id, typedefs: false); } catch (BtfException) { }
                }
            }
            foreach (var n in names)
            {
                sink += btf.FindTypes(n).Count + btf.FindTypes(n, BtfKind.Struct).Count;
                sink += btf.FindCoreCandidates(n + "___x", BtfKind.Struct).Count + btf.FindCoreCandidates(n, BtfKind.Enum).Count;
            }
            if (btf.TypeCount > btf.FirstTypeId)
            {
                var roots = Enumerable.Range(0, 3).Select(_ => r.Next(btf.FirstTypeId, btf.TypeCount)).ToArray();
                sink += btf.Closure(roots).Count + btf.Closure(roots, throughPointers: false).Count;
            }
            sink += btf.NamedTypes().Count() + btf.PointerSize + btf.StringsEnd;
            if (dump)
            {
                BtfRawDump.WriteText(btf, Stream.Null);
                BtfRawDump.WriteJson(btf, Stream.Null);
            }
            GC.KeepAlive(sink);
            return walked;
        }

        // ---- the driver with a watchdog ------------------------------------------------------------------------

        /// <summary>
        /// Exactly <paramref name="iterations"/> mutations from <paramref name="seed"/> (the same ones on every run), each parsed
        /// and walked on a worker thread that a watchdog stops on a hang (<see cref="HangLimit"/> for one mutation) or when
        /// the whole run exceeds <see cref="RunLimit"/>; either fails the test.
        /// </summary>
        private Stats Run(string label, byte[] original, Func<byte[], Btf> parse, int seed, int iterations,
            int resolveEvery, int dumpEvery, bool headerAt0 = true, int fullWalkEvery = 1, int window = 4096)
        {
            // Where the header and type section of the (valid) original are, to aim mutations.
            int hdrLen = 24, typeStart = 24, typeEnd = original.Length, typeCount = 100;
            if (headerAt0)
            {
                var probe = parse((byte[])original.Clone());
                bool be = original[0] == 0xEB;
                uint H(int o) => be ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(original.AsSpan(o)) : BtfSupport.GetU32(original, o);
                hdrLen = (int)H(4);
                typeStart = hdrLen + (int)H(8);
                typeEnd = typeStart + (int)H(12);
                typeCount = probe.TypeCount;
                WalkEverything(probe, new Random(seed), resolveEvery, dump: true); // the unmutated input walks cleanly
            }

            var stats = new Stats { Expected = iterations };
            var total = Stopwatch.StartNew();
            long iterStart = 0;
            string current = "";
            int stop = 0;
            var worker = new Thread(() =>
            {
                var rng = new Random(seed);
                for (int i = 0; i < iterations && Volatile.Read(ref stop) == 0; i++)
                {
                    var data = Mutate(original, rng, hdrLen, typeStart, typeEnd, typeCount, out var kind, out var desc);
                    Volatile.Write(ref current, $"#{i} {kind}: {desc}");
                    Interlocked.Exchange(ref iterStart, Stopwatch.GetTimestamp());
                    stats.ByKind[kind] = stats.ByKind.GetValueOrDefault(kind) + 1;
                    stats.Iterations++;
                    Btf btf;
                    try { btf = parse(data); }
                    catch (BtfException) { stats.Rejected++; continue; }
                    catch (Exception e) { Record(stats, "parse", e, current); continue; }
                    stats.Parsed++;
                    bool full = fullWalkEvery <= 1 || stats.Parsed % fullWalkEvery == 0;
                    if (full) stats.FullWalks++;
                    try { stats.TypesWalked += WalkEverything(btf, rng, resolveEvery, dumpEvery <= 1 || i % dumpEvery == 0, full ? 0 : window); }
                    catch (BtfException) { }
                    catch (Exception e) { Record(stats, "walk", e, current); }
                }
                Interlocked.Exchange(ref iterStart, 0);
            }, 1 << 20) { IsBackground = true, Name = "fuzz " + label };
            worker.Start();
            while (!worker.Join(200))
            {
                long s = Interlocked.Read(ref iterStart);
                if (s != 0 && Stopwatch.GetElapsedTime(s) > HangLimit)
                {
                    stats.Hang = Volatile.Read(ref current);
                    Volatile.Write(ref stop, 1);
                    break;
                }
                if (total.Elapsed > RunLimit)
                {
                    stats.OverRunLimit = true;
                    Volatile.Write(ref stop, 1);
                    worker.Join(HangLimit);
                    break;
                }
            }
            stats.Elapsed = total.Elapsed;

            _out.WriteLine($"{label}: {stats.Iterations} mutations (seed {seed}) in {stats.Elapsed.TotalSeconds:0.0} s: {stats.Parsed} parsed and walked ({stats.FullWalks} completely; {stats.TypesWalked} types), " +
                           $"{stats.Rejected} rejected with BtfException; by kind: " +
                           string.Join(", ", stats.ByKind.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
            foreach (var u in stats.Unexpected)
                _out.WriteLine($"  UNEXPECTED x{u.Value.count}: {u.Key}\n    first: {u.Value.example}");
            return stats;
        }

        private static void Record(Stats s, string phase, Exception e, string mutation)
        {
            var frame = new StackTrace(e, false).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("BtfBindings", StringComparison.Ordinal) == true && f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("BtfBindings.Tests", StringComparison.Ordinal) != true);
            var where = frame?.GetMethod() is { } m ? m.DeclaringType?.Name + "." + m.Name : "?";
            var key = $"{phase}: {e.GetType().Name} in {where}: {e.Message}";
            if (key.Length > 300) key = key.Substring(0, 300);
            s.Unexpected[key] = s.Unexpected.TryGetValue(key, out var old) ? (old.count + 1, old.example) : (1, mutation + "\n" + e);
        }

        private static void AssertClean(Stats s, string label)
        {
            Assert.True(s.Hang == null, $"{label}: an iteration ran longer than {HangLimit.TotalSeconds} s (hang) on mutation {s.Hang}");
            Assert.True(s.Unexpected.Count == 0, $"{label}: exceptions other than BtfException:\n" +
                string.Join("\n", s.Unexpected.Select(u => $"x{u.Value.count} {u.Key}\n  first seen: {u.Value.example}")));
            Assert.False(s.OverRunLimit, $"{label}: the run took longer than {RunLimit.TotalSeconds} s ({s.Iterations} of {s.Expected} mutations done)");
            Assert.True(s.Iterations == s.Expected, $"{label}: {s.Iterations} of {s.Expected} mutations ran");
            Assert.True(s.Parsed > 0 && s.Rejected > 0, $"{label}: mutations should be both accepted ({s.Parsed}) and rejected ({s.Rejected})");
        }

        private static byte[] BtfSection(string obj)
        {
            using var fs = File.OpenRead(Fixtures.Path(obj));
            var elf = global::BtfBindings.Containers.ElfFile.Read(fs, obj);
            return elf.ReadSection(fs, elf.FindSection(".BTF")!);
        }

        // ---- the targets ---------------------------------------------------------------------------------------

        [FullFact]
        public void Fuzz_bpf_object_btf()
        {
            var s = Run("bpf-features.o .BTF", BtfSection("bpf-features.o"), d => Btf.Parse(d, "fuzz"), seed: 20240601,
                iterations: 30000, resolveEvery: 1, dumpEvery: 1);
            AssertClean(s, "bpf-features.o");
        }

        [FullFact]
        public void Fuzz_big_endian_object_btf()
        {
            var s = Run("bpf-features-eb.o .BTF", BtfSection("bpf-features-eb.o"), d => Btf.Parse(d, "fuzz"), seed: 777,
                iterations: 8000, resolveEvery: 1, dumpEvery: 1);
            AssertClean(s, "bpf-features-eb.o");
        }

        [FullFact]
        public void Fuzz_split_module_over_its_real_base()
        {
            var baseBtf = BtfSupport.Kernel("x86_64-6.12");
            var s = Run("x86_64-6.12-ip_vs.ko .BTF over x86_64-6.12", BtfSection("x86_64-6.12-ip_vs.ko"), d => Btf.Parse(d, "fuzz", baseBtf), seed: 4242,
                iterations: 6000, resolveEvery: 1, dumpEvery: 4);
            AssertClean(s, "ip_vs split");
        }

        [FullFact]
        public void Fuzz_elf_container()
        {
            var s = Run("bpf-features.o (whole ELF)", Fixtures.Bytes("bpf-features.o"), d => BtfContainer.Parse(d, "fuzz.o"), seed: 99,
                iterations: 8000, resolveEvery: 1, dumpEvery: 1, headerAt0: false);
            AssertClean(s, "ELF container");
        }

        /// <summary>
        /// Differential: every mutated blob that we accept must be accepted by bpftool (libbpf 1.1, which validates less)
        /// and dump to the very same text and JSON. Blobs using the extensions libbpf 1.1 does not know (a header longer
        /// than 24 bytes, i.e. a kind layout section; vlen above 16 bits) are not compared.
        /// </summary>
        [FullFact]
        public void Differential_fuzz_against_bpftool()
        {
            var original = BtfSection("bpf-features.o");
            int hdrLen = (int)BtfSupport.GetU32(original, 4);
            int typeStart = hdrLen + (int)BtfSupport.GetU32(original, 8);
            int typeEnd = typeStart + (int)BtfSupport.GetU32(original, 12);
            int typeCount = Btf.Parse((byte[])original.Clone()).TypeCount;
            using var tmp = new TempDir();
            var rng = new Random(31337);
            int tried = 0, accepted = 0, skipped = 0, textCompared = 0, jsonCompared = 0, jsonUnparsable = 0;
            var diffs = new List<string>();
            var sw = Stopwatch.StartNew();
            // Bounded by count; the time cap only guards against a stuck machine (CI runs heavy tests in parallel).
            while (tried < 2500 && textCompared < 100 && sw.Elapsed < TimeSpan.FromSeconds(240) && diffs.Count < 10)
            {
                var data = Mutate(original, rng, hdrLen, typeStart, typeEnd, typeCount, out var kind, out var desc);
                tried++;
                Btf btf;
                try { btf = Btf.Parse((byte[])data.Clone(), "diff"); }
                catch (BtfException) { continue; }
                accepted++;
                if (btf.HeaderLength != 24 || btf.Types.Any(t => t.Vlen > 0xFFFF)) { skipped++; continue; }
                var path = tmp.File("m.btf");
                File.WriteAllBytes(path, data);
                var text = Bpftool.TryDump(path);
                var what = $"#{tried} {kind}: {desc}";
                if (text.ExitCode != 0) { diffs.Add($"{what}: we accept, bpftool rejects: {text.StdErr.Trim()}"); continue; }
                var ours = BtfSupport.Text(btf);
                textCompared++;
                if (!ours.AsSpan().SequenceEqual(text.StdOutBytes))
                {
                    var e = System.Text.Encoding.UTF8.GetString(text.StdOutBytes).Split('\n');
                    var a = System.Text.Encoding.UTF8.GetString(ours).Split('\n');
                    int i = 0;
                    while (i < Math.Min(e.Length, a.Length) && e[i] == a[i]) i++;
                    diffs.Add($"{what}: text differs at line {i + 1}: bpftool \"{(i < e.Length ? e[i] : "<end>")}\" vs ours \"{(i < a.Length ? a[i] : "<end>")}\"");
                    continue;
                }
                var json = Bpftool.TryDump(path, json: true);
                // bpftool copies name bytes into its JSON unchecked (invalid UTF-8, unescaped control characters, \')
                // and writes a backslash as "\n": only valid JSON of names without backslashes can be compared.
                if (!System.Text.Unicode.Utf8.IsValid(json.StdOutBytes) || ours.AsSpan().IndexOf((byte)'\\') >= 0) { jsonUnparsable++; continue; }
                System.Text.Json.JsonDocument ej;
                try { ej = System.Text.Json.JsonDocument.Parse(json.StdOutBytes); }
                catch (System.Text.Json.JsonException) { jsonUnparsable++; continue; } // bpftool writes raw bytes of odd names
                using (ej)
                using (var aj = System.Text.Json.JsonDocument.Parse(BtfSupport.Json(btf)))
                {
                    jsonCompared++;
                    var d = BtfSupport.JsonDiff(ej.RootElement, aj.RootElement, "$");
                    if (d != null) diffs.Add($"{what}: JSON differs at {d}");
                }
            }
            _out.WriteLine($"differential vs bpftool: {tried} mutations, {accepted} accepted by us, {skipped} skipped (extensions), " +
                           $"{textCompared} text dumps compared, {jsonCompared} JSON dumps compared ({jsonUnparsable} not comparable: bpftool JSON invalid), {diffs.Count} differences");
            foreach (var d in diffs) _out.WriteLine("  " + d);
            Assert.True(diffs.Count == 0, "differences from bpftool on mutated input:\n" + string.Join("\n", diffs));
            Assert.True(textCompared >= 20, $"only {textCompared} mutated inputs compared");
        }

        /// <summary>
        /// The main run: a real kernel's BTF (x86_64 5.10, 3.5 MB), a fixed count of mutations from a fixed seed. Every accepted
        /// mutation is parsed fully; every other one is walked completely (80k types), the rest over 4096 types from a random start.
        /// </summary>
        [FullFact]
        public void Fuzz_kernel_btf()
        {
            var s = Run("x86_64-5.10 vmlinux", Fixtures.Bytes("x86_64-5.10"), d => Btf.Parse(d, "fuzz"), seed: 510,
                iterations: 3000, resolveEvery: 50, dumpEvery: 25, fullWalkEvery: 2);
            AssertClean(s, "x86_64-5.10");
        }
    }
}
