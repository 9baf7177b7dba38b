#!/bin/bash
# Issue 16 item 4 / issue 18 item 4: `predict` and `load` (against the twin, `servetwin serve`) with the
# same seed and scenario send the same requests: identical arrival times (relative to the stage start,
# as scheduled) and the same prompt sequence, compared request by request (predict's requests.csv vs
# load's schedule.csv). Also: synthetic prompts hit the requested token count on the twin (its usage
# prompt_tokens), bad workload values exit 2 naming the flag and the allowed forms in both verbs, and
# the comparison fails when the seeds differ (so it can fail).
# Usage (ctest): bash predict_load_parity.sh <servetwin-binary> <source-dir> <shared-dir>
set -euo pipefail
bin=$1
shared=$3
twin_run_for=150s
source "$(dirname "$0")/../live/twin_script_lib.sh"
"$bin" serve --help > /dev/null 2>&1 || { echo "serve verb not built; skipping"; exit 0; }
deploy=(--model llama-2-7b --instance g5.2xlarge --engine vllm)

start_twin parity --protocol openai
url=http://127.0.0.1:$(cat "$tmp/parity.port")

# The loads run at the same time, each against its own twin (so each sees an idle server, as when they
# ran one after another): real-time twins make a load take as long as its requests (the closed loops
# ~40 s), so together they take ~45 s instead of ~125 s. Nothing compared depends on timing.
declare -A load_pid
# start_load NAME SEED FLAGS...: load (out dir $tmp/NAME) against a new twin, in the background.
start_load() {
  local name=$1 seed=$2; shift 2
  start_twin "$name-twin" --protocol openai
  "$bin" load --protocol openai-completions --target "http://127.0.0.1:$(cat "$tmp/$name-twin.port")" "${deploy[@]}" \
    --seed "$seed" "$@" --quiet --out "$tmp/$name" > "$tmp/$name.log" 2>&1 &
  load_pid[$name]=$!
  pids+=($!)
}
# finish_load NAME: waits for that load; fails with its log if it failed.
finish_load() { wait "${load_pid[$1]}" || { cat "$tmp/$1.log"; fail "load $1"; }; }
# Starts predict and load with the same scenario flags ($1 = seed for load, $2 = out name, rest = flags):
# predict (in $tmp/NAME-predict) runs here, load (in $tmp/NAME-load) in the background.
run_pair() {
  local load_seed=$1 name=$2; shift 2
  start_load "$name-load" "$load_seed" "$@"
  "$bin" predict "${deploy[@]}" --seed 7 "$@" --out "$tmp/$name-predict" > "$tmp/$name-predict.log" 2>&1 ||
    { cat "$tmp/$name-predict.log"; fail "predict $name"; }
}

# Compares request by request; exit 1 with the first difference. Open loop: the n-th arrival's time and
# lengths; closed loop: each user's sequence of lengths (as many as both sent).
cat > "$tmp/compare.py" <<'PY'
import csv, sys
predict = list(csv.DictReader(open(sys.argv[1] + "/requests.csv")))
sent = list(csv.DictReader(open(sys.argv[2] + "/schedule.csv")))
sched = [r for r in sent if r["warmup"] == "0"]
served = {r["request_id"]: r for r in csv.DictReader(open(sys.argv[2] + "/requests.csv"))}
mode = sys.argv[3]
predict.sort(key=lambda r: int(r["request_id"]))
# After warm-up requests the measured arrivals start where the warm-up ended: compare times from there.
shift = int(sched[0]["scheduled_ns"]) - int(predict[0]["arrival_ns"]) if len(sched) < len(sent) and sched and predict else 0
def lengths(r): return (int(r["input_tokens"]), int(r["output_tokens"]))
if mode == "open":
    if len(predict) != len(sched): sys.exit(f"{len(predict)} predicted requests, {len(sched)} sent")
    for i, (p, s) in enumerate(zip(predict, sched)):
        if int(p["arrival_ns"]) != int(s["scheduled_ns"]) - shift:
            sys.exit(f"request {i}: predict arrives at {p['arrival_ns']} ns, load scheduled {s['scheduled_ns']} ns")
        if lengths(p) != lengths(s): sys.exit(f"request {i}: predict {lengths(p)}, load {lengths(s)}")
else:
    users = {}
    for name, rows in (("predict", predict), ("load", sched)):
        for r in rows: users.setdefault(r["user_id"], {}).setdefault(name, []).append(lengths(r))
    for u, seqs in sorted(users.items()):
        a, b = seqs.get("predict", []), seqs.get("load", [])
        n = min(len(a), len(b))
        if n < 3: sys.exit(f"user {u}: only {n} requests in common")
        if a[:n] != b[:n]: sys.exit(f"user {u}: predict {a[:n]}, load {b[:n]}")
# The twin counted each synthetic prompt as the asked length (its usage prompt_tokens).
if len(sys.argv) > 4:
    for s in sched:
        got = served[s["request_id"]]
        if lengths(got) != lengths(s): sys.exit(f"request {s['request_id']}: asked {lengths(s)}, server counted {lengths(got)}")
print(f"{len(sched)} requests identical")
PY

