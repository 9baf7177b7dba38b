#!/usr/bin/env python3
"""Prints Vidur's measured per-layer linear-layer time (attn_pre_proj + attn_post_proj + mlp_up_proj +
mlp_down_proj medians, ms) for Llama-2-7B TP1 on A100 and H100 at the token counts that
build/bench/roofline_table's last table uses, for the roofline check in docs/validation.md.
Usage: python3 scripts/vidur_layer_gemm.py [SHARED_DIR]   (default ../shared)"""
import csv
import sys
from pathlib import Path

shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared")
OPS = ("attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj")
TOKENS = (1, 32, 64, 128, 256, 512, 1024, 2048)


def layer_ms(gpu):
    path = shared / "calibration/vidur/compute" / gpu / "meta-llama/Llama-2-7b-hf/mlp.csv"
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            n = int(row["num_tokens"])
            if row["num_tensor_parallel_workers"] == "1" and n in TOKENS and n not in out:
                out[n] = sum(float(row[f"time_stats.{op}.median"]) for op in OPS)
    return out


a100, h100 = layer_ms("a100"), layer_ms("h100")
print("| M tokens | A100 Vidur ms | H100 Vidur ms |\n|---|---|---|")
for n in TOKENS:
    print(f"| {n} | {a100[n]:.4f} | {h100[n]:.4f} |")
