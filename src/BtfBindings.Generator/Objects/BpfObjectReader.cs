using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using BtfBindings.Containers;

namespace BtfBindings.Objects
{
    /// <summary>A program of a BPF object: its function name and ELF section (libbpf's SEC()).</summary>
    internal sealed record BpfProgramInfo(string Name, string Section);

    /// <summary>
    /// A map defined in the object's <c>.maps</c> section, as libbpf reads its BTF definition: <c>__uint(name, N)</c> is a
    /// member of type <c>int (*)[N]</c>, <c>__type(name, T)</c> one of type <c>T *</c>.
    /// </summary>
    internal sealed record BpfMapInfo(string Name, int Type, int KeyTypeId, int ValueTypeId, long KeySize, long ValueSize, long MaxEntries);

    /// <summary>A global data section (.rodata/.data/.bss) as a synthetic struct of its variables (type id in <see cref="BpfObjectInfo.Btf"/>).</summary>
    internal sealed record BpfGlobalSection(string Section, string Property, string TypeName, int TypeId, long Size);

    /// <summary>What a skeleton needs from a BPF object file.</summary>
    internal sealed class BpfObjectInfo
    {
        /// <summary>The object's BTF plus, as split BTF over it, one struct per global data section.</summary>
        public Btf Btf { get; }
        public List<BpfProgramInfo> Programs { get; } = new List<BpfProgramInfo>();
        public List<BpfMapInfo> Maps { get; } = new List<BpfMapInfo>();
        public List<BpfGlobalSection> Globals { get; } = new List<BpfGlobalSection>();
        /// <summary>Problems found (map definitions libbpf would reject, variables without symbols), said with names.</summary>
        public List<string> Warnings { get; } = new List<string>();
        internal BpfObjectInfo(Btf btf) { Btf = btf; }
    }

    /// <summary>
    /// Reads a clang-built BPF object: programs from the symbol table (functions in executable sections other than
    /// <c>.text</c>, which holds subprograms), maps from the <c>.maps</c> DATASEC's BTF (libbpf's <c>parse_btf_map_def</c>
    /// rules), and the global sections. clang leaves DATASEC sizes and variable offsets 0 in the object (libbpf fills them in
    /// at load time from the ELF section and symbols), so they are filled in here the same way.
    /// </summary>
    internal static class BpfObjectReader
    {
        private const uint ShtSymtab = 2;
        private const ulong ShfExecinstr = 4;

        /// <exception cref="BtfException">Not an ELF file, no .BTF, or malformed.</exception>
        public static BpfObjectInfo Read(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            using var stream = new MemoryStream(bytes, writable: false);
            var elf = ElfFile.Read(stream, path);
            var btfSection = elf.BtfSection ?? throw new BtfException("the object has no .BTF section (compile it with clang -g)", path);
            var btf = Btf.Parse(elf.ReadSection(stream, btfSection), path);
            var symbols = ReadSymbols(elf, stream);

            // Programs: FUNC symbols in executable sections other than .text.
            var programs = new List<BpfProgramInfo>();
            foreach (var s in symbols)
            {
                if (s.Type != 2 || s.Section <= 0 || s.Section >= elf.Sections.Count) continue;
                var sec = elf.Sections[s.Section];
                if ((sec.Flags & ShfExecinstr) == 0 || sec.Name == ".text" || s.Name.Length == 0) continue;
                programs.Add(new BpfProgramInfo(s.Name, sec.Name));
            }

            // Global sections: a struct per .rodata/.data/.bss of its global variables at their symbols' offsets.
            var builder = new BtfBuilder(btf);
            var pending = new List<(string section, string property, string typeName, int id, long size)>();
            var warnings = new List<string>();
            for (int id = 1; id < btf.TypeCount; id++)
            {
                var t = btf[id];
                if (t.Kind != BtfKind.DataSec) continue;
                string? property = t.Name switch { ".rodata" => "Rodata", ".data" => "Data", ".bss" => "Bss", _ => null };
                if (property == null) continue;
                var sec = elf.FindSection(t.Name);
                if (sec == null) { warnings.Add($"DATASEC '{t.Name}' (type id {id}) has no ELF section"); continue; }
                int secIndex = IndexOf(elf, sec);
                var members = new List<(string, int, uint, int)>();
                foreach (var v in t.VarSecInfos)
                {
                    var var = btf[v.TypeId];
                    if (var.Kind != BtfKind.Var || var.Linkage == BtfLinkage.Static) continue; // static: may be optimised away, names repeat (bpf_printk's ___fmt)
                    long offset = -1;
                    foreach (var s in symbols) if (s.Section == secIndex && s.Name == var.Name && s.Type == 1) { offset = (long)s.Value; break; }
                    if (offset < 0) { warnings.Add($"variable '{var.Name}' of {t.Name} has no symbol; left out"); continue; }
                    members.Add((var.Name, var.TypeId, (uint)(offset * 8), 0));
                }
                members.Sort((a, b) => a.Item3.CompareTo(b.Item3));
                string typeName = property + "Section";
                while (btf.FindTypes(typeName).Count > 0) typeName += "_";   // SkeletonNames: the object's own type keeps its name
                int sid = builder.AddComposite(BtfKind.Struct, typeName, (uint)sec.Size, members.ToArray());
                pending.Add((t.Name, property, typeName, sid, sec.Size));
            }
            var full = pending.Count == 0 ? btf : Btf.Parse(builder.ToArray(btf.IsBigEndian), path, btf);
            var info = new BpfObjectInfo(full);
            info.Programs.AddRange(programs);
            info.Warnings.AddRange(warnings);
            foreach (var p in pending) info.Globals.Add(new BpfGlobalSection(p.section, p.property, p.typeName, p.id, p.size));
            ReadMaps(full, info);
            return info;
        }

