#!/usr/bin/env bash
# `servetwin sweep`: ranks by USD/1M among SLO-meeting points, reports configurations that cannot fit,
# rejects bad SLO terms with exit 2. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" sweep --models llama-2-7b,llama-2-70b --instances g5.2xlarge,g5.12xlarge,p4d.24xlarge --concurrency 4,16 \
  --duration 60 --slo "tpot_mean_ms<=60" --json > "$tmp/s.json" 2> "$tmp/err"
/usr/bin/python3 - "$tmp/s.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ranked = j["ranked"]
assert ranked, "no point meets the SLO"
costs = [p["cost"]["usd_per_1m_output_tokens"] for p in ranked]
assert costs == sorted(costs), f"not ranked by cost: {costs}"
for p in ranked:
    assert p["metrics"]["tpot_mean_ms"] <= 60, p
for p in j["failing_slo"]:
    assert "slo_violations" in p, p
reasons = [c["reason"] for c in j["cannot_run"]]
assert any(c["model"].endswith("Llama-2-70b-hf") and c["instance"] == "g5.2xlarge" and "does not fit" in c["reason"]
           for c in j["cannot_run"]), reasons
print("sweep ranked", len(ranked), "points; cannot run:", len(j["cannot_run"]))
PY
set +e
"$bin" sweep --models llama-2-7b --instances g5.2xlarge --slo "bogus<=3" > /dev/null 2> "$tmp/err2"
rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "bad SLO: exit $rc, expected 2" >&2; exit 1; }
grep -q "allowed:" "$tmp/err2" || { echo "bad SLO message lacks allowed metrics" >&2; exit 1; }
echo "sweep CLI: ok"
