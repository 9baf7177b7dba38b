#!/usr/bin/env bash
# `servetwin plan` (--rate, and --users at the end): ranked cheapest first, every rejected candidate has its reason (memory / SLO /
# budget), outputs written with --out; bad input exits 2 with a message naming the allowed values,
# and an unmeetable SLO or budget gives an empty plan with the reason. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--models llama-2-7b,llama-2-70b --instances g5.2xlarge,g5.12xlarge --input-tokens 512 --output-tokens 128
        --duration 60)
"$bin" plan "${common[@]}" --rate 4 --slo "ttft_p99_ms<=2000,tpot_mean_ms<=60" --discount 0.3 --out "$tmp/o" \
  > "$tmp/table" 2> "$tmp/err"
for f in plan.json plan.csv pareto_throughput.csv pareto_cost.csv; do
  [[ -s "$tmp/o/$f" ]] || { echo "missing $f" >&2; exit 1; }
done
grep -q "^rejected:" "$tmp/table" || { echo "no rejected section" >&2; cat "$tmp/table" >&2; exit 1; }
/usr/bin/python3 - "$tmp/o" <<'PY'
import csv, json, sys
d = sys.argv[1]
plan = json.load(open(f"{d}/plan.json"))
cands = plan["candidates"]
ranked = [cands[i] for i in plan["ranked"]]
assert ranked, "nothing feasible"
usd = [c["price"]["usd_per_hour"] for c in ranked]
assert usd == sorted(usd), f"not cheapest first: {usd}"
for c in ranked:
    p = c["price"]
    assert abs(p["usd_per_hour"] - 0.7 * p["usd_per_hour_on_demand"]) < 1e-9, p
    assert c["at_target"]["met"] and c["at_target"]["rate_per_s"] == 4, c["at_target"]
    assert c["replicas"] >= 1 and c["max_rate_bracket"][0] < c["max_rate_bracket"][1]
    tol = plan["inputs"]["rate_search"]["tolerance_rel"]
    lo, hi = c["max_rate_bracket"]
    assert hi - lo <= tol * lo + 1e-12, (lo, hi)
    assert c["max_rate_interval"] is None  # issue 17 hook: no invented intervals
kinds = {c["reason_kind"] for c in cands if c["status"] == "rejected"}
assert "memory" in kinds, kinds
assert plan["recommended"] == plan["ranked"][0]
rows = list(csv.DictReader(open(f"{d}/plan.csv")))
assert len(rows) == len(cands), (len(rows), len(cands))
assert [r["rank"] for r in rows[:len(ranked)]] == [str(i + 1) for i in range(len(ranked))]
pareto = list(csv.DictReader(open(f"{d}/pareto_throughput.csv")))
assert sum(r["recommended"] == "1" for r in pareto) == 1, "recommended point not marked once"
assert any(r["on_front"] == "1" for r in pareto)
print("plan ranked", len(ranked), "of", len(cands))
PY

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
expect_exit 2 "allowed: round-robin, least-outstanding, prefix-aware" "${common[@]}" --rate 4 --slo "ttft_p99_ms<=2000" --router random
expect_exit 2 "no candidates: give --instances or --gpus" --models llama-2-7b --rate 4 --slo "ttft_p99_ms<=2000"
expect_exit 2 "bound TTFT or E2E" "${common[@]}" --rate 4 --slo "tpot_mean_ms<=60"
expect_exit 2 "allowed:" "${common[@]}" --rate 4 --slo "bogus<=3"
expect_exit 2 "discount" "${common[@]}" --rate 4 --slo "ttft_p99_ms<=2000" --discount 1.5
expect_exit 2 "--rate" "${common[@]}" --slo "ttft_p99_ms<=2000"
expect_exit 2 "--duration" --models llama-2-7b --instances g5.2xlarge --rate 4 --slo "ttft_p99_ms<=2000" --duration 0
expect_exit 2 "unknown setting.*allowed:" "${common[@]}" --rate 4 --slo "ttft_p99_ms<=2000" --engine-range bogus_key=1,2
expect_exit 2 "KEY=V1,V2" "${common[@]}" --rate 4 --slo "ttft_p99_ms<=2000" --engine-range max_batch_size
# Impossible SLO and a budget below every option: an empty plan that says why, not a crash.
expect_exit 0 "no plan: .*slo" "${common[@]}" --rate 4 --slo "ttft_p99_ms<=0.001"
expect_exit 0 "no plan: .*budget" "${common[@]}" --rate 4 --slo "ttft_p99_ms<=2000" --budget-usd-h 0.5
grep -q "over budget" "$tmp/out" || { echo "budget rejection lacks its reason" >&2; exit 1; }

# --users (closed-loop users): exactly one of --rate and --users; bad counts exit 2 naming the range; a
# TPOT-only SLO is refused for users too (docs/planning.md says why); a good run names the load kind in
# the table, plan.json and plan.csv.
common=(--models llama-2-7b --instances g5.2xlarge,g5.12xlarge --input-tokens 512 --output-tokens 128 --duration 60)
slo=(--slo "ttft_p99_ms<=1500,tpot_mean_ms<=60")
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
echo "plan CLI: ok"
