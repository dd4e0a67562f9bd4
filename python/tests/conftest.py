"""Test set-up: the ``torch`` stand-in when PyTorch is not installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("torch") is None:
    # micrograd's own tests import torch: replay PyTorch's recorded numbers.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "torch_replay"))
