#!/usr/bin/env bash
# Starts a real serving engine on 127.0.0.1 with the shipped tiny-llama model (dummy weights, nothing
# downloaded), waits until it answers, then writes its port. Stop it with stop.sh.
#
# Usage: scripts/engines/start.sh ENGINE --port-file F [options] [-- extra server args]
#   ENGINE: vllm-openai   vLLM's OpenAI HTTP server; port = HTTP (ready: GET /health = 200)
#           vllm-tgis     vllm-tgis-adapter: fmaas.GenerationService gRPC + vLLM's OpenAI HTTP; port = gRPC
#                         (ready: HTTP /health = 200 and grpc.health.v1 Check = SERVING)
#           caikit        Caikit runtime (caikit-nlp TextGenerationTGIS, model id "tiny-llama") in
#                         .venv-caikit, forwarding to a vllm-tgis it starts first (port file F.tgis,
#                         stopped with it); port = Caikit gRPC (ready: grpc.health.v1 = SERVING)
#   --port-file F           written once the server is ready: the port clients use (one line)
#   --port N                that port (default: a free one); --http-port N: vllm-tgis's HTTP port
#   --pid-file F            default F.pid (port file + .pid); holds the server's process-group leader
#   --log-file F            default F.log; --http-port-file default F.http (vllm-tgis: HTTP/metrics port)
#   --kv-space-gb N         VLLM_CPU_KVCACHE_SPACE (integer GiB; default 1 = 174,720 tokens of tiny-llama)
#   --max-num-seqs N, --max-num-batched-tokens N, --max-model-len N   vLLM scheduler flags
#   --omp-bind SPEC         VLLM_CPU_OMP_THREADS_BIND (default auto: one OpenMP thread per core, bound; see
#                           docs/real-engines.md for the measured choice); e.g. 1, 0-1, nobind
#   --ready-timeout S       default 600 (a cold start compiles the model: ~1-2 min on 2 busy cores)
#   --model-dir D           default configs/real-engines/tiny-llama (served as "tiny-llama")
# Exit 0 when ready (prints "ENGINE ready: port P pid N log L" on stdout); 2 on bad usage, engine not
# installed, port in use, server died during start-up or not ready in time (the log tail is shown,
# and a server that is still running is stopped).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${SERVETWIN_ENGINES_VENV:-$repo/.venv-engines}"
py="$venv/bin/python"

die() { echo "engines/start: $*" >&2; exit 2; }
need_int() { [[ $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || die "$1 needs a positive integer, got '$2'"; }

engine=${1:-}
case "$engine" in
  vllm-openai|vllm-tgis|caikit) shift ;;
  *) die "first argument must be the engine: vllm-openai, vllm-tgis or caikit (got '${engine}')" ;;
esac

all_args=("$@")
port_file= port= http_port= pid_file= log_file= http_port_file= kv_gb=1 omp_bind=auto ready_timeout=600
model_dir="$repo/configs/real-engines/tiny-llama"
sched=()
while (($#)); do
  case "$1" in
    --) shift; break ;;
    --port-file|--port|--http-port|--pid-file|--log-file|--http-port-file|--kv-space-gb|--omp-bind|\
    --ready-timeout|--model-dir|--max-num-seqs|--max-num-batched-tokens|--max-model-len)
      (($# >= 2)) || die "$1 needs a value" ;;&
    --port-file) port_file=$2 ;;
    --port) need_int "$1" "$2"; port=$2 ;;
    --http-port) need_int "$1" "$2"; http_port=$2 ;;
    --pid-file) pid_file=$2 ;;
    --log-file) log_file=$2 ;;
    --http-port-file) http_port_file=$2 ;;
    --kv-space-gb) need_int "$1" "$2"; kv_gb=$2 ;;
    --omp-bind) omp_bind=$2 ;;
    --ready-timeout) need_int "$1" "$2"; ready_timeout=$2 ;;
    --model-dir) model_dir=$2 ;;
    --max-num-seqs|--max-num-batched-tokens|--max-model-len) need_int "$1" "$2"; sched+=("$1" "$2") ;;
    *) die "unknown option '$1' (allowed: --port-file --port --http-port --pid-file --log-file --http-port-file --kv-space-gb --omp-bind --ready-timeout --model-dir --max-num-seqs --max-num-batched-tokens --max-model-len, then -- extra server args)" ;;
  esac
  shift 2
