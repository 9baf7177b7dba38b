#!/usr/bin/env bash
# Frozen outputs: the machine-readable results of a fixed set of runs (every engine preset, the default
# scenario, the S1 trace replay, a sweep, validate on every visible published CSV) must stay byte-identical
# across refactors (issue 18's bar). Each output's SHA-256 is kept in tests/golden/frozen_outputs.sha256;
# the producing tool's name/version/git SHA is removed from summaries first, so a commit alone does not change
# them. A deliberate change of results is recorded by re-running with SERVETWIN_UPDATE_GOLDEN=1 and
# committing the new hashes with a message that says why they moved.
# Args: <servetwin> <repo> <shared>
set -euo pipefail
bin=$(realpath "$1")
repo="$2"
shared="$3"
golden="$repo/tests/golden/frozen_outputs.sha256"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Drops the "tool" member (version, git SHA) of a JSON file in place; nothing else changes.
strip_tool() {
  python3 - "$1" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    doc = json.load(f)
doc.pop("tool", None)
with open(path, "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
EOF
}

run() {  # run NAME ARGS... : a predict/sweep run whose --out directory is $tmp/NAME
  local name="$1"
  shift
  "$bin" "$@" --out "$tmp/$name" > /dev/null 2>&1 || { echo "FAIL: $name exited $?" >&2; exit 1; }
}

run default predict --jobs 2
# summary.json records the trace path as given: a path relative to the working directory keeps it the same
# in every checkout (CI clones elsewhere).
cp "$shared/bench/poisson_r5_n10000_p512_o128_s42.csv" "$tmp/s1_trace.csv"
(cd "$tmp" && run s1_trace predict --model meta-llama/Llama-2-7b-hf --gpu A100-80GB-SXM --engine vllm-0.15 \
  --engine-set max_num_seqs=128 --trace s1_trace.csv)
for engine in tgi-1.0 tgis-rhoai-2024q1 vllm-0.15 vllm-0.2-distserve vllm-0.6-v0 vllm-offline-trtllm1 \
  vllm-static-batch vllm-static-eager-2023; do
  run "rate_$engine" predict --model llama-2-7b --gpu A100-80GB-SXM --engine "$engine" --rate 1,4 \
    --duration 60 --jobs 2
  run "closed_$engine" predict --model llama-2-13b --instance g5.12xlarge --engine "$engine" \
    --concurrency 1,16 --duration 60 --jobs 2
done
run sweep sweep --models llama-2-7b,llama-2-13b --instances g5.2xlarge,g5.12xlarge,p4d.24xlarge \
  --concurrency 4,16 --duration 60 --slo "ttft_p99_ms<=2000,tpot_mean_ms<=100" --jobs 2
for csv in "$shared"/validation/published/*.csv; do
  name=$(basename "$csv" .csv)
  mkdir -p "$tmp/validate_$name"
  "$bin" validate --data "$csv" --json "$tmp/validate_$name/report.json" > /dev/null 2>&1 ||
    { echo "FAIL: validate $name exited $?" >&2; exit 1; }
done

find "$tmp" -name '*.json' -print0 | while IFS= read -r -d '' f; do strip_tool "$f"; done
(cd "$tmp" && find . -mindepth 2 -type f \( -name '*.json' -o -name '*.csv' \) | LC_ALL=C sort | xargs sha256sum) \
  > "$tmp/actual.sha256"

if [[ "${SERVETWIN_UPDATE_GOLDEN:-}" == "1" ]]; then
  cp "$tmp/actual.sha256" "$golden"
  echo "frozen outputs: rewrote $golden"
  exit 0
fi
if ! diff -u "$golden" "$tmp/actual.sha256"; then
  echo "FAIL: outputs above changed (lines with +). If the change is deliberate, rerun with" \
    "SERVETWIN_UPDATE_GOLDEN=1 and say why in the commit." >&2
  exit 1
fi
echo "frozen outputs: $(wc -l < "$golden") files identical"
