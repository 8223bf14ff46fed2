#!/usr/bin/env bash
# gen_size.sh - bytes of C# the source generator writes, by what they are for, from a real build's generated files.
#
# Usage: bench/gen_size.sh [DIR]
#   DIR    a folder of generated *.g.cs files (e.g. obj/.../generated from a build with -p:EmitCompilerGeneratedFiles=true);
#          default: builds samples/KernelTypes ([BtfTypes("task_struct", "iphdr")] from the 6.12 x86_64 fixture) in a
#          temporary artifacts folder with EmitCompilerGeneratedFiles and measures what its build generated.
#
# Each line is counted once, in the innermost block it belongs to: a struct's relocatable view (ref struct View), its
# kernel pointer type (struct Pointer), its layout metadata (BtfLayout and what builds it, BtfEnumLayouts), the struct
# itself (fields, bitfield properties), enums, inline arrays (BtfArrays), constants, file headers. Doc comments (///) are
# counted apart from code in each.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
dir="${1:-}"
if [ -z "$dir" ]; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  dotnet build "$root/samples/KernelTypes" -c Release --artifacts-path "$work/artifacts" -p:EmitCompilerGeneratedFiles=true \
    -nologo -v q >/dev/null || { echo "gen_size.sh: error: building samples/KernelTypes failed" >&2; exit 1; }
  dir="$(find "$work/artifacts" -type d -name 'BtfBindings.Generator.BtfSourceGenerator' | head -n1)"
  [ -n "$dir" ] || { echo "gen_size.sh: error: no generated files found" >&2; exit 1; }
fi
python3 - "$dir" <<'PY'
import os, re, sys
from collections import Counter
root = sys.argv[1]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith('.g.cs'))
cats = Counter()
per_file = Counter()
# A block opened by a line matching one of these is that category until its braces close.
openers = [
    (re.compile(r'\bref struct View_*\b'), 'view'),
    (re.compile(r'\bstruct Pointer\b'), 'pointer'),
    (re.compile(r'\bstatic partial class BtfEnumLayouts\b'), 'metadata'),
    (re.compile(r'\bstatic partial class BtfConstants\b'), 'constants'),
    (re.compile(r'\bstruct BtfArray\d+<'), 'arrays'),
    (re.compile(r'\benum \S+ : '), 'enum'),
]
for path in files:
    text = open(path, encoding='utf-8').read()
    per_file[os.path.basename(path)] = len(text.encode())
    stack = []        # (category, depth at which it closes)
    depth = 0
    pending = None    # category of a block whose '{' is on a following line
    in_meta = False   # inside 'static readonly ... s_btfLayout = new ...(' up to its closing ');'
    doc_buf = []      # doc lines wait for the declaration they document
    for line in text.splitlines(keepends=True):
        s = line.strip()
        n = len(line.encode())
        if s.startswith('///'):
            doc_buf.append(n); continue
        cat = stack[-1][0] if stack else 'struct'
        if depth == 0 or s.startswith('#') or s.startswith('// ') or s.startswith('namespace') or (depth <= 1 and s in ('{', '}')) \
                or re.match(r'(public|internal) (static )?partial class \w+$', s):
            cat = 'header'
        for rx, c in openers:
            if rx.search(s):
                cat = c; pending = c; break
        if 'BtfLayout =>' in s or 's_btfLayout = ' in s:
            cat = 'metadata'
            if 's_btfLayout = new' in s: in_meta = True   # the per-field constructor calls of earlier versions
        if in_meta:
            cat = 'metadata'
            if s.endswith(');') and not s.startswith('new '): in_meta = False
        cats[cat + ' doc'] += sum(doc_buf); doc_buf = []
        cats[cat + ' code'] += n
        opens, closes = s.count('{'), s.count('}')
        if in_meta or cat == 'metadata' and not pending: opens = closes = 0  # array initializer braces inside metadata
        for _ in range(opens):
            depth += 1
            if pending: stack.append((pending, depth)); pending = None
        for _ in range(closes):
            if stack and stack[-1][1] == depth: stack.pop()
            depth -= 1
total = sum(per_file.values())
print(f"{len(files)} files, {total:,} bytes of C#")
order = ['struct', 'view', 'metadata', 'pointer', 'enum', 'arrays', 'constants', 'header']
print(f"  {'category':<12} {'code':>11} {'docs':>11} {'total':>11} {'share':>7}")
for c in order:
    code, doc = cats[c + ' code'], cats[c + ' doc']
    if code + doc == 0: continue
    print(f"  {c:<12} {code:>11,} {doc:>11,} {code + doc:>11,} {100.0 * (code + doc) / total:>6.1f}%")
code = sum(v for k, v in cats.items() if k.endswith(' code')); doc = sum(v for k, v in cats.items() if k.endswith(' doc'))
print(f"  {'all':<12} {code:>11,} {doc:>11,} {code + doc:>11,}")
print("largest files: " + ", ".join(f"{f} {b:,}" for f, b in per_file.most_common(6)))
PY
