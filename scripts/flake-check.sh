#!/usr/bin/env bash
# Runs the whole suite three times under load, to find flaky tests: every test
# must pass three runs in a row (`ctest --repeat until-fail:3`) at -j2 while
# stress-ng keeps the machine's cores busy. Not part of CI (it takes about four
# suite times); run it on a built tree before declaring the tests reliable.
#   ATELIER_BUILD_DIR   build directory (default: build)
#   ATELIER_STRESS_CPUS stress-ng CPU workers (default: number of cores)
#   extra arguments go to ctest (e.g. -R crawler to check a subset)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATELIER_BUILD_DIR:-$root/build}"
cpus="${ATELIER_STRESS_CPUS:-$(nproc)}"
if [ ! -f "$build/CTestTestfile.cmake" ]; then
  echo "flake-check: no built tree in $build (run scripts/test.sh first)" >&2
  exit 2
fi
# stress-ng is a tool of this check only (not of the build or the image): installed here.
if ! command -v stress-ng >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q --no-install-recommends stress-ng ||
    { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends stress-ng; }
fi
stress-ng --cpu "$cpus" --cpu-load 100 --quiet &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT
cd "$build"
ctest --output-on-failure -j2 --timeout 900 --repeat until-fail:3 "$@"
