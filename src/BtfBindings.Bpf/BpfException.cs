using System;

namespace BtfBindings.Bpf
{
    /// <summary>A libbpf or bpf() failure: what was being done, the errno, and what libbpf printed meanwhile (the verifier log on a rejected load).</summary>
    public class BpfException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public BpfException(string message, int errno, string? libbpfLog, Exception? inner = null)
            : base(libbpfLog == null ? message : message + Environment.NewLine + "libbpf said:" + Environment.NewLine + libbpfLog.TrimEnd(), inner)
        {
            Errno = errno;
            LibbpfLog = libbpfLog;
        }

        /// <summary>The positive errno of the failed call (EACCES = 13 for a verifier rejection), or 0 when none applies.</summary>
        public int Errno { get; }

        /// <summary>What libbpf printed during the failed call (warnings, and the verifier log for a rejected program), or null.</summary>
        public string? LibbpfLog { get; }

        /// <summary>True when the kernel refused bpf() itself (EPERM, ENOSYS) rather than rejecting what was asked.</summary>
        public bool IsBpfRefused => Errno is BpfErrors.EPERM or BpfErrors.ENOSYS;
    }
}
