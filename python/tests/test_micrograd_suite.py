"""micrograd's own engine tests, with only their import line changed.

``test/test_engine.py`` of micrograd 0.1.0 comes from the package's source
archive on the package index (``pip download micrograd==0.1.0
--no-binary :all:``, cached in ``target/pypi-cache``); it is not copied into
this repository. The test changes ``from micrograd.engine import Value`` to
``from backprop.engine import Value`` (and nothing else: it checks that
exactly one line differs) and runs the file under pytest. micrograd's tests
compare against PyTorch float64: against PyTorch itself where it is
installed, else against PyTorch's recorded numbers (``torch_replay``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BACKPROP_PYPI_CACHE", ROOT / "target" / "pypi-cache"))
SDIST = "micrograd-0.1.0.tar.gz"
MEMBER = "micrograd-0.1.0/test/test_engine.py"
REPLAY = Path(__file__).resolve().parent / "torch_replay"


def micrograd_test_source() -> str:
    """micrograd's test/test_engine.py, from its source archive."""
    sdist = CACHE / SDIST
    if not sdist.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            + ["micrograd==0.1.0", "-d", str(CACHE)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not sdist.exists():
            pytest.fail(f"could not download micrograd's source archive:\n{done.stderr}")
    with tarfile.open(sdist) as t:
        member = t.extractfile(MEMBER)
        assert member is not None, f"{SDIST} has no {MEMBER}"
        return member.read().decode()


def with_backprop(source: str) -> str:
    """The source with its import of micrograd's Value changed, and only that."""
    old = "from micrograd.engine import Value"
    new = "from backprop.engine import Value"
    lines = source.splitlines(keepends=True)
    changed = [i for i, line in enumerate(lines) if line.rstrip("\n") == old]
    assert len(changed) == 1, f"expected one line `{old}`"
    lines[changed[0]] = new + "\n"
    result = "".join(lines)
    assert sum(a != b for a, b in zip(source.splitlines(), result.splitlines())) == 1
    return result


def test_micrograds_own_engine_tests_pass(tmp_path: Path) -> None:
    test_file = tmp_path / "test_engine.py"
    test_file.write_text(with_backprop(micrograd_test_source()))
    env = dict(os.environ)
    if importlib.util.find_spec("torch") is None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPLAY), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout
