# Shared by the engines tests (sourced, not a test itself): venv checks, server start/stop with a trap.
# Sets: repo, venv, py (the engines venv's python), tmp (removed on exit), server_pid_file.
# SERVETWIN_ENGINES=0 skips every engines test (exit 77, ctest's SKIP_RETURN_CODE); otherwise a
# missing venv is a failure: the test command installs it (scripts/engines/setup.sh).
repo=$2
venv="${SERVETWIN_ENGINES_VENV:-$repo/.venv-engines}"
py="$venv/bin/python"
if [[ ${SERVETWIN_ENGINES:-1} == 0 ]]; then
  echo "SERVETWIN_ENGINES=0: engines tests skipped"
  exit 77
fi
[[ -x $py ]] || { echo "FAIL: no engines venv at $venv: run scripts/engines/setup.sh (or SERVETWIN_ENGINES=0 to skip)"; exit 1; }
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # nothing from a hub, also in the checks' own python
tmp=$(mktemp -d)
server_pid_file=
cleanup() {
  [[ -n $server_pid_file ]] && "$repo/scripts/engines/stop.sh" "$server_pid_file" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# start_engine ENGINE PORT_FILE [start.sh options]: starts it, remembers its PID file for the trap.
start_engine() {
  local engine=$1 port_file=$2
  shift 2
  server_pid_file=$port_file.pid
  local t0=$SECONDS
  "$repo/scripts/engines/start.sh" "$engine" --port-file "$port_file" "$@" || fail "start.sh $engine"
  echo "$engine ready after $((SECONDS - t0)) s"
}
