using System;

namespace BtfBindings
{
    /// <summary>
    /// The resolution of the generated type <typeparamref name="T"/> against a target kernel, from
    /// <see cref="TargetKernel.Resolve{T}"/>. It is a <see cref="CoreTypeResolution"/> whose <see cref="CoreTypeResolution.Local"/>
    /// is known, by its type, to be <typeparamref name="T"/>'s layout, so a view constructed from it needs no run-time check.
    /// </summary>
    /// <typeparam name="T">A generated kernel type.</typeparam>
    public sealed class CoreTypeResolution<T> : CoreTypeResolution where T : IBtfType
    {
        internal CoreTypeResolution(CoreTypeResolution resolved) : base(resolved)
        {
            // The invariant the unchecked view constructor relies on.
            if (!ReferenceEquals(resolved.Local, T.BtfLayout))
                throw new ArgumentException($"the resolution of {resolved.Local.BtfName} is not {typeof(T).Name}'s", nameof(resolved));
        }
    }
}
