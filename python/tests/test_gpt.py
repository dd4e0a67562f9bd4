"""``backprop.gpt`` from Python: the losses of PyTorch's float64 run of the
same model (``tests/fixtures/gpt/torch_losses.json``, made by
``bench/gpt_torch.py``, an independent tensor implementation; see the
fixture's README) to 1e-9 relative, from the same initial weights."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from backprop import gpt

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "gpt"


def test_losses_match_pytorch() -> None:
    runs = json.loads((FIXTURES / "torch_losses.json").read_text())["runs"]
    docs = gpt.load_documents(FIXTURES / "small.txt")
    sizes = [
        dict(init="init.json"),
        dict(init="init_l2.json", n_layer=2, n_embd=8, n_head=2, block_size=8),
    ]
    for run, size in zip(runs, sizes):
        init = FIXTURES / size.pop("init")
        model = gpt.train(docs, steps=50, shuffle=False, init=init, **size)
        want = run["losses"]
        assert len(model.losses) == len(want) == 50
        for k, (got, ref) in enumerate(zip(model.losses, want)):
            assert abs(got - ref) <= 1e-9 * abs(ref), f"{init.name} step {k}: {got} vs {ref}"


def test_an_untrained_model_starts_near_ln_vocab_and_samples_from_its_vocabulary() -> None:
    docs = ["emma", "olivia", "ava", "isabella", "sophia", "mia"]
    model = gpt.train(docs, steps=30, seed=1)
    vocab = len(set("".join(docs))) + 1  # letters and BOS
    assert model.losses[0] == pytest.approx(math.log(vocab), abs=0.3)
    assert sum(model.losses[-10:]) < sum(model.losses[:10])
    for name in model.sample(10):
        assert set(name) <= set("".join(docs))


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="document"):
        gpt.train([], steps=1)
    with pytest.raises(ValueError):
        gpt.train(["ab"], steps=1, n_embd=15, n_head=4)
    with pytest.raises(ValueError, match="lr"):
        gpt.train(["ab"], steps=1, lr=-1.0)
    with pytest.raises(OSError):
        gpt.load_documents("/nonexistent/names.txt")
    with pytest.raises(ValueError, match="safetensors or .json"):
        gpt.train(["ab"], steps=1, init=FIXTURES / "small.txt")
