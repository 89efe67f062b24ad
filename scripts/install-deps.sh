#!/usr/bin/env bash
# Installs every Debian package atelier needs to build, test and run
# (the list is scripts/apt-packages.txt). Idempotent and non-interactive:
# when everything is already installed it changes nothing and asks no mirror.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t packages < <(grep -vE '^\s*(#|$)' "$here/apt-packages.txt")

missing=()
for p in "${packages[@]}"; do
  # Debian's kubernetes-client ships /usr/bin/kubectl; a kubectl installed some
  # other way (a newer release, a cloud SDK) would conflict with it, and any
  # kubectl serves tests/deploy, so keep the one that is there.
  if [ "$p" = kubernetes-client ] && command -v kubectl >/dev/null 2>&1; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
