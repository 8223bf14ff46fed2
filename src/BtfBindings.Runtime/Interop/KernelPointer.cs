using System;
using System.Globalization;

namespace BtfBindings
{
    /// <summary>The pointee of an untyped (<c>void *</c>) kernel pointer.</summary>
    public struct BtfVoid { }

    /// <summary>The pointee of a kernel function pointer.</summary>
    public struct BtfFunction { }

    /// <summary>
    /// A pointer field of a 64-bit target: the kernel address it holds. Kernel memory cannot be dereferenced
    /// from user space; the type parameter says what it points to (read it with a BPF program or /proc/kcore).
    /// </summary>
    public readonly struct KernelPointer64<T> : IEquatable<KernelPointer64<T>> where T : unmanaged
    {
        /// <summary>The address.</summary>
        public readonly ulong Address;
        /// <summary>Wraps an address.</summary>
        public KernelPointer64(ulong address) { Address = address; }
        /// <summary>True for NULL.</summary>
        public bool IsNull => Address == 0;
        /// <inheritdoc />
        public bool Equals(KernelPointer64<T> other) => Address == other.Address;
        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is KernelPointer64<T> p && Equals(p);
        /// <inheritdoc />
        public override int GetHashCode() => Address.GetHashCode();
        /// <summary>True for the same address.</summary>
        public static bool operator ==(KernelPointer64<T> left, KernelPointer64<T> right) => left.Address == right.Address;
        /// <summary>True for different addresses.</summary>
        public static bool operator !=(KernelPointer64<T> left, KernelPointer64<T> right) => left.Address != right.Address;
        /// <summary>The address in hex, like <c>%px</c>.</summary>
        public override string ToString() => "0x" + Address.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>A pointer field of a 32-bit target (armhf, i686): the 4-byte kernel address it holds.</summary>
    public readonly struct KernelPointer32<T> : IEquatable<KernelPointer32<T>> where T : unmanaged
    {
        /// <summary>The address.</summary>
        public readonly uint Address;
        /// <summary>Wraps an address.</summary>
        public KernelPointer32(uint address) { Address = address; }
        /// <summary>True for NULL.</summary>
        public bool IsNull => Address == 0;
        /// <inheritdoc />
        public bool Equals(KernelPointer32<T> other) => Address == other.Address;
        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is KernelPointer32<T> p && Equals(p);
        /// <inheritdoc />
        public override int GetHashCode() => Address.GetHashCode();
        /// <summary>True for the same address.</summary>
        public static bool operator ==(KernelPointer32<T> left, KernelPointer32<T> right) => left.Address == right.Address;
        /// <summary>True for different addresses.</summary>
        public static bool operator !=(KernelPointer32<T> left, KernelPointer32<T> right) => left.Address != right.Address;
        /// <summary>The address in hex.</summary>
        public override string ToString() => "0x" + Address.ToString("x8", CultureInfo.InvariantCulture);
    }
}
