#!/usr/bin/env bash
# Soak test of the twin (issue 20 item 4): STREAMS closed-loop users churn streams against
# `servetwin serve` for SECONDS, each stream cancelled by the runner's per-request deadline
# (--timeout, a gRPC deadline / a closed HTTP stream: the twin sees a client cancel) long before its
# 1,024 output tokens are done, and the user connects again at once. The twin's RSS is read from
# /proc/PID/status every SAMPLE seconds; the run passes when RSS at the end is < 10% above the
# warm-up level (the first sample at or after WARMUP seconds: allocator pools and queues at their
# working size by then). Prints the samples and a summary line; exits 1 on growth >= 10%.
# Usage: scripts/soak.sh [--protocol tgis|openai] [SECONDS=600] [STREAMS=2000]
#   env: SOAK_TIMEOUT (per-stream deadline, default 2s), SOAK_WARMUP_S (60), SOAK_SAMPLE_S (5),
#        SERVETWIN_BUILD_DIR (build/), SOAK_OUT (keep the run directory there).
# Run it niced on a shared machine: nice -n 19 scripts/soak.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SERVETWIN_BUILD_DIR:-$here/build}/servetwin"
protocol=tgis
if [[ "${1:-}" == "--protocol" ]]; then protocol="${2:?--protocol needs tgis or openai}"; shift 2; fi
secs="${1:-600}" streams="${2:-2000}"
deadline="${SOAK_TIMEOUT:-2s}" warmup_s="${SOAK_WARMUP_S:-60}" sample_s="${SOAK_SAMPLE_S:-5}"
[[ -x "$bin" ]] || { echo "soak: $bin not built (cmake --build build --target servetwin servetwin-live)" >&2; exit 2; }
((warmup_s < secs)) || { echo "soak: SOAK_WARMUP_S ($warmup_s) must be below SECONDS ($secs)" >&2; exit 2; }

tmp="${SOAK_OUT:-$(mktemp -d)}"
mkdir -p "$tmp"
twin_pid="" load_pid=""
cleanup() {
  [[ -n $load_pid ]] && kill "$load_pid" 2> /dev/null || true
  [[ -n $twin_pid ]] && kill "$twin_pid" 2> /dev/null || true
  [[ -z "${SOAK_OUT:-}" ]] && rm -rf "$tmp"
  return 0
}
trap cleanup EXIT

# 200 prompts of 128 tokens asking for 1,024 (llm-load-test v2 JSONL: a metadata line, then entries).
{
  echo '{"name": "soak", "tokenizer": "none"}'
  for i in $(seq 0 199); do
    printf '{"index": %d, "question": "soak prompt %d", "system_prompt": "", "tok_input_length": 128, "tok_output_length": 1024}\n' "$i" "$i"
  done
} > "$tmp/dataset.jsonl"

deploy=(--model llama-2-7b --instance g5.2xlarge --engine vllm-0.15)
"$bin" serve --protocol "$protocol" --listen 127.0.0.1:0 --port-file "$tmp/port" "${deploy[@]}" \
  --run-for "$((3 * secs + 600))s" > "$tmp/twin.log" 2>&1 &  # a safety net; cleanup stops it
twin_pid=$!
for _ in $(seq 200); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
[[ -s "$tmp/port" ]] || { cat "$tmp/twin.log" >&2; echo "soak: the twin did not start" >&2; exit 1; }
port=$(cat "$tmp/port")
if [[ $protocol == openai ]]; then
  target=(--target "http://127.0.0.1:$port" --protocol openai-completions --connections 8)
else
  target=(--target "127.0.0.1:$port" --protocol tgis)
fi

# No error-rate breaker: every stream ends in its deadline on purpose.
"$bin" load "${target[@]}" --dataset "$tmp/dataset.jsonl" --concurrency "$streams" --duration "${secs}s" \
  --warmup 0 --timeout "$deadline" --error-window 0 --no-backoff --quiet --out "$tmp/run" "${deploy[@]}" \
  > "$tmp/load.log" 2>&1 &
load_pid=$!

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$twin_pid/status"; }
start=$(date +%s)
warm_kb="" max_kb=0 end_kb=0
printf '%8s %12s\n' t_s twin_rss_kb
while kill -0 "$load_pid" 2> /dev/null; do
  now=$(($(date +%s) - start))
  kb=$(rss_kb) || { echo "soak: the twin exited during the run" >&2; cat "$tmp/twin.log" >&2; exit 1; }
  printf '%8d %12d\n' "$now" "$kb"
  ((kb > max_kb)) && max_kb=$kb
  [[ -z $warm_kb ]] && ((now >= warmup_s)) && warm_kb=$kb
  end_kb=$kb
  sleep "$sample_s"
done
load_rc=0
wait "$load_pid" || load_rc=$?
load_pid=""
end_kb=$(rss_kb) || { echo "soak: the twin exited before the load did" >&2; cat "$tmp/twin.log" >&2; exit 1; }
[[ -n $warm_kb ]] || { echo "soak: the load ended before the warm-up ($warmup_s s)" >&2; cat "$tmp/load.log" >&2; exit 1; }

# Streams, and how they ended, from the runner's per-request record (status column).
count() { awk -F, -v s="$1" 'NR > 1 && $12 == s' "$tmp/run/requests.csv" | wc -l; }
total=$(($(wc -l < "$tmp/run/requests.csv") - 1))
growth=$(awk -v w="$warm_kb" -v e="$end_kb" 'BEGIN {printf "%.1f", 100 * (e - w) / w}')
echo "soak: protocol=$protocol streams=$streams seconds=$secs deadline=$deadline load_exit=$load_rc" \
  "requests=$total ok=$(count ok) timeout=$(count timeout) error=$(count error) rejected=$(count rejected)" \
  "rss_warm_kb=$warm_kb rss_end_kb=$end_kb rss_max_kb=$max_kb growth_pct=$growth"
awk -v g="$growth" 'BEGIN {exit !(g < 10)}' || { echo "soak: FAIL: twin RSS grew ${growth}% (bar < 10%)" >&2; exit 1; }
echo "soak: PASS (growth < 10%)"