        private static int IndexOf(ElfFile elf, ElfSection sec)
        {
            for (int i = 0; i < elf.Sections.Count; i++) if (ReferenceEquals(elf.Sections[i], sec)) return i;
            return -1;
        }

        private static void ReadMaps(Btf btf, BpfObjectInfo info)
        {
            var sec = btf.FindType(".maps", BtfKind.DataSec);
            if (sec == null) return;
            foreach (var v in sec.Value.VarSecInfos)
            {
                var var = btf[v.TypeId];
                if (var.Kind != BtfKind.Var) continue;
                var def = btf[btf.Skip(var.TypeId)];
                if (!def.IsComposite) { info.Warnings.Add($"map '{var.Name}': its definition is not a struct"); continue; }
                int type = 0, key = 0, value = 0;
                long keySize = -1, valueSize = -1, maxEntries = 0;
                foreach (var m in def.Members)
                {
                    switch (m.Name)
                    {
                        case "type": type = (int)IntField(btf, m, var.Name, info); break;
                        case "max_entries": maxEntries = IntField(btf, m, var.Name, info); break;
                        case "key_size": keySize = IntField(btf, m, var.Name, info); break;
                        case "value_size": valueSize = IntField(btf, m, var.Name, info); break;
                        case "key": key = Pointee(btf, m, var.Name, info); break;
                        case "value": value = Pointee(btf, m, var.Name, info); break;
                    }
                }
                if (key > 0 && keySize < 0) keySize = SizeOf(btf, key);
                if (value > 0 && valueSize < 0) valueSize = SizeOf(btf, value);
                info.Maps.Add(new BpfMapInfo(var.Name, type, key, value, Math.Max(keySize, 0), Math.Max(valueSize, 0), maxEntries));
            }
        }

        /// <summary><c>__uint(name, N)</c>: a pointer to an array of N ints (libbpf's get_map_field_int).</summary>
        private static long IntField(Btf btf, BtfMember m, string map, BpfObjectInfo info)
        {
            var ptr = btf[btf.Skip(m.TypeId)];
            if (ptr.Kind == BtfKind.Ptr)
            {
                var arr = btf[ptr.TypeId];
                if (arr.Kind == BtfKind.Array) return arr.ArrayLength;
            }
            info.Warnings.Add($"map '{map}': '{m.Name}' is not __uint(...) (a pointer to an array)");
            return 0;
        }

        /// <summary><c>__type(name, T)</c>: a pointer to T.</summary>
        private static int Pointee(Btf btf, BtfMember m, string map, BpfObjectInfo info)
        {
            var ptr = btf[btf.Skip(m.TypeId)];
            if (ptr.Kind == BtfKind.Ptr) return ptr.TypeId;
            info.Warnings.Add($"map '{map}': '{m.Name}' is not __type(...) (a pointer)");
            return 0;
        }

        private static long SizeOf(Btf btf, int id)
        {
            try { return btf.ResolveSize(id); }
            catch (BtfException) { return -1; }
        }

        private readonly struct Symbol
        {
            public readonly string Name; public readonly int Type; public readonly int Section; public readonly ulong Value;
            public Symbol(string name, int type, int section, ulong value) { Name = name; Type = type; Section = section; Value = value; }
        }

        private static List<Symbol> ReadSymbols(ElfFile elf, Stream stream)
        {
            var result = new List<Symbol>();
            foreach (var sec in elf.Sections)
            {
                if (sec.Type != ShtSymtab || sec.Link >= elf.Sections.Count) continue;
                byte[] syms = elf.ReadSection(stream, sec);
                byte[] strs = elf.ReadSection(stream, elf.Sections[(int)sec.Link]);
                int entry = elf.Is64Bit ? 24 : 16;
                bool be = elf.IsBigEndian;
                for (int o = entry; o + entry <= syms.Length; o += entry) // entry 0 is the null symbol
                {
                    var e = syms.AsSpan(o, entry);
                    uint nameOff = be ? BinaryPrimitives.ReadUInt32BigEndian(e) : BinaryPrimitives.ReadUInt32LittleEndian(e);
                    byte st_info = elf.Is64Bit ? e[4] : e[12];
                    var shndxSpan = elf.Is64Bit ? e.Slice(6, 2) : e.Slice(14, 2);
                    ushort shndx = be ? BinaryPrimitives.ReadUInt16BigEndian(shndxSpan) : BinaryPrimitives.ReadUInt16LittleEndian(shndxSpan);
                    ulong value = elf.Is64Bit
                        ? (be ? BinaryPrimitives.ReadUInt64BigEndian(e.Slice(8)) : BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(8)))
                        : (be ? BinaryPrimitives.ReadUInt32BigEndian(e.Slice(4)) : BinaryPrimitives.ReadUInt32LittleEndian(e.Slice(4)));
                    if (nameOff >= strs.Length) throw new BtfException($"symbol at byte {o} of {sec.Name} has name offset {nameOff} outside its string table", elf.SourceName, sec.Offset + o);
                    int end = Array.IndexOf(strs, (byte)0, (int)nameOff);
                    if (end < 0) end = strs.Length;
                    result.Add(new Symbol(Encoding.UTF8.GetString(strs, (int)nameOff, end - (int)nameOff), st_info & 0xf, shndx, value));
                }
            }
            return result;
        }
    }
}
