using System.IO;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Objects
{
    /// <summary>
    /// A BPF object whose names collide with the skeleton's own: C types named like the skeleton's members (<c>Maps</c>,
    /// <c>Rodata</c>, <c>MapSet</c>...), like its class (<c>Names</c>, from names.bpf.o) and like a map (<c>events</c>);
    /// maps and programs named like the nested sets, the constructor's parameter, a method, a C# keyword or an inherited
    /// member; a global named like its section's property; types, fields, globals, enumerators and constants named like
    /// object's members (<c>ToString</c>, <c>Equals</c>, <c>Finalize</c>...). Self-contained (no vmlinux.h, no libbpf headers).
    /// </summary>
    internal static class NameClashProgram
    {
        /// <summary>The C types the skeleton must nest, each reachable under some name.</summary>
        public static readonly string[] Types = { "events", "Maps", "Programs", "Rodata", "RodataSection", "MapSet", "ProgramSet", "Names", "Open", "Dispose", "Object", "Load", "ResourceName", "ToString", "GetType", "Flex", "odd" };
        public static readonly string[] Maps = { "events", "MapSet", "o", "string", "DisposeBuffers" };
        public static readonly string[] Programs = { "Maps", "ProgramSet", "event", "ToString", "GetType" };

        public const string Source = @"typedef unsigned int __u32; typedef unsigned long long __u64;
#define SEC(x) __attribute__((section(x), used))
struct events { __u32 pid; __u64 ts; };
struct Maps { __u32 a; }; struct Programs { __u32 a; }; struct Rodata { __u32 a; }; struct RodataSection { __u32 a; };
struct MapSet { __u32 a; }; struct ProgramSet { __u32 a; }; struct Names { __u32 a; }; struct Open { __u32 a; };
struct Dispose { __u32 a; }; struct Object { __u32 a; }; struct Load { __u32 a; }; struct ResourceName { __u32 a; };
struct ToString { __u32 Equals; __u32 GetHashCode; }; struct GetType { __u32 ToString; __u32 Finalize; __u32 MemberwiseClone; };
struct Flex { __u32 n; __u32 Equals[]; }; enum odd { MemberwiseClone = 1, ReferenceEquals = 2 };
struct { int (*type)[27]; int (*max_entries)[4096]; } events SEC("".maps"");
struct { int (*type)[1]; int (*max_entries)[8]; __u32 *key; struct events *value; } MapSet SEC("".maps"");
struct { int (*type)[2]; int (*max_entries)[8]; __u32 *key; struct Maps *value; } o SEC("".maps"");
struct { int (*type)[2]; int (*max_entries)[8]; __u32 *key; struct Names *value; } string SEC("".maps"");
struct { int (*type)[2]; int (*max_entries)[8]; __u32 *key; struct Rodata *value; } DisposeBuffers SEC("".maps"");
const volatile struct RodataSection Rodata = {};
struct Programs Bss; struct MapSet Data = { 1 };
struct ProgramSet g1; struct Open g2; struct Dispose g3; struct Object g4; struct Load g5; struct ResourceName g6;
struct ToString g7; struct GetType g8; __u32 Equals; __u32 GetHashCode = 1; struct Flex *g9; enum odd g10; enum { Finalize = 3 } g11;
SEC(""xdp"") int Maps(void *ctx) { return Rodata.a + 2; }
SEC(""xdp"") int ProgramSet(void *ctx) { return 2; }
SEC(""xdp"") int event(void *ctx) { return 2; }
SEC(""xdp"") int ToString(void *ctx) { return 2; }
SEC(""xdp"") int GetType(void *ctx) { return 2; }
char LICENSE[] SEC(""license"") = ""GPL"";
";

        /// <summary>Compiles <see cref="Source"/> in <paramref name="dir"/> as names.bpf.o (clang -g -O2 -target bpf); skips where clang is missing.</summary>
        public static string Build(string dir)
        {
            if (!ProcessRunner.Exists("clang")) throw new SkipTestException("'clang' not installed");
            string c = Path.Combine(dir, "names.bpf.c"), obj = Path.Combine(dir, "names.bpf.o");
            File.WriteAllText(c, Source);
            ProcessRunner.Check("clang", new[] { "-g", "-O2", "-target", "bpf", "-c", c, "-o", obj });
            return obj;
        }
    }
}
