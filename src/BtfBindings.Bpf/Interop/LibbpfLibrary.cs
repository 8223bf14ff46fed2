using System;
using System.Reflection;
using System.Runtime.InteropServices;

namespace BtfBindings.Bpf.Interop
{
    /// <summary>
    /// Finds libbpf.so.1 once, before the first libbpf call, so a missing library is a <see cref="BpfException"/> naming
    /// the library and its package instead of a DllNotFoundException from some later call. BTFBINDINGS_LIBBPF names
    /// another file (a libbpf built from source, say).
    /// </summary>
    internal static class LibbpfLibrary
    {
        /// <summary>Environment variable that overrides the library's file name or path.</summary>
        internal const string OverrideVariable = "BTFBINDINGS_LIBBPF";

        private static readonly object Gate = new();
        private static nint _handle;
        private static BpfException? _failure;

        /// <summary>Loads libbpf (once) and installs the log capture; throws the same exception on every call if it is missing.</summary>
        internal static void EnsureLoaded()
        {
            if (_handle != 0) return;
            lock (Gate)
            {
                if (_handle != 0) return;
                if (_failure != null) throw _failure;
                var name = Environment.GetEnvironmentVariable(OverrideVariable);
                if (string.IsNullOrEmpty(name)) name = Libbpf.Name;
                if (!TryLoad(name, out var handle, out var failure)) { _failure = failure; throw failure!; }
                NativeLibrary.SetDllImportResolver(typeof(LibbpfLibrary).Assembly, Resolve);
                _handle = handle;
                LibbpfLog.Install();
            }
        }

        /// <summary>Loads <paramref name="name"/>; on failure, the exception users see (the tests call this with a bogus name).</summary>
        internal static bool TryLoad(string name, out nint handle, out BpfException? failure)
        {
            failure = null;
            if (NativeLibrary.TryLoad(name, typeof(LibbpfLibrary).Assembly, DllImportSearchPath.SafeDirectories, out handle)) return true;
            string detail;
            try { NativeLibrary.Load(name); detail = "it loaded on retry"; }
            catch (Exception e) { detail = e.Message; }
            failure = new BpfException(
                $"libbpf.so.1 could not be loaded{(name == Libbpf.Name ? "" : $" (from '{name}', set by {OverrideVariable})")}, so BPF objects cannot be opened: install libbpf 1.x " +
                $"(Debian/Ubuntu package libbpf1, Fedora libbpf) or set {OverrideVariable} to the library's path. " +
                $"The loader said: {detail}", 0, null);
            return false;
        }

        private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path) => name == Libbpf.Name ? _handle : 0;
    }
}
