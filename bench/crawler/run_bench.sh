#!/bin/bash
# Crawler benchmark on loopback: nginx (unprivileged, temp dir, free port) serves
# N real JPEGs; in the same run we measure
#   1. fetch only:  curl --parallel --parallel-max C   vs  crawl_bench --fetch-only
#      (both write what they fetch to disk: curl to files, crawl_bench to its
#      RocksDB state + spool; 3 alternating rounds, best wall time of each)
#   2. fetch + decode + centre-crop 256 + JPEG encode: crawl_bench  vs  PIL on the
#      same files (decode/resize/encode only, no fetching), per CPU second
# and print ratios and peak RSS (/usr/bin/time -v).
#
# Usage: bench/crawler/run_bench.sh BUILD_DIR [N=3000] [C=32]
set -euo pipefail
BUILD=${1:?usage: run_bench.sh BUILD_DIR [N] [C]}
N=${2:-3000}
C=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH_BIN="$BUILD/bin/crawl_bench"
[ -x "$BENCH_BIN" ] || { echo "build crawl_bench first: ninja -C $BUILD crawl_bench" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WORK=$(mktemp -d /tmp/atelier-crawl-bench-XXXXXX)
NGINX_PID=""
cleanup() {
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www" "$WORK/nginx/logs" "$WORK/curl-out"
chmod 755 "$WORK" "$WORK/www"  # nginx workers run as an unprivileged user
echo "== generating $N images"
/usr/bin/python3 "$HERE/make_images.py" "$WORK/www" "$N"
du -sh "$WORK/www" | awk '{print "   total size: "$1}'

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  types { image/jpeg jpg; }
  server { listen 127.0.0.1:$PORT; root $WORK/www; }
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/img00000.jpg" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/img00000.jpg" || { echo "nginx does not serve the images:"; cat "$WORK/nginx/logs/error.log"; exit 1; }

ls "$WORK/www" | sed "s|^|http://127.0.0.1:$PORT/|" > "$WORK/urls.txt"
awk -v d="$WORK/curl-out" '{n++; print "url = \""$0"\""; print "output = \""d"/"n".jpg\""}' "$WORK/urls.txt" > "$WORK/curl.cfg"

measure() {  # name, command...: prints wall-clock, CPU, peak RSS
  local name=$1; shift
  /usr/bin/time -v "$@" > "$WORK/$name.out" 2> "$WORK/$name.time" || { cat "$WORK/$name.out" "$WORK/$name.time"; exit 1; }
  local wall user sys rss
  wall=$(grep "Elapsed (wall clock)" "$WORK/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  user=$(grep "User time" "$WORK/$name.time" | awk '{print $NF}')
  sys=$(grep "System time" "$WORK/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$WORK/$name.time" | awk '{print $NF}')
  echo "$name wall_s=$wall cpu_s=$(echo "$user + $sys" | bc) peak_rss_kb=$rss"
  echo "$name $wall $(echo "$user + $sys" | bc) $rss" >> "$WORK/summary"
}

echo "== 1. fetch only ($N URLs, $C in parallel; 3 alternating rounds, best of each)"
for round in 1 2 3; do
  rm -rf "$WORK/curl-out" "$WORK/state-fetch"; mkdir -p "$WORK/curl-out"
  measure curl curl --silent --fail --parallel --parallel-max "$C" --config "$WORK/curl.cfg"
  [ "$(ls "$WORK/curl-out" | wc -l)" -eq "$N" ] || { echo "curl fetched $(ls "$WORK/curl-out" | wc -l) of $N"; exit 1; }
  measure atelier_fetch "$BENCH_BIN" --urls "$WORK/urls.txt" --state "$WORK/state-fetch" --fetch-only --concurrency "$C"
  cat "$WORK/atelier_fetch.out"
done

echo "== 2. fetch + decode + resize 256 + encode"
measure atelier_resize "$BENCH_BIN" --urls "$WORK/urls.txt" --state "$WORK/state-resize" --concurrency "$C"
cat "$WORK/atelier_resize.out"
measure pil /usr/bin/python3 "$HERE/pil_resize.py" "$WORK/curl-out" 256
cat "$WORK/pil.out"

echo "== summary"
awk -v n="$N" '
  { if (!($1 in wall) || $2 < wall[$1]) { wall[$1]=$2; cpu[$1]=$3 }
    if ($4 > rss[$1]) rss[$1]=$4 }
  END {
    printf "fetch only: curl %.0f items/s, atelier %.0f items/s, ratio atelier/curl = %.2f\n",
      n/wall["curl"], n/wall["atelier_fetch"], wall["curl"]/wall["atelier_fetch"];
    printf "resize:     atelier %.0f items/s wall, %.0f items per CPU-second; PIL %.0f items per CPU-second; ratio per core = %.2f\n",
      n/wall["atelier_resize"], n/cpu["atelier_resize"], n/cpu["pil"], cpu["pil"]/cpu["atelier_resize"];
    printf "peak RSS (MB): curl %.0f, atelier fetch %.0f, atelier resize %.0f, PIL %.0f\n",
      rss["curl"]/1024, rss["atelier_fetch"]/1024, rss["atelier_resize"]/1024, rss["pil"]/1024;
  }' "$WORK/summary"
