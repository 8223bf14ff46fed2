using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using BtfBindings.Compatibility;

namespace BtfBindings.Generator
{
    /// <summary>
    /// Parsed BTF shared by every generator run in the process (compiler server, IDE), keyed by path and content
    /// hash (and, for split BTF, the base's path and content hash), so an unchanged file is read and parsed once
    /// however many compilations use it.
    /// </summary>
    internal static class BtfCache
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, Btf> Entries = new Dictionary<string, Btf>(StringComparer.Ordinal);
        private static readonly LinkedList<string> Order = new LinkedList<string>();
        private const int Capacity = 8;

        /// <summary>Number of times a file was actually read and parsed (tests use it to prove caching).</summary>
        public static int ParseCount;

        public static Btf Get(BtfFileRef file)
        {
            // The base's content hash too: split BTF parsed over an old base must not be served after the base changed.
            string key = file.Path + "|" + file.Hash + "|" + file.BasePath + "|" + file.BaseHash;
            lock (Gate)
            {
                if (Entries.TryGetValue(key, out var hit)) return hit;
            }
            // Parse outside the lock: vmlinux takes milliseconds, and other keys should not wait.
            Btf? baseBtf = file.BasePath == null ? null : BtfContainer.Load(file.BasePath);
            var btf = BtfContainer.Load(file.Path, baseBtf);
            System.Threading.Interlocked.Increment(ref ParseCount);
            lock (Gate)
            {
                if (Entries.TryGetValue(key, out var raced)) return raced;
                Entries[key] = btf;
                Order.AddLast(key);
                while (Order.Count > Capacity) { Entries.Remove(Order.First!.Value); Order.RemoveFirst(); }
                return btf;
            }
        }

        /// <summary>Forgets everything (tests).</summary>
        public static void Clear()
        {
            lock (Gate) { Entries.Clear(); Order.Clear(); }
            lock (TargetGate) { TargetEntries.Clear(); TargetGates.Clear(); }
            Verdicts.Clear();
        }

        // ---- target kernels (BtfTarget items) and the verdicts on the uses seen ---------------------------------------

        private static readonly object TargetGate = new object();
        private static readonly Dictionary<string, object> TargetGates = new Dictionary<string, object>(StringComparer.Ordinal);
        private static readonly Dictionary<string, WeakReference<TargetKernel>> TargetEntries = new Dictionary<string, WeakReference<TargetKernel>>(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, CompatResult> Verdicts = new ConcurrentDictionary<string, CompatResult>(StringComparer.Ordinal);

        /// <summary>Number of target kernels actually read and parsed (tests use it to prove caching).</summary>
        public static int TargetParseCount;

        /// <summary>Number of verdicts actually computed (each (target, build-time BTF, use) once per process).</summary>
        public static int VerdictCount;

        /// <summary>
        /// The verdict of compat-engine's one rule (<see cref="CompatibilityRule.Classify"/>) on <paramref name="use"/> in
        /// <paramref name="target"/> for types generated from <paramref name="build"/>, memoised by both files' content
        /// hashes and the use, so re-analysis after an edit that adds no new use does no BTF work at all. A parsed target
        /// (~5 MB managed for a 6.12 kernel, so ~190 MB for 40) is held only while <paramref name="keep"/> (the analysis of one
        /// compilation) holds it: afterwards only the verdicts stay, and a later new use parses the target again (from its
        /// raw copy: ~20 ms).
        /// </summary>
        /// <exception cref="ArgumentException">The use names something the build-time BTF lacks.</exception>
        /// <exception cref="BtfException">The target (or build-time) BTF cannot be read.</exception>
        public static CompatResult Verdict(BtfTargetRef target, BtfFileRef build, CompatUse use, ICollection<TargetKernel> keep)
        {
            string key = target.Path + "|" + target.Hash + "|" + build.Path + "|" + build.Hash + "|" + build.BaseHash + "|" + (int)use.Kind + "|" + use.TypeKeyword + "|" + use.TypeName + "|" + use.Member;
            if (Verdicts.TryGetValue(key, out var hit)) return hit;
            var kernel = Target(target);
            lock (keep) keep.Add(kernel);
            var r = CompatibilityRule.Classify(kernel, use, Get(build));
            System.Threading.Interlocked.Increment(ref VerdictCount);
            return Verdicts.GetOrAdd(key, r);
        }

        /// <summary>The target kernel, parsed once per content hash (also what embedding minimizes, so a build parses each target once).</summary>
        internal static TargetKernel Target(BtfTargetRef target)
        {
            string key = target.Path + "|" + target.Hash;
            // One parse per target even when many uses ask at once (concurrent analysis); different targets in parallel.
            object gate;
            lock (TargetGate)
            {
                if (TargetEntries.TryGetValue(key, out var weak) && weak.TryGetTarget(out var hit)) return hit;
                if (!TargetGates.TryGetValue(key, out gate!)) TargetGates[key] = gate = new object();
            }
            lock (gate)
            {
                lock (TargetGate)
                {
                    if (TargetEntries.TryGetValue(key, out var weak) && weak.TryGetTarget(out var raced)) return raced;
                }
                string file = target.RawPath.Length > 0 && File.Exists(target.RawPath) ? target.RawPath : target.Path;
                Btf btf;
                try { btf = BtfContainer.Load(file); }
                catch (BtfException) when (file != target.Path) { btf = BtfContainer.Load(target.Path); } // a damaged copy: the original
                var kernel = new TargetKernel(btf, target.FileName, target.Release.Length == 0 ? null : target.Release);
                System.Threading.Interlocked.Increment(ref TargetParseCount);
                lock (TargetGate)
                {
                    // A target whose content changed is a new key: forget the old version of the same path.
                    var stale = new List<string>();
                    foreach (var k in TargetEntries.Keys) if (k != key && k.StartsWith(target.Path + "|", StringComparison.Ordinal)) stale.Add(k);
                    foreach (var k in stale) { TargetEntries.Remove(k); TargetGates.Remove(k); }
                    TargetEntries[key] = new WeakReference<TargetKernel>(kernel);
                }
                return kernel;
            }
        }
    }
}
