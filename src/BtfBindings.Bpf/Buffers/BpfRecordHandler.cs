using System;
using System.Runtime.CompilerServices;

namespace BtfBindings.Bpf
{
    /// <summary>Receives one record of a ring or perf buffer; the span is the buffer's memory, valid only during the call.</summary>
    public delegate void BpfRecordHandler(ReadOnlySpan<byte> record);

    /// <summary>Receives one record of a ring or perf buffer as a <typeparamref name="T"/> over the buffer's memory, valid only during the call.</summary>
    public delegate void BpfRecordHandler<T>(ref readonly T record) where T : unmanaged;

    /// <summary>
    /// Hands a record to the handler a Poll was given. The ring buffer's drain loop is generic over the invoker struct, so
    /// the JIT compiles one loop per handler kind with the call inlined; the perf buffer, called back from libbpf, keeps a
    /// function pointer to the same code (<see cref="RecordDispatch"/>). A typed record must be at least sizeof(T) bytes
    /// (ring buffers give the reserved size; perf buffers pad to 8).
    /// </summary>
    internal unsafe interface IRecordInvoker
    {
        void Invoke(object handler, byte* data, uint length);
    }

    internal unsafe struct SpanInvoker : IRecordInvoker
    {
        public void Invoke(object handler, byte* data, uint length) =>
            Unsafe.As<BpfRecordHandler>(handler)(new ReadOnlySpan<byte>(data, (int)length));
    }

    internal unsafe struct TypedInvoker<T> : IRecordInvoker where T : unmanaged
    {
        public void Invoke(object handler, byte* data, uint length)
        {
            if (length < (uint)sizeof(T)) ThrowShort(length);
            Unsafe.As<BpfRecordHandler<T>>(handler)(ref *(T*)data);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowShort(uint length) =>
            throw new BpfException($"A {length}-byte record is shorter than {typeof(T).Name} ({sizeof(T)} bytes): the BPF side sent another type", BpfErrors.EINVAL, null);
    }

    /// <summary>The invokers as function pointers, for callers that keep a handler without knowing its type (the perf buffer).</summary>
    internal static unsafe class RecordDispatch
    {
        internal static delegate*<object, byte*, uint, void> Span => &Invoke<SpanInvoker>;

        internal static delegate*<object, byte*, uint, void> Typed<T>() where T : unmanaged => &Invoke<TypedInvoker<T>>;

        private static void Invoke<TInvoker>(object handler, byte* data, uint length) where TInvoker : struct, IRecordInvoker =>
            default(TInvoker).Invoke(handler, data, length);
    }
}
