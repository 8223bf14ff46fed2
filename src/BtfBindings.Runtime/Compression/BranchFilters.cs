#nullable enable
using System;
using System.Buffers.Binary;
using System.Globalization;

namespace BtfBindings.Compression;

/// <summary>
/// Decoders for the xz preprocessing filters that may precede LZMA2 in a block's filter chain:
/// the branch/call/jump (BCJ) converters, which turn absolute branch targets written by the encoder
/// back into the relative form found in machine code, and the delta filter. All of them keep the
/// length unchanged and operate in place on a whole block's output, which gives the same result as
/// streaming them because each one only leaves an incomplete trailing instruction untouched.
/// <c>startOffset</c> is the filter's optional start-offset property (default 0).
/// </summary>
internal static class BranchFilters
{
    /// <summary>xz filter IDs.</summary>
    public const ulong Delta = 0x03, X86 = 0x04, PowerPC = 0x05, IA64 = 0x06, Arm = 0x07, ArmThumb = 0x08, Sparc = 0x09, Arm64 = 0x0A, RiscV = 0x0B;

    /// <summary>A readable name for an xz filter ID.</summary>
    public static string Name(ulong id)
    {
        switch (id)
        {
            case Delta: return "delta";
            case X86: return "x86 BCJ";
            case PowerPC: return "PowerPC BCJ";
            case IA64: return "IA-64 BCJ";
            case Arm: return "ARM BCJ";
            case ArmThumb: return "ARM-Thumb BCJ";
            case Sparc: return "SPARC BCJ";
            case Arm64: return "ARM64 BCJ";
            case RiscV: return "RISC-V BCJ";
            case 0x21: return "LZMA2";
            default: return "0x" + id.ToString("X", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Undoes the delta filter: each byte had the byte <paramref name="distance"/> positions earlier subtracted.</summary>
    public static void DecodeDelta(Span<byte> data, int distance)
    {
        for (int i = distance; i < data.Length; i++)
        {
            data[i] = (byte)(data[i] + data[i - distance]);
        }
    }

    /// <summary>Applies the BCJ decoder for filter <paramref name="id"/>.</summary>
    public static void DecodeBranch(ulong id, Span<byte> data, uint startOffset)
    {
        switch (id)
        {
            case X86: DecodeX86(data, startOffset); break;
            case PowerPC: DecodePowerPC(data, startOffset); break;
            case IA64: DecodeIA64(data, startOffset); break;
            case Arm: DecodeArm(data, startOffset); break;
            case ArmThumb: DecodeArmThumb(data, startOffset); break;
            case Sparc: DecodeSparc(data, startOffset); break;
            case Arm64: DecodeArm64(data, startOffset); break;
            default: throw new ArgumentOutOfRangeException(nameof(id));
        }
    }

    private static bool IsImmediateHighByte(byte b) => b == 0x00 || b == 0xFF;

    /// <summary>
    /// x86: E8 (CALL rel32) and E9 (JMP rel32) whose 32-bit operand looks like a near address
    /// (top byte 00 or FF). A small history mask of recent E8/E9 bytes that were not converted
    /// suppresses conversions inside what is probably the operand of a previous instruction.
    /// </summary>
    public static void DecodeX86(Span<byte> data, uint startOffset)
    {
        // Indexed by (mask >> 1) & 7: whether a conversion is allowed, and which operand byte to re-test.
        ReadOnlySpan<byte> allowed = new byte[] { 1, 1, 1, 0, 1, 0, 0, 0 };
        ReadOnlySpan<byte> byteIndex = new byte[] { 0, 1, 2, 2, 3, 3, 3, 3 };

        uint mask = 0;
        int lastOpcode = -5;
        int i = 0;
        int limit = data.Length - 5;
        while (i <= limit)
        {
            byte opcode = data[i];
            if (opcode != 0xE8 && opcode != 0xE9)
            {
                i++;
                continue;
            }

            int gap = i - lastOpcode;
            lastOpcode = i;
            if (gap > 5)
            {
                mask = 0;
            }
            else
            {
                for (int k = 0; k < gap; k++)
                {
                    mask = (mask & 0x77) << 1;
                }
            }

            byte top = data[i + 4];
            if (IsImmediateHighByte(top) && allowed[(int)((mask >> 1) & 7)] != 0 && (mask >> 1) < 0x10)
            {
                uint value = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i + 1));
                uint target;
                while (true)
                {
                    target = value - (startOffset + (uint)i + 5);
                    if (mask == 0)
                    {
                        break;
                    }

                    int shift = 24 - (byteIndex[(int)((mask >> 1) & 7)] * 8);
                    if (!IsImmediateHighByte((byte)(target >> shift)))
                    {
                        break;
                    }

                    value = target ^ ((1u << (shift + 8)) - 1);
                }

                target &= 0x01FFFFFF;
                target |= (target & 0x01000000) != 0 ? 0xFF000000u : 0u;
                BinaryPrimitives.WriteUInt32LittleEndian(data.Slice(i + 1), target);
                i += 5;
                mask = 0;
            }
            else
            {
                i++;
                mask |= 1;
                if (IsImmediateHighByte(top))
                {
                    mask |= 0x10;
                }
            }
        }
    }

    /// <summary>PowerPC: big-endian "bl" (opcode 18 with AA=0, LK=1).</summary>
    public static void DecodePowerPC(Span<byte> data, uint startOffset)
    {
        for (int i = 0; i + 4 <= data.Length; i += 4)
        {
            uint insn = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(i));
            if ((insn & 0xFC000003) == 0x48000001)
            {
                uint target = (insn & 0x03FFFFFC) - (startOffset + (uint)i);
                insn = 0x48000000 | (target & 0x03FFFFFF) | (insn & 3);
                BinaryPrimitives.WriteUInt32BigEndian(data.Slice(i), insn);
            }
        }
    }

