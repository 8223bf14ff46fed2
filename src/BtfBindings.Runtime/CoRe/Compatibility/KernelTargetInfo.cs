using System;
using System.Collections.Generic;
using System.IO;

namespace BtfBindings.Compatibility
{
    /// <summary>
    /// What a target kernel's BTF file says about itself by its place in a BTFHub tree
    /// (<c>&lt;distro&gt;/&lt;version&gt;/&lt;arch&gt;/&lt;release&gt;.btf[.tar.xz]</c>) or, for a bare file, by its name
    /// (<c>&lt;release&gt;.btf…</c>, <c>vmlinux-&lt;release&gt;</c>): the one naming rule the CLI, the build and the
    /// embedded-BTF picker share. Plain string work, no BTF parsing, so the build task can link it (netstandard2.0).
    /// </summary>
    internal sealed class KernelTargetInfo
    {
        // Container suffixes Btf.Load reads, longest first so ".btf.tar.xz" wins over ".xz".
        private static readonly string[] Suffixes = { ".btf.tar.xz", ".btf.tar.gz", ".btf.xz", ".btf.gz", ".tar.xz", ".tar.gz", ".btf", ".xz", ".gz", ".tar" };

        private KernelTargetInfo(string path, string release, string? arch, string? distro, string? distroVersion)
        {
            Path = path; Release = release; Arch = arch; Distro = distro; DistroVersion = distroVersion;
            Version = KernelVersion.Parse(release);
        }

        /// <summary>The file as given.</summary>
        public string Path { get; }

        /// <summary>The kernel release (<c>uname -r</c>), from the file name.</summary>
        public string Release { get; }

        /// <summary>The architecture as <c>uname -m</c> names it (x86_64, aarch64, armv7l, i686, s390x, ppc64le, riscv64), or null when neither the path nor the release says.</summary>
        public string? Arch { get; }

        /// <summary>The distribution folder of a BTFHub tree (<c>ubuntu</c>, <c>debian</c>…), else null.</summary>
        public string? Distro { get; }

        /// <summary>The distribution version folder of a BTFHub tree (<c>20.04</c>, <c>11</c>…), else null.</summary>
        public string? DistroVersion { get; }

        /// <summary>The release's version, the sort key.</summary>
        public KernelVersion Version { get; }

        /// <summary>"debian/11" or null.</summary>
        public string? DistroLabel => Distro == null ? null : DistroVersion == null ? Distro : Distro + "/" + DistroVersion;

        /// <summary>The release and arch, as messages name a target: <c>5.10.0-46-amd64 (x86_64)</c>.</summary>
        public string Label => Arch == null ? Release : Release + " (" + Arch + ")";

        /// <summary>
        /// The rule: the file name minus its container suffixes is the release (a <c>vmlinux-</c> prefix dropped); when the
        /// parent folder is an architecture the BTFHub layout is assumed (arch, then version, then distro above it); else
        /// the arch is read from the release's last arch-like token (<c>5.10.0-46-amd64</c>, <c>4.18.0-305.el8.x86_64</c>).
        /// <paramref name="release"/> and <paramref name="arch"/> override (item metadata in the build).
        /// </summary>
        public static KernelTargetInfo FromPath(string path, string? release = null, string? arch = null)
        {
            string name = System.IO.Path.GetFileName(path.TrimEnd('/', '\\'));
            string rel = release ?? ReleaseFromFileName(name);
            string? dirArch = null, distro = null, version = null;
            var dirs = ParentFolders(path, 3);
            if (dirs.Count > 0 && NormalizeArch(dirs[0]) is string a)
            {
                dirArch = a;
                if (dirs.Count > 1) version = dirs[1];
                if (dirs.Count > 2) distro = dirs[2];
            }
            string? finalArch = arch != null ? NormalizeArch(arch) ?? arch : dirArch ?? ArchFromRelease(rel);
            return new KernelTargetInfo(path, rel, finalArch, distro, version);
        }

        /// <summary>The release a file name stands for: container suffixes and a <c>vmlinux-</c> prefix removed.</summary>
        public static string ReleaseFromFileName(string fileName)
        {
            string n = fileName;
            foreach (var s in Suffixes)
                if (n.Length > s.Length && n.EndsWith(s, StringComparison.OrdinalIgnoreCase)) { n = n.Substring(0, n.Length - s.Length); break; }
            if (n.StartsWith("vmlinux-", StringComparison.Ordinal) && n.Length > 8) n = n.Substring(8);
            return n;
        }

        /// <summary>
        /// An architecture name in <c>uname -m</c> spelling, from <c>uname -m</c>, Debian, BTFHub, RPM or .NET spellings
        /// (amd64, x64, arm64, armhf, armmp, i386, 686, ppc64el…); null when it is not one.
        /// </summary>
        public static string? NormalizeArch(string? name)
        {
            switch (name?.ToLowerInvariant())
            {
                case "x86_64": case "amd64": case "x64": return "x86_64";
                case "aarch64": case "arm64": return "aarch64";
                case "armv7l": case "armv7": case "armhf": case "arm": case "armmp": case "armmp-lpae": return "armv7l";
                case "i686": case "i586": case "i486": case "i386": case "x86": case "686": case "686-pae": return "i686";
                case "s390x": return "s390x";
                case "ppc64le": case "ppc64el": return "ppc64le";
                case "riscv64": return "riscv64";
                default: return null;
            }
        }

