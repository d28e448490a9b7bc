#!/usr/bin/env python3
"""Rewrites the chunk CRCs of PNG files in place.

Fuzz builds are compiled with `--cfg fuzzing`, under which the png crate skips chunk CRCs and
fdeflate the zlib Adler-32, so a PNG the fuzzer files may carry wrong CRCs that an ordinary build
rejects before reaching the bug. Run this on a PNG finding before adding it to
tests/fuzz-regressions/ (and check the regression test still fails without the fix).

    fuzz/png-crc.py FILE...
"""
import struct
import sys
import zlib

for path in sys.argv[1:]:
    data = bytearray(open(path, "rb").read())
    pos, fixed = 8, 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        crc = struct.pack(">I", zlib.crc32(data[pos + 4:end]))
        if data[end:end + 4] != crc:
            data[end:end + 4] = crc
            fixed += 1
        pos = end + 4
    open(path, "wb").write(data)
    print(f"{path}: {fixed} CRCs rewritten")
