#!/bin/bash
# Throttling CDN (issue #13, finding 6): a loopback origin (hostile_origin.py)
# whose /throttle/ paths answer 429 + Retry-After: 2 to their first request
# and the image afterwards. crawl_bench crawls each case as one shard
# (CurlFetcher + politeness + ShardCrawler + decode/resize, the default
# retries and backoff) at a fixed per-host rate, next to the same URLs served
# without throttling at the same rate:
#   A. 17 URLs, every one throttled once, at 5 requests/s (the issue's case;
#      goal: within 2 x Retry-After plus the unthrottled time);
#   B. N URLs (default 1000), 10 % throttled once, at RPS requests/s (default
#      50; goal: within 1.5x the unthrottled time).
# Prints each run's crawl_bench line and the ratios.
#
# Usage: bench/crawler/throttle_bench.sh BUILD_DIR [N=1000] [RPS=50]
set -euo pipefail
BUILD=${1:?usage: throttle_bench.sh BUILD_DIR [N] [RPS]}
N=${2:-1000}
RPS=${3:-50}
# shellcheck source=bench/crawler/origin_lib.sh
source "$(dirname "$0")/origin_lib.sh"
bench_origin_start "$BUILD" "$N" atelier-throttle-bench
ls "$WORK/www" > "$WORK/names"

# crawl NAME RPS URLS_FILE: one crawl_bench run; prints its line, returns its seconds in $seconds.
crawl() {
  local line
  line=$("$BENCH_BIN" --urls "$3" --state "$WORK/state-$1" --memory-state --concurrency 64 \
    --process-threads 2 --per-host-rps "$2")
  echo "$1: $line"
  seconds=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
  grep -q " failed=0 " <<<"$line" || { echo "$1: not every item ok" >&2; exit 1; }
}

head -n 17 "$WORK/names" | sed "s|^|$BASE/img/|" > "$WORK/a-plain.txt"
head -n 17 "$WORK/names" | sed "s|^|$BASE/throttle/a-|" > "$WORK/a-throttled.txt"
for f in $(head -n 17 "$WORK/names"); do ln -s "$f" "$WORK/www/a-$f"; done
crawl a-plain 5 "$WORK/a-plain.txt"; a_plain=$seconds
crawl a-throttled 5 "$WORK/a-throttled.txt"; a_throttled=$seconds

awk -v base="$BASE" 'NR % 10 == 0 { print base "/throttle/b-" $0; next } { print base "/img/" $0 }' \
  "$WORK/names" > "$WORK/b-throttled.txt"
for f in $(awk 'NR % 10 == 0' "$WORK/names"); do ln -s "$f" "$WORK/www/b-$f"; done
sed "s|^|$BASE/img/|" "$WORK/names" > "$WORK/b-plain.txt"
crawl b-plain "$RPS" "$WORK/b-plain.txt"; b_plain=$seconds
crawl b-throttled "$RPS" "$WORK/b-throttled.txt"; b_throttled=$seconds

awk -v p="$a_plain" -v t="$a_throttled" -v bp="$b_plain" -v bt="$b_throttled" 'BEGIN {
  printf "A (17 URLs, all throttled once, 5 req/s): %.2f s vs %.2f s unthrottled; goal <= %.2f s (2 x Retry-After + unthrottled)\n", t, p, p + 4
  printf "B (10%% throttled once, per-host rate limited): %.2f s vs %.2f s unthrottled: %.2fx (goal <= 1.5x)\n", bt, bp, bt / bp }'
