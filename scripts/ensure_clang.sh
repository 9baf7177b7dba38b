#!/usr/bin/env bash
# Installs Debian's clang and its sanitizer/libFuzzer runtimes when missing (as root; otherwise
# prints the apt line and exits 1). Used by scripts/fuzz.sh and scripts/sanitize.sh.
set -euo pipefail
packages=(clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]]; then echo "run as root: apt-get install -y ${missing[*]}" >&2; exit 1; fi
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
