"""Records the numbers PyTorch's ``Tensor.item()`` returns in micrograd's
``test_engine.py`` into ``items.json``, for ``torch.py`` to replay.

Run with a Python that has PyTorch and the backprop package installed, from
the repository's root:

    python python/tests/torch_replay/record.py

Each test function of ``python/tests/micrograd/test_engine.py`` is run with
``torch.Tensor.item`` wrapped to log what it returns, in call order.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder holds the stand-in `torch.py`: record with the real one.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import torch  # noqa: E402

TESTS = HERE.parent / "micrograd" / "test_engine.py"

spec = importlib.util.spec_from_file_location("mg_test_engine", TESTS)
assert spec and spec.loader
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

log: list[float] = []
original = torch.Tensor.item


def recording_item(self: torch.Tensor) -> float:
    x = original(self)
    log.append(x)
    return x


torch.Tensor.item = recording_item  # type: ignore[method-assign]
tests: dict[str, list[float]] = {}
for name in sorted(n for n in dir(module) if n.startswith("test_")):
    log.clear()
    getattr(module, name)()
    tests[name] = list(log)
torch.Tensor.item = original  # type: ignore[method-assign]

out = {
    "about": "PyTorch's Tensor.item() results in micrograd's test_engine.py, in call order",
    "torch": torch.__version__,
    "python": platform.python_version(),
    "tests": tests,
}
(HERE / "items.json").write_text(json.dumps(out, indent=2) + "\n")
print(f"wrote {HERE / 'items.json'}: {sum(map(len, tests.values()))} numbers", file=sys.stderr)
