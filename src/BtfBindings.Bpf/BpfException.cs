using System;

namespace BtfBindings.Bpf
{
    /// <summary>A libbpf or bpf() failure: what was being done, the errno, and what libbpf printed meanwhile (the verifier log on a rejected load).</summary>
    public class BpfException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public BpfException(string message, int errno, string? libbpfLog, Exception? inner = null)
            : this(message, errno, libbpfLog, bpfRefused: false, inner) { }

        internal BpfException(string message, int errno, string? libbpfLog, bool bpfRefused, Exception? inner = null)
            : base(libbpfLog == null ? message : message + Environment.NewLine + "libbpf said:" + Environment.NewLine + libbpfLog.TrimEnd(), inner)
        {
            Errno = errno;
            LibbpfLog = libbpfLog;
            IsBpfRefused = bpfRefused;
        }

        /// <summary>The positive errno of the failed call (EACCES = 13 for a verifier rejection), or 0 when none applies.</summary>
        public int Errno { get; }

        /// <summary>What libbpf printed during the failed call (warnings, and the verifier log for a rejected program), or null.</summary>
        public string? LibbpfLog { get; }

        /// <summary>
        /// True when this process may not use bpf() at all (EPERM or ENOSYS, and creating a one-element map fails the same
        /// way), rather than the kernel refusing this one program or attachment.
        /// </summary>
        public bool IsBpfRefused { get; }
    }
}
