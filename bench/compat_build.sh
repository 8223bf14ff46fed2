#!/usr/bin/env bash
# compat_build.sh - what <BtfTarget> items cost a build: a fresh app reading 50 task_struct fields through generated types
# (the packed package, a 6.12 x86_64 BtfFile) with BtfTarget items over a BTFHub-shaped tree of N kernels, against the same
# app without the BtfTarget items, in one run. Kernels beyond the six fixtures are DERIVED (tests/fixtures/make-btfhub-tree.sh
# --variants N: byte-distinct copies of the six, same types), so each is hashed and parsed on its own.
#
# Usage: bench/compat_build.sh [N]        N kernels (default 40)
#   env RUNS   builds of each kind per app (default 3; the median is printed), alternating between the two apps
#   env KEEP=1 keep the temporary folder and print its path
#   env GCPROBE=1 also print MSBuild's own allocations and gen0 collections in the incremental build, with vs without
#   env TASKS=il  run the package's IL task assembly (tasks/netstandard2.0) instead of the ReadyToRun one the targets pick on
#                 Linux x64, to see what the precompiled tasks save
#
# Prints, each as with/without and the delta (goal: clean <= 2 s, no-op and incremental <= 50 ms):
#   clean build      bin/ and obj/<config>/ removed, no compiler server or MSBuild node reuse (the analyzer parses every target;
#                    the raw copies in ~/.cache/btfbindings/btf stay, as they would on a user's machine)
#   no-op build      nothing changed (MSBuild's up-to-date checks, HashBtfTargets not started), as a user runs dotnet build
#   incremental      a string in Program.cs edited: as a user runs dotnet build (compiler server: the verdicts are memoised
#                    there; MSBuild node reuse: the report task stays loaded), and with neither (verdicts from compat.verdicts)
# The MSBuild nodes and the compiler server the default builds start stop by themselves when idle.
# then the incremental build per step (MSBuild's performance summary: each target's and task's own time, steadier than
# wall time), and, in process (bench harness), the targets' load time, the verdicts' time and the managed memory the parsed
# kernels take.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
N="${1:-40}"
RUNS="${RUNS:-3}"
die() { echo "compat_build.sh: error: $*" >&2; exit 1; }

work="$(mktemp -d)"
if [ "${KEEP:-}" = 1 ]; then echo "work folder: $work"; else trap 'rm -rf "$work"' EXIT; fi
version="0.0.0-compat.$(date -u +%Y%m%d%H%M%S)"
dotnet pack "$root/src/BtfBindings.Runtime" -c Release --artifacts-path "$work/artifacts" -o "$work/feed" \
  -p:PackageVersion="$version" -nologo -v q >/dev/null || die "dotnet pack failed"
printf '<configuration><packageSources><clear /><add key="local" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/nuget.config"
"$root/tests/fixtures/make-btfhub-tree.sh" "$work/btfhub" --variants "$N" >/dev/null || die "make-btfhub-tree.sh failed"
kernels=$(find "$work/btfhub" -name '*.btf.tar.xz' | wc -l)
mb=$(du -sm "$work/btfhub" | cut -f1)

# 50 fields of 6.12's task_struct (ints, pointers, enums), read through the View: the uses the analyzer judges.
fields="__state saved_state stack flags ptrace on_cpu wakee_flips wakee_flip_decay_ts last_wakee recent_used_cpu wake_cpu on_rq
prio static_prio normal_prio rt_priority dl_server sched_class sched_task_group btrace_seq policy max_allowed_capacity
nr_cpus_allowed cpus_ptr user_cpus_ptr migration_pending migration_disabled migration_flags rcu_read_lock_nesting
rcu_blocked_node rcu_tasks_nvcsw rcu_tasks_holdout rcu_tasks_idx rcu_tasks_idle_cpu rcu_tasks_exit_cpu trc_reader_nesting
trc_ipi_to_cpu trc_blkd_cpu mm active_mm faults_disabled_mapping exit_state exit_code exit_signal pdeath_signal jobctl
personality atomic_flags pid tgid"
make_app() {  # make_app DIR with|without
  local dir="$1" kind="$2" targets=""
  mkdir -p "$dir"
  cp "$work/nuget.config" "$dir/"
  zcat "$root/tests/fixtures/x86_64-6.12.btf.gz" > "$dir/vmlinux.btf"
  if [ "$kind" = with ]; then targets="<BtfTarget Include=\"$work/btfhub/**/*.btf.tar.xz\" />"; fi
  cat > "$dir/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
  <ItemGroup><PackageReference Include="BtfBindings" Version="$version" /><BtfFile Include="vmlinux.btf" />$targets</ItemGroup>
</Project>
XML
  # The request in a file of its own, as README shows it: real builds compile it into its own assembly (the default), so
  # an incremental build re-binds only Program.cs and the compat work is not lost in the noise of binding task_struct.
  printf '[BtfBindings.BtfTypes("task_struct")]\npublic static partial class Kernel { }\n' > "$dir/Kernel.cs"
  { echo 'static class Program'
    echo '{'
    echo '    static void Use(Kernel.task_struct.View v)'
    echo '    {'
    for f in $fields; do echo "        _ = v.$f;"; done
    echo '    }'
    echo '    static void Main() => System.Console.WriteLine("edit 0: " + Kernel.task_struct.BtfLayout.Size);'
    echo '}'; } > "$dir/Program.cs"
}
make_app "$work/with" with
make_app "$work/without" without
export NUGET_PACKAGES="$work/packages"
for app in with without; do
  (cd "$work/$app" && dotnet restore -nologo -v q >/dev/null) || die "restore of the $app app failed"
