using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

namespace BtfBindings.Tests.Support
{
    /// <summary>Locates the repository and the committed fixtures (tests/fixtures/*.gz), decompressed once per run.</summary>
    public static class Fixtures
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, string> Cache = new Dictionary<string, string>();

        /// <summary>The repository root (the folder holding BtfBindings.sln).</summary>
        public static string RepoRoot { get; } = FindRoot();

        /// <summary>Kernel BTF fixtures: (name, file name) of every vmlinux fixture.</summary>
        public static readonly string[] Kernels = { "x86_64-6.12", "x86_64-5.10", "aarch64-6.1", "armhf-6.1", "i686-6.1", "s390x-6.12" };

        /// <summary>Split module fixtures and their bases.</summary>
        public static readonly (string module, string baseKernel)[] Modules =
        {
            ("x86_64-6.12-ip_vs.ko", "x86_64-6.12"), ("armhf-6.1-ip_vs.ko", "armhf-6.1"), ("s390x-6.12-qeth.ko", "s390x-6.12"),
        };

        /// <summary>Single-file ELF objects with their own BTF.</summary>
        public static readonly string[] Objects = { "bpf-features.o", "bpf-features-eb.o", "elf32be-ppc.o" };

        /// <summary>Path of a decompressed fixture: "x86_64-6.12" (a .btf), or a full name like "bpf-features.o" or "core/target.o".</summary>
        public static string Path(string name)
        {
            string file = name.EndsWith(".o", StringComparison.Ordinal) || name.EndsWith(".ko", StringComparison.Ordinal) || name.EndsWith(".btf", StringComparison.Ordinal) ? name : name + ".btf";
            lock (Gate)
            {
                if (Cache.TryGetValue(file, out var p) && File.Exists(p)) return p;
                var gz = System.IO.Path.Combine(RepoRoot, "tests", "fixtures", file + ".gz");
                if (!File.Exists(gz)) throw new FileNotFoundException("fixture missing: " + gz);
                var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "btfbindings-fixtures", new FileInfo(gz).Length + "-" + File.GetLastWriteTimeUtc(gz).Ticks);
                Directory.CreateDirectory(dir);
                var dest = System.IO.Path.Combine(dir, file);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(dest)!);
                if (!File.Exists(dest))
                {
                    var tmp = dest + "." + Guid.NewGuid().ToString("N");
                    using (var i = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress))
                    using (var o = File.Create(tmp)) i.CopyTo(o);
                    File.Move(tmp, dest, overwrite: true);
                }
                Cache[file] = dest;
                return dest;
            }
        }

        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<global::BtfBindings.Btf>> Parsed =
            new System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<global::BtfBindings.Btf>>();

        /// <summary>A kernel (or object) fixture parsed once per run and shared by every test (Btf is immutable).</summary>
        public static global::BtfBindings.Btf Kernel(string name)
            => Parsed.GetOrAdd(name, n => new Lazy<global::BtfBindings.Btf>(() => global::BtfBindings.Btf.Load(Path(n)))).Value;

        /// <summary>A split module fixture parsed once per run over its (shared) base.</summary>
        public static global::BtfBindings.Btf Module(string module, string baseKernel)
            => Parsed.GetOrAdd(module + "@" + baseKernel, _ => new Lazy<global::BtfBindings.Btf>(() => global::BtfBindings.Btf.Load(Path(module), Kernel(baseKernel)))).Value;

        /// <summary>Bytes of a decompressed fixture.</summary>
        public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

        private static string FindRoot()
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d != null && !File.Exists(System.IO.Path.Combine(d.FullName, "BtfBindings.sln"))) d = d.Parent;
            return d?.FullName ?? throw new InvalidOperationException("cannot find BtfBindings.sln above " + AppContext.BaseDirectory);
        }
    }
}
