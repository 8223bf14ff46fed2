using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using BtfBindings.Layout;

namespace BtfBindings
{
    /// <summary>
    /// A generated type resolved against a target kernel: for every field, where the target has it (or that it
    /// has not), computed once with libbpf's CO-RE rules. Generated relocatable views read and write through
    /// this; code without generated types can use <see cref="ReadInt64(string, ReadOnlySpan{byte})"/> and friends.
    /// Immutable and thread-safe.
    /// </summary>
    /// <remarks>
    /// <see cref="TargetKernel.Resolve{T}"/> returns the typed <see cref="CoreTypeResolution{T}"/>, which a generated view
    /// takes without checking at run time that the resolution is its type's.
    /// </remarks>
    public class CoreTypeResolution
    {
        /// <summary>
        /// Per field: the byte offset at which the view may read the field directly as its generated type, or -1
        /// when it must take the general path (missing, bitfield, size change, other byte order, struct/array field).
        /// Read by <see cref="CoreView"/>.
        /// </summary>
        internal readonly int[] FastOffsets;

        // The view table (see CoreView). One block per resolution: [member offset, -1 for the root][size][id][entry per field]
        // [member block per field, relative to this block]; a view holds a ref to the first entry. The table holds this
        // resolution's block and, placed after it, a block for every struct member's resolution (recursively; ids index
        // _closure). An entry is the end (offset + size, from the start of the outermost object) of a field the view reads
        // directly as its generated type, else -1 (as unsigned, beyond any data: the general path, which converts,
        // bounds-checks and throws). A view compares the end with its data length, so a direct read never leaves the data.
        internal const int TableBase = 3;
        private readonly int[] _table;
        // The table is on the pinned object heap, so views hold a plain pointer to its first block's entries (no null
        // check or offset to apply when a view is made); a view also holds this resolution, which keeps the table alive.
        private readonly unsafe int* _entries;
        private readonly CoreTypeResolution[] _closure;
        private readonly ReadSlot[] _slots;

        private readonly CoreFieldResolution[] _fields;
        private readonly BtfType[] _targets;
        private readonly CoreTypeResolution?[] _nested;
        private readonly CoreTypeResolution?[] _members;
        private readonly uint[] _sizes;
        private readonly TargetKernel? _kernel;
        private readonly bool _bigEndian;
        private readonly bool _swap;
        // Where this object starts in the root object (the outermost one a view reads), in bits modulo 64: libbpf aligns
        // bitfield load windows in the root. 0 for roots; set for a member's resolution when its owner resolves it (Rebase).
        private uint _rootBase;
        private Dictionary<string, int>? _byName;

