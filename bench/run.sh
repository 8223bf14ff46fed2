#!/usr/bin/env bash
# Benchmarks, each side by side with its peer measured in the same run, printing the ratio.
#   bench/run.sh [BTF]    BTF defaults to the committed Debian 6.12 x86_64 fixture (4.9 MB raw)
# Peers: libbpf's btf__parse (bench/peers/libbpf_parse.c), the aya-tool pipeline (bpftool format c + bindgen), and bpftool
# itself against the installed tool, native and framework-dependent (bench/peers/native_tool.sh); for BtfBindings.Bpf, a C
# libbpf consumer of the same BPF object (bench/peers/libbpf_ringbuf.c; needs bpf(), i.e. root or CAP_BPF); a fresh app's
# rebuild with the packed package (by default the types in their own assembly; and generated into the project) against the same app
# without it (bench/rebuild_ratio.sh), the generated code's size (bench/gen_size.sh), `btfgen compat` over 40 kernels
# against a bpftool loop (bench/compat.sh), BtfTarget items in a fresh app's build against the same app without them
# (bench/compat_build.sh), and the BTF embedded for 40 Embed="true" targets against their full BTF.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
btf="${1:-}"
if [ -z "$btf" ]; then zcat "$root/tests/fixtures/x86_64-6.12.btf.gz" > "$work/vmlinux.btf"; btf="$work/vmlinux.btf"; fi

"$here/peers/build.sh" >/dev/null
dotnet build -c Release "$here/BtfBindings.Bench" -nologo -v q >/dev/null
# The same bench over the SDK's own precompiled Roslyn (what `dotnet build` and the compiler server run generators in).
dotnet build -c Release "$here/BtfBindings.Bench" -p:RoslynFromSdk=true --artifacts-path "$work/artifacts-sdk-roslyn" -nologo -v q >/dev/null
# The CLI two ways beside Native AOT (the project's PublishAot, turned off here): framework-dependent ReadyToRun, and
# self-contained composite ReadyToRun (framework precompiled together with it: the fastest start short of Native AOT,
# which section 5 measures as `dotnet tool install` gives it). Each is built from scratch in its own artifacts
# folder: publishing framework-dependent after composite in the same obj/ reuses the composite's stub assemblies
# (System.CommandLine.dll without code, pointing at a btfgen.r2r.dll that is not there), and that build aborts at start.
dotnet publish -c Release -r linux-x64 --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true --artifacts-path "$work/artifacts-fd" "$root/src/BtfBindings.Cli" -o "$work/btfgen" -nologo -v q >/dev/null
dotnet publish -c Release -r linux-x64 --self-contained true -p:PublishAot=false -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true --artifacts-path "$work/artifacts-sc" "$root/src/BtfBindings.Cli" -o "$work/btfgen-sc" -nologo -v q >/dev/null
ours="$here/BtfBindings.Bench/bin/Release/net10.0/BtfBindings.Bench"
num() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }

echo "== 1. parse $(basename "$btf") ($(stat -c %s "$btf") bytes), touch every type's name, free: ours vs libbpf (btf__parse ... btf__free)"
l=$("$here/peers/bin/libbpf_parse" "$btf" 200); echo "$l"
o=$("$ours" parse "$btf" 200); echo "$o"            # Btf.Dispose after each parse, as the peer calls btf__free
k=$("$ours" parse "$btf" 200 keep); echo "$k"       # no Dispose: every parse allocates fresh buffers and leaves them to the GC
awk -v a="$(num median_ms <<<"$o")" -v b="$(num median_ms <<<"$l")" -v m="$(num min_ms <<<"$o")" -v n="$(num min_ms <<<"$l")" \
    -v k="$(num median_ms <<<"$k")" -v r="$(num alloc_ratio <<<"$k")" \
  'BEGIN { printf "ratio ours/libbpf: median %.2fx, min %.2fx; without Dispose: median %.2fx, managed allocation per parse %.2fx the file size\n", a/b, m/n, k/b, r }'

echo "== 2. source generator: parse + plan + emit task_struct's closure; re-run after an unrelated edit (target < 1 ms):"
echo "   the first 200 edits (Roslyn's code still being JIT-compiled), then the steady state once the JIT is quiet"
"$ours" generate "$btf" task_struct
"$ours" rerun "$btf" task_struct                                                        # Roslyn 4.8 from NuGet
"$work/artifacts-sdk-roslyn/bin/BtfBindings.Bench/release/BtfBindings.Bench" rerun "$btf" task_struct  # the SDK's Roslyn

