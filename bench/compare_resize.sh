#!/usr/bin/env bash
# Runs the resize benchmark jobs with stripflow (examples/resize_job.rs), `vips resize`
# (single-threaded: --vips-concurrency=1) and ImageMagick `convert -resize` (-limit thread 1) on
# the same generated PNG files, and prints wall time and peak RSS (/usr/bin/time -f %M) side by
# side. Outputs are PNG at fast compression for every tool (zlib level 1), so the big upscale
# measures resizing and encoding alike.
#
#   bench/compare_resize.sh [WORKDIR]        (default: target/compare-resize)
#   JOBS="down256 down1 up 8k" KERNELS="lanczos3" bench/compare_resize.sh
#
# Note: stripflow maps its input file, and /usr/bin/time's peak RSS counts the mapped pages it
# has read (page cache, not heap): about the input file's size. The heap peaks are measured by
# tests/heap_resize.rs (dhat).
#
# A tool that is not installed is reported as SKIPPED. ImageMagick's distribution policy caps
# images at 128 MP / 1 GiB of disk cache, which the 16384^2 jobs exceed, so convert runs with a
# policy of its own (MAGICK_CONFIGURE_PATH) raising those limits.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/compare-resize}
mkdir -p "$work"
jobs=${JOBS:-"down256 down1 up 8k"}
kernels=${KERNELS:-"nearest linear cubic mitchell lanczos2 lanczos3"}

cargo build --release --quiet --example resize_job
job=target/release/examples/resize_job
[ -x /usr/bin/time ] || { echo "SKIPPED: /usr/bin/time not found"; exit 0; }
mkdir -p "$work/impolicy"
cat > "$work/impolicy/policy.xml" <<'POLICY'
<policymap>
  <policy domain="resource" name="memory" value="16GiB"/>
  <policy domain="resource" name="map" value="16GiB"/>
  <policy domain="resource" name="width" value="64KP"/>
  <policy domain="resource" name="height" value="64KP"/>
  <policy domain="resource" name="area" value="4GP"/>
  <policy domain="resource" name="disk" value="16GiB"/>
</policymap>
POLICY
export MAGICK_CONFIGURE_PATH="$(cd "$work/impolicy" && pwd)"

gen() { # name w h
  [ -f "$work/$1.png" ] || { echo "generating $1.png ($2x$3)" >&2; "$job" --generate "$work/$1.png" "$2x$3"; }
}

# Runs a command, prints "seconds peak-MiB" (or SKIPPED / FAILED).
measure() {
  if ! command -v "$1" >/dev/null 2>&1; then echo "SKIPPED"; return; fi
  if /usr/bin/time -o "$work/time.txt" -f "TIME %e %M" "$@" >/dev/null 2>&1; then
    awk '/^TIME/ { printf "%7.2f s %8.1f MiB", $2, $3 / 1024 }' "$work/time.txt"
  else
    echo "FAILED"
  fi
}

# Kernel names of ImageMagick's -filter.
im_filter() {
  case $1 in
    nearest) echo Point ;; linear) echo Triangle ;; cubic) echo Catrom ;; mitchell) echo Mitchell ;;
    lanczos2) echo Lanczos2 ;; lanczos3) echo Lanczos ;;
  esac
}

row() { # label input w h hscale vscale kernel
  local label=$1 in=$2 w=$3 h=$4 hs=$5 vs=$6 k=$7
  local s v m
  s=$(measure "$job" "$in" "$work/out-sf.png" "${w}x${h}" "$k")
  v=$(measure vips resize "$in" "$work/out-vips.png[compression=1]" "$hs" --vscale "$vs" --kernel "$k" --vips-concurrency=1)
  m=$(measure convert -limit thread 1 "$in" -filter "$(im_filter "$k")" -resize "${w}x${h}!" \
      -define png:compression-level=1 "$work/out-im.png")
  printf "%-34s | %-22s | %-22s | %-22s\n" "$label" "$s" "$v" "$m"
}

printf "%-34s | %-22s | %-22s | %-22s\n" "job" "stripflow" "vips (1 thread)" "convert (1 thread)"
printf -- "---------------------------------------------------------------------------------------------------------------\n"
for j in $jobs; do
  case $j in
    down256) gen big 16384 16384; row "16384^2 -> 256^2 lanczos3" "$work/big.png" 256 256 0.015625 0.015625 lanczos3 ;;
    down1)   gen big 16384 16384; row "16384^2 -> 1x1 lanczos3" "$work/big.png" 1 1 0.00006103515625 0.00006103515625 lanczos3 ;;
    up)      gen small 64 64;     row "64^2 -> 16384^2 lanczos3" "$work/small.png" 16384 16384 256 256 lanczos3 ;;
    8k)      gen 8k 8192 8192
             for k in $kernels; do row "8192^2 -> 1920^2 $k" "$work/8k.png" 1920 1920 0.234375 0.234375 "$k"; done ;;
  esac
done
echo
echo "stripflow's RSS includes the pages of its memory-mapped input file (~ the file size); heap peaks: tests/heap_resize.rs"
