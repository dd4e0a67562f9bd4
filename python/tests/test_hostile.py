"""What a new user's and a hostile caller's inputs get: Python exceptions
with clear messages, never a crash or a hang; and micrograd's habits
(copying a model, pickling, subclassing) work."""

from __future__ import annotations

import copy
import json
import os
import pickle
import random
import subprocess
import sys
import time

import pytest

import backprop
from backprop import Graph, Value, draw_dot, explain, gpt
from backprop.nn import MLP


def interrupt_after(seconds: float) -> subprocess.Popen:
    """SIGINT to this process after `seconds`, as Ctrl-C sends it, from
    another process (a thread of this one would wait for the GIL, which a
    training run holds)."""
    return subprocess.Popen(["sh", "-c", f"sleep {seconds}; kill -INT {os.getpid()}"])


def test_ctrl_c_stops_a_long_fit_and_a_long_gpt_run() -> None:
    # Huge step counts are not reserved up front; Ctrl-C is seen each step.
    model = MLP(2, [4, 1])
    for run in (
        lambda: model.fit([[0.0, 1.0], [1.0, 0.0]], [1, -1], steps=10**12),
        lambda: gpt.train(["ab", "cd"], steps=10**12),
    ):
        killer = interrupt_after(0.5)
        start = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            run()
        killer.wait()
        assert time.perf_counter() - start < 10


def test_ctrl_c_stops_sampling_many_names() -> None:
    # sample(n) ran n forward passes without looking at signals: a large n
    # could only be killed. Now Ctrl-C is seen after each name.
    model = gpt.train(["ab", "cd"], steps=2)
    killer = interrupt_after(0.5)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        model.sample(10**12)
    killer.wait()
    assert time.perf_counter() - start < 10
    # The model still samples afterwards, from its own vocabulary.
    assert all(set(name) <= set("abcd") for name in model.sample(5))


def test_explain_names_unlabelled_inputs_and_gives_their_gradients() -> None:
    # micrograd's README example, without labels: its inputs are v1 and v2,
    # with micrograd's published gradients; the constants stay numbers.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    grads = dict(explain(g).grads)
    assert grads["v1"] == pytest.approx(138.8338, abs=1e-4)
    assert grads["v2"] == pytest.approx(645.5773, abs=1e-4)
    assert a.label == "" and b.label == ""  # the program's own labels are untouched
    assert "v1.grad" in str(explain(g))


def test_models_and_inputs_copy_and_pickle_computed_values_do_not() -> None:
    random.seed(3)
    model = MLP(2, [3, 1])
    twin = copy.deepcopy(model)
    assert [p.data for p in twin.parameters()] == [p.data for p in model.parameters()]
    twin.parameters()[0].data += 1.0
    assert twin.parameters()[0].data != model.parameters()[0].data
    x = Value(1.5, label="x")
    x.grad = 0.25
    y = pickle.loads(pickle.dumps(x))
    assert (y.data, y.grad, y.label) == (1.5, 0.25, "x") and y != x
    assert copy.copy(x).data == 1.5
    with pytest.raises(RuntimeError, match="only inputs"):
        copy.deepcopy(x * 2)
    with pytest.raises(RuntimeError, match="only inputs"):
        pickle.dumps(x + 1)


def test_value_can_be_subclassed() -> None:
    class Named(Value):
        pass

    v = Named(2.0, label="n")
    assert isinstance(v, Value) and v.label == "n"
    assert (v * 3).data == 6.0


def test_repr_of_a_reset_value_does_not_raise() -> None:
    g = Graph()
    with g:
        v = Value(1.0)
    g.reset()
    assert "reset" in repr([v])


def test_numbers_that_do_not_fit_a_float_are_overflow_errors() -> None:
    with pytest.raises(OverflowError):
        Value(1.0) + 10**400
    with pytest.raises(OverflowError):
        Value(1.0) ** 10**400
    with pytest.raises(OverflowError):
        Value(10**400)


def test_hidden_characters_in_labels_still_draw() -> None:
    v = Value(1.0, label="a\0b") * 2
    assert "U+0000" in draw_dot(v).source
    assert "<svg" in draw_dot(v).svg()


def test_fit_and_gpt_arguments_are_checked_with_their_names(tmp_path) -> None:
    model = MLP(2, [2, 1])
    X = [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(ValueError, match="steps"):
        model.fit(X, [1, -1], steps=-1)
    with pytest.raises(ValueError, match="seed"):
        model.fit(X, [1, -1], seed=-1)
    with pytest.raises(ValueError, match=r"y\[0\] = 0.5"):
        model.fit(X, [0.5, 1])
    with pytest.raises(ValueError, match="below 1,000,000"):
        model.fit(X, [10**30, 1])
    with pytest.raises(ValueError, match="html"):
        model.fit(X, [1, -1], steps=1, page=tmp_path / "t.svg")
    assert model.fit(X, [1.0, -1.0], steps=1)[0]["step"] == 0  # integral floats are labels
    with pytest.raises(ValueError, match="steps"):
        gpt.train(["ab"], steps=-1)
    with pytest.raises(ValueError, match="n must be"):
        gpt.train(["ab"], steps=1).sample(-1)
    with pytest.raises(OSError, match="init"):
        gpt.train(["ab"], steps=1, init=tmp_path / "missing.json")
    assert backprop.__version__


HIDDEN = {
    "\n": "U+000A",
    "\r": "U+000D",
    "\t": "U+0009",
    "\x1b": "U+001B",
    "\x00": "U+0000",
    "\x7f": "U+007F",
    "\u202e": "U+202E",
    "\u2067": "U+2067",
    "\u200e": "U+200E",
    "\u061c": "U+061C",
}


@pytest.mark.parametrize("char", list(HIDDEN))
def test_hidden_characters_in_labels_are_drawn_as_code_points(char: str, tmp_path) -> None:
    # A newline in a label used to end the DOT record's line and break the
    # page's drawing; every control and bidi character shows as U+XXXX.
    g = Graph()
    with g:
        a = Value(2.0, label=f"a{char}b")
        o = a * 3
        o.label = "o"
        o.backward()
    shown = f"a{HIDDEN[char]}b"
    d = draw_dot(o)
    dot = d.source
    assert f'label="{{{shown}|data 2.0000|grad 3.0000}}"' in dot
    # The record stays on one line, with no raw hidden character in it.
    (record,) = [line for line in dot.splitlines() if shown in line]
    assert record.endswith("shape=record];")
    assert char not in record
    d.save(tmp_path / "x.html")
    page = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert shown in page
    assert f"a{char}b" not in page
    assert json.dumps(f"a{char}b")[1:-1] not in page  # nor a JSON-escaped copy
    text = str(explain(o))
    assert shown in text
    assert f"a{char}b" not in text
    if char != "\n":
        assert char not in text


def test_submodules_are_attributes_after_a_bare_import() -> None:
    # A fresh interpreter: `import backprop` alone, then backprop.gpt as the
    # README writes it, and the import itself loads none of the submodules.
    code = (
        "import sys, backprop\n"
        "subs = ('backprop.gpt', 'backprop.nn', 'backprop.engine')\n"
        "assert not any(m in sys.modules for m in subs)\n"
        "assert callable(backprop.gpt.train)\n"
        "assert backprop.nn.MLP and backprop.engine.Value is backprop.Value\n"
        "assert {'gpt', 'nn', 'engine'} <= set(dir(backprop))\n"
        "try:\n"
        "    backprop.nope\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('backprop.nope exists')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
