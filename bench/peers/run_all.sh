#!/usr/bin/env bash
# run_all.sh - run every peer benchmark once, with fixed parameters, and leave
# machine-readable results in OUTDIR (default: bench/peers/results, git-ignore it
# or delete it; nothing here is meant to be committed).
#
# Usage: bench/peers/run_all.sh [OUTDIR]
#   env BTF_SRC     BTF to benchmark   (default /sys/kernel/btf/vmlinux; copied to OUTDIR first)
#   env ITERATIONS  libbpf_parse timed iterations (default 50)
#   env RUNS        hyperfine runs for the aya pipeline (default 5, warmup 1)
#   env TYPES       types passed to aya_pipeline.sh (default "task_struct")
#
# Produces:
#   OUTDIR/vmlinux.btf            the copied input
#   OUTDIR/libbpf.json            one JSON line from libbpf_parse
#   OUTDIR/aya_hyperfine.json     hyperfine --export-json of the aya pipeline
#   OUTDIR/aya_bindings.rs        the generated Rust (for sanity checks)
#   OUTDIR/versions.txt           tool versions
# and prints a short summary (JSON lines) on stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
outdir="${1:-$here/results}"
BTF_SRC="${BTF_SRC:-/sys/kernel/btf/vmlinux}"
ITERATIONS="${ITERATIONS:-50}"
RUNS="${RUNS:-5}"
TYPES="${TYPES:-task_struct}"

die() { echo "run_all.sh: error: $*" >&2; exit 1; }
for t in hyperfine jq; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install $t)"
done

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
btf="$outdir/vmlinux.btf"
cp -- "$BTF_SRC" "$btf" || die "cannot copy '$BTF_SRC'"

"$here/build.sh"

{
    echo "kernel: $(uname -r)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') x$(nproc)"
    echo "libbpf: $(pkg-config --modversion libbpf 2>/dev/null || dpkg-query -W -f='${Version}' libbpf1 2>/dev/null || echo unknown)"
    echo "bpftool: $( (command -v bpftool >/dev/null && bpftool version || /usr/sbin/bpftool version) | head -n1)"
    echo "bindgen: $(bindgen --version 2>&1 | head -n1)"
    echo "clang: $(clang --version 2>/dev/null | head -n1 || echo 'n/a (bindgen loads libclang)')"
    echo "libclang: $(dpkg-query -W -f='${Package} ${Version}\n' 'libclang1-*' 2>/dev/null | tr '\n' ' ')"
    echo "rustfmt: $(rustfmt --version 2>/dev/null || echo missing)"
    echo "gcc: $(gcc --version | head -n1)"
    echo "hyperfine: $(hyperfine --version)"
} >"$outdir/versions.txt"

# 1. libbpf: parse + touch every name.
"$here/bin/libbpf_parse" "$btf" "$ITERATIONS" | tee "$outdir/libbpf.json" >/dev/null

# 2. aya-tool pipeline (bpftool + bindgen + rustfmt), end to end, via hyperfine.
# shellcheck disable=SC2086
"$here/aya_pipeline.sh" -o "$outdir/aya_bindings.rs" "$btf" $TYPES
cmd="$here/aya_pipeline.sh $btf $TYPES > /dev/null"
hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$outdir/aya_hyperfine.json" "$cmd" >&2

lines="$(wc -l <"$outdir/aya_bindings.rs")"

cat "$outdir/libbpf.json"
jq -c --argjson lines "$lines" --arg types "$TYPES" '.results[0] | {
    tool: "aya-pipeline", types: $types, runs: (.times | length),
    median_ms: (.median * 1e6 | round / 1000), mean_ms: (.mean * 1e6 | round / 1000),
    stddev_ms: (.stddev * 1e6 | round / 1000),
    min_ms: (.min * 1e6 | round / 1000), max_ms: (.max * 1e6 | round / 1000), output_lines: $lines }' \
    "$outdir/aya_hyperfine.json"
