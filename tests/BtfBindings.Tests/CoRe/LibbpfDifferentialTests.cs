using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace BtfBindings.Tests.CoRe
{
    /// <summary>
    /// Differential test against libbpf itself (issue 11): a clang <c>-target bpf -g -O2</c> object, generated here over
    /// the vmlinux.h of a build-time kernel fixture (<c>bpftool btf dump file F format c</c>), holds one
    /// <c>SEC("oracle")</c> program per CO-RE relocation: <c>__builtin_preserve_field_info</c> (EXISTS, BYTE_OFFSET,
    /// BYTE_SIZE, SIGNED, LSHIFT_U64, RSHIFT_U64) over about 2,000 field paths per build kernel (flattened anonymous members, nested
    /// members, array elements, bitfields, hand-written <c>___flavor</c> types with renamed, retyped and missing
    /// members), <c>bpf_core_enum_value(_exists)</c> and <c>bpf_core_type_exists/size</c>. tests/oracle/core_oracle.c
    /// (gcc, libbpf-dev) opens it with <c>btf_custom_path</c> = the target kernel fixture, lets
    /// <c>bpf_object__load</c> relocate it and reads back each relocated immediate (or the poisoned instruction, or
    /// libbpf's refusal). The same relocations go through <see cref="TargetKernel"/>'s by-name API with the object's
    /// own BTF as the build-time ("local") side. Every value must agree.
    /// </summary>
    /// <remarks>
    /// libbpf computes <c>FIELD_LSHIFT_U64</c> with the formula of the HOST's byte order (relo_core.c
    /// <c>#if __BYTE_ORDER__</c>), so for the big-endian s390x target it is compared with the little-endian formula
    /// over our offsets. Needs bpf() (libbpf loads the programs; root/CAP_BPF): skips with the reason otherwise.
    /// </remarks>
    public class LibbpfDifferentialTests
    {
        private readonly ITestOutputHelper _out;
        public LibbpfDifferentialTests(ITestOutputHelper output) { _out = output; }

        private static readonly string[] Roots =
        {
            "task_struct", "sk_buff", "file", "inode", "mm_struct", "iphdr", "ipv6hdr", "tcphdr", "udphdr", "net_device",
            "sock", "sock_common", "cred", "super_block", "bpf_prog", "bpf_map", "signal_struct", "dentry", "vm_area_struct",
            "page", "cgroup", "kernfs_node", "pid", "sched_entity", "bpf_attr", "perf_event_attr", "trace_entry",
        };

        /// <summary>Struct-valued members whose own members are checked through the path (<c>se.vruntime</c>).</summary>
        private static readonly string[] NestedRoots = { "task_struct", "sk_buff", "file", "net_device", "sock", "mm_struct", "inode" };

        private static readonly string[] Enums =
        {
            "pid_type", "bpf_prog_type", "bpf_map_type", "bpf_attach_type", "bpf_cmd", "pageflags", "node_stat_item",
            "zone_stat_item", "lru_list", "cgroup_subsys_id", "bpf_func_id", "tcp_ca_state", "sock_type", "migratetype",
        };

        /// <summary>Hand-written local types: renames (<c>___flavor</c>), members only newer/older kernels have, retyped members, bitfields, missing types.</summary>
        private const string Flavors = @"
struct task_struct___old { long state; int pid; int tgid; };
struct task_struct___new { unsigned int __state; int pid; };
struct task_struct___bits { unsigned int in_execve:1; unsigned int in_iowait:1; unsigned int sched_reset_on_fork:1; unsigned int no_cgroup_migration:1; };
struct task_struct___ptr { void *pid; long *tgid; int *mm; };
struct task_struct___narrow { unsigned char prio; unsigned short static_prio; unsigned long long flags; signed char normal_prio; };
struct task_struct___comm { char comm[16]; struct sched_entity___f { unsigned long long vruntime; unsigned long long sum_exec_runtime; int on_rq___x; } se; };
struct task_struct___enum { enum { TS_A___e, TS_B___e } __state; };
struct iphdr___flav { unsigned char ihl:4, version:4; unsigned char tos; unsigned short tot_len; unsigned int saddr; unsigned int daddr; };
struct iphdr___wide { unsigned int ihl:4; unsigned int version:4; int tos:8; };
struct sk_buff___anon { unsigned int len; struct sk_buff___anon *next; unsigned long _skb_refdst; unsigned char pkt_type:3; unsigned int hash; };
struct net_device___fl { unsigned long long features; unsigned int flags; unsigned int priv_flags; int ifindex; char name[16]; };
struct inode___mode { long i_mode; unsigned int i_flags; unsigned long i_ino; };
struct file___x { unsigned int f_mode; void *f_op; long long f_pos; unsigned int f_flags; };
struct net_device___u8 { unsigned char reg_state; unsigned short rtnl_link_state; };
struct nonexistent_struct___x { int a; };
union bpf_attr___x { struct { unsigned int map_type; unsigned int key_size; }; struct { unsigned int prog_type; unsigned int insn_cnt; }; };
enum pid_type___x { PIDTYPE_PID___x, PIDTYPE_TGID___x = 7, PIDTYPE_NOTHERE___x };
";

        private static readonly (string root, string path)[] FlavorFields =
        {
            ("task_struct___old", "state"), ("task_struct___old", "pid"), ("task_struct___old", "tgid"),
            ("task_struct___new", "__state"), ("task_struct___new", "pid"),
            ("task_struct___bits", "in_execve"), ("task_struct___bits", "in_iowait"), ("task_struct___bits", "sched_reset_on_fork"), ("task_struct___bits", "no_cgroup_migration"),
            ("task_struct___ptr", "pid"), ("task_struct___ptr", "tgid"), ("task_struct___ptr", "mm"),
            ("task_struct___narrow", "prio"), ("task_struct___narrow", "static_prio"), ("task_struct___narrow", "flags"), ("task_struct___narrow", "normal_prio"),
            ("task_struct___comm", "comm"), ("task_struct___comm", "comm[3]"), ("task_struct___comm", "comm[15]"), ("task_struct___comm", "se"),
            ("task_struct___comm", "se.vruntime"), ("task_struct___comm", "se.sum_exec_runtime"), ("task_struct___comm", "se.on_rq___x"),
            ("task_struct___enum", "__state"),
            ("iphdr___flav", "ihl"), ("iphdr___flav", "version"), ("iphdr___flav", "tos"), ("iphdr___flav", "tot_len"), ("iphdr___flav", "saddr"), ("iphdr___flav", "daddr"),
            ("iphdr___wide", "ihl"), ("iphdr___wide", "version"), ("iphdr___wide", "tos"),
            ("sk_buff___anon", "len"), ("sk_buff___anon", "next"), ("sk_buff___anon", "_skb_refdst"), ("sk_buff___anon", "pkt_type"), ("sk_buff___anon", "hash"),
            ("net_device___fl", "features"), ("net_device___fl", "flags"), ("net_device___fl", "priv_flags"), ("net_device___fl", "ifindex"), ("net_device___fl", "name"), ("net_device___fl", "name[2]"),
            ("inode___mode", "i_mode"), ("inode___mode", "i_flags"), ("inode___mode", "i_ino"),
            ("file___x", "f_mode"), ("file___x", "f_op"), ("file___x", "f_pos"), ("file___x", "f_flags"),
            ("net_device___u8", "reg_state"), ("net_device___u8", "rtnl_link_state"),
            ("nonexistent_struct___x", "a"),
            ("bpf_attr___x", "map_type"), ("bpf_attr___x", "key_size"), ("bpf_attr___x", "prog_type"), ("bpf_attr___x", "insn_cnt"),
        };

        /// <summary>
        /// Paths on <c>struct mm_slot</c>, a type 5.10 has twice (ksm's: link, mm_list, rmap_list, mm at 40; khugepaged's:
        /// hash, mm_node, mm at 32) and 6.12 once (hash, mm_node, mm): members only one 5.10 candidate has, and <c>mm</c>,
        /// which both have at different offsets. Each goes in an object of its own: within one object libbpf narrows a
        /// root type's candidates to those earlier relocations matched (relo_core.c <c>cands->len = j</c>, a per-load
        /// cache), so a path's answer there depends on the program's other accesses; alone, it is that path's own answer.
        /// </summary>
        private static readonly string[] SameNamedPaths = { "hash", "hash.next", "hash.pprev", "mm_node", "mm_node.prev", "mm" };

        private enum K { FieldOffset = 0, FieldSize = 1, FieldExists = 2, FieldSigned = 3, FieldLShift = 4, FieldRShift = 5, EnumValue, EnumExists, TypeExists, TypeSize }

        private sealed record Relo(K Kind, string Root, bool Union, string Path, bool Bitfield = false, bool Alone = false)
        {
            public string Label => Kind switch
            {
                K.EnumValue or K.EnumExists => $"{Kind}(enum {Root}, {Path})",
                K.TypeExists or K.TypeSize => $"{Kind}({(Union ? "union" : "struct")} {Root}{(Path == "enum" ? " (enum)" : "")})",
                _ => $"{Kind}({Root}.{Path})",
            };
        }

        private static readonly Regex Ident = new Regex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.Compiled);

        /// <summary>The relocations for build-time kernel <paramref name="btf"/>, and the C source that asks clang for them.</summary>
        private static (List<Relo> relos, string head) Generate(Btf btf, string vmlinuxH)
        {
            var relos = new List<Relo>();
            var layouts = CoreFixtures.Layouts(btf, Roots.Where(r => btf.FindTypes(r, BtfKind.Struct).Count + btf.FindTypes(r, BtfKind.Union).Count > 0).ToArray());
            void Field(string root, bool union, string path, BtfFieldLayout lf, bool element)
            {
                // Bitfield offset/size/shift relocations are marked: clang 14 rejects some, CompileAll compiles them apart.
                bool bf = !element && lf.IsBitfield;
                relos.Add(new Relo(K.FieldExists, root, union, path));
                relos.Add(new Relo(K.FieldOffset, root, union, path, bf));
                relos.Add(new Relo(K.FieldSize, root, union, path, bf));
                // libbpf takes only offset/size/exists relocations on an array element ("can't be applied to array access").
                bool scalar = !element && lf.Kind is BtfFieldKind.Int or BtfFieldKind.Enum && (lf.IsBitfield || lf.ByteSize <= 8);
                if (scalar)
                {
                    relos.Add(new Relo(K.FieldSigned, root, union, path));
                    relos.Add(new Relo(K.FieldLShift, root, union, path, bf));
                    relos.Add(new Relo(K.FieldRShift, root, union, path, bf));
                }
            }
            foreach (var rootName in Roots)
            {
                var layout = layouts[rootName];
                if (layout == null || layout.NamedByTypedef) continue;
                bool union = layout.Kind == BtfKind.Union;
                relos.Add(new Relo(K.TypeExists, rootName, union, ""));
                relos.Add(new Relo(K.TypeSize, rootName, union, ""));
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < layout.Fields.Count; i++)
                {
                    var lf = layout.Fields[i];
                    if (!Ident.IsMatch(lf.Name) || !seen.Add(lf.Name) || lf.Kind == BtfFieldKind.Bytes) continue;
                    Field(rootName, union, lf.Name, lf, false);
                    if (lf.Kind == BtfFieldKind.Array && lf.ArrayLength >= 2) Field(rootName, union, lf.Name + "[1]", lf, true);
                    if (lf.Kind == BtfFieldKind.Struct && NestedRoots.Contains(rootName) && layouts.FieldTypeLayout(layout, i) is BtfTypeLayout nested)
                    {
                        var seenN = new HashSet<string>(StringComparer.Ordinal);
                        foreach (var nf in nested.Fields.Take(12))
                            if (Ident.IsMatch(nf.Name) && seenN.Add(nf.Name) && nf.Kind != BtfFieldKind.Bytes && nf.Kind != BtfFieldKind.FlexibleArray)
                                Field(rootName, union, lf.Name + "." + nf.Name, nf, false);
                    }
                }
            }
            foreach (var (root, path) in FlavorFields)
            {
                bool scalarish = !path.Contains('[') && !(root == "task_struct___comm" && path == "se") && path != "name" && path != "comm";
                bool union = root.StartsWith("bpf_attr", StringComparison.Ordinal);
                relos.Add(new Relo(K.FieldExists, root, union, path));
                relos.Add(new Relo(K.FieldOffset, root, union, path));
                relos.Add(new Relo(K.FieldSize, root, union, path));
                if (scalarish && path != "f_op" && root != "task_struct___ptr" && path != "next")
                {
                    relos.Add(new Relo(K.FieldSigned, root, union, path));
                    relos.Add(new Relo(K.FieldLShift, root, union, path));
                    relos.Add(new Relo(K.FieldRShift, root, union, path));
                }
            }
            foreach (var t in FlavorFields.Select(f => f.root).Distinct())
            {
                bool union = t.StartsWith("bpf_attr", StringComparison.Ordinal);
                relos.Add(new Relo(K.TypeExists, t, union, ""));
                relos.Add(new Relo(K.TypeSize, t, union, ""));
            }
            foreach (var e in Enums)
            {
                if (btf.FindTypes(e, BtfKind.Enum).Count == 0 && btf.FindTypes(e, BtfKind.Enum64).Count == 0) continue;
                relos.Add(new Relo(K.TypeExists, e, false, "enum"));
                relos.Add(new Relo(K.TypeSize, e, false, "enum"));
                var el = CoreFixtures.Layouts(btf, e)[e];
                if (el == null) continue;
                foreach (var v in el.EnumValues)
                {
                    relos.Add(new Relo(K.EnumExists, e, false, v.Key));
                    relos.Add(new Relo(K.EnumValue, e, false, v.Key));
                }
            }
            foreach (var v in new[] { "PIDTYPE_PID___x", "PIDTYPE_TGID___x", "PIDTYPE_NOTHERE___x" })
            {
                relos.Add(new Relo(K.EnumExists, "pid_type___x", false, v));
                relos.Add(new Relo(K.EnumValue, "pid_type___x", false, v));
            }
            if (btf.FindTypes("mm_slot", BtfKind.Struct).Count == 1) // one local mm_slot (6.12): its paths against 5.10's two
            {
                foreach (var path in SameNamedPaths)
                    foreach (var kind in new[] { K.FieldExists, K.FieldOffset, K.FieldSize })
                        relos.Add(new Relo(kind, "mm_slot", false, path, Alone: true));
                relos.Add(new Relo(K.TypeExists, "mm_slot", false, "", Alone: true));
                relos.Add(new Relo(K.TypeSize, "mm_slot", false, "", Alone: true));
            }
            // 64-bit kernels have two struct elf_thread_core_info (binfmt_elf's and compat_binfmt_elf's; 32-bit ones one): prstatus at one
            // offset with another size (elf_prstatus, compat_elf_prstatus), so libbpf relocates its EXISTS and offset and
            // refuses its size; next agrees; notes follows prstatus, so its offset differs (every relocation refused, EXISTS too).
            if (btf.FindTypes("elf_thread_core_info", BtfKind.Struct).Count > 1)
                foreach (var path in new[] { "prstatus", "next", "notes" })
                    foreach (var kind in new[] { K.FieldExists, K.FieldOffset, K.FieldSize })
                        relos.Add(new Relo(kind, "elf_thread_core_info", false, path, Alone: true));
            relos.Add(new Relo(K.TypeExists, "pid_type___x", false, "enum"));
            relos.Add(new Relo(K.TypeSize, "pid_type___x", false, "enum"));

            var head = new StringBuilder();
            head.Append("#include \"").Append(vmlinuxH).Append("\"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_core_read.h>\n");
            head.Append(Flavors);
            head.Append("char LICENSE[] SEC(\"license\") = \"GPL\";\n");
            return (relos, head.ToString());
        }

        /// <summary>C source of programs r{i} for <paramref name="indices"/>.</summary>
        private static string Source(string head, List<Relo> relos, IEnumerable<int> indices)
        {
            var sb = new StringBuilder(head);
            foreach (int i in indices)
            {
                var r = relos[i];
                string tag = r.Union ? "union " : "struct ";
                string expr = r.Kind switch
                {
                    K.EnumValue => $"bpf_core_enum_value(enum {r.Root}, {r.Path})",
                    K.EnumExists => $"bpf_core_enum_value_exists(enum {r.Root}, {r.Path})",
                    K.TypeExists => $"bpf_core_type_exists({(r.Path == "enum" ? "enum " : tag)}{r.Root})",
                    K.TypeSize => $"bpf_core_type_size({(r.Path == "enum" ? "enum " : tag)}{r.Root})",
                    _ => $"__builtin_preserve_field_info((({tag}{r.Root} *)0)->{r.Path}, {(int)r.Kind})",
                };
                sb.Append("SEC(\"oracle\") __u64 r").Append(i).Append("(void *ctx) { return ").Append(expr).Append("; }\n");
            }
            return sb.ToString();
        }

        /// <summary>
        /// Compiles the relocations into objects of at most <see cref="ChunkSize"/> programs (clang -g's time grows
        /// quadratically with the functions of one object). Bitfield offset/size/shift relocations go in objects of their
        /// own: clang 14 refuses some ("Unsupported field expression for llvm.bpf.preserve.field.info, requiring too big
        /// alignment": a bitfield of a record aligned above 8 bytes that crosses a 64-bit boundary, task_struct.__mce_reserved:62;
        /// net_device's 5.10 enum bitfields), so a failing one is split until the fields clang rejects are known; those
        /// are left out (reported, not compared).
        /// </summary>
        private static (List<(string obj, int[] indices)> objects, List<string> rejected) CompileAll(string dir, string build, string head, List<Relo> relos)
        {
            var units = new List<List<int[]>>();
            var plain = Enumerable.Range(0, relos.Count).Where(i => !relos[i].Bitfield && !relos[i].Alone).ToArray();
            for (int s = 0; s < plain.Length; s += ChunkSize) units.Add(new List<int[]> { plain.Skip(s).Take(ChunkSize).ToArray() });
            var fields = Enumerable.Range(0, relos.Count).Where(i => relos[i].Bitfield).GroupBy(i => relos[i].Root + "." + relos[i].Path).Select(g => g.ToArray()).ToList();
            for (int s = 0; s < fields.Count; s += 48) units.Add(fields.Skip(s).Take(48).ToList());
            foreach (int i in Enumerable.Range(0, relos.Count).Where(i => relos[i].Alone)) units.Add(new List<int[]> { new[] { i } });
            var objects = new System.Collections.Concurrent.ConcurrentBag<(string, int[])>();
            var rejected = new System.Collections.Concurrent.ConcurrentBag<string>();
            int n = 0;
            void Compile(List<int[]> groups, bool splittable)
            {
                var idx = groups.SelectMany(g => g).ToArray();
                int k = System.Threading.Interlocked.Increment(ref n);
                string c = Path.Combine(dir, $"relos-{build}-{k}.bpf.c"), o = Path.Combine(dir, $"relos-{build}-{k}.o");
                File.WriteAllText(c, Source(head, relos, idx));
                var r = ProcessRunner.Run("clang", ["-target", "bpf", "-g", "-O2", "-Wno-unused-value", "-Wno-array-bounds", "-c", c, "-o", o]);
                if (r.ExitCode == 0) { objects.Add((o, idx)); return; }
                string why = r.StdErr.Split('\n').FirstOrDefault(l => l.Contains("error")) ?? r.StdErr;
                if (!splittable) throw new InvalidOperationException($"clang failed on {c}: {why}");
                if (groups.Count == 1) { rejected.Add($"{relos[idx[0]].Root}.{relos[idx[0]].Path}: {why.Trim()}"); return; }
                Compile(groups.Take(groups.Count / 2).ToList(), true);
                Compile(groups.Skip(groups.Count / 2).ToList(), true);
            }
            System.Threading.Tasks.Parallel.ForEach(units, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = 2 },
                u => Compile(u, splittable: u.Count > 1 || relos[u[0][0]].Bitfield));
            return (objects.ToList(), rejected.OrderBy(x => x, StringComparer.Ordinal).ToList());
        }

        private const int ChunkSize = 600;

        private sealed class Libbpf
        {
            public readonly Dictionary<int, (string state, ulong value, string? error)> ByIndex = new Dictionary<int, (string, ulong, string?)>();
        }

        private static Libbpf RunOracle(string driver, string obj, string targetBtf)
        {
            var r = ProcessRunner.Run(driver, [obj, targetBtf]);
            if (r.ExitCode == 3) throw new SkipTestException("libbpf could not load BPF programs (bpf() refused; needs root/CAP_BPF): " + r.StdErr.Trim());
            if (r.ExitCode != 0) throw new InvalidOperationException($"core_oracle {obj} {targetBtf} failed ({r.ExitCode}): {r.StdErr}");
            var res = new Libbpf();
            foreach (var line in r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ', 3);
                int idx = int.Parse(parts[0].Substring(1), CultureInfo.InvariantCulture);
                res.ByIndex[idx] = parts[1] switch
                {
                    "value" => ("value", ulong.Parse(parts[2], CultureInfo.InvariantCulture), null),
                    "poison" => ("poison", 0, null),
                    "error" => ("error", 0, parts.Length > 2 ? parts[2] : ""),
                    _ => ("unseen", 0, null),
                };
            }
            return res;
        }

        /// <summary>Our answer for one relocation: a value, "poison" (missing), or "error" (ambiguous: we throw).</summary>
        private static (string state, ulong value, string? why) Ours(TargetKernel k, Btf local, Relo r)
        {
            try
            {
                switch (r.Kind)
                {
                    case K.TypeExists:
                    case K.TypeSize:
                        {
                            bool exists; uint size;
                            if (r.Path == "enum")
                            {
                                var e = k.ResolveEnum(r.Root, local);
                                exists = e.Target != null; size = e.Target?.Size ?? 0;
                            }
                            else
                            {
                                var t = k.Resolve(r.Root, local);
                                exists = t.TypeExists; size = t.Size;
                                if (r.Kind == K.TypeSize && t.IsSizeAmbiguous) return ("error", 0, "size ambiguous"); // libbpf: relocation decision ambiguity
                            }
                            // libbpf: type-based relocations give 0 when the target has no such type (no poisoning).
                            return ("value", r.Kind == K.TypeExists ? (exists ? 1UL : 0) : exists ? size : 0, null);
                        }
                    case K.EnumExists:
                    case K.EnumValue:
                        {
                            var e = k.ResolveEnum(r.Root, local);
                            var v = e[r.Path];
                            if (r.Kind == K.EnumExists) return ("value", v.HasValue ? 1UL : 0, null);
                            return v.HasValue ? ("value", v.Value, null) : ("poison", 0, "enumerator missing");
                        }
                    default:
                        {
                            var f = k.ResolveField(r.Root, r.Path, local);
                            if (r.Kind == K.FieldExists) return ("value", f.Exists ? 1UL : 0, f.Problem);
                            if (!f.Exists) return ("poison", 0, f.Problem);
                            var kind = r.Kind switch
                            {
                                K.FieldOffset => CoreRelocationKinds.ByteOffset, K.FieldSize => CoreRelocationKinds.ByteSize, K.FieldSigned => CoreRelocationKinds.Signed,
                                K.FieldLShift => CoreRelocationKinds.LeftShift, _ => CoreRelocationKinds.RightShift,
                            };
                            if ((f.AmbiguousKinds & kind) != 0) return ("error", 0, f.Problem); // libbpf: relocation decision ambiguity
                            if (!f.IsLoadable) return ("error", 0, f.Problem); // libbpf: "can't be satisfied for bitfield"
                            ulong v = r.Kind switch
                            {
                                K.FieldOffset => f.ByteOffset,
                                K.FieldSize => f.ByteSize,
                                K.FieldSigned => f.IsSigned ? 1UL : 0,
                                // libbpf's LSHIFT uses the host's (little-endian) formula whatever the target: compare with that one.
                                K.FieldLShift => k.IsBigEndian ? (ulong)(uint)(64 - (int)(f.BitOffset + f.BitSize - (ulong)f.ByteOffset * 8)) : (ulong)(uint)f.LeftShift,
                                K.FieldRShift => (ulong)(uint)f.RightShift,
                                _ => throw new InvalidOperationException(),
                            };
                            return ("value", v, null);
                        }
                }
            }
            catch (CoreException e) when (e is not CoreFieldException) { return ("error", 0, e.Message); }
        }

        /// <summary>
        /// Field paths of tests/fixtures/ambiguity (target.c): same-named <c>___a</c>/<c>___b</c> candidates that put a field
        /// at one offset with another size, signedness or bitfield width, at other offsets, and struct members whose
        /// nested fields move with them (or, through a member that moved, land alike). Scalar leaves get every kind.
        /// </summary>
        private static readonly (string root, string path, bool scalar)[] AmbiguityRows =
        {
            ("amb_size", "v", true), ("amb_size", "w", true), ("amb_sign", "v", true), ("amb_sign", "w", true),
            ("amb_move", "v", true), ("amb_move", "w", true),
            ("amb_bits", "f", true), ("amb_bits", "g", true), ("amb_bits", "h", true),
            ("amb_nest", "b", false), ("amb_nest", "b.c", true), ("amb_nest", "b.d", true),
            ("amb_shift", "b", false), ("amb_shift", "b.c", true), ("amb_shift", "b.d", true),
            ("amb_member", "m", false), ("amb_member", "m.c", true), ("amb_member", "m.d", true),
        };

        /// <summary>
        /// libbpf decides ambiguity per relocation: on synthetic same-named candidates (tests/fixtures/ambiguity) every
        /// relocation kind of every row, each with local types of its own (<c>AMB_LOCAL(___rN)</c>, so libbpf's per-type
        /// candidate cache is not narrowed by another row), is relocated or refused by libbpf 1.1 exactly as by us.
        /// </summary>
        [FullSkippableFact]
        public void Same_named_candidates_agree_with_libbpf_per_relocation_kind()
        {
            if (!OperatingSystem.IsLinux()) throw new SkipTestException("not Linux");
            var dir = Path.Combine(Path.GetTempPath(), "btfbindings-libbpf-amb-" + Environment.ProcessId);
            Directory.CreateDirectory(dir);
            try
            {
                string driver = LibbpfOracles.Executable("core_oracle");
                var relos = new List<Relo>();
                var src = new StringBuilder("typedef unsigned long long __u64;\n#define SEC(n) __attribute__((section(n), used))\n");
                src.Append("#include \"").Append(Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "ambiguity", "local.h")).Append("\"\n");
                foreach (var (root, path, scalar) in AmbiguityRows)
                    foreach (var kind in scalar ? new[] { K.FieldExists, K.FieldOffset, K.FieldSize, K.FieldSigned, K.FieldLShift, K.FieldRShift } : new[] { K.FieldExists, K.FieldOffset, K.FieldSize })
                    {
                        int i = relos.Count;
                        relos.Add(new Relo(kind, $"{root}___r{i}", false, path));
                        src.Append($"AMB_LOCAL(___r{i})\nSEC(\"oracle\") __u64 r{i}(void *ctx) {{ return __builtin_preserve_field_info(((struct {root}___r{i} *)0)->{path}, {(int)kind}); }}\n");
                    }
                src.Append("char LICENSE[] SEC(\"license\") = \"GPL\";\n");
                string c = Path.Combine(dir, "amb.bpf.c"), o = Path.Combine(dir, "amb.o");
                File.WriteAllText(c, src.ToString());
                var cc = ProcessRunner.Run("clang", ["-target", "bpf", "-g", "-O2", "-c", c, "-o", o]);
                Assert.True(cc.ExitCode == 0, "clang: " + cc.StdErr);
                string target = Fixtures.Path("ambiguity/target.o");
                var lib = RunOracle(driver, o, target);
                var local = Btf.Load(o);
                var kernel = new TargetKernel(Btf.Load(target), "ambiguity/target.o");
                var disagreements = new List<string>();
                int refused = 0, relocated = 0;
                for (int i = 0; i < relos.Count; i++)
                {
                    var r = relos[i];
                    Assert.True(lib.ByIndex.TryGetValue(i, out var l), $"libbpf printed nothing for {r.Label}");
                    var ours = Ours(kernel, local, r);
                    string theirs = l.state == "value" ? l.value.ToString(CultureInfo.InvariantCulture) : l.state + (l.error != null ? " (" + l.error + ")" : "");
                    _out.WriteLine($"{r.Kind,-12} {r.Root.Substring(0, r.Root.IndexOf("___", StringComparison.Ordinal))}.{r.Path,-4} libbpf {theirs}; ours {(ours.state == "value" ? ours.value.ToString(CultureInfo.InvariantCulture) : ours.state)}");
                    if (l.state == "error") refused++; else relocated++;
                    if (l.state != ours.state || l.state == "value" && l.value != ours.value) disagreements.Add($"{r.Label}: ours {Show(ours)}, libbpf {theirs}");
                }
                string line = $"ambiguity rows: {relos.Count} relocations ({refused} refused by libbpf, {relocated} relocated), {disagreements.Count} disagreements";
                _out.WriteLine(line);
                CoreSummary.Record("libbpf differential, same-named candidates", line);
                Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
                Assert.True(refused > 0 && relocated > 0, line); // the rows exercise both answers
            }
            finally { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } }
        }

        private static string Show((string state, ulong value, string? why) x) => x.state == "value" ? x.value.ToString(CultureInfo.InvariantCulture) : x.state + (x.why != null ? " (" + x.why + ")" : "");

        private static readonly (string build, string[] targets)[] Pairs =
        {
            ("x86_64-6.12", new[] { "x86_64-6.12", "x86_64-5.10", "aarch64-6.1", "i686-6.1", "armhf-6.1", "s390x-6.12" }),
            ("x86_64-5.10", new[] { "x86_64-5.10", "x86_64-6.12" }),
        };

        /// <summary>The by-name API on values libbpf 1.1 gave for the same relocations (core_oracle, x86_64-6.12 vmlinux.h as local types).</summary>
        [Fact]
        public void By_name_field_paths_give_libbpf_values()
        {
            var local = CoreFixtures.Kernel("x86_64-6.12");
            var k510 = new TargetKernel(CoreFixtures.Kernel("x86_64-5.10"), "x86_64-5.10");
            var k612 = new TargetKernel(local, "x86_64-6.12");
            Assert.Equal(208u, k510.FieldOffset("task_struct", "se.vruntime", local));
            Assert.Equal(240u, k612.FieldOffset("task_struct", "se.vruntime", local));
            Assert.Equal(2739u, k510.FieldOffset("task_struct", "comm[3]", local));
            Assert.Equal(2979u, k612.FieldOffset("task_struct", "comm[3]", local));
            Assert.Equal(24u, k612.FieldOffset("task_struct", "__state", local));
            Assert.False(k510.FieldExists("task_struct", "__state", local));   // 5.10 has 'long state'
            Assert.Equal(9408u, k510.Resolve("task_struct", local).Size);
            Assert.Equal(9792u, k612.Resolve("task_struct", local).Size);

            var f = k510.ResolveField("task_struct", "__state", local);
            Assert.False(f.Exists);
            Assert.False(f.IsLoadable);
            Assert.Throws<CoreFieldException>(() => k510.FieldOffset("task_struct", "__state", local));

            // A bitfield: libbpf's little-endian shift formulas over the load window (the values themselves are in the differential test).
            var bf = k612.ResolveField("task_struct", "in_execve", local);
            Assert.True(bf.Exists && bf.IsBitfield && bf.IsLoadable);
            Assert.Equal(64 - (int)bf.BitSize, bf.RightShift);
            Assert.Equal(64 - (int)(bf.BitOffset + bf.BitSize - (ulong)bf.ByteOffset * 8), bf.LeftShift);

            Assert.Equal(1UL, k612.ResolveEnum("pid_type", local)["PIDTYPE_TGID"]);
            Assert.Throws<ArgumentException>(() => k612.ResolveField("task_struct", "no_such_member", local));
            Assert.Throws<ArgumentException>(() => k612.ResolveField("task_struct", "pid.x", local));
            Assert.Throws<ArgumentException>(() => k612.Resolve("no_such_struct_anywhere", local));
        }

        [FullSkippableFact]
        public void Core_relocations_agree_with_libbpf()
        {
            if (!OperatingSystem.IsLinux()) throw new SkipTestException("not Linux");
            var sw = Stopwatch.StartNew();
            var dir = Path.Combine(Path.GetTempPath(), "btfbindings-libbpf-diff-" + Environment.ProcessId);
            Directory.CreateDirectory(dir);
            string driver = LibbpfOracles.Executable("core_oracle");

            try { Run(dir, driver, sw); }
            finally { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } }
        }

        private void Run(string dir, string driver, Stopwatch sw)
        {
            var disagreements = new List<string>();
            var summary = new List<string>();
            int total = 0;
            foreach (var (build, targets) in Pairs)
            {
                var buildBtf = CoreFixtures.Kernel(build);
                string vmlinuxH = Path.Combine(dir, "vmlinux-" + build + ".h");
                File.WriteAllBytes(vmlinuxH, Bpftool.Dump(Fixtures.Path(build), format: "c").StdOutBytes);
                var (relos, head) = Generate(buildBtf, vmlinuxH);
                var (objs, rejected) = CompileAll(dir, build, head, relos);
                var localOf = new Btf?[relos.Count];
                foreach (var (o, idx) in objs)
                {
                    var btf = Btf.Load(o);
                    foreach (var i in idx) localOf[i] = btf;
                }
                _out.WriteLine($"build {build}: {relos.Count} relocations ({relos.Count(r => r.Kind <= K.FieldRShift)} field, {relos.Count(r => r.Kind is K.EnumValue or K.EnumExists)} enum, {relos.Count(r => r.Kind is K.TypeExists or K.TypeSize)} type; {relos.Where(r => r.Kind <= K.FieldRShift).Select(r => r.Root + "." + r.Path).Distinct().Count()} field paths) in {objs.Count} objects, compiled at {sw.Elapsed.TotalSeconds:F1} s");
                foreach (var x in rejected) { _out.WriteLine($"  not compared, clang rejects: {x}"); summary.Add($"{build}: clang rejects {x}"); }
                foreach (var target in targets)
                {
                    var t0 = sw.Elapsed;
                    var lib = new Libbpf();
                    foreach (var (o, _) in objs)
                        foreach (var kv in RunOracle(driver, o, Fixtures.Path(target)).ByIndex) lib.ByIndex[kv.Key] = kv.Value;
                    var kernel = new TargetKernel(CoreFixtures.Kernel(target), target);
                    int compared = 0, missing = 0, errors = 0, bad = 0;
                    for (int i = 0; i < relos.Count; i++)
                    {
                        var r = relos[i];
                        if (localOf[i] == null) continue; // clang rejected it
                        if (!lib.ByIndex.TryGetValue(i, out var l)) { disagreements.Add($"{build} -> {target}: {r.Label}: libbpf printed nothing"); bad++; continue; }
                        var o = Ours(kernel, localOf[i]!, r);
                        compared++;
                        if (l.state == "poison") missing++;
                        if (l.state == "error") errors++;
                        bool same = l.state == o.state && (l.state != "value" || l.value == o.value);
                        if (!same)
                        {
                            bad++;
                            disagreements.Add($"{build} -> {target}: {r.Label}: ours {Show(o)}, libbpf {(l.state == "value" ? l.value.ToString(CultureInfo.InvariantCulture) : l.state + (l.error != null ? " (" + l.error + ")" : ""))}");
                        }
                    }
                    total += compared;
                    string line = $"{build} -> {target}: {compared} relocations compared ({missing} missing/poisoned, {errors} refused by libbpf), {bad} disagreements, {(sw.Elapsed - t0).TotalSeconds:F1} s";
                    summary.Add(line);
                    _out.WriteLine(line);
                }
            }
            _out.WriteLine($"{total} relocations compared in {sw.Elapsed.TotalSeconds:F1} s");
            CoreSummary.Record("libbpf differential", string.Join("; ", summary));
            foreach (var d in disagreements.Take(400)) _out.WriteLine(d);
            File.WriteAllLines(Path.Combine(Path.GetTempPath(), "btfbindings-libbpf-differential.txt"), summary.Concat(disagreements));
            Assert.True(disagreements.Count == 0, $"{disagreements.Count} disagreements with libbpf, first ones:\n" + string.Join("\n", disagreements.Take(40)));
            Assert.True(total > 3000, $"only {total} relocations compared");
        }
    }
}
