#!/usr/bin/env bash
# Stops a server started by start.sh: SIGTERM to its process group (the API server and its engine-core
# child), then SIGKILL to whatever is left after a grace period. For caikit, then also the TGIS adapter
# it forwards to (named in PID_FILE.chain). Safe to call twice.
# Usage: scripts/engines/stop.sh PID_FILE [GRACE_S (default 20)]
# Exit 0 when nothing of it runs any more (or it was not running); 2 on bad usage.
set -euo pipefail
pid_file=${1:-}
grace_s=${2:-20}
[[ -n $pid_file ]] || { echo "engines/stop: usage: stop.sh PID_FILE [GRACE_S]" >&2; exit 2; }

# The group start.sh made with setsid has the server's PID as its ID; a recycled PID that leads no
# such group (or is not an engine server) is left alone.
stop_group() {
  local pid=$1
  pgrep -g "$pid" >/dev/null || return 0
  # (No `tr | grep -q` here: under pipefail, tr's SIGPIPE after grep's early exit reads as "no match".)
  local cmdline
  cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || cmdline=
  if [[ -n $cmdline && $cmdline != *vllm* && $cmdline != *caikit* ]]; then
    echo "engines/stop: PID $pid is not an engine server any more; not touching it" >&2
    return 0
  fi
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq $((grace_s * 10))); do
    pgrep -g "$pid" >/dev/null || return 0
    sleep 0.1
  done
  echo "engines/stop: process group $pid still running after ${grace_s} s; sending SIGKILL" >&2
  kill -KILL -- "-$pid" 2>/dev/null || true
  sleep 0.5
}

if [[ -f $pid_file ]]; then
  pid=$(cat "$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || { echo "engines/stop: $pid_file does not hold a PID" >&2; exit 2; }
  stop_group "$pid"
  rm -f "$pid_file"
else
  echo "engines/stop: no PID file $pid_file (nothing to stop)" >&2
fi
if [[ -f $pid_file.chain ]]; then
  chained=$(cat "$pid_file.chain")
  rm -f "$pid_file.chain"
  "$0" "$chained" "$grace_s"
fi
