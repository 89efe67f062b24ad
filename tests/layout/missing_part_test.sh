#!/usr/bin/env bash
# docs/ARCHITECTURE.md: "Every part folder is required: a missing one is a CMake
# configure error, not a smaller build." Configures a copy of the source tree
# without one part folder (and without its tests) and expects the configure to
# fail naming that folder.
# usage: missing_part_test.sh SOURCE_DIR PART
set -euo pipefail
src="${1:?usage: missing_part_test.sh SOURCE_DIR PART}"
part="${2:?usage: missing_part_test.sh SOURCE_DIR PART}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -C "$src" --exclude='./build*' --exclude=./.git --exclude="./$part" -cf - . | tar -C "$work" -xf -
if cmake -S "$work" -B "$work/build" -G Ninja -DATELIER_BUILD_TESTS=OFF -DATELIER_BUILD_BENCH=OFF \
     -DATELIER_BUILD_TRAINER=OFF > "$work/configure.log" 2>&1; then
  echo "configure succeeded without $part/"; exit 1
fi
if ! grep -q "$part" "$work/configure.log"; then
  echo "configure failed without naming $part:"; cat "$work/configure.log"; exit 1
fi
echo "ok: configure without $part/ fails naming it"
