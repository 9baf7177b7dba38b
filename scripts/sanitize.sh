#!/usr/bin/env bash
# Builds the simulator and its tests with AddressSanitizer + UndefinedBehaviorSanitizer in a separate
# build directory (build-asan/, or $SERVETWIN_ASAN_BUILD_DIR) and runs the sim test suite there: the
# GoogleTest suite (sim_tests), the CLI scripts (cli.*) and the fuzz corpus replays (label fuzz).
# Any sanitizer report fails the run (halt_on_error / no recovery). With --tsan: a ThreadSanitizer build
# of the live tests instead (build-tsan/), when gRPC is installed.
# Usage: scripts/sanitize.sh [--tsan] [extra ctest args, e.g. -R Golden]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=asan
if [[ "${1:-}" == "--tsan" ]]; then mode=tsan; shift; fi
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

if [[ $mode == asan ]]; then
  build="${SERVETWIN_ASAN_BUILD_DIR:-$here/build-asan}"
  flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  live=OFF
  targets=(servetwin sim_tests fuzz_trace_csv_replay fuzz_scenario_yaml_replay fuzz_catalog_yaml_replay
           fuzz_dataset_replay fuzz_published_csv_replay fuzz_live_run_replay fuzz_openai_sse_replay)
  # Everything but calibrate (its own library) and the scripts that need the live verbs or Jupyter.
  tests=(-E "NOT_BUILT|^calibrate|cli\\.(live_validate|output_schema|seed_notebook|validation_notebook)")
else
  build="${SERVETWIN_TSAN_BUILD_DIR:-$here/build-tsan}"
  flags="-fsanitize=thread -fno-omit-frame-pointer"
  live=ON
  targets=(live_tests)
fi
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSERVETWIN_WITH_CUDA=OFF \
    -DSERVETWIN_WITH_LIVE=$live "-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_EXE_LINKER_FLAGS=$flags" "${launcher[@]}" >&2
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >&2
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
cd "$build"
if [[ $mode == tsan ]]; then
  # Wall-clock bars (throughput, 5% accuracy) do not hold at TSan's 5-15x slowdown: run the rest.
  exec tests/live/live_tests --gtest_filter='-*Within5Percent*:*Bench*' "$@"
fi
ctest --output-on-failure -j "$(nproc)" "${tests[@]}" "$@"
