#!/usr/bin/env bash
# Executes notebooks/planning.ipynb headless: it runs `servetwin plan` and draws the two Pareto fronts
# with the recommended point; checks the PNGs exist and are non-empty and the front CSVs mark one
# recommended point. Usage (ctest): bash plan_notebook.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$(realpath "$1") repo=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PYDEVD_DISABLE_FILE_VALIDATION=1 SERVETWIN_BIN="$bin" SERVETWIN_NB_OUT="$tmp" \
  /usr/bin/jupyter nbconvert --to notebook --execute "$repo/notebooks/planning.ipynb" \
  --output-dir "$tmp" --output executed.ipynb > "$tmp/nbconvert.log" 2>&1 || { cat "$tmp/nbconvert.log"; exit 1; }
for png in pareto_throughput.png pareto_cost.png; do
  [[ -s "$tmp/$png" ]] || { echo "missing or empty PNG $png" >&2; ls -la "$tmp" >&2; exit 1; }
done
for f in pareto_throughput.csv pareto_cost.csv; do
  n=$(awk -F, 'NR > 1 && $NF == 1' "$tmp/plan/$f" | wc -l)
  [[ $n -eq 1 ]] || { echo "$f: $n recommended points, expected 1" >&2; exit 1; }
done
echo "planning notebook: OK"
