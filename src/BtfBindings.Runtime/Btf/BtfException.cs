using System;

namespace BtfBindings
{
    /// <summary>
    /// The one exception thrown for unreadable BTF or container input: truncated or corrupt data, bad
    /// magic or version, out-of-range offsets, ids or counts, reference cycles, a missing <c>.BTF</c>
    /// section or a split file without its base. The message says what is wrong and where.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class BtfException : Exception
    {
        /// <summary>The file or source name the data came from, when known.</summary>
        public string? SourceName { get; }

        /// <summary>Byte offset in the source where the problem was found, when known.</summary>
        public long? Offset { get; }

        /// <summary>The type id involved, when known.</summary>
        public int? TypeId { get; }

        /// <summary>Creates the exception; the message is prefixed with the source, offset and type id.</summary>
        public BtfException(string message, string? sourceName = null, long? offset = null, int? typeId = null, Exception? inner = null)
            : base(Format(message, sourceName, offset, typeId), inner)
        {
            Detail = message;
            SourceName = sourceName;
            Offset = offset;
            TypeId = typeId;
        }

        /// <summary>The message without its location prefix.</summary>
        internal string Detail { get; }

        /// <summary>The same error for data that starts <paramref name="delta"/> bytes into the source (a codec ran on a slice).</summary>
        internal BtfException Shifted(long delta) => new BtfException(Detail, SourceName, Offset + delta, TypeId, this);

        private static string Format(string message, string? source, long? offset, int? typeId)
        {
            var where = source ?? "<memory>";
            if (offset.HasValue) where += $" at byte offset {offset.Value} (0x{offset.Value:x})";
            if (typeId.HasValue) where += $", type [{typeId.Value}]";
            return where + ": " + message;
        }
    }
}
