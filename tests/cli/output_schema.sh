#!/usr/bin/env bash
# The output schema test: runs `servetwin predict`, `servetwin sweep` and `servetwin load` (against the
# twin, `servetwin serve`) and checks summary.json, requests.csv and sweep.json against the field tables of docs/output-schema.md in both directions
# (documented required fields exist with their types; every produced field is documented). Then
# proves the checker can fail: a copy of the doc with one metric renamed, one CSV column renamed and
# one type changed must be rejected.
# Usage (ctest): bash output_schema.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1 repo=$2
py=/usr/bin/python3
doc="$repo/docs/output-schema.md"
check="$repo/tests/cli/output_schema_check.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" predict --model llama-2-7b --instance g5.12xlarge --concurrency 1,4 --duration 30 --out "$tmp/out" \
  > "$tmp/predict.log" 2>&1 || { cat "$tmp/predict.log"; exit 1; }
# A grid with points that meet and miss the SLO and a model that cannot fit: every sweep.json list is filled.
"$bin" sweep --models llama-2-7b,llama-2-70b --instances g5.2xlarge,g5.12xlarge --concurrency 1,4 --duration 10 \
  --slo 'ttft_p99_ms<=200' --out "$tmp/sweep" > "$tmp/sweep.log" 2>&1 || { cat "$tmp/sweep.log"; exit 1; }

args=(--producer simulator --summary "$tmp/out/summary.json" --requests "$tmp/out/requests.csv" --sweep "$tmp/sweep/sweep.json")
"$py" "$check" "$doc" "${args[@]}"

# The live runner, against the twin (simulated TGIS gRPC server, real time): two short stages.
"$bin" serve --protocol tgis --listen 127.0.0.1:0 --port-file "$tmp/port" --model llama-2-7b --instance g5.2xlarge \
  --run-for 60s > "$tmp/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
[[ -s "$tmp/port" ]] || { echo "twin did not start" >&2; cat "$tmp/serve.log" >&2; exit 1; }
"$bin" load --target "127.0.0.1:$(cat "$tmp/port")" --protocol tgis --dataset "$repo/configs/datasets/openorca-subset-006.json" \
  --concurrency 1,2 --duration 2s --warmup 1 --out "$tmp/live" --quiet > "$tmp/load.log" 2>&1 || { cat "$tmp/load.log"; exit 1; }
kill $serve_pid 2>/dev/null || true
"$py" "$check" "$doc" --producer live --summary "$tmp/live/summary.json" --requests "$tmp/live/requests.csv"

# The checker must be able to fail.
expect_fail() {
  local what=$1 pattern=$2 sed_expr=$3
  sed "$sed_expr" "$doc" > "$tmp/doc-broken.md"
  if cmp -s "$doc" "$tmp/doc-broken.md"; then echo "negative test '$what': sed changed nothing" >&2; exit 1; fi
  set +e
  "$py" "$check" "$tmp/doc-broken.md" "${args[@]}" > "$tmp/neg.out" 2>&1
  local rc=$?
  set -e
  if [[ $rc -ne 1 ]] || ! grep -q -- "$pattern" "$tmp/neg.out"; then
    echo "negative test '$what': checker exit $rc, expected 1 with '$pattern'" >&2
    cat "$tmp/neg.out" >&2
    exit 1
  fi
}
expect_fail "renamed metric" "field 'ttft_p90_ms' is produced but not documented" 's/^| `ttft_p90_ms` |/| `ttft_p91_ms` |/'
expect_fail "renamed metric (missing)" "ttft_p91_ms: documented required field missing" 's/^| `ttft_p90_ms` |/| `ttft_p91_ms` |/'
expect_fail "wrong type" "busy_s: type" 's/^| `busy_s` | number |/| `busy_s` | string |/'
expect_fail "renamed CSV column" "undocumented: \['first_token_ns'\]" 's/^| `first_token_ns` |/| `first_tok_ns` |/'
expect_fail "status value" "not a documented value" 's/^| `ok` |/| `okay` |/'
expect_fail "sweep field" "field 'slo_violations' is produced but not documented" '/^| `slo_violations` |/d'
echo "output schema: ok"
