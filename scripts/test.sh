#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds all targets including benchmarks, runs every test.
# The real serving engines (vLLM on the CPU; docs/real-engines.md) are installed by
# scripts/engines/setup.sh into .venv-engines (~5 min, ~270 CPU-s and ~8 GB the first time, ~1 s after)
# in the background while the C++ builds (its log: $build/engines-setup.log, shown if it fails, which
# fails the run); their tests (ctest label `engines`) run with the rest; SERVETWIN_ENGINES=0 skips both.
# Then, unless SERVETWIN_SANITIZE=0: every parser is fuzzed for SERVETWIN_FUZZ_SECONDS (default 5)
# under ASan + UBSan (scripts/fuzz.sh: a clang build of the parsers alone, which also replays the seed
# corpora and the regression inputs instrumented); the live tests and the runner/twin scripts under
# TSan (scripts/sanitize.sh --tsan); and the whole test suite under ASan + UBSan (scripts/sanitize.sh:
# a clang unity build, code under test at -O1, test files at -O0; tests asserting wall-clock or memory
# bars left out by name). SERVETWIN_ASAN_SUITE=0 skips the ASan suite alone (the longest of the three).
# docs/reliability.md "Sanitizers" and "In CI" have the numbers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SERVETWIN_BUILD_DIR:-$here/build}"
export SERVETWIN_ENGINES="${SERVETWIN_ENGINES:-1}"
# Each step's end is logged with the run's elapsed time, so a CI log shows where its minutes went.
t0_s=$(date +%s)
step_done() { echo "test: $1 done at +$(($(date +%s) - t0_s)) s" >&2; }
# The venv installs are downloads and unpacking, so they overlap the CPU-bound build; niced, so the
# build keeps the cores it needs. setsid: its own process group, killed (pip included) if we exit early.
engines_pid=""
engines_log="$build/engines-setup.log"
if [[ $SERVETWIN_ENGINES != 0 ]]; then
  mkdir -p "$build"
  setsid nice -n 10 "$here/scripts/engines/setup.sh" > /dev/null 2> "$engines_log" &
  engines_pid=$!
  trap 'if [[ -n $engines_pid ]]; then kill -- "-$engines_pid" 2>/dev/null || true; fi' EXIT
fi
# A new build directory is a unity build (CMakeLists.txt, SERVETWIN_UNITY_BUILD): ~2/3 of the CPU-seconds
# of a file-by-file clean build, which is most of a fresh clone's CI time.
SERVETWIN_UNITY_BUILD="${SERVETWIN_UNITY_BUILD:-ON}" "$here/scripts/setup.sh"
cmake --build "$build" -j "$(nproc)" --target bench >&2
step_done "set-up and Release build"
if [[ -n $engines_pid ]]; then
  engines_rc=0
  wait "$engines_pid" || engines_rc=$?
  engines_pid=""
  cat "$engines_log" >&2
  if ((engines_rc != 0)); then
    echo "test: scripts/engines/setup.sh failed (exit $engines_rc; log above, in $engines_log; SERVETWIN_ENGINES=0 skips the engines)" >&2
    exit 1
  fi
  step_done "waiting for the engines' set-up"
fi
rc=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)" "$@") || rc=$?
step_done "Release ctest (rc so far $rc)"
if [[ ${SERVETWIN_SANITIZE:-1} != 0 ]]; then
  "$here/scripts/fuzz.sh" "${SERVETWIN_FUZZ_SECONDS:-5}" || rc=1
  step_done "fuzz (rc so far $rc)"
  "$here/scripts/sanitize.sh" --tsan || rc=1
  step_done "TSan (rc so far $rc)"
  if [[ ${SERVETWIN_ASAN_SUITE:-1} != 0 ]]; then
    "$here/scripts/sanitize.sh" || rc=1
    step_done "ASan + UBSan suite (rc so far $rc)"
  fi
fi
exit "$rc"