        internal CoreTypeResolution(BtfTypeLayout local, TargetKernel? kernel, string kernelName, BtfType[] targets, IReadOnlyList<string> candidates,
            CoreFieldResolution[] fields, uint size, bool bigEndian, bool verified, string? unverifiedReason)
        {
            Local = local;
            _kernel = kernel;
            KernelName = kernelName;
            _targets = targets;
            Candidates = candidates;
            _fields = fields;
            Size = size;
            _bigEndian = bigEndian;
            _swap = bigEndian == BitConverter.IsLittleEndian;
            IsVerified = verified;
            UnverifiedReason = unverifiedReason;
            _nested = new CoreTypeResolution?[fields.Length];
            _members = new CoreTypeResolution?[fields.Length];
            FastOffsets = new int[fields.Length];
            _sizes = new uint[fields.Length];
            _slots = new ReadSlot[fields.Length];
            for (int i = 0; i < fields.Length; i++)
            {
                FastOffsets[i] = FastOffset(fields[i]);
                _sizes[i] = fields[i].Exists && !fields[i].IsBitfield ? fields[i].ByteSize : 0;
                _slots[i] = Slot(fields[i]);
            }
            ResolveMembers();
            var table = new List<int>();
            var closure = new List<CoreTypeResolution>();
            Place(this, table, closure, -1, 0);
            _table = GC.AllocateUninitializedArray<int>(table.Count, pinned: true);
            table.CopyTo(_table);
            unsafe { _entries = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_table)) + TableBase; } // past the end for a type without fields: never read there
            _closure = closure.ToArray();
        }

        /// <summary>The same resolution (shared tables), for <see cref="CoreTypeResolution{T}"/>.</summary>
        private protected CoreTypeResolution(CoreTypeResolution other)
        {
            FastOffsets = other.FastOffsets;
            _table = other._table;
            unsafe { _entries = other._entries; }
            _closure = other._closure;
            _slots = other._slots;
            _fields = other._fields;
            _targets = other._targets;
            _nested = other._nested;
            _members = other._members;
            _sizes = other._sizes;
            _kernel = other._kernel;
            _bigEndian = other._bigEndian;
            _swap = other._swap;
            _rootBase = other._rootBase;
            Local = other.Local;
            KernelName = other.KernelName;
            Candidates = other.Candidates;
            Size = other.Size;
            IsVerified = other.IsVerified;
            UnverifiedReason = other.UnverifiedReason;
        }

        private static bool IsScalar(BtfFieldKind k) => k == BtfFieldKind.Int || k == BtfFieldKind.Enum || k == BtfFieldKind.Float || k == BtfFieldKind.Pointer;

        /// <summary>
        /// Resolves every struct/union member whose generated type the layout names (<see cref="BtfFieldLayout.TypeLayout"/>)
        /// now, so views reach members without a lookup. A member that cannot be resolved (missing, ambiguous…) is left
        /// unresolved: <see cref="Nested(int, BtfTypeLayout)"/> throws its error when someone uses it, as before.
        /// </summary>
        private void ResolveMembers()
        {
            for (int i = 0; i < _fields.Length; i++)
            {
                var f = _fields[i];
                if (f.Local.TypeLayout is not BtfTypeLayout fl || !f.Exists || f.IsBitfield) continue;
                if (f.Local.Kind != BtfFieldKind.Struct && f.Local.Kind != BtfFieldKind.Union) continue;
                try { _members[i] = ResolveNested(i, fl, element: false); }
                catch (CoreException) { }
                catch (BtfException) { }
            }
        }

        /// <summary>
        /// Appends <paramref name="r"/>'s block and its members' blocks to a view table; returns the block's first entry.
        /// <paramref name="start"/>: where r's object starts in the outermost one; <paramref name="member"/>: the same, or -1 for the outermost.
        /// </summary>
        private static int Place(CoreTypeResolution r, List<int> table, List<CoreTypeResolution> closure, long member, long start)
        {
            int n = r._fields.Length;
            int at = table.Count + TableBase;
            table.Add((int)member);
            table.Add(member < 0 ? (int)Math.Min(r.Size, int.MaxValue) : 0);
            table.Add(closure.Count);
            closure.Add(r);
            for (int i = 0; i < 2 * n; i++) table.Add(-1);
            for (int i = 0; i < n; i++)
            {
                var f = r._fields[i];
                int o = r.FastOffsets[i];
                if (o < 0) continue;
                long at0 = start + o;
                if (IsScalar(f.Local.Kind))
                {
                    if (at0 + f.ByteSize <= int.MaxValue) table[at + i] = (int)(at0 + f.ByteSize);
                }
                else if ((f.Local.Kind == BtfFieldKind.Struct || f.Local.Kind == BtfFieldKind.Union) && r._members[i] is CoreTypeResolution q
                         && at0 + f.ByteSize <= int.MaxValue)
                {
                    int b = Place(q, table, closure, at0, at0);
                    table[b - 2] = (int)f.ByteSize; // the member's size in the target
                    table[at + n + i] = b - at;
                }
            }
            return at;
        }

        /// <summary>The view table (see <see cref="CoreView"/>).</summary>
        /// <summary>The first block's entries in the pinned table (see <see cref="CoreView"/>).</summary>
        internal unsafe int* Entries
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => _entries;
        }

        /// <summary>The resolution of the block with id <paramref name="id"/> in this resolution's fast table.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal CoreTypeResolution ClosureAt(int id) => _closure[id];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal ref readonly ReadSlot SlotAt(int index) => ref _slots[index];

        /// <summary>
        /// What <see cref="Read(int, ReadOnlySpan{byte})"/> does for a field, as numbers an inlined read
        /// can use: load <c>Size</c> bytes at <c>Offset</c> (byte k shifted by <c>FirstShift + k * ShiftStep</c>, the
        /// target's byte order), shift left then right, and fail when bits under <c>FitMask</c> are set. Size 0: Read throws.
        /// </summary>
        internal readonly struct ReadSlot
        {
            public readonly int Offset, Size, FirstShift, ShiftStep, LeftShift, RightShift;
            public readonly bool Signed;
            public readonly ulong FitMask;

            public ReadSlot(int offset, int size, bool bigEndian, int left, int right, bool signed, ulong fitMask)
            {
                Offset = offset; Size = size; LeftShift = left; RightShift = right; Signed = signed; FitMask = fitMask;
                FirstShift = bigEndian ? (size - 1) * 8 : 0;
                ShiftStep = bigEndian ? -8 : 8;
            }
        }

        private ReadSlot Slot(CoreFieldResolution f)
        {
            uint size = f.ByteSize;
            if (!f.IsReadable || size == 0 || size > 8 || f.ByteOffset > int.MaxValue) return default;
            var lf = f.Local;
            ulong fit = !lf.IsBitfield && !f.IsBitfield && lf.ByteSize < size && lf.ByteSize < 8 ? ulong.MaxValue << (int)(lf.ByteSize * 8) : 0;
            return new ReadSlot(f.WindowOffset, (int)size, _bigEndian, f.LeftShift, f.RightShift, f.IsSigned, fit);
        }

        private int FastOffset(CoreFieldResolution f)
        {
            var lf = f.Local;
            if (!f.Exists || !f.IsReadable) return -1;
            switch (lf.Kind)
            {
                case BtfFieldKind.Int: case BtfFieldKind.Enum: case BtfFieldKind.Float: case BtfFieldKind.Pointer:
                    if (lf.IsBitfield || f.IsBitfield || f.ByteSize != lf.ByteSize) return -1;
                    if (_swap && f.ByteSize > 1) return -1;
                    return (int)f.ByteOffset;
                case BtfFieldKind.Struct: case BtfFieldKind.Union: case BtfFieldKind.Array: case BtfFieldKind.FlexibleArray: case BtfFieldKind.Bytes:
                    return f.IsBitfield ? -1 : (int)f.ByteOffset;
                default:
                    return -1;
            }
        }

        /// <summary>The generated (build-time) layout.</summary>
        public BtfTypeLayout Local { get; }

        /// <summary>The target kernel, or null in non-portable mode.</summary>
        public TargetKernel? Kernel => _kernel;

        /// <summary>The target kernel as named in messages (release and BTF source).</summary>
        public string KernelName { get; }

        /// <summary>False in non-portable mode: no kernel BTF was found, the build-time offsets are used unverified.</summary>
        public bool IsVerified { get; }

        /// <summary>Why the layout could not be verified (non-portable mode), else null.</summary>
        public string? UnverifiedReason { get; }

        /// <summary>True when the target has the type (a candidate of the same essential name and kind, or the type a parent's member has).</summary>
        public bool TypeExists => _targets.Length > 0 || !IsVerified;

        /// <summary>The target type the offsets come from (the first of the agreeing candidates), or null.</summary>
        public BtfType? Target => _targets.Length > 0 ? _targets[0] : (BtfType?)null;

        /// <summary>Every target type that matched and agreed (same-named duplicates with identical layouts).</summary>
        public IReadOnlyList<BtfType> Targets => _targets;

        /// <summary>Every candidate considered, described like <c>[3107] STRUCT 'task_struct' size 3264 (vmlinux)</c>.</summary>
        public IReadOnlyList<string> Candidates { get; }

        /// <summary>The target's size of the type (the build-time size in non-portable mode; 0 when the type is missing).</summary>
        public uint Size { get; }

        /// <summary>True when the target kernel stores data big-endian (s390x); the view converts to host order.</summary>
        public bool TargetIsBigEndian => _bigEndian;

        /// <summary>Every field, in <see cref="BtfTypeLayout.Fields"/> order.</summary>
        public IReadOnlyList<CoreFieldResolution> Fields => _fields;

        /// <summary>The field named <paramref name="name"/>.</summary>
        /// <exception cref="KeyNotFoundException">The generated type has no such field.</exception>
        public CoreFieldResolution this[string name] => _fields[IndexOf(name)];

        /// <summary>Index of the field named <paramref name="name"/> in the generated layout, or -1.</summary>
        public int TryIndexOf(string name)
        {
            var map = Volatile.Read(ref _byName);
            if (map == null)
            {
                map = new Dictionary<string, int>(_fields.Length, StringComparer.Ordinal);
                for (int i = 0; i < _fields.Length; i++) map.TryAdd(_fields[i].Name, i);
                Volatile.Write(ref _byName, map);
            }
            return map.TryGetValue(name, out var idx) ? idx : -1;
        }

        private int IndexOf(string name)
        {
            int i = TryIndexOf(name);
            if (i < 0) throw new KeyNotFoundException($"the generated type {TypeLabel} has no field '{name}'");
            return i;
        }

        /// <summary><c>FIELD_EXISTS</c> for field <paramref name="index"/>.</summary>
        public bool Exists(int index) => _fields[index].Exists;

        /// <summary><c>FIELD_EXISTS</c> for the field named <paramref name="name"/> (false for names the generated type does not have).</summary>
        public bool Exists(string name)
        {
            int i = TryIndexOf(name);
            return i >= 0 && _fields[i].Exists;
        }

        /// <summary>Throws unless this resolution is for <paramref name="layout"/> (generated views call it so resolutions of other types cannot be mixed in).</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        public void EnsureFor(BtfTypeLayout layout) => EnsureFor(this, layout);

        /// <summary>Throws unless <paramref name="resolution"/> is non-null and for <paramref name="layout"/>.</summary>
        [EditorBrowsable(EditorBrowsableState.Never)]
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void EnsureFor(CoreTypeResolution resolution, BtfTypeLayout layout)
        {
            if (resolution is null || !ReferenceEquals(resolution.Local, layout)) ThrowNotFor(resolution, layout);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowNotFor(CoreTypeResolution? r, BtfTypeLayout layout)
        {
            if (r is null) throw new ArgumentNullException("resolution");
            throw new ArgumentException($"this resolution is for {r.TypeLabel} ({r.Local.SourceFile}), not for {Label(layout)} ({layout.SourceFile})", "resolution");
        }

        internal string TypeLabel => Label(Local);

        internal static string Label(BtfTypeLayout l)
            => l.NamedByTypedef ? l.BtfName : (l.Kind == BtfKind.Union ? "union " : "struct ") + (l.BtfName.Length == 0 ? "(anonymous)" : l.BtfName);

        // ---- reading and writing -----------------------------------------------------------------

        /// <summary>
        /// Reads field <paramref name="index"/> (an integer, enum, pointer, float bits or bitfield) from target bytes:
        /// loads it in the target's byte order and extends it to 64 bits by the target's signedness (bitfields with
        /// libbpf's shifts). Throws <see cref="CoreFieldException"/> when the field is missing, unreadable, outside
        /// <paramref name="data"/>, or (narrowed unsigned integers and pointers) too large for the generated type.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public ulong Read(int index, ReadOnlySpan<byte> data) => ReadAt(index, data, 0);

        /// <summary>
        /// <see cref="Read(int, ReadOnlySpan{byte})"/> with this object at <paramref name="origin"/> in <paramref name="data"/>
        /// (a member view passes the outer object's bytes, so a root-relative window that starts before the member can be loaded).
        /// </summary>
        internal ulong ReadAt(int index, ReadOnlySpan<byte> data, int origin)
        {
            var f = _fields[index];
            if (!f.IsReadable) throw FieldError(f, null);
            uint size = f.ByteSize;
            if (size == 0 || size > 8) throw FieldError(f, $"it is {size} bytes wide, not an integer the view reads this way");
            long start = (long)origin + f.WindowOffset;
            if (start < 0) throw BeforeObject(f);
            if (start + size > data.Length) throw Truncated(f, data.Length - origin);
            int off = (int)start;
            ulong v = Load(data.Slice(off, (int)size), _bigEndian);
            v <<= f.LeftShift;
            v = f.IsSigned ? (ulong)((long)v >> f.RightShift) : v >> f.RightShift;
            var lf = f.Local;
            if (!lf.IsBitfield && !f.IsBitfield && lf.ByteSize < size && lf.ByteSize < 8 && (v >> (int)(lf.ByteSize * 8)) != 0)
                throw FieldError(f, $"the target value 0x{v:x} does not fit the generated {lf.ByteSize}-byte {lf.CType}");
            return v;
        }

        /// <summary>
        /// Writes field <paramref name="index"/>: the low bits of <paramref name="value"/> at the target's position, size and
        /// byte order; bitfields keep their neighbours. Throws like <see cref="Read"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Write(int index, Span<byte> data, ulong value) => WriteAt(index, data, 0, value);

        /// <summary><see cref="Write(int, Span{byte}, ulong)"/> with this object at <paramref name="origin"/> in <paramref name="data"/> (see <see cref="ReadAt"/>).</summary>
        internal void WriteAt(int index, Span<byte> data, int origin, ulong value)
        {
            var f = _fields[index];
            if (!f.IsReadable) throw FieldError(f, null);
            uint size = f.ByteSize;
            if (size == 0 || size > 8) throw FieldError(f, $"it is {size} bytes wide, not an integer the view writes this way");
            long start = (long)origin + f.WindowOffset;
            if (start < 0) throw BeforeObject(f);
            if (start + size > data.Length) throw Truncated(f, data.Length - origin);
            var span = data.Slice((int)start, (int)size);
            if (!f.IsBitfield)
            {
                var lf = f.Local;
                if (!lf.IsBitfield && size < 8 && lf.ByteSize > size)
                {
                    bool fits = lf.IsSigned ? ((long)value >> (int)(size * 8 - 1)) is 0 or -1 : (value >> (int)(size * 8)) == 0;
                    if (!fits) throw FieldError(f, $"the value 0x{value:x} does not fit the target's {size}-byte field");
                }
                Store(span, _bigEndian, value);
                return;
            }
            int bits = (int)f.BitSize;
            int inWindow = (int)(f.BitOffset - (long)f.WindowOffset * 8);
            int shift = _bigEndian ? (int)size * 8 - inWindow - bits : inWindow;
            ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
            ulong old = Load(span, _bigEndian);
            Store(span, _bigEndian, (old & ~(mask << shift)) | ((value & mask) << shift));
        }

        /// <summary>Reads a 16-byte integer field (<c>__int128</c>); its size may not change between kernels.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public UInt128 Read128(int index, ReadOnlySpan<byte> data)
        {
            var f = _fields[index];
            if (!f.IsReadable) throw FieldError(f, null);
            if (f.ByteSize != 16 || f.IsBitfield) throw FieldError(f, $"the target field is {f.ByteSize} bytes, not 16");
            if ((ulong)f.ByteOffset + 16 > (ulong)data.Length) throw Truncated(f, data.Length);
            var s = data.Slice((int)f.ByteOffset, 16);
            return _bigEndian ? BinaryPrimitives.ReadUInt128BigEndian(s) : BinaryPrimitives.ReadUInt128LittleEndian(s);
        }

        /// <summary>Writes a 16-byte integer field.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Write128(int index, Span<byte> data, UInt128 value)
        {
            var f = _fields[index];
            if (!f.IsReadable) throw FieldError(f, null);
            if (f.ByteSize != 16 || f.IsBitfield) throw FieldError(f, $"the target field is {f.ByteSize} bytes, not 16");
            if ((ulong)f.ByteOffset + 16 > (ulong)data.Length) throw Truncated(f, data.Length);
            var s = data.Slice((int)f.ByteOffset, 16);
            if (_bigEndian) BinaryPrimitives.WriteUInt128BigEndian(s, value); else BinaryPrimitives.WriteUInt128LittleEndian(s, value);
        }

        /// <summary>
        /// The target bytes of a struct, union, array or raw field: from its offset for the target's size, cut short
        /// where <paramref name="data"/> ends (reads beyond then throw). Throws when the field is missing.
        /// </summary>
        public Span<byte> FieldBytes(int index, Span<byte> data)
        {
            var f = _fields[index];
            if (!f.Exists) throw FieldError(f, null);
            if (f.IsBitfield) throw FieldError(f, "it is a bitfield in the target; read it with Read");
            if (f.ByteOffset > (uint)data.Length) throw Truncated(f, data.Length);
            int len = (int)Math.Min(f.ByteSize, (uint)data.Length - f.ByteOffset);
            return data.Slice((int)f.ByteOffset, len);
        }

        /// <summary>Read-only <see cref="FieldBytes(int, Span{byte})"/>.</summary>
        public ReadOnlySpan<byte> FieldBytes(int index, ReadOnlySpan<byte> data)
            => FieldBytes(index, MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(data), data.Length));

        /// <summary>
        /// An array field as elements of <typeparamref name="T"/> (the generated element type), the target's length.
        /// Throws when missing, when the element size changed, when the target's byte order differs from the host's
        /// (multi-byte elements), or when the array does not fit in <paramref name="data"/>.
        /// </summary>
        public Span<T> ArraySpan<T>(int index, Span<byte> data) where T : unmanaged
        {
            var f = _fields[index];
            if (!f.Exists) throw FieldError(f, null);
            int es = Unsafe.SizeOf<T>();
            CheckElements(f, es);
            if ((ulong)f.ByteOffset + f.ByteSize > (ulong)data.Length) throw Truncated(f, data.Length);
            return MemoryMarshal.Cast<byte, T>(data.Slice((int)f.ByteOffset, (int)(f.ByteSize / (uint)es * (uint)es)));
        }

        /// <summary>A flexible array (or any array) field as <paramref name="count"/> elements from its target offset.</summary>
        public Span<T> FlexibleSpan<T>(int index, Span<byte> data, int count) where T : unmanaged
        {
            var f = _fields[index];
            if (!f.Exists) throw FieldError(f, null);
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
            int es = Unsafe.SizeOf<T>();
            CheckElements(f, es);
            ulong bytes = (ulong)count * (uint)es;
            if (f.ByteOffset + bytes > (ulong)data.Length) throw Truncated(f, data.Length);
            return MemoryMarshal.Cast<byte, T>(data.Slice((int)f.ByteOffset, (int)bytes));
        }

        private void CheckElements(CoreFieldResolution f, int es)
        {
            if (!f.IsReadable) throw FieldError(f, null);
            if (f.IsBitfield) throw FieldError(f, "it is a bitfield in the target");
            if (f.InnerElementSize != 0 && f.InnerElementSize != es)
                throw FieldError(f, $"its elements are {f.InnerElementSize} bytes in the target, {es} in the generated type");
            if (_swap && es > 1)
                throw FieldError(f, "the target stores multi-byte array elements in the other byte order; read FieldBytes and convert");
        }

        /// <summary>The resolution of a struct/union field's own type, against the type the target's member has (computed once, then cached).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public CoreTypeResolution Nested(int index, BtfTypeLayout fieldLayout)
        {
            var m = _members[index];
            if (m != null && ReferenceEquals(m.Local, fieldLayout)) return m;
            var n = Volatile.Read(ref _nested[index]);
            if (n != null && ReferenceEquals(n.Local, fieldLayout)) return n;
            return NestedSlow(index, fieldLayout);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private CoreTypeResolution NestedSlow(int index, BtfTypeLayout fieldLayout)
        {
            var n = ResolveNested(index, fieldLayout, element: false);
            return Interlocked.CompareExchange(ref _nested[index], n, null) ?? n;
        }

        /// <summary>
        /// The resolution of an array-of-struct field's element type (one-dimensional arrays), placed where element 0 is
        /// (libbpf's root-aligned bitfield windows; an element view takes the resolution for its own offset).
        /// </summary>
        public CoreTypeResolution Element(int index, BtfTypeLayout elementLayout)
        {
            var n = Volatile.Read(ref _nested[index]);
            if (n != null && ReferenceEquals(n.Local, elementLayout)) return n;
            n = ResolveNested(index, elementLayout, element: true);
            return Interlocked.CompareExchange(ref _nested[index], n, null) ?? n;
        }

        /// <summary>
        /// The resolution of element <paramref name="i"/> of an array-of-struct field: <see cref="Element(int, BtfTypeLayout)"/>
        /// unless the elements' size makes element <paramref name="i"/> start at another offset modulo 8 in the root object,
        /// where libbpf's root-aligned bitfield windows differ (then one resolution per such offset, cached).
        /// </summary>
        internal CoreTypeResolution ElementAt(int index, int i, BtfTypeLayout elementLayout)
        {
            var f = _fields[index];
            uint step = f.ArrayElementSize % 8;
            uint shift = (uint)((ulong)(uint)i * step % 8);
            if (shift == 0 || !f.Exists) return Element(index, elementLayout);
            var cache = Volatile.Read(ref _elementsByBase);
            if (cache == null)
            {
                Interlocked.CompareExchange(ref _elementsByBase, new System.Collections.Concurrent.ConcurrentDictionary<(int, uint), CoreTypeResolution>(), null);
                cache = _elementsByBase!;
            }
            if (cache.TryGetValue((index, shift), out var n) && ReferenceEquals(n.Local, elementLayout)) return n;
            n = ResolveNested(index, elementLayout, element: true);
            n.Rebase(_rootBase + f.ByteOffset * 8 + shift * 8);
            cache[(index, shift)] = n;
            return n;
        }

        private System.Collections.Concurrent.ConcurrentDictionary<(int, uint), CoreTypeResolution>? _elementsByBase;

        /// <summary>Element <paramref name="i"/> of an array-of-struct field: its target bytes (cut short where the data ends).</summary>
        public Span<byte> ElementBytes(int index, int i, Span<byte> data)
        {
            var f = _fields[index];
            if (!f.Exists) throw FieldError(f, null);
            if (i < 0 || (!f.IsFlexibleArray && (uint)i >= f.ArrayLength))
                throw new IndexOutOfRangeException($"{TypeLabel}.{f.Name}[{i}]: the target array has {f.ArrayLength} elements");
            ulong start = f.ByteOffset + (ulong)(uint)i * f.ArrayElementSize;
            if (start > (ulong)data.Length) throw Truncated(f, data.Length);
            int len = (int)Math.Min(f.ArrayElementSize, (ulong)data.Length - start);
            return data.Slice((int)start, len);
        }

        private CoreTypeResolution ResolveNested(int index, BtfTypeLayout local, bool element)
        {
            var f = _fields[index];
            if (!IsVerified)
            {
                var u = CoreTypeResolution.Unverified(local, KernelName, UnverifiedReason ?? "");
                u.Rebase(_rootBase + f.ByteOffset * 8);
                return u;
            }
            if (!f.Exists) throw FieldError(f, null);
            if (element && f.ArrayElementSize != f.InnerElementSize)
                throw FieldError(f, "only one-dimensional arrays of structs have element views");
            // Every candidate that has the field contributes its member type: they must agree too, field by field
            // (libbpf compares whole access paths, so task->se.vruntime is checked in every candidate).
            var targets = new List<BtfType>();
            foreach (var fr in f.Agreeing ?? new[] { f })
            {
                var owner = fr.TargetType!.Value;
                var tt = element ? owner.Btf[fr.InnerElementTypeId] : owner;
                if (!tt.IsComposite) throw FieldError(f, $"its target type {CoreResolver.Describe(tt)} is not a struct or union");
                if (!targets.Contains(tt)) targets.Add(tt);
            }
            var n = _kernel!.ResolveAgainstTargets(local, targets, $"{TypeLabel}.{f.Name}{(element ? "[]" : "")}");
            n.Rebase(_rootBase + f.ByteOffset * 8);
            return n;
        }

        /// <summary>
        /// Places this freshly made (unpublished) resolution of a member at <paramref name="rootBaseBits"/> in the root
        /// object: libbpf computes bitfield windows from the offset accumulated from the root (<c>spec-&gt;bit_offset</c>), so
        /// the windows of this type's bitfields, and of its members' (recursively), are recomputed for that base. Only the
        /// base modulo 64 matters; windows, not offsets, change, so the view table (which never holds bitfields) stays.
        /// </summary>
        private void Rebase(uint rootBaseBits)
        {
            rootBaseBits %= 64;
            if (rootBaseBits == _rootBase) return;
            _rootBase = rootBaseBits;
            for (int i = 0; i < _fields.Length; i++)
            {
                var f = _fields[i];
                if (f.Exists && f.IsBitfield)
                {
                    var lf = f.Local;
                    string? problem = CoreResolver.ApplyWindow(f, rootBaseBits, _bigEndian);
                    // A bitfield's readability depends only on its window (CoreResolver), except for raw-byte fields.
                    if (lf.Kind != BtfFieldKind.Bytes && lf.Kind != BtfFieldKind.Struct && lf.Kind != BtfFieldKind.Union
                        && lf.Kind != BtfFieldKind.Array && lf.Kind != BtfFieldKind.FlexibleArray)
                    {
                        f.Problem = problem;
                        f.IsReadable = problem == null;
                        f.Status = problem != null ? CoreFieldStatus.Unreadable : CoreResolver.StatusOf(lf, f);
                    }
                    _slots[i] = Slot(f);
                }
                if (_members[i] is CoreTypeResolution m && f.Exists) m.Rebase(rootBaseBits + f.ByteOffset * 8);
            }
        }

        // ---- by-name helpers (metadata without generated code) ------------------------------------

        /// <summary>Reads an integer/enum/pointer/bitfield field by name, sign-extended when the target's field is signed.</summary>
        public long ReadInt64(string field, ReadOnlySpan<byte> data) => (long)Read(IndexOf(field), data);

        /// <summary>Reads an integer/enum/pointer/bitfield field by name as its raw (zero- or sign-extended) bits.</summary>
        public ulong ReadUInt64(string field, ReadOnlySpan<byte> data) => Read(IndexOf(field), data);

        /// <summary>Reads a <c>char[]</c> field by name as text up to the first NUL (UTF-8, invalid bytes replaced).</summary>
        public string ReadString(string field, ReadOnlySpan<byte> data)
        {
            var bytes = FieldBytes(IndexOf(field), data);
            int nul = bytes.IndexOf((byte)0);
            return Encoding.UTF8.GetString(nul < 0 ? bytes : bytes.Slice(0, nul));
        }

        /// <summary>The target bytes of a field by name (see <see cref="FieldBytes(int, Span{byte})"/>).</summary>
        public ReadOnlySpan<byte> FieldBytes(string field, ReadOnlySpan<byte> data) => FieldBytes(IndexOf(field), data);

        /// <summary>The resolution of a struct/union field's type by name, given that type's generated layout.</summary>
        public CoreTypeResolution Nested(string field, BtfTypeLayout fieldLayout) => Nested(IndexOf(field), fieldLayout);

        // ---- byte order ---------------------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static ulong Load(ReadOnlySpan<byte> s, bool bigEndian)
        {
            switch (s.Length)
            {
                case 1: return s[0];
                case 2: return bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
                case 4: return bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
                case 8: return bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);
            }
            ulong v = 0;
            if (bigEndian) for (int i = 0; i < s.Length; i++) v = (v << 8) | s[i];
            else for (int i = s.Length - 1; i >= 0; i--) v = (v << 8) | s[i];
            return v;
        }

        internal static void Store(Span<byte> s, bool bigEndian, ulong v)
        {
            switch (s.Length)
            {
                case 1: s[0] = (byte)v; return;
                case 2: if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)v); return;
                case 4: if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(s, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)v); return;
                case 8: if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(s, v); else BinaryPrimitives.WriteUInt64LittleEndian(s, v); return;
            }
            for (int i = 0; i < s.Length; i++)
            {
                int sh = bigEndian ? 8 * (s.Length - 1 - i) : 8 * i;
                s[i] = (byte)(v >> sh);
            }
        }

        // ---- errors and report --------------------------------------------------------------------

        private string CandidateText => Candidates.Count == 0 ? "no candidates" : "candidates: " + string.Join("; ", Candidates);

        /// <summary>The exception for using field <paramref name="f"/> (missing or unreadable, or <paramref name="extra"/>).</summary>
        internal CoreFieldException FieldError(CoreFieldResolution f, string? extra)
        {
            string reason = extra ?? f.Problem ?? (f.Exists ? "unreadable" : "missing");
            string what = !f.Exists ? "does not exist in" : "cannot be used as generated on";
            string msg = $"{TypeLabel}.{f.Name} {what} kernel {KernelName}: {reason}. {CandidateText}. "
                       + $"Generated from {Local.SourceFile}; check Exists(\"{f.Name}\") (Has_{f.Name} on the view) before reading optional fields.";
            return new CoreFieldException(msg, Local.BtfName, f.Name, KernelName, Candidates, reason);
        }

        private CoreFieldException BeforeObject(CoreFieldResolution f)
            => FieldError(f, $"libbpf's load window for it is aligned in the outermost object and starts {-f.WindowOffset} bytes before this member; read it through the view of the object that contains the member");

        private CoreFieldException Truncated(CoreFieldResolution f, int length)
            => FieldError(f, $"the data holds {length} bytes, the field is at [{f.ByteOffset}, +{f.ByteSize}) of the {Size}-byte target type");

        /// <summary>
        /// A printable account of what differs from the build-time layout: the target type chosen, the candidates,
        /// counts per <see cref="CoreFieldStatus"/>, then every field that is not unchanged.
        /// </summary>
        public string Report(bool includeUnchanged = false)
        {
            var sb = new StringBuilder();
            sb.Append("CO-RE: ").Append(TypeLabel).Append(" generated from ").Append(Local.SourceFile).Append(" (").Append(Local.Size).Append(" bytes, ")
              .Append(_fields.Length).Append(" fields)\n");
            sb.Append("  kernel: ").Append(KernelName).Append('\n');
            if (!IsVerified)
            {
                sb.Append("  NOT VERIFIED (non-portable mode): ").Append(UnverifiedReason).Append("; the build-time offsets are used as they are\n");
                return sb.ToString();
            }
            if (Target is BtfType t)
            {
                sb.Append("  target: ").Append(_kernel?.Describe(t) ?? CoreResolver.Describe(t));
                if (_targets.Length > 1) sb.Append(" (+").Append(_targets.Length - 1).Append(" more matching candidate").Append(_targets.Length > 2 ? "s" : "").Append(" agreeing on every field they share)");
                sb.Append('\n');
            }
            else sb.Append("  target: the kernel has no such type\n");
            sb.Append("  ").Append(CandidateText).Append('\n');
            var counts = new int[5];
            foreach (var f in _fields) counts[(int)f.Status]++;
            sb.Append("  fields: ").Append(counts[0]).Append(" unchanged, ").Append(counts[1]).Append(" moved, ").Append(counts[2]).Append(" resized, ")
              .Append(counts[3]).Append(" unreadable, ").Append(counts[4]).Append(" missing\n");
            foreach (var f in _fields)
            {
                if (f.Status == CoreFieldStatus.Unchanged && !includeUnchanged) continue;
                var lf = f.Local;
                string local = lf.IsBitfield ? $"bit {lf.BitOffset}:{lf.BitSize}" : $"{lf.ByteOffset}+{lf.ByteSize}";
                string target = !f.Exists ? "-" : f.IsBitfield ? $"bit {f.BitOffset}:{f.BitSize}" : $"{f.ByteOffset}+{f.ByteSize}";
                sb.Append("  ").Append(f.Status.ToString().ToLowerInvariant().PadRight(10)).Append(' ').Append(lf.Name.PadRight(28)).Append(' ')
                  .Append(local.PadLeft(12)).Append(" -> ").Append(target.PadRight(12));
                if (f.Problem != null) sb.Append("  ").Append(f.Problem);
                sb.Append('\n');
            }
            return sb.ToString();
        }

        /// <inheritdoc />
        public override string ToString()
        {
            int missing = 0;
            foreach (var f in _fields) if (!f.Exists) missing++;
            return $"{TypeLabel} on {KernelName}: {(Target is BtfType t ? CoreResolver.Describe(t) + " size " + Size : IsVerified ? "no such type" : "unverified")}, {_fields.Length - missing}/{_fields.Length} fields";
        }

        // ---- non-portable mode ----------------------------------------------------------------------

        /// <summary>
        /// A resolution that uses the build-time layout as it is, for running where no kernel BTF can be found
        /// (non-portable mode). Bitfields are taken to be in host bit order.
        /// </summary>
        public static CoreTypeResolution Unverified(BtfTypeLayout local, string kernelName, string reason)
        {
            var fields = new CoreFieldResolution[local.Fields.Count];
            bool be = !BitConverter.IsLittleEndian;
            for (int i = 0; i < fields.Length; i++)
            {
                var lf = local.Fields[i];
                var r = new CoreFieldResolution(lf, i) { Exists = true, IsReadable = true, Status = CoreFieldStatus.Unchanged, BitOffset = lf.BitOffset, IsSigned = lf.IsSigned, TargetKind = lf.Kind };
                if (lf.IsBitfield || lf.BitOffset % 8 != 0)
                {
                    r.IsBitfield = true;
                    r.BitSize = lf.BitSize;
                    r.MemberTypeSize = lf.ByteSize;
                    r.Problem = CoreResolver.ApplyWindow(r, 0, be);
                    r.IsReadable = r.Problem == null;
                }
                else
                {
                    var w = BitfieldWindows.Plain(lf.ByteOffset, lf.ByteSize, be);
                    r.ByteOffset = w.ByteOffset; r.WindowOffset = (int)w.ByteOffset; r.ByteSize = w.ByteSize;
                    r.LeftShift = w.LeftShift; r.RightShift = w.RightShift;
                    r.BitSize = lf.ByteSize * 8;
                    if (lf.Kind == BtfFieldKind.Array || lf.Kind == BtfFieldKind.FlexibleArray)
                    {
                        r.ArrayLength = lf.ArrayLength;
                        r.IsFlexibleArray = lf.Kind == BtfFieldKind.FlexibleArray;
                        r.ArrayElementSize = lf.ArrayLength > 0 ? lf.ByteSize / lf.ArrayLength : 0;
                    }
                }
                fields[i] = r;
            }
            return new CoreTypeResolution(local, null, kernelName, Array.Empty<BtfType>(), Array.Empty<string>(), fields, local.Size, be, verified: false, reason);
        }
    }
}
