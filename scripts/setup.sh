#!/usr/bin/env bash
# One-stop set-up, safe to run again: installs missing Debian 12 packages (as root; otherwise prints
# the one apt line to run), configures CMake once and builds. Fast when everything is up to date.
# Usage: scripts/setup.sh [extra cmake --build args]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SERVETWIN_BUILD_DIR:-$here/build}"

# Keep in sync with docs/building.md and ../shared/reference/toolchain.md.
packages=(build-essential cmake ninja-build pkg-config git
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libeigen3-dev libboost-dev libboost-program-options-dev libboost-random-dev libssl-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libbenchmark-dev libgtest-dev libgmock-dev
  libboost-mpi-dev libopenmpi-dev openmpi-bin
  python3-numpy python3-pandas python3-matplotlib jupyter-nbconvert python3-nbclient python3-ipykernel)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-unsafe-io "${missing[@]}" >&2
  else
    echo "setup: missing Debian packages. Run as root:" >&2
    echo "  sudo sh -c '$line'" >&2
    exit 1
  fi
fi

cuda_args=()
if [[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null; then
  cuda_args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi
# SERVETWIN_UNITY_BUILD=ON|OFF (scripts/test.sh sets ON): how a new build directory compiles, in unity
# batches or file by file (CMakeLists.txt); an existing one keeps its setting.
unity_args=()
if [[ -n ${SERVETWIN_UNITY_BUILD:-} ]]; then unity_args+=(-DSERVETWIN_UNITY_BUILD="$SERVETWIN_UNITY_BUILD"); fi
if [[ ! -f "$build/build.ninja" ]]; then
  echo "setup: configuring $build" >&2
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSERVETWIN_WERROR=ON "${cuda_args[@]}" \
    "${unity_args[@]}" >&2
fi
cmake --build "$build" -j "$(nproc)" "$@" >&2
