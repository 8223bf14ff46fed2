using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using BtfBindings;
using BtfBindings.Compression;
using BtfBindings.Containers;
using BtfBindings.Dump;
using BtfBindings.Emit;
using BtfBindings.Layout;
using static BtfFuzz.Contract;

namespace BtfFuzz
{
    /// <summary>
    /// One harness per input format. Each takes the whole input, calls the public entry points that read that format
    /// (<see cref="Contract.Call(Action, Type[])"/> with the exceptions each documents) and touches what comes out, so
    /// lazily read data (names, members, sizes) is really read.
    /// </summary>
    public static partial class Harnesses
    {
        private static readonly Dictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
        {
            ["btf"] = RawBtf,
            ["split"] = SplitBtf,
            ["elf"] = Elf,
            ["gzip"] = Gzip,
            ["xz"] = Xz,
            ["lzma"] = Lzma,
            ["tar"] = Tar,
            ["lz4"] = Lz4,
            ["kernel"] = Kernel,
            ["core"] = Core,
            ["scan"] = ScanAssembly,
        };

        public static IEnumerable<string> Names => All.Keys;

        public static Action<byte[]>? Get(string name) => All.TryGetValue(name, out var h) ? h : null;

        /// <summary>Loads the fixed inputs a harness needs, once per process (before the fork server starts).</summary>
        public static void Prepare(string name)
        {
            if (name == "split") _ = SplitBase;
            if (name == "core") _ = CoreLocal;
            if (name == "scan") _ = ScanBuildBtf;
        }

        private static string FixedPath(string file) => Path.Combine(AppContext.BaseDirectory, "fixed", file);

        // ---- raw BTF ------------------------------------------------------------------------------------------

        /// <summary>Raw BTF: parse, touch every type, dump (text and JSON), plan everything, build the CO-RE metadata and emit C#.</summary>
        public static void RawBtf(byte[] data)
        {
            var btf = Call(() => Btf.Parse((byte[])data.Clone(), "fuzz.btf"), Contract.BtfErrors);
            FromFileAgrees(data, btf);
            if (btf == null) return;
            TouchAll(btf);
            Call(() => BtfRawDump.WriteText(btf, Stream.Null), Contract.BtfErrors);
            Call(() => BtfRawDump.WriteJson(btf, Stream.Null), Contract.BtfErrors);
            var plan = Call(() => LayoutPlanner.PlanAll(btf), Contract.BtfErrors);
            if (plan != null) UsePlan(plan);
            // A few names through Plan (name lookup, typedef resolution, ___N duplicates, suggestions), following pointers.
            var names = FirstNames(btf, 4);
            names.Add("task_struct___2");
            names.Add("no_such_type");
            var p2 = Call(() => LayoutPlanner.Plan(btf, names, new LayoutOptions { FollowPointers = true }, out _), Contract.BtfErrors);
            if (p2 != null) UsePlan(p2);
            btf.Dispose();
        }

        private static readonly string ScratchFile = NewScratchFile();

