#!/usr/bin/env bash
# Loads the viewer page `stripflow tiles` writes, for each layout, in a real headless browser and
# checks that tiles were requested from the pyramid and drawn: the page counts OpenSeadragon's
# `tile-loaded` (Leaflet's `tileload` for XYZ) events in `data-tiles-loaded` on <body>, read back
# from chromium's --dump-dom.
#
# Needs: chromium (`apt-get install -y chromium`), python3 (a local http server). The page loads
# OpenSeadragon 4.1.1 (BSD-3-Clause) / Leaflet 1.9.4 (BSD-2-Clause) from the jsdelivr CDN and
# falls back to a copy beside it; when the CDN cannot be reached set OSD_JS / LEAFLET_JS to local
# copies (`npm install -g openseadragon@4.1.1 leaflet@1.9.4` puts them under /usr/lib/node_modules,
# the default here). Not part of CI (a browser is a large install); run by hand:
#   bash tests/viewer/check.sh [path/to/stripflow]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/stripflow}
[ -x "$bin" ] || cargo build --release -p stripflow-cli
command -v chromium >/dev/null || { echo "chromium not installed: apt-get install -y chromium"; exit 2; }
osd=${OSD_JS:-/usr/lib/node_modules/openseadragon/build/openseadragon/openseadragon.min.js}
leaflet=${LEAFLET_JS:-/usr/lib/node_modules/leaflet/dist/leaflet.js}

work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
# The source: the demo's 1024x1024 photo-like sample (no input files needed).
"$bin" demo --size 1024 --keep "$work/demo" >/dev/null 2>&1
src="$work/demo/sample.png"

port=$((20000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work" >"$work/http.log" 2>&1 &
server=$!
sleep 1
fail=0
for layout in deepzoom iiif zoomify xyz; do
  "$bin" tiles "$src" "$work/$layout" --layout "$layout" >/dev/null
  page=$(cd "$work" && ls "$layout"/*.html 2>/dev/null | head -1 || ls "$layout"*.html | head -1)
  dir=$(dirname "$work/$page")
  cp "$osd" "$dir/openseadragon.min.js" 2>/dev/null || true
  cp "$leaflet" "$dir/leaflet.js" 2>/dev/null || true
  : >"$work/http.log"
  dom=$(timeout 90 chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=20000 \
    --dump-dom "http://127.0.0.1:$port/$page" 2>/dev/null || true)
  drawn=$(grep -o 'data-tiles-loaded="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || echo 0)
  fetched=$(grep -cE 'GET /[^ ]*\.(jpe?g|png|webp) HTTP/1.1" 200' "$work/http.log" || true)
  if [ "${drawn:-0}" -gt 0 ] && [ "$fetched" -gt 0 ]; then
    echo "ok   $layout: $page drew $drawn tiles ($fetched tile requests served)"
  else
    echo "FAIL $layout: $page drew ${drawn:-0} tiles ($fetched tile requests served)"
    fail=1
  fi
done
exit $fail
