"""microgpt on a micrograd-style ``Value``, swapped for backprop's.

``bench/gpt_python.py`` is microgpt's algorithm (Karpathy's microgpt.py:
one layer, n_embd 16, 4 heads, block 16, Adam) in pure Python on its own
scalar ``Value`` class, the program ``bench/compare.py`` times as W4's
pure-Python row. This test deletes its ``class Value`` from the source text,
puts ``from backprop import Value`` in its place, and runs both programs
from the same seed on makemore's names: the losses of the first 20 steps
must agree to 1e-9. (Karpathy's own file is not in this repository; with a
local copy, ``bench/python_compare.py --microgpt PATH`` does the same swap
on it and times it.)
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import sys
from pathlib import Path

import backprop

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "bench" / "gpt_python.py"
NAMES = ROOT / "data" / "names" / "names.txt"
STEPS = 20


def original_source() -> str:
    return PROGRAM.read_text()


def swapped_source() -> str:
    """The program with ``class Value`` replaced by backprop's."""
    source = original_source()
    lines = source.splitlines(keepends=True)
    classes = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name == "Value"
    ]
    assert len(classes) == 1, "gpt_python.py should define one top-level class Value"
    cls = classes[0]
    lines[cls.lineno - 1 : cls.end_lineno] = ["from backprop import Value\n"]
    return "".join(lines)


def run(source: str) -> tuple[list[float], dict]:
    """Runs the program's ``main`` for ``STEPS`` steps; its losses (from
    its ``--json`` summary, full precision) and its globals."""
    ns: dict = {"__name__": "__gpt_python__", "__file__": str(PROGRAM)}
    exec(compile(source, str(PROGRAM), "exec"), ns)
    argv = sys.argv
    out = io.StringIO()
    try:
        sys.argv = [str(PROGRAM), "--steps", str(STEPS), "--json", "--data", str(NAMES)]
        with contextlib.redirect_stdout(out):
            ns["main"]()
    finally:
        sys.argv = argv
    return json.loads(out.getvalue())["losses"], ns


def test_the_source_surgery_removes_only_the_value_class() -> None:
    swapped = swapped_source()
    classes = [n.name for n in ast.walk(ast.parse(swapped)) if isinstance(n, ast.ClassDef)]
    assert classes == []
    assert swapped.count("from backprop import Value\n") == 1
    removed = len(original_source().splitlines()) - len(swapped.splitlines())
    assert 40 < removed < 80, removed


def test_microgpt_on_backprops_value_trains_like_the_pure_python_original() -> None:
    want, _ = run(original_source())
    with backprop.Graph():
        got, ns = run(swapped_source())
    assert ns["Value"] is backprop.Value
    assert len(want) == len(got) == STEPS
    for step, (g, w) in enumerate(zip(got, want)):
        assert abs(g - w) <= 1e-9, f"step {step}: {g!r} vs {w!r}"
    # The loss starts near ln(27) (27 tokens, near-uniform predictions).
    assert abs(want[0] - 3.2958) < 0.3
