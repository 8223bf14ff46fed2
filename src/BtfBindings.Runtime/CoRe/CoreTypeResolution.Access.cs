using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace BtfBindings
{
    // Reading and writing fields of the target bytes, by index (generated views) and by name.
    partial class CoreTypeResolution // accessibility: see the main part
    {
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

#if !BTFBINDINGS_GENERATOR // no UInt128 on netstandard2.0; the compiler-side copy (verdicts) reads no data
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
#endif

        /// <summary>
        /// The target bytes of a struct, union, array or raw field: from its offset for the target's size, cut short
        /// where <paramref name="data"/> ends (reads beyond then throw). Throws when the field is missing.
        /// </summary>
        public Span<byte> FieldBytes(int index, Span<byte> data)
        {
            var f = _fields[index];
            if (!f.Exists || f.IsAmbiguous) throw FieldError(f, null); // an ambiguous size: libbpf refuses FIELD_BYTE_SIZE
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
            ArgumentOutOfRangeException.ThrowIfNegative(count);
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

    }
}
