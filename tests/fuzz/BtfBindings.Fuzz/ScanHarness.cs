using System;
using System.IO;
using BtfBindings;
using BtfBindings.Compatibility;
using static BtfFuzz.Contract;

namespace BtfFuzz
{
    /// <summary>
    /// The compiled-assembly scanner (<c>AssemblyUseScanner</c>: the build's WriteCompatReport after every compile, and
    /// <c>btfgen compat --assembly</c>), which reads IL bodies and the #US heap in place through raw pointers. The input is
    /// an assembly and optionally a second file beside it:
    /// <c>byte 0</c> (mode, modulo 4): 0 the assembly alone, 1 the second file is its portable PDB (<c>ScanProbe.pdb</c>),
    /// 2 it is the referenced types assembly (<c>ScanProbe.BtfTypes.dll</c>) passed as a reference path, 3 the same file
    /// only beside it (found by the reference's name); <c>bytes 1-4</c> the assembly's length (little-endian, clamped),
    /// then the assembly, then the second file.
    /// </summary>
    /// <summary>An error about a bad input that does not say which file (the project's rule: it names it).</summary>
    public sealed class UnnamedFileException : Exception
    {
        public UnnamedFileException(string message, Exception inner) : base(message, inner) { }
    }

    public static partial class Harnesses
    {
        /// <summary>What the scanner documents: BadImageFormatException naming the file; nothing else.</summary>
        public static readonly Type[] ScanErrors = { typeof(BadImageFormatException) };

        private const string ScanAppName = "ScanProbe";

        private static readonly string ScanDir = NewScanDir();

        private static string NewScanDir()
        {
            // One per process, in memory where there is a tmpfs; removed at exit (and by run.sh when the process was killed).
            var dir = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"btfbindings-fuzz-scan-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
            return dir;
        }

        private static Btf? _scanBuildBtf;

        /// <summary>The build-time BTF the scan's uses are selected for (<c>ForBuildBtf</c>): the CO-RE harness's fixed BTF (iphdr among its types).</summary>
        private static Btf ScanBuildBtf => _scanBuildBtf ??= Btf.Parse(File.ReadAllBytes(FixedPath("core-local.btf")), "x86_64-6.12.btf");

        /// <summary>The scanner over the input's files, then everything a report reads from the scan.</summary>
        public static void ScanAssembly(byte[] data)
        {
            int mode = data.Length > 0 ? data[0] % 4 : 0;
            int first = data.Length >= 5 ? (int)Math.Min(BitConverter.ToUInt32(data, 1), (uint)(data.Length - 5)) : 0;
            int at = Math.Min(5, data.Length);
            string app = Path.Combine(ScanDir, ScanAppName + ".dll"), pdb = Path.Combine(ScanDir, ScanAppName + ".pdb"), types = Path.Combine(ScanDir, ScanAppName + ".BtfTypes.dll");
            File.WriteAllBytes(app, data.AsSpan(at, first).ToArray());
            File.Delete(pdb);
            File.Delete(types);
            var second = data.AsSpan(at + first);
            if (mode == 1) File.WriteAllBytes(pdb, second.ToArray());
            if (mode >= 2) File.WriteAllBytes(types, second.ToArray());
            var references = mode == 2 ? new[] { Path.Combine(ScanDir, "System.Runtime.dll"), types } : null;
            var buildBtf = ScanBuildBtf;
            Call(() =>
            {
                AssemblyUseScan scan;
                try { scan = AssemblyUseScanner.Scan(app, references); }
                catch (BadImageFormatException e) when (!e.Message.Contains(ScanDir, StringComparison.Ordinal))
                {
                    throw new UnnamedFileException("the scanner's BadImageFormatException names no file: " + e.Message, e);
                }
                long sum = scan.GeneratedTypes + (scan.HasPdb ? 1 : 0) + scan.Path.Length;
                foreach (var (use, site) in scan.Uses)
                    sum += use.ToString().Length + site.Method.Length + site.ILOffset + (site.Document?.Length ?? 0) + site.Line;
                foreach (var s in scan.SourceFiles) sum += s.Length;
                foreach (var kv in scan.SourceOf) sum += kv.Value.Length;
                sum += scan.Grouped().Count;
                var kept = scan.ForBuildBtf(buildBtf, "x86_64-6.12.btf", out var skipped);
                foreach (var (use, sites) in kept) sum += use.Text.Length + sites.Count;
                if (Trace) Console.Error.WriteLine($"[trace]   {scan.GeneratedTypes} generated types, {scan.Uses.Count} uses ({kept.Count} kept), pdb {scan.HasPdb}: {string.Join(", ", scan.Uses)}");
                GC.KeepAlive(sum + skipped.Count);
            }, ScanErrors);
        }
    }
}
