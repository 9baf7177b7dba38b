#!/usr/bin/env bash
# `servetwin list` / `servetwin show` on the shipped catalog: key rows, JSON, and bad kinds.
# Usage: catalog_list.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1
repo=$2
export SERVETWIN_CONFIG_DIR="$repo/configs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

"$bin" list instances >"$tmp/instances"
# name, GPUs, interconnect, vCPUs, RAM, USD/h, date
grep -Eq '^g5\.2xlarge +1x A10G +none +8 +32 +1\.212 +20[0-9]{2}-[0-9]{2}-[0-9]{2}$' "$tmp/instances" ||
  fail "g5.2xlarge row: $(grep g5.2xlarge "$tmp/instances")"
for row in 'g5.12xlarge +4x A10G +pcie4-g5' 'g5.48xlarge +8x A10G +pcie4-g5' \
  'p4d.24xlarge +8x A100-40GB-SXM +nvswitch-a100' 'p5.48xlarge +8x H100-SXM +nvswitch-h100' \
  'p5e.48xlarge +8x H200 +nvswitch-h200 +192 +2048 +n/a'; do
  grep -Eq "^$row" "$tmp/instances" || fail "instances: no row matching '$row'"
done

"$bin" list models >"$tmp/models"
grep -Eq '^meta-llama/Llama-2-7b-hf +32 +4096 +32/32 +11008 +- +6\.74 +4096' "$tmp/models" ||
  fail "Llama-2-7B row: $(grep Llama-2-7b "$tmp/models")"

"$bin" list instances --json >"$tmp/instances.json"
python3 - "$tmp/instances.json" <<'PY' || fail "list --json content"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["kind"] == "instances", doc["kind"]
e = {x["name"]: x for x in doc["entries"]}
g = e["g5.2xlarge"]
assert g["gpu"] == "A10G" and g["gpu_count"] == 1, g
assert g["on_demand"]["usd_per_hour"] == 1.212 and g["on_demand"]["available"], g
assert e["p5e.48xlarge"]["on_demand"]["available"] is False
PY

# show: singular and plural kinds, aliases, every number with its source.
"$bin" show instance g5.2xlarge >"$tmp/show"
grep -q '^  usd_per_hour: 1.212  \[source: .*hardware_and_models.md §2.1' "$tmp/show" || fail "show price line: $(cat "$tmp/show")"
grep -q '^  date: 20' "$tmp/show" || fail "show date line"
# grep -q would close the pipe early (SIGPIPE under pipefail): read the whole output first.
"$bin" show gpus H100-80GB-SXM >"$tmp/show_alias"
grep -q '^name: H100-SXM$' "$tmp/show_alias" || fail "show by alias"
"$bin" show gpu a10g --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["resolved"]["mem_bw_bytes_s"]==600e9; assert "source" in d["document"]["mem_bw_bytes_s"]' ||
  fail "show --json"

# Bad kind: exit 2 and the allowed kinds.
rc=0
"$bin" list widgets >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "list widgets: exit $rc, want 2"
grep -qF "allowed: gpus, models, instances, interconnects, profiles, engines, workloads" "$tmp/err" || fail "list widgets: $(cat "$tmp/err")"
rc=0
"$bin" show model no-such-model >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "show unknown model: exit $rc, want 2"
grep -qF "meta-llama/Llama-2-7b-hf" "$tmp/err" || fail "show unknown model lists names: $(cat "$tmp/err")"

if ((failures > 0)); then
  echo "catalog_list: $failures failure(s)" >&2
  exit 1
fi
echo "catalog_list: ok"
