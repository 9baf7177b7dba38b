#!/usr/bin/env python3
"""Fit the H200 profile's gemm_eff_max on the fit set trtllm_h200_pair only (issue 17).

The pair: Llama-3.1-8B-Instruct-FP8 at ISL/OSL 128/128 on one H100-SXM and on one H200 (TensorRT-LLM 1.0
perf-overview, trtllm_static.csv). The shape is compute-bound: ~2,000 sequences per step. Both GPUs have the
same die and the same 700 W. NVIDIA measured the H200 at 0.986x the H100 there, while servetwin, with the
H100's kernel efficiencies on both, predicted 1.127x. The H200's extra bandwidth can only speed that row up.

What is fitted: the one value of H200's gemm_eff_max that makes the predicted H200/H100 ratio of this pair
equal to the measured one. H100's prediction is taken as it is, so the H100 profile's own error does not move
into H200's. Nothing else is read: bisection over gemm_eff_max in a copy of configs/, running
`servetwin validate` on a copy of the published TensorRT-LLM CSV cut to the two rows (same file name, so the
source's rules apply as to the full file; each row is simulated on its own).

Usage: scripts/fit_h200_compute.py BUILD/servetwin CONFIG_DIR SHARED_DIR
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

H100_ROW = "trtllm_perf_overview:Llama-3.1-8B-Instruct-FP8:H100-80GB-SXM:tp1:128-128"
H200_ROW = "trtllm_perf_overview:Llama-3.1-8B-Instruct-FP8:H200-141GB-SXM:tp1:128-128"


def write_pair_csv(published, work):
    """The published CSV's header and the two fit rows, under the same file name in `work`."""
    os.makedirs(os.path.join(work, "pair"))
    out = os.path.join(work, "pair", os.path.basename(published))
    with open(published, newline="") as f, open(out, "w", newline="") as g:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(g, fieldnames=reader.fieldnames)
        writer.writeheader()
        rows = [r for r in reader if r["source_id"] in (H100_ROW, H200_ROW)]
        if len(rows) != 2:
            sys.exit(f"{published}: expected the rows {H100_ROW} and {H200_ROW}, found {len(rows)}")
        writer.writerows(rows)
    return out


def predicted_pair(binary, config_dir, pair_csv, eff, work):
    profile = os.path.join(config_dir, "profiles", "h200.yaml")
    with open(profile) as f:
        text = f.read()
    text, n = re.subn(r"^gemm_eff_max: \{value: [0-9.]+,", f"gemm_eff_max: {{value: {eff:.6f},", text, flags=re.M)
    if n != 1:
        sys.exit(f"{profile}: no single 'gemm_eff_max: {{value: ...' line")
    with open(profile, "w") as f:
        f.write(text)
    out = os.path.join(work, "v.json")
    subprocess.run([binary, "validate", "--config-dir", config_dir, "--data", pair_csv, "--json", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        rows = {r["source_id"]: r for r in json.load(f)["rows"]}
    try:
        h100, h200 = rows[H100_ROW], rows[H200_ROW]
    except KeyError as e:
        sys.exit(f"{pair_csv}: row {e} not found")
    measured = h200["measured"]["throughput_output_tok_s"] / h100["measured"]["throughput_output_tok_s"]
    predicted = h200["predicted"]["throughput_output_tok_s"] / h100["predicted"]["throughput_output_tok_s"]
    return measured, predicted


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    binary, configs, shared = argv[1:]
    published = os.path.join(shared, "validation", "published", "trtllm_static.csv")
    with tempfile.TemporaryDirectory() as work:
        copy = os.path.join(work, "configs")
        shutil.copytree(configs, copy)
        pair_csv = write_pair_csv(published, work)
        lo, hi = 0.40, 0.79  # the H100 value is the upper end: the pair says H200 is not faster at this shape
        measured, at_hi = predicted_pair(binary, copy, pair_csv, hi, work)
        print(f"measured H200/H100 {measured:.4f}; predicted at gemm_eff_max {hi}: {at_hi:.4f}")
        for _ in range(10):  # 0.39 / 2^10 = 0.0004: enough for the 3 decimals shipped
            mid = (lo + hi) / 2
            _, ratio = predicted_pair(binary, copy, pair_csv, mid, work)
            if ratio > measured:
                hi = mid
            else:
                lo = mid
        eff = round((lo + hi) / 2, 3)
        _, ratio = predicted_pair(binary, copy, pair_csv, eff, work)
        print(f"gemm_eff_max {eff}: predicted H200/H100 {ratio:.4f} (measured {measured:.4f})")
        print(json.dumps({"gemm_eff_max": eff, "measured_ratio": measured, "predicted_ratio": ratio}))


if __name__ == "__main__":
    main(sys.argv)
