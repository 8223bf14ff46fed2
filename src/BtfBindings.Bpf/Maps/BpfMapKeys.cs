namespace BtfBindings.Bpf
{
    /// <summary>The keys of a hash map (BPF_MAP_GET_NEXT_KEY), enumerated without allocation: <c>foreach (var k in map.Keys)</c>.</summary>
    public readonly struct BpfMapKeys<TKey> where TKey : unmanaged
    {
        private readonly BpfMap _map;
        internal BpfMapKeys(BpfMap map) => _map = map;

        /// <summary>The enumerator.</summary>
        public Enumerator GetEnumerator() => new(_map);

        /// <summary>Walks the keys with BPF_MAP_GET_NEXT_KEY.</summary>
        public unsafe struct Enumerator
        {
            private readonly BpfMap _map;
            private TKey _current;
            private bool _started;

            internal Enumerator(BpfMap map) { _map = map; _current = default; _started = false; }

            /// <summary>The current key.</summary>
            public readonly TKey Current => _current;

            /// <summary>Advances to the next key.</summary>
            public bool MoveNext()
            {
                TKey next;
                bool more;
                fixed (TKey* cur = &_current) more = MapCalls.NextKey(_map, _started ? cur : null, &next);
                _started = true;
                if (more) _current = next;
                return more;
            }
        }
    }
}
