using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace BtfBindings.Bpf
{
    /// <summary>
    /// The kernel hands a per-CPU value as one slot per possible CPU, each rounded up to 8 bytes. When sizeof(TValue) is
    /// already a multiple of 8 the caller's span is that buffer; otherwise the values go through a stack (or pooled) staging buffer.
    /// </summary>
    internal static unsafe class PerCpuValues
    {
        private const int StackLimit = 4096;

        internal static int Stride<TValue>() where TValue : unmanaged => (sizeof(TValue) + 7) & ~7;

        internal static bool Lookup<TValue>(BpfMap map, void* key, Span<TValue> values, int cpus) where TValue : unmanaged
        {
            if (values.Length < cpus)
                throw new ArgumentException($"map '{map.Name}' has a value per possible CPU: the span needs {cpus} elements, not {values.Length}", nameof(values));
            int stride = Stride<TValue>();
            if (stride == sizeof(TValue))
                fixed (TValue* v = values) return MapCalls.Lookup(map, key, v);
            int bytes = stride * cpus;
            byte[]? rented = bytes > StackLimit ? ArrayPool<byte>.Shared.Rent(bytes) : null;
            try
            {
                Span<byte> staging = rented ?? stackalloc byte[bytes];
                fixed (byte* s = staging)
                {
                    if (!MapCalls.Lookup(map, key, s)) return false;
                    for (int i = 0; i < cpus; i++) values[i] = Unsafe.ReadUnaligned<TValue>(s + i * stride);
                    return true;
                }
            }
            finally { if (rented != null) ArrayPool<byte>.Shared.Return(rented); }
        }

        internal static void Update<TValue>(BpfMap map, void* key, ReadOnlySpan<TValue> values, int cpus, BpfUpdateFlags flags) where TValue : unmanaged
        {
            if (values.Length != cpus)
                throw new ArgumentException($"map '{map.Name}' has a value per possible CPU: the span needs {cpus} elements, not {values.Length}", nameof(values));
            int stride = Stride<TValue>();
            if (stride == sizeof(TValue))
            {
                fixed (TValue* v = values) MapCalls.Update(map, key, v, flags);
                return;
            }
            int bytes = stride * cpus;
            byte[]? rented = bytes > StackLimit ? ArrayPool<byte>.Shared.Rent(bytes) : null;
            try
            {
                Span<byte> staging = rented ?? stackalloc byte[bytes];
                staging.Clear();
                fixed (byte* s = staging)
                {
                    for (int i = 0; i < cpus; i++) Unsafe.WriteUnaligned(s + i * stride, values[i]);
                    MapCalls.Update(map, key, s, flags);
                }
            }
            finally { if (rented != null) ArrayPool<byte>.Shared.Return(rented); }
        }
    }
}
