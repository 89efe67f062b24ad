#!/bin/bash
# Peak RSS of the crawler on the hostile set (issue #13, finding 7), default
# settings: a loopback origin (hostile_origin.py) serves 8 endless chunked
# bodies (2 GiB each), 8 gzip bombs (256 MiB of zeros each), 4 copies of a
# 248 KB 7990x7990 interlaced RGBA PNG and N normal JPEGs (make_images.py);
# crawl_bench crawls them as one shard (CurlFetcher + politeness +
# ShardCrawler + decode/resize on one thread per core; 64 fetches in flight,
# max_bytes 50 MB, the default memory budget) under /usr/bin/time -v.
# Prints the outcome line of crawl_bench, wall time and peak RSS of each round.
#
# Usage: bench/crawler/hostile_memory_bench.sh BUILD_DIR [N=200] [ROUNDS=2]
# BENCH_ARGS: more crawl_bench flags (e.g. --memory-budget-bytes B);
# BENCH_ENV: VAR=VALUE pairs for the crawler's environment
# (e.g. MALLOC_MMAP_THRESHOLD_=1048576). Both empty by default.
set -euo pipefail
BUILD=${1:?usage: hostile_memory_bench.sh BUILD_DIR [N] [ROUNDS]}
N=${2:-200}
ROUNDS=${3:-2}
# shellcheck source=bench/crawler/origin_lib.sh
source "$(dirname "$0")/origin_lib.sh"
bench_origin_start "$BUILD" "$N" atelier-hostile-bench
{
  for i in $(seq 0 7); do echo "$BASE/endless/$i"; echo "$BASE/bomb/$i"; done
  for i in $(seq 0 3); do echo "$BASE/interlaced/$i.png"; done
  ls "$WORK/www" | sed "s|^|$BASE/img/|"
} > "$WORK/urls.txt"
echo "== $(wc -l < "$WORK/urls.txt") URLs: 8 endless, 8 gzip bombs, 4 interlaced 7990x7990 RGBA PNGs, $N JPEGs"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/state"
  # Capped (address space) so that a regression cannot take the machine.
  /usr/bin/time -v env ${BENCH_ENV:-} prlimit --as=$((12 << 30)) "$BENCH_BIN" --urls "$WORK/urls.txt" --state "$WORK/state" \
      --memory-state --concurrency 64 --process-threads "$(nproc)" ${BENCH_ARGS:-} > "$WORK/out" 2> "$WORK/time" || true
  echo "round $round: $(cat "$WORK/out")"
  grep -E "Elapsed \(wall|Maximum resident" "$WORK/time" | sed 's/^\s*/   /'
done
