#!/usr/bin/env bash
# Other tools' result formats through the CLI (docs/result-formats.md): `predict --formats all` writes
# a vLLM bench result and an llm-d report per stage next to summary.json/requests.csv (whose bytes
# the option does not change); `validate --live FILE` detects each format and scores it; replaying a
# simulated vLLM result on the same deployment reproduces it exactly; bad input exits 2 naming the
# file and the accepted formats. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
repo="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(predict --model llama-2-7b --instance g5.12xlarge --concurrency 2,4 --duration 40 --jobs 2)
"$bin" "${args[@]}" --out "$tmp/plain" > /dev/null
"$bin" "${args[@]}" --out "$tmp/a" --formats all > /dev/null
cmp "$tmp/plain/summary.json" "$tmp/a/summary.json"
cmp "$tmp/plain/requests.csv" "$tmp/a/requests.csv"
for f in vllm-bench/scenario0-stage0.json vllm-bench/scenario0-stage1.json llm-d/scenario0-stage0.json llm-d/scenario0-stage1.json; do
  test -s "$tmp/a/$f" || { echo "FAIL: missing $f" >&2; exit 1; }
done

# The simulated vLLM result, re-simulated on the same deployment: every metric within 0.01 %
# (times travel as seconds in doubles; the replay is the same simulation).
"$bin" validate --live "$tmp/a/vllm-bench/scenario0-stage1.json" --instance g5.12xlarge --json "$tmp/v.json" > "$tmp/v.txt"
python3 - "$tmp/v.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["live"]["format"] == "vllm-bench-result", r["live"]["format"]
assert r["live"]["deployment"]["model"] == "meta-llama/Llama-2-7b-hf"  # taken from the file's model_id
assert "model from" in r["live"]["deployment_from"], r["live"]["deployment_from"]
row = r["rows"][0]
assert row["load"] == {"concurrency": 4}, row["load"]
worst = max(row["ape"].values())
assert worst < 0.01, f"replay of a simulated run is off by {worst}%"
print("vllm round trip: worst APE %.6f%%" % worst)
PY

# The llm-d report has no per-request data: it is re-simulated from drawn requests and scored.
"$bin" validate --live "$tmp/a/llm-d/scenario0-stage0.json" --instance g5.12xlarge --json "$tmp/d.json" > /dev/null
python3 -c "
import json,sys; r=json.load(open('$tmp/d.json')); assert r['live']['format']=='llm-d-report-v0.2'; assert len(r['rows'][0]['measured'])==13, r['rows'][0]['measured']"

# Bad input: exit 2 with the file and the accepted formats named.
echo '{"foo": 1}' > "$tmp/unknown.json"
set +e
"$bin" validate --live "$tmp/unknown.json" --instance g5.12xlarge > "$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: unknown format exited $rc" >&2; cat "$tmp/out" >&2; exit 1; }
grep -q "unknown.json: not a result format this build reads; accepted:" "$tmp/out"
grep -q "GuideLLM benchmarks JSON" "$tmp/out"
set +e
"$bin" validate --live "$tmp/a/vllm-bench/scenario0-stage0.json" > "$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: missing deployment exited $rc" >&2; exit 1; }
grep -q "does not record the server's hardware" "$tmp/out"
set +e
"$bin" "${args[@]}" --out "$tmp/b" --formats vllm,csv > "$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: bad --formats exited $rc" >&2; exit 1; }
grep -q "unknown format 'vllm'; allowed: vllm-bench, llm-d, all" "$tmp/out"
# A real llm-d example report is detected (its H100/Qwen deployment is given by flags).
"$bin" validate --live "$repo/tests/data/formats/llm-d/br_v0_2_example.yaml" --model llama-2-7b --instance g5.12xlarge \
  --json "$tmp/e.json" > /dev/null
echo "result formats: written, detected, scored; bad input exits 2"
