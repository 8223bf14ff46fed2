using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>
    /// Asks the BtfBindings source generator to emit the named kernel types (and everything they contain by
    /// value) as nested structs of the <c>partial</c> class this is placed on, from a <c>&lt;BtfFile&gt;</c> item.
    /// </summary>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class BtfTypesAttribute : Attribute
    {
        /// <summary>The kernel type names: struct, union, enum or typedef names (<c>task_struct</c>, <c>iphdr</c>); <c>name___N</c> picks the N-th duplicate.</summary>
        public IReadOnlyList<string> Names { get; }

        /// <summary>Which <c>&lt;BtfFile&gt;</c> to read (its file name), when the project has more than one.</summary>
        public string? BtfFile { get; set; }

        /// <summary>Emit types reached through pointers in full too (default: opaque stubs).</summary>
        public bool FollowPointers { get; set; }

        /// <summary>Creates the attribute.</summary>
        public BtfTypesAttribute(params string[] names) { Names = Array.AsReadOnly((string[])(names ?? Array.Empty<string>()).Clone()); }
    }
}
