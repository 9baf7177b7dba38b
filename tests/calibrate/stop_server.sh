# Sourced by the calibrate twin tests: stops a server they started, by PID (TERM, up to 3 s, then KILL).
# Usage: stop_server_pid PID   (no-op when PID is empty or gone)
stop_server_pid() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  return 0
}
