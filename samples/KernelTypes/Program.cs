using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BtfBindings;

namespace KernelTypes;

public static class Program
{
    public static int Main()
    {
        // 1. The layout of task_struct as the kernel has it.
        var layout = Kernel.task_struct.BtfLayout;
        Console.WriteLine($"struct task_struct: {Unsafe.SizeOf<Kernel.task_struct>()} bytes (BTF says {layout.Size}), {layout.Fields.Count} fields, from {layout.SourceFile}");
        foreach (var name in new[] { "pid", "tgid", "comm", "flags", "__state" })
            Console.WriteLine($"  {layout.Field(name)}");

        // 2. C arrays are inline arrays: index them, view them as spans, read a char[] as a string.
        var task = new Kernel.task_struct();
        "btfbindings"u8.CopyTo(task.comm);
        Span<byte> comm = task.comm;
        Console.WriteLine($"task.comm: {comm.Length} bytes, comm[0]='{(char)task.comm[0]}', as a string \"{task.comm.ToCString()}\"");

        // 3. A real IPv4 header (a DNS query to 192.0.2.1), read through the generated bitfields.
        byte[] packet = Convert.FromHexString("450000358a5c40004011c0a8c0a80001c0000201");
        ref var ip = ref MemoryMarshal.AsRef<Kernel.iphdr>(packet.AsSpan());
        Console.WriteLine($"iphdr: version={ip.version} ihl={ip.ihl} ({ip.ihl * 4} bytes) ttl={ip.ttl} protocol={ip.protocol} tot_len={System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ip.tot_len)}");
        return ip.version == 4 && ip.ihl == 5 ? 0 : 1;
    }
}
