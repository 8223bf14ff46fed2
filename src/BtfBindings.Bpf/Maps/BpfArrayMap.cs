using System;

namespace BtfBindings.Bpf
{
    /// <summary>An ARRAY map with typed values, indexed 0 to <see cref="Length"/> - 1 (every index exists; values start zeroed).</summary>
    public sealed unsafe class BpfArrayMap<TValue> where TValue : unmanaged
    {
        internal BpfArrayMap(BpfMap map) { Map = map; Length = map.MaxEntries; }

        /// <summary>The untyped map.</summary>
        public BpfMap Map { get; }

        /// <summary>Number of elements (max_entries).</summary>
        public int Length { get; }

        /// <summary>Copies element <paramref name="index"/> into <paramref name="value"/>.</summary>
        public void Lookup(uint index, out TValue value)
        {
            MapCalls.CheckIndex(Map, Length, index);
            value = default;
            fixed (TValue* v = &value)
                if (!MapCalls.Lookup(Map, &index, v)) throw new IndexOutOfRangeException($"Map '{Map.Name}' has no element {index}");
        }

        /// <summary>Element <paramref name="index"/>.</summary>
        public TValue Lookup(uint index) { Lookup(index, out TValue v); return v; }

        /// <summary>Sets element <paramref name="index"/>.</summary>
        public void Update(uint index, in TValue value, BpfUpdateFlags flags = BpfUpdateFlags.Any)
        {
            MapCalls.CheckIndex(Map, Length, index);
            fixed (TValue* v = &value) MapCalls.Update(Map, &index, v, flags);
        }
    }
}
