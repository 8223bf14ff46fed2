#!/usr/bin/env bash
# Seeds of the `scan` harness (tests/fuzz/corpus/scan/): scan-probe/ (one generated struct, iphdr, one enum, pid_type,
# and each kind of use) built with the generator in the shapes the scanner meets: the types in their own assembly
# (ScanProbe.BtfTypes.dll, the default) or in the app, with a portable PDB beside it, embedded, or none.
# Each seed is the harness's input (BtfBindings.Fuzz/ScanHarness.cs): a mode byte, the assembly's length, the
# assembly, the second file. make-corpus.sh runs this; alone: bash tests/fuzz/make-scan-corpus.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=$here/corpus/scan
probe=$here/scan-probe
work=$(mktemp -d)
trap 'rm -rf "$work" "$probe/bin" "$probe/obj"' EXIT

dotnet build "$root/src/BtfBindings.Build" -c Release -v q -nologo >/dev/null
# ContinuousIntegrationBuild: source paths mapped to /_/, so the PDB path the assembly records exists nowhere and the
# scanner looks for the PDB beside the assembly, as it does for a copied build.
build() { local name=$1; shift
  rm -rf "$probe/bin" "$probe/obj"
  dotnet build "$probe" -c Release -v q -nologo -p:ContinuousIntegrationBuild=true -o "$work/$name" "$@" >"$work/$name.log" 2>&1 \
    || { cat "$work/$name.log"; echo "make-scan-corpus.sh: build $name failed" >&2; exit 1; }
}
build split -p:DebugType=portable
build single -p:BtfBindingsTypesAssembly=false -p:DebugType=portable
build embedded -p:BtfBindingsTypesAssembly=false -p:DebugType=embedded
build nopdb -p:BtfBindingsTypesAssembly=false -p:DebugType=none

# seed MODE ASSEMBLY [SECOND] > FILE
seed() { python3 - "$@" <<'PY'
import sys, struct
mode, first = int(sys.argv[1]), open(sys.argv[2], 'rb').read()
second = open(sys.argv[3], 'rb').read() if len(sys.argv) > 3 else b''
sys.stdout.buffer.write(bytes([mode]) + struct.pack('<I', len(first)) + first + second)
PY
}
mkdir -p "$corpus"
find "$corpus" -type f ! -name 'q-*' -delete
seed 0 "$work/nopdb/ScanProbe.dll" > "$corpus/single-nopdb"
seed 1 "$work/single/ScanProbe.dll" "$work/single/ScanProbe.pdb" > "$corpus/single-pdb"
seed 0 "$work/embedded/ScanProbe.dll" > "$corpus/single-embedded-pdb"
seed 2 "$work/split/ScanProbe.dll" "$work/split/ScanProbe.BtfTypes.dll" > "$corpus/types-assembly-referenced"
seed 3 "$work/split/ScanProbe.dll" "$work/split/ScanProbe.BtfTypes.dll" > "$corpus/types-assembly-beside"
seed 1 "$work/split/ScanProbe.dll" "$work/split/ScanProbe.pdb" > "$corpus/app-pdb-types-missing"
ls -l "$corpus"
