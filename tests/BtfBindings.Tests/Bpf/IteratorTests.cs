using System;
using System.Collections.Generic;
using System.IO;
using BtfBindings.Tests.Cli;
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
    }
}
