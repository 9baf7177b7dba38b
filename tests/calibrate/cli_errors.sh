#!/usr/bin/env bash
# `servetwin calibrate` bad input exits 2 with a message naming the problem; a missing CUDA binary exits 1.
set -uo pipefail
bin="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() {  # expect RC PATTERN -- command...
  local want="$1" pattern="$2"; shift 3
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [[ $rc -ne $want ]] || ! grep -q -- "$pattern" "$tmp/out"; then
    echo "FAIL: '$*' gave rc=$rc (want $want), output:"; cat "$tmp/out"; fail=1
  else
    echo "ok: $* -> rc=$rc"
  fi
}
expect 2 "unknown GPU 'b100'" -- "$bin" calibrate fit --published vidur:b100 --out "$tmp/p.yaml"
expect 2 "unknown model 'nope'" -- "$bin" calibrate run --device cpu --model nope --out "$tmp/r.json"
echo '{"schema":"servetwin.calibration.v1","bogus":1}' > "$tmp/bad.json"
expect 2 "unknown key 'bogus'" -- "$bin" calibrate fit --in "$tmp/bad.json" --out "$tmp/p.yaml"
echo 'not json' > "$tmp/bad2.json"
expect 2 "not valid JSON" -- "$bin" calibrate fit --in "$tmp/bad2.json" --out "$tmp/p.yaml"
expect 2 "not a directory" -- "$bin" calibrate engine --live "$tmp/none" --out "$tmp/e.yaml"
mkdir "$tmp/live" && echo "a,b" > "$tmp/live/x.csv"
expect 2 "no per-request CSV" -- "$bin" calibrate engine --live "$tmp/live" --out "$tmp/e.yaml"
# A --reference-dataset that cannot be read: exit 2 naming the option and the file, before anything is sent.
expect 2 "reference-dataset: .*$tmp/no-ref.jsonl" -- "$bin" calibrate probe --target 127.0.0.1:1 --protocol openai \
  --reference-dataset "$tmp/no-ref.jsonl" --out "$tmp/probe.json"
# Several probes are fitted as one only if they are of one endpoint (calibrate/probe/probe_merge.hpp).
echo '{"schema":"servetwin.probe.v1","protocol":"openai","phases":[]}' > "$tmp/pa.json"
echo '{"schema":"servetwin.probe.v1","protocol":"tgis","phases":[]}' > "$tmp/pb.json"
expect 2 "pb.json: protocol: differs from .*pa.json" -- "$bin" calibrate fit --in "$tmp/pa.json" --in "$tmp/pb.json" \
  --out "$tmp/prof" --model llama-2-7b
expect 2 "bad.json: schema: expected" -- "$bin" calibrate fit --in "$tmp/pa.json" --in "$tmp/bad.json" --out "$tmp/prof" --model llama-2-7b
SERVETWIN_CUDA_BENCH="$tmp/missing-bench" expect 1 "servetwin-cuda-bench failed" -- "$bin" calibrate run --device cuda --out "$tmp/r.json"
exit $fail
