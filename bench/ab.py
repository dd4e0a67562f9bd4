#!/usr/bin/env python3
"""Interleaved A/B runs of two builds of the `workloads` bench.

On a shared machine absolute times move by 3x from minute to minute, so a
change is judged by running the old and the new binary alternately (ABBA
order), several rounds, and comparing the medians of the same run:

  cargo bench --bench workloads --no-run          # note the binary's path
  cp target/release/deps/workloads-<hash> /tmp/workloads.old
  # ... change the code, build again ...
  bench/ab.py /tmp/workloads.old target/release/deps/workloads-<hash> 20

Prints, for W1, W3, W4 (median ms per step) and W2 (median Mnodes/s), the
medians of A and B and the ratio B/A. Extra arguments go to both binaries
(default: `--threads 1`). Two copies of one binary differ by a few per cent
in such runs: run an A/A comparison first to see the noise.
"""

import json
import statistics
import subprocess
import sys

KEYS = ["w1_step", "w3_step", "w4_step", "w2_fwd", "w2_bwd"]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    a, b, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    extra = sys.argv[4:] or ["--threads", "1"]
    res = {a: {k: [] for k in KEYS}, b: {k: [] for k in KEYS}}
    for r in range(rounds):
        for exe in (a, b) if r % 2 == 0 else (b, a):
            out = subprocess.run([exe] + extra, capture_output=True, text=True, check=True).stdout
            d = json.loads(out.strip().splitlines()[-1])
            for k in KEYS:
                res[exe][k].append(d[k])
    print(f"{rounds} interleaved rounds, medians (A = {a}, B = {b})")
    for k in KEYS:
        ma, mb = statistics.median(res[a][k]), statistics.median(res[b][k])
        unit, scale = ("ms", 1e3) if k.endswith("step") else ("Mnodes/s", 1e-6)
        print(f"{k:8s} A {ma * scale:9.4f} {unit}  B {mb * scale:9.4f} {unit}  B/A {mb / ma:.3f}")


if __name__ == "__main__":
    main()
