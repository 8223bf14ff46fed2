using System;
using System.Collections.Generic;

namespace BtfBindings
{
    /// <summary>
    /// A generated layout cannot be matched against a target kernel (CO-RE). Thrown as itself when a field is used (or
    /// checked) that several same-named target types have at different places (libbpf's "field offset ambiguity"; the
    /// check that aya-rs/aya#1727 lacks): the message names the kernel, the field and the candidates that disagree.
    /// <see cref="CoreFieldException"/> is the other case.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    class CoreException : Exception
    {
        /// <summary>The generated type's kernel name.</summary>
        public string TypeName { get; }

        /// <summary>The target kernel (release and BTF source), as <see cref="TargetKernel.Name"/> says it.</summary>
        public string Kernel { get; }

        /// <summary>The target candidates considered (for an ambiguity, those that disagree), like <c>[3107] STRUCT 'task_struct' size 3264 (vmlinux)</c>.</summary>
        public IReadOnlyList<string> Candidates { get; }

        /// <summary>
        /// The field concerned: for an ambiguity the field whose relocation differs between the candidates that have it;
        /// for a <see cref="CoreFieldException"/> the field used (never null there).
        /// </summary>
        public string? FieldName { get; }

        /// <summary>For an ambiguity: the candidates and what they disagree on, in a few words (compatibility reports and BTFB021 show it).</summary>
        internal string? Summary { get; set; }

        /// <summary>Creates the exception.</summary>
        public CoreException(string message, string typeName, string kernel, IReadOnlyList<string>? candidates = null, string? fieldName = null, Exception? inner = null)
            : base(message, inner)
        {
            TypeName = typeName;
            Kernel = kernel;
            Candidates = candidates ?? Array.Empty<string>();
            FieldName = fieldName;
        }
    }

    /// <summary>
    /// A field was read or written that the target kernel does not have (or has with a type whose value cannot be
    /// read as the generated one). Resolution never throws this: a missing field is data
    /// (<see cref="CoreFieldResolution.Exists"/>) until someone uses it.
    /// </summary>
#if BTFBINDINGS_GENERATOR
    internal
#else
    public
#endif
    sealed class CoreFieldException : CoreException
    {
        /// <summary>Why the field cannot be used.</summary>
        public string Reason { get; }

        /// <summary>Creates the exception.</summary>
        public CoreFieldException(string message, string typeName, string fieldName, string kernel, IReadOnlyList<string> candidates, string reason)
            : base(message, typeName, kernel, candidates, fieldName)
        {
            Reason = reason;
        }
    }
}
