#!/usr/bin/env bash
# Run ON THE GPU MACHINE (device tool), in the repository root, after
# scripts/gpu-prepare-carry.sh here:
#   run(command="scripts/gpu-session.sh", carry=[".gpu-carry"], timeout_s=600)
# Unpacks the carried .debs into /tmp/debroot, builds the CUDA trainer against
# the machine's pip torch (CUDA LibTorch) and its NCCL wheel, runs the GPU
# tests (the NCCL check, CUDA training and resuming on the CPU), imports the benchmark dataset
# and runs bench/gpu/run_gpu_bench.sh. Logs go to $OUT (or /tmp/gpu-out).
set -euo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
ROOT=/tmp/debroot
for f in .gpu-carry/debs/*.deb; do dpkg -x "$f" "$ROOT"; done
ARCH_LIB=$ROOT/usr/lib/x86_64-linux-gnu
export PATH=$ROOT/usr/bin:$PATH LD_LIBRARY_PATH=$ARCH_LIB:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_SYSROOT_DIR=$ROOT PKG_CONFIG_LIBDIR=$ARCH_LIB/pkgconfig:$ROOT/usr/share/pkgconfig
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
NCCL=$(python3 -c 'import nvidia.nccl as n; print(list(n.__path__)[0])')
export LD_LIBRARY_PATH=$NCCL/lib:$LD_LIBRARY_PATH
set -o pipefail
cmake -S . -B build-cuda -G Ninja -DATELIER_CUDA=ON -DATELIER_BUILD_BENCH=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$ROOT/usr" -DCMAKE_INCLUDE_PATH="$ROOT/usr/include" \
  -DCMAKE_LIBRARY_PATH="$ARCH_LIB" -DATELIER_NCCL_ROOT="$NCCL" -DATELIER_NCCL_LIB="$NCCL/lib/libnccl.so.2" \
  2>&1 | tee "$OUT/configure.log"
cmake --build build-cuda -j "$(nproc)" --target atelier-trainer nccl_allreduce_check trainer_tests gpu_nccl_tests \
  2>&1 | tail -50 | tee "$OUT/build.log"
# The GPU tests (they skip without a GPU) and the device-generic ones.
ctest --test-dir build-cuda -R 'nccl|Nccl|TrainsOnTheGpu|GradientSync|PrepareImages|TwoRanks|Bf16|AutocastGuard' \
  --output-on-failure 2>&1 | tee "$OUT/gpu-tests.log"
bench/gpu/make_dataset.sh build-cuda /tmp/fm128 .gpu-carry/fashion-mnist > "$OUT/import.log" 2>&1
bench/gpu/run_gpu_bench.sh build-cuda /tmp/fm128 /tmp/gpu-bench 2>&1 | tee "$OUT/bench.log"
