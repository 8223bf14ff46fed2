using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BtfBindings
{
    /// <summary>
    /// The state of a generated relocatable view (<c>task_struct.View</c>): the target bytes, and where each field is in
    /// them according to a <see cref="CoreTypeResolution"/>. Generated properties read a field as
    /// <c>v.Get&lt;T&gt;(i)</c>: one table load, a compare with the data length and one
    /// unaligned read when the field can be read as it is, else the general path (libbpf's load window and shifts, the
    /// target's byte order, sizes that changed, bounds checks, and the descriptive exception for missing fields).
    /// </summary>
    /// <remarks>
    /// <para>
    /// The view holds a ref to its type's block in the resolution's table. An entry is the end (offset + size) of a field
    /// that can be read directly, counted from the start of the data, else -1 (as unsigned, beyond any data), so
    /// <see cref="Get{T}"/>'s one compare is also the bounds check: a direct read can never leave the data. A struct
    /// member's block sits in the same table with its entries counted from the start of the outermost object, so a nested
    /// view (<c>task.se</c>) keeps the outer data and only moves to the member's block: <c>task.se.vruntime</c> is one
    /// more load.
    /// </para>
    /// <para>
    /// Nothing on the paths a generated getter inlines returns from a call: failures go to helpers that only throw, so the
    /// JIT keeps the caller's values in registers around them.
    /// </para>
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public readonly unsafe ref struct CoreView
    {
        private readonly ref byte _data;       // the outermost object's bytes
        private readonly int _length;
        private readonly int* _entries;        // into the resolution's pinned table (kept alive by _root); [-3] member offset in the data (-1: the view's type is the data's), [-2] size, [-1] id,
                                               // [i] end of field i or -1, [fieldCount + i] member i's block (relative) or -1
        private readonly CoreTypeResolution _root;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private CoreView(ref byte data, int length, int* entries, CoreTypeResolution root)
        {
            _data = ref data;
            _length = length;
            _entries = entries;
            _root = root;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static CoreView Of(Span<byte> data, CoreTypeResolution resolution)
            => new CoreView(ref MemoryMarshal.GetReference(data), data.Length, resolution.Entries, resolution);

        /// <summary>A view of <paramref name="data"/> through <paramref name="resolution"/>, which must be the resolution of <paramref name="layout"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static CoreView Create(Span<byte> data, CoreTypeResolution resolution, BtfTypeLayout layout)
        {
            if (resolution is null || !ReferenceEquals(resolution.Local, layout)) ThrowNotFor(resolution, layout);
            return Of(data, resolution);
        }

        /// <summary>
        /// A view of <paramref name="data"/> through <paramref name="resolution"/>, <typeparamref name="T"/>'s resolution by
        /// its type (<see cref="TargetKernel.Resolve{T}"/>), so only null is checked.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static CoreView Create<T>(Span<byte> data, CoreTypeResolution<T> resolution) where T : IBtfType
        {
            if (resolution is null) ThrowNull();
            return Of(data, resolution);
        }

        /// <summary>The resolution of this view's type.</summary>
        public CoreTypeResolution Resolution
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => _root.ClosureAt(_entries[-1]);
        }

        /// <summary>
        /// The target bytes of this view's object: the data it was made over, or for a member view the member's bytes in
        /// it (cut short, possibly to nothing, where the data ends).
        /// </summary>
        public Span<byte> Data
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get
            {
                int offset = _entries[-3];
                if (offset < 0) return MemoryMarshal.CreateSpan(ref _data, _length);
                if ((uint)offset >= (uint)_length) return Span<byte>.Empty;
                int size = (int)Math.Min((uint)_entries[-2], (uint)(_length - offset));
                return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref _data, offset), size);
            }
        }

        /// <summary>True when the data holds the whole target object (<see cref="CoreTypeResolution.Size"/>: with candidates of several sizes, the one with most of the fields).</summary>
        public bool IsComplete => (uint)Data.Length >= Resolution.Size;

        /// <summary><c>FIELD_EXISTS</c> for field <paramref name="index"/>; throws <see cref="CoreException"/> for a field same-named candidates put at different offsets (<see cref="CoreTypeResolution.Exists(int)"/>).</summary>
        public bool Exists(int index) => Resolution.Exists(index);

        /// <summary>
        /// Field <paramref name="index"/> as <typeparamref name="T"/>, its generated type (a scalar, enum or pointer whose C#
        /// size is its BTF size): read in place when the target has it as it is (same size and byte order, not a bitfield) and it lies inside the data, else the general path's bits
        /// narrowed to <typeparamref name="T"/> as a C cast would. One generic call per generated getter keeps the emitted
        /// code (and so every build of it) small; the JIT specializes it per type.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Get<T>(int index) where T : unmanaged
        {
            uint end = (uint)_entries[index];
            if (end <= (uint)_length)
            {
                ref byte p = ref Unsafe.Subtract(ref Unsafe.Add(ref _data, (nint)end), Unsafe.SizeOf<T>());
                if (typeof(T) == typeof(bool)) { bool b = p != 0; return Unsafe.As<bool, T>(ref b); }
                return Unsafe.ReadUnaligned<T>(ref p);
            }
            return FromBits<T>(Read(index));
        }

        /// <summary>Writes field <paramref name="index"/>: in place under the conditions of <see cref="Get{T}"/>, else the general path.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Set<T>(int index, T value) where T : unmanaged
        {
            uint end = (uint)_entries[index];
            if (end <= (uint)_length)
            {
                ref byte p = ref Unsafe.Subtract(ref Unsafe.Add(ref _data, (nint)end), Unsafe.SizeOf<T>());
                if (typeof(T) == typeof(bool)) p = Unsafe.As<T, bool>(ref value) ? (byte)1 : (byte)0;
                else Unsafe.WriteUnaligned(ref p, value);
                return;
            }
            Write(index, ToBits(index, value));
        }

        /// <summary>Field <paramref name="index"/> through the general path only (a field whose C# type is not its BTF size).</summary>
        public T ReadAs<T>(int index) where T : unmanaged => FromBits<T>(Read(index));

        /// <summary>Writes field <paramref name="index"/> through the general path only.</summary>
        public void WriteAs<T>(int index, T value) where T : unmanaged => Write(index, ToBits(index, value));

        /// <summary>The low bytes of the general path's 64 bits as <typeparamref name="T"/> (a C cast's truncation); bool is "not zero".</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T FromBits<T>(ulong bits) where T : unmanaged
        {
            if (typeof(T) == typeof(bool)) { bool b = bits != 0; return Unsafe.As<bool, T>(ref b); }
            ref byte low = ref Unsafe.As<ulong, byte>(ref bits);
            return BitConverter.IsLittleEndian ? Unsafe.ReadUnaligned<T>(ref low) : Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref low, 8 - Unsafe.SizeOf<T>()));
        }

        /// <summary><paramref name="value"/> as the 64 bits the general write stores: sign-extended when the field is signed at build time, else zero-extended.</summary>
        private ulong ToBits<T>(int index, T value) where T : unmanaged
        {
            if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref value) ? 1UL : 0UL;
            ulong bits = 0;
            ref byte low = ref Unsafe.As<ulong, byte>(ref bits);
            if (BitConverter.IsLittleEndian) Unsafe.WriteUnaligned(ref low, value);
            else Unsafe.WriteUnaligned(ref Unsafe.Add(ref low, 8 - Unsafe.SizeOf<T>()), value);
            int shift = 64 - Unsafe.SizeOf<T>() * 8;
            if (shift > 0 && Resolution.Fields[index].Local.IsSigned) bits = (ulong)((long)(bits << shift) >> shift);
            return bits;
        }

        /// <summary>
        /// The general read of field <paramref name="index"/> (what <see cref="CoreTypeResolution.Read(int, ReadOnlySpan{byte})"/>
        /// returns, inlined): the target's bytes in its byte order, libbpf's shifts, sign extension; throws
        /// <see cref="CoreFieldException"/> when the field is missing, unreadable, beyond the data, or does not fit.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong Read(int index)
        {
            var r = Resolution;
            ref readonly var s = ref r.SlotAt(index);
            int size = s.Size;
            // The slot's offset is relative to this view's object and may be negative: libbpf aligns bitfield windows in the
            // outermost object, so a member's window can start before the member (the outer data has those bytes).
            int member = _entries[-3];
            long start = (long)(member < 0 ? 0 : member) + s.Offset;
            if (size == 0 || start < 0 || (ulong)start + (uint)size > (ulong)(uint)_length) ThrowRead(r, index, member);
            ref byte p = ref Unsafe.Add(ref _data, (nint)start);
            ulong v = 0;
            for (int k = 0, sh = s.FirstShift; k < size; k++, sh += s.ShiftStep) v |= (ulong)Unsafe.Add(ref p, k) << sh;
            v <<= s.LeftShift;
            v = s.Signed ? (ulong)((long)v >> s.RightShift) : v >> s.RightShift;
            if ((v & s.FitMask) != 0) ThrowRead(r, index, member);
            return v;
        }

        /// <summary>The general write of field <paramref name="index"/> (<see cref="CoreTypeResolution.Write(int, Span{byte}, ulong)"/>).</summary>
        private void Write(int index, ulong value)
        {
            int member = _entries[-3];
            Resolution.WriteAt(index, MemoryMarshal.CreateSpan(ref _data, _length), member < 0 ? 0 : member, value);
        }

        /// <summary>A 16-byte integer field (<see cref="CoreTypeResolution.Read128"/>).</summary>
        public UInt128 Read128(int index) => Resolution.Read128(index, Data);

        /// <summary>Writes a 16-byte integer field (<see cref="CoreTypeResolution.Write128"/>).</summary>
        public void Write128(int index, UInt128 value) => Resolution.Write128(index, Data, value);

        /// <summary>The raw target bytes of field <paramref name="index"/> (<see cref="CoreTypeResolution.FieldBytes(int, Span{byte})"/>).</summary>
        public Span<byte> FieldBytes(int index) => Resolution.FieldBytes(index, Data);

        /// <summary>An array field as its elements (<see cref="CoreTypeResolution.ArraySpan{T}"/>).</summary>
        public Span<T> ArraySpan<T>(int index) where T : unmanaged => Resolution.ArraySpan<T>(index, Data);

        /// <summary><paramref name="count"/> elements of a flexible array field (<see cref="CoreTypeResolution.FlexibleSpan{T}"/>).</summary>
        public Span<T> FlexibleSpan<T>(int index, int count) where T : unmanaged => Resolution.FlexibleSpan<T>(index, Data, count);

        /// <summary>
        /// The view of struct/union field <paramref name="index"/> (of a type with <paramref name="fieldCount"/> fields),
        /// relocated against the target member's type. The member was resolved with this type, so this is one table load;
        /// a missing member throws here, one the data cuts short throws when a field beyond the data is read.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public CoreView Nested(int index, int fieldCount)
        {
            int block = _entries[fieldCount + index];
            if (block < 0) ThrowMember(Resolution, index);
            return new CoreView(ref _data, _length, _entries + block, _root);
        }

        /// <summary>Element <paramref name="i"/> of array-of-struct (or flexible array) field <paramref name="index"/>, relocated against the target's element type.</summary>
        public CoreView Element(int index, int i, BtfTypeLayout elementLayout)
        {
            var r = Resolution;
            var data = r.ElementBytes(index, i, Data);
            return Of(data, r.ElementAt(index, i, elementLayout));
        }

        // Helpers that only throw (no return), so the JIT treats their calls as the end of a cold path.

        [DoesNotReturn]
        private static void ThrowNotFor(CoreTypeResolution? r, BtfTypeLayout layout)
        {
            CoreTypeResolution.EnsureFor(r!, layout);
            throw new InvalidOperationException("unreachable: the resolution matched on the second look");
        }

        [DoesNotReturn]
        private static void ThrowNull() => throw new ArgumentNullException("resolution");

        [DoesNotReturn]
        private void ThrowRead(CoreTypeResolution r, int index, int member)
        {
            r.ReadAt(index, MemoryMarshal.CreateSpan(ref _data, _length), member < 0 ? 0 : member);
            throw new InvalidOperationException($"internal error: {r.Fields[index].Name} read on the general path after the inlined read failed");
        }

        [DoesNotReturn]
        private static void ThrowMember(CoreTypeResolution r, int index)
        {
            var f = r.Fields[index];
            if (f.Local.TypeLayout is BtfTypeLayout l) r.Nested(index, l); // throws the member's error (missing, ambiguous…)
            else r.FieldBytes(index, Span<byte>.Empty);
            throw new InvalidOperationException($"internal error: the view of {f.Name} needs the member's layout resolved with its owner (BtfFieldLayout.TypeLayout)");
        }
    }
}
