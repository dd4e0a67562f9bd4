"""A loop that rebuilds its graph every step keeps its memory flat: nodes
that no Python object can reach are freed when the graph has doubled."""

from __future__ import annotations

import gc
import math
import os
import random

import backprop
from backprop import Value
from backprop.nn import MLP


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_a_thousand_training_steps_keep_memory_flat() -> None:
    g = backprop.Graph()
    with g:
        random.seed(0)
        model = MLP(2, [8, 8, 1])
        rng = random.Random(1)
        X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(30)]
        y = [1 if a * b > 0 else -1 for a, b in X]
        rss, nodes = [], []
        for k in range(1000):
            scores = [model(x) for x in X]
            loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1 / len(X))
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= 0.05 * p.grad
            if k in (100, 999):
                gc.collect()
                rss.append(rss_bytes())
            nodes.append(len(g))
    per_step = 30 * (8 + 8 + 8 + 8 + 1 + 1) + 100  # nodes one step builds, roughly
    # The graph never holds more than a few steps' worth, plus the bound
    # below which it does not bother compacting.
    assert max(nodes) < 2 * max(1 << 15, 4 * per_step), max(nodes)
    assert g.compactions > 10
    # 900 more steps add less than 4 MB (without compaction: about 1.2M more
    # nodes, ~50 MB).
    assert rss[1] - rss[0] < 4 << 20, (rss[1] - rss[0]) / 2**20


def test_values_python_still_holds_survive_compaction() -> None:
    g = backprop.Graph()
    with g:
        x = Value(1.5, label="x")
        keep = (x * x).tanh()
        keep.label = "keep"
        for _ in range(5000):
            t = x
            for _ in range(20):
                t = t * 1.0001
        g.compact()
        # x, x * x, keep, and the last chain (20 constants, 20 products).
        assert len(g) == 43
        keep.backward()
        # d tanh(x²)/dx = 2x (1 - tanh²(x²))
        th = math.tanh(2.25)
        assert abs(x.grad - 3.0 * (1 - th * th)) < 1e-12
        assert keep.label == "keep" and x.label == "x"
