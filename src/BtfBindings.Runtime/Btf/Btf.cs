using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace BtfBindings
{
    /// <summary>
    /// One parsed BTF blob (raw <c>/sys/kernel/btf/vmlinux</c>, a BTFHub <c>.btf</c>, or the <c>.BTF</c>
    /// section of an ELF file), optionally split over a base. Immutable and thread-safe: types are read
    /// lazily from the original bytes (normalised to little-endian once), so parsing allocates little
    /// beyond the file itself.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed partial class Btf : IDisposable
    {
        internal const int TypeHeaderSize = 12;
        internal const int MaxResolveDepth = 32;
        private const int BtfMagic = 0xEB9F;

        private readonly byte[] _data;
        private readonly bool _ownsData; // _data came from the buffer pool (a file read by Load), so Dispose may reuse it
        private readonly int _count;    // types defined here; _offsets and _kinds may be longer (pooled arrays)
        private bool _disposed; // plain: Dispose must not race with readers (documented), and readers check it often
        private readonly int _strStart;
        private readonly int _strLen;
        private readonly int[] _offsets; // absolute offset in _data of type (FirstTypeId + i)
        private readonly byte[] _kinds; // kind of type (FirstTypeId + i), so kind checks never touch the records
        private readonly byte[]? _kindLayout; // raw layout section (info_sz, elem_sz, flags) per kind
        private readonly NameIndex? _index;
        private NameIndex? _essentialIndex;
        private NameIndex? _symbolIndex; // names of FUNC, VAR, DATASEC and DECL_TAG records: built on first lookup that may match them

        /// <summary>The base this BTF is split over (kernel module BTF over vmlinux), or null.</summary>
        public Btf? Base { get; }

        /// <summary>The name of the file or section this was read from, used in error messages.</summary>
        public string SourceName { get; }

        /// <summary>The first type id defined by this blob: 1, or the base's <see cref="TypeCount"/> for split BTF.</summary>
        public int FirstTypeId { get; }

        /// <summary>Number of type ids, including void (id 0) and, for split BTF, all base types (libbpf's <c>btf__type_cnt</c>).</summary>
        public int TypeCount => FirstTypeId + _count;

        /// <summary>True if the blob was stored big-endian (s390x, bpfeb).</summary>
        public bool IsBigEndian { get; }

        /// <summary>Length of the BTF header as stored (24, or more for newer encoders).</summary>
        internal int HeaderLength { get; }

        /// <summary>Total string section length including the base's (string offsets of split BTF continue after it).</summary>
        internal int StringsEnd => (Base?.StringsEnd ?? 0) + _strLen;

        /// <summary>This BTF's own raw size: header, type and string sections (the string section ends a kernel's BTF), for size reports.</summary>
        internal long RawLength => (long)_strStart + _strLen;

        /// <summary>
        /// The target's pointer size in bytes, inferred like libbpf's <c>determine_ptr_size</c> from the
        /// size of the <c>long</c> integer type (4 or 8); 8 when the BTF has no <c>long</c> (eBPF programs are 64-bit).
        /// </summary>
        public int PointerSize { get; }

        /// <summary>True if <see cref="PointerSize"/> was found from a <c>long</c> type rather than defaulted.</summary>
        internal bool PointerSizeKnown { get; }

        private Btf(byte[] data, bool ownsData, int strStart, int strLen, int[] offsets, byte[] kinds, int count, NameIndex? index, byte[]? kindLayout, Btf? baseBtf,
            string sourceName, bool bigEndian, int headerLength, int pointerSize, bool pointerSizeKnown)
        {
            _data = data;
            _ownsData = ownsData;
            _count = count;
            _strStart = strStart;
            _strLen = strLen;
            _offsets = offsets;
            _kinds = kinds;
            _index = index;
            _kindLayout = kindLayout;
            Base = baseBtf;
            SourceName = sourceName;
            FirstTypeId = baseBtf?.TypeCount ?? 1;
            IsBigEndian = bigEndian;
            HeaderLength = headerLength;
            PointerSize = pointerSize;
            PointerSizeKnown = pointerSizeKnown;
        }

        /// <summary>
        /// Parses a raw BTF blob. The array is taken over by the returned object (big-endian data is
        /// byte-swapped in place); pass a copy if you still need the original.
        /// </summary>
        /// <param name="data">The BTF bytes, starting with the header.</param>
        /// <param name="sourceName">File name for error messages.</param>
        /// <param name="baseBtf">The base, for split BTF (kernel modules).</param>
        /// <param name="sourceOffset">Offset of the blob in its file (an ELF section), so errors point into the file.</param>
        /// <param name="pointerSize">The target's pointer size when the container says it (the ELF class); 0 to infer it from <c>long</c>.</param>
        /// <exception cref="BtfException">The data is not valid BTF.</exception>
        public static Btf Parse(byte[] data, string? sourceName = null, Btf? baseBtf = null, long sourceOffset = 0, int pointerSize = 0)
        {
            if (data is null) throw new ArgumentNullException(nameof(data));
            if (pointerSize != 0 && pointerSize != 4 && pointerSize != 8) throw new ArgumentOutOfRangeException(nameof(pointerSize), pointerSize, "pointer size must be 4 or 8");
            return new Parser(data, sourceName ?? "<memory>", baseBtf, sourceOffset, pointerSize).Run();
        }

#if NET
        /// <summary>Parses raw BTF straight from an open file of <paramref name="length"/> bytes, reading while parsing.</summary>
        internal static Btf ParseFile(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length, string path, Btf? baseBtf)
            => new Parser(file, BufferPool<byte>.Rent((int)length, (int)(length / 8), clear: false), (int)length, path, baseBtf).Run();

#endif
        /// <summary>
        /// Reads BTF from a file in any supported container: raw BTF, an ELF file's <c>.BTF</c> section
        /// (vmlinux, kernel modules, eBPF objects; 32/64-bit, either byte order), gzip or xz compression,
        /// or a BTFHub <c>.btf.tar.xz</c> archive.
        /// </summary>
        /// <param name="path">The file.</param>
        /// <param name="baseBtf">The base for split BTF (a kernel module's vmlinux).</param>
        /// <exception cref="BtfException">The file cannot be read as BTF.</exception>
        public static Btf Load(string path, Btf? baseBtf = null) => BtfContainer.Load(path, baseBtf);

        /// <summary>Gets the type with the given id (0 is void).</summary>
        /// <exception cref="BtfException">The id is out of range.</exception>
        public BtfType this[int id]
        {
            get
            {
                if (id >= FirstTypeId && id < TypeCount) { CheckAlive(); return new BtfType(this, id, _offsets[id - FirstTypeId]); }
                if (id == 0) return new BtfType(this, 0);
                if (Base != null && id > 0 && id < FirstTypeId) return Base[id];
                throw new BtfException($"type id {id} is out of range (the BTF has {TypeCount} ids)", SourceName);
            }
        }

        /// <summary>True if <paramref name="id"/> names a type of this BTF or its base (0, void, included).</summary>
        public bool IsValidId(int id) => id >= 0 && id < TypeCount;

        /// <summary>All types defined by this blob (not its base), in id order.</summary>
        public IEnumerable<BtfType> Types
        {
            get
            {
                for (int id = FirstTypeId; id < TypeCount; id++) yield return new BtfType(this, id);
            }
        }

        // ---- raw access (all little-endian after normalisation) -------------------------------------

        internal int OffsetOf(int id) { CheckAlive(); return _offsets[id - FirstTypeId]; }

        /// <summary>Word <paramref name="wordIndex"/> of the record at <paramref name="offset"/>.</summary>
        internal uint WordAt(int offset, int wordIndex)
        {
            CheckAlive();
            return System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref _data[offset + wordIndex * 4]);
        }

        internal uint Word(int id, int wordIndex)
        {
            CheckAlive();
            return System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref _data[_offsets[id - FirstTypeId] + wordIndex * 4]);
        }

        private void CheckAlive()
        {
            if (_disposed) ThrowDisposed();
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private void ThrowDisposed() => throw new ObjectDisposedException(nameof(Btf), $"the BTF read from '{SourceName}' was disposed; its types can no longer be read");

        /// <summary>
        /// Hands the parsed data's large buffers back for reuse by the next <see cref="Load"/> (as libbpf's <c>btf__free</c>
        /// does); optional, since undisposed objects are simply collected. Afterwards this object, every <see cref="BtfType"/>
        /// from it and every split BTF over it throw <see cref="ObjectDisposedException"/> when read. Not to be called while
        /// another thread is still reading.
        /// </summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (_ownsData) BufferPool<byte>.Return(_data);
            BufferPool<int>.Return(_offsets);
            BufferPool<byte>.Return(_kinds);
            _index?.Release();
            Interlocked.Exchange(ref _essentialIndex, null)?.Release();
            Interlocked.Exchange(ref _symbolIndex, null)?.Release();
        }

        /// <summary>Owner of <paramref name="id"/>: this blob or one of its bases.</summary>
        internal Btf OwnerOf(int id)
        {
            var b = this;
            while (id < b.FirstTypeId && b.Base != null) b = b.Base;
            return b;
        }

        internal ReadOnlySpan<byte> StringBytes(uint offset)
        {
            CheckAlive();
#if NET
            if (Base is null)
            {
                // The section ends with a NUL (checked at parse), so the search always stops inside it.
                if (offset >= (uint)_strLen) return default;
                ref byte s = ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_data), (nint)(uint)_strStart + (nint)offset);
                int n;
                if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && _data.Length - (long)_strStart - offset >= 32
                    && System.Runtime.Intrinsics.Vector256.ExtractMostSignificantBits(System.Runtime.Intrinsics.Vector256.Equals(System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref s), System.Runtime.Intrinsics.Vector256<byte>.Zero)) is uint m && m != 0)
                    n = System.Numerics.BitOperations.TrailingZeroCount(m);
                else n = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref s, _strLen - (int)offset).IndexOf((byte)0);
                return System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref s, n);
            }
