using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using BtfBindings.Containers;
using BtfBindings.Layout;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>Fixtures of the CO-RE tests: kernels (shared parses), the clang objects of tests/fixtures/core, plans.</summary>
    internal static class CoreFixtures
    {
        /// <summary>A kernel fixture ("x86_64-6.12"), parsed once per run.</summary>
        public static Btf Kernel(string name) => Fixtures.Kernel(name);

        /// <summary>Big-endian fixtures.</summary>
        public static bool IsBigEndian(string kernel) => kernel.StartsWith("s390x", StringComparison.Ordinal);

        /// <summary>Path of a decompressed tests/fixtures/core object ("target.o"; tests/fixtures/core/make-core-fixtures.sh makes them).</summary>
        public static string CorePath(string name) => Fixtures.Path("core/" + name);

        /// <summary>A tests/fixtures/core object parsed once per run.</summary>
        public static Btf Core(string name) => Fixtures.Kernel("core/" + name);

        /// <summary>The metadata the generator would emit for <paramref name="names"/> from <paramref name="btf"/>.</summary>
        public static PlannedLayouts Layouts(Btf btf, params string[] names)
        {
            var plan = LayoutPlanner.Plan(btf, names, null, out var unknown);
            if (unknown.Count > 0) throw new InvalidOperationException("unknown types: " + string.Join(", ", unknown.Select(u => u.Name)));
            return new PlannedLayouts(plan);
        }
    }

    /// <summary>Initialised globals of an ELF object: their bytes, found through .symtab (st_value is the offset in the section).</summary>
    internal sealed class ElfGlobals
    {
        private readonly Dictionary<string, (byte[] section, int offset, int size)> _symbols = new Dictionary<string, (byte[], int, int)>(StringComparer.Ordinal);

        public ElfGlobals(string path)
        {
            var file = File.ReadAllBytes(path);
            using var fs = new MemoryStream(file, writable: false);
            var elf = ElfFile.Read(fs, path);
            var symtab = elf.Sections.First(s => s.Name == ".symtab");
            var strtab = elf.Sections.First(s => s.Name == ".strtab");
            int entSize = elf.Is64Bit ? 24 : 16;
            bool be = elf.IsBigEndian;
            uint U32(int o) => be ? BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(o)) : BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(o));
            ushort U16(int o) => be ? BinaryPrimitives.ReadUInt16BigEndian(file.AsSpan(o)) : BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(o));
            ulong U64(int o) => be ? BinaryPrimitives.ReadUInt64BigEndian(file.AsSpan(o)) : BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(o));
            var sectionBytes = new Dictionary<int, byte[]>();
            for (long p = symtab.Offset; p + entSize <= symtab.Offset + symtab.Size; p += entSize)
            {
                int o = (int)p;
                uint nameOff = U32(o);
                ulong value, size;
                int shndx;
                if (elf.Is64Bit) { shndx = U16(o + 6); value = U64(o + 8); size = U64(o + 16); }
                else { value = U32(o + 4); size = U32(o + 8); shndx = U16(o + 14); }
                if (nameOff == 0 || shndx == 0 || shndx >= elf.Sections.Count || size == 0) continue;
                int s = (int)(strtab.Offset + nameOff), e = s;
                while (file[e] != 0) e++;
                string name = System.Text.Encoding.ASCII.GetString(file, s, e - s);
                var sec = elf.Sections[shndx];
                if (sec.Type == 8) continue; // NOBITS
                if (!sectionBytes.TryGetValue(shndx, out var bytes)) sectionBytes[shndx] = bytes = file.AsSpan((int)sec.Offset, (int)sec.Size).ToArray();
                _symbols[name] = (bytes, (int)value, (int)size);
            }
        }

        /// <summary>A fresh copy of the global's bytes.</summary>
        public byte[] Bytes(string symbol)
        {
            var (section, offset, size) = _symbols[symbol];
            return section.AsSpan(offset, size).ToArray();
        }
    }

    /// <summary>
    /// An independent oracle for target layouts: bpftool's JSON dump of the target BTF (<c>bpftool -j btf dump file F format raw</c>),
    /// with libbpf's member search, compatibility, size and bitfield-window rules re-implemented over it.
    /// </summary>
    internal sealed class BpftoolOracle
    {
        private static readonly ConcurrentDictionary<string, Lazy<BpftoolOracle>> Cache = new ConcurrentDictionary<string, Lazy<BpftoolOracle>>();

        private readonly BpftoolTypes _types;
        private readonly Dictionary<string, List<BpftoolType>> _byEssential = new Dictionary<string, List<BpftoolType>>(StringComparer.Ordinal);
        public int PointerSize { get; }
        public bool BigEndian { get; }
        public string Name { get; }

        public static BpftoolOracle For(string path, bool bigEndian)
            => Cache.GetOrAdd(path, p => new Lazy<BpftoolOracle>(() => new BpftoolOracle(p, bigEndian))).Value;

        private BpftoolOracle(string path, bool bigEndian)
        {
            Name = Path.GetFileName(path);
            BigEndian = bigEndian;
            _types = Bpftool.Types(path);
            foreach (var t in _types.All)
                if ((t.Kind == "STRUCT" || t.Kind == "UNION" || t.Kind == "ENUM" || t.Kind == "ENUM64" || t.Kind == "TYPEDEF") && t.Name.Length > 0)
                {
                    var ess = Essential(t.Name);
                    if (!_byEssential.TryGetValue(ess, out var list)) _byEssential[ess] = list = new List<BpftoolType>();
                    list.Add(t);
                }
            PointerSize = _types.LongSize ?? 8;
        }

        /// <summary>An enumerator's value as libbpf compares it: signed enums sign-extended to 64 bits.</summary>
        public static ulong Value(BpftoolEnumerator e) => (ulong)(e.Value & ulong.MaxValue);

        /// <summary>libbpf bpf_core_essential_name_len, written out again.</summary>
        public static string Essential(string name)
        {
            for (int i = name.Length - 5; i >= 0; i--)
                if (name[i] != '_' && name.Substring(i + 1, 3) == "___" && name[i + 4] != '_') return name.Substring(0, i + 1);
            return name;
        }

        public BpftoolType this[int id] => _types[id];

        public List<BpftoolType> Candidates(string name, string kind)
            => _byEssential.TryGetValue(Essential(name), out var l) ? l.Where(t => t.Kind == kind).OrderBy(t => t.Id).ToList() : new List<BpftoolType>();

        /// <summary>Root candidates of a generated type: same kind and essential name, or for typedef-named anonymous types the composites behind same-named typedefs.</summary>
        public List<BpftoolType> RootCandidates(BtfTypeLayout layout)
        {
            if (!layout.NamedByTypedef) return Candidates(layout.BtfName, layout.Kind == BtfKind.Union ? "UNION" : "STRUCT");
            return Candidates(layout.BtfName, "TYPEDEF").Select(t => Skip(t.Id)).Where(t => t.Kind is "STRUCT" or "UNION")
                .GroupBy(t => t.Id).Select(g => g.First()).ToList();
        }

        public BpftoolType Skip(int id) => _types[_types.Resolve(id)];

        public long SizeOf(int id) => _types.SizeOf(id, PointerSize);

        /// <summary>libbpf's member search: declaration order, anonymous composites searched depth-first.</summary>
        public (BpftoolMember member, long bitOffset)? Find(BpftoolType composite, string name, long bitBase = 0)
        {
            foreach (var m in composite.Members)
            {
                if (m.Name.Length == 0)
                {
                    var inner = Skip(m.TypeId);
                    if (inner.Kind is "STRUCT" or "UNION")
                    {
                        var hit = Find(inner, name, bitBase + m.BitsOffset);
                        if (hit != null) return hit;
                    }
                    continue;
                }
                if (m.Name == name) return (m, bitBase + m.BitsOffset);
            }
            return null;
        }

        public sealed class Expect
        {
            public bool Exists, Readable, Bitfield, Signed;
            /// <summary>Candidates that have the field disagree on it (libbpf refuses the relocations whose values differ).</summary>
            public bool Ambiguous;
            /// <summary>…at different bit offsets: libbpf refuses every relocation of it, EXISTS too (Exists is false).</summary>
            public bool OffsetAmbiguous;
            public long BitOffset, BitSize, ByteOffset, ByteSize, ArrayLength, ArrayElementSize;
            public int LShift, RShift;
            public int MemberTypeId;
            public bool Same(Expect o) => Exists == o.Exists && Readable == o.Readable && Bitfield == o.Bitfield && Signed == o.Signed && BitOffset == o.BitOffset
                && BitSize == o.BitSize && ByteOffset == o.ByteOffset && ByteSize == o.ByteSize && ArrayLength == o.ArrayLength && ArrayElementSize == o.ArrayElementSize
                && LShift == o.LShift && RShift == o.RShift;
            public override string ToString() => Ambiguous ? "ambiguous" : !Exists ? "missing" : $"bit {BitOffset}:{BitSize} byte {ByteOffset}+{ByteSize} bf={Bitfield} signed={Signed} readable={Readable} arr={ArrayLength}x{ArrayElementSize} <<{LShift} >>{RShift}";
        }

        /// <summary>What libbpf's rules give for local field <paramref name="lf"/> in target composite <paramref name="target"/>.</summary>
        public Expect Field(BtfFieldLayout lf, BpftoolType target)
        {
            var x = new Expect();
            var hit = Find(target, lf.Name);
            if (hit == null) return x;
            var (m, bitOff) = hit.Value;
            var tt = Skip(m.TypeId);
            if (!Compatible(lf.Kind, lf.TypeName, lf.CType, lf.ElementKind, tt)) return x;
            x.Exists = true;
            x.MemberTypeId = tt.Id;
            long size = tt.Kind == "ARRAY" && tt.NrElems == 0 ? 0 : SizeOf(m.TypeId);
            x.BitOffset = bitOff;
            x.Signed = (tt.Kind == "INT" && tt.Encoding == "SIGNED") || ((tt.Kind == "ENUM" || tt.Kind == "ENUM64") && tt.Encoding == "SIGNED");
            x.Bitfield = m.BitfieldSize > 0 || bitOff % 8 != 0;
            bool windowOk = true;
            if (x.Bitfield)
            {
                x.BitSize = m.BitfieldSize > 0 ? m.BitfieldSize : size * 8;
                long byteSz = tt.Kind is "INT" or "ENUM" or "ENUM64" ? tt.Size : Math.Min(size, 8);
                if (byteSz == 0 || (byteSz & (byteSz - 1)) != 0) byteSz = 1;
                if (byteSz > 8) byteSz = 8;
                long byteOff = bitOff / 8 / byteSz * byteSz;
                while (bitOff + x.BitSize - byteOff * 8 > byteSz * 8)
                {
                    if (byteSz >= 8) { windowOk = false; break; }
                    byteSz *= 2;
                    byteOff = bitOff / 8 / byteSz * byteSz;
                }
                x.ByteOffset = byteOff; x.ByteSize = byteSz;
                if (windowOk)
                {
                    x.LShift = BigEndian ? (int)((8 - byteSz) * 8 + (bitOff - byteOff * 8)) : (int)(64 - (bitOff + x.BitSize - byteOff * 8));
                    x.RShift = (int)(64 - x.BitSize);
                }
            }
            else
            {
                x.ByteOffset = bitOff / 8; x.ByteSize = size; x.BitSize = size * 8;
                if (size > 0 && size <= 8) { x.LShift = (int)(64 - size * 8); x.RShift = (int)(64 - size * 8); }
            }
            if (tt.Kind == "ARRAY") { x.ArrayLength = tt.NrElems; x.ArrayElementSize = SizeOf(tt.TypeId); }
            switch (lf.Kind)
            {
                case BtfFieldKind.Struct: case BtfFieldKind.Union: x.Readable = true; break;
                case BtfFieldKind.Array: case BtfFieldKind.FlexibleArray:
                    long row = lf.ArrayLength > 0 ? lf.ByteSize / lf.ArrayLength : 0;
                    x.Readable = row == 0 || row == x.ArrayElementSize || lf.ElementKind is BtfFieldKind.Struct or BtfFieldKind.Union; break;
                case BtfFieldKind.Bytes: x.Readable = size == lf.ByteSize; break;
                default:
                    if (lf.IsBitfield || x.Bitfield) x.Readable = windowOk;
                    else x.Readable = size == lf.ByteSize || (lf.Kind == BtfFieldKind.Pointer && tt.Kind == "PTR")
                        || (lf.Kind == BtfFieldKind.Int && !lf.IsSigned && tt.Kind == "INT" && tt.Encoding != "SIGNED" && size <= 8 && lf.ByteSize <= 8);
                    break;
            }
            return x;
        }

        /// <summary>bpf_core_fields_are_compat (§3.5 of btf-anchors.md) with the local side from generated metadata.</summary>
        public bool Compatible(BtfFieldKind lk, string localTypeName, string localCType, BtfFieldKind elementKind, BpftoolType tt)
        {
            switch (lk)
            {
                case BtfFieldKind.Struct: case BtfFieldKind.Union: return tt.Kind is "STRUCT" or "UNION";
                case BtfFieldKind.Pointer: return tt.Kind == "PTR";
                case BtfFieldKind.Float: return tt.Kind == "FLOAT";
                case BtfFieldKind.Enum:
                    return (tt.Kind is "ENUM" or "ENUM64") && (localTypeName.Length == 0 || tt.Name.Length == 0 || Essential(localTypeName) == Essential(tt.Name));
                case BtfFieldKind.Int:
                    // An anonymous enum is an enum to libbpf (bpf_core_fields_are_compat): only ENUM/ENUM64 match it, never INT.
                    if (localCType.StartsWith("enum {", StringComparison.Ordinal)) return tt.Kind is "ENUM" or "ENUM64";
                    return tt.Kind == "INT" && tt.BitsOffset == 0;
                case BtfFieldKind.Array: case BtfFieldKind.FlexibleArray:
                    {
                        if (tt.Kind != "ARRAY") return false;
                        var e = tt;
                        while (e.Kind == "ARRAY") e = Skip(e.TypeId);
                        return Compatible(elementKind, localTypeName, "", BtfFieldKind.Bytes, e);
                    }
                default: return !(tt.Kind is "STRUCT" or "UNION" or "PTR");
            }
        }

        /// <summary>
        /// The result over candidates, field by field as libbpf decides each access path: per field the expectation from
        /// the candidates that have it (<see cref="Expect.Ambiguous"/> when two of them disagree), the member types of
        /// every candidate that has it, and the candidates where some field matches (the one with most fields first).
        /// </summary>
        public (Expect[] fields, List<int>[] memberTypes, List<BpftoolType> targets) Resolve(BtfTypeLayout local, List<BpftoolType> candidates, bool root)
        {
            var fields = local.Fields.Select(_ => new Expect()).ToArray();
            var members = local.Fields.Select(_ => new List<int>()).ToArray();
            if (candidates.Count == 0) return (fields, members, new List<BpftoolType>());
            var all = candidates.Select(c => local.Fields.Select(f => Field(f, c)).ToArray()).ToList();
            var matching = Enumerable.Range(0, candidates.Count).Where(i => all[i].Any(e => e.Exists)).ToList();
            if (matching.Count == 0) matching = Enumerable.Range(0, candidates.Count).ToList();
            int primary = matching.OrderByDescending(i => all[i].Count(e => e.Exists)).ThenBy(i => candidates[i].Id).First();
            for (int f = 0; f < local.Fields.Count; f++)
            {
                Expect? first = null;
                foreach (var i in matching)
                {
                    var e = all[i][f];
                    if (!e.Exists) continue;
                    if (first == null) first = e;
                    else if (first.BitOffset != e.BitOffset) { first = new Expect { Ambiguous = true, OffsetAmbiguous = true }; members[f].Clear(); break; }
                    else if (!first.Same(e)) first = new Expect { Ambiguous = true, Exists = true, BitOffset = first.BitOffset };
                    if (!members[f].Contains(e.MemberTypeId)) members[f].Add(e.MemberTypeId);
                }
                fields[f] = first ?? new Expect();
            }
            var targets = new List<BpftoolType> { candidates[primary] };
            targets.AddRange(matching.Where(i => i != primary).Select(i => candidates[i]));
            return (fields, members, targets);
        }
    }
}
