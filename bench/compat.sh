#!/usr/bin/env bash
# compat.sh - `btfgen compat` of ~50 field uses against 40 target kernels, whole process, against a bpftool loop.
#
# Usage: bench/compat.sh [BTFGEN]
#   BTFGEN     the btfgen executable to time (default: a framework-dependent ReadyToRun publish of src/BtfBindings.Cli,
#              built here in its own artifacts folder; bench/run.sh passes the one it built)
#   env RUNS   timed runs of each side (default 5; the median is printed), alternating the two sides
#
# Targets: tests/fixtures/make-btfhub-tree.sh OUT --variants 40: the six real fixture kernels plus 34 DERIVED ones (byte-
# distinct copies of them, see the script), as BTFHub .btf.tar.xz archives; build-time BTF: the x86_64 6.12 fixture.
# Uses: the first 40 named members of task_struct and the first 10 of sk_buff in that BTF (bpftool's order).
# Ours:  btfgen compat --targets TREE --btf BUILD USES... --json OUT (every verdict for every target, the report written).
# Peer:  what any bpftool-based check must do at the least, with no CO-RE matching at all: per target, unpack the archive
#        (tar -xJOf) and `bpftool btf dump file T format raw` it to a file. bpftool cannot do the check itself, so the ratio
#        says how our whole check compares with merely reading each kernel's types with bpftool.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
RUNS="${RUNS:-5}"
die() { echo "compat.sh: error: $*" >&2; exit 1; }
command -v bpftool >/dev/null || die "bpftool not found (apt-get install bpftool)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

btfgen="${1:-}"
if [ -z "$btfgen" ]; then
  dotnet publish -c Release -r linux-x64 --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true \
    --artifacts-path "$work/artifacts" "$root/src/BtfBindings.Cli" -o "$work/btfgen" -nologo -v q >/dev/null || die "dotnet publish failed"
  btfgen="$work/btfgen/btfgen"
fi

"$root/tests/fixtures/make-btfhub-tree.sh" "$work/tree" --variants 40 >/dev/null
zcat "$root/tests/fixtures/x86_64-6.12.btf.gz" > "$work/build.btf"
mapfile -t targets < <(find "$work/tree" -name '*.btf.tar.xz' | sort)
[ "${#targets[@]}" = 40 ] || die "expected 40 targets, got ${#targets[@]}"

# The uses: named members of task_struct (40) and sk_buff (10), as bpftool lists them.
bpftool btf dump file "$work/build.btf" format raw > "$work/build.txt"
members() { # struct, count
  awk -v s="$1" -v n="$2" '
    $0 ~ "^\\[[0-9]+\\] STRUCT '\''" s "'\'' " { on = 1; next }
    on && /^\[/ { exit }
    on && c < n { name = $1; gsub("'\''", "", name); if (name != "(anon)") { print s "." name; c++ } }' "$work/build.txt"
}
mapfile -t uses < <(members task_struct 40; members sk_buff 10)
[ "${#uses[@]}" = 50 ] || die "expected 50 uses, got ${#uses[@]}"

# One side, timed as a whole process by /usr/bin/time: "wall user+sys" in ms (the CPU figure holds up on a loaded machine).
export btfgen work
ours() { # tree
  /usr/bin/time -f "%e %U %S" -o "$work/time" bash -c '"$btfgen" compat --targets "$1" --btf "$work/build.btf" "${@:2}" --json "$work/compat.json" > "$work/compat.txt"; [ $? -le 1 ]' _ "$1" "${uses[@]}"
  awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$work/time"
}
peer() { # tree
  /usr/bin/time -f "%e %U %S" -o "$work/time" bash -c 'for t in $(find "$1" -type f | sort); do
      case "$t" in *.tar.xz) tar -xJOf "$t" > "$work/t.btf"; f="$work/t.btf" ;; *) f="$t" ;; esac
      bpftool btf dump file "$f" format raw > "$work/t.txt"; done' _ "$1"
  awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$work/time"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
"$root/tests/fixtures/make-btfhub-tree.sh" "$work/raw" --variants 40 --raw >/dev/null

echo "targets: 40 (6 real fixture kernels + 34 derived, see tests/fixtures/make-btfhub-tree.sh), uses: 50 fields, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
for kind in tree raw; do
  label=$([ "$kind" = tree ] && echo "BTFHub .btf.tar.xz archives" || echo "raw .btf files")
  ours "$work/$kind" >/dev/null; peer "$work/$kind" >/dev/null # warm-up (page cache)
  ow=(); oc=(); pw=(); pc=()
  for ((i = 0; i < RUNS; i++)); do
    read -r w c < <(ours "$work/$kind"); ow+=("$w"); oc+=("$c")
    read -r w c < <(peer "$work/$kind"); pw+=("$w"); pc+=("$c")
  done
  m() { printf '%s\n' "$@" | median; }
  OW=$(m "${ow[@]}"); OC=$(m "${oc[@]}"); PW=$(m "${pw[@]}"); PC=$(m "${pc[@]}")
  echo "-- $label (medians of $RUNS)"
  echo "btfgen compat: wall ${OW} ms, cpu ${OC} ms ($(awk -v a="$OW" 'BEGIN { printf "%.1f", a / 40 }') ms wall per target)"
  echo "peer (per target:$([ "$kind" = tree ] && echo " tar -xJOf +") bpftool btf dump format raw): wall ${PW} ms, cpu ${PC} ms"
  awk -v a="$OW" -v b="$PW" -v c="$OC" -v d="$PC" 'BEGIN { printf "ratio ours/peer: wall %.2fx, cpu %.2fx\n", a / b, c / d }'
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("verdicts:", sum(len(u["results"]) for u in d["uses"]), "- uses with a problem on some target:", d["summary"]["usesWithProblems"])' "$work/compat.json"
head -n 3 "$work/compat.txt"