        /// <summary>The last arch-like token of a release (tokens split at '-', '.', '+'), or null.</summary>
        public static string? ArchFromRelease(string release)
        {
            var tokens = release.Split('-', '.', '+');
            for (int i = tokens.Length - 1; i >= 0; i--)
                if (NormalizeArch(tokens[i]) is string a) return a;
            return null;
        }

        private static List<string> ParentFolders(string path, int max)
        {
            var list = new List<string>();
            string? dir = System.IO.Path.GetDirectoryName(path.TrimEnd('/', '\\'));
            while (!string.IsNullOrEmpty(dir) && list.Count < max)
            {
                string n = System.IO.Path.GetFileName(dir);
                if (n.Length == 0) break;
                list.Add(n);
                dir = System.IO.Path.GetDirectoryName(dir);
            }
            return list;
        }

        /// <inheritdoc />
        public override string ToString() => Label;
    }

    /// <summary>
    /// A kernel release's sort key: the numeric version (<c>5.4.0</c>) first, then the rest (<c>-1010-aws</c>) with digit
    /// runs compared as numbers, so 5.4.0-1010-aws &lt; 5.4.0-1100-aws &lt; 5.13.0-19-generic. Releases without a
    /// leading version sort after every versioned one, by text.
    /// </summary>
    internal readonly struct KernelVersion : IComparable<KernelVersion>, IEquatable<KernelVersion>
    {
        private KernelVersion(int major, int minor, int patch, string rest, bool valid)
        {
            Major = major; Minor = minor; Patch = patch; Rest = rest; IsValid = valid;
        }

        /// <summary>The major version (5 in 5.4.0-1010-aws).</summary>
        public int Major { get; }
        /// <summary>The minor version (4).</summary>
        public int Minor { get; }
        /// <summary>The patch level (0), 0 when absent.</summary>
        public int Patch { get; }
        /// <summary>Everything after the numeric version ("-1010-aws"), or the whole text when there is none.</summary>
        public string Rest { get; }
        /// <summary>True when the release starts with major.minor.</summary>
        public bool IsValid { get; }

        /// <summary>"5.4": how grouped messages name a kernel line.</summary>
        public string Short => IsValid ? Major + "." + Minor : Rest;

        /// <summary>Parses the leading <c>major.minor[.patch]</c> of a release.</summary>
        public static KernelVersion Parse(string release)
        {
            int i = 0;
            var nums = new int[3];
            int n = 0;
            while (n < 3)
            {
                int start = i;
                long v = 0;
                while (i < release.Length && release[i] >= '0' && release[i] <= '9' && v < int.MaxValue) v = v * 10 + (release[i++] - '0');
                if (i == start || v > int.MaxValue) break;
                nums[n++] = (int)v;
                if (n < 3 && i < release.Length && release[i] == '.' && i + 1 < release.Length && char.IsDigit(release[i + 1])) { i++; continue; }
                break;
            }
            if (n < 2) return new KernelVersion(0, 0, 0, release, false);
            return new KernelVersion(nums[0], nums[1], nums[2], release.Substring(i), true);
        }

        /// <inheritdoc />
        public int CompareTo(KernelVersion other)
        {
            if (IsValid != other.IsValid) return IsValid ? -1 : 1;
            int c = Major.CompareTo(other.Major);
            if (c == 0) c = Minor.CompareTo(other.Minor);
            if (c == 0) c = Patch.CompareTo(other.Patch);
            return c != 0 ? c : Natural(Rest ?? "", other.Rest ?? "");
        }

        /// <summary>Compares with digit runs as numbers ("-19" &lt; "-100"), ordinal otherwise.</summary>
        internal static int Natural(string a, string b)
        {
            int i = 0, j = 0;
            while (i < a.Length && j < b.Length)
            {
                if (char.IsDigit(a[i]) && char.IsDigit(b[j]))
                {
                    int si = i, sj = j;
                    while (si < a.Length && a[si] == '0') si++;
                    while (sj < b.Length && b[sj] == '0') sj++;
                    int ei = si, ej = sj;
                    while (ei < a.Length && char.IsDigit(a[ei])) ei++;
                    while (ej < b.Length && char.IsDigit(b[ej])) ej++;
                    int c = (ei - si).CompareTo(ej - sj);
                    if (c == 0) c = string.CompareOrdinal(a, si, b, sj, ei - si);
                    if (c != 0) return c;
                    i = ei; j = ej;
                    continue;
                }
                if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                i++; j++;
            }
            return (a.Length - i).CompareTo(b.Length - j);
        }

        /// <inheritdoc />
        public bool Equals(KernelVersion other) => CompareTo(other) == 0;
        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is KernelVersion v && Equals(v);
        /// <inheritdoc />
        public override int GetHashCode() => (Major * 397 ^ Minor) * 397 ^ Patch ^ StringComparer.Ordinal.GetHashCode(Rest ?? "");
        /// <inheritdoc />
        public override string ToString() => IsValid ? $"{Major}.{Minor}.{Patch}{Rest}" : Rest;
    }
}
