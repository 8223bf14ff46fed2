using System;
using System.Runtime.InteropServices;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>One program of a <see cref="BpfObject"/> (struct bpf_program).</summary>
    public sealed unsafe class BpfProgram
    {
        private readonly BpfObject _owner;
        private readonly nint _prog;
        private int _fd = -1;

        internal BpfProgram(BpfObject owner, nint prog)
        {
            _owner = owner;
            _prog = prog;
            Name = Marshal.PtrToStringUTF8((nint)Libbpf.ProgramName(prog)) ?? "";
            Section = Marshal.PtrToStringUTF8((nint)Libbpf.ProgramSectionName(prog)) ?? "";
        }

        /// <summary>The C function name.</summary>
        public string Name { get; }

        /// <summary>The ELF section (SEC("...")), which says the program type and where it auto-attaches.</summary>
        public string Section { get; }

        /// <summary>The kernel's enum bpf_prog_type value libbpf chose from the section.</summary>
        public int ProgramType { get { _owner.ThrowIfDisposed(); return Libbpf.ProgramType(_prog); } }

        /// <summary>Whether <see cref="BpfObject.Load"/> loads this program (default true); settable before Load.</summary>
        public bool AutoLoad
        {
            get { _owner.ThrowIfDisposed(); return Libbpf.ProgramAutoload(_prog); }
            set
            {
                _owner.ThrowIfDisposed();
                int err = Libbpf.ProgramSetAutoload(_prog, value);
                if (err < 0) throw BpfErrors.Exception($"Setting autoload of program '{Name}' (only before Load)", err);
            }
        }

        /// <summary>The program's file descriptor after Load.</summary>
        public int Fd
        {
            get
            {
                _owner.ThrowIfDisposed();
                if (_fd < 0) throw new InvalidOperationException($"Program '{Name}' has no fd: its object '{_owner.Name}' is not loaded{(_owner.IsLoaded ? " (or AutoLoad was off)" : "")}");
                return _fd;
            }
        }

        internal void OnLoaded() => _fd = Libbpf.ProgramFd(_prog);
        internal bool IsLoadedProgram => _fd >= 0;

        /// <summary>Attaches where the section says (bpf_program__attach: kprobe/, tracepoint/, fentry/, raw_tp/, iter/, ...); the object keeps the link until disposed.</summary>
        public BpfLink Attach() => Attach(skipUnsupported: false)!;

        /// <summary>Attach, or null when the section names no attach point (libbpf's EOPNOTSUPP).</summary>
        internal BpfLink? TryAttach() => Attach(skipUnsupported: true);

        private BpfLink? Attach(bool skipUnsupported)
        {
            _ = Fd;
            using var log = LibbpfLog.Capture();
            nint link = Libbpf.ProgramAttach(_prog);
            if (link == 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (skipUnsupported && errno == BpfErrors.EOPNOTSUPP) return null;
                throw BpfErrors.Exception($"Attaching program '{Name}' (SEC(\"{Section}\"))", errno, log.Text);
            }
            var l = new BpfLink(_owner, link, Name);
            _owner.Track(l);
            return l;
        }

        /// <summary>Runs the program once or <paramref name="repeat"/> times in the kernel (BPF_PROG_TEST_RUN) on the given packet and context.</summary>
        public BpfTestRunResult TestRun(ReadOnlySpan<byte> dataIn = default, ReadOnlySpan<byte> ctxIn = default, int repeat = 1) =>
            TestRunWithDataOut(dataIn, ctxIn, default, repeat);

        /// <summary>Like <see cref="TestRun(ReadOnlySpan{byte}, ReadOnlySpan{byte}, int)"/>, receiving the packet as the program left it into <paramref name="dataOut"/>.</summary>
        public BpfTestRunResult TestRunWithDataOut(ReadOnlySpan<byte> dataIn, ReadOnlySpan<byte> ctxIn, Span<byte> dataOut, int repeat = 1)
        {
            int fd = Fd;
            fixed (byte* din = dataIn)
            fixed (byte* cin = ctxIn)
            fixed (byte* dout = dataOut)
            {
                var opts = new TestRunOptions
                {
                    Size = (nuint)sizeof(TestRunOptions),
                    DataIn = dataIn.IsEmpty ? null : din, DataSizeIn = (uint)dataIn.Length,
                    CtxIn = ctxIn.IsEmpty ? null : cin, CtxSizeIn = (uint)ctxIn.Length,
                    DataOut = dataOut.IsEmpty ? null : dout, DataSizeOut = (uint)dataOut.Length,
                    Repeat = repeat <= 1 ? 0 : repeat,   // raw_tp and syscall programs reject any repeat; 0 means once for all
                };
                int err = Libbpf.ProgTestRun(fd, &opts);
                if (err < 0) throw BpfErrors.Exception($"Test-running program '{Name}' (SEC(\"{Section}\"); BPF_PROG_TEST_RUN supports only some program types)", err);
                return new BpfTestRunResult(opts.Retval, opts.Duration, dataOut.IsEmpty ? 0 : (int)opts.DataSizeOut);
            }
        }
    }

    /// <summary>What BPF_PROG_TEST_RUN returned.</summary>
    /// <param name="ReturnValue">The program's return value (of the last run).</param>
    /// <param name="DurationNs">Mean time per run in nanoseconds, as the kernel measured it.</param>
    /// <param name="DataOutLength">Bytes written to the dataOut span.</param>
    public readonly record struct BpfTestRunResult(uint ReturnValue, uint DurationNs, int DataOutLength);
}
