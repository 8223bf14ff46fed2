using System.Collections.Generic;

namespace BtfBindings.Bpf
{
    /// <summary>
    /// A HASH or LRU_HASH map with typed keys and values. Each call is one bpf() call on the caller's values (no
    /// allocation); the values are copied in and out, so the kernel's copy is only changed by <see cref="Update"/>.
    /// </summary>
    public sealed unsafe class BpfHashMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
    {
        internal BpfHashMap(BpfMap map) => Map = map;

        /// <summary>The untyped map.</summary>
        public BpfMap Map { get; }

        /// <summary>Copies the value of <paramref name="key"/> into <paramref name="value"/>; false when the key is absent.</summary>
        public bool TryLookup(in TKey key, out TValue value)
        {
            value = default;
            fixed (TKey* k = &key)
            fixed (TValue* v = &value)
                return MapCalls.Lookup(Map, k, v);
        }

        /// <summary>The value of <paramref name="key"/>; <see cref="KeyNotFoundException"/> when absent.</summary>
        public TValue Lookup(in TKey key) =>
            TryLookup(key, out var value) ? value : throw new KeyNotFoundException($"Map '{Map.Name}' has no such key");

        /// <summary>Sets the value of <paramref name="key"/> (E2BIG in the exception when the map is full, EEXIST/ENOENT for the flags).</summary>
        public void Update(in TKey key, in TValue value, BpfUpdateFlags flags = BpfUpdateFlags.Any)
        {
            fixed (TKey* k = &key)
            fixed (TValue* v = &value)
                MapCalls.Update(Map, k, v, flags);
        }

        /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
        public bool Delete(in TKey key)
        {
            fixed (TKey* k = &key) return MapCalls.Delete(Map, k);
        }

        /// <summary>The keys, read one bpf() call at a time (a struct enumerator; a concurrently changed map may skip or restart keys, as in the kernel).</summary>
        public BpfMapKeys<TKey> Keys => new(Map);
    }
}
