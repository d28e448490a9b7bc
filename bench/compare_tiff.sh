#!/usr/bin/env bash
# Whole-process JPEG -> TIFF: stripflow vs libvips, per compression, wall time and peak RSS
# (`/usr/bin/time -v`), median of RUNS runs each, output files written to a temporary folder.
#
#   stripflow convert IN OUT.tif --tiff-compression {none,lzw,deflate}
#   vips copy IN 'OUT.tif[compression={none,lzw,deflate},predictor=horizontal]'
#
# Both use the horizontal predictor with LZW and deflate, and deflate level 6 (libtiff's default
# and stripflow's). vips may use both cores; stripflow uses one.
#
# Usage: bench/compare_tiff.sh IN.jpg [RUNS]   (stripflow from target/release; build it first)
set -euo pipefail
IN=$1
RUNS=${2:-3}
SF="$(cd "$(dirname "$0")/.." && pwd)/target/release/stripflow"
command -v vips >/dev/null || { echo "SKIPPED: vips not found"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# median of RUNS: "seconds max_rss_kib bytes" of a command writing $out/o.tif
measure() {
    local rows=()
    for _ in $(seq "$RUNS"); do
        rm -f "$out/o.tif"
        /usr/bin/time -v "$@" 2>"$out/time" >/dev/null
        local wall rss
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$out/time")
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out/time")
        rows+=("$wall $rss $(stat -c %s "$out/o.tif")")
    done
    printf '%s\n' "${rows[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

echo "| tool | compression | time (s) | peak RSS (MiB) | file (MB) |"
echo "|---|---|---:|---:|---:|"
for c in none lzw deflate; do
    read -r t r b <<<"$(measure "$SF" convert "$IN" "$out/o.tif" --tiff-compression "$c")"
    printf '| stripflow | %s | %.2f | %.1f | %.1f |\n' "$c" "$t" "$(echo "$r / 1024" | bc -l)" "$(echo "$b / 1000000" | bc -l)"
    opts="compression=$c"
    [ "$c" != none ] && opts="$opts,predictor=horizontal"
    read -r t r b <<<"$(measure vips copy "$IN" "$out/o.tif[$opts]")"
    printf '| vips | %s | %.2f | %.1f | %.1f |\n' "$c" "$t" "$(echo "$r / 1024" | bc -l)" "$(echo "$b / 1000000" | bc -l)"
done
