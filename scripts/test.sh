#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds all targets including benchmarks, runs every test.
# The real serving engines (vLLM on the CPU; docs/real-engines.md) are installed first by
# scripts/engines/setup.sh into .venv-engines (~3 min and ~8 GB the first time, ~1 s after) and their
# tests (ctest label `engines`) run with the rest; SERVETWIN_ENGINES=0 skips both.
# Then, unless SERVETWIN_SANITIZE=0: every parser is fuzzed for SERVETWIN_FUZZ_SECONDS (default 5)
# under ASan + UBSan (scripts/fuzz.sh: a clang build of the parsers alone, which also replays the seed
# corpora and the regression inputs instrumented). SERVETWIN_SANITIZE=full adds the test suite under
# ASan + UBSan (scripts/sanitize.sh: a clang -O1 build of servetwin, sim_tests, calibrate_tests and the
# fuzz replays; tests asserting wall-clock or memory bars left out by name). Not the default: build
# ~1,300 CPU-s + run ~480 CPU-s = ~15 min on 2 idle cores, over the ~12 min budget. The TSan run
# (scripts/sanitize.sh --tsan) is not called at all (Debian's gRPC is not TSan-built). docs/reliability.md "Sanitizers" and "In CI" have the numbers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SERVETWIN_BUILD_DIR:-$here/build}"
"$here/scripts/setup.sh"
export SERVETWIN_ENGINES="${SERVETWIN_ENGINES:-1}"
if [[ $SERVETWIN_ENGINES != 0 ]]; then
  "$here/scripts/engines/setup.sh" > /dev/null \
    || { echo "test: scripts/engines/setup.sh failed (SERVETWIN_ENGINES=0 skips the engines)" >&2; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target bench >&2
rc=0
(cd "$build" && ctest --output-on-failure -j "$(nproc)" "$@") || rc=$?
if [[ ${SERVETWIN_SANITIZE:-1} != 0 ]]; then
  "$here/scripts/fuzz.sh" "${SERVETWIN_FUZZ_SECONDS:-5}" || rc=1
  if [[ ${SERVETWIN_SANITIZE:-1} == full ]]; then "$here/scripts/sanitize.sh" || rc=1; fi
fi
exit "$rc"
