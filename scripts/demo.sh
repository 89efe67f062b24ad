#!/usr/bin/env bash
# The README's main-job command: installs the Debian packages, builds atelier
# (Release) and runs `atelier demo`, the whole system on an embedded default
# dataset served from loopback (no internet). Extra arguments go to the demo.
#   ATELIER_BUILD_DIR   build directory (default: build-release)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATELIER_BUILD_DIR:-$root/build-release}"

"$root/scripts/install-deps.sh"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DATELIER_BUILD_TESTS=OFF -DATELIER_BUILD_BENCH=OFF
cmake --build "$build" -j "$(nproc)"
exec "$build/bin/atelier" demo "$@"
