#!/usr/bin/env bash
# `calibrate probe` + `calibrate fit --in probe.json` + `validate --live` end to end against the twin
# (OpenAI protocol), whose engine model is known: vllm preset (V1) on an L4 serving Llama-2-7B with
# max_num_seqs 8 and 2,000 KV blocks. Checks: a budget under the minimum exits 2 before sending; the
# probe completes and the fit finds the admission limit (8) exactly; a closed-loop sweep the probe
# never ran (concurrency 1, 4, 8; 128 in / 24 out tokens) is predicted from the fitted catalog within
# issue 15's bars (median APE <= 10% output throughput and ITL, <= 20% TTFT p50), and validate --live
# compares the scraped server metrics (running, waiting, preemptions) with the simulated ones.
# Usage: probe_twin.sh SERVETWIN_BINARY
set -uo pipefail
bin="$1"
work="$(mktemp -d /tmp/servetwin_probe_twin.XXXXXX)"
srv_pid=""
# shellcheck source=stop_server.sh
source "$(dirname "$0")/stop_server.sh"
cleanup() {
  stop_server_pid "$srv_pid"
  if [[ -n "${PROBE_TWIN_KEEP:-}" ]]; then rm -rf "$PROBE_TWIN_KEEP"; cp -r "$work" "$PROBE_TWIN_KEEP"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$bin" calibrate probe --target 127.0.0.1:1 --protocol openai --budget 30s --out "$work/small.json" 2> "$work/small.err"
rc=$?
[[ $rc == 2 ]] || fail "budget 30s: exit $rc, expected 2"
grep -q "too small" "$work/small.err" || fail "budget 30s: no 'too small' message: $(cat "$work/small.err")"

"$bin" serve --protocol openai --listen 127.0.0.1:0 --port-file "$work/port" --model llama-2-7b --gpu L4 --engine vllm \
  --engine-set max_num_seqs=8 --engine-set num_gpu_blocks_override=2000 --run-for 10m > "$work/twin.log" 2>&1 &
srv_pid=$!
for _ in $(seq 1 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || fail "twin did not start: $(cat "$work/twin.log")"
target="127.0.0.1:$(cat "$work/port")"

"$bin" calibrate probe --target "$target" --protocol openai --budget 120s --max-concurrency 8 --burst 24 \
  --out "$work/probe.json" || fail "probe exited $?"
"$bin" calibrate fit --in "$work/probe.json" --out "$work/profile" --model llama-2-7b --kv-blocks 2000 --block-size 16 \
  > "$work/fit.txt" || fail "fit exited $?"
cat "$work/fit.txt"
grep -q "admission limit seen in the burst: 8 of 24" "$work/fit.txt" || fail "admission limit is not 8"
read -r -a flags < "$work/profile/predict-flags.txt"

python3 - "$work/ds.jsonl" <<'PY'
import json, random, sys
random.seed(3)
words = "time year people way day man thing woman life child world school state family".split()
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"name": "probe-twin", "version": "1"}) + "\n")
    for i in range(64):
        q = " ".join(random.choice(words) for _ in range(90))
        f.write(json.dumps({"index": i, "question": q, "system_prompt": "", "tok_input_length": 128,
                            "tok_output_length": 24, "min_new_tokens": 24, "max_new_tokens": 24}) + "\n")
PY
"$bin" load --target "http://$target" --protocol openai-completions --dataset "$work/ds.jsonl" --concurrency 1,4,8 \
  --requests 8 --warmup 2 --scrape-metrics auto --scrape-interval 0.2s --quiet --out "$work/live" "${flags[@]}" \
  || fail "load exited $?"
"$bin" validate --live "$work/live" --config-dir "${flags[1]}" --json "$work/validate.json" > "$work/validate.txt" \
  || fail "validate exited $?"
grep -q "server running (mean)" "$work/validate.txt" || fail "validate --live shows no scraped server metrics"
python3 - "$work/validate.json" "$work/live/summary.json" <<'PY'
import json, statistics, sys
rep = json.load(open(sys.argv[1]))
summary = json.load(open(sys.argv[2]))
assert summary.get("server_engine", {}).get("model") == "llama-2-7b", summary.get("server_engine")
assert summary.get("server_metrics", {}).get("rows", 0) > 0, summary.get("server_metrics")
bars = {"throughput_output_tok_s": 10, "itl_mean_ms": 10, "ttft_p50_ms": 20}  # issue 15's bars
bad = []
for k, bar in bars.items():
    apes = [r["ape"][k] for r in rep["rows"]]
    med = statistics.median(apes)
    print(f"{k}: median APE {med:.1f}% over {len(apes)} stages (bar {bar}%)")
    if med > bar:
        bad.append(k)
for r in rep["rows"]:
    sm = r["server_metrics"]
    print(r["label"], "server", sm["measured"], "sim", sm["predicted"])
sys.exit(f"FAIL: bars missed: {bad}" if bad else 0)
PY
rc=$?
[[ $rc == 0 ]] || fail "prediction from the probe's fit misses the bars"
echo PASS
