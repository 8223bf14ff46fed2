using System;
using System.Runtime.InteropServices;
using BtfBindings.Bpf.Interop;

namespace BtfBindings.Bpf
{
    /// <summary>errno values this library reacts to, and the one place that turns an errno into a <see cref="BpfException"/>.</summary>
    internal static unsafe class BpfErrors
    {
        internal const int EPERM = 1, ENOENT = 2, EINTR = 4, E2BIG = 7, EBADF = 9, EAGAIN = 11, EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOSYS = 38, EOPNOTSUPP = 95;

        /// <summary>
        /// The exception for a failed <paramref name="what"/>. EPERM and ENOSYS get a message of their own: bpf() refused
        /// (what is needed) when a one-element map cannot be created either, else this one thing refused while bpf() works.
        /// </summary>
        internal static BpfException Exception(string what, int errno, string? log = null) =>
            Exception(what, errno, log, Math.Abs(errno) is EPERM or ENOSYS ? BpfProbe() : 0);

        /// <summary><see cref="Exception(string, int, string?)"/> with the probe's answer given (0: bpf() works).</summary>
        internal static BpfException Exception(string what, int errno, string? log, int probe)
        {
            errno = Math.Abs(errno);
            if (errno is not (EPERM or ENOSYS)) return new BpfException($"{what} failed: {Describe(errno)}", errno, log);
            if (probe == 0)
                return new BpfException($"{what}: the kernel refused it ({Describe(errno)}) although bpf() works here: this program type " +
                                        "or attach point is not permitted (kernel configuration, lockdown, a security module, or a missing " +
                                        "capability such as CAP_PERFMON for tracing or CAP_NET_ADMIN for networking)", errno, log);
            string message = probe == ENOSYS
                ? $"{what}: bpf() was refused (ENOSYS): this kernel has no bpf() system call (CONFIG_BPF_SYSCALL), or a seccomp filter hides it"
                : $"{what}: bpf() was refused ({(probe == EPERM ? "EPERM" : Describe(probe))}). Loading BPF programs needs root or CAP_BPF, " +
                  "plus CAP_PERFMON for tracing programs and CAP_NET_ADMIN for networking ones; seccomp, lockdown or " +
                  $"kernel.unprivileged_bpf_disabled={UnprivilegedSetting()} can also forbid it";
            return new BpfException(message, probe, log, bpfRefused: true);
        }

        /// <summary>0 when this process can create a one-element array map, else the positive errno.</summary>
        internal static int BpfProbe()
        {
            fixed (byte* name = "btfb_probe\0"u8)
            {
                int fd = Libbpf.MapCreate((int)BpfMapType.Array, name, 4, 4, 1, null);
                if (fd < 0) return -fd;
                Libc.Close(fd);
                return 0;
            }
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
