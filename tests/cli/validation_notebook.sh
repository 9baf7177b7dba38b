#!/bin/bash
# Runs `servetwin validate` on the published DistServe and BLIS CSVs, generates the validation doc
# into a temp dir, and executes notebooks/validation.ipynb headless, checking it wrote its PNGs.
# Usage (ctest): bash validation_notebook.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1 repo=$2 shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" validate --data "$shared/validation/published/distserve_vllm_a100.csv" \
  --data "$shared/validation/published/splitwise_static.csv" --json "$tmp/report.json" > "$tmp/console.txt"
/usr/bin/python3 "$repo/scripts/gen_validation_doc.py" "$tmp/report.json" "$tmp/validation.md"
grep -q "## Error per source and metric" "$tmp/validation.md"
grep -q "distserve_vllm_a100.csv" "$tmp/validation.md"
export SERVETWIN_VALIDATION_JSON="$tmp/report.json" SERVETWIN_PNG_DIR="$tmp/png" PYDEVD_DISABLE_FILE_VALIDATION=1
/usr/bin/jupyter nbconvert --to notebook --execute "$repo/notebooks/validation.ipynb" \
  --output-dir "$tmp" --output executed.ipynb > "$tmp/nbconvert.log" 2>&1 || { cat "$tmp/nbconvert.log"; exit 1; }
for png in distserve_vllm_a100.png splitwise_static.png distserve_sweep.png; do
  [[ -s "$tmp/png/$png" ]] || { echo "missing PNG $png"; ls -la "$tmp/png"; exit 1; }
done
echo "validation notebook: OK"