    /// <summary>ARM (32-bit): little-endian "BL" with condition AL (top byte 0xEB); PC reads 8 bytes ahead.</summary>
    public static void DecodeArm(Span<byte> data, uint startOffset)
    {
        for (int i = 0; i + 4 <= data.Length; i += 4)
        {
            if (data[i + 3] == 0xEB)
            {
                uint value = (uint)(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16)) << 2;
                uint target = (value - (startOffset + (uint)i + 8)) >> 2;
                data[i] = (byte)target;
                data[i + 1] = (byte)(target >> 8);
                data[i + 2] = (byte)(target >> 16);
            }
        }
    }

    /// <summary>ARM Thumb: the two-halfword "BL" pair (F000..F7FF followed by F800..FFFF); PC reads 4 bytes ahead.</summary>
    public static void DecodeArmThumb(Span<byte> data, uint startOffset)
    {
        for (int i = 0; i + 4 <= data.Length; i += 2)
        {
            if ((data[i + 1] & 0xF8) == 0xF0 && (data[i + 3] & 0xF8) == 0xF8)
            {
                uint value = (uint)(((data[i + 1] & 7) << 19) | (data[i] << 11) | ((data[i + 3] & 7) << 8) | data[i + 2]) << 1;
                uint target = (value - (startOffset + (uint)i + 4)) >> 1;
                data[i + 1] = (byte)(0xF0 | ((target >> 19) & 7));
                data[i] = (byte)(target >> 11);
                data[i + 3] = (byte)(0xF8 | ((target >> 8) & 7));
                data[i + 2] = (byte)target;
                i += 2;
            }
        }
    }

    /// <summary>SPARC: big-endian "call" whose 30-bit displacement is a sign-extended 22-bit value.</summary>
    public static void DecodeSparc(Span<byte> data, uint startOffset)
    {
        for (int i = 0; i + 4 <= data.Length; i += 4)
        {
            byte b0 = data[i], b1 = data[i + 1];
            if ((b0 == 0x40 && (b1 & 0xC0) == 0x00) || (b0 == 0x7F && (b1 & 0xC0) == 0xC0))
            {
                uint value = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(i)) << 2;
                uint target = (value - (startOffset + (uint)i)) >> 2;
                uint signBits = (0u - ((target >> 22) & 1)) << 22;
                target = (signBits & 0x3FFFFFFF) | (target & 0x3FFFFF) | 0x40000000;
                BinaryPrimitives.WriteUInt32BigEndian(data.Slice(i), target);
            }
        }
    }

    /// <summary>ARM64: "BL" (26-bit word displacement) and "ADRP" (21-bit page displacement, only for +-512 MiB).</summary>
    public static void DecodeArm64(Span<byte> data, uint startOffset)
    {
        for (int i = 0; i + 4 <= data.Length; i += 4)
        {
            uint pc = startOffset + (uint)i;
            uint insn = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i));
            if ((insn >> 26) == 0x25)
            {
                insn = 0x94000000 | ((insn - (pc >> 2)) & 0x03FFFFFF);
                BinaryPrimitives.WriteUInt32LittleEndian(data.Slice(i), insn);
            }
            else if ((insn & 0x9F000000) == 0x90000000)
            {
                uint value = ((insn >> 29) & 3) | ((insn >> 3) & 0x001FFFFC);
                if (((value + 0x00020000) & 0x001C0000) != 0)
                {
                    continue;
                }

                uint target = value - (pc >> 12);
                insn &= 0x9000001F;
                insn |= (target & 3) << 29;
                insn |= (target & 0x0003FFFC) << 3;
                insn |= (0u - (target & 0x00020000)) & 0x00E00000;
                BinaryPrimitives.WriteUInt32LittleEndian(data.Slice(i), insn);
            }
        }
    }

    /// <summary>
    /// IA-64: 16-byte bundles; for each slot that the bundle template marks as a possible branch,
    /// an IP-relative "br.call"-style instruction (opcode 5, btype 0) has its 21-bit displacement converted.
    /// </summary>
    public static void DecodeIA64(Span<byte> data, uint startOffset)
    {
        // Bit s set: slot s of a bundle with this template may hold a branch.
        ReadOnlySpan<byte> branchSlots = new byte[]
        {
            0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
            4, 4, 6, 6, 0, 0, 7, 7,
            4, 4, 0, 0, 4, 4, 0, 0,
        };

        for (int i = 0; i + 16 <= data.Length; i += 16)
        {
            int slots = branchSlots[data[i] & 0x1F];
            for (int slot = 0; slot < 3; slot++)
            {
                if (((slots >> slot) & 1) == 0)
                {
                    continue;
                }

                int bitPos = 5 + (41 * slot);
                int bytePos = i + (bitPos >> 3);
                int bitShift = bitPos & 7;

                ulong raw = 0;
                for (int j = 0; j < 6; j++)
                {
                    raw |= (ulong)data[bytePos + j] << (8 * j);
                }

                ulong insn = raw >> bitShift;
                if (((insn >> 37) & 0xF) != 0x5 || ((insn >> 9) & 0x7) != 0)
                {
                    continue;
                }

                uint value = (uint)((insn >> 13) & 0xFFFFF);
                value |= (uint)((insn >> 36) & 1) << 20;
                value <<= 4;
                uint target = (value - (startOffset + (uint)i)) >> 4;

                insn &= ~((ulong)0x8FFFFF << 13);
                insn |= (ulong)(target & 0xFFFFF) << 13;
                insn |= (ulong)(target & 0x100000) << (36 - 20);

                raw &= (1UL << bitShift) - 1;
                raw |= insn << bitShift;
                for (int j = 0; j < 6; j++)
                {
                    data[bytePos + j] = (byte)(raw >> (8 * j));
                }
            }
        }
    }
}
