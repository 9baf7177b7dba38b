#!/usr/bin/env bash
# Regenerates the residual table prediction intervals are drawn from (configs/validation/interval_residuals.csv)
# from the visible published sources: `servetwin validate` over every CSV, writing each scored row's
# ln(predicted/measured) per metric with its regime. Run it after any change that moves predictions; the test
# cli.interval_table checks the shipped table equals a regeneration. About 20 s on 2 cores.
# Usage: scripts/update-intervals.sh [servetwin-binary] [published-dir]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/build/servetwin}
published=${2:-$repo/../shared/validation/published}
"$bin" validate --data "$published"/*.csv --config-dir "$repo/configs" \
  --write-intervals "$repo/configs/validation/interval_residuals.csv" > /dev/null
echo "wrote $repo/configs/validation/interval_residuals.csv"
