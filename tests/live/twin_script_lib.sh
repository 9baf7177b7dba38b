# Sourced by the shell tests that start twins (serve_cli.sh, tests/cli/predict_load_parity.sh): a temp
# dir, the servers' cleanup, failure, starting a twin and exit-2 checks. Needs $bin (and $deploy for
# start_twin); $twin_run_for (default 60s) bounds each twin's life.
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Starts a twin in the background; its port ends up in $tmp/$1.port.
start_twin() {
  local name=$1; shift
  "$bin" serve --listen 127.0.0.1:0 --port-file "$tmp/$name.port" "${deploy[@]}" --run-for "${twin_run_for:-60s}" "$@" \
    > "$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [[ -s "$tmp/$name.port" ]] && break; sleep 0.1; done
  [[ -s "$tmp/$name.port" ]] || { cat "$tmp/$name.log"; fail "$name did not start"; }
}

# Runs a command that must exit 2 with a message matching $1.
expect_exit2() {
  local pattern=$1; shift
  local rc=0
  timeout 20 "$@" > "$tmp/out.txt" 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || { cat "$tmp/out.txt"; fail "exit $rc (want 2): $*"; }
  grep -q -- "$pattern" "$tmp/out.txt" || { cat "$tmp/out.txt"; fail "no '$pattern' in the error of: $*"; }
}
