"""``MLP.fit(..., page=...)`` writes ``backprop train --page``'s training
page: its last snapshot holds the Python model's trained parameters, and its
heat map's classes are what the model, evaluated through ``Value``s in
Python, predicts at each cell."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from backprop.nn import MLP


def page_data(path: Path) -> dict:
    html = path.read_text()
    start = '<script type="application/json" id="training">'
    at = html.index(start) + len(start)
    return json.loads(html[at : html.index("</script>", at)])


def data(n: int = 40) -> tuple[list[list[float]], list[int]]:
    rng = random.Random(4)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
    y = [1 if x1 > 0.4 * x0 * x0 - 1 else -1 for x0, x1 in X]
    return X, y


def test_fit_writes_the_training_page(tmp_path: Path) -> None:
    X, y = data()
    random.seed(7)
    model = MLP(2, [8, 8, 1])
    page = tmp_path / "train.html"
    history = model.fit(X, y, steps=30, page=page, page_snapshots=4, page_grid=12)
    d = page_data(page)
    assert [s["step"] for s in d["snapshots"]] == [0, 10, 20, 30]
    assert [h[1] for h in d["history"]] == [h["loss"] for h in history]
    last = d["snapshots"][-1]
    assert last["params"] == [p.data for p in model.parameters()]
    grid = d["grid"]
    assert grid["n"] == 12 and len(last["cells"]) == 144
    predicted = [1 if model([x, yy]).data > 0 else 0 for yy in grid["ys"] for x in grid["xs"]]
    assert last["cells"] == predicted
    assert [p[2] for p in d["points"]] == [1 if v == 1 else 0 for v in y]


def test_page_limits_are_checked_before_training(tmp_path: Path) -> None:
    X, y = data()
    model = MLP(2, [4, 1])
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="snapshots"):
        model.fit(X, y, steps=5, page=tmp_path / "a.html", page_snapshots=1000)
    with pytest.raises(ValueError, match="page_grid"):
        model.fit(X, y, steps=5, page=tmp_path / "a.html", page_grid=2)
    with pytest.raises(ValueError, match="2 features"):
        MLP(3, [4, 1]).fit([[1.0, 2.0, 3.0]] * 4, [1, -1, 1, -1], page=tmp_path / "a.html")
    with pytest.raises(OSError, match="cannot write the page"):
        model.fit(X, y, steps=2, page=tmp_path / "missing" / "a.html")
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(OSError, match="cannot write the page"):
        model.fit(X, y, steps=2, page=tmp_path / "dir.html")
    # Nothing was trained and nothing written.
    assert [p.data for p in model.parameters()] == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.html"]
