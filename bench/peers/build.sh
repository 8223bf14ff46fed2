#!/usr/bin/env bash
# Build the libbpf peer benchmarks (bench/peers/bin/libbpf_parse, bench/peers/bin/libbpf_ringbuf) and the BPF object the
# ring-buffer/map benchmarks share (bench/peers/bin/bpf_bench.bpf.o, clang -target bpf).
# Requires: gcc, libbpf-dev (Debian 12: libbpf 1.1). bin/ is git-ignored.
#
# Usage: bench/peers/build.sh            -> bench/peers/bin/libbpf_parse
#        CC=clang bench/peers/build.sh   (override compiler)
#        OUT=/path/to/binary bench/peers/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CC="${CC:-gcc}"
OUT="${OUT:-$here/bin/libbpf_parse}"

die() { echo "build.sh: error: $*" >&2; exit 1; }

command -v "$CC" >/dev/null 2>&1 || die "compiler '$CC' not found (apt-get install gcc)"

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libbpf; then
    LIBBPF_CFLAGS="$(pkg-config --cflags libbpf)"
    LIBBPF_LIBS="$(pkg-config --libs libbpf)"
else
    LIBBPF_CFLAGS=""
    LIBBPF_LIBS="-lbpf"
fi

echo '#include <bpf/btf.h>' | "$CC" $LIBBPF_CFLAGS -E -x c - >/dev/null 2>&1 \
    || die "libbpf headers not found (apt-get install libbpf-dev)"

mkdir -p "$(dirname "$OUT")"
# shellcheck disable=SC2086
"$CC" -O2 -std=gnu11 -Wall -Wextra -o "$OUT" "$here/libbpf_parse.c" \
    $LIBBPF_CFLAGS $LIBBPF_LIBS -lm

# The ring-buffer and map peer, and its BPF object (the C# bench loads the same file).
bin="$(dirname "$OUT")"
# shellcheck disable=SC2086
"$CC" -O2 -std=gnu11 -Wall -Wextra -o "$bin/libbpf_ringbuf" "$here/libbpf_ringbuf.c" $LIBBPF_CFLAGS $LIBBPF_LIBS
CLANG="${CLANG:-clang}"
command -v "$CLANG" >/dev/null 2>&1 || die "clang not found (apt-get install clang): it builds bpf_bench.bpf.o"
"$CLANG" -g -O2 -target bpf -Wall -I"/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)" \
    -c "$here/bpf_bench.bpf.c" -o "$bin/bpf_bench.bpf.o"

echo "built $OUT ($("$CC" --version | head -n1); libbpf $(pkg-config --modversion libbpf 2>/dev/null || echo unknown))" >&2
