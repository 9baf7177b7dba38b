#!/usr/bin/env bash
# `servetwin plan --users`: closed-loop users as the target (issue 19). Exactly one of --rate and
# --users; bad user counts exit 2 with a message naming the flag and the allowed range; a TPOT-only SLO
# is refused for users too (docs/planning.md says why); a good run names the load kind in the table,
# plan.json and plan.csv. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--models llama-2-7b --instances g5.2xlarge,g5.12xlarge --input-tokens 512 --output-tokens 128 --duration 60)
slo=(--slo "ttft_p99_ms<=1500,tpot_mean_ms<=60")

expect_exit() {  # expect_exit CODE PATTERN ARGS... : exit code and a message matching PATTERN on stderr or stdout
  local code=$1 pattern=$2
  shift 2
  set +e
  "$bin" plan "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  set -e
  [[ $rc -eq $code ]] || { echo "plan $*: exit $rc, expected $code" >&2; cat "$tmp/err" >&2; exit 1; }
  grep -qE -e "$pattern" "$tmp/err" "$tmp/out" || { echo "plan $*: no '$pattern'" >&2; cat "$tmp/err" "$tmp/out" >&2; exit 1; }
}
expect_exit 2 "exactly one target: --rate .* or --users" "${common[@]}" "${slo[@]}" --rate 4 --users 40
expect_exit 2 "exactly one target: --rate .* or --users" "${common[@]}" "${slo[@]}"
expect_exit 2 "--users: a whole number of concurrent users from 1 to 10000" "${common[@]}" "${slo[@]}" --users 0
expect_exit 2 "--users: a whole number of concurrent users from 1 to 10000" "${common[@]}" "${slo[@]}" --users -3
expect_exit 2 "--users: a whole number of concurrent users from 1 to 10000" "${common[@]}" "${slo[@]}" --users 20000
expect_exit 2 "--users" "${common[@]}" "${slo[@]}" --users abc
expect_exit 2 "--users" "${common[@]}" "${slo[@]}" --users 2.5
expect_exit 2 "--max-users: the search cap per replica, 1 to 10000" "${common[@]}" "${slo[@]}" --users 40 --max-users 0
expect_exit 2 "bound TTFT or E2E.*--users" "${common[@]}" --users 40 --slo "tpot_mean_ms<=60"

"$bin" plan "${common[@]}" "${slo[@]}" --users 40 --out "$tmp/o" > "$tmp/table"
grep -q "^plan: 40 closed-loop users" "$tmp/table" || { echo "table does not name the users" >&2; cat "$tmp/table" >&2; exit 1; }
grep -qE "^rank candidate +max_users " "$tmp/table" || { echo "table lacks max_users" >&2; cat "$tmp/table" >&2; exit 1; }
/usr/bin/python3 - "$tmp/o" <<'PY'
import csv, json, sys
d = sys.argv[1]
plan = json.load(open(f"{d}/plan.json"))
assert plan["inputs"]["load_kind"] == "users" and plan["inputs"]["target_users"] == 40, plan["inputs"]
assert "target_rate_per_s" not in plan["inputs"]
ranked = [plan["candidates"][i] for i in plan["ranked"]]
assert ranked, "nothing feasible"
for c in ranked:
    lo, hi = c["max_users_bracket"]
    assert c["max_users"] == lo and lo < hi <= lo + max(1, 0.05 * lo), (lo, hi)
    assert c["at_target"]["users"] == 40 and c["at_target"]["met"], c["at_target"]
    assert all("users" in p for p in c["probes"] + c["sizing_probes"])
    assert c["replicas"] * lo >= 40 - lo, "replicas far below the users"  # router pooling may save one replica
rows = list(csv.DictReader(open(f"{d}/plan.csv")))
assert "max_users" in rows[0] and "max_rate_per_s" not in rows[0], list(rows[0])
assert rows[0]["max_users"] == str(ranked[0]["max_users"]), rows[0]
pareto = list(csv.DictReader(open(f"{d}/pareto_throughput.csv")))
assert sum(r["recommended"] == "1" for r in pareto) == 1, "recommended point not marked once"
print("plan --users ranked", len(ranked))
PY
echo "plan --users CLI: ok"
