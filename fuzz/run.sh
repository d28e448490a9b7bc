#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60), one after the other, then
# prints the executions and findings per target.
#
#   fuzz/run.sh 900                # 15 minutes per target
#   TARGETS="chain" fuzz/run.sh 60 # one target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); runs on the stable toolchain through
# RUSTC_BOOTSTRAP=1 (the address-sanitizer runtime ships with stable rust-std). Limits: a unit
# slower than TIMEOUT seconds (default 10), a process over RSS_MB (default 1024) or a single
# allocation over MALLOC_MB (default 256; the targets' heap budget is 64 MiB) is a finding, kept
# in fuzz/artifacts/<target>/. Logs go to fuzz/logs/<target>.log. Exits non-zero on a finding.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
timeout="${TIMEOUT:-10}"
rss_mb="${RSS_MB:-1024}"
malloc_mb="${MALLOC_MB:-256}"
export RUSTC_BOOTSTRAP=1

targets="${TARGETS:-$(cargo fuzz list)}"
[ -d corpus ] || ./seed.sh
nice -n 10 cargo fuzz build || exit 1
mkdir -p logs target
cat dict/png.dict dict/jpeg.dict > target/all.dict

status=0
summary=""
for t in $targets; do
  case "$t" in
    decode_png) dict=dict/png.dict ;;
    decode_jpeg) dict=dict/jpeg.dict ;;
    *) dict=target/all.dict ;;
  esac
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  echo "== $t: ${seconds}s" >&2
  nice -n 10 cargo fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" \
    -dict="$dict" -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*$')
  found=$(( $(ls "artifacts/$t" | wc -l) - before ))
  [ "$rc" -eq 0 ] || status=1
  summary+=$(printf '%-14s %6ss  %12s executions  exit %s  new artifacts %s' "$t" "$seconds" "${execs:-?}" "$rc" "$found")$'\n'
done
printf '\n%s' "$summary"
ls artifacts/*/ 2>/dev/null | grep -E '^(crash|timeout|oom|slow-unit|leak)-' && echo "(artifacts in fuzz/artifacts/)"
exit $status
