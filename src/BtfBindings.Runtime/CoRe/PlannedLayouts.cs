using System;
using System.Collections.Generic;
using BtfBindings.Layout;

namespace BtfBindings
{
    /// <summary>
    /// The <see cref="BtfTypeLayout"/> metadata the source generator emits for each planned type, built from a
    /// <see cref="LayoutPlan"/> without generating code (the same field order, sizes and names as the
    /// generated <c>BtfLayout</c> properties; both take each field's kind from the plan, <see cref="FieldKinds"/>). Lets tools and tests resolve layouts
    /// of one kernel against another with no generated types.
    /// </summary>
    internal sealed class PlannedLayouts
    {
        private readonly Dictionary<PlannedType, BtfTypeLayout> _layouts = new Dictionary<PlannedType, BtfTypeLayout>();
        private readonly Dictionary<string, PlannedType> _byName = new Dictionary<string, PlannedType>(StringComparer.Ordinal);
        private readonly Dictionary<BtfTypeLayout, PlannedType> _planned = new Dictionary<BtfTypeLayout, PlannedType>();

        /// <summary>Builds metadata for every struct, union and enum of <paramref name="plan"/> (nested anonymous types included).</summary>
        /// <param name="plan">The plan.</param>
        /// <param name="sourceLabel">The BTF file name the generator would show (default: the plan's source name).</param>
        public PlannedLayouts(LayoutPlan plan, string? sourceLabel = null)
        {
            Plan = plan;
            SourceLabel = sourceLabel ?? DefaultLabel(plan.SourceName);
            foreach (var t in plan.Types)
            {
                _byName[t.Name] = t;
                Add(t);
            }
        }

        private static string DefaultLabel(string source)
        {
            string name = System.IO.Path.GetFileName(source);
            return name.EndsWith(":.BTF", StringComparison.Ordinal) ? name.Substring(0, name.Length - 5) : name;
        }

        private void Add(PlannedType t)
        {
            if (t.Kind == PlannedKind.Opaque) return;
            var layout = FromPlan(t, Plan, SourceLabel);
            _layouts[t] = layout;
            _planned[layout] = t;
            foreach (var n in t.Nested) Add(n);
        }

        /// <summary>The plan.</summary>
        public LayoutPlan Plan { get; }

        /// <summary>The source label used in the metadata.</summary>
        public string SourceLabel { get; }

        /// <summary>The layout of the top-level planned type named <paramref name="plannedName"/> (null if absent or opaque).</summary>
        public BtfTypeLayout? this[string plannedName]
            => _byName.TryGetValue(plannedName, out var t) && _layouts.TryGetValue(t, out var l) ? l : null;

        /// <summary>Every layout (top-level and nested), with the planned type it came from.</summary>
        public IEnumerable<KeyValuePair<PlannedType, BtfTypeLayout>> All => _layouts;

        /// <summary>The planned type a layout was built from.</summary>
        public PlannedType PlannedTypeOf(BtfTypeLayout layout) => _planned[layout];

        /// <summary>
        /// For a struct/union field (or array of structs) of <paramref name="owner"/>: the layout of its type, which the
        /// generated code names directly (<c>sched_entity.BtfLayout</c>); null for other fields.
        /// </summary>
        public BtfTypeLayout? FieldTypeLayout(BtfTypeLayout owner, int fieldIndex)
        {
            var pt = _planned[owner];
            var shape = pt.Fields[fieldIndex].Type;
            while (shape.Kind == TypeShapeKind.Array && shape.Element != null) shape = shape.Element;
            if (shape.Kind != TypeShapeKind.Composite) return null;
            if (shape.IsNested)
            {
                foreach (var n in pt.Nested) if (n.Name == shape.TypeName) return _layouts[n];
                return null;
            }
            return shape.TypeName != null ? this[shape.TypeName] : null;
        }

        /// <summary>
        /// The metadata the generator emits for <paramref name="t"/> (<c>static BtfTypeLayout BtfLayout</c>): fields in
        /// plan order with bit offset, bit size, bitfield and sign flags, kind, C type, byte size, type name, array length
        /// and element kind, exactly as <c>CSharpEmitter</c> writes them.
        /// </summary>
        public static BtfTypeLayout FromPlan(PlannedType t, LayoutPlan plan, string sourceLabel)
        {
            if (t.Kind == PlannedKind.Enum)
            {
                var values = t.Values.ToArray();
                return new BtfTypeLayout(t.BtfName, BtfKind.Enum, t.Size, Array.Empty<BtfFieldLayout>(), sourceLabel, plan.PointerSize, values, t.NamedByTypedef, t.IsSigned);
            }
            if (t.Kind == PlannedKind.Opaque) throw new ArgumentException($"{t.Name} is opaque: it has no layout", nameof(t));
            var fields = new BtfFieldLayout[t.Fields.Count];
            for (int i = 0; i < fields.Length; i++)
            {
                var f = t.Fields[i];
                var k = f.KindInfo;
                fields[i] = new BtfFieldLayout(f.Name, f.BitOffset, f.BitSize, f.IsBitfield, f.IsSigned, k.Kind, f.CType, f.Type.ByteSize, k.TypeName, k.ArrayLength, k.ElementKind);
            }
            return new BtfTypeLayout(t.BtfName, t.Kind == PlannedKind.Union ? BtfKind.Union : BtfKind.Struct, t.Size, fields, sourceLabel, plan.PointerSize, null, t.NamedByTypedef);
        }
    }
}
