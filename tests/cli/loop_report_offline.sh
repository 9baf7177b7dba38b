#!/usr/bin/env bash
# Offline checks (no engine) of the real-engine loop's scoring: the knee's minimum sample count per
# percentile and the server-drift record of scripts/engines/loop_stats.py / loop_report.py
# (docs/real-engines.md, "Knee" and "Server drift"), on synthetic recorded runs.
# Usage (ctest): bash loop_report_offline.sh <servetwin-binary> <repo-dir> [shared-dir]
set -euo pipefail
repo=$2
exec /usr/bin/python3 "$repo/tests/cli/loop_report_check.py" "$repo"
