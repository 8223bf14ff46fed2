using System;
using BtfBindings.Bpf;
using BtfBindings.Bpf.Interop;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>Failures say what failed: the verifier's log on a rejected load, the library and package when libbpf is missing.</summary>
    public class ErrorTests
    {
        [SkippableFact]
        public void A_verifier_rejection_carries_the_errno_and_the_verifier_log()
        {
            BpfTestSupport.RequireBpf();
            using var obj = BpfObject.Open(BpfTestSupport.Object("rejected"));
            var e = Assert.Throws<BpfException>(obj.Load);
            Assert.Equal(13, e.Errno);                                 // EACCES: the verifier said no
            Assert.False(e.IsBpfRefused);
            Assert.NotNull(e.LibbpfLog);
            Assert.Contains("invalid access to packet", e.LibbpfLog);  // the verifier's own words
            Assert.Contains("-- BEGIN PROG LOAD LOG --", e.LibbpfLog);
            Assert.Contains("invalid access to packet", e.Message);
            Assert.Contains("Loading BPF object 'rejected'", e.Message);
            Assert.False(obj.IsLoaded);
        }

        [Fact]
        public void A_missing_libbpf_names_the_library_and_the_package()
        {
            Assert.False(LibbpfLibrary.TryLoad("libbpf-not-here.so.9", out _, out var failure));
            Assert.Contains("libbpf.so.1", failure!.Message);
            Assert.Contains("libbpf1", failure.Message);
            Assert.Contains("libbpf-not-here.so.9", failure.Message);
            Assert.Contains(LibbpfLibrary.OverrideVariable, failure.Message);
        }

        [Fact]
        public void Bpf_refused_says_so_and_names_the_capability()
        {
            // The probe's answer is given: EPERM/ENOSYS when even a one-element map cannot be created.
            var e = BpfErrors.Exception("Loading BPF object 'x'", -1, null, probe: 1);
            Assert.True(e.IsBpfRefused);
            Assert.Contains("bpf() was refused (EPERM)", e.Message);
            Assert.Contains("CAP_BPF", e.Message);
            var nosys = BpfErrors.Exception("Loading BPF object 'x'", -38, null, probe: 38);
            Assert.Contains("bpf() was refused (ENOSYS)", nosys.Message);
            Assert.True(nosys.IsBpfRefused);
        }

        [SkippableFact]
        public void EPERM_for_one_program_while_bpf_works_is_not_called_bpf_refused()
        {
            BpfTestSupport.RequireBpf();
            var e = BpfErrors.Exception("Loading BPF object 'x'", -1);     // the live probe: bpf() works in this process
            Assert.False(e.IsBpfRefused);
            Assert.Contains("refused it (EPERM 1: Operation not permitted) although bpf() works here", e.Message);
        }

        [SkippableFact]
        public void A_bad_object_is_a_BpfException_naming_it()
        {
            BpfTestSupport.RequireBpf();
            var e = Assert.Throws<BpfException>(() => BpfObject.Open(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3 }, "junk"));
            Assert.Contains("Opening BPF object 'junk' (7 bytes)", e.Message);
            Assert.NotEqual(0, e.Errno);
            var missing = Assert.Throws<BpfException>(() => BpfObject.Open("/nonexistent/x.bpf.o"));
            Assert.Equal(2, missing.Errno);
        }
    }
}
