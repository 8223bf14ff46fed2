#!/usr/bin/env bash
# native_tool.sh - btfgen as `dotnet tool install` gives it, native (linux-x64 Native AOT package) and framework-dependent
# (the 'any' package every other RID falls back to, run by the dotnet host), against bpftool, whole process, in one run.
#
# Usage: bench/peers/native_tool.sh [BTF]
#   BTF    raw BTF to read (default: tests/fixtures/x86_64-6.12.btf.gz uncompressed to a temporary folder)
#   env RUNS   timed runs of each command (default 9; the median is printed), after one untimed warm-up of each
#
# Packs the tool as a release does (dotnet pack; dotnet pack -r any; dotnet pack -r linux-x64) into a temporary feed, in
# its own artifacts folder, installs it with `dotnet tool install --tool-path` from that feed, then times, alternating the
# three programs run by run so that a change in the machine's load hits all three alike:
#   generate: btfgen task_struct -o t.cs --btf BTF         vs  bpftool btf dump file BTF format c   (stdout to a file)
#   dump:     btfgen dump BTF --format raw                  vs  bpftool btf dump file BTF format raw (stdout to a file)
#   generate: btfgen task_struct -o t.cs --btf BTF         vs  bench/peers/aya_pipeline.sh -o t.rs BTF task_struct
#             (what aya-tool runs: bpftool format c, then bindgen with its options and rustfmt; skipped without bindgen)
# Each run's wall time is taken around /usr/bin/time -v (same overhead for all three), whose "Maximum resident set size"
# gives the peak RSS of that run (for the aya pipeline, its largest process). Prints the medians side by side and the
# ratios to the peer and to each other.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
RUNS="${RUNS:-9}"
die() { echo "native_tool.sh: error: $*" >&2; exit 1; }
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "the native tool package is linux-x64 only"
command -v bpftool >/dev/null || die "bpftool not found (apt-get install bpftool)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
command -v clang >/dev/null || command -v gcc >/dev/null || die "Native AOT links with clang or gcc (apt-get install clang)"

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
btf="${1:-}"
if [ -z "$btf" ]; then zcat "$root/tests/fixtures/x86_64-6.12.btf.gz" > "$work/vmlinux.btf"; btf="$work/vmlinux.btf"; fi

# 1. Pack and install the way users get it.
version="0.0.0-bench.$(date -u +%Y%m%d%H%M%S)"
for rid in "" any linux-x64; do
  dotnet pack "$root/src/BtfBindings.Cli" -c Release ${rid:+-r $rid} --artifacts-path "$work/artifacts" -o "$work/feed" \
    -p:PackageVersion="$version" -nologo -v q >/dev/null || die "dotnet pack ${rid:+-r $rid} failed"
done
printf '<configuration><packageSources><clear /><add key="local" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/nuget.config"
(cd "$work" && NUGET_PACKAGES="$work/packages" dotnet tool install --tool-path "$work/tools" BtfBindings.Cli --version "$version" >/dev/null) \
  || die "dotnet tool install failed"
native="$work/tools/dotnet-btfgen"
file -L "$native" | grep -q 'ELF 64-bit' || die "the installed dotnet-btfgen is not a native executable: $(file -L "$native")"
mkdir -p "$work/any" && unzip -q "$work/feed/BtfBindings.Cli.any.$version.nupkg" 'tools/net10.0/any/*' -d "$work/any"
fd_dll="$work/any/tools/net10.0/any/btfgen.dll"
host="$(command -v dotnet)"

