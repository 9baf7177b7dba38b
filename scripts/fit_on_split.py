#!/usr/bin/env python3
"""Grid-fit catalog parameters on the rows of a fit set only (the rows `servetwin validate` does not score).

Each candidate writes a copy of configs/ with the parameters replaced, runs
`servetwin validate --data CSV --json`, and keeps the rows whose `scored` is false (the fit set of the
preset that ran them, e.g. BLIS train/val for vllm-0.15). The objective is the mean absolute log
error of METRIC over those rows; the scored rows never enter the fit. Prints every candidate and the
best, so the value written into a config's `source:` can be reproduced.

Usage:
  scripts/fit_on_split.py --bin build/servetwin --data ../shared/validation/published/blis_vllm_h100.csv \
      --metric itl_mean_ms \
      --param profiles/h100-sxm.yaml:attn_decode_bw_eff=0.5,0.6,0.7 \
      --param profiles/h100-sxm.yaml:layer_overhead_ns=10000,20000,32100
A parameter is a top-level `key: {value: X, ...}` of a profile file, or an engine setting
`  key: {value: X, ...}` under `settings:` of an engine file (same syntax).
"""
import argparse
import csv
import itertools
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def replace_value(text, key, value):
    pattern = re.compile(r"^(\s*" + re.escape(key) + r":\s*\{value:\s*)([^,}]+)", re.M)
    new, n = pattern.subn(lambda m: m.group(1) + value, text)
    if n != 1:
        sys.exit(f"fit_on_split: key '{key}' found {n} times (expected once)")
    return new


def objective(report, metric):
    errors = []
    for row in report["rows"]:
        if row.get("scored", True):
            continue
        pred, meas = row.get("predicted", {}), row.get("measured", {})
        if metric in pred and metric in meas and meas[metric] > 0 and pred[metric] > 0:
            errors.append(abs(math.log(pred[metric] / meas[metric])))
    # The mean, not the median: over a dozen rows the median jumps between rows as parameters move.
    return (statistics.fmean(errors) if errors else float("inf")), len(errors)


def fit_rows_only(binary, data, config_dir, tmp):
    """A copy of DATA holding only the rows validate does not score (faster candidates)."""
    out = tmp / "all.json"
    subprocess.run([binary, "validate", "--data", data, "--json", str(out), "--config-dir", config_dir], check=True,
                   stdout=subprocess.DEVNULL)
    fit_ids = {r["source_id"] for r in json.loads(out.read_text())["rows"] if not r.get("scored", True)}
    if not fit_ids:
        sys.exit(f"fit_on_split: {data} has no fit-set rows for the presets that run it")
    with open(data, newline="") as f:
        rows = list(csv.reader(f))
    keep = [rows[0]] + [r for r in rows[1:] if r and r[0] in fit_ids]
    # Same file name (validate reports sources by file name) in a mirror of the data's tree, so rows
    # that point at sibling directories (the DistServe per-request traces in ../distserve) still resolve.
    src_dir = Path(data).resolve().parent
    mirror = tmp / "data" / src_dir.name
    mirror.mkdir(parents=True)
    for sibling in src_dir.parent.iterdir():
        if sibling != src_dir:
            (tmp / "data" / sibling.name).symlink_to(sibling)
    path = mirror / Path(data).name
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(keep)
    print(f"fit set: {len(keep) - 1} rows of {len(rows) - 1}", flush=True)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--metric", required=True)
    ap.add_argument("--config-dir", default=str(Path(__file__).resolve().parent.parent / "configs"))
    ap.add_argument("--param", action="append", required=True, help="FILE:KEY=V1,V2,...")
    args = ap.parse_args()

    params = []
    for p in args.param:
        where, values = p.split("=", 1)
        file, key = where.split(":", 1)
        params.append((file, key, values.split(",")))

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        data = fit_rows_only(args.bin, args.data, args.config_dir, Path(tmp))
        for combo in itertools.product(*[v for _, _, v in params]):
            cfg = Path(tmp) / "configs"
            if cfg.exists():
                shutil.rmtree(cfg)
            shutil.copytree(args.config_dir, cfg)
            for (file, key, _), value in zip(params, combo):
                path = cfg / file
                path.write_text(replace_value(path.read_text(), key, value))
            out = Path(tmp) / "report.json"
            subprocess.run([args.bin, "validate", "--data", str(data), "--json", str(out), "--config-dir", str(cfg)],
                           check=True, stdout=subprocess.DEVNULL)
            score, n = objective(json.loads(out.read_text()), args.metric)
            label = " ".join(f"{k}={v}" for (_, k, _), v in zip(params, combo))
            print(f"{label}: mean |log error| of {args.metric} over {n} fit-set rows = {score:.4f}", flush=True)
            results.append((score, label))
    best = min(results)
    print(f"best: {best[1]} ({best[0]:.4f})")


if __name__ == "__main__":
    main()
