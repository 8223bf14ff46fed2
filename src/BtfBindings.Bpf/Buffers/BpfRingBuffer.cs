using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>
    /// Consumer of a BPF_MAP_TYPE_RINGBUF map. It reads the kernel's ring in place (the consumer page, and the producer page
    /// with the data pages mapped twice so a record that wraps is contiguous), so each record costs no native call and no
    /// allocation; it sleeps in epoll only when the ring is empty. One consumer thread at a time; mapped on first use
    /// (after Load); dispose it to unmap.
    /// </summary>
    public sealed unsafe class BpfRingBuffer : IDisposable
    {
        private const uint BusyBit = 1u << 31, DiscardBit = 1u << 30, HeaderSize = 8;   // struct bpf_ringbuf_hdr

        private readonly BpfMap _map;
        private byte* _consumer;       // consumer page (RW): consumer_pos at offset 0
        private byte* _producer;       // producer page (RO): producer_pos at 0, then the data pages twice
        private byte* _data;
        private nuint _consumerLength, _producerLength;
        private ulong _mask;
        private int _epoll = -1;
        private bool _disposed;

        internal BpfRingBuffer(BpfMap map) => _map = map;

        /// <summary>The map.</summary>
        public BpfMap Map => _map;

        /// <summary>
        /// Hands every available record to <paramref name="handler"/>, waiting up to <paramref name="timeoutMs"/> ms
        /// (-1: forever, 0: not at all) when there is none. Returns the number of records handled (0 on timeout).
        /// </summary>
        public int Poll(int timeoutMs, BpfRecordHandler handler) => Poll<SpanInvoker>(timeoutMs, handler, int.MaxValue);

        /// <summary>Like <see cref="Poll(int, BpfRecordHandler)"/>, each record viewed as a <typeparamref name="T"/> in place.</summary>
        public int Poll<T>(int timeoutMs, BpfRecordHandler<T> handler) where T : unmanaged =>
            Poll<TypedInvoker<T>>(timeoutMs, handler, int.MaxValue);

        /// <summary>Hands the records available now to <paramref name="handler"/> without waiting.</summary>
        public int Consume(BpfRecordHandler handler) => Poll(0, handler);

        /// <summary>
        /// The records as copies of <typeparamref name="T"/>, until <paramref name="cancellationToken"/> is cancelled
        /// (the enumeration then ends without an exception). Allocates per batch, not per record.
        /// </summary>
        public async IAsyncEnumerable<T> ReadAllAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
        {
            var batch = new List<T>();
            BpfRecordHandler<T> add = (ref readonly T r) => batch.Add(r);
            while (!cancellationToken.IsCancellationRequested)
            {
                batch.Clear();
                if (PollCopies(0, add, 4096) == 0)
                {
                    await Task.Run(() => WaitReadable(100), CancellationToken.None).ConfigureAwait(false);
                    continue;
                }
                foreach (var r in batch) yield return r;
            }
        }

        private int PollCopies<T>(int timeoutMs, BpfRecordHandler<T> add, int max) where T : unmanaged =>
            Poll<TypedInvoker<T>>(timeoutMs, add, max);

        private int Poll<TInvoker>(int timeoutMs, object handler, int max) where TInvoker : struct, IRecordInvoker
        {
            EnsureMapped();
            int n = Drain<TInvoker>(handler, max);
            if (n > 0 || timeoutMs == 0) return n;
            return WaitReadable(timeoutMs) ? Drain<TInvoker>(handler, max) : 0;
        }

        private int Drain<TInvoker>(object handler, int max) where TInvoker : struct, IRecordInvoker
        {
            ulong* consumerPos = (ulong*)_consumer;
            ulong* producerPos = (ulong*)_producer;
            byte* data = _data;                                         // locals: the handler call would force reloads of fields
            ulong mask = _mask;
            ulong cons = Volatile.Read(ref *consumerPos);
            int n = 0;
            bool more;
            do
            {
                more = false;
                ulong prod = Volatile.Read(ref *producerPos);          // acquire: the records before prod are complete or busy
                while (cons < prod && n < max)
                {
                    byte* record = data + (cons & mask);
                    uint len = Volatile.Read(ref *(uint*)record);      // acquire: the producer commits by clearing the busy bit
                    if ((len & BusyBit) != 0) return n;
                    uint size = len & ~(BusyBit | DiscardBit);
                    ulong next = cons + ((size + HeaderSize + 7) & ~7u);
                    if ((len & DiscardBit) == 0)
                    {
                        try { default(TInvoker).Invoke(handler, record + HeaderSize, size); }
                        catch { Volatile.Write(ref *consumerPos, next); throw; }   // as libbpf: a failed record counts as consumed
                        n++;
                    }
                    cons = next;
                    Volatile.Write(ref *consumerPos, cons);                // release: the producer may reuse the space
                    more = true;
                }
            } while (more && n < max);
            return n;
        }

        /// <summary>Waits until the ring has data (true) or the timeout passes (false).</summary>
        private bool WaitReadable(int timeoutMs)
        {
            EnsureMapped();
            byte* ev = stackalloc byte[Libc.EpollEventSize];
            int r = Libc.EpollWait(_epoll, ev, 1, timeoutMs);
            if (r >= 0) return r > 0;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == BpfErrors.EINTR) return false;
            throw BpfErrors.Exception($"Waiting on ring buffer '{_map.Name}' (epoll_wait)", errno);
        }

        private void EnsureMapped()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_consumer != null) return;
            int fd = _map.Fd;
            nuint page = (nuint)Libc.PageSize();
            nuint size = (nuint)_map.MaxEntries;
            var consumer = Libc.Mmap(null, page, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared, fd, 0);
            if (consumer == (void*)-1) throw BpfErrors.Exception($"Mapping the consumer page of ring buffer '{_map.Name}'", Marshal.GetLastPInvokeError());
            var producer = Libc.Mmap(null, page + 2 * size, Libc.ProtRead, Libc.MapShared, fd, (nint)page);
            if (producer == (void*)-1)
            {
                int errno = Marshal.GetLastPInvokeError();
                Libc.Munmap(consumer, page);
                throw BpfErrors.Exception($"Mapping the data pages of ring buffer '{_map.Name}' ({size} bytes)", errno);
            }
            int epoll = Libc.EpollCreate(Libc.EpollCloexec);
            byte* ev = stackalloc byte[Libc.EpollEventSize];
            new Span<byte>(ev, Libc.EpollEventSize).Clear();
            *(uint*)ev = Libc.EpollIn;
            if (epoll < 0 || Libc.EpollCtl(epoll, Libc.EpollCtlAdd, fd, ev) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (epoll >= 0) Libc.Close(epoll);
                Libc.Munmap(consumer, page);
                Libc.Munmap(producer, page + 2 * size);
                throw BpfErrors.Exception($"Setting up epoll for ring buffer '{_map.Name}'", errno);
            }
            (_consumerLength, _producerLength, _mask, _epoll) = (page, page + 2 * size, size - 1, epoll);
            _producer = (byte*)producer;
            _data = (byte*)producer + page;
            _consumer = (byte*)consumer;
        }

        /// <summary>Unmaps the ring and closes its epoll descriptor.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (_consumer != null)
            {
                Libc.Munmap(_consumer, _consumerLength);
                Libc.Munmap(_producer, _producerLength);
                Libc.Close(_epoll);
                _consumer = _producer = _data = null;
            }
            GC.SuppressFinalize(this);
        }

        /// <summary>Unmaps a ring that was not disposed.</summary>
        ~BpfRingBuffer()
        {
            if (_consumer == null) return;
            Libc.Munmap(_consumer, _consumerLength);
            Libc.Munmap(_producer, _producerLength);
            Libc.Close(_epoll);
        }
    }
}
