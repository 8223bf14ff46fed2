using System;
using System.Runtime.CompilerServices;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>The element calls every typed map makes, with the one rule for their errors (ENOENT is an answer, not a failure).</summary>
    internal static unsafe class MapCalls
    {
        internal static bool Lookup(BpfMap map, void* key, void* value)
        {
            int err = Libbpf.MapLookupElem(map.Fd, key, value);
            if (err == 0) return true;
            if (err == -BpfErrors.ENOENT) return false;
            throw Failure(map, "Looking up a key in", err);
        }

        internal static void Update(BpfMap map, void* key, void* value, BpfUpdateFlags flags)
        {
            int err = Libbpf.MapUpdateElem(map.Fd, key, value, (ulong)flags);
            if (err != 0) throw Failure(map, $"Updating ({flags}) a key in", err);
        }

        internal static bool Delete(BpfMap map, void* key)
        {
            int err = Libbpf.MapDeleteElem(map.Fd, key);
            if (err == 0) return true;
            if (err == -BpfErrors.ENOENT) return false;
            throw Failure(map, "Deleting a key from", err);
        }

        /// <summary>The key after <paramref name="key"/> (the first key when it is null); false at the end.</summary>
        internal static bool NextKey(BpfMap map, void* key, void* next)
        {
            int err = Libbpf.MapGetNextKey(map.Fd, key, next);
            if (err == 0) return true;
            if (err == -BpfErrors.ENOENT) return false;
            throw Failure(map, "Iterating the keys of", err);
        }

        /// <summary>An array index must be below max_entries (the kernel would say ENOENT; this names the map and its length).</summary>
        internal static void CheckIndex(BpfMap map, int length, uint index)
        {
            if (index >= (uint)length) ThrowIndex(map, length, index);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowIndex(BpfMap map, int length, uint index) =>
            throw new ArgumentOutOfRangeException(nameof(index), index, $"map '{map.Name}' has {length} elements");

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static BpfException Failure(BpfMap map, string what, int err) => BpfErrors.Exception($"{what} map '{map.Name}'", err);

        /// <summary>Possible CPUs (libbpf_num_possible_cpus), the count of values per key of a per-CPU map.</summary>
        internal static int PossibleCpus
        {
            get
            {
                int n = Libbpf.NumPossibleCpus();
                if (n <= 0) throw BpfErrors.Exception("Counting the possible CPUs (/sys/devices/system/cpu/possible)", n);
                return n;
            }
        }
    }
}
