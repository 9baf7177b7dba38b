#!/usr/bin/env bash
# Installs Caikit (caikit 0.28.3 + caikit-nlp 0.5.15 + caikit-tgis-backend 0.1.39) into its own
# git-ignored venv, .venv-caikit, from exact pins (requirements-caikit-lock.txt). Safe to run again
# (stamp). Called by setup.sh after the vLLM venv is ready.
#
# Why a second venv: caikit-nlp 0.5.15 (the newest) requires transformers<4.50 and numpy<2, vLLM 0.11.2
# requires transformers>=4.56 (and resolves numpy 2.2.6); no set of versions satisfies both, and Caikit
# only talks to the TGIS adapter over gRPC, so it does not need vLLM in its process. Both need torch
# 2.8.0 (caikit-nlp: torch<2.9): the caikit venv links torch, triton and the nvidia-* wheels of
# .venv-engines (same versions) instead of a second 5 GB copy.
# Environment: SERVETWIN_ENGINES_VENV, SERVETWIN_CAIKIT_VENV (default <repo>/.venv-caikit),
# SERVETWIN_ENGINES_PYTHON. Prints the venv path last on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
engines_venv="${SERVETWIN_ENGINES_VENV:-$repo/.venv-engines}"
venv="${SERVETWIN_CAIKIT_VENV:-$repo/.venv-caikit}"
python="${SERVETWIN_ENGINES_PYTHON:-python3}"
lock="$here/requirements-caikit-lock.txt"
log() { echo "engines/setup-caikit: $*" >&2; }
export PIP_NO_CACHE_DIR=1  # the wheels are needed once (see setup.sh)

[[ -x $engines_venv/bin/python ]] || { log "no engines venv at $engines_venv: run scripts/engines/setup.sh first"; exit 2; }
stamp_hash="$( (cat "$lock"; "$python" -c 'import sys; print(sys.version)'; readlink -f "$engines_venv") | sha256sum | cut -d' ' -f1)"
if [[ -f $venv/.servetwin-caikit-stamp && "$(cat "$venv/.servetwin-caikit-stamp")" == "$stamp_hash" ]]; then
  log "up to date ($venv)"
  echo "$venv"
  exit 0
fi
start_s=$(date +%s)
rm -f "$venv/.servetwin-caikit-stamp"
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
site() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
src=$(site "$engines_venv") dst=$(site "$venv")
shopt -s nullglob
for entry in "$src"/torch "$src"/torchgen "$src"/functorch "$src"/torch-2.8.0.dist-info "$src"/triton \
    "$src"/triton-3.4.0.dist-info "$src"/nvidia "$src"/nvidia_*_cu12-*.dist-info; do
  ln -sfn "$entry" "$dst/$(basename "$entry")"
done
[[ -e $dst/torch/__init__.py ]] || { log "torch 2.8.0 not found in $src"; exit 1; }
"$venv/bin/pip" install -q --no-deps -r "$lock" >&2
"$venv/bin/python" -c 'import caikit_nlp, caikit_tgis_backend' >/dev/null 2>&1 || {
  log "installed, but 'import caikit_nlp, caikit_tgis_backend' fails in $venv:"
  "$venv/bin/python" -c 'import caikit_nlp, caikit_tgis_backend' 2>&1 | tail -5 >&2
  exit 1
}
echo "$stamp_hash" > "$venv/.servetwin-caikit-stamp"
log "done in $(( $(date +%s) - start_s )) s, venv $(du -sh "$venv" | cut -f1) (torch linked from $engines_venv)"
echo "$venv"
