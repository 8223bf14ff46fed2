using System;

namespace BtfBindings.Bpf
{
    /// <summary>A PERCPU_HASH or LRU_PERCPU_HASH map: each key holds one value per possible CPU (<see cref="PossibleCpus"/>).</summary>
    public sealed unsafe class BpfPerCpuHashMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
    {
        internal BpfPerCpuHashMap(BpfMap map) { Map = map; PossibleCpus = MapCalls.PossibleCpus; }

        /// <summary>The untyped map.</summary>
        public BpfMap Map { get; }

        /// <summary>Values per key: the possible CPUs (not only the online ones).</summary>
        public int PossibleCpus { get; }

        /// <summary>Copies the per-CPU values of <paramref name="key"/> into <paramref name="values"/> (at least <see cref="PossibleCpus"/> long); false when absent.</summary>
        public bool TryLookup(in TKey key, Span<TValue> values)
        {
            fixed (TKey* k = &key) return PerCpuValues.Lookup(Map, k, values, PossibleCpus);
        }

        /// <summary>Sets the per-CPU values of <paramref name="key"/> (exactly <see cref="PossibleCpus"/> of them).</summary>
        public void Update(in TKey key, ReadOnlySpan<TValue> values, BpfUpdateFlags flags = BpfUpdateFlags.Any)
        {
            fixed (TKey* k = &key) PerCpuValues.Update(Map, k, values, PossibleCpus, flags);
        }

        /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
        public bool Delete(in TKey key)
        {
            fixed (TKey* k = &key) return MapCalls.Delete(Map, k);
        }

        /// <summary>The keys (struct enumerator).</summary>
        public BpfMapKeys<TKey> Keys => new(Map);
    }
}
