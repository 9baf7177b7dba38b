#!/usr/bin/env bash
# Executes notebooks/seed_article.ipynb headless: it runs `servetwin predict` on the default scenario
# and draws the seed article's figures and cost table; checks the PNGs exist and are non-empty.
# Usage (ctest): bash seed_notebook.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$(realpath "$1") repo=$(realpath "$2") shared=${3:-}
[[ -z "$shared" ]] || shared=$(realpath "$shared")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PYDEVD_DISABLE_FILE_VALIDATION=1 SERVETWIN_BIN="$bin" SERVETWIN_NB_OUT="$tmp" SERVETWIN_SHARED="$shared" \
  /usr/bin/jupyter nbconvert --to notebook --execute "$repo/notebooks/seed_article.ipynb" \
  --output-dir "$tmp" --output executed.ipynb > "$tmp/nbconvert.log" 2>&1 || { cat "$tmp/nbconvert.log"; exit 1; }
for png in latency_vs_concurrency.png throughput_vs_concurrency.png request_latency_over_time.png cost_table_c10.png; do
  [[ -s "$tmp/$png" ]] || { echo "missing or empty PNG $png" >&2; ls -la "$tmp" >&2; exit 1; }
done
[[ -s "$tmp/cost_table_c10.csv" ]] || { echo "missing cost_table_c10.csv" >&2; exit 1; }
# Six configurations in the cost table (header + 6 rows).
rows=$(wc -l < "$tmp/cost_table_c10.csv")
[[ $rows -eq 7 ]] || { echo "cost table has $((rows - 1)) rows, expected 6" >&2; cat "$tmp/cost_table_c10.csv" >&2; exit 1; }
echo "seed notebook: OK"
