"""microgpt from Python: ``backprop.gpt.train(docs)`` trains Karpathy's
microgpt (a one-layer GPT over characters, Adam, linear learning-rate decay)
on the Rust engine, as ``backprop gpt`` does, and returns a model to sample
from.

    >>> from backprop import gpt
    >>> model = gpt.train(["emma", "olivia", "ava"], steps=20)
    >>> len(model.losses)
    20
    >>> names = model.sample(5)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._backprop import GPT, gpt_read_documents, gpt_train

__all__ = ["GPT", "train", "load_documents"]


def load_documents(path: str | Path) -> list[str]:
    """One document per non-blank line of a UTF-8 text file (makemore's
    ``names.txt`` layout)."""
    return gpt_read_documents(Path(path))


def train(
    docs: Iterable[str] | str | Path,
    *,
    steps: int = 1000,
    lr: float = 0.01,
    seed: int = 42,
    shuffle: bool = True,
    n_layer: int = 1,
    n_embd: int = 16,
    n_head: int = 4,
    block_size: int = 16,
    init: str | Path | None = None,
) -> GPT:
    """Trains microgpt on ``docs`` (strings, or the path of a text file with
    one document per line) for ``steps`` steps, one document per step.
    ``init`` names a weight file (``.json`` or ``.safetensors``, as
    ``backprop gpt --save`` writes) to start from instead of ``seed``'s
    random initialisation.

    Raises ``ValueError`` for bad sizes or no documents and
    ``RuntimeError`` if the loss diverges.
    """
    for name, v in (("steps", steps), ("seed", seed)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be an int of 0 or more, got {v!r}")
    if isinstance(docs, (str, Path)):
        docs = load_documents(docs)
    return gpt_train(
        list(docs),
        steps,
        lr,
        seed,
        shuffle,
        n_layer,
        n_embd,
        n_head,
        block_size,
        None if init is None else Path(init),
    )
