using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    /// When the kernel has several same-named types (5.10's two <c>struct mm_slot</c>), each field is decided, as libbpf
    /// decides each access path, against the candidates that have it: a field only one of them has resolves there
    /// (<c>mm_slot.hash</c> in khugepaged's); a field several have at different places is
    /// <see cref="CoreFieldStatus.Ambiguous"/>, and checking it (<see cref="Exists(int)"/>, a view's <c>Has_x</c>) or
    /// using it throws a <see cref="CoreException"/> naming the kernel and those candidates; a field they put at one
    /// offset with another size, signedness or bitfield shifts exists and keeps its offset (libbpf relocates those), only
    /// its value is refused (<see cref="CoreFieldResolution.AmbiguousKinds"/>). Resolving never throws for that.
    /// </remarks>
    /// <remarks>
    /// <see cref="TargetKernel.Resolve{T}"/> returns the typed <see cref="CoreTypeResolution{T}"/>, which a generated view
    /// takes without checking at run time that the resolution is its type's.
    /// </remarks>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    partial class CoreTypeResolution
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
            CoreFieldResolution[] fields, uint size, bool bigEndian, bool verified, string? unverifiedReason, string? sizeAmbiguity = null)
        {
            SizeAmbiguity = sizeAmbiguity;
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
#if BTFBINDINGS_GENERATOR // the compiler-side copy makes no views, so the table need not be pinned
            _table = table.ToArray();
#else
            _table = GC.AllocateUninitializedArray<int>(table.Count, pinned: true);
            table.CopyTo(_table);
            unsafe { _entries = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_table)) + TableBase; } // past the end for a type without fields: never read there
#endif
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
            SizeAmbiguity = other.SizeAmbiguity;
        }

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

        /// <summary>The candidate with most of the fields (the size comes from it), or null. Each field's offset comes from the candidates that have it.</summary>
        public BtfType? Target => _targets.Length > 0 ? _targets[0] : (BtfType?)null;

        /// <summary>Every same-named target type on which at least one field matched (all candidates when none did); each field is decided among those that have it.</summary>
        public IReadOnlyList<BtfType> Targets => _targets;

        /// <summary>Every candidate considered, described like <c>[3107] STRUCT 'task_struct' size 3264 (vmlinux)</c>.</summary>
        public IReadOnlyList<string> Candidates { get; }

        /// <summary>
        /// The target's size of the type (the build-time size in non-portable mode; 0 when the type is missing). With several
        /// candidates of different sizes this is <see cref="Target"/>'s (the one with most of the fields), and
        /// <see cref="IsSizeAmbiguous"/> says libbpf would refuse <c>bpf_core_type_size</c>.
        /// </summary>
        public uint Size { get; }

        /// <summary>True when the same-named candidates differ in size (libbpf refuses <c>bpf_core_type_size</c> there: relocation decision ambiguity).</summary>
        public bool IsSizeAmbiguous => SizeAmbiguity != null;

        /// <summary>Why the type's size is ambiguous (naming the kernel and the candidates), or null.</summary>
        internal string? SizeAmbiguity { get; }

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
        /// <exception cref="CoreException">The candidates that have the field put it at different offsets (<see cref="CoreFieldResolution.AmbiguousKinds"/> is All): libbpf refuses its EXISTS relocation too.</exception>
        public bool Exists(int index)
        {
            var f = _fields[index];
            if (f.Exists) return true;
            if (f.IsAmbiguous) throw FieldError(f, null);
            return false;
        }

        /// <summary><c>FIELD_EXISTS</c> for the field named <paramref name="name"/> (false for names the generated type does not have).</summary>
        /// <exception cref="CoreException">The field is ambiguous (see <see cref="Exists(int)"/>).</exception>
        public bool Exists(string name)
        {
            int i = TryIndexOf(name);
            return i >= 0 && Exists(i);
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
        private static void ThrowNotFor(CoreTypeResolution? resolution, BtfTypeLayout layout)
        {
            ArgumentNullException.ThrowIfNull(resolution);
            throw new ArgumentException($"this resolution is for {resolution.TypeLabel} ({resolution.Local.SourceFile}), not for {Label(layout)} ({layout.SourceFile})", nameof(resolution));
        }

        internal string TypeLabel => Label(Local);

        internal static string Label(BtfTypeLayout l)
            => l.NamedByTypedef ? l.BtfName : (l.Kind == BtfKind.Union ? "union " : "struct ") + (l.BtfName.Length == 0 ? "(anonymous)" : l.BtfName);

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
            if (!f.Exists || f.IsAmbiguous) throw FieldError(f, null);
            if (i < 0 || (!f.IsFlexibleArray && (uint)i >= f.ArrayLength))
                throw new ArgumentOutOfRangeException(nameof(i), i, $"{TypeLabel}.{f.Name}[{i}]: the target array has {f.ArrayLength} elements");
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
            if (!f.Exists || element && f.IsAmbiguous) throw FieldError(f, null); // a member of another size is resolved field by field, an element of another size cannot be placed
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
                if (f.Exists && f.IsBitfield && !f.IsAmbiguous) // an ambiguous one stays refused
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
