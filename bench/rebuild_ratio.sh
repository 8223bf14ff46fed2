#!/usr/bin/env bash
# rebuild_ratio.sh - what the package costs a user's edit-build loop: a rebuild after an unrelated edit of Program.cs in a
# fresh app that uses the packed package ([BtfTypes("task_struct","iphdr")] in Kernel.cs, from a 6.12 x86_64 BtfFile), as
# a user gets it by default (the request file stands alone, so it is compiled into its own assembly:
# build/BtfBindings.TypesAssembly.targets), against the same app without the package, in one run; and the same app with
# the generated types compiled in the project (-p:BtfBindingsTypesAssembly=false in its project file).
#
# Usage: bench/rebuild_ratio.sh [BTF]
#   BTF    raw BTF (default: tests/fixtures/x86_64-6.12.btf.gz uncompressed to a temporary folder)
#   env RUNS   edit-rebuilds of each app (default 5; the median is printed), alternating between the two apps
#   env KEEP=1 keep the temporary folder (the apps, their generated files in gen/) and print its path
#
# Packs src/BtfBindings.Runtime (the one package: runtime, generator, targets) into a temporary feed in its own artifacts
# folder and makes three apps outside the repository (default, inproject, without). A clean build of the in-project app prints the generator's and
# analyzers' times (csc's -p:ReportAnalyzer=true figures) and writes the generated files out (their size is printed).
# Then, twice (with the compiler server, and without it), a warm-up edit-build of each app and RUNS alternating edits of
# a string in each app's Program.cs, each followed by `dotnet build --no-restore`, timed as a whole process. The apps
# with the package print the same line (checked), and the default app's types come from obj/…/btftypes (checked).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
RUNS="${RUNS:-5}"
die() { echo "rebuild_ratio.sh: error: $*" >&2; exit 1; }

work="$(mktemp -d)"
if [ "${KEEP:-}" = 1 ]; then echo "work folder: $work"; else trap 'rm -rf "$work"' EXIT; fi
btf="${1:-}"
if [ -z "$btf" ]; then zcat "$root/tests/fixtures/x86_64-6.12.btf.gz" > "$work/vmlinux.btf"; btf="$work/vmlinux.btf"; fi

version="0.0.0-rebuild.$(date -u +%Y%m%d%H%M%S)"
dotnet pack "$root/src/BtfBindings.Runtime" -c Release --artifacts-path "$work/artifacts" -o "$work/feed" \
  -p:PackageVersion="$version" -nologo -v q >/dev/null || die "dotnet pack failed"
printf '<configuration><packageSources><clear /><add key="local" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/nuget.config"

# All apps: the same SDK project and Program.cs; default and inproject add the package, the BtfFile, the request and a use of it.
make_app() {  # make_app DIR default|inproject|without
  local dir="$1" kind="$2"
  mkdir -p "$dir"
  cp "$work/nuget.config" "$dir/"
  local refs="" use="0"
  if [ "$kind" != without ]; then
    cp "$btf" "$dir/vmlinux.btf"
    refs="<PackageReference Include=\"BtfBindings\" Version=\"$version\" /><BtfFile Include=\"vmlinux.btf\" />"
    [ "$kind" = inproject ] && refs="$refs</ItemGroup><PropertyGroup><BtfBindingsTypesAssembly>false</BtfBindingsTypesAssembly></PropertyGroup><ItemGroup>"
    printf '[BtfBindings.BtfTypes("task_struct", "iphdr")]\npublic static partial class Kernel { }\n' > "$dir/Kernel.cs"
    use="Kernel.task_struct.BtfLayout.Size + System.Runtime.CompilerServices.Unsafe.SizeOf<Kernel.iphdr>()"
  fi
  cat > "$dir/App.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
  <ItemGroup>$refs</ItemGroup>
</Project>
EOF
  cat > "$dir/Program.cs" <<EOF
static class Program
{
    static void Main() => System.Console.WriteLine("edit 0: " + ($use));
}
EOF
}
make_app "$work/default" default
make_app "$work/inproject" inproject
make_app "$work/without" without

export NUGET_PACKAGES="$work/packages"
for app in default inproject without; do
  (cd "$work/$app" && dotnet restore -nologo -v q >/dev/null) || die "restore of the $app app failed"
done

