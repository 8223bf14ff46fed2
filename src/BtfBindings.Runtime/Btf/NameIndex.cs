using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>
    /// Open-addressing hash table from a type's name (or essential name) to its ids: one int per slot,
    /// no per-type objects, so indexing vmlinux costs about 1 MB.
    /// </summary>
    internal sealed class NameIndex
    {
        private readonly int[] _slots; // type id, 0 = empty
        private readonly int _mask;
        private readonly bool _essential;

        private NameIndex(int[] slots, bool essential) { _slots = slots; _mask = slots.Length - 1; _essential = essential; }

        public static NameIndex Build(Btf btf, bool essential)
        {
            int named = 0;
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
                if (btf.Word(id, 0) != 0) named++;
            int cap = 16;
            while (cap < named + (named >> 1)) cap <<= 1;
            var slots = new int[cap];
            int mask = cap - 1;
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
            {
                uint nameOff = btf.Word(id, 0);
                if (nameOff == 0) continue;
                var name = btf.StringBytes(nameOff);
                if (essential) name = name.Slice(0, FlavorRules.EssentialLength(name));
                int h = (int)Hash(name) & mask;
                while (slots[h] != 0) h = (h + 1) & mask;
                slots[h] = id;
            }
            return new NameIndex(slots, essential);
        }

        public void Collect(Btf btf, ReadOnlySpan<byte> name, BtfKind? kind, List<BtfType> into)
        {
            int h = (int)Hash(name) & _mask;
            while (true)
            {
                int id = _slots[h];
                if (id == 0) return;
                var n = btf.StringBytes(btf.Word(id, 0));
                if (_essential) n = n.Slice(0, FlavorRules.EssentialLength(n));
                if (n.SequenceEqual(name))
                {
                    var t = new BtfType(btf, id);
                    if (kind == null || t.Kind == kind.Value) into.Add(t);
                }
                h = (h + 1) & _mask;
            }
        }

        internal static uint Hash(ReadOnlySpan<byte> s)
        {
            uint h = 2166136261;
            for (int i = 0; i < s.Length; i++) { h ^= s[i]; h *= 16777619; }
            return h ^ (h >> 15);
        }
    }

    /// <summary>libbpf's CO-RE "flavor" rule: <c>name___suffix</c> is the same type as <c>name</c>.</summary>
    public static class FlavorRules
    {
        /// <summary>
        /// Length of the essential part of a name: the text before the last <c>___</c> that has a
        /// non-underscore character on both sides (libbpf <c>bpf_core_essential_name_len</c>).
        /// </summary>
        public static int EssentialLength(ReadOnlySpan<byte> name)
        {
            int n = name.Length;
            for (int i = n - 5; i >= 0; i--)
            {
                if (name[i] != (byte)'_' && name[i + 1] == (byte)'_' && name[i + 2] == (byte)'_' && name[i + 3] == (byte)'_' && name[i + 4] != (byte)'_')
                    return i + 1;
            }
            return n;
        }

        /// <summary>The essential name of <paramref name="name"/> (see <see cref="EssentialLength(ReadOnlySpan{byte})"/>).</summary>
        public static string EssentialName(string name)
        {
            int n = name.Length;
            for (int i = n - 5; i >= 0; i--)
            {
                if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
                    return name.Substring(0, i + 1);
            }
            return name;
        }
    }
}
