"""What several test files share: the command line, its JSON numbers, and
the seed notebook's neuron."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

from backprop import Value

ROOT = Path(__file__).resolve().parents[2]


def backprop_bin() -> str:
    """The `backprop` command: $BACKPROP_BIN, else the release build. A
    missing one fails the test (CI builds it), never skips it."""
    exe = os.environ.get("BACKPROP_BIN") or str(ROOT / "target" / "release" / "backprop")
    found = shutil.which(exe)
    if found is None:
        pytest.fail(
            f"the backprop CLI is missing: {exe} (build it with `cargo build --release`, "
            "or set BACKPROP_BIN)"
        )
    return found


def json_number(x):
    """A number of the command's or a fixture's JSON: "NaN", "inf" and
    "-inf" are strings there; null stays None."""
    if x is None:
        return None
    if isinstance(x, str):
        return {"NaN": math.nan, "inf": math.inf, "-inf": -math.inf}[x]
    return float(x)


def notebook_neuron(compose_tanh: bool = False) -> dict[str, Value]:
    """The seed notebook's neuron, labelled as there, by variable name. With
    `compose_tanh`, o is the lecture's (e^2n - 1) / (e^2n + 1)."""
    # inputs
    x1 = Value(2.0, label="x1")
    x2 = Value(0.0, label="x2")
    # weights
    w1 = Value(-3.0, label="w1")
    w2 = Value(1.0, label="w2")
    # bias
    b = Value(6.8813735870195432, label="b")
    # x1*w1 + x2*w2 + b
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    if compose_tanh:
        e = (2 * n).exp()
        o = (e - 1) / (e + 1)
    else:
        o = n.tanh()
    o.label = "o"
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)
