using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Objects
{
    /// <summary>
    /// A BPF program whose ring-buffer record type is used only by a local (libbpf-rs#1024): clang leaves
    /// <c>struct event</c> out of the object's .BTF, its DWARF has it. Self-contained (no vmlinux.h, no libbpf headers).
    /// The truth for its layout is pahole reading the object's DWARF.
    /// </summary>
    internal static class LocalEventProgram
    {
        public const string Source = @"typedef unsigned int __u32; typedef unsigned long long __u64;
#define SEC(x) __attribute__((section(x), used))
struct event { __u32 pid; char comm[16]; __u64 ts; unsigned int is_thread:1, reserved:31; short tail; };
struct { int (*type)[27]; int (*max_entries)[4096]; } rb SEC("".maps"");
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *) 131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *) 132;
SEC(""tp/sched/sched_process_exec"") int on_exec(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) return 0;
	e->pid = 1; e->ts = 2; e->is_thread = 1; e->tail = 3;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
char LICENSE[] SEC(""license"") = ""GPL"";
";

        /// <summary>Skips the test (naming the tool) where clang or pahole is missing.</summary>
        public static void RequireTools()
        {
            foreach (var tool in new[] { "clang", "pahole" })
                if (!ProcessRunner.Exists(tool)) throw new SkipTestException($"'{tool}' not installed (clang; pahole is in dwarves)");
        }

        /// <summary>Compiles <see cref="Source"/> in <paramref name="dir"/> the way the targets do and runs pahole on it: (object, types BTF).</summary>
        public static (string obj, string types) Build(string dir)
        {
            RequireTools();
            string c = Path.Combine(dir, "ring.bpf.c"), obj = Path.Combine(dir, "ring.bpf.o"), types = Path.Combine(dir, "ring.bpf.types.btf");
            File.WriteAllText(c, Source);
            ProcessRunner.Check("clang", new[] { "-g", "-O2", "-target", "bpf", "-c", c, "-o", obj });
            ProcessRunner.Check("pahole", new[] { "--btf_encode_detached=" + types, obj });
            return (obj, types);
        }

        /// <summary>pahole -C <paramref name="name"/> on the object's DWARF: the size, and the byte offset of each member that is not a bitfield.</summary>
        public static (int size, Dictionary<string, int> offsets) PaholeLayout(string obj, string name)
        {
            var text = ProcessRunner.Check("pahole", new[] { "-C", name, obj }).Output;
            var offsets = new Dictionary<string, int>();
            foreach (Match m in Regex.Matches(text, @"^\s+[^/\n]*?\b(\w+)(?:\[\d+\])*;\s+/\*\s+(\d+)\s+\d+\s+\*/", RegexOptions.Multiline))
                offsets[m.Groups[1].Value] = int.Parse(m.Groups[2].Value);
            var size = Regex.Match(text, @"/\* size: (\d+),");
            if (!size.Success || offsets.Count == 0) throw new InvalidDataException("unexpected pahole output:\n" + text);
            return (int.Parse(size.Groups[1].Value), offsets);
        }
    }
}
