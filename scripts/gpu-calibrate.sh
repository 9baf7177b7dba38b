#!/usr/bin/env bash
# One-call calibration job (issue 7).
#
#   scripts/gpu-calibrate.sh --bundle DIR            (here) build servetwin-cuda-bench + servetwin and copy them,
#                                                    with their non-system shared libraries, into DIR
#   scripts/gpu-calibrate.sh [--from DIR] [--out DIR] (GPU machine) run the CUDA suite on Llama-2-7B (TP1) and
#                                                    Llama-2-70B (TP8) shapes, fit a profile on the 7B run, predict
#                                                    the 70B run with it, write results, profile and report.md
#   scripts/gpu-calibrate.sh --cpu [--servetwin BIN] [--out DIR]
#                                                    CPU rehearsal: CPU suite -> fit -> prediction check (CI)
#   scripts/gpu-calibrate.sh --probe HOST:PORT [--protocol openai|tgis|caikit] (--hf-config F | --model ID)
#                            [--budget 5m] [--servetwin BIN] [--out DIR]
#                                                    black-box: probe a running GPU engine (vLLM etc.) ->
#                                                    calibrate fit -> catalog + predict flags (docs/calibration.md,
#                                                    "Probe an endpoint"); needs servetwin-live beside servetwin
#
# The GPU machine has the CUDA toolkit, CMake and Python but no Debian -dev packages and no network:
# everything it runs comes from the bundle (libbenchmark, yaml-cpp, fmt and libstdc++ are carried).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=gpu bundle="" from="" out="" servetwin="" quick="" probe_target="" protocol=openai budget=5m model_args=()
while (($#)); do
  case "$1" in
    --cpu) mode=cpu ;;
    --bundle) mode=bundle; bundle="$2"; shift ;;
    --from) from="$2"; shift ;;
    --out) out="$2"; shift ;;
    --servetwin) servetwin="$2"; shift ;;
    --quick) quick=--quick ;;
    --probe) mode=probe; probe_target="$2"; shift ;;
    --protocol) protocol="$2"; shift ;;
    --budget) budget="$2"; shift ;;
    --hf-config|--model) model_args+=("$1" "$2"); shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "gpu-calibrate: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

report() {  # report.md from a profile, a check output and the results JSON
  local dir="$1" title="$2"
  {
    echo "# $title"
    echo
    echo "- date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- git: $(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
    echo "- device: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["device"]; print(d["name"], "| driver", d["driver"], "| runtime", d["cuda_runtime"], "| cuBLASLt", d["cublas"], "| NCCL", d["nccl"], "| SM clock MHz", round(d["sm_clock_mhz"]), "| GPUs", d["device_count"])' "$dir/results.json" 2>/dev/null || echo see results.json)"
    echo
    echo "## Fitted profile"
    echo '```'
    cat "$dir/fit.txt"
    echo '```'
    echo
    echo "## Prediction check"
    echo '```'
    cat "$dir/check.txt"
    echo '```'
  } > "$dir/report.md"
}

