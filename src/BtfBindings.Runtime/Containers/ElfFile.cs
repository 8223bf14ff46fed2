using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace BtfBindings.Containers
{
    /// <summary>One ELF section header.</summary>
    internal sealed class ElfSection
    {
        /// <summary>Section name.</summary>
        public string Name { get; }
        /// <summary>sh_type (1 PROGBITS, 8 NOBITS…).</summary>
        public uint Type { get; }
        /// <summary>File offset of the contents.</summary>
        public long Offset { get; }
        /// <summary>Size of the contents.</summary>
        public long Size { get; }
        /// <summary>sh_flags (SHF_EXECINSTR = 4 marks code).</summary>
        public ulong Flags { get; }
        /// <summary>sh_link (a symbol table's string table section index).</summary>
        public uint Link { get; }
        internal ElfSection(string name, uint type, long offset, long size, ulong flags = 0, uint link = 0) { Name = name; Type = type; Offset = offset; Size = size; Flags = flags; Link = link; }
    }

    /// <summary>
    /// A small, strict ELF reader: ELF32/ELF64, little or big endian; reads the section header table and
    /// section names, then single sections on request. Every offset is bounds-checked against the file.
    /// </summary>
    internal sealed class ElfFile
    {
        private const uint ShtNobits = 8;

        /// <summary>True for ELFCLASS64.</summary>
        public bool Is64Bit { get; }
        /// <summary>True for ELFDATA2MSB.</summary>
        public bool IsBigEndian { get; }
        /// <summary>e_machine.</summary>
        public ushort Machine { get; }
        /// <summary>The sections, in header order.</summary>
        public IReadOnlyList<ElfSection> Sections { get; }
        /// <summary>Name of the file, for messages.</summary>
        public string SourceName { get; }

        private ElfFile(bool is64, bool be, ushort machine, List<ElfSection> sections, string source)
        { Is64Bit = is64; IsBigEndian = be; Machine = machine; Sections = sections; SourceName = source; }

        /// <summary>True if the bytes start with the ELF magic.</summary>
        public static bool IsElf(ReadOnlySpan<byte> head) => head.Length >= 4 && head[0] == 0x7f && head[1] == (byte)'E' && head[2] == (byte)'L' && head[3] == (byte)'F';

        /// <summary>The section that holds an ELF file's BTF (vmlinux, modules, BPF objects), or null.</summary>
        public ElfSection? BtfSection => FindSection(".BTF");

        /// <summary>The target's pointer size: libbpf's btf_parse_elf takes it from the ELF class, not from BTF's 'long'.</summary>
        public int PointerSize => Is64Bit ? 8 : 4;

        /// <summary>Finds a section by name, or null.</summary>
        public ElfSection? FindSection(string name)
        {
            foreach (var s in Sections) if (s.Name == name) return s;
            return null;
        }

        /// <summary>Reads the header and section table of an ELF file held in a seekable stream.</summary>
        /// <exception cref="BtfException">The ELF structure is invalid or truncated.</exception>
        public static ElfFile Read(Stream stream, string sourceName)
        {
            long fileLen = stream.Length;
            var ident = ReadAt(stream, 0, 16, fileLen, sourceName, "ELF identification");
            if (!IsElf(ident)) throw new BtfException("not an ELF file (bad magic)", sourceName, 0);
            bool is64 = ident[4] switch { 1 => false, 2 => true, _ => throw new BtfException($"invalid ELF class {ident[4]}", sourceName, 4) };
            bool be = ident[5] switch { 1 => false, 2 => true, _ => throw new BtfException($"invalid ELF data encoding {ident[5]}", sourceName, 5) };
            if (ident[6] != 1) throw new BtfException($"unsupported ELF version {ident[6]}", sourceName, 6);

            int ehsize = is64 ? 64 : 52;
            var eh = ReadAt(stream, 0, ehsize, fileLen, sourceName, "ELF header");
            ushort U16(byte[] b, int o) => be ? BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(o)) : BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(o));
            uint U32(byte[] b, int o) => be ? BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(o)) : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));
            ulong U64(byte[] b, int o) => be ? BinaryPrimitives.ReadUInt64BigEndian(b.AsSpan(o)) : BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(o));

            ushort machine = U16(eh, 18);
            ulong shoff = is64 ? U64(eh, 40) : U32(eh, 32);
            int shentsize = U16(eh, is64 ? 58 : 46);
            uint shnum = U16(eh, is64 ? 60 : 48);
            uint shstrndx = U16(eh, is64 ? 62 : 50);
            int minEnt = is64 ? 64 : 40;
            if (shoff == 0) throw new BtfException("ELF file has no section header table", sourceName, is64 ? 40 : 32);
            if (shentsize < minEnt) throw new BtfException($"ELF section header size {shentsize} is smaller than {minEnt}", sourceName, is64 ? 58 : 46);
            if (shoff > (ulong)fileLen) throw new BtfException($"section header table offset {shoff} is beyond the end of the file ({fileLen} bytes)", sourceName, is64 ? 40 : 32);

            // Extended numbering: counts that do not fit 16 bits live in section 0.
            var sh0 = ReadAt(stream, (long)shoff, shentsize, fileLen, sourceName, "section header 0");
            if (shnum == 0) shnum = is64 ? (uint)U64(sh0, 32) : U32(sh0, 20);
            if (shstrndx == 0xffff) shstrndx = U32(sh0, is64 ? 40 : 24);
            if ((ulong)shnum * (ulong)shentsize > (ulong)fileLen - shoff)
                throw new BtfException($"section header table ({shnum} entries of {shentsize} bytes at {shoff}) runs past the end of the file", sourceName, (long)shoff);
            if (shstrndx >= shnum) throw new BtfException($"section name table index {shstrndx} is out of range ({shnum} sections)", sourceName, is64 ? 62 : 50);

            var table = ReadAt(stream, (long)shoff, (int)(shnum * shentsize), fileLen, sourceName, "section header table");
            var raw = new (uint name, uint type, long off, long size, ulong flags, uint link)[shnum];
            for (int i = 0; i < shnum; i++)
            {
                int o = i * shentsize;
                uint type = U32(table, o + 4);
                ulong off = is64 ? U64(table, o + 24) : U32(table, o + 16);
                ulong size = is64 ? U64(table, o + 32) : U32(table, o + 20);
                if (type != ShtNobits && i != 0 && (off > (ulong)fileLen || size > (ulong)fileLen - off))
                    throw new BtfException($"section {i} [{off}, +{size}) lies outside the file ({fileLen} bytes)", sourceName, (long)shoff + o);
                ulong flags = is64 ? U64(table, o + 8) : U32(table, o + 8);
                raw[i] = (U32(table, o), type, (long)off, (long)size, flags, U32(table, o + (is64 ? 40 : 24)));
            }
            var strs = raw[shstrndx];
            if (strs.type == ShtNobits) throw new BtfException("section name table has no contents", sourceName, (long)shoff + shstrndx * shentsize);
            if (strs.size > 64L << 20) throw new BtfException($"section name table is implausibly large ({strs.size} bytes)", sourceName, strs.off);
            var names = ReadAt(stream, strs.off, (int)strs.size, fileLen, sourceName, "section name table");

            var sections = new List<ElfSection>((int)shnum);
            for (int i = 0; i < shnum; i++)
            {
                var r = raw[i];
                if (r.name >= (uint)Math.Max(names.Length, 1) && !(i == 0 && r.name == 0))
                    throw new BtfException($"section {i} name offset {r.name} is outside the section name table ({names.Length} bytes)", sourceName, (long)shoff + i * shentsize);
                string name = string.Empty;
                if (names.Length > 0)
                {
                    int end = Array.IndexOf(names, (byte)0, (int)r.name);
                    if (end < 0) end = names.Length;
                    name = Encoding.UTF8.GetString(names, (int)r.name, end - (int)r.name);
                }
                sections.Add(new ElfSection(name, r.type, r.off, r.size, r.flags, r.link));
            }
            return new ElfFile(is64, be, machine, sections, sourceName);
        }

        /// <summary>Reads the contents of <paramref name="section"/>.</summary>
        public byte[] ReadSection(Stream stream, ElfSection section)
        {
            if (section.Type == ShtNobits) throw new BtfException($"section {section.Name} has no contents (NOBITS)", SourceName);
            if (section.Size > int.MaxValue) throw new BtfException($"section {section.Name} is too large ({section.Size} bytes)", SourceName, section.Offset);
            return ReadAt(stream, section.Offset, (int)section.Size, stream.Length, SourceName, "section " + section.Name);
        }

        private static byte[] ReadAt(Stream s, long offset, int count, long fileLen, string source, string what)
        {
            if (offset < 0 || count < 0 || offset > fileLen || count > fileLen - offset)
                throw new BtfException($"truncated: {what} [{offset}, +{count}) runs past the end of the file ({fileLen} bytes)", source, offset);
            var buf = new byte[count];
            s.Seek(offset, SeekOrigin.Begin);
            int done = 0;
            while (done < count)
            {
                int n = s.Read(buf, done, count - done);
                if (n <= 0) throw new BtfException($"unexpected end of file reading {what}", source, offset + done);
                done += n;
            }
            return buf;
        }
    }
}
