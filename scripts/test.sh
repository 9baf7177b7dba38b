#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds all targets including benchmarks, runs every test.
# The real serving engines (vLLM on the CPU; docs/real-engines.md) are installed first by
# scripts/engines/setup.sh into .venv-engines (~3 min and ~8 GB the first time, ~1 s after) and their
# tests (ctest label `engines`) run with the rest; SERVETWIN_ENGINES=0 skips both.
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
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
