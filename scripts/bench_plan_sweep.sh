#!/usr/bin/env bash
# Issue 19's bars, measured: `plan` over ~1,000 candidates (max-rate search each), a large `sweep`
# (wall time and peak RSS at two grid sizes: memory must not grow with the grid), and the mpirun -np 2
# speed-up over one rank (same run, same machine). Each run is repeated; medians and min-max printed.
# Usage: scripts/bench_plan_sweep.sh [BUILD_DIR] (env: REPEATS=3, SWEEP_LEVELS=1725 -> ~100k points)
# The machine is shared: read the CPU seconds (user+sys) next to the wall times.
set -euo pipefail
build=${1:-build}
bin=$(realpath "$build/servetwin")
repeats=${REPEATS:-3}
sweep_levels=${SWEEP_LEVELS:-1725}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

# measure NAME CMD...: appends "wall cpu rss_kb" of one run to $tmp/NAME
measure() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" > /dev/null 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$tmp/t" >> "$tmp/$name"
}
# summary NAME: median (min-max) of wall, cpu and rss over the runs
summary() {
  /usr/bin/python3 - "$tmp/$1" "$1" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
def col(i): v = [r[i] for r in rows]; return f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
print(f"| {sys.argv[2]} | {len(rows)} | {col(0)} | {col(1)} | {statistics.median(r[2] for r in rows) / 1024:.0f} |")
PY
}

# 2 models x 8 (instance, TP) pairs x 8 max_batch_size x 8 max_waiting_tokens = 1,024 candidates.
plan=(plan --models llama-2-7b,llama-2-13b --instances g5.2xlarge,g5.12xlarge,g5.48xlarge
      --engine-range max_batch_size=4,8,12,16,24,32,48,64 --engine-range max_waiting_tokens=4,8,12,16,24,32,48,64
      --input-tokens 512 --output-tokens 128 --duration 60 --rate 20 --slo "ttft_p99_ms<=2000,tpot_mean_ms<=60" --json)
# 4 models x 5 instances x TP 1,2,4,8 -> 58 runnable configurations x SWEEP_LEVELS open-loop rates, 30 s each.
rates=$(/usr/bin/python3 -c "print(','.join(f'{0.005 * (i + 1):g}' for i in range($sweep_levels)))")
rates10=$(/usr/bin/python3 -c "print(','.join(f'{0.005 * (i + 1):g}' for i in range(max(1, $sweep_levels // 10))))")
sweep=(sweep --models llama-2-7b,llama-2-13b,qwen2.5-7b,yi-34b --instances g5.2xlarge,g5.12xlarge,g6e.12xlarge,p4d.24xlarge,p5.48xlarge
       --tp 1,2,4,8 --duration 30 --slo "ttft_p99_ms<=2000")
for ((r = 0; r < repeats; ++r)); do
  measure plan_1024_jobs2 "$bin" "${plan[@]}" --jobs 2
  measure plan_1024_np1_jobs1 "${mpi[@]}" -np 1 "$bin" "${plan[@]}" --jobs 1
  measure plan_1024_np2_jobs1 "${mpi[@]}" -np 2 "$bin" "${plan[@]}" --jobs 1
  rm -rf "$tmp/s"
  measure sweep_small_jobs2 "$bin" "${sweep[@]}" --rate "$rates10" --jobs 2 --out "$tmp/s"
  rm -rf "$tmp/s"
  measure sweep_large_jobs2 "$bin" "${sweep[@]}" --rate "$rates" --jobs 2 --out "$tmp/s"
done
echo "points in the large sweep: $(wc -l < "$tmp/s/sweep.jsonl")"
echo "| run | n | wall s median (min-max) | CPU s median (min-max) | peak RSS MB |"
echo "|---|---|---|---|---|"
for n in plan_1024_jobs2 plan_1024_np1_jobs1 plan_1024_np2_jobs1 sweep_small_jobs2 sweep_large_jobs2; do summary "$n"; done
/usr/bin/python3 - "$tmp/plan_1024_np1_jobs1" "$tmp/plan_1024_np2_jobs1" <<'PY'
import statistics, sys
one = [float(l.split()[0]) for l in open(sys.argv[1])]
two = [float(l.split()[0]) for l in open(sys.argv[2])]
ratios = [a / b for a, b in zip(one, two)]
print(f"mpirun -np 2 speed-up over -np 1 (paired runs): median {statistics.median(ratios):.2f}x, "
      f"range {min(ratios):.2f}-{max(ratios):.2f}x")
PY
