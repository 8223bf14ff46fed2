using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace BtfBindings.Bpf.Interop
{
    /// <summary>
    /// libbpf's messages (libbpf_set_print). libbpf calls the print function on the thread that made the failing call, so a
    /// thread-local capture collects what one Open/Load/Attach said and the exception carries it (the verifier log comes
    /// through here). Outside a capture, warnings go to stderr as libbpf's default printer would.
    /// </summary>
    internal static unsafe class LibbpfLog
    {
        private const int Warn = 0, Info = 1;

        [ThreadStatic] private static StringBuilder? _capture;

        internal static void Install() => Libbpf.SetPrint(&Print);

        /// <summary>Starts collecting this thread's libbpf messages; dispose the scope to stop.</summary>
        internal static Scope Capture()
        {
            var previous = _capture;
            _capture = new StringBuilder();
            return new Scope(previous);
        }

        internal readonly struct Scope : IDisposable
        {
            private readonly StringBuilder? _previous;
            internal Scope(StringBuilder? previous) => _previous = previous;
            /// <summary>What libbpf printed since the scope began, or null when it printed nothing.</summary>
            internal string? Text => _capture is { Length: > 0 } c ? c.ToString() : null;
            public void Dispose() => _capture = _previous;
        }

        [UnmanagedCallersOnly]
        private static int Print(int level, byte* format, nint args)
        {
            try
            {
                var capture = _capture;
                if (level > Info || (capture == null && level > Warn)) return 0;   // debug, or info outside a capture
                var text = Format(format, args);
                if (capture != null) capture.Append(text);
                else Console.Error.Write(text);
            }
            catch { /* never unwind into libbpf */ }
            return 0;
        }

        /// <summary>vsnprintf over a copy of the va_list each time (va_copy), so a long message (a verifier log) can be sized first.</summary>
        private static string Format(byte* format, nint args)
        {
            const int stackSize = 1024;
            byte* small = stackalloc byte[stackSize];
            int n = VsnPrintfCopy(small, stackSize, format, args);
            if (n < 0) return "";
            if (n < stackSize) return Encoding.UTF8.GetString(small, n);
            var big = new byte[n + 1];
            fixed (byte* p = big) n = VsnPrintfCopy(p, (nuint)big.Length, format, args);
            return Encoding.UTF8.GetString(big, 0, Math.Min(Math.Max(n, 0), big.Length - 1));
        }

        // va_list is an array of one struct on x86-64 (24 bytes) and s390x (32), a 32-byte struct passed by reference on
        // arm64; either way the callback receives a pointer, and va_copy copies the struct. Elsewhere (riscv64, ppc64le,
        // loongarch64) it is a plain pointer and passing the value again is the copy.
        private static int VsnPrintfCopy(byte* buf, nuint size, byte* format, nint args)
        {
            int bytes = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => 24,
                Architecture.Arm64 or Architecture.S390x => 32,
                _ => 0,
            };
            if (bytes == 0) return Libc.VsnPrintf(buf, size, format, args);
            byte* copy = stackalloc byte[32];
            Buffer.MemoryCopy((void*)args, copy, 32, bytes);
            return Libc.VsnPrintf(buf, size, format, (nint)copy);
        }
    }
}
