using BtfBindings.Layout;

namespace BtfBindings.Emit
{
    internal sealed partial class CSharpEmitter
    {
        /// <summary>Emits the relocatable view of a struct/union (fields read at offsets resolved against the running kernel's BTF).</summary>
        private void WriteView(CodeWriter w, PlannedType t, string self)
        {
        }
    }
}
