#!/bin/bash
# vllm-0.2-distserve's host cost per step (cpu_step_ns) and per running sequence (cpu_seq_ns) are what
# scripts/fit_distserve_host_cost.py derives from the per-request records of the preset's fit set (the two
# 2 req/s DistServe runs), with this build's GPU decode step subtracted: a change to the cost model or to
# the preset that breaks the derivation fails here. Also: the script refuses a scored run (no scored row
# enters the fit). Skips (77) when the DistServe records are not next to the published CSVs.
# Usage (ctest): bash distserve_host_cost_fit.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1 repo=$2 shared=$3
records="$shared/validation/distserve/opt-13b-sharegpt"
[ -f "$records/vllm-100-2.exp" ] || { echo "SKIP: no DistServe records under $records"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
fit=$(/usr/bin/python3 "$repo/scripts/fit_distserve_host_cost.py" --bin "$bin" --config-dir "$repo/configs" \
  "$records/vllm-100-2.exp" "$records/vllm-200-2.exp")
echo "$fit"
preset="$repo/configs/engines/vllm-0.2-distserve.yaml"
/usr/bin/python3 - "$preset" <<PY || fail "preset disagrees with the fit above"
import json, re, sys
fit = json.loads('''$fit''')
text = open(sys.argv[1]).read()
for key in ("cpu_step_ns", "cpu_seq_ns"):
    shipped = float(re.search(r"^\s*" + key + r":\s*\{value:\s*([^,}]+)", text, re.M).group(1))
    print(f"{key}: preset {shipped:.0f}, fit {fit[key]:.0f}")
    assert shipped == fit[key], key
PY
set +e
/usr/bin/python3 "$repo/scripts/fit_distserve_host_cost.py" --bin "$bin" --config-dir "$repo/configs" \
  "$records/vllm-300-3.exp" > /dev/null 2>&1
[ $? -ne 0 ] || fail "the fit accepted a scored run (vllm-300-3)"
echo PASS
