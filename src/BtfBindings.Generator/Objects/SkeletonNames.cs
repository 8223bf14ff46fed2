using System;
using System.Collections.Generic;
using BtfBindings.Emit;

namespace BtfBindings.Objects
{
    /// <summary>
    /// The one naming rule of a skeleton, per C# scope (the skeleton class, its program set, its map set). Names from the
    /// object (its C types and anonymous-enum constants, maps, programs, globals) keep their C spelling ('@' before a C#
    /// keyword); a name BtfBindings adds (the class, <c>Open</c>, <c>Load</c>, <c>Maps</c>, <c>Rodata</c>, the set classes,
    /// private fields...) gets '_' appended while the scope already holds it, since C# takes neither two members of one name
    /// (CS0102) nor a member named like its type (CS0542). Each rename is reported (BTFB015) so the user knows where it went.
    /// A name from the object that an inherited <see cref="object"/> member has is declared <c>new</c> (<see cref="CSharpNames.New"/>).
    /// </summary>
    internal sealed class SkeletonNames
    {
        private readonly HashSet<string> _taken = new HashSet<string>(StringComparer.Ordinal);
        private readonly List<string> _warnings;
        private readonly string _scope;

        /// <param name="scope">What the scope is, for the warnings ("the skeleton class").</param>
        /// <param name="objectNames">The names the object brings into the scope, as C# identifiers (with or without '@').</param>
        /// <param name="warnings">Where renames are reported.</param>
        public SkeletonNames(string scope, IEnumerable<string> objectNames, List<string> warnings)
        {
            _scope = scope;
            _warnings = warnings;
            foreach (var n in objectNames) _taken.Add(n.TrimStart('@'));
        }

        /// <summary>
        /// The identifier for a name BtfBindings adds: <paramref name="wanted"/>, or with '_' appended while the scope (or
        /// <paramref name="alsoAvoid"/>: the members of a nested class named here) holds it; then it is taken.
        /// </summary>
        public string Add(string wanted, ISet<string>? alsoAvoid = null)
        {
            string n = wanted;
            while (_taken.Contains(n) || (alsoAvoid != null && alsoAvoid.Contains(n))) n += "_";
            _taken.Add(n);
            if (n != wanted) _warnings.Add($"the object has a name '{wanted}' in {_scope}, so the skeleton's '{wanted}' is '{n}'");
            return CSharpNames.Type(n);
        }

        /// <summary>The bare identifiers (no '@') of C names as <see cref="CSharpNames.Member"/> writes them.</summary>
        public static HashSet<string> Bare(IEnumerable<string> cNames)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var n in cNames) set.Add(CSharpNames.Member(n).TrimStart('@'));
            return set;
        }
    }
}
