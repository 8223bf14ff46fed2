using BtfBindings.Layout;

namespace BtfBindings.Emit
{
    internal sealed partial class CSharpEmitter
    {
        /// <summary>
        /// The identifiers (no '@') this emitter declares directly in its innermost container: the planned types, the
        /// anonymous-enum constants and its helper classes. Code written into the same container (a BPF skeleton) names its
        /// own members around them.
        /// </summary>
        public System.Collections.Generic.HashSet<string> DeclaredNames()
        {
            var names = new System.Collections.Generic.HashSet<string>(System.StringComparer.Ordinal) { "BtfConstants", "BtfEnumLayouts" };
            foreach (var t in _plan.Types) names.Add(Bare(t.Name));
            foreach (var c in _plan.AnonymousEnumConstants) names.Add(CSharpNames.Member(c.Name).TrimStart('@'));
            return names;
        }

        /// <summary>
        /// The C# type of a BTF type as this emitter writes it (a planned struct, union or enum, or a scalar), for code written
        /// beside the types (a BPF skeleton's map keys and values); null when it has none (arrays, pointers, unplanned types).
        /// </summary>
        public string? TypeOf(Btf btf, int id)
        {
            int target = btf.Skip(id);
            var t = btf[target];
            switch (t.Kind)
            {
                case BtfKind.Int:
                    if ((t.IntEncoding & BtfIntEncoding.Bool) != 0 && t.Size == 1) return Scalar(ScalarKind.Bool);
                    bool signed = (t.IntEncoding & BtfIntEncoding.Signed) != 0;
                    return t.Size switch
                    {
                        1 => Scalar(signed ? ScalarKind.I8 : ScalarKind.U8),
                        2 => Scalar(signed ? ScalarKind.I16 : ScalarKind.U16),
                        4 => Scalar(signed ? ScalarKind.I32 : ScalarKind.U32),
                        8 => Scalar(signed ? ScalarKind.I64 : ScalarKind.U64),
                        16 => Scalar(signed ? ScalarKind.I128 : ScalarKind.U128),
                        _ => null,
                    };
                case BtfKind.Float:
                    return t.Size == 4 ? Scalar(ScalarKind.F32) : t.Size == 8 ? Scalar(ScalarKind.F64) : null;
                case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64:
                    foreach (var p in _plan.Types)
                        if (p.BtfId == target && p.OpaqueReason == null) return TypeRef(p.Name);
                    return null;
                default:
                    return null;
            }
        }
    }
}
