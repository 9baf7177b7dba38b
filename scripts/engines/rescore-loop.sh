#!/usr/bin/env bash
# Re-scores a recorded scripts/real-engine-loop.sh run offline, without its server: copies RUN_DIR to
# OUT_DIR (RUN_DIR is never written), re-fits the probe (`calibrate fit --in probe.json`, the probe's
# own requests only), re-simulates every recorded sweep with that fit (`validate --live`, the requests
# the server saw) and writes the table and bars (scripts/engines/loop_report.py). Use it to compare
# model changes on the same measurements (docs/real-engines.md, "Re-scoring a recorded loop"). A run
# made with --bracket (probe-after.json beside probe.json) is re-fitted on both probes, as the loop scores it.
# Usage: scripts/engines/rescore-loop.sh RUN_DIR OUT_DIR [--servetwin BIN] [--title T]
# Exit: loop_report.py's (0 bars met, 1 a bar missed); 2 bad usage.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="$repo/build/servetwin" title="re-scored"
[[ $# -ge 2 ]] || { echo "usage: rescore-loop.sh RUN_DIR OUT_DIR [--servetwin BIN] [--title T]" >&2; exit 2; }
run=$1 out=$2; shift 2
while (($#)); do
  case "$1" in
    --servetwin) bin=$2; shift 2 ;;
    --title) title=$2; shift 2 ;;
    *) echo "rescore-loop: unknown option '$1' (allowed: --servetwin BIN --title T)" >&2; exit 2 ;;
  esac
done
[[ -f $run/probe.json ]] || { echo "rescore-loop: $run/probe.json: missing (not a real-engine-loop run directory)" >&2; exit 2; }
[[ -x $bin ]] || { echo "rescore-loop: no servetwin binary at $bin (--servetwin)" >&2; exit 2; }
[[ $(cd "$run" && pwd) != $(mkdir -p "$out" && cd "$out" && pwd) ]] || { echo "rescore-loop: OUT_DIR must differ from RUN_DIR" >&2; exit 2; }
rm -rf "$out"; mkdir -p "$out"
cp "$run/probe.json" "$out/"
probes=(--in "$out/probe.json") report_probe="$out/probe.json"
if [[ -f $run/probe-after.json ]]; then
  cp "$run/probe-after.json" "$out/"
  probes+=(--in "$out/probe-after.json") report_probe="$out/profile/probe-merged.json"
fi
# The drift sentinels and their timeline (runs from before them have none: drift "not measured").
[[ -f $run/timeline.tsv ]] && cp "$run/timeline.tsv" "$out/"
[[ -d $run/sentinels ]] && cp -r "$run/sentinels" "$out/sentinels"
"$bin" calibrate fit "${probes[@]}" --out "$out/profile" \
  --hf-config "$repo/configs/real-engines/tiny-llama/config.json" --model-name tiny-llama > "$out/fit.txt"
catalog="$out/profile/catalog"
for sw in closed-A closed-B poisson-A preempt-B; do
  [[ -d $run/$sw/live ]] || continue
  mkdir -p "$out/$sw"
  cp -r "$run/$sw/live" "$out/$sw/live"
  "$bin" validate --live "$out/$sw/live" --config-dir "$catalog" --json "$out/$sw/validate.json" > "$out/$sw/validate.txt"
done
/usr/bin/python3 "$here/loop_report.py" --out "$out" --probe "$report_probe" --fit "$out/profile/fit.json" --title "$title"