open_flags=(--rate 20 --requests 40 --input-tokens normal:64,16 --output-tokens uniform:4,12)
ds="$shared/datasets/llm-load-test/SISO_normal_granite-3.1-8b-instruct.jsonl"
# The longest loads first (closed loops, then the catalog workload).
run_pair 7 closed --concurrency 3 --requests 24 --dataset "$ds"
# Warm-up requests draw from their own sequence: the measured requests are predict's (open loop: the same
# lengths and gaps, from the end of the warm-up; closed loop: each user's sequence from its first measured
# one). Load alone: predict has no warm-up.
start_load warm-closed 7 --concurrency 3 --requests 24 --dataset "$ds" --warmup 4
# A catalog workload (inference-perf shared_prefix: each group's system prompt is one shared text).
run_pair 7 prefix --rate 10 --requests 20 --workload codegen
# No workload flag: load sends predict's default workload (openorca-32), the same requests.
run_pair 7 default --rate 10 --requests 12
run_pair 7 open "${open_flags[@]}"
run_pair 7 gamma --rate 15 --arrival gamma:2 --requests 30 --input-tokens 96 --output-tokens 6
start_load warm-open 7 "${open_flags[@]}" --warmup 5
start_load warm-timed 7 "${open_flags[@]}" --warmup 1s
# The comparison can fail: another seed gives other arrival times and prompts.
run_pair 8 other "${open_flags[@]}"

finish_load open-load
python3 "$tmp/compare.py" "$tmp/open-predict" "$tmp/open-load" open usage || fail "open loop, same seed"
finish_load gamma-load
python3 "$tmp/compare.py" "$tmp/gamma-predict" "$tmp/gamma-load" open usage || fail "gamma arrivals, same seed"
finish_load prefix-load
python3 "$tmp/compare.py" "$tmp/prefix-predict" "$tmp/prefix-load" open usage || fail "shared-prefix workload, same seed"
finish_load closed-load
python3 "$tmp/compare.py" "$tmp/closed-predict" "$tmp/closed-load" closed || fail "closed loop, same seed"

finish_load warm-open
python3 "$tmp/compare.py" "$tmp/open-predict" "$tmp/warm-open" open usage || fail "open loop after 5 warm-up requests"
finish_load warm-timed
python3 "$tmp/compare.py" "$tmp/open-predict" "$tmp/warm-timed" open usage || fail "open loop after a 1 s warm-up"
finish_load warm-closed
python3 "$tmp/compare.py" "$tmp/closed-predict" "$tmp/warm-closed" closed || fail "closed loop after 4 warm-up requests"

finish_load default-load
python3 "$tmp/compare.py" "$tmp/default-predict" "$tmp/default-load" open || fail "default workload, same seed"
python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['scenarios'][0]['resolved_config']['dataset']['path']; sys.exit(0 if p == 'workload:openorca-32' else p)" \
  "$tmp/default-load/summary.json" || fail "load's default workload not recorded"

finish_load other-load
if python3 "$tmp/compare.py" "$tmp/other-predict" "$tmp/other-load" open > "$tmp/other.txt" 2>&1; then
  fail "seed 7 vs 8 compared equal"
fi
grep -q "request 0\|request 1:" "$tmp/other.txt" || { cat "$tmp/other.txt"; fail "seed mismatch not caught at the first requests"; }

# Bad values: exit 2 naming the flag and the allowed forms, in both verbs (one parser).
for verb in predict load; do
  args=("$bin" "$verb" "${deploy[@]}" --rate 1 --requests 2)
  [[ $verb == load ]] && args+=(--target "$url" --protocol openai-completions --out "$tmp/bad")
  expect_exit2 "--input-tokens 'normal:5'.*allowed: N (fixed), normal:MEAN,SD" "${args[@]}" --input-tokens normal:5 --output-tokens 8
  expect_exit2 "--output-tokens 'zipf:1,2'.*allowed:" "${args[@]}" --input-tokens 8 --output-tokens zipf:1,2
  expect_exit2 "--input-tokens '12.5'" "${args[@]}" --input-tokens 12.5 --output-tokens 8
  expect_exit2 "give both --input-tokens and --output-tokens" "${args[@]}" --input-tokens 8
  expect_exit2 "allowed: poisson, constant, gamma:CV" "${args[@]}" --input-tokens 8 --output-tokens 8 --arrival bursty
  # --duration: the same forms in both verbs (a time with unit ms, s, m, h, or bare seconds).
  dargs=("$bin" "$verb" "${deploy[@]}" --rate 1)  # no --requests: load refuses it beside --duration
  [[ $verb == load ]] && dargs+=(--target "$url" --protocol openai-completions --out "$tmp/bad")
  expect_exit2 "--duration '5x': not a duration; allowed: a number with unit ms, s, m or h" "${dargs[@]}" --duration 5x
  expect_exit2 "--duration 0s: " "${dargs[@]}" --duration 0s
done
# A duration with a unit is the same stage as its seconds (predict: the resolved duration_s).
for d in 90 90s 1.5m 90000ms; do
  "$bin" predict "${deploy[@]}" --rate 1 --duration "$d" --json > "$tmp/dur-$d.json" 2> /dev/null || fail "predict --duration $d"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['scenarios'][0]['resolved_config']['duration_s']; sys.exit(0 if d == 90 else f'--duration {sys.argv[2]}: {d}')" "$tmp/dur-$d.json" "$d" \
    || fail "predict --duration $d"
done
echo OK
