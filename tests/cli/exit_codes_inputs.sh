#!/usr/bin/env bash
# Issue 20 items 2, 5, 7 and issue 18's CLI item: honest exit codes (0 ok, 2 bad input, 3 the
# deployment cannot serve this), strict trace/scenario parsing (whole field, finite, integer where
# integer; duplicate YAML keys rejected with file:line), explicit flags override scenario files even
# at the default value, and the cost table shows whole names and no header over an empty table.
# Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1" repo="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dep=(--model llama-2-7b --instance g5.2xlarge)

expect_rc() {
  local want="$1" what="$2" pattern="$3"; shift 3
  set +e
  timeout 120 "$bin" "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  set -e
  if [[ $rc -ne $want ]]; then echo "$what: exit $rc, expected $want" >&2; cat "$tmp/err" >&2; exit 1; fi
  if [[ -n "$pattern" ]] && ! grep -q -- "$pattern" "$tmp/err"; then
    echo "$what: stderr lacks '$pattern'" >&2; cat "$tmp/err" >&2; exit 1
  fi
}

# --- Exit 3: ran, but the deployment cannot serve this.
expect_rc 3 "model does not fit" "cannot run: model does not fit" predict --model llama-2-70b --instance g5.2xlarge \
  --concurrency 1 --duration 10
printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,100000,10\n0.5,100000,10\n' > "$tmp/too_long.csv"
expect_rc 3 "every request rejected" "no request completed (2 rejected, 0 failed)" predict "${dep[@]}" \
  --trace "$tmp/too_long.csv"
grep -Eq "^ +trace .* 2 +0$" "$tmp/out" || { echo "table lacks rejected/failed counts" >&2; cat "$tmp/out" >&2; exit 1; }
expect_rc 3 "SLO infeasible" "no configuration x load point meets the SLO" sweep --models llama-2-7b \
  --instances g5.2xlarge --concurrency 1 --duration 10 --slo 'ttft_p99_ms<=0.001'
expect_rc 0 "SLO feasible" "" sweep --models llama-2-7b --instances g5.2xlarge --concurrency 4 --duration 60 \
  --slo 'ttft_p99_ms<=100000'

# --- Trace CSV: numbers are read whole and strictly (line and column named).
trace_case() {
  local what="$1" row="$2" pattern="$3"
  printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,10\n%s\n' "$row" > "$tmp/t.csv"
  expect_rc 2 "trace $what" "$pattern" predict "${dep[@]}" --trace "$tmp/t.csv"
  grep -q "t.csv:3: column" "$tmp/err" || { echo "trace $what: no file:line" >&2; cat "$tmp/err" >&2; exit 1; }
}
trace_case "1e12 tokens" "1,1e12,10" "column 'num_prefill_tokens': '1e12' is not an integer"
trace_case "5abc tokens" "1,5abc,10" "'5abc' is not an integer"
trace_case "fractional tokens" "1,512.7,10" "'512.7' is not an integer"
trace_case "nan arrival" "nan,10,10" "column 'arrived_at': 'nan' is not a finite number"
trace_case "huge tokens" "1,20000000,10" "20000000 out of range; allowed: an integer in \[1, 1e+07\] tokens"

# --- Scenario YAML: duplicate keys, strict numbers, bounds.
scenario() {
  cat > "$tmp/s.yaml" <<YAML
kind: scenario
workload: openorca-32
duration_s: 10
$1
load: {type: closed, levels: [1]}
deployments:
  - {model: meta-llama/Llama-2-7b-hf, instance: g5.2xlarge}
YAML
}
scenario "seed: 7
seed: 8"
expect_rc 2 "duplicate key" "s.yaml:5: key 'seed': duplicate key" predict --scenario "$tmp/s.yaml"
scenario "seed: 7
requests: 5abc"
expect_rc 2 "requests 5abc" "s.yaml:5: key 'requests': expected a number, got '5abc'" predict --scenario "$tmp/s.yaml"
scenario "seed: -1"
expect_rc 2 "seed -1 in a file" "s.yaml:4: key 'seed': bad value '-1'" predict --scenario "$tmp/s.yaml"
scenario "seed: 7"
sed -i 's/duration_s: 10/duration_s: 1e30/' "$tmp/s.yaml"
expect_rc 2 "duration 1e30 in a file" "key 'duration_s': value 1e30 out of range" predict --scenario "$tmp/s.yaml"

# --- Flags override the file even at their default value; the file overrides the defaults.
scenario "seed: 7"
seed_of() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['seed'], j['scenarios'][0]['resolved_config']['seed'])" "$1"; }
"$bin" predict --scenario "$tmp/s.yaml" --json > "$tmp/file.json"
[[ $(seed_of "$tmp/file.json") == "7 7" ]] || { echo "scenario file seed not used: $(seed_of "$tmp/file.json")" >&2; exit 1; }
"$bin" predict --scenario "$tmp/s.yaml" --seed 42 --json > "$tmp/flag.json"
[[ $(seed_of "$tmp/flag.json") == "42 42" ]] || { echo "--seed 42 did not override seed: 7: $(seed_of "$tmp/flag.json")" >&2; exit 1; }
sed -i 's/duration_s: 10/duration_s: 20/' "$tmp/s.yaml"
"$bin" predict --scenario "$tmp/s.yaml" --duration 240 --json > "$tmp/dur.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['scenarios'][0]['resolved_config']['duration_s']; sys.exit(0 if d == 240 else 'duration %s' % d)" "$tmp/dur.json"

# --- Cost table: whole names (TP degree and engine kept); no table when no stage has load 10.
"$bin" predict --duration 10 --concurrency 10 > "$tmp/cost" 2> /dev/null
grep -q "^meta-llama/Llama-2-70b-hf on p4d.24xlarge x8 TP8 (tgis-rhoai-2024q1) " "$tmp/cost" || {
  echo "cost table cut a name" >&2; cat "$tmp/cost" >&2; exit 1; }
"$bin" predict "${dep[@]}" --duration 10 --concurrency 1 > "$tmp/nocost" 2> /dev/null
if grep -q "Cost at load" "$tmp/nocost"; then echo "cost header printed over an empty table" >&2; exit 1; fi
# --- README examples work from a clone alone: the example block reads nothing outside the repository.
examples=$(awk '/^Examples:/{on=1} on&&/^```sh/{inblock=1;next} inblock&&/^```/{exit} inblock{print}' "$repo/README.md")
[[ -n "$examples" ]] || { echo "README example block not found" >&2; exit 1; }
if grep -q '\.\./shared' <<< "$examples"; then echo "README examples read ../shared" >&2; exit 1; fi
"$bin" predict --model meta-llama/Llama-2-7b-hf --gpu A100-80GB-SXM --engine vllm-0.15 --engine-set max_num_seqs=128 \
  --trace "$repo/examples/poisson_r5_n500_p512_o128_s42.csv" > /dev/null 2>&1
"$bin" validate --data "$repo/examples/seed_redhat_tgis.csv" > /dev/null 2>&1
echo "exit codes and inputs: ok"
