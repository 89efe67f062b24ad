#!/bin/bash
# Coordinator benchmarks, each beside its competitor in the same run.
#   bench/coordinator/run.sh [BUILD_DIR] [WORK_DIR]
# 1. BAM ingest (390k and 2M rows): atelier's streaming ingest into RocksDB vs
#    the seeds' Python script (fetchall + JSON-lines shards); time and peak RSS.
# 2. Leases per second from 8 concurrent gRPC clients on loopback (1 client as
#    the baseline), each lease followed by a CompleteShard.
# 3. GetStatus latency with 2M items in the job.
set -euo pipefail
BUILD=${1:-build-coordinator}
WORK=${2:-/tmp/atelier-coordinator-bench}
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"

peak_rss_mb() { grep "Maximum resident" "$1" | awk '{printf "%.0f", $6/1024}'; }
wall_s() { grep "Elapsed (wall" "$1" | awk '{print $NF}'; }

wait_for() {  # wait until atelier-status answers
  for _ in $(seq 1 600); do
    "$BIN/atelier-status" --coordinator "$1" --json --timeout-s 1 >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "coordinator $1 did not come up" >&2; return 1
}

echo "== BAM ingest"
for ROWS in 390000 2000000; do
  DB=$WORK/bam-$ROWS.sqlite
  [ -f "$DB" ] || "$BIN/coordinator_bench" make-bam --rows $ROWS --out "$DB" >/dev/null
  cat > "$WORK/bam-$ROWS.yaml" <<YAML
name: bam-$ROWS
dataset: $WORK/data
shard_size: 1000
sources:
  - bam: {sqlite: $DB, labels: [media, emotion]}
YAML
  /usr/bin/time -v "$BIN/coordinator_bench" ingest --spec "$WORK/bam-$ROWS.yaml" \
      --state "$WORK/state-$ROWS" > "$WORK/ours-$ROWS.json" 2> "$WORK/ours-$ROWS.time"
  rm -rf "$WORK/naive-$ROWS"
  /usr/bin/time -v /usr/bin/python3 "$HERE/naive_ingest.py" "$DB" "$WORK/naive-$ROWS" 1000 \
      > "$WORK/naive-$ROWS.json" 2> "$WORK/naive-$ROWS.time"
  OURS_S=$(python3 -c "import json;print(round(json.load(open('$WORK/ours-$ROWS.json'))['seconds'],2))")
  NAIVE_S=$(python3 -c "import json;print(round(json.load(open('$WORK/naive-$ROWS.json'))['seconds'],2))")
  echo "rows=$ROWS atelier: ${OURS_S}s peak $(peak_rss_mb "$WORK/ours-$ROWS.time") MB" \
       " | python fetchall: ${NAIVE_S}s peak $(peak_rss_mb "$WORK/naive-$ROWS.time") MB" \
       " | time ratio python/atelier: $(python3 -c "print(round($NAIVE_S/$OURS_S,2))")"
  cat "$WORK/ours-$ROWS.json"
done

echo "== GetStatus latency at 2M items"
PORT=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
"$BIN/atelier-coordinator" --spec "$WORK/bam-2000000.yaml" --state "$WORK/state-2000000" \
    --listen 127.0.0.1:$PORT --log-level warn > "$WORK/coord-status.log" 2>&1 &
CPID=$!
wait_for 127.0.0.1:$PORT
"$BIN/coordinator_bench" status --coordinator 127.0.0.1:$PORT --calls 300
kill -TERM $CPID; wait $CPID || true

echo "== Leases per second (Lease + CompleteShard, 10 items a shard)"
python3 -c "
for i in range(400000): print('http://127.0.0.1:9/img/%d.jpg' % i)" > "$WORK/urls.txt"
for CLIENTS in 1 8; do
  cat > "$WORK/leases.yaml" <<YAML
name: leases
dataset: $WORK/data
shard_size: 10
sources:
  - urls: {file: $WORK/urls.txt}
YAML
  rm -rf "$WORK/state-leases"
  PORT=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  "$BIN/atelier-coordinator" --spec "$WORK/leases.yaml" --state "$WORK/state-leases" \
      --listen 127.0.0.1:$PORT --log-level warn > "$WORK/coord-leases.log" 2>&1 &
  CPID=$!
  wait_for 127.0.0.1:$PORT
  "$BIN/coordinator_bench" leases --coordinator 127.0.0.1:$PORT --clients $CLIENTS --seconds 10
  kill -TERM $CPID; wait $CPID || true
done
