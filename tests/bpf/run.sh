#!/usr/bin/env bash
# Dump the raw struct task_struct of every task via a BPF task iterator.
#
# Usage: tests/bpf/run.sh OUT_FILE
#
# Builds task_dump.bpf.o (unless TASK_DUMP_OBJ names a prebuilt object),
# pins it as an iterator with `bpftool iter pin` under /sys/fs/bpf (mounting
# bpffs there if needed; it is left mounted), reads the pinned file into
# OUT_FILE and removes the pin. See README.md for the record format.
#
# Environment:
#   TASK_DUMP_OBJ  use this object instead of building one
#   BPFTOOL        bpftool binary (default: bpftool)
#   CLANG, BPF_CFLAGS  passed through to build.sh
#
# Exit codes:
#   0   ok; one summary line on stdout
#   77  environment does not allow it (not root/CAP_BPF, bpf() blocked,
#       no bpffs, no kernel BTF, no task iterator, tools missing);
#       one "run.sh: SKIP: reason" line on stderr
#   1   real failure (build error, verifier rejection, read error, ...);
#       details on stderr
#   2   usage error
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bpftool="${BPFTOOL:-bpftool}"
bpffs=/sys/fs/bpf

skip() { echo "run.sh: SKIP: $*" >&2; exit 77; }
fail() { echo "run.sh: FAIL: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUT_FILE" >&2
    exit 2
fi
out="$1"

# ---- environment checks (exit 77) -----------------------------------------
[ "$(uname -s)" = Linux ] || skip "not Linux"
[ -r /sys/kernel/btf/vmlinux ] || skip "kernel has no BTF (/sys/kernel/btf/vmlinux missing; CONFIG_DEBUG_INFO_BTF)"
# The task iterator target registers a BTF func named bpf_iter_task (5.8+).
grep -qa 'bpf_iter_task' /sys/kernel/btf/vmlinux || skip "kernel lacks the BPF task iterator (no bpf_iter_task in vmlinux BTF)"
command -v "$bpftool" >/dev/null 2>&1 || skip "bpftool not found"
"$bpftool" version >/dev/null 2>&1 || skip "bpftool does not run: $("$bpftool" version 2>&1 | head -n1)"

# ---- build ------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/task_dump_run.XXXXXX")" || fail "mktemp failed"
pin="$bpffs/btfbindings_task_dump_$$_${RANDOM}"
cleanup() {
    rm -f "$pin" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(now_ms)
if [ -n "${TASK_DUMP_OBJ:-}" ]; then
    [ -f "$TASK_DUMP_OBJ" ] || fail "TASK_DUMP_OBJ=$TASK_DUMP_OBJ does not exist"
    obj="$TASK_DUMP_OBJ"
else
    obj="$("$here/build.sh" "$work" 2>"$work/build.log")"
    rc=$?
    if [ $rc -ne 0 ]; then
        cat "$work/build.log" >&2
        [ $rc -eq 77 ] && exit 77
        fail "build failed"
    fi
fi
t1=$(now_ms)

# ---- bpffs (BPF_FS_MAGIC 0xcafe4a11) ----------------------------------------
if [ "$(stat -f -c %t "$bpffs" 2>/dev/null)" != cafe4a11 ]; then
    [ -d "$bpffs" ] || skip "$bpffs does not exist (kernel without CONFIG_BPF_SYSCALL?)"
    if ! merr="$(mount -t bpf bpf "$bpffs" 2>&1)"; then
        skip "bpffs not mounted at $bpffs and mounting it failed: $(printf "%s" "${merr:-unknown error}" | head -n1)"
    fi
    [ "$(stat -f -c %t "$bpffs" 2>/dev/null)" = cafe4a11 ] || skip "could not mount bpffs at $bpffs"
fi

# ---- load + pin (bpftool loads the object, attaches the iter link, pins it) --
if ! "$bpftool" iter pin "$obj" "$pin" >"$work/pin.log" 2>&1; then
    log="$work/pin.log"
    # EPERM / ENOSYS => environment (no CAP_BPF/CAP_SYS_ADMIN, seccomp,
    # lockdown, bpf() disabled). Note that a verifier rejection is EACCES
    # ("Permission denied") and is a real failure, not a skip.
    perm_re='Operation not permitted|Function not implemented|-EPERM\b|-ENOSYS\b|failed to load: -1$'
    if grep -qE "$perm_re" "$log"; then
        reason="$(grep -m1 -E "$perm_re" "$log")"
        skip "bpf() refused by the kernel: ${reason:-see bpftool output}"
    fi
    echo "run.sh: bpftool iter pin $obj $pin failed; bpftool output (last 60 lines):" >&2
    tail -n 60 "$log" >&2
    fail "could not load/pin the iterator"
fi
t2=$(now_ms)

# ---- read -----------------------------------------------------------------
if ! { cat "$pin" >"$out"; } 2>"$work/cat.log"; then
    cat "$work/cat.log" >&2
    rm -f "$out"
    fail "copying $pin to $out failed"
fi
t3=$(now_ms)
rm -f "$pin" || fail "could not remove pin $pin"

# ---- summary (one line on stdout) --------------------------------------------
bytes=$(stat -c %s "$out")
[ "$bytes" -gt 0 ] || fail "iterator produced no output"
read -r magic rec_len task_size < <(od -An -tu4 -N12 "$out")
[ "$magic" = 1263747412 ] || fail "bad magic in first record ($magic); byte order or format mismatch"
if [ "$rec_len" -gt 0 ] && [ $((bytes % rec_len)) -eq 0 ]; then
    nrec="$((bytes / rec_len))"
else
    nrec="?"
fi
echo "task_dump: $nrec records x $rec_len bytes (task_struct size $task_size) = $bytes bytes -> $out; build $((t1 - t0)) ms, load+pin $((t2 - t1)) ms, read $((t3 - t2)) ms"
