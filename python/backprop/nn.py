"""micrograd's ``micrograd.nn`` on backprop's engine.

``Module``, ``Neuron``, ``Layer`` and ``MLP`` have micrograd's constructors,
initialisation (``random.uniform(-1, 1)`` weights, zero biases, drawn in the
same order, so ``random.seed(1337)`` gives micrograd's numbers), ``__call__``,
``parameters()``, ``zero_grad()`` and ``__repr__``. A neuron's weighted sum
is one fused node (``backprop.linear``), with the same gradients as
micrograd's chain of ``+`` and ``*``.

``MLP.fit`` trains on the Rust ``Trainer`` that ``backprop train`` runs,
at the command line's speed.
"""

from __future__ import annotations

import operator
import os
import random
from collections.abc import Sequence
from typing import Any

from ._backprop import Value, fit_mlp, linear
from ._backprop import layer as dense_layer


class Module:
    """The base of every layer: ``parameters()`` and ``zero_grad()``."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """``relu(w · x + b)`` (or ``w · x + b`` with ``nonlin=False``)."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if not self.w:
            # No weights: micrograd's sum over nothing starts from the bias.
            return self.b.relu() if self.nonlin else self.b
        return linear(self.w, x, self.b, "relu" if self.nonlin else None)

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons over the same ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        neurons = self.neurons
        if not neurons:
            return []  # micrograd's list of no outputs
        nonlin = neurons[0].nonlin
        if neurons[0].w and all(type(n) is Neuron and n.nonlin == nonlin for n in neurons):
            # Every neuron in one call: the same nodes as calling each.
            out = dense_layer(
                [n.w for n in neurons], [n.b for n in neurons], x, "relu" if nonlin else None
            )
        else:
            out = [n(x) for n in neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nouts`` on ``nin`` inputs: ReLU between, linear out."""

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin] + nouts
        self.layers = [
            Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        steps: int = 100,
        lr: float = 1.0,
        loss: str = "hinge",
        optimizer: str = "sgd",
        batch_size: int | None = None,
        alpha: float = 1e-4,
        schedule: str = "linear",
        seed: int = 1337,
        threads: int = 1,
        page: str | os.PathLike[str] | None = None,
        page_snapshots: int = 21,
        page_grid: int = 60,
        page_title: str | None = None,
    ) -> list[dict[str, float]]:
        """Trains this network in Rust, as ``backprop train`` does, and
        writes the trained parameters back into its ``Value``s.

        ``X`` is a list (or numpy array) of rows; ``y`` holds class labels:
        ``-1``/``1`` (micrograd's demo) or ``0``/``1`` for the binary losses
        (``hinge``, ``mse``, ``bce``), ``0 .. k-1`` for ``cross-entropy``.
        The defaults are micrograd's demo: the SVM max-margin loss plus
        ``alpha * Σ p²``, full-batch SGD with the learning rate
        ``lr * (1 - 0.9 k / steps)``. Returns one dict per step with
        ``step``, ``loss``, ``accuracy`` and ``lr``. ``threads`` is the most
        threads a step may use (0: chosen from the work per step, up to one
        per core); several run only while they are timed faster than one,
        and the results are the same to the last bit for any value.

        Raises ``ValueError`` for data that does not fit the model and
        ``RuntimeError`` when the loss diverges.
        """
        for name, v in (("steps", steps), ("seed", seed), ("threads", threads)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an int of 0 or more, got {v!r}")
        if page is not None and not os.fspath(page).lower().endswith((".html", ".htm")):
            raise ValueError(f"page={os.fspath(page)!r}: use a .html file name")
        rows = [[float(v) for v in row] for row in X]
        labels = []
        for k, v in enumerate(y):
            try:
                label = operator.index(v)
            except TypeError:
                f = float(v)
                if not f.is_integer():
                    raise ValueError(f"y[{k}] = {v!r} is not an integer class label") from None
                label = int(f)
            labels.append(label)
        if set(labels) <= {-1, 1} and -1 in labels:
            labels = [1 if v == 1 else 0 for v in labels]
        for k, v in enumerate(labels):
            if not 0 <= v < 1_000_000:
                raise ValueError(
                    f"y[{k}] = {v}: labels are 0 .. k-1 (or -1 and 1 for two classes), "
                    "below 1,000,000"
                )
        for layer in self.layers:
            if any(type(n) is not Neuron for n in layer.neurons):
                raise TypeError("fit trains networks of backprop.nn.Neuron only")
        layers = [
            (
                [[w.data for w in n.w] for n in layer.neurons],
                [n.b.data for n in layer.neurons],
                layer.neurons[0].nonlin,
            )
            for layer in self.layers
        ]
        trained, history = fit_mlp(
            layers,
            rows,
            labels,
            steps,
            lr,
            loss,
            optimizer,
            batch_size,
            alpha,
            schedule,
            seed,
            threads,
            None if page is None else os.fspath(page),
            page_snapshots,
            page_grid,
            page_title,
        )
        for layer, (ws, bs, _) in zip(self.layers, trained):
            for n, w_row, b in zip(layer.neurons, ws, bs):
                for p, v in zip(n.w, w_row):
                    p.data = v
                n.b.data = b
        return [
            {"step": s, "loss": loss_, "accuracy": acc, "lr": rate}
            for s, loss_, acc, rate in history
        ]


__all__ = ["Module", "Neuron", "Layer", "MLP"]
