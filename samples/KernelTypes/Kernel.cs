using BtfBindings;

namespace KernelTypes;

/// <summary>The kernel types this program uses, generated at build time from the BtfFile.</summary>
/// <remarks>In a file of its own, this request is compiled into its own assembly (KernelTypes.BtfTypes.dll) by real
/// builds, so an edit of Program.cs does not make the compiler bind the generated code again.</remarks>
[BtfTypes("task_struct", "iphdr")]
public static partial class Kernel { }
