"""Writes the example CSV files that the README's `backprop train/predict/eval`
commands use: two classes of 2-D points, `cat` and `dog`, drawn from two
Gaussian clusters whose features are far from 1 (so `--standardize` matters).

    python3 data/points/make.py   # rewrites the three CSV files beside it

Standard library only; the seed makes the files reproducible.
"""

import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
# (class name, mean of x, mean of y, deviation of x, deviation of y)
CLASSES = [("cat", 25.0, 4.0, 4.0, 1.0), ("dog", 32.0, 7.0, 4.0, 1.2)]


def draw(rng, n):
    rows = []
    for i in range(n):
        name, mx, my, sx, sy = CLASSES[i % 2]
        rows.append((round(rng.gauss(mx, sx), 2), round(rng.gauss(my, sy), 2), name))
    return rows


def write(name, rows, labels):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write("length,weight,class\n" if labels else "length,weight\n")
        for x, y, c in rows:
            f.write(f"{x},{y},{c}\n" if labels else f"{x},{y}\n")


rng = random.Random(1337)
write("points.csv", draw(rng, 200), True)
write("test-points.csv", draw(rng, 100), True)
write("new-points.csv", draw(rng, 6), False)
