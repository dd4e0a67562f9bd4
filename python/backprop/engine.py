"""micrograd's ``micrograd.engine``: ``from backprop.engine import Value``."""

from ._backprop import Value

__all__ = ["Value"]
