#!/usr/bin/env bash
# Packs nccl_allreduce_check with the shared libraries it needs that a bare GPU
# machine may lack (Debian's abseil, the CUDA runtime), so that it can run on a
# GPU machine without this project's build dependencies.
#
#   trainer/gpu/tools/bundle_check.sh BUILD_DIR OUT_DIR
#
# OUT_DIR/run.sh then runs the check there. libnccl.so.2 (about 200 MB) is not
# packed: run.sh looks for it in the CUDA toolkit and in the NCCL wheel next to
# the GPU machine's PyTorch (nvidia/nccl/lib).
set -euo pipefail
build=${1:?usage: bundle_check.sh BUILD_DIR OUT_DIR}
out=${2:?usage: bundle_check.sh BUILD_DIR OUT_DIR}
bin="$build/bin/nccl_allreduce_check"
[[ -x "$bin" ]] || { echo "bundle_check.sh: $bin not built (ninja -C $build nccl_allreduce_check)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/lib"
cp "$bin" "$out/"
# Every resolved dependency except the C/C++ runtime and NCCL.
ldd "$bin" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*|libnccl.so*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs nccl_allreduce_check with the packed libraries; arguments pass through.
here=$(cd "$(dirname "$0")" && pwd)
nccl_dirs=""
for py in python3 /usr/bin/python3; do
  d=$("$py" -c 'import os, nvidia.nccl as n; print(os.path.join(list(n.__path__)[0], "lib"))' 2>/dev/null) && nccl_dirs="$nccl_dirs:$d" && break
done
# One node: NCCL's bootstrap only needs loopback.
export NCCL_SOCKET_IFNAME="${NCCL_SOCKET_IFNAME:-lo}"
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib${nccl_dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/nccl_allreduce_check" "$@"
RUN
chmod +x "$out/run.sh"
du -sh "$out"
