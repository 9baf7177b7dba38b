#!/usr/bin/env python3
"""Fit vllm-0.2-distserve's host cost per step and per sequence from the per-request records of the fit set.

Why per request: a run's mean TPOT mixes decode steps at every batch size, so the two DistServe fit rows
(2 req/s) cannot separate a cost paid once per step from one paid per running sequence (both fits land on
the same row means). Each request's record can: its decode span (complete - first token) holds exactly
output_len - 1 decode steps plus the prefill steps of the requests whose first token falls inside it, at a
batch size that differs from request to request (1 to ~40 running requests in the fit runs). So

    span_ms = (L - 1) x (a + b x B + kv_ms_per_token x C) + prefill_steps x p0 + prefill_tokens x p1

where B is the time-averaged number of running requests over the span, C their summed context. The KV
read cost per context token is the simulator's own (decode attention physics of the A100 profile), so it
is held fixed; p0, p1 absorb the prefill steps whatever their rule. a and b are the whole decode step at
batch 0 and its growth per sequence; the simulator's GPU decode step (engine CPU terms set to zero) is
subtracted to leave the host terms, cpu_step_ns and cpu_seq_ns.

Only fit-set records are accepted: each file's run name must be one the distserve_rate2 fit set lists in
configs/validation/sources/distserve.yaml, so no scored run enters the fit.

Usage:
  scripts/fit_distserve_host_cost.py --bin build/servetwin \
      ../shared/validation/distserve/opt-13b-sharegpt/vllm-100-2.exp \
      ../shared/validation/distserve/opt-13b-sharegpt/vllm-200-2.exp
"""
import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SAME_STEP_GAP_S = 0.003  # first tokens closer than this came from one prefill step (distserve_records.hpp)
MIN_OUTPUT = 8           # shorter requests have too few decode steps to weigh
PRESET = ["--model", "opt-13b", "--gpu", "A100-80GB-SXM", "--tp", "1", "--engine", "vllm-0.2-distserve",
          "--engine-set", "cpu_step_ns=0", "--engine-set", "cpu_seq_ns=0"]


def fit_set_runs(config_dir):
    text = (Path(config_dir) / "validation/sources/distserve.yaml").read_text()
    m = re.search(r"name: distserve_rate2.*?ends_with: \[([^\]]*)\]", text, re.S)
    if not m:
        sys.exit("fit_distserve_host_cost: no distserve_rate2 fit set in " + config_dir)
    return {s.strip() for s in m.group(1).split(",")}


def load_records(path):
    first_line = Path(path).read_text().split("\n", 1)[0]
    recs = sorted(ast.literal_eval(first_line), key=lambda r: r["issue_time"])
    t0 = recs[0]["issue_time"]
    return [dict(L=r["output_len"], P=r["prompt_len"], a=r["issue_time"] - t0, f=r["first_token_time"] - t0,
                 c=r["complete_time"] - t0) for r in recs]


def prefill_steps(recs):
    by_first = sorted(recs, key=lambda r: r["f"])
    steps, cur = [], [by_first[0]]
    for r in by_first[1:]:
        if r["f"] - cur[-1]["f"] < SAME_STEP_GAP_S:
            cur.append(r)
        else:
            steps.append(cur)
            cur = [r]
    steps.append(cur)
    return [(s[-1]["f"], sum(q["P"] for q in s)) for s in steps]


def request_features(recs):
    """Per request: decode steps, mean running requests, mean summed context, prefill steps and tokens inside."""
    steps = prefill_steps(recs)
    rows = []
    for r in recs:
        if r["L"] < MIN_OUTPUT:
            continue
        f, c = r["f"], r["c"]
        running = context = 0.0
        for q in recs:
            lo, hi = max(f, q["f"]), min(c, q["c"])
            if hi <= lo:
                continue
            running += hi - lo
            # q's context grows by one token per step from its prompt to prompt + output.
            grown = (q["L"] - 1) * ((lo + hi) / 2 - q["f"]) / (q["c"] - q["f"])
            context += (hi - lo) * (q["P"] + grown)
        inside = [s for s in steps if f + 1e-6 < s[0] < c - 1e-6]
        rows.append(dict(n=r["L"] - 1, span_ms=(c - f) * 1e3, B=running / (c - f), C=context / (c - f),
                         npf=len(inside), pftok=sum(s[1] for s in inside)))
    return rows


