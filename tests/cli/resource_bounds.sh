#!/usr/bin/env bash
# Issue 20 item 1: no input exhausts the machine. Each case that used to grow without bound
# (`--concurrency 1e9` reached 24 GB, `--rate inf` looped, `--rate 1000000 --duration 30` took 6.3 GB,
# 512 closed-loop users against TGIS kept 9.2 M rejected records, 3.15 GB) must now either be refused
# as bad input (exit 2, message naming the option, value and range) or run with peak RSS < 200 MB.
# Every command runs under a 4 GB address-space limit and a timeout so a regression cannot take the
# machine down. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
max_rss_kb=200000
dep=(--model llama-2-7b --instance g5.2xlarge)

# run_bounded EXPECTED_RC LABEL ARGS...: runs the binary with limits, checks rc and peak RSS.
run_bounded() {
  local want="$1" what="$2"; shift 2
  set +e
  ( ulimit -v 4000000; timeout 120 /usr/bin/time -o "$tmp/time" -f "%M" "$bin" "$@" > "$tmp/out" 2> "$tmp/err" )
  local rc=$?
  set -e
  local rss_kb
  rss_kb=$(tail -1 "$tmp/time")
  if [[ $rc -ne $want ]]; then echo "$what: exit $rc, expected $want" >&2; tail -5 "$tmp/err" >&2; exit 1; fi
  if (( rss_kb >= max_rss_kb )); then echo "$what: peak RSS ${rss_kb} kB >= ${max_rss_kb} kB" >&2; exit 1; fi
  echo "$what: exit $rc, peak RSS ${rss_kb} kB"
}
expect_message() {
  grep -q -- "$2" "$tmp/err" || { echo "$1: stderr lacks '$2'" >&2; cat "$tmp/err" >&2; exit 1; }
}

run_bounded 2 "concurrency 1e9" predict "${dep[@]}" --concurrency 1e9
expect_message "concurrency 1e9" "--concurrency 1e9: out of range; allowed: an integer in \[1, 10000\] users"
run_bounded 2 "rate inf" predict "${dep[@]}" --rate inf
expect_message "rate inf" "--rate 'inf': not a finite number; allowed: a number in (0, 100000\] requests/s"
run_bounded 2 "rate 1e6 x 30 s" predict "${dep[@]}" --rate 1000000 --duration 30
expect_message "rate 1e6 x 30 s" "--rate 1000000: out of range"
run_bounded 2 "duration 1e30" predict "${dep[@]}" --duration 1e30
expect_message "duration 1e30" "--duration 1e30: out of range; allowed: a number in (0, 604800\] s"
run_bounded 2 "tp 0" predict "${dep[@]}" --tp 0
expect_message "tp 0" "--tp 0: out of range; allowed: an integer in \[1, 64\] GPUs"
run_bounded 2 "seed -1" predict "${dep[@]}" --seed -1
expect_message "seed -1" "--seed '-1'"
run_bounded 2 "concurrency 5abc" predict "${dep[@]}" --concurrency 5abc
expect_message "concurrency 5abc" "--concurrency '5abc': not a finite number"
run_bounded 2 "sweep concurrency 1e9" sweep --models llama-2-7b --instances g5.2xlarge --concurrency 1e9
expect_message "sweep concurrency 1e9" "--concurrency 1e9: out of range"

# Within the flag limits, but rate x duration over the default 1 GB budget: refused before it starts
# (it would take ~0.9 GB of records; the budget counts 1 kB per request).
run_bounded 2 "open loop over the memory budget" predict "${dep[@]}" --engine vllm-0.15 --rate 20000 --duration 60
expect_message "open loop over the memory budget" "more than --max-memory"
# A closed loop whose completions outgrow a small budget is stopped while it runs.
run_bounded 2 "closed loop over its stage share" predict "${dep[@]}" --engine vllm-0.15 --concurrency 100 \
  --max-memory 65MB
expect_message "closed loop over its stage share" "its share of --max-memory"
# 10,000 users against TGIS's admission limit for 240 s: ~2.4e8 rejected retries, refused up front.
run_bounded 2 "retry storm" predict "${dep[@]}" --concurrency 10000
expect_message "retry storm" "rejected retries"

# 512 users against the TGIS preset's admission limit: rejections are counted, a bounded sample kept.
run_bounded 0 "512 users over the admission limit" predict "${dep[@]}" --concurrency 512 --duration 60 \
  --out "$tmp/run512"
python3 - "$tmp/run512" <<'PY'
import csv, json, sys
d = sys.argv[1]
st = json.load(open(d + "/summary.json"))["scenarios"][0]["stages"][0]
rej, m = st["rejections"], st["metrics"]
assert rej["count"] == m["rejected"] > 100000, (rej, m["rejected"])
assert rej["records_kept"] == 10000 and rej["records_dropped"] == rej["count"] - 10000, rej
assert abs(rej["per_s"] - rej["count"] / m["window_s"]) < 1e-6 * rej["per_s"], rej
rows = list(csv.DictReader(open(d + "/requests.csv")))
kept = sum(1 for r in rows if r["status"] == "rejected")
assert kept == 10000, kept
print(f"512 users: {rej['count']} rejections counted, {kept} records kept, {rej['per_s']:.0f}/s")
PY
python3 "$2/tests/cli/output_schema_check.py" "$2/docs/output-schema.md" --producer simulator \
  --summary "$tmp/run512/summary.json" --requests "$tmp/run512/requests.csv"
size=$(stat -c %s "$tmp/run512/requests.csv")
(( size < 5000000 )) || { echo "requests.csv is $size bytes (rejections not bounded)" >&2; exit 1; }
grep -q "rejected" "$tmp/out" || { echo "table lacks the rejected column" >&2; exit 1; }
echo "resource bounds: ok"
