using BtfBindings.Bpf;
using BtfBindings.Tests.Support;
using Xunit;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>.rodata set before Load is what the program sees; .data and .bss are the live map memory after Load.</summary>
    public class GlobalsTests
    {
        [SkippableFact]
        public void Rodata_set_before_load_is_seen_by_the_program_and_data_bss_are_live_after()
        {
            using var obj = BpfTestSupport.Load("maps_globals", o =>
            {
                ref var ro = ref o.Map(".rodata").Global<Rodata>();
                Assert.Equal((0UL, 1u), (ro.RodataMagic, ro.RodataFactor));   // the object's initial values
                ro.RodataMagic = 0x0123_4567_89AB_CDEF;
                ro.RodataFactor = 1000;
                Assert.Equal(7UL, o.Map(".data").Global<Data>().DataRuns);
            });
            ref var bss = ref obj.Map(".bss").Global<Bss>();
            ref var data = ref obj.Map(".data").Global<Data>();
            bss.BssKey = 42;
            obj.Program("echo").TestRun(BpfTestSupport.Packet, repeat: 3);
            Assert.Equal(0x0123_4567_89AB_CDEFUL, bss.BssSeenMagic);
            Assert.Equal(42_000UL, bss.BssScaled);
            Assert.Equal(10UL, data.DataRuns);                              // 7 + 3 runs, counted by the program
            Assert.Equal(1000u, obj.Map(".rodata").GlobalReadOnly<Rodata>().RodataFactor);

            // .rodata is frozen after Load: a ref to write through would fault, so it is refused.
            var frozen = Assert.Throws<BpfException>(() => obj.Map(".rodata").Global<Rodata>());
            Assert.Contains("read-only after Load", frozen.Message);
            var size = Assert.Throws<BpfException>(() => obj.Map(".bss").Global<Data>());
            Assert.Contains("holds 96 bytes of globals but Data is 8 bytes", size.Message);
            // libbpf's own name for the map works too.
            Assert.Equal(obj.Map(".bss").Name, obj.Map(obj.Map(".bss").Name).Name);
            Assert.EndsWith(".bss", obj.Map(".bss").Name);
        }

        [SkippableFact]
        public void A_test_run_returns_the_program_result_and_the_packet_it_left()
        {
            using var obj = BpfTestSupport.Load("maps_globals");
            var packet = new byte[64];
            for (int i = 0; i < packet.Length; i++) packet[i] = (byte)(i * 7);
            var output = new byte[128];
            var r = obj.Program("echo").TestRunWithDataOut(packet, default, output);
            Assert.Equal(2u, r.ReturnValue);                 // XDP_PASS
            Assert.Equal(64, r.DataOutLength);
            Assert.Equal(packet, output[..64]);
        }
    }
}
