using System;
using System.IO;
using Microsoft.Win32.SafeHandles;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>An attachment of a program (struct bpf_link); disposing it detaches the program (unless pinned).</summary>
    public sealed unsafe class BpfLink : IDisposable
    {
        private readonly BpfObject _owner;
        private nint _link;
        private readonly string _program;

        internal BpfLink(BpfObject owner, nint link, string program)
        {
            _owner = owner;
            _link = link;
            _program = program;
        }

        /// <summary>The link's file descriptor.</summary>
        public int Fd { get { ThrowIfDisposed(); return Libbpf.LinkFd(_link); } }

        /// <summary>Pins the link in bpffs (it then outlives this process until the pin is removed).</summary>
        public void Pin(string path)
        {
            ThrowIfDisposed();
            fixed (byte* p = BpfObject.Utf8(path))
            {
                int err = Libbpf.LinkPin(_link, p);
                if (err < 0) throw BpfErrors.Exception($"Pinning the link of program '{_program}' at '{path}'", err);
            }
        }

        /// <summary>
        /// For an iterator program (SEC("iter/...")): a new iteration whose output (what the program wrote with
        /// bpf_seq_write/bpf_seq_printf) is read from the stream. Each call starts a fresh pass.
        /// </summary>
        public Stream OpenIterator()
        {
            ThrowIfDisposed();
            int fd = Libbpf.IterCreate(Libbpf.LinkFd(_link));
            if (fd < 0) throw BpfErrors.Exception($"Creating an iterator from the link of program '{_program}' (is it SEC(\"iter/...\")?)", fd);
            return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        }

        /// <summary>Detaches (bpf_link__destroy).</summary>
        public void Dispose()
        {
            if (_link == 0) return;
            Libbpf.LinkDestroy(_link);
            _link = 0;
            _owner.Untrack(this);
        }

        private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_link == 0, this);
    }
}
