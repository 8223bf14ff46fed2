#!/usr/bin/env bash
# Adds to the seed corpus the fewest AFL queue entries that bring new edges (see README.md "Corpus"):
#
#   bash tests/fuzz/grow-corpus.sh HARNESS BUDGET_KB MAX_ENTRIES [QUEUE_DIR]
#
# QUEUE_DIR defaults to the last run's out/findings/HARNESS/default/queue; run.sh must have built and instrumented
# out/bin. afl-showmap gives each seed, regression and queue entry its edge tuples (as afl-cmin does); then, greedily,
# the entry with the most tuples the corpus lacks (the smaller on a tie) is copied to corpus/HARNESS/q-<sha1 prefix>,
# until no entry adds a tuple, MAX_ENTRIES were added or the next would pass BUDGET_KB. Entries over 64 KiB are never
# taken. The count matters as much as the bytes: CI replays every seed in a process of its own.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_OUT:-$here/out}
h=${1:?harness}; budget_kb=${2:?budget in KiB}; max_entries=${3:?most entries to add}
queue=${4:-$out/findings/$h/default/queue}
[ -f "$out/bin/BtfBindings.Fuzz.dll" ] || { echo "grow-corpus.sh: run run.sh first (it builds and instruments $out/bin)" >&2; exit 2; }
[ -d "$queue" ] || { echo "grow-corpus.sh: no queue at $queue" >&2; exit 2; }
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_FORKSRV_INIT_TMOUT=60000
export DOTNET_GCHeapHardLimit=${DOTNET_GCHeapHardLimit:-0xC0000000}
maps=$out/maps/$h; rm -rf "$maps"; mkdir -p "$maps/have-in" "$maps/queue-in"
cp "$here/corpus/$h"/* "$maps/have-in/"; [ -d "$here/regressions/$h" ] && cp "$here/regressions/$h"/* "$maps/have-in/"
find "$queue" -maxdepth 1 -type f -name 'id:*' -size -65537c -exec cp {} "$maps/queue-in/" \;
for set in have queue; do
  afl-showmap -i "$maps/$set-in" -o "$maps/$set" -t "${FUZZ_TIMEOUT_MS:-5000}" -m none -- dotnet "$out/bin/BtfBindings.Fuzz.dll" "$h" >"$maps/$set.log" 2>&1 \
    || { tail -5 "$maps/$set.log"; echo "grow-corpus.sh: afl-showmap failed" >&2; exit 2; }
done
python3 - "$maps" "$here/corpus/$h" "$budget_kb" "$max_entries" <<'PY'
import hashlib, os, shutil, sys
maps, corpus, budget, most = sys.argv[1], sys.argv[2], int(sys.argv[3]) * 1024, int(sys.argv[4])
def tuples(d):
    return {f: set(open(os.path.join(d, f)).read().split()) for f in os.listdir(d)}
have = set().union(*tuples(os.path.join(maps, 'have')).values())
queue = tuples(os.path.join(maps, 'queue'))
size = {f: os.path.getsize(os.path.join(maps, 'queue-in', f)) for f in queue}
added, used = [], 0
while len(added) < most:
    best = max(queue, key=lambda f: (len(queue[f] - have), -size[f]), default=None)
    if best is None or not (queue[best] - have) or used + size[best] > budget: break
    gain = len(queue[best] - have)
    have |= queue.pop(best)
    data = open(os.path.join(maps, 'queue-in', best), 'rb').read()
    name = 'q-' + hashlib.sha1(data).hexdigest()[:12]
    shutil.copyfile(os.path.join(maps, 'queue-in', best), os.path.join(corpus, name))
    added.append((name, size[best], gain)); used += size[best]
left = len(set().union(*queue.values()) - have) if queue else 0
print(f'{os.path.basename(corpus)}: added {len(added)} entries, {used} bytes, {sum(g for _, _, g in added)} new tuples; {left} tuples of the queue left out')
PY
