"""Values, gradients and Hessians of backprop Values against PyTorch.

tests/fixtures/second_order.json holds, for expression programs, what PyTorch
computes in float64 with double backward (tests/fixtures/make_second_order.py
wrote it). Each program runs here as Python the way that script runs it, with
backprop Values for its inputs and the functions mapped to Value methods
(``ln`` and ``log`` to ``.log()``); ``backprop.grad`` and ``backprop.hessian``
must give PyTorch's numbers to 1e-12 relative, with the same NaN, infinities
and signs of zero (of the value and the gradients; see `hessian_entries`).
The CLI's ``backprop grad PROGRAM --hessian --json`` must give them too.

The fixture's conventions: NaN and infinities are the strings "NaN", "inf",
"-inf"; -0.0 keeps its sign; a Hessian entry PyTorch reports as None (the
gradient does not depend on that input) is null, which any zero matches.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import pytest
from support import backprop_bin
from support import json_number as number

import backprop
from backprop import Value

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "second_order.json"
REL = 1e-12

# As make_second_order.py reads a program.
INPUT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(-?\s*[0-9.][0-9.eE+-]*)\s*$")
ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+|-|\*|/)?=(?!=)")


def method(name: str):
    def call(v):
        assert isinstance(v, Value), f"{name}({v!r}) of a plain number"
        return getattr(v, name)()

    return call


FUNCS = {
    "tanh": method("tanh"),
    "exp": method("exp"),
    "log": method("log"),
    "ln": method("log"),
    "relu": method("relu"),
    "sigmoid": method("sigmoid"),
    "sqrt": method("sqrt"),
}


def load() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


CASES = [
    pytest.param(case, id=f"{group}{i}")
    for group in ("programs", "zeros")
    for i, case in enumerate(load()[group])
]


def same(got: float, want, what: str, zero_sign: bool = True) -> None:
    """`got` is `want` to 1e-12 relative; NaN is NaN, infinities and (with
    `zero_sign`) the sign of a zero are exact; a null `want` (no dependence)
    is any zero."""
    want = number(want)
    if want is None:
        assert got == 0, f"{what}: {got!r}, PyTorch: None (no dependence)"
    elif math.isnan(want):
        assert math.isnan(got), f"{what}: {got!r}, PyTorch: NaN"
    elif want == 0 and not zero_sign:
        assert got == 0, f"{what}: {got!r}, PyTorch: {want!r}"
    elif math.isinf(want) or want == 0:
        assert got == want and math.copysign(1, got) == math.copysign(1, want), (
            f"{what}: {got!r}, PyTorch: {want!r}"
        )
    else:
        assert abs(got - want) <= REL * abs(want), f"{what}: {got!r}, PyTorch: {want!r}"


def hessian_entries(case, rows, test) -> None:
    """Checks every Hessian entry `rows[i][j]` against the fixture. The sign
    of a zero second derivative is not compared, as in the Rust test of the
    same fixture (tests/engine/engine_second_order.rs): PyTorch's double
    backward through relu gives -0.0 for `x = 0; y = relu(-x) * -1.0` where
    the engine gives 0.0. Values and first derivatives keep their signs."""
    src = case["program"]
    for ni, row, wrow in zip(case["inputs"], rows, case["hessian"]):
        for nj, got, want in zip(case["inputs"], row, wrow):
            same(got, want, f"{src}: d2/d{ni}d{nj} ({test})", zero_sign=False)


def run(src: str):
    """The program as Python with backprop Values: (output, inputs)."""
    stmts = [s.strip() for line in src.split("\n") for s in line.split(";") if s.strip()]
    ns = dict(FUNCS)
    inputs = []
    output = None
    for i, s in enumerate(stmts):
        m = INPUT.match(s)
        if m:
            name = m.group(1)
            ns[name] = Value(float(m.group(2).replace(" ", "")), label=name)
            inputs.append(name)
            output = name
            continue
        m = ASSIGN.match(s)
        if m:
            exec(s, ns)
            output = m.group(1)
        else:
            assert i == len(stmts) - 1, f"bare expression before the end: {s}"
            ns["out"] = eval(s, ns)
            output = "out"
    return output, ns[output], [ns[n] for n in inputs]


@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch(case):
    src = case["program"]
    with backprop.Graph():
        name, out, xs = run(src)
        assert name == case["output"], src
        assert isinstance(out, Value), src
        same(out.data, case["value"], f"{src}: value")
        grads = backprop.grad(out, xs)
        for n, g, want in zip(case["inputs"], grads, case["grads"]):
            same(g.data, want, f"{src}: d/d{n}")
        h = backprop.hessian(out, xs)
        assert len(h) == len(xs) and all(len(row) == len(xs) for row in h), (src, h)
        # backward() fills .grad with the same numbers (onto 0.0, as micrograd
        # does, so a -0.0 gradient may read 0.0 there).
        out.backward()
        for n, x, want in zip(case["inputs"], xs, case["grads"]):
            w = number(want)
            if w == 0:
                assert x.grad == 0, (src, n, x.grad)
            else:
                same(x.grad, want, f"{src}: {n}.grad after backward()")
        hessian_entries(case, h, "backprop.hessian")


@pytest.mark.parametrize("case", CASES)
def test_cli_hessian_matches_pytorch(case):
    src = case["program"]
    r = subprocess.run(
        [backprop_bin(), "grad", src, "--hessian", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, (
        f"backprop grad --hessian failed ({r.returncode}) on {src}\n{r.stderr}"
    )
    got = json.loads(r.stdout)
    assert got["output"] == case["output"], src
    assert list(got["grads"]) == case["inputs"], src
    same(number(got["value"]), case["value"], f"{src}: value (CLI)")
    for n, want in zip(case["inputs"], case["grads"]):
        same(number(got["grads"][n]), want, f"{src}: d/d{n} (CLI)")
    for ni in case["inputs"]:
        assert list(got["hessian"][ni]) == case["inputs"], src
    rows = [[number(got["hessian"][ni][nj]) for nj in case["inputs"]] for ni in case["inputs"]]
    hessian_entries(case, rows, "CLI --hessian")


def test_the_fixture_is_what_it_says():
    d = load()
    assert d["dtype"] == "float64"
    assert len(d["programs"]) >= 20 and len(d["zeros"]) >= 40
    for case in d["programs"] + d["zeros"]:
        n = len(case["inputs"])
        assert len(case["grads"]) == n and len(case["hessian"]) == n, case["program"]
