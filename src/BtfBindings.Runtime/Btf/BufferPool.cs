using System;

namespace BtfBindings
{
    /// <summary>
    /// The few large arrays a parse needs (the file's bytes, record offsets and kinds, name-index slots), handed back by
    /// <see cref="Btf.Dispose"/> for the next parse. libbpf gets the same from malloc after free: a process that loads BTF
    /// again and again (one kernel after another) then does not have the GC clear and fault in megabytes each time.
    /// Holds at most a few arrays per element type; arrays never disposed are simply collected.
    /// </summary>
    internal static class BufferPool<T>
    {
        private const int Slots = 4;
        private const int MinPooledLength = 16 * 1024;
        private static readonly T[]?[] Free = new T[]?[Slots];
        private static int _nextSlot;

        /// <summary>An array of at least <paramref name="length"/> and at most <paramref name="length"/> + <paramref name="maxExtra"/> elements.</summary>
        public static T[] Rent(int length, int maxExtra, bool clear)
        {
            if (length >= MinPooledLength)
            {
                T[]? found = null;
                lock (Free)
                {
                    int best = -1;
                    for (int i = 0; i < Slots; i++)
                    {
                        var a = Free[i];
                        if (a != null && a.Length >= length && a.Length - length <= maxExtra && (best < 0 || a.Length < Free[best]!.Length)) best = i;
                    }
                    if (best >= 0) { found = Free[best]; Free[best] = null; }
                }
                if (found != null)
                {
                    if (clear) Array.Clear(found, 0, found.Length);
                    return found;
                }
            }
#if NET
            return clear ? new T[length] : GC.AllocateUninitializedArray<T>(length);
#else
            return new T[length];
#endif
        }

        public static void Return(T[]? array)
        {
            if (array == null || array.Length < MinPooledLength) return;
            lock (Free)
            {
                for (int i = 0; i < Slots; i++) if (ReferenceEquals(Free[i], array)) return;
                for (int i = 0; i < Slots; i++) if (Free[i] == null) { Free[i] = array; return; }
                Free[_nextSlot] = array; // full: replace the slot filled longest ago
                _nextSlot = (_nextSlot + 1) % Slots;
            }
        }
    }
}
