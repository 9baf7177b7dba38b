#!/bin/bash
# `servetwin load` against a real `servetwin serve` process that misbehaves (issue 20 item 3):
#  1. --protocol caikit against a TGIS twin: exit 2 at readiness, before any load (it sent 33,846
#     UNIMPLEMENTED requests and exited 0);
#  2. the twin killed (SIGKILL) and restarted on the same port mid-run: the runner reconnects and finishes the
#     run (not partial), the requests in between recorded as errors with their class (it stopped
#     within milliseconds of the kill);
#  3. the twin frozen (SIGSTOP): two SIGINTs end the runner within 5 s of the second one, with the
#     summary and every request written (it waited out the 240 s per-request timeout).
# Usage (ctest): bash faults_cli.sh <servetwin-binary>
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$bin" serve --help > /dev/null 2>&1 || { echo "serve verb not built; skipping"; exit 0; }
deploy=(--model llama-2-7b --instance g5.2xlarge)
# 40-token answers take about a second on this deployment: requests are in flight at each fault.
/usr/bin/python3 -c 'import json
for i in range(16): print(json.dumps({"index": i, "question": "word " * 40, "system_prompt": "", "tok_input_length": 40, "tok_output_length": 40}))' > "$tmp/ds.jsonl"

# Starts a twin in the background on $2 (HOST:PORT; port 0 = any); its pid in $twin_pid, port in $tmp/$1.port.
start_twin() {
  local name=$1 listen=$2
  rm -f "$tmp/$name.port"
  "$bin" serve --listen "$listen" --port-file "$tmp/$name.port" "${deploy[@]}" --run-for 120s \
    > "$tmp/$name.log" 2>&1 &
  twin_pid=$!
  pids+=("$twin_pid")
  for _ in $(seq 100); do [[ -s "$tmp/$name.port" ]] && break; sleep 0.1; done
  [[ -s "$tmp/$name.port" ]] || { cat "$tmp/$name.log"; fail "$name did not start"; }
}
now_s() { date +%s.%N; }
# Waits (at most 30 s) until the run in $1 has recorded its first completed request: the load is past readiness
# and its 4 users have requests in flight (a fixed sleep can end before a loaded machine starts the run).
wait_first_row() {
  for _ in $(seq 300); do
    [[ -f $1/requests.csv && $(wc -l < "$1/requests.csv") -ge 2 ]] && return 0
    sleep 0.1
  done
  fail "no request completed in $1 within 30 s"
}
elapsed_ok() { /usr/bin/python3 -c "import sys; sys.exit(0 if float('$2') - float('$1') < float('$3') else 1)"; }

# --- 1. the wrong protocol: exit 2 at readiness, nothing sent.
start_twin tgis 127.0.0.1:0
port=$(cat "$tmp/tgis.port")
t0=$(now_s)
rc=0
timeout 30 "$bin" load --protocol caikit --target "127.0.0.1:$port" --dataset "$tmp/ds.jsonl" --concurrency 4 \
  --duration 5s --out "$tmp/wrong" --quiet > "$tmp/wrong.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { cat "$tmp/wrong.log"; fail "load --protocol caikit against TGIS: exit $rc (want 2)"; }
grep -q "does not serve --protocol caikit" "$tmp/wrong.log" || { cat "$tmp/wrong.log"; fail "no clear error"; }
elapsed_ok "$t0" "$(now_s)" 5 || fail "the wrong-protocol error took more than 5 s"
[[ ! -e "$tmp/wrong/requests.csv" ]] || fail "load started against the wrong protocol"

# --- 2. killed and restarted on the same port: the run resumes.
"$bin" load --protocol tgis --target "127.0.0.1:$port" --dataset "$tmp/ds.jsonl" --concurrency 4 --duration 8s \
  --reconnect-timeout 20s --out "$tmp/restart" --quiet > "$tmp/restart.log" 2>&1 &
load_pid=$!
pids+=("$load_pid")
wait_first_row "$tmp/restart"
kill -KILL "$twin_pid"  # a crash: the 4 requests in flight break
{ wait "$twin_pid" || true; } 2>/dev/null
sleep 1
start_twin tgis2 "127.0.0.1:$port"
rc=0
wait "$load_pid" || rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/restart.log"; fail "load across a server restart: exit $rc (want 0)"; }
jq -e '.partial == false' "$tmp/restart/summary.json" > /dev/null || fail "restart run marked partial"
counts=$(jq -c '.scenarios[0].stages[0].grpc_status_counts' "$tmp/restart/summary.json")
echo "status counts across the restart: $counts"
jq -e '.scenarios[0].stages[0].grpc_status_counts.OK > 0' "$tmp/restart/summary.json" > /dev/null || fail "no OK requests"
# Requests that failed while the server was down carry an error and a class (UNAVAILABLE, CANCELLED, ...).
jq -e '[.scenarios[0].stages[0].grpc_status_counts | to_entries[] | select(.key != "OK") | .value] | add > 0' \
  "$tmp/restart/summary.json" > /dev/null || fail "no requests recorded as errors during the outage: $counts"
# Requests completed OK after the restart (the runner reconnected): the twin's second life served them.
/usr/bin/python3 - "$tmp/restart/requests.csv" <<'PY' || fail "no request sent after the restart completed OK"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
errors = [r for r in rows if r["status"] != "ok"]
assert errors and all(r["error"] for r in errors), "errors without their error text"
# The last OK request was sent after the last error: the runner resumed after the outage.
last_error = max(int(r["arrival_ns"]) for r in errors)
assert any(r["status"] == "ok" and int(r["arrival_ns"]) > last_error for r in rows), "nothing OK after the outage"
PY
kill -TERM "$twin_pid"; wait "$twin_pid" || true

# --- 3. a frozen server: two SIGINTs end the run within 5 s of the second, data kept.
start_twin frozen 127.0.0.1:0
port=$(cat "$tmp/frozen.port")
"$bin" load --protocol tgis --target "127.0.0.1:$port" --dataset "$tmp/ds.jsonl" --concurrency 4 --duration 60s \
  --stall-timeout 30s --out "$tmp/frozen" --quiet > "$tmp/frozen.log" 2>&1 &
load_pid=$!
pids+=("$load_pid")
wait_first_row "$tmp/frozen"
kill -STOP "$twin_pid"
sleep 1
kill -INT "$load_pid"
sleep 0.5
kill -INT "$load_pid"
t_second=$(now_s)
rc=0
wait "$load_pid" || rc=$?
elapsed_ok "$t_second" "$(now_s)" 5 || { cat "$tmp/frozen.log"; fail "the runner took more than 5 s after the second signal"; }
[[ $rc -eq 1 ]] || { cat "$tmp/frozen.log"; fail "frozen server, two signals: exit $rc (want 1, partial)"; }
jq -e '.partial == true and (.partial_reason | test("second signal"))' "$tmp/frozen/summary.json" > /dev/null ||
  fail "summary of the interrupted run: $(jq -c '{partial, partial_reason}' "$tmp/frozen/summary.json")"
rows=$(($(wc -l < "$tmp/frozen/requests.csv") - 1))
[[ $rows -ge 4 ]] || fail "requests.csv has $rows requests (want the 4 in flight at least)"
grep -q "CANCELLED by runner: second signal" "$tmp/frozen/requests.csv" || fail "in-flight requests not recorded as cancelled"
kill -CONT "$twin_pid"
echo "faults_cli: all cases passed"
