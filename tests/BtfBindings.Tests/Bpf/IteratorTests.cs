using System;
using System.Collections.Generic;
using System.IO;
using BtfBindings.Bpf;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>An iterator program attached through the SEC-based Attach and read as a Stream.</summary>
    public class IteratorTests
    {
        [SkippableFact]
        public void A_task_iterator_link_reads_as_a_stream_that_lists_this_process()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var prog = obj.Program("tasks");
            Assert.Equal("iter/task", prog.Section);
            using var link = prog.Attach();
            for (int pass = 0; pass < 2; pass++)              // each OpenIterator is a fresh pass
            {
                using var stream = link.OpenIterator();
                var ms = new MemoryStream();
                stream.CopyTo(ms);
                var bytes = ms.ToArray();
                Assert.Equal(0, bytes.Length % 8);
                var threads = new HashSet<(int pid, int tgid)>();
                for (int i = 0; i < bytes.Length; i += 8) threads.Add((BitConverter.ToInt32(bytes, i), BitConverter.ToInt32(bytes, i + 4)));
                Assert.Contains((Environment.ProcessId, Environment.ProcessId), threads);
                Assert.True(threads.Count > 10, $"only {threads.Count} tasks");
            }
        }

        [SkippableFact]
        public void AttachAll_attaches_what_its_section_places_and_skips_test_run_programs()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var links = obj.AttachAll();                    // four XDP programs (no attach point in SEC("xdp")), one iterator
            var link = Assert.Single(links);
            using var stream = link.OpenIterator();
            Assert.True(stream.ReadByte() >= 0);
        }

        [SkippableFact]
        public void A_pinned_iterator_link_is_a_bpffs_file_that_reads_like_the_stream()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            using var link = obj.Program("tasks").Attach();
            if (!Directory.Exists("/sys/fs/bpf")) throw new SkipTestException("no /sys/fs/bpf to pin in");
            var pin = $"/sys/fs/bpf/btfbindings-test-{Environment.ProcessId}-{Guid.NewGuid():N}";
            try
            {
                link.Pin(pin);
                var bytes = File.ReadAllBytes(pin);         // reading a pinned iterator runs it
                Assert.True(bytes.Length > 0 && bytes.Length % 8 == 0);
            }
            finally { File.Delete(pin); }
            var again = Assert.Throws<BpfException>(() => link.Pin("/nonexistent-dir/x"));
            Assert.Contains("Pinning the link of program 'tasks'", again.Message);
        }
    }
}
