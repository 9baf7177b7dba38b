#!/bin/bash
# `servetwin load --protocol openai-completions` against vLLM's own OpenAI HTTP server (vLLM 0.11.2 on the
# CPU, tiny-llama with dummy weights): the same runner that measures the twin, unchanged, on a real engine.
# Checks, streaming (SSE with stream_options.include_usage) and non-streaming: every request ok with
# exactly the requested output length (ignore_eos + min_tokens), input tokens as the shipped tokenizer
# counts them, token counts taken from the server's `usage`, one SSE chunk per generated token (or fewer,
# when vLLM merges deltas for a lagging consumer; counted) with a cumulative count ending at the
# length, and the run's totals equal to the server's own Prometheus counters
# (vllm:prompt_tokens_total, vllm:generation_tokens_total). A prompt over max_model_len is
# recorded per request with the server's HTTP 400 and its message; the run itself succeeds. Synthetic
# prompts (--input-tokens) have exactly the drawn length as the server counts it (POST /tokenize).
# Usage (ctest): bash vllm_openai_load.sh <servetwin-binary> <repo-dir>
set -euo pipefail
bin=$1
source "$(dirname "$0")/lib.bash"

start_engine vllm-openai "$tmp/port" --max-num-seqs 8
target="http://127.0.0.1:$(cat "$tmp/port")"

"$py" "$repo/scripts/engines/make_dataset.py" --input-tokens 40 --output-tokens 16 --count 8 --seed 3 --out "$tmp/ok.jsonl"
"$py" "$repo/scripts/engines/make_dataset.py" --input-tokens 2100 --output-tokens 4 --count 2 --out "$tmp/too-long.jsonl"

# scrape NAME: the server's counter total (sum over label sets).
scrape() { curl -s "$target/metrics" | awk -v n="$1" '$1 ~ "^"n"({|$)" { s += $2 } END { printf "%d\n", s }'; }

run_load() {  # run_load OUT DATASET REQUESTS [flags]: one closed-loop stage at concurrency 2
  local out=$1 ds=$2 n=$3
  shift 3
  "$bin" load --target "$target" --protocol openai-completions --dataset "$ds" --concurrency 2 \
    --requests "$n" --seed 5 --timeout 120s --out "$tmp/$out" --quiet "$@" > "$tmp/$out.log" 2>&1 \
    || { cat "$tmp/$out.log"; fail "load $out"; }
}

prompt0=$(scrape vllm:prompt_tokens_total)
gen0=$(scrape vllm:generation_tokens_total)
run_load stream "$tmp/ok.jsonl" 6
run_load unary "$tmp/ok.jsonl" 6 --no-stream
# Synthetic prompts (issue 16 item 4): the runner asks vLLM's POST /tokenize before the load, so the
# server's usage.prompt_tokens equals each drawn --input-tokens length exactly (vLLM adds a BOS).
"$bin" load --target "$target" --protocol openai-completions --input-tokens uniform:8,300 --output-tokens 16 \
  --concurrency 2 --requests 8 --seed 5 --timeout 120s --out "$tmp/synthetic" --quiet > "$tmp/synthetic.log" 2>&1 \
  || { cat "$tmp/synthetic.log"; fail "load synthetic"; }
prompt1=$(scrape vllm:prompt_tokens_total)
gen1=$(scrape vllm:generation_tokens_total)
run_load too-long "$tmp/too-long.jsonl" 2
curl -s "$target/tokenize" -H 'Content-Type: application/json' -d '{"model":"tiny-llama","prompt":" the"}' > "$tmp/tokenize.json"
if [[ ${SERVETWIN_ENGINES_SAVE_DATA:-0} == 1 ]]; then
  cp "$tmp/tokenize.json" "$(dirname "$0")/data/vllm-0.11.2-tokenize.json"
fi

/usr/bin/python3 - "$tmp" $((prompt1 - prompt0)) $((gen1 - gen0)) "$(dirname "$0")" <<'PY'
import csv, json, sys
tmp, server_prompt, server_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from load_checks import load_rows, merged_tokens, synthetic_exact
total_in = total_out = merged = 0
for mode in ("stream", "unary"):
    rows, counts = load_rows(f"{tmp}/{mode}", 6, 40, 16)
    total_in += sum(int(r["input_tokens"]) for r in rows)
    total_out += sum(int(r["output_tokens"]) for r in rows)
    if mode == "stream":
        for c in counts:
            steps = [n for n in c if n > 0]
            if len(steps) > 1 and steps[-1] == steps[-2]:
                steps.pop()  # the usage chunk repeats the total
            merged += merged_tokens(steps, 16)
    stage = json.load(open(f"{tmp}/{mode}/summary.json"))["scenarios"][0]["stages"][0]
    assert stage["metrics"]["completed"] == 6, stage["metrics"]
    assert stage.get("token_count_methods") == {"usage": 6}, stage.get("token_count_methods")
# Synthetic: each request's server count (usage.prompt_tokens) = the length drawn for it.
rows, _ = synthetic_exact(f"{tmp}/synthetic", 8, 16, "tokenize", 1)
total_in += sum(int(r["input_tokens"]) for r in rows)
total_out += sum(int(r["output_tokens"]) for r in rows)
assert (server_prompt, server_gen) == (total_in, total_out), (server_prompt, server_gen, total_in, total_out)
print(f"ok: 20 requests, {total_in} prompt / {total_out} generated tokens = the server's counters (POST /tokenize adds "
      f"nothing); counts from usage; {merged} of 96 streamed tokens arrived merged with the next")
# POST /tokenize answers with vLLM's TokenizeResponse, in the shape the twin copies (tests/engines/data/).
tok = json.load(open(f"{tmp}/tokenize.json"))
saved = json.load(open(f"{sys.argv[4]}/data/vllm-0.11.2-tokenize.json"))
assert list(tok) == list(saved) == ["count", "max_model_len", "tokens", "token_strs"], (tok, saved)
assert tok["count"] == 2 and tok["tokens"][0] == 0 and tok["max_model_len"] == 2048, tok  # BOS + " the"
rows = list(csv.DictReader(open(f"{tmp}/too-long/requests.csv")))
assert len(rows) == 2, rows
for r in rows:
    assert r["status"] != "ok" and "2100 input tokens" in r["error"], r
print(f"ok: too-long recorded as the server said: {rows[0]['status']} '{rows[0]['error'][:100]}'")
PY
echo "PASS"
