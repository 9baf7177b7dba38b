#!/usr/bin/env bash
# Fuzzes every parser of user files (fuzz/fuzz_*.cpp) with libFuzzer under ASan+UBSan, SECONDS each
# (default 10). Builds with clang in its own directory (build-fuzz/, or $SERVETWIN_FUZZ_BUILD_DIR);
# installs Debian's clang and libFuzzer runtime when missing (as root). The corpus grows in
# build-fuzz/fuzz-corpus/<name> (seeded from fuzz/corpus/<name>); a crash leaves its input in
# build-fuzz/fuzz-artifacts/<name>/: copy it to fuzz/regressions/<name>/ (replayed by ctest, label
# `fuzz`) when fixing the bug. Prints executions and crashes per target; exits 1 on any crash.
# With --runs N each target stops at N executions or SECONDS, whichever comes first (the issue-20 bar
# is 1M executions per parser: scripts/fuzz.sh --runs 1000000 3600).
# libFuzzer's per-input timeout counts wall time: SERVETWIN_FUZZ_TIMEOUT_S (default 10) raises it for
# a niced run on a busy machine, where a 20 ms input once took 12 s of wall time.
# Usage: scripts/fuzz.sh [--runs N] [SECONDS] [TARGET...]    (TARGET: trace_csv, scenario_yaml, ...)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SERVETWIN_FUZZ_BUILD_DIR:-$here/build-fuzz}"
runs=-1
if [[ "${1:-}" == "--runs" ]]; then runs="${2:?--runs needs a count}"; shift 2; fi
secs="${1:-10}"
shift || true

"$here/scripts/ensure_clang.sh"

launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DSERVETWIN_WITH_LIVE=OFF -DSERVETWIN_WITH_CUDA=OFF -DSERVETWIN_FUZZ=ON \
    "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" "${launcher[@]}" >&2
fi

names=("$@")
if ((${#names[@]} == 0)); then
  for src in "$here"/fuzz/fuzz_*.cpp; do n=$(basename "$src" .cpp); names+=("${n#fuzz_}"); done
fi
cmake --build "$build" -j "$(nproc)" --target "${names[@]/#/fuzz_}" >&2

crashed=0
printf '%-16s %12s %10s %8s\n' target executions exec/s crashes
for name in "${names[@]}"; do
  corpus="$build/fuzz-corpus/$name" artifacts="$build/fuzz-artifacts/$name/"
  # This run's findings only: an input from an earlier run (already copied to fuzz/regressions, or
  # fixed) must not count again.
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  log="$build/fuzz-$name.log"
  inputs=("$corpus" "$here/fuzz/corpus/$name")
  [[ -d "$here/fuzz/regressions/$name" ]] && inputs+=("$here/fuzz/regressions/$name")
  set +e
  "$build/fuzz/fuzz_$name" -max_total_time="$secs" -runs="$runs" -print_final_stats=1 -rss_limit_mb=2048 -timeout="${SERVETWIN_FUZZ_TIMEOUT_S:-10}" \
    -artifact_prefix="$artifacts" "${inputs[@]}" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
  crashes=$(find "$artifacts" -type f | wc -l)
  printf '%-16s %12s %10s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "$crashes"
  if [[ $rc -ne 0 || $crashes -ne 0 ]]; then
    crashed=1
    echo "  $name: exit $rc; log $log; inputs in $artifacts" >&2
    grep -m3 -E "ERROR|runtime error|uncaught|terminate" "$log" >&2 || true
  fi
done
exit "$crashed"