# Clean build with the compiler's analyzer/generator timing (csc prints it with ReportAnalyzer at detailed verbosity), writing
# the generated files out (timed builds do not write them).
(cd "$work/inproject" && dotnet build --no-restore -nologo -v d -p:ReportAnalyzer=true -p:EmitCompilerGeneratedFiles=true \
  -p:CompilerGeneratedFilesOutputPath="$work/gen" > "$work/clean.log") || die "clean build failed: see $work/clean.log"
echo "clean build of the app with the types in the project: generator and analyzer times (csc -p:ReportAnalyzer=true)"
grep -E "Total (analyzer|generator) execution time|BtfBindings\.(Generator\.)?(BtfSourceGenerator|BtfTypesAnalyzer)" "$work/clean.log" \
  | sed -E 's/^ +//' | sort -u | sed 's/^/  /'
(cd "$work/without" && dotnet build --no-restore -nologo -v q >/dev/null) || die "build of the app without the package failed"
t0=$(date +%s%N)
(cd "$work/default" && dotnet build --no-restore -nologo -v q > "$work/default.log") || die "clean build of the default app failed: see $work/default.log"
echo "clean build of the default app (types in their own assembly): $(( ($(date +%s%N) - t0) / 1000000 )) ms (whole process)"
[ -f "$work/default/obj/Debug/net10.0/btftypes/App.BtfTypes.dll" ] || die "the default app did not compile its types into obj/Debug/net10.0/btftypes/App.BtfTypes.dll"
[ ! -e "$work/inproject/obj/Debug/net10.0/btftypes" ] || die "the in-project app compiled a types assembly"
out_in=$(cd "$work/inproject" && dotnet bin/Debug/net10.0/App.dll); out_def=$(cd "$work/default" && dotnet bin/Debug/net10.0/App.dll)
[ "$out_in" = "$out_def" ] || die "the two apps with the package print different lines: '$out_in' / '$out_def'"
files=$(find "$work/gen" -name '*.g.cs' -path '*BtfSourceGenerator*' | wc -l)
bytes=$(find "$work/gen" -name '*.g.cs' -path '*BtfSourceGenerator*' -exec cat {} + | wc -c)
echo "generated: $files files, $bytes bytes of C# for task_struct+iphdr (by category: bench/gen_size.sh DIR)"

# Each edit-build loop runs twice: with the compiler server (VBCSCompiler; what `dotnet build` uses unless told otherwise, and
# the only place Roslyn keeps a generator's state between builds), and without it (UseSharedCompilation=false, as CI and
# this machine's environment set it: every build starts csc afresh).
# The server this starts (shared with any other build of this user and SDK) stops by itself after its idle timeout.

edit_build() {  # edit_build APP N SHARED -> wall ms
  local dir="$work/$1" n="$2" shared="$3" t0 t1
  sed -i -E "s/\"edit [0-9]+: \"/\"edit $n: \"/" "$dir/Program.cs"
  t0=$(date +%s%N)
  (cd "$dir" && env -u UseSharedCompilation dotnet build --no-restore -nologo -v q -p:UseSharedCompilation="$shared" > "$work/build.log" 2>&1) \
    || { cat "$work/build.log" >&2; die "rebuild of $1 failed"; }
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

loop() {  # loop SHARED LABEL
  local shared="$1" label="$2" i app
  for app in default inproject without; do edit_build "$app" 1000 "$shared" >/dev/null; done   # warm-up (starts the server)
  for app in default inproject without; do : > "$work/$app.txt"; done
  for ((i = 1; i <= RUNS; i++)); do
    for app in default inproject without; do edit_build "$app" "$i" "$shared" >> "$work/$app.txt"; done
  done
  local d p o
  d=$(median < "$work/default.txt"); p=$(median < "$work/inproject.txt"); o=$(median < "$work/without.txt")
  echo "rebuild after editing Program.cs, $label (median of $RUNS alternating runs; default $(paste -sd' ' "$work/default.txt") / in-project $(paste -sd' ' "$work/inproject.txt") / without $(paste -sd' ' "$work/without.txt") ms)"
  awk -v d="$d" -v p="$p" -v o="$o" 'BEGIN { printf "  with the package %.0f ms (default: types in their own assembly), without %.0f ms: ratio %.2fx (goal <= 1.25x); types in the project (BtfBindingsTypesAssembly=false) %.0f ms: ratio %.2fx\n", d, o, d / o, p, p / o }'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
loop true "compiler server (the default)"
loop false "no compiler server (UseSharedCompilation=false)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
