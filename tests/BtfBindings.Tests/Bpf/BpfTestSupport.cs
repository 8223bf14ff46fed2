using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using BtfBindings.Bpf;
using BtfBindings.Bpf.Interop;
using BtfBindings.Tests.Support;

namespace BtfBindings.Tests.Bpf
{
    /// <summary>
    /// The BPF objects of tests/bpf/runtime, compiled by clang once per run into a temp folder (never committed), and the
    /// check that skips a test, with the reason, where this process may not use bpf().
    /// </summary>
    internal static class BpfTestSupport
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
            int errno = BpfErrors.BpfProbe();
            if (errno == 0) return null;
            var e2 = BpfErrors.Exception("Creating a 1-element array map (the probe of whether bpf() is allowed)", errno, null, errno);
            return e2.IsBpfRefused ? e2.Message : throw e2;
        }

        private static string Compile(string name)
        {
            var src = Path.Combine(Fixtures.RepoRoot, "tests", "bpf", "runtime", name + ".bpf.c");
            // <linux/types.h> needs <asm/types.h> from the multiarch include folder, which -target bpf does not search.
            string multiarch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.Arm64 => "aarch64-linux-gnu", Architecture.S390x => "s390x-linux-gnu", _ => "x86_64-linux-gnu",
            };
            string flags = $"-g -O2 -target bpf -Wall -I/usr/include/{multiarch}";
            // One folder per source content and flags: reused across runs, never stale, nothing piles up per run.
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(File.ReadAllText(src) + flags)))[..16];
            var dir = Path.Combine(Path.GetTempPath(), "btfbindings-bpf-obj", name + "-" + hash);
            var obj = Path.Combine(dir, name + ".bpf.o");
            if (File.Exists(obj)) return obj;
            Directory.CreateDirectory(dir);
            var tmp = obj + "." + Guid.NewGuid().ToString("N");
            ProcessRunner.Check("clang", flags.Split(' ').Concat(new[] { "-c", src, "-o", tmp }));
            File.Move(tmp, obj, overwrite: true);
            return obj;
        }
    }
}
