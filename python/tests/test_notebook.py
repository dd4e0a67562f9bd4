"""The seed notebook's neuron, through micrograd's API.

The notebook works every gradient out by hand: with o = tanh(n),
n.grad = 1 - o**2 = 0.5, the sums pass it on unchanged, and each product
hands each operand the other one's value (w1.grad = x1 * 0.5 = 1.0,
x1.grad = w1 * 0.5 = -1.5, w2.grad = x2 * 0.5 = 0, x2.grad = w2 * 0.5 = 0.5).
"""

from __future__ import annotations

import math

import pytest
from support import notebook_neuron

from backprop import Value, draw_dot, explain

# The notebook's hand-worked gradients.
HAND = {
    "o": 1.0,
    "n": 0.5,
    "b": 0.5,
    "x1w1x2w2": 0.5,
    "x1w1": 0.5,
    "x2w2": 0.5,
    "w1": 1.0,
    "x1": -1.5,
    "w2": 0.0,
    "x2": 0.5,
}


@pytest.mark.parametrize("compose_tanh", [False, True])
def test_the_notebooks_hand_worked_gradients(compose_tanh: bool) -> None:
    v = notebook_neuron(compose_tanh)
    assert v["o"].data == pytest.approx(math.sqrt(0.5), abs=1e-12)
    v["o"].backward()
    for name, want in HAND.items():
        assert v[name].grad == pytest.approx(want, abs=1e-9), name


def test_the_notebooks_numerical_derivative() -> None:
    # The notebook checks a gradient by nudging an input by h.
    h = 1e-6

    def o_at(w1: float) -> float:
        x1, x2, w2, b = 2.0, 0.0, 1.0, 6.8813735870195432
        return math.tanh(x1 * w1 + x2 * w2 + b)

    v = notebook_neuron()
    v["o"].backward()
    numeric = (o_at(-3.0 + h) - o_at(-3.0)) / h
    assert v["w1"].grad == pytest.approx(numeric, abs=1e-5)


def test_explain_and_draw_carry_the_notebooks_numbers() -> None:
    v = notebook_neuron()
    e = explain(v["o"])
    grads = dict(e.grads)
    for name in ("x1", "x2", "w1", "w2", "b"):
        assert grads[name] == pytest.approx(HAND[name], abs=1e-9), name
    data = e.to_dict()
    assert data["value"] == pytest.approx(math.sqrt(0.5), abs=1e-12)
    text = str(e)
    assert "backward pass" in text
    d = draw_dot(v["o"])
    # The static drawing has the notebook's records: label | data | grad.
    dot = d.source
    assert "rankdir=LR" in dot
    assert "{w1|data -3.0000|grad 0.0000}" in dot
    html = d._repr_html_()
    assert html.startswith("<iframe srcdoc=")
    assert "<script" not in html  # the page is escaped inside the attribute
    # What Jupyter displays: the page, and for a graph this small the
    # static drawing too (for viewers that run no scripts).
    bundle = d._repr_mimebundle_()
    assert bundle["text/html"] == html
    assert "<svg" in bundle["image/svg+xml"]
    assert d._repr_mimebundle_(exclude={"image/svg+xml"}).keys() == {"text/html"}
    assert d._repr_mimebundle_(include=["image/svg+xml"]).keys() == {"image/svg+xml"}


def test_a_large_graph_is_shown_as_the_page_without_laying_out_its_svg():
    # About 480 nodes: over the cell's SVG limit (400), under the page's.
    xs = [Value(0.001 * k) for k in range(121)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x * 2.0
    d = draw_dot(total)
    bundle = d._repr_mimebundle_()
    assert bundle.keys() == {"text/html"}
    # Asked for by name, the drawing is made whatever the size.
    assert "<svg" in d._repr_mimebundle_(include={"image/svg+xml"})["image/svg+xml"]
