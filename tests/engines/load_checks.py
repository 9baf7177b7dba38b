"""Checks shared by the engines tests that run `servetwin load` against a real server (imported, not a test).

A run directory (`load --out DIR`) holds requests.csv (one row per request) and messages.csv (one row per
stream message: the cumulative generated-token count when it arrived).
"""
import csv
import json


def load_rows(run_dir, n_requests, input_tokens, output_tokens, stop_reason=None):
    """Asserts every request succeeded with exactly the forced lengths; returns (rows, cumulative counts of
    each request's messages, in arrival order)."""
    rows = list(csv.DictReader(open(f"{run_dir}/requests.csv")))
    assert len(rows) == n_requests, (run_dir, len(rows))
    for r in rows:
        assert r["status"] == "ok", (run_dir, r)
        if stop_reason is not None:
            assert r["stop_reason"] == stop_reason, (run_dir, r)
        assert int(r["output_tokens"]) == output_tokens and int(r["input_tokens"]) == input_tokens, (run_dir, r)
    msgs = {}
    for m in csv.DictReader(open(f"{run_dir}/messages.csv")):
        msgs.setdefault(m["request_id"], []).append(int(m["generated_tokens"]))
    counts = [msgs[r["request_id"]] for r in rows]
    for c in counts:
        assert c == sorted(c) and c[-1] == output_tokens, (run_dir, c)
    return rows, counts


def merged_tokens(token_steps, output_tokens):
    """`token_steps`: a stream's cumulative counts at the messages that carried tokens. Each must add >= 1
    token. Usually exactly one: vLLM V1's per-request output collector merges deltas only when the producer
    gets ahead of the consumer (vllm/v1/engine/output_processor.py), which a busy 2-core machine sometimes
    causes. Returns how many tokens arrived merged with the next (counted, not hidden)."""
    assert token_steps and token_steps[-1] == output_tokens, token_steps
    assert all(b > a for a, b in zip(token_steps, token_steps[1:])), token_steps
    return output_tokens - len(token_steps)


def synthetic_exact(run_dir, n_requests, output_tokens, method, offset):
    """A synthetic run (`load --input-tokens`): every measured request ok with the forced output length, its
    prompt as the server counted it (requests.csv input_tokens) = the length drawn for it (schedule.csv), and
    summary.json's plan (resolved_config.prompt_tokens) and check (stages[0].prompt_token_check) agree.
    Returns (rows, plan)."""
    asked = {r["request_id"]: int(r["input_tokens"]) for r in csv.DictReader(open(f"{run_dir}/schedule.csv"))}
    rows = list(csv.DictReader(open(f"{run_dir}/requests.csv")))
    assert len(rows) == n_requests, (run_dir, rows)
    for r in rows:
        assert r["status"] == "ok" and int(r["output_tokens"]) == output_tokens, (run_dir, r)
        assert int(r["input_tokens"]) == asked[r["request_id"]], (run_dir, r["request_id"], r["input_tokens"],
                                                                  asked[r["request_id"]])
    summary = json.load(open(f"{run_dir}/summary.json"))["scenarios"][0]
    plan, check = summary["resolved_config"]["prompt_tokens"], summary["stages"][0]["prompt_token_check"]
    assert plan["method"] == method and plan["offset_tokens"] == offset, plan
    assert check["mismatches"] == 0 and check["requests_counted"] == n_requests, check
    print(f"ok: {n_requests} synthetic prompts of {sorted(int(r['input_tokens']) for r in rows)} tokens, each counted "
          f"so by the server; plan: {plan['detail']}")
    return rows, plan
