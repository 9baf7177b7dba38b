#!/usr/bin/env bash
# The S1/S2 trace shape of issue 17 (Llama-2-7B on A100-80GB, vLLM 0.15, max_num_seqs 128, 2,048-token
# budget, 512 in / 128 out) under Poisson load at several rates: prints each rate's output tok/s, TTFT p50,
# ITL and mean batch, for the roofline check in docs/validation.md. Traces: 3,000 requests per rate,
# written like examples/make_trace.py (Python's random.Random(42)).
# Usage: scripts/s1_rate_sweep.sh [SERVETWIN] [CONFIG_DIR] [RATES...]
set -euo pipefail
bin=${1:-build/servetwin}
config_dir=${2:-configs}
shift $(( $# > 2 ? 2 : $# ))
rates=("${@:-10 14 15 16 18 20}")
read -r -a rates <<<"${rates[*]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "rate req/s | out tok/s | ttft p50 ms | itl ms | mean batch"
for rate in "${rates[@]}"; do
  python3 - "$rate" >"$work/p$rate.csv" <<'PY'
import random, sys
rng = random.Random(42)
t = 0.0
print("arrived_at,num_prefill_tokens,num_decode_tokens")
for _ in range(3000):
    t += rng.expovariate(float(sys.argv[1]))
    print(f"{t:.6f},512,128")
PY
  "$bin" predict --config-dir "$config_dir" --model meta-llama/Llama-2-7b-hf --gpu A100-80GB-SXM --engine vllm-0.15 \
    --engine-set max_num_seqs=128 --engine-set max_num_batched_tokens=2048 --trace "$work/p$rate.csv" |
    tail -1 | awk -v r="$rate" '{printf "%s | %s | %s | %s | %s\n", r, $2, $3, $6, $9}'
done
