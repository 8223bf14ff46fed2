using BtfBindings;

namespace Ps;

/// <summary>
/// The kernel type this program reads, generated at build time from x86_64-6.12's BTF. At run time its fields are
/// found in the running kernel's BTF (CO-RE), so the same binary reads task_struct on any kernel.
/// </summary>
/// <remarks>In a file of its own, the request is compiled into ps.BtfTypes.dll by real builds (README, "Faster rebuilds").</remarks>
[BtfTypes("task_struct")]
public static partial class Kernel { }
