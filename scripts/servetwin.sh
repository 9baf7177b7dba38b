#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), then runs servetwin with the given arguments.
# `scripts/servetwin.sh predict` runs the built-in default scenario (the seed article's Table 2 configurations).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh" --target servetwin
exec "${SERVETWIN_BUILD_DIR:-$here/build}/servetwin" "$@"
