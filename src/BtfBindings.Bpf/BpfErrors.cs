using System;
using System.Runtime.InteropServices;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>errno values this library reacts to, and the one place that turns an errno into a <see cref="BpfException"/>.</summary>
    internal static unsafe class BpfErrors
    {
        internal const int EPERM = 1, ENOENT = 2, EINTR = 4, E2BIG = 7, EBADF = 9, EAGAIN = 11, EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOSYS = 38, EOPNOTSUPP = 95;

        /// <summary>The exception for a failed <paramref name="what"/>: bpf() refused gets its own message naming what is needed.</summary>
        internal static BpfException Exception(string what, int errno, string? log = null)
        {
            errno = Math.Abs(errno);
            string message = errno switch
            {
                EPERM => $"{what}: bpf() was refused (EPERM). Loading BPF programs needs root or CAP_BPF, plus CAP_PERFMON for " +
                         "tracing programs and CAP_NET_ADMIN for networking ones; seccomp, lockdown or " +
                         $"kernel.unprivileged_bpf_disabled={UnprivilegedSetting()} can also forbid it",
                ENOSYS => $"{what}: bpf() was refused (ENOSYS): this kernel has no bpf() system call (CONFIG_BPF_SYSCALL), or a seccomp filter hides it",
                _ => $"{what} failed: {Describe(errno)}",
            };
            return new BpfException(message, errno, log);
        }

        /// <summary>"EACCES (13): Permission denied" for an errno (libbpf's strerror knows its own codes too).</summary>
        internal static string Describe(int errno)
        {
            byte* buf = stackalloc byte[256];
            string text = Libbpf.StrError(errno, buf, 256) == 0 ? Marshal.PtrToStringUTF8((nint)buf) ?? "" : $"errno {errno}";
            return $"{Name(errno)}{errno}: {text}";
        }

        private static string Name(int errno) => errno switch
        {
            EPERM => "EPERM ", ENOENT => "ENOENT ", E2BIG => "E2BIG ", EBADF => "EBADF ", EAGAIN => "EAGAIN ", EACCES => "EACCES ",
            EEXIST => "EEXIST ", EINVAL => "EINVAL ", ENOSPC => "ENOSPC ", ENOSYS => "ENOSYS ", EOPNOTSUPP => "EOPNOTSUPP ", _ => "",
        };

        private static string UnprivilegedSetting()
        {
            try { return System.IO.File.ReadAllText("/proc/sys/kernel/unprivileged_bpf_disabled").Trim(); }
            catch { return "?"; }
        }
    }
}
