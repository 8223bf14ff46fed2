#!/usr/bin/env bash
# Line coverage of each harness's decoder when replaying its inputs (see README.md "Coverage"):
#
#   bash tests/fuzz/coverage.sh [HARNESS...]
#
# Inputs per harness: the seed corpus, the regressions and, when there, the AFL queue of the last run
# (out/findings/<harness>/default/queue) plus any folders in FUZZ_COVERAGE_EXTRA_<harness> (':'-separated).
# Runs the harnesses (linked as source into BtfBindings.Fuzz.Coverage, no AFL) under coverlet, one `dotnet test` per
# harness, and prints a markdown table: harness, inputs, and covered/coverable lines of the files that decode its format.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_OUT:-$here/out}
project=$here/BtfBindings.Fuzz.Coverage/BtfBindings.Fuzz.Coverage.csproj   # assembly BtfBindings.Fuzz
all_harnesses=(btf split elf gzip xz lzma tar lz4 kernel core scan)
harnesses=("$@"); [ ${#harnesses[@]} -gt 0 ] || harnesses=("${all_harnesses[@]}")
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$out/coverage"

dotnet build "$project" -c Release -v q -nologo >"$out/coverage/build.log" 2>&1 \
  || { cat "$out/coverage/build.log"; echo "coverage.sh: build failed" >&2; exit 2; }
cat >"$out/coverage/coverlet.runsettings" <<'XML'
<RunSettings><DataCollectionRunSettings><DataCollectors><DataCollector friendlyName="XPlat Code Coverage"><Configuration>
  <Format>cobertura</Format>
  <Include>[BtfBindings.Runtime]*,[BtfBindings.Fuzz]BtfBindings.Emit.*</Include>
  <SingleHit>false</SingleHit>
</Configuration></DataCollector></DataCollectors></DataCollectionRunSettings></RunSettings>
XML

status=0
for h in "${harnesses[@]}"; do
  inputs=$here/corpus/$h
  [ -d "$here/regressions/$h" ] && inputs+=":$here/regressions/$h"
  [ -d "$out/findings/$h/default/queue" ] && inputs+=":$out/findings/$h/default/queue"
  extra_var=FUZZ_COVERAGE_EXTRA_$h
  [ -n "${!extra_var:-}" ] && inputs+=":${!extra_var}"
  results=$out/coverage/$h
  rm -rf "$results"
  BTFFUZZ_COVERAGE_HARNESS=$h BTFFUZZ_COVERAGE_INPUTS=$inputs \
    dotnet test "$project" -c Release --no-build -v q -nologo --settings "$out/coverage/coverlet.runsettings" \
      --collect:"XPlat Code Coverage" --results-directory "$results" --logger "console;verbosity=detailed" >"$results.log" 2>&1 \
    || { grep -E "failed the contract|Failed|Error" "$results.log" | head -20; echo "coverage.sh: $h: replay failed" >&2; status=1; }
  grep -o "$h: [0-9]* inputs replayed.*" "$results.log" | head -1 >"$results.inputs"
done

python3 - "$out/coverage" "${harnesses[@]}" <<'PY'
import fnmatch, glob, os, re, sys, xml.etree.ElementTree as ET
root, harnesses = sys.argv[1], sys.argv[2:]
# The files that decode each harness's format (src/BtfBindings.Runtime/...).
decoders = {
    'btf':    ['Btf/BtfParser.cs', 'Btf/Btf.cs'],
    'split':  ['Btf/BtfParser.cs', 'Btf/Btf.cs'],
    'elf':    ['Containers/ElfFile.cs', 'Containers/BtfContainer.cs'],
    'gzip':   ['Containers/BtfContainer.cs', 'Containers/KernelImage.cs'],
    'xz':     ['Compression/XzDecoder.cs', 'Compression/Lzma2Decoder.cs', 'Compression/LzmaDecoder.cs', 'Compression/RangeDecoder.cs', 'Compression/BranchFilters.cs'],
    'lzma':   ['Compression/XzDecoder.cs', 'Compression/Lzma2Decoder.cs', 'Compression/LzmaDecoder.cs', 'Compression/RangeDecoder.cs', 'Compression/BranchFilters.cs'],
    'tar':    ['Compression/TarReader.cs', 'Compression/BtfHubArchive.cs'],
    'lz4':    ['Containers/Lz4LegacyDecoder.cs'],
    'kernel': ['Containers/KernelImage.cs'],
    'core':   ['CoRe/CoreMatching.cs', 'CoRe/TargetKernel.cs', 'CoRe/CoreFieldResolution.cs', 'CoRe/CoreTypeResolution*.cs'],
    'scan':   ['CoRe/Compatibility/AssemblyUseScanner.cs'],
}
print('| harness | inputs replayed | decoder files: lines covered / coverable (%) | all of them |')
print('|---|---|---|---|')
for h in harnesses:
    reports = glob.glob(os.path.join(root, h, '*', 'coverage.cobertura.xml'))
    if not reports:
        print(f'| {h} | - | no coverage report | |'); continue
    lines = {}  # file -> {line: hits}
    for cls in ET.parse(reports[0]).getroot().iter('class'):
        f = cls.get('filename').replace('\\', '/')
        d = lines.setdefault(f, {})
        for ln in cls.iter('line'):
            n = int(ln.get('number')); d[n] = max(d.get(n, 0), int(ln.get('hits')))
    cells, tc, tt = [], 0, 0
    for rel in decoders.get(h, []):
        match = sorted(f for f in lines if fnmatch.fnmatch(f, rel) or fnmatch.fnmatch(f, '*/' + rel))
        if not match: cells.append(f'{os.path.basename(rel)} -'); continue
        for f in match:
            d = lines[f]; c = sum(1 for v in d.values() if v > 0); t = len(d)
            tc += c; tt += t
            cells.append(f'{os.path.basename(f)} {c}/{t} ({100.0 * c / t:.0f}%)')
    inputs = open(os.path.join(root, h + '.inputs')).read().strip() if os.path.exists(os.path.join(root, h + '.inputs')) else ''
    m = re.search(r': (\d+) inputs', inputs)
    print(f'| {h} | {m.group(1) if m else "?"} | {"; ".join(cells)} | {tc}/{tt} ({100.0 * tc / max(tt, 1):.1f}%) |')
PY
exit $status
