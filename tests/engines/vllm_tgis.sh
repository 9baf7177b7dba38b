#!/bin/bash
# `servetwin load --protocol tgis` against the real vllm-tgis-adapter (vLLM 0.11.2 on the CPU, tiny-llama
# with dummy weights), started by scripts/engines/start.sh and stopped by PID on every exit path.
# Checks, streaming and unary: every request ok with exactly the requested output length (MAX_TOKENS),
# input tokens as the shipped tokenizer counts them (BOS included), one stream message per token (or
# fewer, when vLLM merges deltas for a lagging consumer; counted) with a cumulative count that ends at the length, and the totals equal to the server's own Prometheus
# counters (vllm:prompt_tokens_total, vllm:generation_tokens_total). Error cases recorded as the
# server reports them: a prompt over max_model_len and max_new_tokens over the adapter's limit
# (both INVALID_ARGUMENT with the adapter's message). Synthetic prompts (--input-tokens) have exactly
# the drawn length as the server counts it (the adapter's Tokenize, asked before the load).
# Usage (ctest): bash vllm_tgis.sh <servetwin-binary> <repo-dir>
set -euo pipefail
bin=$1
source "$(dirname "$0")/lib.bash"

start_engine vllm-tgis "$tmp/port" --max-num-seqs 8
target="127.0.0.1:$(cat "$tmp/port")"
metrics_url="http://127.0.0.1:$(cat "$tmp/port.http")/metrics"

"$py" "$repo/scripts/engines/make_dataset.py" --input-tokens 40 --output-tokens 16 --count 8 --seed 3 --out "$tmp/ok.jsonl"
"$py" "$repo/scripts/engines/make_dataset.py" --input-tokens 2100 --output-tokens 4 --count 2 --out "$tmp/too-long.jsonl"
"$py" "$repo/scripts/engines/make_dataset.py" --input-tokens 10 --output-tokens 1025 --count 2 --out "$tmp/too-many.jsonl"

# scrape NAME: the server's counter total (sum over label sets).
scrape() { curl -s "$metrics_url" | awk -v n="$1" '$1 ~ "^"n"({|$)" { s += $2 } END { printf "%d\n", s }'; }

run_load() {  # run_load OUT DATASET REQUESTS [flags]: one closed-loop stage at concurrency 2
  local out=$1 ds=$2 n=$3
  shift 3
  "$bin" load --target "$target" --protocol tgis --model-id tiny-llama --dataset "$ds" --concurrency 2 \
    --requests "$n" --seed 5 --timeout 120s --out "$tmp/$out" --quiet "$@" > "$tmp/$out.log" 2>&1 \
    || { cat "$tmp/$out.log"; fail "load $out"; }
}

prompt0=$(scrape vllm:prompt_tokens_total)
gen0=$(scrape vllm:generation_tokens_total)
run_load stream "$tmp/ok.jsonl" 6
run_load unary "$tmp/ok.jsonl" 6 --unary
# Synthetic prompts (issue 16 item 4): the runner asks the adapter's Tokenize before the load, so the
# server's input_token_count equals each drawn --input-tokens length exactly (vLLM adds a BOS).
"$bin" load --target "$target" --protocol tgis --model-id tiny-llama --input-tokens uniform:8,300 --output-tokens 16 \
  --concurrency 2 --requests 6 --seed 5 --timeout 120s --out "$tmp/synthetic" --quiet > "$tmp/synthetic.log" 2>&1 \
  || { cat "$tmp/synthetic.log"; fail "load synthetic"; }
prompt1=$(scrape vllm:prompt_tokens_total)
gen1=$(scrape vllm:generation_tokens_total)

/usr/bin/python3 - "$tmp" $((prompt1 - prompt0)) $((gen1 - gen0)) "$(dirname "$0")" <<'PY'
import json, sys
tmp, server_prompt, server_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from load_checks import load_rows, merged_tokens, synthetic_exact
total_in = total_out = merged = 0
for mode in ("stream", "unary"):
    rows, counts = load_rows(f"{tmp}/{mode}", 6, 40, 16, stop_reason="MAX_TOKENS")
    total_in += sum(int(r["input_tokens"]) for r in rows)
    total_out += sum(int(r["output_tokens"]) for r in rows)
    if mode == "stream":
        for c in counts:  # adapter: first message = input_token_count only (0 tokens), then the tokens
            assert c[0] == 0, c
            merged += merged_tokens(c[1:], 16)
    stage = json.load(open(f"{tmp}/{mode}/summary.json"))["scenarios"][0]["stages"][0]
    assert stage["metrics"]["completed"] == 6 and stage["grpc_status_counts"] == {"OK": 6}, stage
# Synthetic: each request's server count (input_token_count) = the length drawn for it.
rows, _ = synthetic_exact(f"{tmp}/synthetic", 6, 16, "tokenize", 1)
total_in += sum(int(r["input_tokens"]) for r in rows)
total_out += sum(int(r["output_tokens"]) for r in rows)
# The server's counters also saw the readiness probe (ModelInfo) and Tokenize (no tokens), nothing else.
assert (server_prompt, server_gen) == (total_in, total_out), (server_prompt, server_gen, total_in, total_out)
print(f"ok: 18 requests, {total_in} prompt / {total_out} generated tokens = the server's counters; "
      f"{merged} of 96 streamed tokens arrived merged with the next")
PY

# Error cases: recorded per request, the run itself succeeds (exit 0).
run_load too-long "$tmp/too-long.jsonl" 2
run_load too-many "$tmp/too-many.jsonl" 2
/usr/bin/python3 - "$tmp" <<'PY'
import csv, sys
tmp = sys.argv[1]
expect = {"too-long": "INVALID_ARGUMENT: input tokens (2100) plus prefix length (0) must be < 2048",
          "too-many": "INVALID_ARGUMENT: max_new_tokens must be <= 1024"}
for case, text in expect.items():
    rows = list(csv.DictReader(open(f"{tmp}/{case}/requests.csv")))
    assert len(rows) == 2, (case, rows)
    for r in rows:
        assert r["status"] == "error" and text in r["error"], (case, r)
    print(f"ok: {case}: {rows[0]['status']} '{rows[0]['error']}'")
PY
echo "PASS"
