#!/usr/bin/env bash
# Layering: fails on any include that points up or sideways between the rooms of the tree (issue 18).
#
# The order inside sim/, lowest first, as the code uses it (a room may include its own files and any
# room of a LOWER rank; rooms of equal rank are independent of each other):
#   0 core            event queue, time, RNG, event priorities: no LLM types
#     version         the generated sim/version.hpp (a leaf: tool name, version, git SHA)
#   1 catalog         strict YAML catalogs (models, GPUs, engines, ...): plain specs, no simulation
#     kv              KV-cache accounting (KvLedger, memory budget): units, not engines
#     metrics         request records, per-stage metrics, summaries: what a run reports
#   2 cost            per-step cost model: needs the catalog's model/GPU/profile specs
#   3 engine          engine models (scheduler + KV + cost) behind ServingSim: built from catalog names
#     workload        arrivals, datasets, traces: request shapes, blind to engines
#   4 scenario        a run: deployment + workload + load stages driving an engine
#   5 interval        prediction intervals: a stage's regime (deployment + load shape) and the residual table
#   6 formats         run files in and out (servetwin load directories, vLLM bench, GuideLLM, llm-d,
#                     llm-load-test): records and summaries, no verdicts
#     plan            capacity search, replica routing, streaming sweeps: runs scenarios, intervals on probes
#   7 validate        predictions against published or live measurements: runs scenarios, reads formats
#   8 cli, bench      the verbs and benchmarks: the top
# Outside sim/: sim/ never includes calibrate/ or live/ (they depend on sim/, which builds with
# neither CUDA nor gRPC); calibrate/ never includes live/ (calibration runs without gRPC).
# A new room under sim/ must be given a rank here, or this test fails and says so.
# Args: <servetwin> <repo> <shared> (only <repo> is used)
set -euo pipefail
repo="$2"

rank_of() {
  case "$1" in
    core | version) echo 0 ;;
    catalog | kv | metrics) echo 1 ;;
    cost) echo 2 ;;
    engine | workload) echo 3 ;;
    scenario) echo 4 ;;
    interval) echo 5 ;;
    formats | plan) echo 6 ;;
    validate) echo 7 ;;
    cli | bench) echo 8 ;;
    *) echo "" ;;
  esac
}

# The room of a path under sim/: its first directory, or "version" for the generated header.
room_of() {
  local rest="${1#sim/}"
  if [[ "$rest" == version.hpp* ]]; then echo version; else echo "${rest%%/*}"; fi
}

# Prints one line per back-arrow found under root $1; returns the number found (capped at 255).
check_tree() {
  local root="$1" bad=0 file rel top from to line inc
  while IFS= read -r file; do
    rel="${file#"$root"/}"
    top="${rel%%/*}"
    [[ "$top" == sim && "$rel" == */*/* ]] || [[ "$top" == calibrate ]] || continue
    from=""
    if [[ "$top" == sim ]]; then
      from=$(room_of "$rel")
      if [[ -z "$(rank_of "$from")" ]]; then
        echo "$rel: room sim/$from has no rank in tests/cli/layering.sh; give it one (and the reason)"
        bad=$((bad + 1))
        continue
      fi
    fi
    while IFS= read -r line; do
      inc="${line#*\"}"
      inc="${inc%%\"*}"
      case "$top:${inc%%/*}" in
        sim:calibrate | sim:live | calibrate:live)
          echo "$rel includes $inc: $top/ must not depend on ${inc%%/*}/"
          bad=$((bad + 1))
          ;;
        sim:sim)
          to=$(room_of "$inc")
          if [[ "$to" != "$from" ]]; then
            if [[ -z "$(rank_of "$to")" ]]; then
              echo "$rel includes $inc: room sim/$to has no rank in tests/cli/layering.sh"
              bad=$((bad + 1))
            elif (($(rank_of "$to") >= $(rank_of "$from"))); then
              echo "$rel includes $inc: sim/$from (rank $(rank_of "$from")) may not include sim/$to (rank $(rank_of "$to"))"
              bad=$((bad + 1))
            fi
          fi
          ;;
      esac
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
  done < <(find "$root/sim" "$root/calibrate" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.cu' \
    -o -name '*.cuh' -o -name '*.h' \) 2> /dev/null | LC_ALL=C sort)
  return $((bad > 255 ? 255 : bad))
}

# First prove the checker can fail: a tree with one back-arrow of each kind must yield exactly those.
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake"/sim/{core,engine,kv,scenario,newroom} "$fake"/calibrate/fit
printf '#include "sim/engine/engine_base.hpp"\n' > "$fake/sim/core/up.hpp"                 # up
printf '#include "sim/scenario/deployment.hpp"\n' > "$fake/sim/engine/serving_sim.hpp"     # up (the old one)
printf '#include "sim/catalog/catalog.hpp"\n' > "$fake/sim/kv/sideways.hpp"                # same rank
printf '#include "live/twin/twin_server.hpp"\n' > "$fake/sim/scenario/live.cpp"            # sim -> live
printf '#include "live/load/runner.hpp"\n' > "$fake/calibrate/fit/live.cpp"                # calibrate -> live
printf '#include "sim/core/time.hpp"\n' > "$fake/sim/newroom/x.hpp"                        # unranked room
printf '#include "sim/core/time.hpp"\n#include "sim/version.hpp"\n#include <vector>\n' \
  > "$fake/sim/engine/ok.cpp"                                                              # allowed
printf '#include "sim/engine/serving_sim.hpp"\n#include "sim/scenario/x.hpp"\n' \
  > "$fake/sim/scenario/ok.cpp"                                                            # allowed
# expect ROOT N WHAT: fails unless check_tree finds exactly N back-arrows under ROOT.
expect() {
  local report found
  set +e
  report=$(check_tree "$1")
  found=$?
  set -e
  if [[ "$found" -ne "$2" ]]; then
    echo "FAIL: $3: found $found back-arrow(s), expected $2 (the order is at the top of tests/cli/layering.sh):" >&2
    echo "$report" >&2
    exit 1
  fi
}
expect "$fake" 6 "the checker on a tree with one back-arrow of each kind"
expect "$repo" 0 "the source tree"
echo "layering: no back-arrows in sim/ and calibrate/"
