"""backprop: backpropagation from scratch, with micrograd's API on a Rust engine.

``from backprop import Value, draw_dot`` gives micrograd's ``Value`` at native
speed, with higher-order gradients (``grad(..., create_graph=True)``,
``hessian``), the written-out chain rule (``explain``) and the interactive
step-through page inline in Jupyter (``draw_dot(root)``).

``backprop.engine`` and ``backprop.nn`` mirror micrograd's modules, so a
micrograd program runs with only its imports changed.

``backprop.gpt`` trains microgpt. The three submodules load on first use
(``import backprop; backprop.gpt.train(...)`` works without importing
``backprop.gpt`` first), so ``import backprop`` stays cheap.
"""

import importlib
from typing import TYPE_CHECKING

from ._backprop import (
    Drawing,
    Explanation,
    Graph,
    Value,
    current,
    default_graph,
    draw_dot,
    explain,
    grad,
    graph_of,
    hessian,
    jacobian,
    linear,
    reset,
)

if TYPE_CHECKING:
    from . import engine, gpt, nn

_SUBMODULES = ("engine", "gpt", "nn")


def __getattr__(name: str) -> object:
    """``backprop.engine``, ``backprop.gpt`` and ``backprop.nn``, imported on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))


try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("backprop-rs")
except PackageNotFoundError:  # pragma: no cover - not installed as a package
    __version__ = "0+unknown"

__all__ = [
    "Drawing",
    "Explanation",
    "Graph",
    "Value",
    "current",
    "default_graph",
    "draw_dot",
    "engine",
    "explain",
    "gpt",
    "grad",
    "graph_of",
    "hessian",
    "jacobian",
    "linear",
    "nn",
    "reset",
]