# 2. Time. One run: wall ms and peak RSS KB, appended to $work/<name>.txt.
run() {  # run NAME OUTFILE CMD...
  local name="$1" out="$2"; shift 2
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$work/time.txt" "$@" > "$out" 2>/dev/null || die "$name failed: $*"
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 )) $(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$work/time.txt")" >> "$work/$name.txt"
}
median() {  # median COLUMN FILE
  cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
bench() {  # bench LABEL PEER_NAME BTFGEN_ARGS... -- PEER_COMMAND...
  local label="$1" pname="$2"; shift 2
  local ours=() peer=()
  while [ "$1" != "--" ]; do ours+=("$1"); shift; done; shift; peer=("$@")
  rm -f "$work"/{native,fd,bpftool}.txt
  local i
  for ((i = 0; i <= RUNS; i++)); do
    run native "$work/out.native" "$native" "${ours[@]}"
    run fd "$work/out.fd" "$host" "$fd_dll" "${ours[@]}"
    run bpftool "$work/out.bpftool" "${peer[@]}"
    # The warm-up (i = 0) fills the page cache and is not counted.
    [ "$i" -eq 0 ] && rm -f "$work"/{native,fd,bpftool}.txt
  done
  local n f b nr fr br
  n=$(median 1 "$work/native.txt"); f=$(median 1 "$work/fd.txt"); b=$(median 1 "$work/bpftool.txt")
  nr=$(median 2 "$work/native.txt"); fr=$(median 2 "$work/fd.txt"); br=$(median 2 "$work/bpftool.txt")
  awk -v l="$label" -v p="$pname" -v n="$n" -v f="$f" -v b="$b" -v nr="$nr" -v fr="$fr" -v br="$br" -v runs="$RUNS" 'BEGIN {
    printf "%s (median of %d alternating runs)\n", l, runs
    printf "  %-34s %9s %8s %13s %13s\n", "", "wall ms", "RSS MB", "time/peer", "RSS/peer"
    printf "  %-34s %9.1f %8.1f %12.2fx %12.2fx\n", "btfgen native (linux-x64 package)", n / 1000, nr / 1024, n / b, nr / br
    printf "  %-34s %9.1f %8.1f %12.2fx %12.2fx\n", "btfgen framework-dependent (any)", f / 1000, fr / 1024, f / b, fr / br
    printf "  %-34s %9.1f %8.1f %12s %12s\n", p, b / 1000, br / 1024, "1", "1"
    printf "  peer vs btfgen native: %.1fx the time\n", b / n
    printf "  native vs framework-dependent: %.2fx faster, %.2fx less memory\n", f / n, fr / nr
  }'
}

echo "btf: $btf ($(stat -c %s "$btf") bytes); $(bpftool version | head -n1); dotnet $("$host" --version); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x$(nproc)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(ratios: btfgen's figure over bpftool's from the same run; below 1 is faster / smaller than bpftool)"
bench "generate: btfgen task_struct -o t.cs --btf BTF  vs  bpftool btf dump file BTF format c" bpftool \
  task_struct -o "$work/t.cs" --btf "$btf" -- bpftool btf dump file "$btf" format c
bench "dump: btfgen dump BTF --format raw  vs  bpftool btf dump file BTF format raw" bpftool \
  dump "$btf" --format raw -- bpftool btf dump file "$btf" format raw
cmp -s "$work/out.native" "$work/out.bpftool" || die "btfgen dump (native) differs from bpftool's"
cmp -s "$work/out.fd" "$work/out.bpftool" || die "btfgen dump (framework-dependent) differs from bpftool's"
# The aya-tool pipeline (bpftool format c + bindgen with aya-tool's options, formatted): what a Rust user runs for the same job.
if command -v bindgen >/dev/null && command -v rustfmt >/dev/null; then
  bench "generate: btfgen task_struct -o t.cs --btf BTF  vs  the aya-tool pipeline for task_struct (goal: >= 50x faster)" "aya-tool pipeline" \
    task_struct -o "$work/t.cs" --btf "$btf" -- "$here/aya_pipeline.sh" -o "$work/t.rs" "$btf" task_struct
else
  echo "aya-tool pipeline: skipped, needs bindgen and rustfmt (apt-get install bindgen rustfmt)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
