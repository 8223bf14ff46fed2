#!/usr/bin/env bash
# Coverage-guided fuzzing of BtfBindings' readers with AFL++ and SharpFuzz (see tests/fuzz/README.md).
#
#   bash tests/fuzz/run.sh [SECONDS] [HARNESS...]   fuzz each harness for SECONDS (default 30; all harnesses by default),
#                                                   print executions/crashes/hangs per harness; exit 1 if any crash or hang
#   bash tests/fuzz/run.sh replay [--corpus] [HARNESS...]
#                                                   run tests/fuzz/regressions/<harness>/* (and with --corpus the seed corpus)
#                                                   through the harnesses without AFL; exit 1 on any crash or hang
#
# Environment: FUZZ_OUT (work folder, default tests/fuzz/out), FUZZ_TIMEOUT_MS (AFL's -t, default 5000),
# FUZZ_KEEP=1 (resume: keep the previous findings' queue as the input corpus).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-$here/out}
project=$here/BtfBindings.Fuzz/BtfBindings.Fuzz.csproj
all_harnesses=(btf split elf gzip xz lzma tar lz4 kernel core scan)
mkdir -p "$out"

# An absurd allocation from a small input must fail fast (OutOfMemoryException is a crash) rather than swap the machine.
export DOTNET_GCHeapHardLimit=${DOTNET_GCHeapHardLimit:-0xC0000000}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${1:-}" = "replay" ]; then
  shift
  with_corpus=0
  if [ "${1:-}" = "--corpus" ]; then with_corpus=1; shift; fi
  harnesses=("$@"); [ ${#harnesses[@]} -gt 0 ] || harnesses=("${all_harnesses[@]}")
  dotnet build "$project" -c Release -v q -nologo -o "$out/plain" >"$out/build-plain.log" 2>&1 \
    || { cat "$out/build-plain.log"; echo "run.sh: build failed" >&2; exit 2; }
  status=0; ran=0; failed=()
  for h in "${harnesses[@]}"; do
    dirs=()
    [ -d "$here/regressions/$h" ] && dirs+=("$here/regressions/$h")
    [ $with_corpus = 1 ] && [ -d "$here/corpus/$h" ] && dirs+=("$here/corpus/$h")
    [ ${#dirs[@]} -gt 0 ] || continue
    for f in $(find "${dirs[@]}" -maxdepth 1 -type f ! -name '*.md' | sort); do
      ran=1
      # One process per input: a stack overflow or a hang ends the process, not the replay.
      if timeout -k 5 120 dotnet "$out/plain/BtfBindings.Fuzz.dll" run "$h" "$f" >"$out/replay.log" 2>&1; then
        grep '^ok' "$out/replay.log"
      else
        status=1; failed+=("$h ${f#$root/}")
        # A stack overflow prints thousands of frames: show its top and its bottom (where it was entered).
        grep -v '^ok' "$out/replay.log" | awk '{ l[NR] = $0 } END { for (i = 1; i <= NR; i++) if (NR <= 50 || i <= 12 || i > NR - 25) print l[i]; else if (i == 13) print "   ... (" NR - 37 " frames)" }'
      fi
    done
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo; echo "replay: ${#failed[@]} inputs crash or hang:"; printf '  %s\n' "${failed[@]}"
  fi
  [ $ran = 1 ] || echo "run.sh replay: no regression inputs for: ${harnesses[*]}"
  exit $status
fi

seconds=30
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
harnesses=("$@"); [ ${#harnesses[@]} -gt 0 ] || harnesses=("${all_harnesses[@]}")
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}

command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz is missing: apt-get update && apt-get install -y afl++" >&2; exit 2; }
sharpfuzz=$out/tools/sharpfuzz
if [ ! -x "$sharpfuzz" ]; then
  dotnet tool install --tool-path "$out/tools" SharpFuzz.CommandLine --version 2.3.0 >"$out/tool-install.log" 2>&1 \
    || { cat "$out/tool-install.log"; echo "run.sh: cannot install SharpFuzz.CommandLine" >&2; exit 2; }
fi

# Build, then instrument the copies AFL runs: the Runtime (readers, decoders, planner, CO-RE) and the emitter linked
# into the harness assembly (namespace BtfBindings.Emit; the harness code itself, namespace BtfFuzz, is left alone).
bin=$out/bin
rm -rf "$bin"
dotnet publish "$project" -c Release -v q -nologo -o "$bin" >"$out/build.log" 2>&1 \
  || { cat "$out/build.log"; echo "run.sh: build failed" >&2; exit 2; }
"$sharpfuzz" "$bin/BtfBindings.Runtime.dll" >"$out/instrument.log" 2>&1 \
  && "$sharpfuzz" "$bin/BtfBindings.Fuzz.dll" BtfBindings.Emit >>"$out/instrument.log" 2>&1 \
  || { cat "$out/instrument.log"; echo "run.sh: instrumentation failed" >&2; exit 2; }

export AFL_SKIP_BIN_CHECK=1          # the target is `dotnet`; SharpFuzz speaks the fork-server protocol itself
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=${AFL_FORKSRV_INIT_TMOUT:-60000}   # dotnet start-up + loading the fixed inputs
export AFL_FAST_CAL=1 AFL_NO_WARN_INSTABILITY=1

stat_of() { sed -n "s/^$2 *: *//p" "$1" 2>/dev/null | head -1; }
status=0
summary=()
for h in "${harnesses[@]}"; do
  [ -d "$here/corpus/$h" ] || { echo "run.sh: unknown harness $h (no tests/fuzz/corpus/$h)" >&2; exit 2; }
  findings=$out/findings/$h
  input=$here/corpus/$h
  if [ "${FUZZ_KEEP:-0}" = 1 ] && [ -d "$findings/default/queue" ]; then
    input=$out/resume/$h; rm -rf "$input"; mkdir -p "$input"
    cp "$here/corpus/$h"/* "$input/"; find "$findings/default/queue" -maxdepth 1 -type f -name 'id:*' -exec cp {} "$input/" \;
  fi
  rm -rf "$findings"; mkdir -p "$out/findings"
  echo "== $h: afl-fuzz for ${seconds}s (log: $out/afl-$h.log)"
  timeout -k 10 $((seconds + 180)) afl-fuzz -i "$input" -o "$findings" -V "$seconds" -t "$timeout_ms" -m none \
    -- dotnet "$bin/BtfBindings.Fuzz.dll" "$h" >"$out/afl-$h.log" 2>&1
  rc=$?
  stats=$findings/default/fuzzer_stats
  if [ ! -f "$stats" ]; then
    tail -20 "$out/afl-$h.log"
    echo "run.sh: afl-fuzz did not run for $h (exit $rc)" >&2
    summary+=("$(printf '%-7s %12s %8s %6s  %s' "$h" - - - "afl-fuzz failed (exit $rc)")")
    status=1
    continue
  fi
  execs=$(stat_of "$stats" execs_done)
  crashes=$(stat_of "$stats" saved_crashes); [ -n "$crashes" ] || crashes=$(stat_of "$stats" unique_crashes)
  hangs=$(stat_of "$stats" saved_hangs); [ -n "$hangs" ] || hangs=$(stat_of "$stats" unique_hangs)
  eps=$(stat_of "$stats" execs_per_sec)
  paths=$(stat_of "$stats" corpus_count); [ -n "$paths" ] || paths=$(stat_of "$stats" paths_total)
  summary+=("$(printf '%-7s %12s %8s %6s  %s execs/s, %s queue entries' "$h" "$execs" "${crashes:-0}" "${hangs:-0}" "$eps" "$paths")")
  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    status=1
    echo "   $h: ${crashes:-0} crashes, ${hangs:-0} hangs in $findings/default/{crashes,hangs}; replaying the crashes:"
    files=$(find "$findings/default/crashes" -maxdepth 1 -type f -name 'id:*' | head -5)
    [ -z "$files" ] || dotnet "$bin/BtfBindings.Fuzz.dll" run "$h" $files 2>&1 | grep -v '^ok' | head -60
  fi
done

# The btf and scan harnesses' scratch files (one file or folder per process, in /dev/shm): remove those whose process is gone.
for f in /dev/shm/btfbindings-fuzz-*.btf /dev/shm/btfbindings-fuzz-scan-*; do
  [ -e "$f" ] || continue
  pid=${f##*-}; pid=${pid%.btf}
  kill -0 "$pid" 2>/dev/null || rm -rf "$f"
done

echo
printf '%-7s %12s %8s %6s\n' harness executions crashes hangs
for line in "${summary[@]}"; do echo "$line"; done
exit $status
