#!/usr/bin/env bash
# Runs bench_imaging_resize and its PIL counterpart side by side on the same
# generated photo-like JPEGs and prints both rates, the ratios and peak RSS.
#
#   bench/imaging/run_bench.sh [BUILD_DIR] [COUNT] [ROUNDS] [REPEATS]
#
# BUILD_DIR defaults to build-imaging (bench_imaging_resize must be built).
# Two sets of COUNT 1024x768 JPEGs (default 100) are generated: "typical"
# (~1 bit/pixel: grain 2, quality 90) and "detailed" (~2 bits/pixel: grain
# 4, quality 92). Every variant runs ROUNDS passes (default 2); the variants
# are run REPEATS times in turn (default 3) and the best rate of each is kept.
# Rates are images per CPU-second of the process (per core), so that time
# spent waiting for a CPU on a shared machine does not count. All variants
# are single-threaded and pinned to the same CPU when taskset exists. Work per
# image: decode, centre crop 256 (Lanczos-3), JPEG quality 90.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-build-imaging}"
count="${2:-100}"
rounds="${3:-2}"
repeats="${4:-3}"
bin="${build}/bin/bench_imaging_resize"
[[ -x "${bin}" ]] || { echo "missing ${bin}: build the bench_imaging_resize target" >&2; exit 1; }
/usr/bin/python3 -c 'import PIL' 2>/dev/null || { echo "PIL missing: apt-get install python3-pil" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/atelier-imaging-bench-XXXXXX")"
trap 'rm -rf "${work}"' EXIT
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

# run KEY CMD...: appends "rate rss_kib" to ${work}/KEY.results
run() {
  local key="$1"; shift
  /usr/bin/time -v -o "${work}/${key}.time" "${pin[@]}" "$@" > "${work}/${key}.out"
  local rate rss
  rate="$(grep -o '= [0-9.]* images/s per core' "${work}/${key}.out" | awk '{print $2}')"
  rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "${work}/${key}.time")"
  echo "${rate} ${rss}" >> "${work}/${key}.results"
}
best_rate() { sort -k1,1 -g -r "${work}/$1.results" | head -1 | awk '{print $1}'; }
max_rss_mib() { sort -k2,2 -g -r "${work}/$1.results" | head -1 | awk '{printf "%.1f", $2 / 1024}'; }

bench_set() {
  local name="$1" grain="$2" quality="$3"
  local images="${work}/${name}"
  echo "== set '${name}':"
  "${bin}" --generate "${images}" --count "${count}" --grain "${grain}" --source-quality "${quality}"
  local common=(--input "${images}" --size 256 --quality 90 --rounds "${rounds}")
  for ((i = 0; i < repeats; ++i)); do
    run "${name}_atelier" "${bin}" "${common[@]}"
    run "${name}_pil" /usr/bin/python3 "${here}/pil_resize.py" "${common[@]}"
    run "${name}_separate" "${bin}" "${common[@]}" --separate
    run "${name}_atelier_full" "${bin}" "${common[@]}" --full-decode
    run "${name}_pil_full" /usr/bin/python3 "${here}/pil_resize.py" "${common[@]}" --full-decode
  done
  printf '%-46s %10s %13s\n' "variant (best of ${repeats})" "img/s/core" "peak RSS MiB"
  local key label
  for pair in "atelier:atelier DecodeAndResize (DCT-scaled)" "separate:atelier DecodeImage(scaled) + Resize" \
              "pil:PIL draft + ImageOps.fit LANCZOS" "atelier_full:atelier full decode + Resize" \
              "pil_full:PIL full decode + ImageOps.fit LANCZOS"; do
    key="${name}_${pair%%:*}"; label="${pair#*:}"
    printf '%-46s %10s %13s\n' "${label}" "$(best_rate "${key}")" "$(max_rss_mib "${key}")"
  done
  printf 'ratio DecodeAndResize / PIL draft:        %.2fx\n' \
    "$(echo "$(best_rate "${name}_atelier") / $(best_rate "${name}_pil")" | bc -l)"
  printf 'ratio DecodeImage + Resize / PIL draft:   %.2fx\n' \
    "$(echo "$(best_rate "${name}_separate") / $(best_rate "${name}_pil")" | bc -l)"
  printf 'ratio full decode / PIL full decode:      %.2fx\n' \
    "$(echo "$(best_rate "${name}_atelier_full") / $(best_rate "${name}_pil_full")" | bc -l)"
  echo
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -m), PIL $(/usr/bin/python3 -c 'import PIL; print(PIL.__version__)'), ${count} images x ${rounds} rounds, best of ${repeats}"
bench_set typical 2 90
bench_set detailed 4 92
