"""A stand-in for ``torch`` that replays PyTorch's recorded numbers.

micrograd's ``test_engine.py`` builds each expression twice, with micrograd's
``Value`` and with ``torch.Tensor`` in float64, and compares the two through
``tensor.item()``. PyTorch's wheel is several GB, so CI does not install it:
this module stands in for it. Its tensors compute nothing; each ``item()``
call returns, in order, the number that PyTorch's ``item()`` returned at the
same point of the same test, as recorded by ``record.py`` (beside this file)
into ``items.json``. Where PyTorch is installed, ``test_micrograd_suite.py`` leaves this
module off the path and the tests run against PyTorch itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_RECORD = json.loads((Path(__file__).with_name("items.json")).read_text())
_cursor: dict[str, int] = {}


def _next_item() -> float:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    test = current.split("::")[-1].split(" ")[0]
    if test not in _RECORD["tests"]:
        raise RuntimeError(f"no PyTorch numbers recorded for {test!r} (record.py)")
    k = _cursor.get(test, 0)
    _cursor[test] = k + 1
    items = _RECORD["tests"][test]
    if k >= len(items):
        raise RuntimeError(f"{test!r} asked for more numbers than PyTorch gave ({len(items)})")
    return items[k]


class Tensor:
    """A tensor that only replays: every operation gives another one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.requires_grad = False

    def double(self) -> Tensor:
        return self

    def _op(self, *args: Any) -> Tensor:
        return Tensor()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = _op
    relu = tanh = exp = log = sigmoid = _op

    def backward(self) -> None:
        pass

    @property
    def data(self) -> Tensor:
        return self

    @property
    def grad(self) -> Tensor:
        return Tensor()

    def item(self) -> float:
        return _next_item()
