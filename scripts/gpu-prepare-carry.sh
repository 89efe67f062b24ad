#!/usr/bin/env bash
# Run HERE (a Debian bookworm machine with apt) before a GPU session: fills
# .gpu-carry/ (in .gitignore) with what the lent GPU
# machine lacks: the .deb files of atelier's C++ build dependencies (their
# closure minus what every Linux image has; about 36 MB) and Fashion-MNIST's
# training IDX files (26 MB) for the >= 50k-image benchmark dataset. Together
# with the working tree this stays under the device tool's 64 MiB carry limit.
# Then, on the GPU machine: scripts/gpu-session.sh (docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu-carry && mkdir -p .gpu-carry/debs .gpu-carry/fashion-mnist
PKGS="libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libabsl-dev librocksdb-dev
      libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev libjpeg62-turbo-dev
      libpng-dev libwebp-dev libsqlite3-dev libyaml-cpp-dev libgtest-dev libgmock-dev libcpp-httplib-dev
      zlib1g-dev libssl-dev pkgconf"
# The closure, without the C library, the compiler and other base packages.
BASE='^(libc6|libc6-dev|libgcc-s1|libstdc\+\+6|libstdc\+\+-12-dev|gcc-12-base|libc-dev-bin|linux-libc-dev|debconf|dpkg|perl.*|tar|libcrypt.*|cpp.*|gcc.*|g\+\+.*|binutils.*|libselinux1|libpcre2.*|zlib1g|libzstd1|liblzma5|libbz2-1.0|libtinfo6|libgmp10|libmpfr6|libmpc3|libisl23|lib(gomp|itm|atomic|asan|lsan|tsan|ubsan|quadmath|cc1-)[0-9].*|libctf.*|libjansson4|libsframe.*|rpcsvc-proto|libtirpc.*|libnsl.*|libgprofng0|libdebconfclient0|libacl1|libaudit.*|libcap-ng0|libmd0|coreutils|debianutils|libkrb5.*|libgssapi.*|libk5crypto3|libcom-err2|libkeyutils1|libdb5.3|libsemanage.*|libsepol2|libbsd0|libtasn1-6|libffi8|libp11-kit0|libunistring2|libidn2-0|libgnutls30|libnettle8|libhogweed6|<.*>)$'
CLOSURE=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances $PKGS | grep '^\w' | sort -u | grep -v -E "$BASE")
(cd .gpu-carry/debs && apt-get download $CLOSURE)
cp /usr/share/datasets/fashion-mnist/train-*-idx1-ubyte.gz /usr/share/datasets/fashion-mnist/train-*-idx3-ubyte.gz \
  .gpu-carry/fashion-mnist/
du -sh .gpu-carry