#endif
            int baseEnd = Base?.StringsEnd ?? 0;
            if (offset < (uint)baseEnd) return Base!.StringBytes(offset);
            int local = (int)(offset - (uint)baseEnd);
            if (local >= _strLen) return default;
            var span = new ReadOnlySpan<byte>(_data, _strStart + local, _strLen - local);
            int nul = span.IndexOf((byte)0);
            return nul < 0 ? span : span.Slice(0, nul);
        }

        /// <summary>Length in bytes of the string at <paramref name="offset"/> (no decoding).</summary>
        internal int StringLengthOf(uint offset) => StringBytes(offset).Length;

        /// <summary>Returns the string at <paramref name="offset"/> in the string section ("" for 0).</summary>
        public string GetString(uint offset)
        {
            var bytes = StringBytes(offset);
            return bytes.Length == 0 ? string.Empty : Utf8(bytes);
        }

        internal static string Utf8(ReadOnlySpan<byte> bytes)
        {
#if NETSTANDARD2_0
            return Encoding.UTF8.GetString(bytes.ToArray());
#else
            return Encoding.UTF8.GetString(bytes);
#endif
        }

        // ---- lookup --------------------------------------------------------------------------------

        private NameIndex Index => _index!;

        internal BtfKind KindOf(int id) { CheckAlive(); return (BtfKind)_kinds[id - FirstTypeId]; }

        private NameIndex EssentialIndex
        {
            get
            {
                var idx = Volatile.Read(ref _essentialIndex);
                if (idx != null) return idx;
                Interlocked.CompareExchange(ref _essentialIndex, NameIndex.BuildEssential(this), null);
                return _essentialIndex!;
            }
        }

        /// <summary>
        /// Kinds whose names are indexed on first lookup rather than while parsing: functions, variables, sections and
        /// declaration tags are four fifths of vmlinux's names, and generating types or matching layouts never looks them up.
        /// </summary>
        internal static bool IsSymbolKind(BtfKind k) => k == BtfKind.Func || k == BtfKind.Var || k == BtfKind.DataSec || k == BtfKind.DeclTag;

        private NameIndex SymbolIndex
        {
            get
            {
                var idx = Volatile.Read(ref _symbolIndex);
                if (idx != null) return idx;
                Interlocked.CompareExchange(ref _symbolIndex, NameIndex.BuildSymbols(this), null);
                return _symbolIndex!;
            }
        }

        /// <summary>Builds the essential-name (CO-RE flavor) index now rather than on first candidate lookup.</summary>
        internal void BuildCoreIndex() => _ = EssentialIndex;

        /// <summary>Every type named exactly <paramref name="name"/> (in this blob and its base), optionally of one kind, in id order.</summary>
        public List<BtfType> FindTypes(string name, BtfKind? kind = null)
        {
            var result = new List<BtfType>();
            if (string.IsNullOrEmpty(name)) return result;
            var utf8 = Encoding.UTF8.GetBytes(name);
            CollectByName(utf8, kind, essential: false, result);
            if (result.Count > 1) result.Sort((a, b) => a.Id.CompareTo(b.Id));
            return result;
        }

        /// <summary>Every type named <paramref name="name"/> except functions, variables, sections and decl tags, in id order.</summary>
        internal List<BtfType> FindDataTypes(string name)
        {
            var result = new List<BtfType>();
            if (string.IsNullOrEmpty(name)) return result;
            CollectByName(Encoding.UTF8.GetBytes(name), null, essential: false, result, symbols: false);
            result.Sort((a, b) => a.Id.CompareTo(b.Id));
            return result;
        }

        /// <summary>
        /// Every type whose essential name (libbpf's <c>___flavor</c> rule) equals that of
        /// <paramref name="name"/>, of a kind compatible with <paramref name="kind"/> for CO-RE (ENUM and ENUM64 match each other).
        /// </summary>
        internal List<BtfType> FindCoreCandidates(string name, BtfKind kind)
        {
            var result = new List<BtfType>();
            var ess = Encoding.UTF8.GetBytes(name);
            var essLen = FlavorRules.EssentialLength(ess);
            var key = ess.AsSpan(0, essLen).ToArray();
            var tmp = new List<BtfType>();
            CollectByName(key, null, essential: true, tmp);
            foreach (var t in tmp)
            {
                var k = t.Kind;
                bool compat = k == kind || ((k == BtfKind.Enum || k == BtfKind.Enum64) && (kind == BtfKind.Enum || kind == BtfKind.Enum64));
                if (compat) result.Add(t);
            }
            result.Sort((a, b) => a.Id.CompareTo(b.Id));
            return result;
        }

        private void CollectByName(byte[] utf8, BtfKind? kind, bool essential, List<BtfType> into, bool symbols = true)
        {
            Base?.CollectByName(utf8, kind, essential, into, symbols);
            if (essential) { EssentialIndex.Collect(this, utf8, kind, into); return; }
            bool symbolKind = kind != null && IsSymbolKind(kind.Value);
            if (!symbolKind) Index.Collect(this, utf8, kind, into);
            if (symbols && (kind == null || symbolKind)) SymbolIndex.Collect(this, utf8, kind, into);
        }

        /// <summary>The single type named <paramref name="name"/> of kind <paramref name="kind"/>, or null; the lowest id if several.</summary>
        public BtfType? FindType(string name, BtfKind kind)
        {
            var all = FindTypes(name, kind);
            return all.Count == 0 ? (BtfType?)null : all[0];
        }

        /// <summary>All distinct type names (for suggestions), in this blob and its base.</summary>
        public IEnumerable<BtfType> NamedTypes()
        {
            CheckAlive();
            if (Base != null) foreach (var t in Base.NamedTypes()) yield return t;
            for (int id = FirstTypeId; id < TypeCount; id++)
                if (BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_offsets[id - FirstTypeId], 4)) != 0)
                    yield return new BtfType(this, id);
        }
    }
}
