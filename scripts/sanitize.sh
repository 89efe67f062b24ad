#!/usr/bin/env bash
# The sanitizer step of CI (docs/fuzzing.md), run by scripts/test.sh after the
# normal tests: configures a separate clang build with -DATELIER_FUZZ=ON
# (ASan + UBSan, libFuzzer), builds the fuzzers and the unit tests of the parts
# that need neither LibTorch nor a gRPC service, runs those unit tests once,
# then each fuzzer for a bounded time on a copy of its seed corpus. Any
# sanitizer report, crash, leak or fuzzer timeout fails the step; a fuzzer's
# crashing input is kept under <build>/fuzz/work/NAME/ (crash-*, timeout-*).
#   ATELIER_SANITIZE_DIR   build directory (default: build-sanitize)
#   ATELIER_JOBS           parallel build and test jobs (default: number of cores)
#   ATELIER_FUZZ_SECONDS   seconds per fuzzer (default: 20; 0 runs the corpora once)
# Exit codes: 0 all passed; 1 a build, test or fuzzer failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATELIER_SANITIZE_DIR:-$root/build-sanitize}"
jobs="${ATELIER_JOBS:-$(nproc)}"
seconds="${ATELIER_FUZZ_SECONDS:-20}"
start=$(date +%s)
log() { echo "sanitize: [$(( $(date +%s) - start ))s] $*"; }

# The unit tests run under the sanitizers, by part folder (ctest --test-dir);
# tests of executables not built here (coordinator_tests, the crawler's
# process and end-to-end suites, cli_tests, the GPU-only nccl_allreduce_check,
# ...) are left out (docs/fuzzing.md).
parts=(common net kv dataset imaging spec coordinator crawler trainer/gpu)
tests=(common_tests env_tests net_tests kv_tests dataset_tests imaging_tests spec_tests
       ingest_sources_tests met_object_tests gpu_plain_tests)

export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
export CC="${CC_SANITIZE:-clang}" CXX="${CXX_SANITIZE:-clang++}"
log "configuring $build with $CXX"
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DATELIER_FUZZ=ON -DATELIER_BUILD_TRAINER=OFF -DATELIER_BUILD_BENCH=OFF \
  -DATELIER_BUILD_TESTS=ON -DATELIER_WERROR=ON > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
mapfile -t fuzzers < <(awk 'NF == 2 {print $1}' "$build/fuzz/fuzzers.txt")
log "building ${#tests[@]} test executables and ${#fuzzers[@]} fuzzers"
cmake --build "$build" -j "$jobs" --target "${tests[@]}" "${fuzzers[@]/%/_fuzzer}"

# halt_on_error: the first report fails the test; UBSan aborts (the build has
# -fno-sanitize-recover=undefined) with a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for part in "${parts[@]}"; do
  log "unit tests of $part/ under ASan + UBSan"
  ctest --test-dir "$build/$part" --output-on-failure -j "$jobs" --timeout 900 \
    -E '_NOT_BUILT$|^nccl_allreduce_check$' || status=1
done

work="$build/fuzz/work"
rm -rf "$work"
while read -r name corpus; do
  [ -n "$name" ] || continue
  mkdir -p "$work/$name/corpus"
  log "fuzzing $name for ${seconds}s"
  # New inputs go to the work copy (the first folder); the seeds stay as they are.
  if [ "$seconds" -gt 0 ]; then limit=(-max_total_time="$seconds"); else limit=(-runs=0); fi
  if ! "$build/fuzz/${name}_fuzzer" "${limit[@]}" -rss_limit_mb=2048 -timeout=10 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$name/" \
       "$work/$name/corpus" "$corpus" > "$work/$name/log.txt" 2>&1; then
    status=1
    tail -60 "$work/$name/log.txt"
    log "FAILED: $name (input and log under $work/$name/)"
  else
    grep -E '^stat::number_of_executed_units' "$work/$name/log.txt" | sed "s/^/sanitize: $name: /" || true
  fi
done < "$build/fuzz/fuzzers.txt"

log "done, status $status"
exit $status
