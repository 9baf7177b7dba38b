#!/usr/bin/env bash
# First measurement against the real engine (docs/real-engines.md, "Baseline"): vllm-tgis with vLLM's
# default scheduler settings, `servetwin load --protocol tgis`, closed loop at concurrency 1,2,4,8,
# fixed 128 input / 64 output tokens, repeated --reps times; prints a markdown table of the median and
# the range over repetitions of TTFT p50, TPOT mean, ITL mean and output tok/s.
# Usage: scripts/engines/baseline.sh [--reps N (3)] [--out DIR (out/real-engines-baseline)]
#        [--servetwin BIN (build/servetwin)] [-- start.sh options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
reps=3 out="$repo/out/real-engines-baseline" bin="$repo/build/servetwin"
while (($#)); do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --servetwin) bin=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "baseline: unknown option '$1' (allowed: --reps --out --servetwin, then -- start.sh options)" >&2; exit 2 ;;
  esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "baseline: --reps needs a positive integer" >&2; exit 2; }
[[ -x $bin ]] || { echo "baseline: no servetwin binary at $bin (--servetwin)" >&2; exit 2; }
py="${SERVETWIN_ENGINES_VENV:-$repo/.venv-engines}/bin/python"
mkdir -p "$out"
trap '"$here/stop.sh" "$out/server.port.pid" >/dev/null 2>&1 || true' EXIT

"$py" "$here/make_dataset.py" --input-tokens 128 --output-tokens 64 --count 64 --seed 11 --out "$out/in128-out64.jsonl"
"$here/start.sh" vllm-tgis --port-file "$out/server.port" "$@"
for rep in $(seq "$reps"); do
  rm -rf "$out/rep$rep"
  # Each stage: one round of warm-up requests per user, then three measured rounds.
  for c in 1 2 4 8; do
    "$bin" load --target "127.0.0.1:$(cat "$out/server.port")" --protocol tgis --model-id tiny-llama \
      --dataset "$out/in128-out64.jsonl" --concurrency "$c" --warmup "$c" --requests $((3 * c)) \
      --seed "$rep" --out "$out/rep$rep/c$c" --quiet
  done
  echo "baseline: repetition $rep done (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
grep -E 'Chunked prefill|KV cache size|Maximum concurrency|non-default args|API server version' \
  "$out/server.port.log" | sed -E 's/^.*\] //' > "$out/server-settings.txt" || true

/usr/bin/python3 - "$out" "$reps" <<'PY'
import json, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
cols = [("ttft_p50_ms", "TTFT p50 ms", 1), ("tpot_mean_ms", "TPOT mean ms", 2),
        ("itl_mean_ms", "ITL mean ms", 2), ("throughput_output_tok_s", "output tok/s", 1)]
print("| concurrency | " + " | ".join(c[1] + " (median, min-max)" for c in cols) + " |")
print("|---" * (len(cols) + 1) + "|")
for c in (1, 2, 4, 8):
    runs = [json.load(open(f"{out}/rep{r}/c{c}/summary.json"))["scenarios"][0]["stages"][0]["metrics"]
            for r in range(1, reps + 1)]
    cells = []
    for key, _, nd in cols:
        v = [m[key] for m in runs]
        cells.append(f"{statistics.median(v):.{nd}f} ({min(v):.{nd}f}-{max(v):.{nd}f})")
    print(f"| {c} | " + " | ".join(cells) + " |")
PY
