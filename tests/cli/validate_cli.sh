#!/bin/bash
# `servetwin validate` CLI: console tables and JSON shape, unseen CSVs accepted, bad input exits 2.
# Usage (ctest): bash validate_cli.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1 shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" validate --data "$shared/validation/published/distserve_vllm_a100.csv" --jobs 2 --json "$tmp/r.json" > "$tmp/out.txt"
grep -q "== distserve_vllm_a100.csv: 8 rows, 8 ran" "$tmp/out.txt" || { cat "$tmp/out.txt"; fail "console header"; }
grep -q "ttft_p50_ms" "$tmp/out.txt" || fail "metric table"
grep -q "coverage: 8 of 8 rows" "$tmp/out.txt" || fail "coverage line"
/usr/bin/python3 - "$tmp/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema_version"] == 1
s = r["sources"]["distserve_vllm_a100.csv"]
assert s["rows"] == 8 and s["ran"] == 8 and s["unsupported"] == []
for k in ("n", "median_ape", "mean_ape", "bias"):
    assert k in s["metrics"]["ttft_p50_ms"], k
row = r["rows"][0]
assert set(row["predicted"]) == set(row["measured"]) and "ttft_p50_ms" in row["predicted"]
PY

# An unseen file in the same schema: one row runs, one is listed with its reason.
head -1 "$shared/validation/published/distserve_vllm_a100.csv" > "$tmp/new.csv"
cat >> "$tmp/new.csv" <<'CSV'
mine:1,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,vllm,0.15.1,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
mine:2,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,sglang,0.4,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
mine:3,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,SGL,0.5.2,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
mine:4,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,hf-tgi,2.4.1,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
mine:5,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,text-generation-inference,3.0.1,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
mine:6,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,tgi,1.0.3,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
mine:7,me,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,fp16,lmdeploy,0.6,,my-chat,400,100,,poisson_rate,1,30,,,,25,,,,,8,,900,,,,
CSV
"$bin" validate --data "$tmp/new.csv" --json "$tmp/new.json" > "$tmp/new.txt"
grep -q "new.csv: 7 rows, 6 ran" "$tmp/new.txt" || { cat "$tmp/new.txt"; fail "unseen csv"; }
grep -q "unsupported mine:7: engine 'lmdeploy' is not modelled" "$tmp/new.txt" || { cat "$tmp/new.txt"; fail "reason"; }
# Engine eras and spellings (configs/validation/row_mapping.yaml): each row names the preset it ran with.
python3 - "$tmp/new.json" <<'PY' || fail "engine eras"
import json, sys
rows = {r["source_id"]: r["engine_preset"] for r in json.load(open(sys.argv[1]))["rows"]}
want = {"mine:1": "vllm-0.15", "mine:2": "sglang-0.4", "mine:3": "sglang-0.5", "mine:4": "tgi-2", "mine:5": "tgi-3",
        "mine:6": "tgi-1.0"}
assert all(rows.get(k) == v for k, v in want.items()), rows
PY

# Malformed numbers: exit 2 naming file and line.
printf 'source_id,model,gpu,load_type,ttft_mean_ms\nx:1,m,g,poisson_rate,zz\n' > "$tmp/bad.csv"
set +e
"$bin" validate --data "$tmp/bad.csv" > "$tmp/bad.txt" 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || { cat "$tmp/bad.txt"; fail "bad csv exit $rc"; }
grep -q "bad.csv:2" "$tmp/bad.txt" || { cat "$tmp/bad.txt"; fail "bad csv message"; }
# A bad validation policy file (configs/validation): exit 2 naming file, field and the allowed values.
cp -r "$2/configs" "$tmp/configs"
sed -i 's/load_types: \[offline\]$/load_types: [offline, burst]/' "$tmp/configs/validation/row_mapping.yaml"
set +e
"$bin" validate --config-dir "$tmp/configs" --data "$shared/validation/published/distserve_vllm_a100.csv" > "$tmp/pol.txt" 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || { cat "$tmp/pol.txt"; fail "bad policy exit $rc"; }
grep -q "row_mapping.yaml:[0-9]*: key 'presets\[4\].load_types': bad value 'burst'; allowed: poisson_rate, closed_concurrency, offline, static_batch" "$tmp/pol.txt" || { cat "$tmp/pol.txt"; fail "bad policy message"; }
echo "validate cli: OK"
