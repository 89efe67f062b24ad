#!/usr/bin/env bash
# Installs every dependency (Debian packages), configures, builds and runs every
# test, then the sanitizer step (scripts/sanitize.sh: ASan + UBSan unit tests
# and bounded fuzzer runs, docs/fuzzing.md). This is the README's test command
# and what CI runs.
#   ATELIER_BUILD_DIR   build directory (default: build)
#   ATELIER_JOBS        parallel build jobs (default: number of cores)
#   ATELIER_SANITIZE    0 skips the sanitizer step (default: 1)
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
if [ "${ATELIER_SANITIZE:-1}" != 0 ]; then
  ATELIER_JOBS="$jobs" "$root/scripts/sanitize.sh"
fi
