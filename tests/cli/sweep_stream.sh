#!/usr/bin/env bash
# `servetwin sweep --out` streams sweep.jsonl / sweep.csv in grid order, and `--resume` continues an
# interrupted sweep: a torn last line is cut, finished points are kept (not recomputed), and the result
# is byte for byte the uninterrupted one. A different grid in the same directory is refused (exit 2).
# Args: <servetwin> <repo> <shared>
set -euo pipefail
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grid=(--models llama-2-7b,llama-2-13b --instances g5.2xlarge,g5.12xlarge --tp 1,4 --concurrency 2,8,16 --duration 240
      --slo "ttft_p99_ms<=3000")
"$bin" sweep "${grid[@]}" --out "$tmp/full" > "$tmp/full.txt"
n=$(wc -l < "$tmp/full/sweep.jsonl")
[[ $n -eq 18 ]] || { echo "expected 18 points (6 configurations x 3 levels), got $n" >&2; exit 1; }
# Points are in grid order.
/usr/bin/python3 - "$tmp/full/sweep.jsonl" <<'PY'
import json, sys
pts = [json.loads(l)["point"] for l in open(sys.argv[1])]
assert pts == list(range(len(pts))), pts
PY
[[ $(wc -l < "$tmp/full/sweep.csv") -eq 19 ]] || { echo "sweep.csv: expected header + 18 rows" >&2; exit 1; }

# Interrupted after 7 points, in the middle of the 8th line and of a CSV row.
mkdir "$tmp/part"
cp "$tmp/full/sweep.grid.json" "$tmp/part/"
head -n 7 "$tmp/full/sweep.jsonl" > "$tmp/part/sweep.jsonl"
sed -n 8p "$tmp/full/sweep.jsonl" | head -c 100 >> "$tmp/part/sweep.jsonl"
head -n 5 "$tmp/full/sweep.csv" > "$tmp/part/sweep.csv"
# A marker in a kept point proves it is not simulated again: its value must survive the resume.
/usr/bin/python3 - "$tmp/part/sweep.jsonl" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
lines[2] = lines[2].replace('"tp":', '"marker":1,"tp":', 1)
open(p, "w").write("\n".join(lines))
PY
"$bin" sweep "${grid[@]}" --out "$tmp/part" --resume > /dev/null
grep -q '"marker":1' "$tmp/part/sweep.jsonl" || { echo "resume recomputed a finished point" >&2; exit 1; }
sed -i 's/"marker":1,//' "$tmp/part/sweep.jsonl"
cmp "$tmp/full/sweep.jsonl" "$tmp/part/sweep.jsonl" || { echo "resumed sweep.jsonl differs" >&2; exit 1; }
"$bin" sweep "${grid[@]}" --out "$tmp/part" --resume > "$tmp/part.txt"  # all done: nothing to simulate
for f in sweep.jsonl sweep.csv sweep.json; do
  cmp "$tmp/full/$f" "$tmp/part/$f" || { echo "resumed $f differs from the uninterrupted run" >&2; exit 1; }
done
cmp "$tmp/full.txt" "$tmp/part.txt" || { echo "resumed table differs" >&2; exit 1; }

# Killed for real, then resumed: the same bytes.
"$bin" sweep "${grid[@]}" --jobs 1 --out "$tmp/killed" > /dev/null &
pid=$!
for _ in $(seq 500); do  # kill as soon as a couple of points are on disk
  [[ -f "$tmp/killed/sweep.jsonl" && $(wc -l < "$tmp/killed/sweep.jsonl") -ge 2 ]] && break
  sleep 0.005
done
kill -9 "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
echo "killed run left $(wc -l < "$tmp/killed/sweep.jsonl") of 18 lines"
"$bin" sweep "${grid[@]}" --out "$tmp/killed" --resume > /dev/null
for f in sweep.jsonl sweep.csv sweep.json; do
  cmp "$tmp/full/$f" "$tmp/killed/$f" || { echo "killed+resumed $f differs" >&2; exit 1; }
done

set +e
"$bin" sweep --models llama-2-7b --instances g5.2xlarge --concurrency 2 --duration 30 --out "$tmp/full" --resume \
  > /dev/null 2> "$tmp/err"
rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "resume of a different grid: exit $rc, expected 2" >&2; exit 1; }
grep -q "different sweep" "$tmp/err" || { echo "no clear message for a different grid" >&2; cat "$tmp/err" >&2; exit 1; }

# A torn grid file (a crash while writing it, or an edit) is bad input to --resume: exit 2 naming the file.
printf '{"models": [' > "$tmp/killed/sweep.grid.json"
set +e
"$bin" sweep "${grid[@]}" --out "$tmp/killed" --resume > /dev/null 2> "$tmp/err"
rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "resume with a torn sweep.grid.json: exit $rc, expected 2" >&2; cat "$tmp/err" >&2; exit 1; }
grep -q "sweep.grid.json is not valid JSON" "$tmp/err" || { echo "no clear message for a torn grid" >&2; cat "$tmp/err" >&2; exit 1; }
echo "sweep stream/resume: ok"
