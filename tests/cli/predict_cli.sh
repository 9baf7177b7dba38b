#!/usr/bin/env bash
# `servetwin predict` CLI behaviour: default scenario prints the six seed configurations and the cost
# table; bad input exits 2 with a message naming the problem. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" predict --duration 30 --concurrency 1,10 --out "$tmp/out" > "$tmp/stdout" 2> "$tmp/stderr"
for name in "Llama-2-7b-hf on g5.2xlarge" "Llama-2-7b-hf on g5.12xlarge" "Llama-2-13b-hf on g5.12xlarge" \
            "Llama-2-13b-hf on g5.48xlarge" "Llama-2-70b-hf on g5.48xlarge" "Llama-2-70b-hf on p4d.24xlarge"; do
  grep -q "$name" "$tmp/stdout" || { echo "missing configuration: $name" >&2; exit 1; }
done
grep -q "Cost at load 10" "$tmp/stdout" || { echo "missing cost table" >&2; exit 1; }
test -s "$tmp/out/summary.json" && test -s "$tmp/out/requests.csv"
expect_exit2() {
  local what="$1" pattern="$2"; shift 2
  set +e
  "$bin" "$@" > /dev/null 2> "$tmp/err"
  local rc=$?
  set -e
  if [[ $rc -ne 2 ]]; then echo "$what: exit $rc, expected 2" >&2; cat "$tmp/err" >&2; exit 1; fi
  grep -q -- "$pattern" "$tmp/err" || { echo "$what: stderr lacks '$pattern'" >&2; cat "$tmp/err" >&2; exit 1; }
}
expect_exit2 "unknown model" "allowed\|available" predict --model no-such-model --instance g5.2xlarge
expect_exit2 "unknown engine setting" "unknown setting" predict --model llama-2-7b --instance g5.2xlarge --engine-set no_such_key=1
expect_exit2 "bad setting value" "max_batch_size" predict --model llama-2-7b --instance g5.2xlarge --engine-set max_batch_size=-3
expect_exit2 "bad arrival" "allowed: poisson, constant, gamma:CV" predict --model llama-2-7b --instance g5.2xlarge --rate 1 --arrival weibull
expect_exit2 "bad tp" "tp" predict --model llama-2-7b --instance g5.12xlarge --tp 3
expect_exit2 "missing trace" "trace" predict --model llama-2-7b --gpu A100-80GB-SXM --trace /nonexistent.csv
# A model that cannot fit is reported, not crashed, and exits 3 (ran, but cannot serve this).
set +e
"$bin" predict --model llama-2-70b --instance g5.2xlarge --concurrency 1 --duration 10 > "$tmp/nofit" 2>&1
rc=$?
set -e
[[ $rc -eq 3 ]] || { echo "no-fit: exit $rc, expected 3" >&2; exit 1; }
grep -q "cannot run: model does not fit" "$tmp/nofit" || { echo "no-fit not reported" >&2; cat "$tmp/nofit" >&2; exit 1; }
# Engines added the registry way (SGLang: one .cpp + presets; TGI 2/3: presets): each runs, reports its
# engine kind and its resolved defaults, and `show engine` lists the preset with a source per setting.
for e in sglang-0.4 sglang-0.5 tgi-2 tgi-3; do
  "$bin" predict --model llama-2-7b --gpu H100-SXM --engine "$e" --concurrency 4 --duration 20 --jobs 1 --json > "$tmp/$e.json"
  python3 - "$tmp/$e.json" "$e" <<'PY' || { echo "predict --engine $e" >&2; exit 1; }
import json, sys
stage = json.load(open(sys.argv[1]))["scenarios"][0]["stages"][0]
kind = {"sglang-0.4": "sglang", "sglang-0.5": "sglang", "tgi-2": "tgi", "tgi-3": "vllm"}[sys.argv[2]]
assert stage["engine"]["engine"] == kind, stage["engine"]["engine"]
assert stage["engine"]["requests"]["finished"] > 0 and stage["engine"]["requests"]["rejected"] == 0
settings = stage["engine"]["settings"]
if kind == "sglang":  # H100 80 GiB, TP1: 0.4 -> 0.88 by TP; 0.5 -> (81920 - 10240) / 81920 = 0.875
    assert stage["engine"]["engine_specific"]["mem_fraction_static"] == {"sglang-0.4": 0.88, "sglang-0.5": 0.875}[sys.argv[2]]
if sys.argv[2] == "tgi-2":  # Llama-2: 4096 positions -> 4095 input, 4096 total, ceil16(4095 + 50) = 4160 prefill
    assert [settings[k]["value"] for k in ("max_input_length", "max_total_tokens", "max_batch_prefill_tokens")] == [4095, 4096, 4160]
PY
  "$bin" show engine "$e" >"$tmp/show_engine"  # whole output first: grep -q in a pipe may SIGPIPE it
  grep -q "source:" "$tmp/show_engine" || { echo "show engine $e" >&2; exit 1; }
done
expect_exit2 "bad sglang policy" "allowed: lpm, fcfs" predict --model llama-2-7b --gpu H100-SXM --engine sglang-0.5 --engine-set schedule_policy=dfs-weight
echo "predict CLI: ok"