def lstsq(X, y):
    n = len(X[0])
    A = [[sum(r[i] * r[j] for r in X) for j in range(n)] for i in range(n)]
    b = [sum(r[i] * v for r, v in zip(X, y)) for i in range(n)]
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(A[k][i]))
        A[i], A[p], b[i], b[p] = A[p], A[i], b[p], b[i]
        for k in range(i + 1, n):
            g = A[k][i] / A[i][i]
            A[k] = [x - g * w for x, w in zip(A[k], A[i])]
            b[k] -= g * b[i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (b[i] - sum(A[i][j] * x[j] for j in range(i + 1, n))) / A[i][i]
    return x


def sim_tpot_ms(binary, config_dir, requests, tmp, name):
    """TPOT of the simulator's GPU-only decode for `requests` (prompt, output) all arriving at t=0."""
    trace = tmp / f"{name}.csv"
    trace.write_text("arrived_at,num_prefill_tokens,num_decode_tokens\n" +
                     "".join(f"0,{p},{o}\n" for p, o in requests))
    out = tmp / name
    subprocess.run([binary, "predict", *PRESET, "--config-dir", config_dir, "--trace", str(trace), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    rows = (out / "requests.csv").read_text().splitlines()
    head = rows[0].split(",")
    fi, ci, oi = head.index("first_token_ns"), head.index("finish_ns"), head.index("output_tokens")
    last = max((r.split(",") for r in rows[1:]), key=lambda r: int(r[ci]))
    return (int(last[ci]) - int(last[fi])) / 1e6 / (int(last[oi]) - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/servetwin")
    ap.add_argument("--config-dir", default="configs")
    ap.add_argument("records", nargs="+")
    args = ap.parse_args()
    allowed = fit_set_runs(args.config_dir)
    for path in args.records:
        if Path(path).stem not in allowed:
            sys.exit(f"fit_distserve_host_cost: {path}: not in the distserve_rate2 fit set ({sorted(allowed)})")

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        short, long_ctx, out = 16, 1600, 201
        gpu1 = sim_tpot_ms(args.bin, args.config_dir, [(short, out)], tmp, "b1")
        gpu1_long = sim_tpot_ms(args.bin, args.config_dir, [(long_ctx, out)], tmp, "b1long")
        gpu64 = sim_tpot_ms(args.bin, args.config_dir, [(short, out)] * 64, tmp, "b64")
    mean_ctx = short + (out - 1) / 2
    kv_ms_per_token = (gpu1_long - gpu1) / (long_ctx - short)
    gpu_step0_ms = gpu1 - kv_ms_per_token * mean_ctx
    gpu_seq_ms = (gpu64 - gpu1) / 63 - kv_ms_per_token * mean_ctx

    X, y = [], []
    for path in args.records:
        for r in request_features(load_records(path)):
            X.append([r["n"], r["n"] * r["B"], r["npf"], r["pftok"]])
            y.append(r["span_ms"] - r["n"] * r["C"] * kv_ms_per_token)
    a, b, p0, p1 = lstsq(X, y)
    result = dict(requests=len(y), kv_us_per_token=kv_ms_per_token * 1e3, gpu_step0_ms=gpu_step0_ms,
                  gpu_seq_us=gpu_seq_ms * 1e3, decode_step0_ms=a, decode_seq_us=b * 1e3,
                  prefill_step_ms=p0, prefill_token_us=p1 * 1e3,
                  cpu_step_ns=round((a - gpu_step0_ms) * 1e6, -5), cpu_seq_ns=round((b - gpu_seq_ms) * 1e6, -3))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
