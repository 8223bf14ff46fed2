using System;
using System.Runtime.CompilerServices;

namespace BtfBindings.Bpf
{
    /// <summary>Receives one record of a ring or perf buffer; the span is the buffer's memory, valid only during the call.</summary>
    public delegate void BpfRecordHandler(ReadOnlySpan<byte> record);

    /// <summary>Receives one record of a ring or perf buffer as a <typeparamref name="T"/> over the buffer's memory, valid only during the call.</summary>
    public delegate void BpfRecordHandler<T>(ref readonly T record) where T : unmanaged;

    /// <summary>
    /// Hands a record to the handler a Poll was given, through one function pointer per handler kind (so the consumers
    /// keep a handler without knowing its type and nothing is allocated per record). A typed record must be at least
    /// sizeof(T) bytes (ring buffers give the reserved size; perf buffers pad to 8).
    /// </summary>
    internal static unsafe class RecordDispatch
    {
        internal static delegate*<object, byte*, uint, void> Span => &InvokeSpan;

        internal static delegate*<object, byte*, uint, void> Typed<T>() where T : unmanaged => &InvokeTyped<T>;

        private static void InvokeSpan(object handler, byte* data, uint length) =>
            Unsafe.As<BpfRecordHandler>(handler)(new ReadOnlySpan<byte>(data, (int)length));

        private static void InvokeTyped<T>(object handler, byte* data, uint length) where T : unmanaged
        {
            if (length < (uint)sizeof(T)) ThrowShort<T>(length);
            Unsafe.As<BpfRecordHandler<T>>(handler)(ref *(T*)data);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowShort<T>(uint length) where T : unmanaged =>
            throw new BpfException($"A {length}-byte record is shorter than {typeof(T).Name} ({sizeof(T)} bytes): the BPF side sent another type", BpfErrors.EINVAL, null);
    }
}
