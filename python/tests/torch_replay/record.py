"""Records the numbers PyTorch's ``Tensor.item()`` returns in micrograd's
``test_engine.py`` into ``items.json``, for ``torch.py`` to replay.

Run with a Python that has PyTorch and the backprop package installed, from
the repository's root:

    python python/tests/torch_replay/record.py

Each test function of micrograd's ``test/test_engine.py`` (from its source
archive, as ``python/tests/test_micrograd_suite.py`` gets it) is run with
``torch.Tensor.item`` wrapped to log what it returns, in call order.
"""

from __future__ import annotations

import json
import platform
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder holds the stand-in `torch.py`: record with the real one.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import torch  # noqa: E402

sys.path.insert(0, str(HERE.parent))
from test_micrograd_suite import micrograd_test_source, with_backprop  # noqa: E402

module = types.ModuleType("mg_test_engine")
exec(compile(with_backprop(micrograd_test_source()), "test_engine.py", "exec"), module.__dict__)

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