case "$mode" in
probe)
  ((${#model_args[@]})) || { echo "gpu-calibrate: --probe needs --hf-config FILE or --model ID" >&2; exit 2; }
  servetwin="${servetwin:-$here/build/servetwin}"
  out="${out:-$here/out/probe-$(date -u +%Y%m%d-%H%M%S)}"
  mkdir -p "$out"
  "$servetwin" calibrate probe --target "$probe_target" --protocol "$protocol" --budget "$budget" --out "$out/probe.json"
  "$servetwin" calibrate fit --in "$out/probe.json" --out "$out/profile" "${model_args[@]}" | tee "$out/fit.txt"
  echo "gpu-calibrate: predict with: servetwin predict $(cat "$out/profile/predict-flags.txt") --dataset ... --concurrency ..." >&2
  ;;
bundle)
  build="${SERVETWIN_BUILD_DIR:-$here/build}"
  "$here/scripts/setup.sh" --target servetwin servetwin-cuda-bench
  mkdir -p "$bundle"
  cp "$build/calibrate/servetwin-cuda-bench" "$build/servetwin" "$bundle/"
  # Non-system shared libraries of both binaries (glibc and the CUDA libraries stay the host's).
  for bin in "$bundle/servetwin-cuda-bench" "$bundle/servetwin"; do
    ldd "$bin" | awk '/=> \//{print $3}' | grep -vE '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libcuda|libcudart|libcublas[^/]*|libnccl)\.so' |
      while read -r lib; do cp -L "$lib" "$bundle/"; done
  done
  # libbenchmark's own libstdc++ dependency resolves through the binary's DT_RPATH ($ORIGIN).
  cp -L "$(g++ -print-file-name=libstdc++.so.6)" "$(g++ -print-file-name=libgcc_s.so.1)" "$bundle/" 2>/dev/null || true
  echo "gpu-calibrate: bundle in $bundle ($(du -sh "$bundle" | cut -f1)); carry it to the GPU machine" >&2
  ;;
cpu)
  servetwin="${servetwin:-$here/build/servetwin}"
  out="${out:-$(mktemp -d)}"
  mkdir -p "$out"
  start=$(date +%s)
  "$servetwin" calibrate run --device cpu --model tiny --quick --out "$out/results.json"
  "$servetwin" calibrate fit --in "$out/results.json" --out "$out/profile.yaml" | tee "$out/fit.txt"
  # Plumbing check on the CPU (shared CI cores, small Eigen GEMMs): a units or schema slip gives
  # errors of 100% or more; 50% median APE is the bar (see docs/calibration.md).
  "$servetwin" calibrate check --profile "$out/profile.yaml" --in "$out/results.json" --max-median-ape 0.5 | tee "$out/check.txt"
  report "$out" "CPU calibration rehearsal"
  echo "gpu-calibrate --cpu: OK in $(( $(date +%s) - start )) s; results in $out" >&2
  ;;
gpu)
  from="${from:-$here/build-cal/gpu-bundle}"
  [[ -x "$from/servetwin-cuda-bench" ]] || { echo "gpu-calibrate: no $from/servetwin-cuda-bench (make one with --bundle)" >&2; exit 1; }
  export LD_LIBRARY_PATH="$from${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:/usr/local/cuda/lib64:/usr/local/cuda/lib"
  sha="$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  tmp="$(mktemp -d)"
  start=$(date +%s)
  # The bench cannot read the catalog; servetwin hands it each model's id and geometry (configs/models).
  read -r m7b g7b < <(SERVETWIN_CONFIG_DIR="$here/configs" "$from/servetwin" calibrate geometry --model llama-2-7b)
  read -r m70b g70b < <(SERVETWIN_CONFIG_DIR="$here/configs" "$from/servetwin" calibrate geometry --model llama-2-70b)
  "$from/servetwin-cuda-bench" --model "$m7b" --geometry "$g7b" --tp 1 --out "$tmp/results.json" --git-sha "$sha" $quick \
    --benchmark_format=console 2> >(tee "$tmp/bench-7b.log" >&2)
  # Held-out shapes for the prediction check: Llama-2-70B per-GPU shards at TP8, GEMM/attention only.
  "$from/servetwin-cuda-bench" --model "$m70b" --geometry "$g70b" --tp 8 --out "$tmp/results-70b-tp8.json" --git-sha "$sha" $quick \
    --benchmark_filter='gemm|attn' 2> >(tee "$tmp/bench-70b.log" >&2)
  "$from/servetwin" calibrate fit --in "$tmp/results.json" --out "$tmp/profile.yaml" | tee "$tmp/fit.txt"
  "$from/servetwin" calibrate check --profile "$tmp/profile.yaml" --in "$tmp/results-70b-tp8.json" --verbose > "$tmp/check.txt"
  tail -1 "$tmp/check.txt"
  gpu="$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["device"]; print((d["gpu"] or d["name"]).replace(" ", "_"))' "$tmp/results.json")"
  out="${out:-$here/configs/measured/$gpu-$(date -u +%Y-%m-%d)}"
  mkdir -p "$out"
  cp "$tmp"/*.json "$tmp"/*.yaml "$tmp"/*.txt "$tmp"/*.log "$out/"
  report "$out" "GPU calibration: $gpu"
  echo "gpu-calibrate: done in $(( $(date +%s) - start )) s; results, profile and report in $out" >&2
  ;;
esac
