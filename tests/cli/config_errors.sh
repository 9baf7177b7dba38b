#!/usr/bin/env bash
# A corrupted catalog must make `servetwin list gpus` exit 2 with a message naming file, line and key.
# Usage: config_errors.sh <servetwin-binary> <repo-dir> <shared-dir>
set -euo pipefail
bin=$1
repo=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_error <config-dir> <substring>...: runs `list gpus`, wants exit 2 and every substring in stderr.
expect_error() {
  local dir=$1
  shift
  local rc=0
  SERVETWIN_CONFIG_DIR="$dir" "$bin" list gpus >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "$dir: exit $rc, want 2 (stderr: $(cat "$tmp/err"))"
  for want in "$@"; do
    grep -qF -- "$want" "$tmp/err" || fail "$dir: stderr lacks '$want': $(cat "$tmp/err")"
  done
}

fresh_copy() {
  rm -rf "$tmp/$1"
  cp -r "$repo/configs" "$tmp/$1"
  chmod -R u+w "$tmp/$1"
}

# 0. The untouched copy loads (so the failures below come from the corruption, not the copy).
fresh_copy ok
rc=0
SERVETWIN_CONFIG_DIR="$tmp/ok" "$bin" list gpus >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 0 ]] || fail "clean copy: exit $rc: $(cat "$tmp/err")"
grep -q '^A10G ' "$tmp/out" || fail "clean copy: no A10G row in: $(cat "$tmp/out")"

# 1. Unknown key in a GPU file.
fresh_copy unknown
f="$tmp/unknown/gpus/a10g.yaml"
sed -i 's/^vendor: nvidia$/vendor: nvidia\ncolour: green/' "$f"
line=$(grep -n '^colour:' "$f" | cut -d: -f1)
[[ -n $line ]] || fail "could not corrupt $f"
expect_error "$tmp/unknown" "gpus/a10g.yaml:$line: key 'colour': unknown key" "allowed: kind, name, aliases"

# 2. Negative bandwidth in an interconnect (first all-reduce point).
fresh_copy negative_ic
f="$tmp/negative_ic/interconnects/pcie4-g5.yaml"
sed -i '0,/bus_bw_bytes_s: {value: /s//bus_bw_bytes_s: {value: -/' "$f"
line=$(grep -n 'bus_bw_bytes_s: {value: -' "$f" | head -1 | cut -d: -f1)
[[ -n $line ]] || fail "could not corrupt $f"
expect_error "$tmp/negative_ic" "interconnects/pcie4-g5.yaml:$line: key 'allreduce[0].bus_bw_bytes_s.value'" \
  "out of range; allowed: > 0"

# 3. Negative memory bandwidth in a GPU file.
fresh_copy negative_gpu
f="$tmp/negative_gpu/gpus/h100-sxm.yaml"
sed -i 's/^mem_bw_bytes_s: {value: /mem_bw_bytes_s: {value: -/' "$f"
line=$(grep -n '^mem_bw_bytes_s:' "$f" | cut -d: -f1)
expect_error "$tmp/negative_gpu" "gpus/h100-sxm.yaml:$line: key 'mem_bw_bytes_s.value'" "out of range"

# 4. A number without a source.
fresh_copy nosource
f="$tmp/nosource/gpus/l4.yaml"
sed -i 's/^sm_count: .*/sm_count: 58/' "$f"
line=$(grep -n '^sm_count:' "$f" | cut -d: -f1)
expect_error "$tmp/nosource" "gpus/l4.yaml:$line: key 'sm_count': number without source"

# 5. --config-dir takes precedence over the environment and reports the same way.
rc=0
SERVETWIN_CONFIG_DIR="$tmp/ok" "$bin" list gpus --config-dir "$tmp/unknown" >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "--config-dir: exit $rc, want 2"
grep -qF "key 'colour'" "$tmp/err" || fail "--config-dir: stderr lacks key 'colour': $(cat "$tmp/err")"

if ((failures > 0)); then
  echo "config_errors: $failures failure(s)" >&2
  exit 1
fi
echo "config_errors: ok"
