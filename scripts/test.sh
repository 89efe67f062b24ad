#!/usr/bin/env bash
# Installs every dependency (Debian packages), configures, builds and runs every
# test. This is the README's test command and what CI runs.
#   ATELIER_BUILD_DIR   build directory (default: build)
#   ATELIER_JOBS        parallel build jobs (default: number of cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATELIER_BUILD_DIR:-$root/build}"
jobs="${ATELIER_JOBS:-$(nproc)}"

"$root/scripts/install-deps.sh"
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATELIER_BUILD_TESTS=ON -DATELIER_WERROR=ON
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 900
