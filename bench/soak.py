#!/usr/bin/env python3
"""Soak benchmark: peak memory of `backprop train` at 2,000, 200,000 and
1,000,000 steps (micrograd's moons demo, no plot). Memory must stay flat:
the training history is bounded (kept evenly spaced past a few thousand
steps), so a million steps need no more than two thousand.

  cargo build --release
  python3 bench/soak.py                      # target/release/backprop
  python3 bench/soak.py --baseline OLD_BIN   # and an older build, interleaved

Peak RSS is GNU time's "Maximum resident set size" (`/usr/bin/time -v`).
Each size runs --repeats times (default 3, interleaved with the baseline);
the table gives medians.
"""

import argparse
import re
import statistics
import subprocess
import sys

STEPS = [2_000, 200_000, 1_000_000]


def peak_rss_kb(binary, steps):
    """Runs one training and returns (peak RSS in KB, wall seconds)."""
    cmd = ["/usr/bin/time", "-v", binary, "train", "--steps", str(steps), "--no-plot", "--quiet"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    wall = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", out.stderr
    ).group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    return rss, seconds


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--binary", default="target/release/backprop")
    ap.add_argument("--baseline", help="an older backprop binary to measure in the same run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, nargs="*", default=STEPS)
    args = ap.parse_args()
    binaries = [("this", args.binary)] + ([("baseline", args.baseline)] if args.baseline else [])
    results = {(name, s): [] for name, _ in binaries for s in args.steps}
    for _ in range(args.repeats):
        for s in args.steps:
            for name, binary in binaries:
                results[(name, s)].append(peak_rss_kb(binary, s))
    print(f"{'binary':<10} {'steps':>10} {'peak RSS (KB)':>14} {'wall (s)':>9}")
    for name, _ in binaries:
        for s in args.steps:
            runs = results[(name, s)]
            rss = statistics.median(r for r, _ in runs)
            wall = statistics.median(w for _, w in runs)
            print(f"{name:<10} {s:>10} {rss:>14.0f} {wall:>9.2f}")
    for name, _ in binaries:
        first = statistics.median(r for r, _ in results[(name, args.steps[0])])
        last = statistics.median(r for r, _ in results[(name, args.steps[-1])])
        print(
            f"{name}: peak RSS at {args.steps[-1]} steps / at {args.steps[0]} steps "
            f"= {last / first:.2f}"
        )


if __name__ == "__main__":
    main()
