#!/bin/bash
# Proves the container image's runtime package list without a container
# engine: builds a root file system from exactly deploy/docker/runtime-packages.txt
# (the list the Dockerfile's runtime stage installs) and runs the executables
# in it, inside `chroot` as uid:gid 10001:10001 (the image's USER), the root
# mounted read-only (Kubernetes' readOnlyRootFilesystem) with writable /tmp
# and /work mounts, through /usr/bin/tini (the image's ENTRYPOINT):
#
#  1. apt resolves the list's dependency closure as on an empty system
#     (`apt-get -s` against an empty dpkg status, no recommends), `apt-get
#     download` fetches each package into CACHE_DIR (kept, so reruns download
#     nothing), `dpkg -x` unpacks them into a temp root, `ldconfig -r` builds
#     its loader cache; the image's executables (what the Dockerfile's
#     Debian build stage puts in /build/bin) are copied to /usr/local/bin.
#     nccl_allreduce_check, built only where the CUDA toolkit is installed,
#     belongs to the CUDA variant and is left out.
#  2. The root's own dynamic loader lists every executable's libraries
#     (`ld-linux --list`); any "not found" fails, naming the library.
#  3. `--help` of every executable exits 0.
#  4. `atelier status --watch --timeout-s 120` (the Kubernetes trainer's
#     wait-for-crawl command) starts before the coordinator and must return 0
#     once the crawl is done; `atelier coordinator` + `atelier crawler` crawl a
#     loopback origin (generated PNGs served on 127.0.0.1 from outside the
#     root); the shards must hold every image; SIGTERM to tini must stop the
#     coordinator with exit 0.
#  5. `atelier train` (1 epoch) writes model.pt; `atelier predict` classifies
#     an origin image with it.
#
# Mounts are made in a private mount namespace (unshare), so they disappear
# with the test, whatever way it ends. The root holds only the list's
# dependency closure, not bookworm-slim's base system: stricter than the image.
#
# Usage: runtime_root_test.sh BIN_DIR CACHE_DIR [RUNTIME_LIST]
# Exit 77 (ctest: skipped) when not root; needs apt-get, dpkg, chroot, unshare
# and the Debian archive (first run only). ATELIER_KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
usage="usage: runtime_root_test.sh BIN_DIR CACHE_DIR [RUNTIME_LIST]"
bin="${1:?$usage}"
cache="${2:?$usage}"
list="${3:-$repo/deploy/docker/runtime-packages.txt}"
# shellcheck source=tests/deploy/deploy_test_lib.sh
source "$here/deploy_test_lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: runtime_root_test.sh needs root (chroot, mount, mknod)"
  exit 77
fi
# Private mount namespace: every mount below dies with this process.
if [ -z "${ATELIER_RUNTIME_ROOT_NS:-}" ]; then
  ATELIER_RUNTIME_ROOT_NS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

bin="$(cd "$bin" && pwd)"
image_executables=(atelier atelier-coordinator atelier-crawler atelier-status atelier-pull
                   atelier-trainer atelier-demo)
for exe in "${image_executables[@]}"; do
  [ -x "$bin/$exe" ] || fail "$bin/$exe is missing (build it first)"
done
[ -r "$list" ] || fail "cannot read the runtime package list $list"
mapfile -t packages < <(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | sed '/^$/d')
[ "${#packages[@]}" -ge 1 ] || fail "$list names no packages"

work="$(mktemp -d /tmp/atelier-runtime-root.XXXXXX)"
cleanup() {
  local code=$?
  set +e
  deploy_origin_stop
  if [ -n "${coordinator_pid:-}" ]; then kill -KILL "$coordinator_pid" 2>/dev/null; fi
  if [ -n "${watch_pid:-}" ]; then kill -KILL "$watch_pid" 2>/dev/null; fi
  if [ "$code" -ne 0 ]; then
    for f in "$work"/*.log; do
      case "$f" in */resolve.log) continue ;; esac
      [ -f "$f" ] && { echo "== $f" >&2; tail -n 40 "$f" >&2; }
    done
  fi
  umount -R "$work/root" 2>/dev/null
  if [ "${ATELIER_KEEP_TMP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$code"
}
trap cleanup EXIT

