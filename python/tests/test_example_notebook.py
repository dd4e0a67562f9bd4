"""``examples/backprop-notebook.ipynb`` runs top to bottom, and its numbers
are the seed notebook's (22.004 for the first slope, the neuron's
hand-worked gradients, the composed tanh's)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "backprop-notebook.ipynb"


def test_the_example_notebook_runs_and_keeps_the_seed_notebooks_numbers() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), ns)
    assert ns["slope"] == pytest.approx(22.004, abs=1e-9)
    hand = {"x1": -1.5, "x2": 0.5, "w1": 1.0, "w2": 0.0, "b": 0.5, "n": 0.5}
    for name, want in hand.items():
        assert ns["by_hand"][name] == pytest.approx(want, abs=1e-9), name
        assert ns["by_engine"][name] == pytest.approx(want, abs=1e-9), name
    assert ns["o2"].data == pytest.approx(2**-0.5, abs=1e-12)
    assert ns["w1"].grad == pytest.approx(1.0, abs=1e-9)
    assert ns["loss"].data < 0.1
    assert ns["history"][-1]["loss"] < ns["history"][0]["loss"]
    assert "backward pass" in out.getvalue()
