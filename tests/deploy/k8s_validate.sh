#!/bin/bash
# Renders every kustomize overlay under deploy/k8s/overlays with
# `kubectl kustomize` and validates every rendered object against the
# Kubernetes OpenAPI schemas, offline, with the pinned npm package
# kubernetes-models (tests/deploy/k8s-validator: package.json +
# package-lock.json, installed with `npm ci`).
#
# Usage: tests/deploy/k8s_validate.sh [WORK_DIR]
#   WORK_DIR: where the validator is installed and renders are kept (default:
#   a temp dir, removed at the end). Reusing it skips `npm ci` while the lock
#   file is unchanged.
#   KUBECTL: the kubectl to use (default: kubectl on PATH). Works with Debian
#   bookworm's kubectl 1.20 (kustomize v2) and current releases.
#   ATELIER: the atelier executable; when set, the Indexed Job that
#   `atelier sweep --emit k8s` writes is validated too.
#
# Before the manifests it proves the validator can fail: a valid Pod with a
# grpc: probe must pass, and each deliberately broken object (a string port,
# a Deployment without selector and template, an unknown kind) must fail.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kubectl="${KUBECTL:-kubectl}"

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v "$kubectl" >/dev/null || fail "$kubectl not found (Debian: apt-get install kubernetes-client)"
command -v node >/dev/null || fail "node not found"
command -v npm >/dev/null || fail "npm not found"

if [ $# -ge 1 ]; then
  work="$1"
  mkdir -p "$work"
else
  work="$(mktemp -d /tmp/atelier-k8s-validate.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
fi
work="$(cd "$work" && pwd)"

echo "== kubectl: $("$kubectl" version --client 2>/dev/null | head -n1)"

# The validator: reinstall only when the lock file changed.
validator="$work/k8s-validator"
mkdir -p "$validator"
cp "$here/k8s-validator/package.json" "$here/k8s-validator/package-lock.json" \
  "$here/k8s-validator/validate.js" "$validator/"
stamp="$(sha256sum "$validator/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$validator/node_modules" ] || [ "$(cat "$validator/.installed" 2>/dev/null)" != "$stamp" ]; then
  echo "== npm ci in $validator"
  (cd "$validator" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed in $validator"
  echo "$stamp" >"$validator/.installed"
fi
validate() { node "$validator/validate.js" "$@"; }

echo "== self-check: the validator accepts a valid object and rejects broken ones"
cat >"$work/good.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: good}
spec:
  containers:
    - name: c
      image: atelier:latest
      readinessProbe: {grpc: {port: 7070}, periodSeconds: 5}
YAML
validate "$work/good.yaml" || fail "the validator rejected a valid Pod with a grpc probe"
broken=(
  'apiVersion: v1
kind: Pod
metadata: {name: string-port}
spec:
  containers:
    - {name: c, image: atelier:latest, readinessProbe: {grpc: {port: "seventy"}}}'
  'apiVersion: apps/v1
kind: Deployment
metadata: {name: no-selector}
spec: {replicas: 2}'
  'apiVersion: batch/v1
kind: Job
metadata: {name: bad-mode}
spec:
  completions: two
  template: {spec: {containers: [{name: c, image: x}], restartPolicy: Never}}'
  'apiVersion: v1
kind: Pood
metadata: {name: unknown-kind}'
)
for i in "${!broken[@]}"; do
  printf '%s\n' "${broken[$i]}" >"$work/broken-$i.yaml"
  if validate "$work/broken-$i.yaml"; then
    fail "the validator accepted broken object $i: ${broken[$i]}"
  fi
done

status=0
shopt -s nullglob
overlays=("$repo"/deploy/k8s/overlays/*/)
[ "${#overlays[@]}" -ge 1 ] || fail "no overlays under $repo/deploy/k8s/overlays"
for overlay in "${overlays[@]}"; do
  overlay="${overlay%/}"
  name="$(basename "$overlay")"
  out="$work/render-$name.yaml"
  echo "== overlay $name"
  if ! "$kubectl" kustomize "$overlay" >"$out" 2>"$work/render-$name.err"; then
    cat "$work/render-$name.err" >&2
    echo "FAIL: kubectl kustomize $overlay" >&2
    status=1
    continue
  fi
  if ! validate "$out" | tee "$work/validate-$name.txt"; then
    echo "FAIL: overlay $name renders objects that do not validate" >&2
    status=1
    continue
  fi
  # Every overlay must render the whole system.
  for want in "StatefulSet/atelier-coordinator" "Service/atelier-coordinator" "Service/atelier-coordinator-pods" \
              "Job/atelier-crawler" "Job/atelier-trainer" "Service/atelier-trainer" \
              "ConfigMap/atelier-job-spec" "PersistentVolumeClaim/atelier-dataset"; do
    if ! grep -q " $want\$" "$work/validate-$name.txt"; then
      echo "FAIL: overlay $name renders no $want" >&2
      status=1
    fi
  done
  if [ "$name" = gpu ] && ! grep -q 'nvidia.com/gpu' "$out"; then
    echo "FAIL: overlay gpu requests no nvidia.com/gpu" >&2
    status=1
  fi
done

if [ -n "${ATELIER:-}" ]; then
  echo "== atelier sweep --emit k8s"
  sweep_dir="$work/sweep-emit"
  rm -rf "$sweep_dir"
  mkdir -p "$sweep_dir"
  printf 'data: /data/fmnist\nepochs: 3\nparameters:\n  lr: {choices: [0.01, 0.001, 0.0001]}\nsampler: grid\nparallel: 2\n' \
    >"$sweep_dir/sweep.yaml"
  if ! "$ATELIER" sweep --spec "$sweep_dir/sweep.yaml" --dir "$sweep_dir/sweep" --emit k8s >"$sweep_dir/emit.log" 2>&1; then
    cat "$sweep_dir/emit.log" >&2
    echo "FAIL: atelier sweep --emit k8s" >&2
    status=1
  elif ! validate "$sweep_dir/sweep/sweep-job.yaml" | tee "$work/validate-sweep.txt"; then
    echo "FAIL: the sweep's Indexed Job does not validate" >&2
    status=1
  elif ! grep -q " Job/atelier-sweep\$" "$work/validate-sweep.txt"; then
    echo "FAIL: atelier sweep --emit k8s wrote no Job/atelier-sweep" >&2
    status=1
  fi
fi
[ "$status" -eq 0 ] || exit 1
echo "PASS: ${#overlays[@]} overlays render and validate"
