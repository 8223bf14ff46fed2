using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.InteropServices;
using BtfBindings.Bpf;
using BtfBindings.Bpf.Interop;
using BtfBindings.Tests.Cli;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// The BPF objects of tests/bpf/runtime, compiled by clang once per run into a temp folder (never committed), and the
    /// check that skips a test, with the reason, where this process may not use bpf().
    /// </summary>
    internal static unsafe class BpfTestSupport
    {
        private static readonly ConcurrentDictionary<string, Lazy<string>> Objects = new();
        private static readonly Lazy<string?> Refusal = new(ProbeRefusal);

        /// <summary>The compiled object tests/bpf/runtime/NAME.bpf.c.</summary>
        internal static string Object(string name) =>
            Objects.GetOrAdd(name, n => new Lazy<string>(() => Compile(n))).Value;

        /// <summary>Skips the test (SkipTestException) when libbpf is missing or the kernel refuses bpf() here, saying which.</summary>
        internal static void RequireBpf()
        {
            if (!OperatingSystem.IsLinux()) throw new SkipTestException("BPF needs Linux");
            if (Refusal.Value is { } reason) throw new SkipTestException(reason);
        }

        /// <summary>Opens and loads an object, after <see cref="RequireBpf"/>.</summary>
        internal static BpfObject Load(string name, Action<BpfObject>? beforeLoad = null)
        {
            RequireBpf();
            var obj = BpfObject.Open(Object(name));
            try
            {
                beforeLoad?.Invoke(obj);
                obj.Load();
                return obj;
            }
            catch { obj.Dispose(); throw; }
        }

        /// <summary>A 64-byte packet for XDP test runs (XDP needs at least an Ethernet header).</summary>
        internal static readonly byte[] Packet = new byte[64];

        private static string? ProbeRefusal()
        {
            try { LibbpfLibrary.EnsureLoaded(); }
            catch (BpfException e) { return "libbpf missing: " + e.Message; }
            fixed (byte* name = "probe\0"u8)
            {
                int fd = Libbpf.MapCreate((int)BpfMapType.Array, name, 4, 4, 1, null);
                if (fd >= 0) { Libc.Close(fd); return null; }
                var e = BpfErrors.Exception("Creating a 1-element array map (the probe of whether bpf() is allowed)", fd);
                return e.IsBpfRefused ? e.Message : throw e;
            }
        }

        private static string Compile(string name)
        {
            var src = Path.Combine(Fixtures.RepoRoot, "tests", "bpf", "runtime", name + ".bpf.c");
            var dir = Path.Combine(Path.GetTempPath(), "btfbindings-bpf-obj", Environment.ProcessId.ToString());
            Directory.CreateDirectory(dir);
            var obj = Path.Combine(dir, name + ".bpf.o");
            // <linux/types.h> needs <asm/types.h> from the multiarch include folder, which -target bpf does not search.
            string multiarch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.Arm64 => "aarch64-linux-gnu", Architecture.S390x => "s390x-linux-gnu", _ => "x86_64-linux-gnu",
            };
            Tool.Check("clang", $"-g -O2 -target bpf -Wall -I/usr/include/{multiarch} -c {src} -o {obj}");
            return obj;
        }
    }
}
