using BtfBindings;

namespace P;

[BtfTypes("iphdr", "pid_type")]
public static partial class K { }
