#!/usr/bin/env bash
# Builds the seed corpora in fuzz/corpus/<target>/ (not committed: see .gitignore).
#
# Seeds: every PNG and JPEG under 64 KiB in the repository's fixtures/ and, if present, in
# $STRIPFLOW_FIXTURES (default /work/shared/fixtures); plus small generated files (PNG colour
# types and ancillary chunks, JPEGs with EXIF orientations 1..8 and ICC segments, and shrunk
# copies of the EXIF photos, with TIFF copies, when a built stripflow CLI is found). The `chain` target's seeds are
# the same images behind a 24-byte header that chooses the operations (see fuzz_targets/chain.rs).
# Re-running replaces the seeds; units libFuzzer added to the corpus are kept.
set -euo pipefail
cd "$(dirname "$0")"

shared="${STRIPFLOW_FIXTURES:-/work/shared/fixtures}"
cli="${STRIPFLOW_CLI:-}"
for c in ../target/release/stripflow ../target/debug/stripflow; do
  [ -n "$cli" ] && break
  [ -x "$c" ] && { cli="$c"; break; }
done

gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT

# Shrunk copies of the EXIF photos (the originals are 350 KiB); the orientation tag is added
# back below, since stripflow does not write EXIF.
if [ -n "$cli" ] && [ -d ../fixtures/exif-orientation ]; then
  for n in 1 6 8; do
    "$cli" convert ../fixtures/exif-orientation/Landscape_$n.jpg "$gen/photo-$n.jpg" --rotate none --resize 96x64 --quality 60 >/dev/null
    "$cli" convert ../fixtures/exif-orientation/Portrait_$n.jpg "$gen/photo-p$n.png" --rotate none --resize 40x60 >/dev/null
    "$cli" convert "$gen/photo-p$n.png" "$gen/photo-p$n.tif" --tiff-compression lzw >/dev/null
  done
else
  echo "seed.sh: no built stripflow CLI; skipping the shrunk EXIF photos" >&2
fi

python3 - "$gen" ../fixtures "$shared" <<'PY'
import hashlib, os, random, struct, sys, zlib

gen, *dirs = sys.argv[1:]
LIMIT = 64 * 1024
HEADER = 24
random.seed(10)

def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

def png(w, h, colour, depth, chunks=(), split=0, seed=0):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = (w * channels * depth + 7) // 8
    rnd = random.Random(seed)
    raw = b"".join(bytes([y % 5]) + bytes((x * 7 + y * 13 + rnd.randrange(4)) & 0xFF for x in range(row)) for y in range(h))
    data = zlib.compress(raw, 6)
    parts = [data[i:i + split] for i in range(0, len(data), split)] if split else [data]
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))
    out += b"".join(chunk(k, v) for k, v in chunks)
    out += b"".join(chunk(b"IDAT", p) for p in parts) + chunk(b"IEND", b"")
    return out

def tiff_orientation(n, little):
    if little:
        return b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + struct.pack("<HHIHH", 0x0112, 3, 1, n, 0) + b"\x00" * 4
    return b"MM\x00*\x00\x00\x00\x08" + b"\x00\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, n, 0) + b"\x00" * 4

def segment(marker, body):
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

def with_exif(jpeg, n, little=False, icc=False):
    extra = segment(0xE1, b"Exif\x00\x00" + tiff_orientation(n, little))
    if icc:
        profile = bytes(range(256)) * 3
        extra += segment(0xE2, b"ICC_PROFILE\x00\x01\x02" + profile[:400])
        extra += segment(0xE2, b"ICC_PROFILE\x00\x02\x02" + profile[400:])
    return jpeg[:2] + extra + jpeg[2:]

generated = {
    "rgba8-exif6.png": png(33, 17, 6, 8, [(b"eXIf", tiff_orientation(6, False))]),
    "gray16.png": png(20, 40, 0, 16, [(b"gAMA", struct.pack(">I", 45455))]),
    "palette-trns.png": png(64, 3, 3, 4, [(b"PLTE", bytes(range(48))), (b"tRNS", bytes([0, 128, 255]))]),
    "graya8-tall.png": png(1, 200, 4, 8),
    "rgb16-wide.png": png(300, 1, 2, 16),
    "rgb8-chunks.png": png(48, 48, 2, 8, [
        (b"iCCP", b"icc\x00\x00" + zlib.compress(bytes(range(256)) * 4)),
        (b"sRGB", b"\x00"),
        (b"tEXt", b"Comment\x00fuzz seed"),
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(b"fuzz seed " * 20)),
    ], split=97),
    "gray1.png": png(70, 9, 0, 1),
}
for base, path in [("420", "baseline/32x32x8_ycbcr_2x2_1x1_1x1.jpg"), ("prog", "progressive_huffman/32x32x8_ycbcr_2x2_2x1_1x2.jpg"),
                   ("gray", "baseline/16x16x8_grayscale.jpg"), ("restart", "baseline/32x32x8_restarts.jpg")]:
    src = os.path.join(dirs[0], "jpegsuite", path)
    if not os.path.exists(src):
        continue
    jpeg = open(src, "rb").read()
    for n in range(1, 9):
        generated[f"{base}-exif{n}.jpg"] = with_exif(jpeg, n, little=n % 2 == 0, icc=n == 6)
for name in os.listdir(gen):
    if name.startswith("photo-"):
        data = open(os.path.join(gen, name), "rb").read()
        n = int(name.split(".")[0][-1])
        if name.endswith(".jpg"):
            generated[name] = with_exif(data, n)
        else:
            generated[name] = data[:33] + chunk(b"eXIf", tiff_orientation(n, False)) + data[33:]

images = {}
for d in dirs:
    for root, _, files in os.walk(d):
        for f in sorted(files):
            path = os.path.join(root, f)
            if f.lower().endswith((".png", ".jpg", ".jpeg", ".tif", ".tiff")) and os.path.getsize(path) < LIMIT:
                images.setdefault(os.path.relpath(path, d), open(path, "rb").read())
images.update(generated)

def put(target, data):
    os.makedirs(os.path.join("corpus", target), exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join("corpus", target, name), "wb") as out:
        out.write(data)

def chain_header():
    # Layout in fuzz_targets/chain.rs: flags (2), rotate, crop (4), resize width and height
    # (u16 LE, here 1..300), fit, position, kernel, extract (4), extend (2), background (2),
    # quality, compression.
    h = bytearray(random.randrange(256) for _ in range(HEADER))
    h[7:11] = struct.pack("<HH", random.randrange(1, 300), random.randrange(1, 300))
    return bytes(h)

counts = {}
for name, data in sorted(images.items()):
    targets = ["strip_height", "chain"]
    targets.append("decode_png" if data.startswith(b"\x89PNG") else "decode_tiff" if data[:2] in (b"II", b"MM") else "decode_jpeg")
    for t in targets:
        if t == "chain":
            for _ in range(2):
                put(t, chain_header() + data)
                counts[t] = counts.get(t, 0) + 1
        else:
            put(t, data)
            counts[t] = counts.get(t, 0) + 1
print(f"{len(images)} images ({len(generated)} generated):", ", ".join(f"{t} {n}" for t, n in sorted(counts.items())))
PY
