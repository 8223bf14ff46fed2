using System.Runtime.InteropServices;

namespace BtfBindings.Tests.Bpf
{
    // Hand-written C# twins of tests/bpf/runtime/maps_globals.bpf.c's types, only for the runtime tests (the skeleton
    // generator emits these for users). LayoutTests checks every offset, size and bitfield position against bpftool's
    // dump of the object's BTF and the ELF symbol table.

    /// <summary>struct sample: id, then kind:3 flags:5 delta:12 (signed) wide:12 in one 32-bit unit at byte 4, a union, tag, small.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 24)]
    internal unsafe struct Sample
    {
        internal const int UnitOffset = 4;   // the bitfields' storage unit
        internal const int KindBit = 32, KindBits = 3, FlagsBit = 35, FlagsBits = 5, DeltaBit = 40, DeltaBits = 12, WideBit = 52, WideBits = 12;

        [FieldOffset(0)] public uint Id;
        [FieldOffset(4)] public uint Bits;
        [FieldOffset(8)] public ulong PayloadU64;
        [FieldOffset(8)] public fixed uint PayloadU32[2];
        [FieldOffset(8)] public fixed byte PayloadBytes[8];
        [FieldOffset(16)] public byte Tag;
        [FieldOffset(18)] public short Small;

        public uint Kind { get => Get(KindBit, KindBits); set => Set(KindBit, KindBits, value); }
        public uint Flags { get => Get(FlagsBit, FlagsBits); set => Set(FlagsBit, FlagsBits, value); }
        public int Delta { get => (int)(Get(DeltaBit, DeltaBits) << (32 - DeltaBits)) >> (32 - DeltaBits); set => Set(DeltaBit, DeltaBits, (uint)value); }
        public uint Wide { get => Get(WideBit, WideBits); set => Set(WideBit, WideBits, value); }

        private uint Get(int bit, int bits) => (Bits >> (bit - UnitOffset * 8)) & ((1u << bits) - 1);
        private void Set(int bit, int bits, uint v)
        {
            int shift = bit - UnitOffset * 8;
            uint mask = ((1u << bits) - 1) << shift;
            Bits = (Bits & ~mask) | ((v << shift) & mask);
        }
    }

    /// <summary>struct sample_fields: the same fields unpacked.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SampleFields
    {
        public uint Id, Kind, Flags;
        public int Delta;
        public uint Wide, Lo32, Hi32;
        public ulong U64;
        public byte Byte0, Byte7, Tag, Pad;
        public int Small;
    }

    /// <summary>struct small_value: 6 bytes (per-CPU slots are 8).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SmallValue
    {
        public ushort A, B, C;
    }

    /// <summary>struct event: one ring or perf buffer record.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Event
    {
        public ulong Seq;
        public uint Cpu, Magic;
        public ulong Payload;
    }

    /// <summary>.rodata: 12 bytes in the object, 16 here (C# rounds to the u64's alignment; Global allows the tail).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Rodata
    {
        public ulong RodataMagic;
        public uint RodataFactor;
    }

    /// <summary>.data.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Data
    {
        public ulong DataRuns;
    }

    /// <summary>.bss, at the offsets clang gave the variables (ELF symbol values).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 0x60)]
    internal struct Bss
    {
        [FieldOffset(0x00)] public uint BssKey;
        [FieldOffset(0x08)] public ulong BssSeenMagic;
        [FieldOffset(0x10)] public ulong BssScaled;
        [FieldOffset(0x18)] public uint BssCpu;
        [FieldOffset(0x20)] public ulong BssPercpu;
        [FieldOffset(0x28)] public uint BssSmallA;
        [FieldOffset(0x2c)] public uint BssSmallB;
        [FieldOffset(0x30)] public uint BssSmallC;
        [FieldOffset(0x38)] public ulong BssDropped;
        [FieldOffset(0x40)] public ulong BssSeq;
        [FieldOffset(0x48)] public Event LastEvent;
    }
}
