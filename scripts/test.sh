#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds all targets including benchmarks, runs every test.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SERVETWIN_BUILD_DIR:-$here/build}"
"$here/scripts/setup.sh"
cmake --build "$build" -j "$(nproc)" --target bench >&2
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
