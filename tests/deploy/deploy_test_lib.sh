# shellcheck shell=bash
# Helpers shared by the tests under tests/deploy (source this file):
#
#   deploy_free_port              # prints a TCP port free on 127.0.0.1 now
#   deploy_wait_for SECONDS CMD.. # until CMD succeeds; returns 1 on timeout
#   deploy_origin_start DIR       # loopback image origin, see below
#   deploy_origin_stop
#
# deploy_origin_start writes 48 generated 40x40 PNGs in two colour classes
# (red-NN.png, blue-NN.png) to DIR/origin, serves them with Python's
# http.server on 127.0.0.1 on a port the OS picks when the server binds (it
# writes the port to DIR/origin.port: no free port is picked and bound later),
# and writes DIR/urls.csv (columns url,color) for a job spec's
# `urls: {file: ...}` source. It sets deploy_origin_pid, deploy_origin_port and
# deploy_origin_images (the number of images).

deploy_origin_pid=""

deploy_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

deploy_wait_for() {
  local seconds="$1"; shift
  local i
  for ((i = 0; i < seconds * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}

deploy_origin_start() {
  local dir="$1"
  mkdir -p "$dir/origin"
  /usr/bin/python3 - "$dir/origin" <<'PY' || return 1
import random, sys
from PIL import Image
out = sys.argv[1]
rng = random.Random(7)
for cls, base in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
    for i in range(24):
        img = Image.new("RGB", (40, 40))
        img.putdata([tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in base)
                     for _ in range(40 * 40)])
        img.save(f"{out}/{cls}-{i:02d}.png")
PY
  rm -f "$dir/origin.port"
  /usr/bin/python3 -c '
import functools, http.server, os, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])  # whole, or not there yet
server.serve_forever()
' "$dir/origin" "$dir/origin.port" >"$dir/origin.log" 2>&1 &
  deploy_origin_pid=$!
  if ! deploy_wait_for 20 test -s "$dir/origin.port"; then
    echo "deploy_origin_start: the origin did not start (log: $dir/origin.log)" >&2
    return 1
  fi
  deploy_origin_port="$(cat "$dir/origin.port")"
  if ! deploy_wait_for 20 curl -sf "http://127.0.0.1:$deploy_origin_port/red-00.png" -o /dev/null; then
    echo "deploy_origin_start: the origin did not start (log: $dir/origin.log)" >&2
    return 1
  fi
  local f name
  {
    echo "url,color"
    for f in "$dir"/origin/*.png; do
      name="$(basename "$f")"
      echo "http://127.0.0.1:$deploy_origin_port/$name,${name%%-*}"
    done
  } >"$dir/urls.csv"
  deploy_origin_images="$(find "$dir/origin" -name '*.png' | wc -l)"
}

deploy_origin_stop() {
  if [ -n "$deploy_origin_pid" ]; then
    kill "$deploy_origin_pid" 2>/dev/null
    wait "$deploy_origin_pid" 2>/dev/null
    deploy_origin_pid=""
  fi
  return 0
}

# Writes a crawl job spec FILE named NAME for the origin's URL list URLS (as
# the coordinator sees it), with dataset root DATASET: 16 samples a shard,
# center-cropped to 32x32, no politeness delay on the loopback origin.
deploy_write_job_spec() {
  local file="$1" name="$2" dataset="$3" urls="$4"
  cat >"$file" <<YAML
name: $name
dataset: $dataset
shard_size: 16
sources:
  - urls: {file: $urls}
crawl:
  resize: {mode: center_crop, size: 32}
  per_host: {concurrency: 8, requests_per_second: 500}
  lease_ttl_s: 20
  allow_private_networks: true  # the origin is on loopback
YAML
}
