#!/usr/bin/env bash
# `mpirun -np 2 servetwin sweep|plan` on loopback writes the same bytes as one process (issue 19).
# Exit 77 (skipped) when mpirun is missing or the binary was built without MPI.
# Args: <servetwin> <repo> <shared>
set -euo pipefail
bin=$(realpath "$1")
command -v mpirun > /dev/null || { echo "no mpirun: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI containers run as root
mpi=(mpirun --oversubscribe -np 2 --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)

sweep=(sweep --models llama-2-7b,llama-2-13b --instances g5.2xlarge,g5.12xlarge --tp 1,2,4 --concurrency 2,8,16
       --duration 120 --slo "ttft_p99_ms<=3000")
"$bin" "${sweep[@]}" --out "$tmp/one" > "$tmp/one.txt"
timeout 300 "${mpi[@]}" "$bin" "${sweep[@]}" --out "$tmp/two" > "$tmp/two.txt" 2> "$tmp/two.err" || { cat "$tmp/two.err" >&2; exit 1; }
grep -q "2 MPI ranks" "$tmp/two.err" || { echo "binary built without MPI: skipped"; exit 77; }
for f in sweep.jsonl sweep.csv sweep.json; do
  cmp "$tmp/one/$f" "$tmp/two/$f" || { echo "mpirun -np 2 sweep: $f differs" >&2; exit 1; }
done
cmp "$tmp/one.txt" "$tmp/two.txt" || { echo "mpirun -np 2 sweep: table differs" >&2; exit 1; }

plan=(plan --models llama-2-7b,llama-2-13b --instances g5.2xlarge,g5.12xlarge --input-tokens 512 --output-tokens 128
      --duration 60 --rate 5 --slo "ttft_p99_ms<=2000,tpot_mean_ms<=60" --engine-range max_batch_size=8,16,32 --json)
"$bin" "${plan[@]}" > "$tmp/plan1.json"
timeout 300 "${mpi[@]}" "$bin" "${plan[@]}" > "$tmp/plan2.json" 2> "$tmp/plan2.err" || { cat "$tmp/plan2.err" >&2; exit 1; }
cmp "$tmp/plan1.json" "$tmp/plan2.json" || { echo "mpirun -np 2 plan: output differs" >&2; exit 1; }
echo "mpirun -np 2: sweep and plan outputs identical to one process"
