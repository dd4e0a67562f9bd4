"""backprop: backpropagation from scratch, with micrograd's API on a Rust engine.

``from backprop import Value, draw_dot`` gives micrograd's ``Value`` at native
speed, with higher-order gradients (``grad(..., create_graph=True)``,
``hessian``), the written-out chain rule (``explain``) and the interactive
step-through page inline in Jupyter (``draw_dot(root)``).

``backprop.engine`` and ``backprop.nn`` mirror micrograd's modules, so a
micrograd program runs with only its imports changed.
"""

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
    "explain",
    "grad",
    "graph_of",
    "hessian",
    "jacobian",
    "linear",
    "reset",
]
