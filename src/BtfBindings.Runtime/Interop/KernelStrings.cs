using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace BtfBindings
{
    /// <summary>
    /// C strings held in kernel <c>char[]</c> fields (<c>task_struct.comm</c>, <c>net_device.name</c>): the same
    /// <c>ToCString()</c> on a generated struct's inline array and on a view's span.
    /// </summary>
    public static class KernelStrings
    {
        /// <summary>The bytes up to the first NUL (all of them if there is none), decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
        public static string ToCString(this ReadOnlySpan<byte> chars)
        {
            int n = chars.IndexOf((byte)0);
            return Encoding.UTF8.GetString(n < 0 ? chars : chars.Slice(0, n));
        }

        /// <inheritdoc cref="ToCString(ReadOnlySpan{byte})"/>
        public static string ToCString(this Span<byte> chars) => ToCString((ReadOnlySpan<byte>)chars);

        /// <inheritdoc cref="ToCString(ReadOnlySpan{byte})"/>
        public static string ToCString(this ReadOnlySpan<sbyte> chars) => ToCString(MemoryMarshal.AsBytes(chars));

        /// <inheritdoc cref="ToCString(ReadOnlySpan{byte})"/>
        public static string ToCString(this Span<sbyte> chars) => ToCString(MemoryMarshal.AsBytes((ReadOnlySpan<sbyte>)chars));

        /// <summary>
        /// For generated inline arrays (<c>BtfArrayN&lt;T&gt;.ToCString()</c>): <typeparamref name="T"/> must be a 1-byte
        /// element (C <c>char</c>, <c>signed char</c>, <c>unsigned char</c>, <c>u8</c>).
        /// </summary>
        /// <exception cref="InvalidOperationException">The elements are wider than one byte.</exception>
        public static string ToCString<T>(ReadOnlySpan<T> chars) where T : struct
        {
            if (Unsafe.SizeOf<T>() != 1 || RuntimeHelpers.IsReferenceOrContainsReferences<T>())
                throw new InvalidOperationException($"ToCString reads a C char array; this array's elements are {typeof(T).Name} ({Unsafe.SizeOf<T>()} bytes each).");
            return ToCString(MemoryMarshal.AsBytes(chars));
        }
    }
}
