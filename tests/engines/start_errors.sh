#!/bin/bash
# scripts/engines/start.sh's error paths: each exits 2 with a message naming the problem, and leaves no
# server running. Cases: unknown engine, missing --port-file, a non-integer value, engine not
# installed (venv without vLLM), port in use, server dying during start-up (an argument vLLM rejects:
# the log tail is shown), and stop.sh on a PID file whose process is gone.
# Usage (ctest): bash start_errors.sh <servetwin-binary> <repo-dir>
set -euo pipefail
source "$(dirname "$0")/lib.bash"
start="$repo/scripts/engines/start.sh"

expect_exit2() {  # expect_exit2 NEEDLE CMD...: CMD exits 2 and its stderr contains NEEDLE
  local needle=$1 rc=0
  shift
  "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
  [[ $rc == 2 ]] || fail "exit $rc (want 2) from: $* -- $(cat "$tmp/err")"
  grep -q -F -- "$needle" "$tmp/err" || fail "stderr lacks '$needle' from: $* -- $(cat "$tmp/err")"
  echo "ok: exit 2, '$(grep -F -m1 -- "$needle" "$tmp/err" | cut -c1-140)'"
}

expect_exit2 "first argument must be the engine" "$start" tgi --port-file "$tmp/p"
expect_exit2 "--port-file is required" "$start" vllm-tgis
expect_exit2 "--max-num-seqs needs a positive integer, got 'x'" "$start" vllm-tgis --port-file "$tmp/p" --max-num-seqs x
mkdir -p "$tmp/empty-venv/bin"
ln -s "$(command -v python3)" "$tmp/empty-venv/bin/python"
expect_exit2 "engine not installed" env SERVETWIN_ENGINES_VENV="$tmp/empty-venv" "$start" vllm-openai --port-file "$tmp/p"

# A port held by a listener here.
"$py" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(60)' "$tmp/held" &
holder=$!
for _ in $(seq 50); do [[ -s $tmp/held ]] && break; sleep 0.1; done
expect_exit2 "port $(cat "$tmp/held") on 127.0.0.1 is in use" "$start" vllm-openai --port-file "$tmp/p" --port "$(cat "$tmp/held")"
kill "$holder"

# vLLM's own argument parser rejects this after its imports (~10-30 s): the server dies in start-up.
server_pid_file=$tmp/p.pid
expect_exit2 "exited during start-up" "$start" vllm-openai --port-file "$tmp/p" -- --no-such-flag
grep -q -F "unrecognized arguments: --no-such-flag" "$tmp/err" || fail "log tail not shown: $(cat "$tmp/err")"
[[ ! -e $tmp/p ]] || fail "port file written for a server that never became ready"
"$repo/scripts/engines/stop.sh" "$tmp/p.pid" || fail "stop.sh on a dead server"
echo "PASS"
