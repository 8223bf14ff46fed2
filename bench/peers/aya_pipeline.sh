#!/usr/bin/env bash
# aya_pipeline.sh - peer benchmark: reproduces `aya-tool generate BTF_FILE TYPE...`
#
# aya-tool (aya-rs/aya, aya-tool/src/generate.rs) does exactly two things:
#   1. bpftool btf dump file BTF_FILE format c    -> kernel_types.h (in a temp dir)
#   2. bindgen kernel_types.h <flags of bpf_builder() + one allowlist per type>
# and prints bindgen's stdout. aya-tool itself is not installable here (needs
# crates.io), so this script runs the same two external programs with the same
# options, translated from bindgen's Builder API (aya-tool/src/bindgen.rs) to
# the bindgen CLI:
#
#   Builder API (aya-tool)                      bindgen 0.60 CLI
#   .use_core()                                 --use-core
#   .layout_tests(false)                        --no-layout-tests
#   .generate_comments(false)                   --no-doc-comments
#   .prepend_enum_name(false)                   --no-prepend-enum-name
#   .ctypes_prefix("::aya_ebpf::cty")           --ctypes-prefix ::aya_ebpf::cty
#   .default_enum_style(ModuleConsts)           --default-enum-style moduleconsts
#   .allowlist_type(ty)  (per TYPE)             --allowlist-type TYPE
#   .clang_arg("-Wno-unknown-attributes")       -- -Wno-unknown-attributes
#
# Not reproduced: newer aya-tool also sets .clang_macro_fallback(); the Debian
# bindgen (0.60) has no such option, and a header produced by
# `bpftool btf dump ... format c` defines no macro except its empty include
# guard, so it does not change the output for this input.
#
# Like aya-tool (which uses bindgen's defaults), output is formatted with
# rustfmt. rustfmt is therefore REQUIRED by default so that the benchmark
# never silently switches between formatted and unformatted output; pass
# --no-rustfmt to skip formatting explicitly (adds --no-rustfmt-bindings).
#
# Usage:
#   bench/peers/aya_pipeline.sh [-o OUT.rs] [--no-rustfmt] BTF_FILE TYPE...
#     -o OUT.rs     write the Rust bindings to OUT.rs (default: stdout)
#     --no-rustfmt  do not format with rustfmt
#   Environment: BPFTOOL, BINDGEN, RUSTFMT override the program names/paths.
#
# Exit status: non-zero (with a message on stderr) if bpftool, bindgen or
# rustfmt is missing, or if any step fails.
set -euo pipefail

prog="$(basename "$0")"
die() { echo "$prog: error: $*" >&2; exit 1; }
usage() {
    cat >&2 <<USAGE
usage: $prog [-o OUT.rs] [--no-rustfmt] BTF_FILE TYPE...
  Reproduces 'aya-tool generate BTF_FILE TYPE...': bpftool btf dump ... format c,
  then bindgen with aya-tool's options. Rust bindings go to stdout (or -o OUT.rs).
  --no-rustfmt  do not format the output with rustfmt (aya-tool formats it)
  env: BPFTOOL, BINDGEN, RUSTFMT override the tool names/paths.
USAGE
    exit 2
}

# bpftool lives in /usr/sbin on Debian, which is not on a normal user's PATH.
if [ -z "${BPFTOOL:-}" ]; then
    if command -v bpftool >/dev/null 2>&1; then BPFTOOL=bpftool
    elif [ -x /usr/sbin/bpftool ]; then BPFTOOL=/usr/sbin/bpftool
    else BPFTOOL=bpftool
    fi
fi
BINDGEN="${BINDGEN:-bindgen}"
RUSTFMT="${RUSTFMT:-rustfmt}"

out=""
rustfmt=1
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--output) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
        --no-rustfmt) rustfmt=0; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) echo "$prog: unknown option '$1'" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || usage
btf_file="$1"; shift

# Fail loudly on missing tools (aya-tool would fail with "error executing bpftool"/"bindgen failed").
command -v "$BPFTOOL" >/dev/null 2>&1 || die "bpftool not found ('$BPFTOOL'); apt-get install bpftool"
command -v "$BINDGEN" >/dev/null 2>&1 || die "bindgen not found ('$BINDGEN'); apt-get install bindgen"
if [ "$rustfmt" = 1 ]; then
    command -v "$RUSTFMT" >/dev/null 2>&1 \
        || die "rustfmt not found ('$RUSTFMT'); install it or pass --no-rustfmt"
fi
[ -r "$btf_file" ] || die "cannot read BTF file '$btf_file'"

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/aya_pipeline.XXXXXX")"
trap 'rm -rf -- "$tmpdir"' EXIT
header="$tmpdir/kernel_types.h"   # same file name aya-tool uses

# Step 1: BTF -> C header (aya-tool: c_header_from_btf()).
"$BPFTOOL" btf dump file "$btf_file" format c >"$header" \
    || die "bpftool btf dump failed for '$btf_file'"
[ -s "$header" ] || die "bpftool produced an empty header for '$btf_file'"

# Step 2: bindgen with aya-tool's bpf_builder() options.
# Order mirrors aya-tool: header first, then the builder's flags, then `-- clang args`.
flags=(
    --use-core
    --no-layout-tests
    --no-doc-comments
    --no-prepend-enum-name
    --ctypes-prefix ::aya_ebpf::cty
    --default-enum-style moduleconsts
)
for ty in "$@"; do
    flags+=(--allowlist-type "$ty")
done
if [ "$rustfmt" = 0 ]; then
    flags+=(--no-rustfmt-bindings)
fi

if [ "$rustfmt" = 1 ]; then
    # bindgen looks up rustfmt via $RUSTFMT or PATH; pin it to what we checked.
    export RUSTFMT
    RUSTFMT="$(command -v "$RUSTFMT")"
fi

# bindgen treats a rustfmt failure as non-fatal and then emits unformatted
# code; capture its stderr so that case fails loudly instead.
bindgen_err="$tmpdir/bindgen.stderr"
bindgen_out="${out:-$tmpdir/bindings.rs}"
if ! "$BINDGEN" "$header" "${flags[@]}" -o "$bindgen_out" -- -Wno-unknown-attributes \
        2>"$bindgen_err"; then
    cat "$bindgen_err" >&2
    die "bindgen failed"
fi
cat "$bindgen_err" >&2
if [ "$rustfmt" = 1 ] && grep -qi 'rustfmt' "$bindgen_err"; then
    die "rustfmt failed inside bindgen (output would be unformatted); fix rustfmt or pass --no-rustfmt"
fi
[ -s "$bindgen_out" ] || die "bindgen produced empty output"
if [ -z "$out" ]; then
    cat "$bindgen_out"
fi