done

ms() { local t0 t1; t0=$(date +%s%N); "$@" > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "build failed: $*"; }; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
tasks=()
if [ "${TASKS:-}" = il ]; then tasks=("-p:BtfBindingsTasksAssembly=$work/packages/btfbindings/$version/tasks/netstandard2.0/BtfBindings.Build.dll"); fi
build() {  # build APP SHARED: true is `dotnet build` as a user runs it (compiler server, MSBuild node reuse); false starts all afresh
  if [ "$2" = true ]; then (cd "$work/$1" && env -u UseSharedCompilation dotnet build --no-restore -nologo -v q -p:UseSharedCompilation=true "${tasks[@]}")
  else (cd "$work/$1" && env -u UseSharedCompilation dotnet build --no-restore -nologo -v q -nodeReuse:false -p:UseSharedCompilation=false "${tasks[@]}"); fi
}
clean() { rm -rf "$work/$1/bin" "$work/$1/obj/Debug"; build "$1" false; }
edit() { sed -i -E "s/\"edit [0-9]+: \"/\"edit $RANDOM: \"/" "$work/$1/Program.cs"; build "$1" "$2"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() {  # measure LABEL GOAL_MS CMD... (CMD gets the app name appended)
  local label="$1" goal="$2" i; shift 2
  : > "$work/w.txt"; : > "$work/o.txt"
  for ((i = 1; i <= RUNS; i++)); do
    ms "$@" with >> "$work/w.txt"; ms "$@" without >> "$work/o.txt"
  done
  local w o
  w=$(median < "$work/w.txt"); o=$(median < "$work/o.txt")
  awk -v l="$label" -v w="$w" -v o="$o" -v g="$goal" -v ws="$(paste -sd' ' "$work/w.txt")" -v os="$(paste -sd' ' "$work/o.txt")" \
    'BEGIN { printf "%-44s with %6.0f ms, without %6.0f ms: delta %+6.0f ms (goal <= %d ms)   [with: %s / without: %s]\n", l, w, o, w - o, g, ws, os }'
}
run_clean() { clean "$1"; }
run_noop() { build "$1" true; }
run_edit_shared() { edit "$1" true; }
run_edit_fresh() { edit "$1" false; }

echo "== BtfTarget cost (task assembly: ${TASKS:-as the targets pick it}): $kernels kernels ($mb MB of .btf.tar.xz; all but 6 derived), 50 task_struct fields read through the View"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
build with true >/dev/null; build without true >/dev/null     # warm-up: the compiler server, the SDK's own caches
warnings=$(cd "$work/with" && rm -rf obj/Debug bin && env -u UseSharedCompilation dotnet build --no-restore -nologo -v q -nodeReuse:false -p:UseSharedCompilation=false 2>&1 | grep -c "warning BTFB0" || true)
echo "use-site warnings (BTFB019-022) on the clean build: $warnings"
measure "clean build (no compiler server)" 2000 run_clean
measure "no-op build" 50 run_noop
measure "incremental, compiler server, node reuse" 50 run_edit_shared
measure "incremental, no compiler server" 50 run_edit_fresh
# Per step: the same incremental build (compiler server) at -v n with MSBuild's performance summary, so that the figures
# are MSBuild's own timings of each target and task rather than whole-process wall time (whose run-to-run spread on this
# machine is larger than the goal). "all targets" sums every target's exclusive time: the build's work without process
# start-up and restore; IncrementalClean (or _CleanGetCurrentAndPriorFileWrites) is where a collection the report's
# garbage causes in MSBuild's process shows (~35 ms on this app when the task left ~0.1 MB).
perf_edit() {  # perf_edit APP: one literal edit, built with the summary; prints "name ms" lines
  sed -i -E "s/\"edit [0-9]+: \"/\"edit $RANDOM: \"/" "$work/$1/Program.cs"
  (cd "$work/$1" && env -u UseSharedCompilation dotnet build --no-restore -nologo -v n -clp:PerformanceSummary -p:UseSharedCompilation=true "${tasks[@]}") > "$work/perf.log" 2>&1 \
    || { cat "$work/perf.log" >&2; die "build failed: $1"; }
  awk '/^Target Performance Summary:/ { t = 1; next } /^Task Performance Summary:/ { t = 0; k = 1; next }
       t && $2 == "ms" { all += $1; if ($3 == "_CleanGetCurrentAndPriorFileWrites" || $3 == "IncrementalClean" || $3 == "CoreCompile" || $3 == "BtfBindingsCompatReport") print $3, $1 }
       k && $2 == "ms" && ($3 == "WriteCompatReport" || $3 == "Csc") { print "task:" $3, $1 }
       END { print "all-targets", all }' "$work/perf.log"
}
: > "$work/perf-with.txt"; : > "$work/perf-without.txt"
for ((i = 1; i <= RUNS; i++)); do perf_edit with >> "$work/perf-with.txt"; perf_edit without >> "$work/perf-without.txt"; done
echo "incremental, compiler server, per step (MSBuild's performance summary, median of $RUNS; with / without):"
for step in all-targets CoreCompile task:Csc BtfBindingsCompatReport task:WriteCompatReport _CleanGetCurrentAndPriorFileWrites IncrementalClean; do
  w=$(awk -v s="$step" '$1 == s { print $2 }' "$work/perf-with.txt" | median)
  o=$(awk -v s="$step" '$1 == s { print $2 }' "$work/perf-without.txt" | median)
  printf "  %-36s with %5s ms, without %5s ms\n" "$step" "${w:--}" "${o:--}"
done
# GCPROBE=1: MSBuild's own allocations in the same incremental build, from the first target to the end of IncrementalClean
# (a probe task in Directory.Build.targets), and whether a collection happened there: garbage the targets and tasks leave
# in MSBuild's process is what tips a build into a ~35 ms gen0 collection.
if [ "${GCPROBE:-}" = 1 ]; then
  dotnet build -c Release "$here/gcprobe" -nologo -v q >/dev/null || die "gcprobe build failed"
  for app in with without; do
    printf '<Project>\n  <UsingTask TaskName="GcProbe" AssemblyFile="%s" />\n  <Target Name="GcProbeStart" BeforeTargets="_CheckForInvalidConfigurationAndPlatform"><GcProbe At="start" /></Target>\n  <Target Name="GcProbeEnd" AfterTargets="IncrementalClean"><GcProbe At="end" /></Target>\n</Project>\n' \
      "$here/gcprobe/bin/Release/net10.0/GcProbe.dll" > "$work/$app/Directory.Build.targets"
    build "$app" true >/dev/null   # (the project changed: a first build of its own)
  done
  : > "$work/gc-with.txt"; : > "$work/gc-without.txt"
  for ((i = 1; i <= RUNS; i++)); do
    for app in with without; do
      sed -i -E "s/\"edit [0-9]+: \"/\"edit $RANDOM: \"/" "$work/$app/Program.cs"
      (cd "$work/$app" && env -u UseSharedCompilation dotnet build --no-restore -nologo -v n -p:UseSharedCompilation=true "${tasks[@]}") > "$work/gc.log" 2>&1 \
        || { cat "$work/gc.log" >&2; die "build failed: $app"; }
      # allocated KB between the probes, and gen0 collections between them
      awk '$1 == "GCPROBE" && $2 == "start" { a = $3; g = $4 } $1 == "GCPROBE" && $2 == "end" { printf "%.0f %d\n", ($3 - a) / 1024, $4 - g }' \
        <(grep -o 'GCPROBE.*' "$work/gc.log") >> "$work/gc-$app.txt"
    done
  done
  for app in with without; do rm "$work/$app/Directory.Build.targets"; done
  wk=$(cut -d' ' -f1 "$work/gc-with.txt" | median); ok=$(cut -d' ' -f1 "$work/gc-without.txt" | median)
  echo "incremental, compiler server, MSBuild's allocations from the first target to IncrementalClean's end (median of $RUNS):"
  printf "  with %s KB, without %s KB: delta %+d KB; gen0 collections in that span per build: with [%s], without [%s]\n" "$wk" "$ok" $((wk - ok)) \
    "$(cut -d' ' -f2 "$work/gc-with.txt" | paste -sd' ')" "$(cut -d' ' -f2 "$work/gc-without.txt" | paste -sd' ')"
fi
# In process, what the compiler does with the targets (the bench harness links the same rule): load, verdicts, memory kept.
dotnet build -c Release "$here/BtfBindings.Bench" -nologo -v q >/dev/null || die "bench harness build failed"
echo "in process, the analyzer's work from the archives (a cold compiler):"
"$here/BtfBindings.Bench/bin/Release/net10.0/BtfBindings.Bench" compat-targets "$work/btfhub" "$work/with/vmlinux.btf" $fields | sed 's/^/  /'
"$root/tests/fixtures/make-btfhub-tree.sh" "$work/raw" --variants "$N" --raw >/dev/null || die "make-btfhub-tree.sh --raw failed"
echo "in process, from raw copies (what BtfBindingsRawBtfCache gives every compile after the first):"
"$here/BtfBindings.Bench/bin/Release/net10.0/BtfBindings.Bench" compat-targets "$work/raw" "$work/with/vmlinux.btf" $fields | sed 's/^/  /'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