        private static string NewScratchFile()
        {
            // One per process, in memory where there is a tmpfs; removed at exit (and by run.sh when the process was killed).
            var path = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"btfbindings-fuzz-{Environment.ProcessId}.btf");
            AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { File.Delete(path); } catch (IOException) { } };
            return path;
        }

        /// <summary>
        /// Differential check of the file reader: <c>Btf.Load</c> of raw BTF parses while it reads (pooled buffers larger
        /// than the file, reused across loads) and must agree with <c>Btf.Parse</c> of the same bytes: both fail, or both
        /// give the same raw dump.
        /// </summary>
        private static void FromFileAgrees(byte[] data, Btf? fromMemory)
        {
            if (data.Length < 4 || !((data[0] == 0x9f && data[1] == 0xeb) || (data[0] == 0xeb && data[1] == 0x9f))) return;
            File.WriteAllBytes(ScratchFile, data);
            var fromFile = Call(() => Btf.Load(ScratchFile), Contract.BtfErrors);
            try
            {
                if ((fromFile == null) != (fromMemory == null))
                    throw new DifferentialException($"Btf.Load {(fromFile == null ? "failed" : "succeeded")} but Btf.Parse {(fromMemory == null ? "failed" : "succeeded")} on the same bytes ({Contract.LastAccepted})");
                if (fromFile == null || fromMemory == null) return;
                string a = Dump(fromMemory), b = Dump(fromFile);
                if (a != b)
                {
                    int i = 0;
                    while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
                    throw new DifferentialException($"Btf.Load and Btf.Parse dump differently from character {i}: '{Excerpt(a, i)}' vs '{Excerpt(b, i)}'");
                }
            }
            finally { fromFile?.Dispose(); }
        }

        private static string Dump(Btf btf)
        {
            var ms = new MemoryStream();
            Call(() => BtfRawDump.WriteText(btf, ms), Contract.BtfErrors);
            return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
        }

        private static string Excerpt(string s, int at) => s.Substring(Math.Max(0, at - 40), Math.Min(s.Length - Math.Max(0, at - 40), 80));

        // ---- split BTF ----------------------------------------------------------------------------------------

        private static Btf? _splitBase;

        /// <summary>The fixed base of the split harness: Debian's x86_64 6.12 vmlinux BTF (tests/fixtures), parsed once.</summary>
        private static Btf SplitBase => _splitBase ??= Btf.Parse(Gunzip(File.ReadAllBytes(FixedPath("x86_64-6.12.btf.gz"))), "vmlinux");

        /// <summary>Split BTF (a kernel module's .BTF) over a fixed vmlinux base: parse, touch the module's types, plan and emit a few of them.</summary>
        public static void SplitBtf(byte[] data)
        {
            var baseBtf = SplitBase;
            var btf = Call(() => Btf.Parse((byte[])data.Clone(), "module.btf", baseBtf), Contract.BtfErrors);
            if (btf == null) return;
            TouchAll(btf);
            Call(() => BtfRawDump.WriteText(btf, Stream.Null), Contract.BtfErrors);
            var names = FirstNames(btf, 6);
            var plan = Call(() => LayoutPlanner.Plan(btf, names, null, out _), Contract.BtfErrors);
            if (plan != null) UsePlan(plan);
        }

        // ---- containers ---------------------------------------------------------------------------------------

        /// <summary>ELF: the section table, every section's contents, then the .BTF section through both container readers.</summary>
        public static void Elf(byte[] data)
        {
            Call(() =>
            {
                using var ms = new MemoryStream(data, writable: false);
                var elf = ElfFile.Read(ms, "fuzz.o");
                long sum = elf.Machine + (elf.Is64Bit ? 1 : 0) + (elf.IsBigEndian ? 2 : 0);
                foreach (var s in elf.Sections)
                {
                    sum += s.Name.Length + s.Type + s.Offset + s.Size;
                    if (s.Size <= 1 << 20) Call(() => sum += elf.ReadSection(ms, s).Length, Contract.BtfErrors);
                }
                _ = elf.FindSection(".BTF");
                GC.KeepAlive(sum);
            }, Contract.BtfErrors);
            ParseContainer(data, "fuzz.o", light: false);
            FindInImage(data, "fuzz.o");
        }

        /// <summary>gzip: BtfContainer's GZipStream path and KernelImage's own header parser + DeflateStream.</summary>
        public static void Gzip(byte[] data)
        {
            ParseContainer(data, "fuzz.btf.gz", light: true);
            FindInImage(data, "fuzz.btf.gz");
        }

        /// <summary>xz: the decoder (whole file and single stream), and the one unwrapping path (BTFHub .btf.tar.xz included).</summary>
        public static void Xz(byte[] data)
        {
            Call(() => XzDecoder.Decompress(data, "fuzz.xz", 64L << 20), Contract.DecoderErrors);
            Call(() => XzDecoder.DecompressSingleStream(data, out _, "fuzz.xz", 64L << 20), Contract.DecoderErrors);
            Call(() => XzDecoder.Decompress(data, "fuzz.xz", 100), Contract.DecoderErrors); // the output cap
            ParseContainer(data, "fuzz.btf.tar.xz", light: true);
        }

        /// <summary>LZMA2 (+ delta/BCJ filters) inside a generated valid xz container: the decoders behind the CRCs (see <see cref="XzWrap"/>).</summary>
        public static void Lzma(byte[] data)
        {
            var xz = XzWrap.Wrap(data);
            Call(() => XzDecoder.DecompressSingleStream(xz, out _, "fuzz.lzma2", 16L << 20), Contract.DecoderErrors);
            Call(() => XzDecoder.DecompressSingleStream(xz, out _, "fuzz.lzma2", 1000), Contract.DecoderErrors);
        }

        /// <summary>tar (BTFHub archives): every entry, and the one unwrapping path with its tar policy (the .btf member).</summary>
        public static void Tar(byte[] data)
        {
            Call(() =>
            {
                long sum = 0;
                foreach (var e in TarReader.ReadAllEntries(data, "fuzz.tar"))
                    sum += e.Name.Length + (int)e.Type + e.TypeFlag + (e.LinkName?.Length ?? 0) + e.Mode + e.ModificationTime.Ticks + e.HeaderOffset + e.Size + e.ToString().Length;
                GC.KeepAlive(sum);
            }, Contract.DecoderErrors);
            ParseContainer(data, "fuzz.tar", light: true);
            FindInImage(data, "fuzz.tar");
        }

        /// <summary>LZ4 legacy frames: the frame decoder (with a generous and a tiny cap), one raw block, and kernel-image scanning.</summary>
        public static void Lz4(byte[] data)
        {
            Call(() => Lz4LegacyDecoder.Decompress(data, 64L << 20, out _), Contract.DecoderErrors);
            Call(() => Lz4LegacyDecoder.Decompress(data, 100, out _), Contract.DecoderErrors);
            if (data.Length > 8)
                Call(() => Lz4LegacyDecoder.DecodeBlock(data.AsSpan(8), new byte[1 << 16], 16, 1 << 15), Contract.DecoderErrors);
            FindInImage(data, "fuzz.lz4");
        }

        /// <summary>Kernel images (bzImage, EFI zboot, Image.gz, raw images scanned for a BTF header or payloads).</summary>
        public static void Kernel(byte[] data)
        {
            long sum = (KernelImage.IsBzImage(data) ? 1 : 0) + (KernelImage.IsEfiZboot(data) ? 2 : 0);
            foreach (var off in KernelImage.FindHeaderCandidates(data))
                if (KernelImage.TryReadHeader(data, off, out var h, allowSplit: true)) sum += h.TotalLength + h.TypeLength + h.StringLength;
            GC.KeepAlive(sum);
            FindInImage(data, "vmlinuz");
            ParseContainer(data, "vmlinuz", light: true);
        }

        private static void FindInImage(byte[] data, string source)
        {
            var found = Call(() => KernelImage.FindBtf(data, source), Contract.BtfErrors);
            if (found == null) return;
            GC.KeepAlive(found.Description + found.ValidationNote);
            if (found.Validated)
            {
                var btf = Call(() => Btf.Parse((byte[])found.Data.Clone(), source), Contract.BtfErrors);
                if (btf != null) TouchAll(btf);
            }
        }

        private static void ParseContainer(byte[] data, string source, bool light)
        {
            var btf = Call(() => BtfContainer.Parse((byte[])data.Clone(), source), Contract.BtfErrors);
            if (btf == null) return;
            TouchAll(btf);
            if (!light)
            {
                var plan = Call(() => LayoutPlanner.PlanAll(btf), Contract.BtfErrors);
                if (plan != null) UsePlan(plan);
            }
        }

        // ---- CO-RE --------------------------------------------------------------------------------------------

        private static PlannedLayouts? _coreLocal;

        /// <summary>
        /// The fixed build-time side of the CO-RE harness: the layouts the generator would emit for the types of
        /// tests/fuzz/fixed/core-local.btf (minimized from Debian's x86_64 6.12: iphdr tcphdr sk_buff pageflags bpf_attr).
        /// </summary>
        private static PlannedLayouts CoreLocal
        {
            get
            {
                if (_coreLocal != null) return _coreLocal;
                var btf = Btf.Parse(File.ReadAllBytes(FixedPath("core-local.btf")), "core-local.btf");
                var plan = LayoutPlanner.Plan(btf, CoreTypes, null, out var unknown);
                if (unknown.Count > 0) throw new InvalidOperationException("core-local.btf lacks " + string.Join(", ", unknown.Select(u => u.Name)));
                return _coreLocal = new PlannedLayouts(plan);
            }
        }

        private static readonly string[] CoreTypes = { "iphdr", "tcphdr", "sk_buff", "pageflags", "bpf_attr" };

        /// <summary>CO-RE: the fixed layouts resolved against a mutated target BTF, then every field read and written through the resolution.</summary>
        public static void Core(byte[] data)
        {
            var local = CoreLocal;
            var btf = Call(() => Btf.Parse((byte[])data.Clone(), "target.btf"), Contract.BtfErrors);
            if (btf == null) return;
            var kernel = new TargetKernel(btf, "fuzz-target");
            foreach (var name in CoreTypes)
            {
                var layout = local[name];
                if (layout == null) continue;
                if (layout.Kind == BtfKind.Enum || layout.Kind == BtfKind.Enum64)
                {
                    Call(() =>
                    {
                        var r = kernel.ResolveEnum(layout);
                        long sum = r.IsVerified ? 1 : 0;
                        foreach (var v in r.Values) sum += (long)(v ?? 0);
                        foreach (var kv in layout.EnumValues) sum += (long)(r[kv.Key] ?? 0);
                        GC.KeepAlive(sum + r.Candidates.Count);
                    }, Contract.CoreErrors);
                    continue;
                }
                Call(() => Exercise(local, layout, kernel.ResolveUncached(layout), 0), Contract.CoreErrors);
            }
            Call(() => kernel.TryGetEnumValue("pageflags", "PG_dirty", out _), Contract.CoreErrors);
            Call(() => GC.KeepAlive(kernel.FindCandidates("sk_buff", BtfKind.Struct).Select(kernel.Describe).ToList()), Contract.CoreErrors);
        }

        /// <summary>Reads, writes and slices every field of <paramref name="res"/> in a target-sized buffer, and resolves nested types.</summary>
        private static void Exercise(PlannedLayouts local, BtfTypeLayout layout, CoreTypeResolution res, int depth)
        {
            long sum = res.Report(includeUnchanged: true).Length + res.Candidates.Count + (res.TypeExists ? 1 : 0);
            // The buffer a view would get: the target's size (capped: a mutated size may be absurd), and one cut short.
            var full = new byte[Math.Min(res.Size, 1u << 16)];
            for (int i = 0; i < full.Length; i++) full[i] = (byte)(i * 37 + 11);
            var shortBuf = full.AsSpan(0, full.Length / 2).ToArray();
            for (int i = 0; i < res.Fields.Count; i++)
            {
                var f = res.Fields[i];
                sum += f.BitOffset + f.ByteOffset + f.ByteSize + (int)f.Status + (f.Problem?.Length ?? 0) + f.ToString().Length;
                sum += res.Exists(i) ? 1 : 0;
                sum += res.TryIndexOf(f.Name);
                foreach (var buf in new[] { full, shortBuf })
                {
                    int idx = i;
                    Call(() => sum += (long)res.Read(idx, buf), Contract.CoreErrors);
                    Call(() => res.Write(idx, buf, 0x5a5a5a5a5a5a5a5aUL), Contract.CoreErrors);
                    Call(() => sum += res.Read128(idx, buf) == 0 ? 0 : 1, Contract.CoreErrors);
                    Call(() => sum += res.FieldBytes(idx, buf.AsSpan()).Length, Contract.CoreErrors);
                    Call(() => sum += res.ArraySpan<byte>(idx, buf).Length, Contract.CoreErrors);
                    Call(() => sum += res.FlexibleSpan<byte>(idx, buf, 3).Length, Contract.CoreErrors);
                    if (f.Exists && (f.ArrayLength > 0 || f.IsFlexibleArray))
                    {
                        Call(() => sum += res.ElementBytes(idx, 0, buf).Length, Contract.CoreErrors);
                        if (f.ArrayLength > 1) Call(() => sum += res.ElementBytes(idx, (int)Math.Min(f.ArrayLength - 1, int.MaxValue), buf).Length, Contract.CoreErrors);
                    }
                }
                if (depth < 3 && f.Exists)
                {
                    var fl = local.FieldTypeLayout(layout, i);
                    if (fl != null)
                    {
                        int idx = i;
                        bool isArray = layout.Fields[i].Kind == BtfFieldKind.Array || layout.Fields[i].Kind == BtfFieldKind.FlexibleArray;
                        var nested = Call(() => isArray ? res.Element(idx, fl) : res.Nested(idx, fl), Contract.CoreErrors);
                        if (nested != null) Exercise(local, fl, nested, depth + 1);
                    }
                }
            }
            GC.KeepAlive(sum);
        }

        // ---- shared -------------------------------------------------------------------------------------------

        /// <summary>Reads every field of every type record the way the dump, planner and matcher do, plus sizes and alignments.</summary>
        public static void TouchAll(Btf btf)
        {
            long sum = btf.TypeCount + btf.PointerSize + (btf.IsBigEndian ? 1 : 0) + btf.StringsEnd;
            for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
            {
                var t = btf[id];
                sum += t.Name.Length + (int)t.Kind + t.Vlen + (t.KindFlag ? 1 : 0) + t.ToString().Length;
                switch (t.Kind)
                {
                    case BtfKind.Int:
                        sum += (int)t.IntEncoding + t.IntBits + t.IntBitOffset + t.Size + (t.IsSigned ? 1 : 0);
                        break;
                    case BtfKind.Array:
                        sum += t.ArrayElementTypeId + t.ArrayIndexTypeId + t.ArrayLength;
                        break;
                    case BtfKind.Struct:
                    case BtfKind.Union:
                        sum += t.Size;
                        foreach (var m in t.Members)
                            sum += m.Name.Length + m.TypeId + m.BitOffset + m.BitfieldSize + m.Index + (int)m.Type.Kind;
                        break;
                    case BtfKind.Enum:
                    case BtfKind.Enum64:
                        sum += t.Size + (t.IsSigned ? 1 : 0);
                        foreach (var v in t.EnumValues) sum += v.Name.Length + (long)v.RawValue + v.SignedValue;
                        break;
                    case BtfKind.FuncProto:
                        sum += t.TypeId;
                        foreach (var p in t.Params) sum += p.Name.Length + p.TypeId;
                        break;
                    case BtfKind.Func:
                    case BtfKind.Var:
                        sum += (int)t.Linkage + t.TypeId;
                        break;
                    case BtfKind.DataSec:
                        sum += t.Size;
                        foreach (var v in t.VarSecInfos) sum += v.TypeId + v.Offset + v.Size;
                        break;
                    case BtfKind.DeclTag:
                        sum += t.ComponentIndex + t.TypeId;
                        break;
                    case BtfKind.Fwd:
                        sum += t.IsUnionForward ? 1 : 0;
                        break;
                    case BtfKind.Ptr:
                    case BtfKind.Typedef:
                    case BtfKind.Volatile:
                    case BtfKind.Const:
                    case BtfKind.Restrict:
                    case BtfKind.TypeTag:
                        sum += t.TypeId + (int)t.Type.Kind;
                        break;
                    default:
                        sum += t.Size;
                        break;
                }
                int tid = id;
                Call(() => sum += btf.ResolveSize(tid), Contract.BtfErrors);
                Call(() => sum += btf.AlignOf(tid), Contract.BtfErrors);
                Call(() => sum += btf.Skip(tid), Contract.BtfErrors);
                Call(() => sum += btf.GetReferencedIds(tid).Count(), Contract.BtfErrors);
            }
            foreach (var name in FirstNames(btf, 3))
            {
                sum += btf.FindTypes(name).Count + btf.FindCoreCandidates(name, BtfKind.Struct).Count;
                sum += btf.FindType(name, BtfKind.Typedef)?.Id ?? 0;
            }
            sum += btf.NamedTypes().Take(1000).Count();
            Call(() => sum += btf.Closure(new[] { btf.TypeCount - 1 }).Count, Contract.BtfErrors);
            GC.KeepAlive(sum);
        }

        /// <summary>What the generator and tools do with a plan: CO-RE metadata for every type, then the C# (both emitter entry points).</summary>
        private static void UsePlan(LayoutPlan plan)
        {
            long sum = plan.Warnings.Count + plan.AnonymousEnumConstants.Count;
            var layouts = Call(() => new PlannedLayouts(plan), Contract.BtfErrors);
            if (layouts != null)
                foreach (var kv in layouts.All)
                {
                    sum += kv.Value.Fields.Count;
                    for (int i = 0; i < kv.Value.Fields.Count; i++) sum += layouts.FieldTypeLayout(kv.Value, i)?.Size ?? 0;
                }
            Call(() =>
            {
                var sb = new StringBuilder();
                var options = new EmitOptions { Namespace = "Fuzz", SourceLabel = plan.SourceName };
                options.Containers.Add(new KeyValuePair<string, string>("public static partial class", "Kernel"));
                new CSharpEmitter(plan, options).EmitSingleFile(sb, "fuzz");
                sum += sb.Length;
            }, Contract.BtfErrors);
            Call(() =>
            {
                var options = new EmitOptions { SourceLabel = "x", Accessibility = "internal", RegisterEnums = false };
                foreach (var f in new CSharpEmitter(plan, options).Emit()) sum += f.Text.Length + f.HintName.Length;
            }, Contract.BtfErrors);
            GC.KeepAlive(sum);
        }

        /// <summary>The first <paramref name="n"/> named structs/unions/enums/typedefs of the blob (its own types, not the base's).</summary>
        private static List<string> FirstNames(Btf btf, int n)
        {
            var names = new List<string>();
            for (int id = btf.FirstTypeId; id < btf.TypeCount && names.Count < n; id++)
            {
                var t = btf[id];
                if (t.IsAnonymous) continue;
                if (t.Kind == BtfKind.Struct || t.Kind == BtfKind.Union || t.Kind == BtfKind.Enum || t.Kind == BtfKind.Enum64 || t.Kind == BtfKind.Typedef)
                    names.Add(t.Name);
            }
            return names;
        }

        private static byte[] Gunzip(byte[] gz)
        {
            using var z = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
            using var o = new MemoryStream();
            z.CopyTo(o);
            return o.ToArray();
        }
    }
}
