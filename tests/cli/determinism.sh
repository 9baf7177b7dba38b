#!/usr/bin/env bash
# Same seed, same bytes: two runs of the same command produce identical summary.json and requests.csv;
# a different seed produces a different requests.csv. Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(predict --model llama-2-7b --instance g5.12xlarge --concurrency 1,8 --duration 60 --jobs 2)
"$bin" "${args[@]}" --out "$tmp/a" > /dev/null 2>&1
"$bin" "${args[@]}" --out "$tmp/b" > /dev/null 2>&1
cmp "$tmp/a/summary.json" "$tmp/b/summary.json"
cmp "$tmp/a/requests.csv" "$tmp/b/requests.csv"
"$bin" "${args[@]}" --seed 7 --out "$tmp/c" > /dev/null 2>&1
if cmp -s "$tmp/a/requests.csv" "$tmp/c/requests.csv"; then
  echo "FAIL: seed 7 produced the same requests as seed 42" >&2
  exit 1
fi
# Open loop with gamma arrivals and 2 worker threads vs 1: same bytes.
"$bin" predict --model llama-2-7b --instance g5.12xlarge --rate 1,2 --arrival gamma:2 --duration 30 --jobs 1 --out "$tmp/d" > /dev/null 2>&1
"$bin" predict --model llama-2-7b --instance g5.12xlarge --rate 1,2 --arrival gamma:2 --duration 30 --jobs 2 --out "$tmp/e" > /dev/null 2>&1
cmp "$tmp/d/requests.csv" "$tmp/e/requests.csv"
cmp "$tmp/d/summary.json" "$tmp/e/summary.json"
echo "determinism: identical bytes across runs and thread counts"
