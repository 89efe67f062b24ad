# shellcheck shell=bash
# The loopback origin of the crawler benches that use hostile_origin.py
# (hostile_memory_bench.sh, throttle_bench.sh). Source it, then:
#
#   bench_origin_start BUILD N PREFIX
#
# checks that BUILD/bin/crawl_bench exists (BENCH_BIN), makes a temp dir WORK
# (/tmp/PREFIX-XXXXXX, removed on exit with the origin), writes N JPEGs into
# WORK/www (make_images.py), starts hostile_origin.py on a free port and sets
# BASE (http://127.0.0.1:PORT) once it serves.
BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORIGIN_PID=""

bench_origin_cleanup() {
  if [ -n "$ORIGIN_PID" ]; then kill "$ORIGIN_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}

bench_origin_start() {
  BENCH_BIN="$1/bin/crawl_bench"
  [ -x "$BENCH_BIN" ] || { echo "build crawl_bench first: ninja -C $1 crawl_bench" >&2; exit 1; }
  WORK=$(mktemp -d "/tmp/$3-XXXXXX")
  trap bench_origin_cleanup EXIT
  mkdir -p "$WORK/www"
  /usr/bin/python3 "$BENCH_LIB_DIR/make_images.py" "$WORK/www" "$2"
  /usr/bin/python3 "$BENCH_LIB_DIR/hostile_origin.py" "$WORK/www" "$WORK/port" &
  ORIGIN_PID=$!
  for _ in $(seq 300); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  [ -s "$WORK/port" ] || { echo "hostile_origin.py did not start" >&2; exit 1; }
  BASE="http://127.0.0.1:$(cat "$WORK/port")"
}
