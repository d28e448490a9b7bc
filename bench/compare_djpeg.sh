#!/usr/bin/env bash
# Side-by-side JPEG decode throughput: libjpeg-turbo's djpeg vs stripflow, on the same files.
#
# stripflow is timed by the criterion bench benches/jpeg_decode.rs (full decode and 1/8
# shrink-on-load of an 8192x8192 baseline 4:2:0 and an 8192x8192 progressive JPEG, output rows
# discarded); the bench prints the paths of the files it generated, and djpeg decodes those very
# files to /dev/null (`djpeg -outfile /dev/null`, and with `-scale 1/8`), best of RUNS runs.
# Throughput is in megapixels of the JPEG per second for both (not of the scaled output).
#
# Usage: bench/compare_djpeg.sh            (RUNS=5 by default; MEASURE=3 seconds per bench)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
MEASURE=${MEASURE:-3}
command -v djpeg >/dev/null || { echo "SKIPPED: djpeg not found"; exit 0; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo bench --bench jpeg_decode -- --warm-up-time 1 --measurement-time "$MEASURE" 2>/dev/null | tee "$log" >/dev/null

# best wall time in seconds of RUNS runs of a command
best_of() {
    local best=""
    for _ in $(seq "$RUNS"); do
        local start end t
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}

# criterion's median time of a bench, in seconds
stripflow_time() {
    awk -v name="jpeg_decode/$1" '
        $1 == name { found = 1 }
        found && /time:/ { v = $4; u = $5; found = 0
            if (u == "ms") v /= 1000; else if (u == "µs" || u == "us") v /= 1e6; print v; exit }' "$log"
}

printf "%-22s %-6s %12s %12s %12s %12s %8s\n" file scale "djpeg s" "djpeg MP/s" "stripflow s" "strip MP/s" ratio
for kind in baseline progressive; do
    file=$(awk -v k="$kind" '$1 == "JPEG_BENCH_FILE" && $2 == k { print $3; exit }' "$log")
    [ -n "$file" ] || { echo "no $kind file in bench output"; exit 1; }
    mp=$(echo "8192 * 8192 / 1000000" | bc -l)
    for scale in 1 8; do
        d=$(best_of djpeg -scale "1/$scale" -outfile /dev/null "$file")
        name="${kind}_8k_full"; [ "$scale" = 8 ] && name="${kind}_8k_scale_1_8"
        s=$(stripflow_time "$name")
        printf "%-22s 1/%-4s %12.3f %12.1f %12.3f %12.1f %7.2fx\n" "$kind 8192x8192" "$scale" \
            "$d" "$(echo "$mp / $d" | bc -l)" "$s" "$(echo "$mp / $s" | bc -l)" "$(echo "$d / $s" | bc -l)"
    done
done
echo "(ratio = stripflow throughput / djpeg throughput; machine load affects both: $(uptime | sed 's/.*load/load/'))"