done
[[ -n $port_file ]] || die "--port-file is required"
pid_file=${pid_file:-$port_file.pid}
log_file=${log_file:-$port_file.log}
http_port_file=${http_port_file:-$port_file.http}
[[ -f $model_dir/config.json ]] || die "--model-dir $model_dir has no config.json"

# find_spec, not import: importing vLLM (torch, IPEX) takes 10-20 s; the server's own start-up
# reports a broken install (start-up failure below).
if [[ ! -x $py ]] || ! "$py" -c 'import importlib.util as u, sys
sys.exit(not (u.find_spec("vllm") and u.find_spec("vllm_tgis_adapter")))' >/dev/null 2>&1; then
  die "engine not installed: no working vLLM in $venv; run scripts/engines/setup.sh (or set SERVETWIN_ENGINES_VENV)"
fi

# A free port from the kernel, or a check that the given one is free (bind, then release).
claim_port() {
  "$py" - "${1:-0}" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    sys.exit(f"port {sys.argv[1]} on 127.0.0.1 is in use ({e.strerror})")
print(s.getsockname()[1])
PY
}
port=$(claim_port "$port" 2>&1) || die "$port"
if [[ $engine == caikit ]]; then
  exec "$here/start-caikit.sh" "$port" "$port_file" "$pid_file" "$log_file" "$ready_timeout" "${all_args[@]}"
fi
if [[ $engine == vllm-tgis ]]; then
  # Two free ports asked in turn can be the same one (each is released at once): ask again.
  for _ in 1 2 3; do
    http_port=$(claim_port "$http_port" 2>&1) || die "HTTP $http_port"
    [[ $http_port != "$port" ]] && break
    http_port=
  done
fi

common=(--model "$model_dir" --served-model-name tiny-llama --load-format dummy --dtype bfloat16
  --host 127.0.0.1 "${sched[@]}")
if [[ $engine == vllm-openai ]]; then
  cmd=("$py" -m vllm.entrypoints.openai.api_server "${common[@]}" --port "$port")
  checks=(--http "http://127.0.0.1:$port/health")
else
  cmd=("$py" -m vllm_tgis_adapter "${common[@]}" --port "$http_port" --grpc-port "$port")
  checks=(--http "http://127.0.0.1:$http_port/health" --grpc-health "127.0.0.1:$port")
fi
cmd+=("$@")

rm -f "$port_file" "$http_port_file"
mkdir -p "$(dirname "$log_file")" "$(dirname "$pid_file")"
# Offline: no hub, no usage statistics. Loopback: vLLM's engine core reaches its API process over
# gloo/zmq at VLLM_HOST_IP (otherwise the machine's first address).
# setsid: the server leads its own process group, so stop.sh ends the engine-core child with it.
env HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 \
  VLLM_HOST_IP=127.0.0.1 GLOO_SOCKET_IFNAME=lo \
  VLLM_CPU_KVCACHE_SPACE="$kv_gb" VLLM_CPU_OMP_THREADS_BIND="$omp_bind" \
  setsid "${cmd[@]}" > "$log_file" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$pid_file"

rc=0
"$py" "$here/wait_ready.py" --pid "$pid" --timeout-s "$ready_timeout" "${checks[@]}" || rc=$?
if ((rc != 0)); then
  "$here/stop.sh" "$pid_file" >/dev/null 2>&1 || true
  echo "engines/start: $engine did not become ready (see above); last lines of $log_file:" >&2
  grep -v -E 'autocast|registered at|Overriding a previously|operator: |kernel: |dispatch key|Gloo' "$log_file" \
    | tail -n 25 >&2
  exit 2
fi
[[ $engine == vllm-tgis ]] && echo "$http_port" > "$http_port_file"
echo "$port" > "$port_file"
echo "$engine ready: port $port pid $pid log $log_file"
