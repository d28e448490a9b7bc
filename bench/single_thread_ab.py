#!/usr/bin/env python3
"""Single-threaded mode against an earlier build, side by side on this machine.

Runs report jobs with an OLD stripflow binary (as it was, one thread) and a NEW one with
`--threads 1`, alternating run by run (and which of the two goes first), and prints the median wall and CPU time of each and their ratios.
Inputs come from the report's cache (run `stripflow-report` once to generate them).

    git worktree add /tmp/old <rev> && (cd /tmp/old && cargo build --release -p stripflow-cli)
    python3 bench/single_thread_ab.py /tmp/old/target/release/stripflow target/release/stripflow \
        --runs 5 [--only png,pjpeg] [--cache target/report-cache]
"""
import argparse
import os
import statistics
import subprocess
import time

JOBS = [
    ("jpeg-8192-w1", "jpeg-8192x8192.jpg", "jpg", "--width 1 --quality 85"),
    ("jpeg-8192-w16", "jpeg-8192x8192.jpg", "jpg", "--width 16 --quality 85"),
    ("jpeg-8192-w256", "jpeg-8192x8192.jpg", "jpg", "--width 256 --quality 85"),
    ("jpeg-8192-w2048", "jpeg-8192x8192.jpg", "jpg", "--width 2048 --quality 85"),
    ("jpeg-8192-w8192", "jpeg-8192x8192.jpg", "jpg", "--width 8192 --quality 85"),
    ("jpeg-8192-cover", "jpeg-8192x8192.jpg", "jpg", "--resize 1200x630 --fit cover --quality 85"),
    ("png-8192-w256", "png-rgb-8192x8192.png", "png", "--width 256 --compression 1"),
    ("png-rgba-8192-w256", "png-rgba-8192x8192.png", "png", "--width 256 --compression 1"),
    ("ipng-8192-w256", "ipng-rgb-8192x8192.png", "png", "--width 256 --compression 1"),
    ("jpeg-8192-full-png", "jpeg-8192x8192.jpg", "png", "--compression 1"),
    ("png-8192-full-jpg", "png-rgb-8192x8192.png", "jpg", "--quality 85"),
    ("png-64-w16384-png", "png-rgb-64x64.png", "png", "--width 16384 --compression 1"),
    ("png-64-w16384-jpg", "png-rgb-64x64.png", "jpg", "--width 16384 --quality 85"),
    ("jpeg-16384-crop", "jpeg-16384x16384.jpg", "jpg", "--crop 1000x1000 --gravity bottom-right --quality 85"),
    ("jpeg-16384-w256", "jpeg-16384x16384.jpg", "jpg", "--width 256 --quality 85"),
    ("pjpeg-16384-w256", "pjpeg-16384x16384.jpg", "jpg", "--width 256 --quality 85"),
]


def wall(cmd):
    """(wall seconds, CPU seconds user + system) of one run.

    CPU time is the steadier figure for a one-thread process on a shared host: time stolen by
    other guests inflates the wall clock (here by up to 2x in a bad minute) but not the CPU time.
    """
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed: {' '.join(cmd)}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--cache", default="target/report-cache")
    a = ap.parse_args()
    only = [o for o in a.only.split(",") if o]
    for name, image, ext, args in JOBS:
        if only and not any(o in name for o in only):
            continue
        src = f"{a.cache}/{image}"
        common = args.split() + ["--limit-input-pixels", "0"]
        old, new = [], []
        run_old = lambda: old.append(wall([a.old, "convert", src, f"/tmp/single-thread-ab-old.{ext}"] + common))
        run_new = lambda: new.append(
            wall([a.new, "convert", src, f"/tmp/single-thread-ab-new.{ext}"] + common + ["--threads", "1"]))
        for i in range(a.runs):
            # The order alternates too: on this machine whichever binary runs first in a pair was
            # measurably slower (a fixed old-then-new order showed a 1.10x gap where ABBA shows 1.02x).
            for run in (run_old, run_new) if i % 2 == 0 else (run_new, run_old):
                run()
        mo, mn = (statistics.median(w for w, _ in runs) for runs in (old, new))
        co, cn = (statistics.median(c for _, c in runs) for runs in (old, new))
        print(f"{name:22s} wall: old {mo * 1000:6.0f} ms  new --threads 1 {mn * 1000:6.0f} ms  {mn / mo:.2f}x"
              f"   cpu: {co * 1000:6.0f} vs {cn * 1000:6.0f} ms  {cn / co:.2f}x", flush=True)


if __name__ == "__main__":
    main()
