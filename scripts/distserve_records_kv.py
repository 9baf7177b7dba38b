#!/usr/bin/env python3
"""KV cache the real vLLM held in DistServe's per-request records (a diagnostic, fits nothing).

For each run file (../shared/validation/distserve/opt-13b-sharegpt/vllm-*.exp): the most requests decoding
at once (between their first token and completion) and the most KV blocks they held at once, counting each
request's prompt plus the tokens generated so far (interpolated linearly between its first token and its
completion) in blocks of 16 tokens. A request still in its prefill is counted from 0.2 s before its first
token with its whole prompt (an upper bound). Used by docs/validation.md, "DistServe TTFT above the knee".

Usage: scripts/distserve_records_kv.py FILE.exp [FILE.exp ...]
"""
import ast
import math
import os
import sys

BLOCK_TOKENS = 16  # vllm-0.2-distserve block_size (DistServe launcher --block-size 16)
PREFILL_LEAD_S = 0.2  # a prefill of up to 2,048 OPT-13B tokens on an A100 is shorter than this


def load_records(path):
    with open(path) as f:
        first_line = f.readline()
    try:
        return ast.literal_eval(first_line)
    except (SyntaxError, ValueError) as e:
        sys.exit(f"{path}: line 1 is not a list of request records ({e})")


def held_blocks(r, t):
    if t < r["first_token_time"]:
        generated = 0.0
    else:
        span = max(1e-9, r["complete_time"] - r["first_token_time"])
        generated = 1 + (t - r["first_token_time"]) / span * (r["output_len"] - 1)
    return math.ceil((r["prompt_len"] + generated) / BLOCK_TOKENS)


def peaks(recs):
    times = sorted({r["first_token_time"] for r in recs} | {r["complete_time"] - 1e-6 for r in recs})
    max_decoding = max_blocks = 0
    for t in times:
        decoding = sum(1 for r in recs if r["first_token_time"] <= t < r["complete_time"])
        blocks = sum(held_blocks(r, t) for r in recs if r["first_token_time"] - PREFILL_LEAD_S <= t < r["complete_time"])
        max_decoding = max(max_decoding, decoding)
        max_blocks = max(max_blocks, blocks)
    return max_decoding, max_blocks


def main(paths):
    if not paths:
        sys.exit(__doc__)
    print("| run | requests | most decoding at once | most KV blocks held at once |")
    print("|---|---:|---:|---:|")
    for p in paths:
        recs = load_records(p)
        d, b = peaks(recs)
        print(f"| {os.path.basename(p)} | {len(recs)} | {d} | {b} |")


if __name__ == "__main__":
    main(sys.argv[1:])