echo "== 3. whole process: btfgen task_struct vs the aya-tool pipeline (bpftool format c + bindgen)"
if command -v hyperfine >/dev/null && command -v bindgen >/dev/null; then
  cli="$work/btfgen/btfgen"
  hyperfine -N --warmup 2 --runs 10 --export-json "$work/h.json" \
    "$cli task_struct --btf $btf -o $work/out.cs" \
    "$work/btfgen-sc/btfgen task_struct --btf $btf -o $work/out2.cs" \
    "$here/peers/aya_pipeline.sh -o $work/out.rs $btf task_struct" >/dev/null
  python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
fd, sc, aya = r[0]["median"], r[1]["median"], r[2]["median"]
print(f"aya-tool pipeline: {aya*1000:.1f} ms (median of {len(r[2]['times'])})")
print(f"btfgen (framework-dependent R2R): {fd*1000:.1f} ms -> {aya/fd:.1f}x faster")
print(f"btfgen (self-contained composite R2R): {sc*1000:.1f} ms -> {aya/sc:.1f}x faster")
PY
else
  echo "skipped: needs hyperfine and bindgen (apt-get install hyperfine bindgen)"
fi

echo "== 4. CO-RE: a field read through the relocatable view vs the direct struct read (target <= 2x); resolving task_struct (target < 1 ms)"
zcat "$root/tests/fixtures/x86_64-5.10.btf.gz" > "$work/v510.btf"
"$ours" core-read "$btf" "$btf"
"$ours" core-read "$btf" "$work/v510.btf"
"$ours" core-resolve "$btf" "$work/v510.btf"

echo "== 5. the installed tool, native (linux-x64 Native AOT package) and framework-dependent ('any' package), vs bpftool"
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
  "$here/peers/native_tool.sh" "$btf"
else
  echo "skipped: the native tool package is linux-x64 only"
fi

echo "== 6. BPF runtime (BtfBindings.Bpf) vs libbpf in C over the same object (bench/peers/bpf_bench.bpf.o)"
echo "   ring buffer: fill with BPF_PROG_TEST_RUN (untimed), drain timed: Poll<T> vs ring_buffer__poll (goal >= 0.9x, 0 bytes/event);"
echo "   hash map lookup+update pairs: BpfHashMap vs bpf_map_lookup_elem/bpf_map_update_elem (goal >= 0.8x)"
obj="$here/peers/bin/bpf_bench.bpf.o"
if "$ours" maps "$obj" 1 1 >/dev/null 2>"$work/bpf.err"; then
  bpf_pair() {   # label, key, peer args, our args
    c=$("$here/peers/bin/libbpf_ringbuf" "$obj" $3); echo "$c"
    o=$("$ours" $4); echo "$o"
    awk -v a="$(num "$2" <<<"$o")" -v b="$(num "$2" <<<"$c")" -v l="$1" 'BEGIN { printf "ratio ours/libbpf (%s): %.2fx\n", l, a/b }'
  }
  bpf_pair "ring buffer events/s" events_per_s "ring 30 400000" "ringbuf $obj 30 400000"
  bpf_pair "map lookup+update ops/s" ops_per_s "maps 10 100000" "maps $obj 10 100000"
else
  echo "skipped: bpf() is not usable here: $(head -n1 "$work/bpf.err")"
fi

echo "== 7. a user's edit-build loop: rebuild after an unrelated edit, app with the package (by default the types in their own"
echo "      assembly; and, BtfBindingsTypesAssembly=false, generated into the project) vs the same app without (goal <= 1.25x)"
"$here/rebuild_ratio.sh" "$btf"

echo "== 8. generated C# for [BtfTypes(\"task_struct\", \"iphdr\")], by what it is for"
"$here/gen_size.sh"

echo "== 9. build-time compatibility: btfgen compat of 50 fields against 40 target kernels (6 real + 34 derived), whole process, vs a bpftool loop"
"$here/compat.sh" "$work/btfgen/btfgen"

echo "== 10. BtfTarget items in a build: 50 used fields against 40 target kernels (6 real + 34 derived), clean/no-op/incremental vs the same app without them (goals: +2 s, +50 ms)"
GCPROBE=1 "$here/compat_build.sh" 40

echo "== 11. embedded BTF (<BtfTarget Embed=\"true\" />) for 40 kernels: task_struct + networking types, minimized, deduplicated, gzip'd"
echo "   (goal: <= 1% of the full BTFs). 6 real Debian kernels + 34 DERIVED ones (tests/fixtures/make-btfhub-tree.sh --variants 40:"
echo "   byte-distinct copies of the six with the same types, so they deduplicate to the six; the 'without' figure counts each)"
bash "$root/tests/fixtures/make-btfhub-tree.sh" "$work/hub40" --variants 40 >/dev/null
"$ours" embed "$btf" "$work/hub40" task_struct iphdr sk_buff sock tcp_sock
