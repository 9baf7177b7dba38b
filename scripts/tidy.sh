#!/usr/bin/env bash
# Runs clang-tidy-14 (checks in .clang-tidy) on the project's own C++ sources.
#   scripts/tidy.sh                 all sources of sim/ calibrate/ live/ tests/ fuzz/ in the build's
#                                   compile_commands.json (generated protobuf/gRPC sources and .cu left out)
#   scripts/tidy.sh sim/ live/x.cpp  only these files or the sources under these directories
# Reuses build/ (SERVETWIN_TIDY_BUILD_DIR moves it) and configures it when it has no
# compile_commands.json. Runs 2 jobs under nice -n 19, prints the warnings, a count per check and the
# wall time (full log: build/tidy-last.log), and exits 1 if there is any warning (2 on a usage error). Not part of scripts/test.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SERVETWIN_TIDY_BUILD_DIR:-$here/build}"
jobs="${SERVETWIN_TIDY_JOBS:-2}"
for tool in clang-tidy-14 run-clang-tidy-14; do
  command -v "$tool" >/dev/null || { echo "tidy.sh: $tool not found (apt-get install clang-tidy-14)" >&2; exit 2; }
done
if [[ ! -f "$build/compile_commands.json" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi

# A compile database of just the selected files, once each (fuzz/replay_main.cpp and a few shared
# sources are compiled into several targets), without generated or CUDA sources.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$here" "$build/compile_commands.json" "$work/compile_commands.json" "$@" <<'PY'
import json, os, sys
root, src, dst, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
project_dirs = ("sim", "calibrate", "live", "tests", "fuzz")
selected = [os.path.realpath(os.path.join(os.getcwd(), w)) for w in wanted]
for w, path in zip(wanted, selected):
    if not os.path.exists(path):
        sys.exit(f"tidy.sh: {w}: no such file or directory")
def chosen(path):
    rel = os.path.relpath(path, root)
    if rel.startswith("..") or rel.split(os.sep)[0] not in project_dirs or path.endswith(".cu"):
        return False  # build/ (generated protobuf/gRPC, version header), CUDA, outside the tree
    return not selected or any(path == s or path.startswith(s + os.sep) for s in selected)
seen, entries = set(), []
for entry in json.load(open(src)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    if chosen(path) and path not in seen:
        seen.add(path)
        entries.append(entry)
if not entries:
    sys.exit("tidy.sh: no project sources selected (" + " ".join(wanted) + ") in " + src)
json.dump(entries, open(dst, "w"), indent=1)
print(f"tidy.sh: {len(entries)} files", file=sys.stderr)
PY

# live/ sources include the generated protobuf/gRPC headers: generate them if any live file is chosen.
if grep -q "\"$here/live/\|\"$here/tests/live/\|\"$here/fuzz/fuzz_live" "$work/compile_commands.json" \
   && [[ -f "$build/build.ninja" ]] && grep -q servetwin_live_proto "$build/build.ninja"; then
  nice -n 19 cmake --build "$build" --target servetwin_live_proto -j "$jobs" >/dev/null
fi

start=$(date +%s)
set +e
# The header filter is anchored at the source root: .clang-tidy's relative '/(sim|live|...)/' also
# matches the generated build/live/proto/*.pb.h (clang-tidy-14 has no exclude filter), and warnings
# in generated protobuf/gRPC code are neither ours to fix nor cheap to produce.
header_filter="^$(printf '%s' "$here" | sed 's/[][\\.^$*+?(){}|]/\\&/g')/(sim|calibrate|live|tests|bench|fuzz)/"
nice -n 19 run-clang-tidy-14 -quiet -j "$jobs" -p "$work" -clang-tidy-binary "$(command -v clang-tidy-14)" \
  -header-filter="$header_filter" >"$work/out.txt" 2>"$work/err.txt"
rc=$?
set -e
wall=$(( $(date +%s) - start ))
# run-clang-tidy-14 always asks for colour: strip it; the full log stays in $build/tidy-last.log.
sed -E 's/\x1b\[[0-9;]*m//g' "$work/out.txt" >"$build/tidy-last.log"
# A header's warnings are printed once per file that includes it: count each location once.
# Analyzer reports can end inside a system header (boost::mpi): only the project's files count.
grep -E "^$here/(sim|calibrate|live|tests|fuzz)/.*: (warning|error): .* \\[[a-zA-Z0-9.,-]+\\]\$" "$build/tidy-last.log" \
  | sort -u >"$work/warnings.txt" || true
cat "$work/warnings.txt"
echo "== per check =="
sed -E 's/.*\[([a-zA-Z0-9.,-]+)\]$/\1/' "$work/warnings.txt" | sort | uniq -c | sort -rn
count=$(wc -l <"$work/warnings.txt")
echo "== $count warnings, wall ${wall}s (run-clang-tidy exit $rc) =="
if grep -qE 'error: |Error while processing' "$build/tidy-last.log" "$work/err.txt" && [[ $count -eq 0 ]]; then
  grep -E 'error: |Error while processing' "$build/tidy-last.log" "$work/err.txt" | head -20 >&2
  exit 1
fi
[[ $count -eq 0 ]]
