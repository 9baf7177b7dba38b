#!/usr/bin/env bash
# start.sh's `caikit` engine (called by start.sh only, with the port it checked and its arguments):
# starts vllm-tgis (port file PORT_FILE.tgis), writes a Caikit runtime config that forwards the model
# "tiny-llama" to it (caikit-nlp TextGenerationTGIS through caikit-tgis-backend), then starts the Caikit
# runtime (gRPC only) from .venv-caikit and waits for its gRPC health = SERVING.
# Usage: start-caikit.sh PORT PORT_FILE PID_FILE LOG_FILE READY_TIMEOUT_S [start.sh arguments]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${SERVETWIN_CAIKIT_VENV:-$repo/.venv-caikit}"
py="$venv/bin/python"
port=$1 port_file=$2 pid_file=$3 log_file=$4 ready_timeout=$5
shift 5
die() { echo "engines/start: $*" >&2; exit 2; }

if [[ ! -x $py ]] || ! "$py" -c 'import importlib.util as u, sys
sys.exit(not (u.find_spec("caikit_nlp") and u.find_spec("caikit_tgis_backend")))' >/dev/null 2>&1; then
  die "engine not installed: no caikit-nlp in $venv; run scripts/engines/setup.sh (or set SERVETWIN_CAIKIT_VENV)"
fi

# The TGIS adapter gets every option except the ones naming caikit's own files and port.
tgis_args=()
while (($#)); do
  case "$1" in
    --port-file|--port|--pid-file|--log-file|--http-port-file) shift 2 ;;
    --) tgis_args+=("$@"); break ;;
    *) tgis_args+=("$1"); shift ;;
  esac
done
"$here/start.sh" vllm-tgis --port-file "$port_file.tgis" "${tgis_args[@]}" >&2
echo "$port_file.tgis.pid" > "$pid_file.chain"

conf="$port_file.caikit"
rm -rf "$conf"
mkdir -p "$conf/models/tiny-llama"
# The model: caikit-nlp's text-generation module (id of caikit_nlp TextGeneration), served through
# the TGIS backend under the adapter's model name.
cat > "$conf/models/tiny-llama/config.yml" <<EOF
module_id: f9181353-4ccf-4572-bd1e-f12bcda26792
module_class: caikit_nlp.modules.text_generation.text_generation_tgis.TextGenerationTGIS
name: tiny-llama via TGIS
model_name: tiny-llama
eos_token: "<|end_of_text|>"
EOF
cat > "$conf/runtime.yml" <<EOF
runtime:
  library: caikit_nlp
  local_models_dir: $conf/models
  lazy_load_local_models: false
  grpc: {enabled: true, port: $port}
  http: {enabled: false}
  metrics: {enabled: false}
model_management:
  initializers:
    default:
      type: LOCAL
      config:
        backend_priority:
          - type: TGIS
            config:
              connection:
                hostname: 127.0.0.1:$(cat "$port_file.tgis")
log:
  formatter: pretty
EOF

mkdir -p "$(dirname "$log_file")" "$(dirname "$pid_file")"
env HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 CONFIG_FILES="$conf/runtime.yml" \
  setsid "$py" -m caikit.runtime > "$log_file" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$pid_file"
rc=0
"$py" "$here/wait_ready.py" --pid "$pid" --timeout-s "$ready_timeout" --grpc-health "127.0.0.1:$port" || rc=$?
if ((rc != 0)); then
  "$here/stop.sh" "$pid_file" >/dev/null 2>&1 || true
  echo "engines/start: caikit did not become ready (see above); last lines of $log_file:" >&2
  tail -n 25 "$log_file" >&2
  exit 2
fi
echo "$port" > "$port_file"
echo "caikit ready: port $port pid $pid log $log_file (TGIS adapter: port $(cat "$port_file.tgis"))"
