#!/usr/bin/env bash
# Build task_dump.bpf.o (BPF task iterator, CO-RE) from samples/ps/task_dump.bpf.c, with tests/bpf/vmlinux.h (the few
# kernel types it uses) standing in for bpftool's: no kernel BTF needed.
#
# Usage: tests/bpf/build.sh [OUT_DIR]
#   OUT_DIR defaults to a fresh temp dir. Prints the path of the object on
#   stdout (and nothing else). Diagnostics go to stderr.
#
# Environment:
#   CLANG        clang binary to use (default: clang)
#   BPF_CFLAGS   extra flags, e.g. "-DTASK_DUMP_MAX_DATA=1024"
#
# Exit codes: 0 ok, 77 toolchain/headers missing, 1 compile error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../../samples/ps/task_dump.bpf.c"
clang="${CLANG:-clang}"

skip() { echo "build.sh: SKIP: $*" >&2; exit 77; }

command -v "$clang" >/dev/null 2>&1 || skip "'$clang' not found (install clang)"
[ -f /usr/include/bpf/bpf_helpers.h ] || skip "libbpf headers not found (/usr/include/bpf/bpf_helpers.h; install libbpf-dev)"

# <linux/types.h> pulls in <asm/types.h>, which lives in the multiarch dir on
# Debian/Ubuntu and is not on clang's default path for -target bpf.
arch_inc=""
multiarch="$("$clang" -print-multiarch 2>/dev/null || true)"
for d in ${multiarch:+/usr/include/$multiarch} "/usr/include/$(uname -m)-linux-gnu"; do
    if [ -f "$d/asm/types.h" ]; then arch_inc="-I$d"; break; fi
done
if [ -z "$arch_inc" ] && [ ! -f /usr/include/asm/types.h ]; then
    skip "asm/types.h not found (install linux-libc-dev / kernel UAPI headers)"
fi

case "$(uname -m)" in
    x86_64) target_arch=x86 ;;
    aarch64) target_arch=arm64 ;;
    s390x) target_arch=s390 ;;
    ppc64le) target_arch=powerpc ;;
    riscv64) target_arch=riscv ;;
    *) target_arch="$(uname -m)" ;;
esac

out_dir="${1:-}"
if [ -z "$out_dir" ]; then
    out_dir="$(mktemp -d "${TMPDIR:-/tmp}/task_dump.XXXXXX")"
fi
mkdir -p "$out_dir"
obj="$(cd "$out_dir" && pwd)/task_dump.bpf.o"

# shellcheck disable=SC2086 # word splitting of $arch_inc / $BPF_CFLAGS intended
if ! "$clang" -g -O2 -target bpf -D__TARGET_ARCH_"$target_arch" \
        -I"$here" $arch_inc ${BPF_CFLAGS:-} -Wall \
        -c "$src" -o "$obj.tmp" >&2; then
    rm -f "$obj.tmp"
    echo "build.sh: clang failed to compile $src" >&2
    exit 1
fi
mv -f "$obj.tmp" "$obj"
echo "$obj"
