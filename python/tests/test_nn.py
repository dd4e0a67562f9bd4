"""``backprop.nn`` against micrograd itself (the ``micrograd`` package, an
independent implementation): the same initial parameters from the same
seed, the same loss curve from micrograd's demo loop, and ``MLP.fit`` (the
Rust trainer) following the same curve.
"""

from __future__ import annotations

import random

import micrograd.engine
import micrograd.nn
import numpy as np
import pytest

import backprop.engine
import backprop.nn


def dataset(n: int = 40) -> tuple[list[list[float]], list[int]]:
    """Points in the square with labels ±1 by a curved boundary."""
    rng = random.Random(5)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
    y = [1 if x1 > 0.5 * x0 * x0 - 1 else -1 for x0, x1 in X]
    return X, y


def demo_loop(engine, nn, steps: int) -> list[tuple[float, float]]:
    """micrograd's demo.ipynb training loop, verbatim but for its modules."""
    Value = engine.Value
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    X, y = dataset()

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    out = []
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        out.append((total_loss.data, acc))
    return out


def test_initial_parameters_are_micrographs() -> None:
    random.seed(1337)
    ours = backprop.nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)
    assert len(ours.parameters()) == 337


def test_the_demo_loop_follows_micrograds_loss_curve() -> None:
    steps = 8
    theirs = demo_loop(micrograd.engine, micrograd.nn, steps)
    ours = demo_loop(backprop.engine, backprop.nn, steps)
    for k, ((lt, at), (lo, ao)) in enumerate(zip(theirs, ours)):
        assert lo == pytest.approx(lt, rel=1e-9), f"step {k}"
        assert ao == at, f"step {k}"


def test_fit_follows_the_same_curve_and_writes_the_parameters_back() -> None:
    steps = 8
    theirs = demo_loop(micrograd.engine, micrograd.nn, steps)
    random.seed(1337)
    model = backprop.nn.MLP(2, [16, 16, 1])
    X, y = dataset()
    history = model.fit(X, y, steps=100)
    assert len(history) == 100
    for k in range(steps):
        assert history[k]["loss"] == pytest.approx(theirs[k][0], rel=1e-9), f"step {k}"
        assert history[k]["accuracy"] == theirs[k][1]
        assert history[k]["lr"] == pytest.approx(1.0 - 0.9 * k / 100)
    # The trained parameters are in the model's Values: predictions agree
    # with the last step's accuracy, and training got somewhere.
    scores = [model(x).data for x in X]
    acc = sum((yi > 0) == (s > 0) for yi, s in zip(y, scores)) / len(y)
    assert acc >= 0.9
    assert history[-1]["loss"] < history[0]["loss"]


def test_fit_refuses_data_that_does_not_fit() -> None:
    model = backprop.nn.MLP(2, [4, 1])
    with pytest.raises(ValueError, match="features"):
        model.fit([[1.0, 2.0, 3.0]], [1])
    with pytest.raises(ValueError, match="rows"):
        model.fit([[1.0, 2.0]], [1, -1])
    with pytest.raises(ValueError, match="finite"):
        model.fit([[1.0, float("nan")]], [1])
    with pytest.raises(ValueError, match="optimizer"):
        model.fit([[1.0, 2.0]], [1], optimizer="rmsprop")
    with pytest.raises(ValueError, match="lr"):
        model.fit([[1.0, 2.0]], [1], lr=-1)


def test_fit_takes_numpy_arrays() -> None:
    X, y = dataset()
    random.seed(3)
    model = backprop.nn.MLP(2, [8, 1])
    history = model.fit(np.array(X), np.array(y), steps=5)
    assert len(history) == 5


@pytest.mark.parametrize("nn", [micrograd.nn, backprop.nn], ids=["micrograd", "backprop"])
def test_empty_layers_and_neurons_give_what_micrograd_gives(nn) -> None:
    # micrograd's own classes run the same checks: a layer of no neurons
    # returns its empty list of outputs; a neuron of no inputs sums nothing
    # onto its bias (then ReLU, unless linear), so a linear one returns
    # the bias itself.
    assert nn.Layer(2, 0)([1.0, 2.0]) == []
    n = nn.Neuron(0, nonlin=False)
    out = n([])
    out.backward()
    assert (out.data, n.b.grad) == (0.0, 1.0)
    n = nn.Neuron(0)
    for b, want in ((-2.0, 0.0), (3.0, 3.0)):
        n.b.data = b
        assert n([]).data == want
    m = nn.MLP(2, [0, 1])
    m.layers[1].neurons[0].b.data = -0.5
    assert m([1.0, 2.0]).data == -0.5


def test_an_input_of_the_wrong_length_is_refused_where_micrograd_truncates() -> None:
    # micrograd zips weights with inputs, so a short or long input is cut
    # to the shorter silently; backprop refuses it, as PyTorch does (the
    # README says so under "Semantics worth knowing").
    random.seed(5)
    mg = micrograd.nn.Neuron(2, nonlin=False)
    assert mg([3.0]).data == mg.w[0].data * 3.0
    assert mg([3.0, 4.0, 5.0]).data == mg.w[0].data * 3.0 + mg.w[1].data * 4.0
    for module in (
        backprop.nn.Neuron(2),
        backprop.nn.Layer(2, 3),
        backprop.nn.Layer(2, 1),
        backprop.nn.MLP(2, [4, 1]),
    ):
        for x in ([3.0], [3.0, 4.0, 5.0]):
            with pytest.raises(ValueError, match=rf"2 weights.* {len(x)} (inputs|values)"):
                module(x)
