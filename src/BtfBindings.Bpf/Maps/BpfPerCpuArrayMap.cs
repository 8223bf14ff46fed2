using System;

namespace BtfBindings.Bpf
{
    /// <summary>A PERCPU_ARRAY map: each index holds one value per possible CPU (<see cref="PossibleCpus"/>).</summary>
    public sealed unsafe class BpfPerCpuArrayMap<TValue> where TValue : unmanaged
    {
        internal BpfPerCpuArrayMap(BpfMap map) { Map = map; Length = map.MaxEntries; PossibleCpus = MapCalls.PossibleCpus; }

        /// <summary>The untyped map.</summary>
        public BpfMap Map { get; }

        /// <summary>Number of indexes (max_entries).</summary>
        public int Length { get; }

        /// <summary>Values per index: the possible CPUs.</summary>
        public int PossibleCpus { get; }

        /// <summary>Copies the per-CPU values of element <paramref name="index"/> into <paramref name="values"/> (at least <see cref="PossibleCpus"/> long).</summary>
        public void Lookup(uint index, Span<TValue> values)
        {
            MapCalls.CheckIndex(Map, Length, index);
            if (!PerCpuValues.Lookup(Map, &index, values, PossibleCpus)) throw new IndexOutOfRangeException($"Map '{Map.Name}' has no element {index}");
        }

        /// <summary>Sets the per-CPU values of element <paramref name="index"/> (exactly <see cref="PossibleCpus"/> of them).</summary>
        public void Update(uint index, ReadOnlySpan<TValue> values, BpfUpdateFlags flags = BpfUpdateFlags.Any)
        {
            MapCalls.CheckIndex(Map, Length, index);
            PerCpuValues.Update(Map, &index, values, PossibleCpus, flags);
        }
    }
}
