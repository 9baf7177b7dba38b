#!/usr/bin/env bash
# Runs the live load benchmark N times in a row and prints one line per run: received stream
# messages/s and errors at 2,000 streams, the timestamp overhead percentiles at 1,000 streams, and
# for each phase the host's CPU split (busy and hypervisor steal, % of all vCPU time, /proc/stat).
# On a shared VM the overhead's tail follows steal, so a figure is only read together with it.
# Usage: scripts/live_bench_series.sh N [live_load_bench args; default 2000 6 30 1000 100 1 spread split]
# Needs a build with the bench target (cmake --build build --target bench).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${SERVETWIN_BUILD_DIR:-$here/build}/bench/live_load_bench"
n="${1:?usage: live_bench_series.sh N [bench args]}"
shift
(($#)) || set -- 2000 6 30 1000 100 1 spread split
for ((i = 1; i <= n; i++)); do
  "$bench" "$@" 2>/dev/null | python3 -c '
import json, sys, time
d = json.load(sys.stdin)
t, o = d["throughput"], d["overhead"]
ov = o["timestamp_overhead_us"]
cpu = lambda h: "busy %3.0f%% steal %4.1f%%" % (h["busy_pct"], h["steal_pct"])
print("%s  %6.0f msgs/s  %d errors  [%s]  |  overhead p50 %4.0f p90 %5.0f p99 %6.0f us (n %d)  [%s]" % (
    time.strftime("%H:%M:%S"), t["messages_per_s"], t["requests_error"], cpu(t["host_cpu"]),
    ov["p50"], ov["p90"], ov["p99"], ov["n"], cpu(o["host_cpu"])))'
done
