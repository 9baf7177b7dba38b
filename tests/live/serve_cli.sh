#!/bin/bash
# `servetwin serve` from the command line: --protocol openai answered with curl (streaming token
# count, usage chunk, [DONE], /v1/models, /health, /metrics counters), and issue 20's cases: a
# port another server holds is refused with exit 2 (gRPC used to bind it with SO_REUSEPORT and
# split the traffic), `--run-for 0` is refused with exit 2, --metrics-port with openai exits 2, and a
# model that does not fit exits 3 (it exited 1); `load --formats all` writes vLLM bench / llm-d files that
# validate --live reads back.
# Usage (ctest): bash serve_cli.sh <servetwin-binary>
set -euo pipefail
bin=$1
source "$(dirname "$0")/twin_script_lib.sh"
"$bin" serve --help > /dev/null 2>&1 || { echo "serve verb not built; skipping"; exit 0; }
deploy=(--model llama-2-7b --instance g5.2xlarge)

expect_exit2 "--run-for must be > 0" "$bin" serve "${deploy[@]}" --listen 127.0.0.1:0 --run-for 0
expect_exit2 "--run-for must be > 0" "$bin" serve "${deploy[@]}" --listen 127.0.0.1:0 --run-for 0s
expect_exit2 "--metrics-port is for the gRPC protocols" "$bin" serve "${deploy[@]}" --protocol openai --metrics-port 0

# A deployment that cannot hold the model: exit 3 (ran, but cannot serve this), as predict does.
rc=0
timeout 20 "$bin" serve --model llama-2-70b --instance g5.2xlarge --listen 127.0.0.1:0 --run-for 2s > "$tmp/out.txt" 2>&1 || rc=$?
[[ $rc -eq 3 ]] || { cat "$tmp/out.txt"; fail "serve of a model that does not fit: exit $rc (want 3)"; }
grep -q "does not fit" "$tmp/out.txt" || { cat "$tmp/out.txt"; fail "no 'does not fit' in the serve error"; }

start_twin openai --protocol openai --engine vllm
port=$(cat "$tmp/openai.port")
url=http://127.0.0.1:$port
start_twin tgis --protocol tgis
tgis_port=$(cat "$tmp/tgis.port")
for proto in openai tgis; do
  for taken in "$port" "$tgis_port"; do
    expect_exit2 "already in use" "$bin" serve "${deploy[@]}" --protocol $proto --listen 127.0.0.1:$taken --run-for 5s
  done
done

curl -sf "$url/health" > /dev/null || fail "/health"
curl -sf "$url/v1/models" | grep -q '"id":"llama-2-7b"' || fail "/v1/models"
curl -sN "$url/v1/completions" -H 'Content-Type: application/json' \
  -d '{"model":"llama-2-7b","prompt":"The quick brown fox jumps over","max_tokens":7,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}' \
  > "$tmp/sse.txt"
/usr/bin/python3 - "$tmp/sse.txt" <<'PY' || fail "SSE stream"
import json, sys
events = [e for e in open(sys.argv[1]).read().split("\n\n") if e]
assert all(e.startswith("data: ") for e in events), events
data = [e[6:] for e in events]
assert data[-1] == "[DONE]", data[-1]
chunks = [json.loads(d) for d in data[:-1]]
tokens = [c for c in chunks if c["choices"]]
assert len(tokens) == 7, len(tokens)
assert tokens[-1]["choices"][0]["finish_reason"] == "length"
usage = chunks[-1]
assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 7, usage
assert usage["usage"]["prompt_tokens"] == 8, usage  # 30 bytes -> ceil(30/4)
PY
# `Expect: 100-continue` (older curl sent it for bodies over 1 KiB, others still do): the client
# waits up to 1 s (curl's --expect100-timeout) for the interim answer before sending the body.
long=$(printf 'word %.0s' $(seq 400))
start_ns=$(date +%s%N)
curl -sf "$url/v1/completions" -H 'Content-Type: application/json' -H 'Expect: 100-continue' \
  -d "{\"prompt\":\"$long\",\"max_tokens\":1,\"ignore_eos\":true}" | grep -q '"completion_tokens":1' || fail "long prompt"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
(( elapsed_ms < 900 )) || fail "long prompt took ${elapsed_ms} ms (100-continue not answered?)"
curl -sf "$url/metrics" > "$tmp/metrics.txt"
grep -q '^vllm:generation_tokens_total{engine="0",model_name="llama-2-7b"} 8.0$' "$tmp/metrics.txt" ||
  { grep generation_tokens "$tmp/metrics.txt"; fail "/metrics generation_tokens_total"; }
grep -q '^vllm:request_success_total{engine="0",finished_reason="length",model_name="llama-2-7b"} 2.0$' "$tmp/metrics.txt" ||
  fail "/metrics request_success_total"
grep -q '^vllm:kv_cache_usage_perc{' "$tmp/metrics.txt" || fail "/metrics kv_cache_usage_perc"

# `load --formats all` over OpenAI against the twin: each stage also as a vLLM bench result and an llm-d
# report, and validate --live reads the vLLM file back with the same request count (docs/result-formats.md).
/usr/bin/python3 -c 'import json
for i in range(6): print(json.dumps({"index": i, "question": "word " * 40, "system_prompt": "", "tok_input_length": 40, "tok_output_length": 6}))' > "$tmp/ds.jsonl"
"$bin" load --protocol openai-completions --target "$url" --dataset "$tmp/ds.jsonl" --concurrency 2 --requests 6 \
  --formats all --out "$tmp/run" --quiet > "$tmp/load.log" 2>&1 || { cat "$tmp/load.log"; fail "load --formats all"; }
[[ -s "$tmp/run/vllm-bench/stage0.json" && -s "$tmp/run/llm-d/stage0.json" ]] || { ls -R "$tmp/run"; fail "--formats files"; }
/usr/bin/python3 - "$tmp/run/vllm-bench/stage0.json" <<'PY' || fail "vLLM bench result of a live stage"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["completed"] == 6 and r["output_lens"] == [6] * 6, (r["completed"], r["output_lens"])
PY
"$bin" validate --live "$tmp/run/vllm-bench/stage0.json" "${deploy[@]}" --engine vllm-0.15 > "$tmp/v.txt" 2>&1 ||
  { cat "$tmp/v.txt"; fail "validate --live on the vLLM bench file of a live run"; }
grep -q "coverage: 1 of 1 rows ran" "$tmp/v.txt" || { cat "$tmp/v.txt"; fail "validate --live coverage"; }
expect_exit2 "allowed: vllm-bench, llm-d, all" "$bin" load --protocol openai-completions --target "$url" \
  --dataset "$tmp/ds.jsonl" --concurrency 1 --requests 1 --formats csv --out "$tmp/bad"
echo "serve_cli: ok"
