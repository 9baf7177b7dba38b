#!/usr/bin/env bash
# Issue 18 bar: `servetwin calibrate run --model meta-llama/Llama-2-7b-hf` works (it said "unknown model"
# while predict accepted the id). The CPU run benchmarks that model's GEMM shapes from the catalog
# (configs/models/llama-2-7b.yaml: hidden 4096, intermediate 11008); --quick --m-max 1 keeps it short.
set -euo pipefail
bin="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" calibrate run --device cpu --model meta-llama/Llama-2-7b-hf --quick --m-max 1 --out "$tmp/r.json"
python3 - "$tmp/r.json" <<'PY'
import json
import sys

d = json.load(open(sys.argv[1]))
assert d["model"] == "meta-llama/Llama-2-7b-hf", d["model"]
gemm = d["gemm"]
assert gemm, "no GEMM points"
assert all(g["model"] == "meta-llama/Llama-2-7b-hf" for g in gemm), "a GEMM point of another model"
shapes = {(int(g["k"]), int(g["n"])) for g in gemm}
# The MLP's down projection reads the intermediate size: K = 11008, N = 4096 (Llama-2-7B config.json).
assert (11008, 4096) in shapes, f"no 11008 x 4096 GEMM among {sorted(shapes)}"
assert all(k in (4096, 11008) for k, _ in shapes), f"a GEMM K outside the model's shapes: {sorted(shapes)}"
print(f"calibrate run --model meta-llama/Llama-2-7b-hf: {len(gemm)} GEMM points, shapes {sorted(shapes)}")
PY
