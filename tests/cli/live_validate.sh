#!/bin/bash
# `servetwin validate --live DIR`: the live runner against the twin (`servetwin serve`, the TGIS
# engine model of Llama-2-7B on g5.2xlarge in real time), then validate --live on its output.
# Checks: per-stage predicted and measured values in the JSON; throughput, TTFT p50 and TPOT mean
# within 5% — the tolerance issue 6 (item 4) sets for the runner against the twin vs `predict`;
# bad input exits 2 naming the file and field. Bounded well under 30 s.
# Usage (ctest): bash live_validate.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1 repo=$2
tmp=$(mktemp -d)
serve_pid=
cleanup() { [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$bin" serve --help > /dev/null 2>&1 || { echo "serve verb not built; skipping"; exit 0; }

# A small v2 JSONL dataset: prompts of 100-199 words, exact output lengths 8-16 tokens (short, so an
# attempt takes ~6 s). Prompts this long put TTFT at ~70-115 ms, well above the ~1.5-2 ms the loopback
# and thread wake-ups add to every measured first token (docs/live.md), so the 5% bar tests the model
# rather than the transport.
/usr/bin/python3 - "$tmp/ds.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"name": "live-validate-test", "version": "0"}) + "\n")
    x = 12345
    for i in range(64):
        x = (x * 1103515245 + 12345) % 2**32
        words = 100 + (x >> 8) % 100
        x = (x * 1103515245 + 12345) % 2**32
        out = 8 + (x >> 8) % 9
        q = " ".join("word%d" % (w % 10) for w in range(words))
        f.write(json.dumps({"index": i, "question": q, "system_prompt": "", "tok_input_length": words,
                            "tok_output_length": out}) + "\n")
PY

"$bin" serve --protocol tgis --listen 127.0.0.1:0 --port-file "$tmp/port" --model llama-2-7b --instance g5.2xlarge \
  --run-for 60s > "$tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
[[ -s "$tmp/port" ]] || { cat "$tmp/serve.log"; fail "twin did not start"; }

# Real time on a shared 2-core machine: a scheduling hiccup can move a p50 that sits on a step
# boundary (docs/live.md), so up to 3 attempts (each ~6 s); the last one asserts.
for attempt in 1 2 3; do
  rm -rf "$tmp/run"
  "$bin" load --target "127.0.0.1:$(cat "$tmp/port")" --protocol tgis --dataset "$tmp/ds.jsonl" \
    --concurrency 1,8 --requests 12 --warmup 1 --seed 7 --out "$tmp/run" --quiet \
    --model llama-2-7b --instance g5.2xlarge > "$tmp/load.log" 2>&1 || { cat "$tmp/load.log"; fail "load"; }
  "$bin" validate --live "$tmp/run" --json "$tmp/v.json" > "$tmp/v.txt" || { cat "$tmp/v.txt"; fail "validate --live"; }
  grep -q "stage 1 (concurrency=8): measured vs predicted" "$tmp/v.txt" || { cat "$tmp/v.txt"; fail "stage table"; }
  grep -q "coverage: 2 of 2 rows ran" "$tmp/v.txt" || { cat "$tmp/v.txt"; fail "coverage line"; }
  if /usr/bin/python3 - "$tmp/v.json" "$attempt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
final = sys.argv[2] == "3"
assert r["schema_version"] == 1
assert r["live"]["deployment"]["model"] == "meta-llama/Llama-2-7b-hf", r["live"]["deployment"]
(name, src), = r["sources"].items()
assert src["rows"] == 2 and src["ran"] == 2 and src["unsupported"] == [], src
for k in ("n", "median_ape", "mean_ape", "bias"):
    assert k in src["metrics"]["ttft_p50_ms"], k
assert [row["label"] for row in r["rows"]] == ["concurrency=1", "concurrency=8"]
bad = []
for row in r["rows"]:
    assert set(row["predicted"]) == set(row["measured"]), row["source_id"]
    assert row["requests"]["measured_ok"] == 12 and row["requests"]["predicted_ok"] == 12, row["requests"]
    for m in ("throughput_output_tok_s", "ttft_p50_ms", "tpot_mean_ms"):
        p, v = row["predicted"][m], row["measured"][m]
        assert p > 0 and v > 0, (row["label"], m, p, v)
        err = abs(p - v) / v
        print("%s %s measured %.3f predicted %.3f error %.2f%%" % (row["label"], m, v, p, 100 * err))
        if err >= 0.05:  # issue 6, item 4: within 5%
            bad.append((row["label"], m, v, p))
if bad:
    print("outside 5%:", bad)
    sys.exit(1)
PY
  then break; fi
  [[ $attempt -lt 3 ]] || fail "validate --live errors above 5% in 3 attempts"
done

# The summary with the recorded deployment matches the documented schema (docs/output-schema.md).
/usr/bin/python3 "$repo/tests/cli/output_schema_check.py" "$repo/docs/output-schema.md" --producer live \
  --summary "$tmp/run/summary.json" --requests "$tmp/run/requests.csv" > "$tmp/schema.txt" 2>&1 ||
  { cat "$tmp/schema.txt"; fail "summary.json with server_deployment does not match docs/output-schema.md"; }
grep -q '"server_deployment"' "$tmp/run/summary.json" || fail "load did not record server_deployment"

expect_bad() {  # expect_bad NAME DIR PATTERN...: exit 2 and every pattern in the message
  local name=$1 dir=$2; shift 2
  set +e
  "$bin" validate --live "$dir" > "$tmp/$name.txt" 2>&1
  local rc=$?
  set -e
  [[ $rc -eq 2 ]] || { cat "$tmp/$name.txt"; fail "$name: exit $rc, expected 2"; }
  for p in "$@"; do grep -q -- "$p" "$tmp/$name.txt" || { cat "$tmp/$name.txt"; fail "$name: message lacks '$p'"; }; done
}
expect_bad missing-dir "$tmp/nope" "$tmp/nope" "not a directory"
mkdir "$tmp/no-summary"
cp "$tmp/run/requests.csv" "$tmp/no-summary/"
expect_bad no-summary "$tmp/no-summary" "no-summary/summary.json" "cannot open"
mkdir "$tmp/no-csv"
cp "$tmp/run/summary.json" "$tmp/no-csv/"
expect_bad no-csv "$tmp/no-csv" "no-csv/requests.csv" "cannot open"
edit() {  # edit SRC DST PYTHON-STATEMENT-ON-s
  mkdir "$2"
  cp "$1"/*.csv "$2/"
  /usr/bin/python3 -c "import json,sys; s=json.load(open('$1/summary.json')); $3; json.dump(s, open('$2/summary.json','w'))"
}
edit "$tmp/run" "$tmp/v9" "s['schema_version']='9.0'"
expect_bad schema "$tmp/v9" "v9/summary.json" "schema_version" "9.0"
edit "$tmp/run" "$tmp/badmodel" "s['scenarios'][0]['resolved_config']['server_deployment']['model']='no-such-model'"
expect_bad model "$tmp/badmodel" "badmodel/summary.json" "server_deployment" "no-such-model"
edit "$tmp/run" "$tmp/nodep" "del s['scenarios'][0]['resolved_config']['server_deployment']"
expect_bad no-deployment "$tmp/nodep" "nodep/summary.json" "server_deployment" "missing"
# ... which the deployment flags on the command line supply.
"$bin" validate --live "$tmp/nodep" --model llama-2-7b --instance g5.2xlarge > "$tmp/flags.txt" ||
  { cat "$tmp/flags.txt"; fail "--live with deployment flags"; }
grep -q "coverage: 2 of 2 rows ran" "$tmp/flags.txt" || { cat "$tmp/flags.txt"; fail "flags run"; }
echo "live validate cli: OK"