echo "== resolving ${#packages[@]} packages of $list as on an empty system"
if ! apt-get -s -o Dir::State::status=/dev/null install --no-install-recommends "${packages[@]}" \
     >"$work/resolve.log" 2>&1; then
  apt-get update >/dev/null 2>&1 || true
  apt-get -s -o Dir::State::status=/dev/null install --no-install-recommends "${packages[@]}" \
    >"$work/resolve.log" 2>&1 || fail "apt cannot install $list: $(tail -n 3 "$work/resolve.log")"
fi
mapfile -t closure < <(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' "$work/resolve.log")
[ "${#closure[@]}" -ge "${#packages[@]}" ] || fail "apt resolved only ${#closure[@]} packages"
echo "   ${#closure[@]} packages with dependencies"

mkdir -p "$cache"
missing=()
for entry in "${closure[@]}"; do
  name="${entry%%=*}" version="${entry#*=}"
  compgen -G "$cache/${name}_${version//:/%3a}_*.deb" >/dev/null || missing+=("$entry")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== apt-get download ${#missing[@]} packages into $cache"
  (cd "$cache" && apt-get download "${missing[@]}" >"$work/download.log" 2>&1) \
    || fail "apt-get download failed: $(tail -n 3 "$work/download.log")"
fi

root="$work/root"
echo "== unpacking ${#closure[@]} packages into $root"
mkdir -p "$root"
for entry in "${closure[@]}"; do
  name="${entry%%=*}" version="${entry#*=}"
  debs=("$cache/${name}_${version//:/%3a}_"*.deb)
  dpkg -x "${debs[0]}" "$root" || fail "dpkg -x ${debs[0]}"
done
# dpkg -x runs no maintainer scripts; the postinst of libblas3 and liblapack3
# registers these update-alternatives links, which libtorch needs.
multiarch="$root/usr/lib/x86_64-linux-gnu"
for alt in blas/libblas.so.3 lapack/liblapack.so.3; do
  if [ -e "$multiarch/$alt" ] && [ ! -e "$multiarch/${alt#*/}" ]; then
    ln -s "$alt" "$multiarch/${alt#*/}"
  fi
done
ldconfig -r "$root" || fail "ldconfig -r $root"
mkdir -p "$root/usr/local/bin" "$root/proc" "$root/dev/shm" "$root/tmp" "$root/work"
for exe in "${image_executables[@]}"; do cp -a "$bin/$exe" "$root/usr/local/bin/"; done
for node in "null c 1 3" "zero c 1 5" "random c 1 8" "urandom c 1 9"; do
  read -r dev type major minor <<<"$node"
  mknod -m 666 "$root/dev/$dev" "$type" "$major" "$minor"
done

# Writable data (owned by the image's uid), the origin next to it.
rw="$work/rw"
mkdir -p "$rw"
deploy_origin_start "$rw" || fail "the loopback origin did not start"
deploy_write_job_spec "$rw/job.yaml" runtime-root /work/data /work/urls.csv
chown -R 10001:10001 "$rw"

# The root read-only, as readOnlyRootFilesystem mounts it; writable mounts on top.
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount --bind "$rw" "$root/work"
if touch "$root/usr/local/bin/.probe" 2>/dev/null; then fail "the root is writable after the read-only remount"; fi

# In the root as 10001:10001 with a container's clean environment.
chroot_bin="$(command -v chroot)" || fail "chroot not found"
in_root_cmd=(env -i HOME=/tmp TMPDIR=/tmp PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TINI_SUBREAPER=1
             "$chroot_bin" --userspec=10001:10001 "$root")
in_root() { "${in_root_cmd[@]}" "$@"; }

echo "== shared libraries (the root's own loader)"
loader=/lib64/ld-linux-x86-64.so.2
for name in "${image_executables[@]}"; do
  in_root "$loader" --list "/usr/local/bin/$name" >"$work/ldd-$name.log" 2>&1 \
    || fail "$name: the loader cannot list its libraries: $(grep -m3 . "$work/ldd-$name.log")"
  if grep -q "not found" "$work/ldd-$name.log"; then
    fail "$name needs libraries missing from $list: $(grep 'not found' "$work/ldd-$name.log" | awk '{print $1}' | tr '\n' ' ')"
  fi
done

echo "== --help of every executable"
for name in "${image_executables[@]}"; do
  timeout 60 "${in_root_cmd[@]}" "/usr/local/bin/$name" --help >"$work/help-$name.log" 2>&1 \
    || fail "$name --help failed in the root: $(grep -m3 . "$work/help-$name.log")"
done
timeout 60 "${in_root_cmd[@]}" /usr/bin/tini -- /usr/local/bin/atelier --help >"$work/help-entrypoint.log" 2>&1 \
  || fail "the entrypoint (tini -- atelier --help) failed: $(grep -m3 . "$work/help-entrypoint.log")"

echo "== crawl: status --watch first, then coordinator + crawler"
port="$(deploy_free_port)"
"${in_root_cmd[@]}" /usr/bin/tini -- /usr/local/bin/atelier status --coordinator "127.0.0.1:$port" \
  --watch --json --interval-ms 500 --timeout-s 120 >"$work/watch.log" 2>&1 &
watch_pid=$!
sleep 2  # the watcher must be waiting before the coordinator listens
kill -0 "$watch_pid" 2>/dev/null || fail "atelier status --watch --timeout-s 120 gave up before the coordinator started"
# Not through the in_root function: a backgrounded function is a subshell, and
# $! must be the pid that becomes tini (env execs chroot, chroot execs tini).
"${in_root_cmd[@]}" /usr/bin/tini -- /usr/local/bin/atelier coordinator --spec /work/job.yaml \
  --state /work/state/coordinator --listen "127.0.0.1:$port" >"$work/coordinator.log" 2>&1 &
coordinator_pid=$!
deploy_wait_for 60 in_root /usr/local/bin/atelier status --coordinator "127.0.0.1:$port" --json --timeout-s 1 \
  || fail "the coordinator did not come up in the root"
timeout 300 "${in_root_cmd[@]}" /usr/bin/tini -- /usr/local/bin/atelier crawler --coordinator "127.0.0.1:$port" \
  --state /work/state/crawler --data /work/data --concurrency 8 --name crawler-0 \
  >"$work/crawler.log" 2>&1 || fail "the crawler failed in the root"
deploy_wait_for 60 bash -c "! kill -0 $watch_pid" || fail "atelier status --watch did not return after the crawl"
wait "$watch_pid" || fail "atelier status --watch exited $? after the crawl"
watch_pid=""
kill -TERM "$coordinator_pid"
deploy_wait_for 60 bash -c "! kill -0 $coordinator_pid" || fail "the coordinator ignored SIGTERM through tini"
wait "$coordinator_pid" || fail "the coordinator exited $? on SIGTERM"
coordinator_pid=""

samples=0
for shard in "$rw"/data/shards/*.tar; do
  [ -f "$shard" ] || fail "no shards under /work/data/shards"
  count="$(in_root /usr/local/bin/atelier shard ls --json "/work/data/shards/$(basename "$shard")" | grep -c '"key"')" \
    || fail "atelier shard ls $(basename "$shard") failed"
  samples=$((samples + count))
done
[ "$samples" -eq "$deploy_origin_images" ] \
  || fail "the shards hold $samples samples, the origin served $deploy_origin_images"

echo "== train (1 epoch) and predict"
timeout 600 "${in_root_cmd[@]}" /usr/bin/tini -- /usr/local/bin/atelier train --data /work/data --out /work/run \
  --epochs 1 --image-size 32 --width 8 --depth 2 --batch-size 16 --threads 1 --decode-threads 1 --plain \
  >"$work/train.log" 2>&1 || fail "atelier train failed in the root"
[ -s "$rw/run/model.pt" ] || fail "atelier train wrote no /work/run/model.pt"
timeout 120 "${in_root_cmd[@]}" /usr/bin/tini -- /usr/local/bin/atelier predict --checkpoint /work/run/model.pt --json \
  /work/origin/red-00.png >"$work/predict.log" 2>&1 || fail "atelier predict failed in the root"
grep -q '"color"' "$work/predict.log" || fail "atelier predict printed no prediction for the head 'color'"

echo "PASS: ${#closure[@]} packages from $list; ${#image_executables[@]} executables load and run as 10001 on a read-only root: crawl ($samples samples), train, predict"
