using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>
    /// Consumer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map through libbpf's perf_buffer (one ring per CPU). Records reach the
    /// handler through a native callback without allocation; <see cref="LostSamples"/> counts what the kernel dropped
    /// because a ring was full. One consumer thread at a time; created on first use (after Load); dispose it to free the rings.
    /// </summary>
    public sealed unsafe class BpfPerfBuffer : IDisposable
    {
        private readonly BpfMap _map;
        private readonly int _pagesPerCpu;
        private nint _pb;
        private GCHandle _self;
        private bool _disposed;
        // The Poll in progress: its handler, how to call it, what it handled, and the first exception the handler threw.
        private object? _handler;
        private delegate*<object, byte*, uint, void> _invoke;
        private int _handled;
        private ExceptionDispatchInfo? _failure;

        internal BpfPerfBuffer(BpfMap map, int pagesPerCpu) { _map = map; _pagesPerCpu = pagesPerCpu; }

        /// <summary>The map.</summary>
        public BpfMap Map => _map;

        /// <summary>Samples the kernel reported lost (a CPU's ring was full) since the buffer was created.</summary>
        public long LostSamples { get; private set; }

        /// <summary>
        /// Hands every available record to <paramref name="handler"/>, waiting up to <paramref name="timeoutMs"/> ms
        /// (-1: forever) for one. Returns the number handled. If the handler throws, the rest of this poll's records are
        /// dropped and the exception is rethrown.
        /// </summary>
        public int Poll(int timeoutMs, BpfRecordHandler handler) => Poll(timeoutMs, handler, RecordDispatch.Span);

        /// <summary>Like <see cref="Poll(int, BpfRecordHandler)"/>, each record viewed as a <typeparamref name="T"/> (8-byte records start 4 bytes into an 8-byte slot, so T may be unaligned).</summary>
        public int Poll<T>(int timeoutMs, BpfRecordHandler<T> handler) where T : unmanaged =>
            Poll(timeoutMs, handler, RecordDispatch.Typed<T>());

        /// <summary>The records as copies of <typeparamref name="T"/> until <paramref name="cancellationToken"/> is cancelled.</summary>
        public async IAsyncEnumerable<T> ReadAllAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
        {
            var batch = new List<T>();
            BpfRecordHandler<T> add = (ref readonly T r) => batch.Add(r);
            while (!cancellationToken.IsCancellationRequested)
            {
                batch.Clear();
                if (PollCopies(0, add) == 0)
                {
                    await Task.Run(() => PollCopies(100, add), CancellationToken.None).ConfigureAwait(false);
                    if (batch.Count == 0) continue;
                }
                foreach (var r in batch) yield return r;
            }
        }

        private int PollCopies<T>(int timeoutMs, BpfRecordHandler<T> add) where T : unmanaged => Poll(timeoutMs, add, RecordDispatch.Typed<T>());

        private int Poll(int timeoutMs, object handler, delegate*<object, byte*, uint, void> invoke)
        {
            EnsureCreated();
            _handler = handler; _invoke = invoke; _handled = 0; _failure = null;
            try
            {
                int err = timeoutMs == 0 ? Libbpf.PerfBufferConsume(_pb) : Libbpf.PerfBufferPoll(_pb, timeoutMs);
                _failure?.Throw();
                if (err < 0 && err != -BpfErrors.EINTR) throw BpfErrors.Exception($"Polling perf buffer '{_map.Name}'", err);
                return _handled;
            }
            finally { _handler = null; }
        }

        [UnmanagedCallersOnly]
        private static void OnSample(nint ctx, int cpu, void* data, uint size)
        {
            var self = Unsafe.As<BpfPerfBuffer>(GCHandle.FromIntPtr(ctx).Target!);
            if (self._failure != null || self._handler == null) return;
            try
            {
                self._invoke(self._handler, (byte*)data, size);
                self._handled++;
            }
            catch (Exception e) { self._failure = ExceptionDispatchInfo.Capture(e); }
        }

        [UnmanagedCallersOnly]
        private static void OnLost(nint ctx, int cpu, ulong count) =>
            Unsafe.As<BpfPerfBuffer>(GCHandle.FromIntPtr(ctx).Target!).LostSamples += (long)count;

        private void EnsureCreated()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pb != 0) return;
            int fd = _map.Fd;
            _self = GCHandle.Alloc(this, GCHandleType.Weak);
            using var log = LibbpfLog.Capture();
            nint pb = Libbpf.PerfBufferNew(fd, (nuint)_pagesPerCpu, &OnSample, &OnLost, GCHandle.ToIntPtr(_self), null);
            if (pb == 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                _self.Free();
                throw BpfErrors.Exception($"Creating perf buffer '{_map.Name}' ({_pagesPerCpu} pages per CPU)", errno, log.Text);
            }
            _pb = pb;
        }

        /// <summary>Frees the per-CPU rings.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (_pb != 0) { Libbpf.PerfBufferFree(_pb); _pb = 0; _self.Free(); }
            GC.SuppressFinalize(this);
        }

        /// <summary>Frees the rings of a buffer that was not disposed.</summary>
        ~BpfPerfBuffer()
        {
            if (_pb != 0) Libbpf.PerfBufferFree(_pb);
        }
    }
}
