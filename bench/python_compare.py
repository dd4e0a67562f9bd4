#!/usr/bin/env python3
"""backprop's Python package against micrograd, on micrograd's own code.

Two tables, every row measured in the same run:

1. micrograd's demo (demo.ipynb): 100 moons points (noise 0.1), labels
   -1/+1, MLP 2-16-16-1 ReLU, SVM max-margin loss + 1e-4 L2, full batch,
   SGD lr = 1 - 0.9 k/100, 100 steps. The training loop is the notebook's
   code (``demo_loss``/``demo_train`` below); the rows are
     (a) micrograd itself (pip package ``micrograd``),
     (b) micrograd-rust (pip package ``micrograd-rust``), when importable,
     (c) the same loop with the imports changed to ``backprop``,
     (d) backprop's fused ``MLP.fit`` (the Rust trainer, called from Python),
     (e) the Rust CLI, ``backprop train --json`` (its own time per step,
         ``--threads 1``) on the same points, written to a CSV file,
     (f) PyTorch float64 on one thread (the same model as tensors), run in
         the interpreter given by --torch-python when this one lacks torch.
2. microgpt in pure Python against the same program with its ``class
   Value`` replaced by ``from backprop import Value`` (as
   python/tests/test_microgpt.py does), ms per training step, and
   ``backprop gpt --json`` for reference. The program is the project's own
   bench/gpt_python.py; with ``--microgpt PATH``, a local copy of Karpathy's
   microgpt.py (not part of this repository) instead.

Times are medians over --repeats runs (table 1: each run's time per step)
or over steps (table 2; microgpt keeps its 1000-step schedule and is stopped
after --gpt-python-steps / --gpt-steps steps, before sampling). In table 1
the Python loops (micrograd, backprop's loop) run with the cyclic garbage
collector frozen and disabled during the timed work and a ``gc.collect()``
between steps, outside the timing, as bench/compare.py measures micrograd
(--gc keeps it on); the Rust rows (d, e) make no Python objects per step.
Table 2 shows both: the collector off in that way, and on, as the program
runs (pure-Python microgpt spends most of its time in the collector).
Usage:

  /work/venv/bin/pip install micrograd      # and backprop-rs: pip install .
  cargo build --release                     # the CLI, target/release/backprop
  python bench/python_compare.py [--repeats 3] [--torch-python PATH]
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLI = os.path.join(ROOT, "target", "release", "backprop")
MICROGPT = None  # --microgpt: a local copy of Karpathy's microgpt.py
GPT_PYTHON = os.path.join(ROOT, "bench", "gpt_python.py")
NAMES = os.path.join(ROOT, "data", "names", "names.txt")
STEPS = 100
SEED = 1337

sys.path.insert(0, HERE)
from compare import make_moons, write_csv  # noqa: E402  (bench/compare.py, stdlib only)

KEEP_GC = False


class Timer:
    """Sums the timed parts of a run. Unless ``keep_gc``, the collector is
    frozen and off, and collects between the timed parts, untimed."""

    def __init__(self, keep_gc: bool | None = None) -> None:
        self.keep_gc = KEEP_GC if keep_gc is None else keep_gc
        self.total = 0.0
        self.t0 = 0.0

    def __enter__(self) -> Timer:
        gc.collect()
        if not self.keep_gc:
            gc.freeze()
            gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        gc.enable()
        gc.unfreeze()
        gc.collect()

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def stop(self) -> None:
        self.total += time.perf_counter() - self.t0
        if not self.keep_gc:
            gc.collect()


# ------------------------------------------------ micrograd's demo, as written


def demo_loss(model, Value, X, y):
    """The notebook's ``loss()`` (full batch): hinge + L2, and accuracy."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    # forward the model to get scores
    scores = list(map(model, inputs))
    # svm "max-margin" loss
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def demo_train(model, Value, X, y, timer, steps=STEPS):
    """The notebook's optimisation loop; returns the last loss and accuracy."""
    for k in range(steps):
        timer.start()
        # forward
        total_loss, acc = demo_loss(model, Value, X, y)
        # backward
        model.zero_grad()
        total_loss.backward()
        # update (sgd)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        last = (total_loss.data, acc)
        del total_loss
        timer.stop()
    return last


def python_loop(Value, MLP, X, y, repeats):
    """ms per step of ``demo_train`` (median over repeats), last loss, acc."""
    runs = []
    for _ in range(repeats):
        random.seed(SEED)
        model = MLP(2, [16, 16, 1])
        with Timer() as timer:
            loss, acc = demo_train(model, Value, X, y, timer)
        runs.append(timer.total / STEPS)
    return statistics.median(runs), loss, acc


def backprop_fit(X, y, repeats):
    from backprop.nn import MLP

    runs = []
    for _ in range(repeats):
        random.seed(SEED)
        model = MLP(2, [16, 16, 1])
        t0 = time.perf_counter()
        history = model.fit(X, y, steps=STEPS, threads=1)
        runs.append((time.perf_counter() - t0) / STEPS)
    return statistics.median(runs), history[-1]["loss"], history[-1]["accuracy"]


def cli_train(csv, repeats):
    runs = []
    for _ in range(repeats):
        cmd = [CLI, "train", "--dataset", f"csv:{csv}", "--steps", str(STEPS)]
        cmd += ["--threads", "1", "--no-plot", "--json", "-q"]
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        runs.append(out["time_per_step_ms"] / 1e3)
    h = out["history"][-1]
    return statistics.median(runs), h["loss"], h["accuracy"]


TORCH_WORKER = r"""
import json, sys, time, statistics
import torch
torch.set_num_threads(1)
X, y, steps, repeats, seed = json.load(sys.stdin)
X = torch.tensor(X, dtype=torch.float64)
y = torch.tensor(y, dtype=torch.float64)
runs = []
for _ in range(repeats):
    g = torch.Generator().manual_seed(seed)
    sizes = [2, 16, 16, 1]
    params = []
    for i in range(3):
        w = torch.rand(sizes[i + 1], sizes[i], generator=g, dtype=torch.float64) * 2 - 1
        params += [w.requires_grad_(), torch.zeros(sizes[i + 1], dtype=torch.float64,
                                                   requires_grad=True)]
    def forward(x):
        for i in range(3):
            x = x @ params[2 * i].T + params[2 * i + 1]
            if i != 2:
                x = torch.relu(x)
        return x.squeeze(1)
    t0 = time.perf_counter()
    for k in range(steps):
        scores = forward(X)
        loss = torch.relu(1 - y * scores).mean() + 1e-4 * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
    runs.append((time.perf_counter() - t0) / steps)
    acc = ((scores > 0) == (y > 0)).double().mean().item()
print(json.dumps([statistics.median(runs), loss.item(), acc, torch.__version__]))
"""


def torch_train(python, X, y, repeats):
    payload = json.dumps([X, y, STEPS, repeats, SEED])
    out = subprocess.run(
        [python, "-c", TORCH_WORKER], input=payload, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


# ------------------------------------------------------------------ microgpt


class StopTraining(Exception):
    pass


def microgpt_source(swap):
    """microgpt.py, unchanged or, with ``swap``, with its ``class Value``
    replaced by ``from backprop import Value``."""
    with open(MICROGPT) as f:
        source = f.read()
    if swap:
        lines = source.splitlines(keepends=True)
        (cls,) = [
            c for c in ast.parse(source).body if isinstance(c, ast.ClassDef) and c.name == "Value"
        ]
        lines[cls.lineno - 1 : cls.end_lineno] = ["from backprop import Value\n"]
        source = "".join(lines)
    return source


def microgpt_steps(steps, swap, keep_gc):
    """Seconds of each of the first ``steps`` training steps of microgpt.py
    (its 1000-step schedule; from the print before the loop to each step's
    print), and their losses. Stops there, before the sampling."""
    source = microgpt_source(swap)
    ns = {"__name__": "__microgpt__"}
    times, losses = [], []
    timer = Timer(keep_gc)

    def hook(*args, **kwargs):
        text = " ".join(map(str, args))
        if text.startswith("num params"):
            timer.start()
        elif text.startswith("step "):
            timer.stop()
            times.append(timer.total)
            timer.total = 0.0
            losses.append(ns["loss"].data)
            if len(times) == steps:
                raise StopTraining
            timer.start()

    ns["print"] = hook
    cwd = os.getcwd()
    tmp = tempfile.mkdtemp()
    shutil.copyfile(NAMES, os.path.join(tmp, "input.txt"))  # nothing is downloaded
    os.chdir(tmp)
    try:
        with timer:
            exec(compile(source, MICROGPT, "exec"), ns)
    except StopTraining:
        pass
    finally:
        os.chdir(cwd)
        shutil.rmtree(tmp)
    return times, losses


def gpt_python_steps(steps, swap):
    """bench/gpt_python.py's own median seconds per step over ``steps``
    steps (the garbage collector on, as the program runs), and its losses."""
    with open(GPT_PYTHON) as f:
        source = f.read()
    if swap:
        lines = source.splitlines(keepends=True)
        (cls,) = [
            c for c in ast.parse(source).body if isinstance(c, ast.ClassDef) and c.name == "Value"
        ]
        lines[cls.lineno - 1 : cls.end_lineno] = ["from backprop import Value\n"]
        source = "".join(lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gpt_python.py")
        with open(path, "w") as f:
            f.write(source)
        cmd = [sys.executable, path, "--steps", str(steps), "--json", "--data", NAMES]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = json.loads(done.stdout)
    return [out["ms_per_step"] / 1e3], out["losses"]


def cli_gpt(steps):
    cmd = [CLI, "gpt", "-q", "--no-plot", "--json", "--steps", str(steps), "--data", NAMES]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return out["ms_per_step"] / 1e3


# ---------------------------------------------------------------------- main


def fmt(s):
    return f"{s * 1e3:.3f}" if s == s else "-"


def main():
    global KEEP_GC, MICROGPT
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=3, help="runs of each demo row")
    ap.add_argument(
        "--gpt-python-steps", type=int, default=10, help="steps of pure-Python microgpt"
    )
    ap.add_argument("--gpt-steps", type=int, default=50, help="steps of microgpt on backprop")
    ap.add_argument("--torch-python", default="/work/torchvenv/bin/python")
    ap.add_argument("--gc", action="store_true", help="keep the garbage collector on")
    ap.add_argument("--microgpt", help="a local copy of Karpathy's microgpt.py to swap and time")
    args = ap.parse_args()
    KEEP_GC = args.gc
    if args.microgpt:
        MICROGPT = os.path.abspath(args.microgpt)
    sys.setrecursionlimit(100_000)

    load = os.getloadavg()[0]
    pts, labels = make_moons(100, 0.1, SEED)
    X = [list(p) for p in pts]
    y = labels
    tmp = tempfile.mkdtemp()
    csv = os.path.join(tmp, "moons.csv")
    write_csv(csv, pts, labels)

    rows = []  # (name, seconds per step, last loss, accuracy)
    notes = []
    if importlib.util.find_spec("micrograd"):
        from micrograd.engine import Value as MgValue
        from micrograd.nn import MLP as MgMLP

        rows.append(("(a) micrograd", *python_loop(MgValue, MgMLP, X, y, args.repeats)))
    else:
        notes.append("(a) micrograd: not installed (pip install micrograd)")
    if importlib.util.find_spec("micrograd_rust"):
        import micrograd_rust

        try:
            rows.append(
                (
                    "(b) micrograd-rust",
                    *python_loop(micrograd_rust.Value, micrograd_rust.MLP, X, y, args.repeats),
                )
            )
        except Exception as e:  # its API is not micrograd's in full
            notes.append(f"(b) micrograd-rust: micrograd's loop fails: {type(e).__name__}: {e}")
    else:
        notes.append(
            "(b) micrograd-rust: not installed. PyPI has only its 0.1.0 source archive "
            "(a Rust build); its Value has no relu and multiplies a Value only by a "
            "Value, so micrograd's demo loop cannot run on it"
        )
    from backprop import Value as BpValue
    from backprop.nn import MLP as BpMLP

    rows.append(
        ("(c) backprop, micrograd's loop", *python_loop(BpValue, BpMLP, X, y, args.repeats))
    )
    rows.append(("(d) backprop MLP.fit (Rust trainer)", *backprop_fit(X, y, args.repeats)))
    if os.path.exists(CLI):
        rows.append(("(e) backprop train CLI (Rust)", *cli_train(csv, args.repeats)))
    else:
        notes.append(f"(e) CLI: {CLI} missing (cargo build --release)")
    torch_python = sys.executable if importlib.util.find_spec("torch") else args.torch_python
    try:
        t, loss, acc, version = torch_train(torch_python, X, y, args.repeats)
        rows.append((f"(f) PyTorch {version.split('+')[0]} f64, 1 thread", t, loss, acc))
    except (OSError, subprocess.CalledProcessError) as e:
        notes.append(f"(f) PyTorch: not run with {torch_python}: {type(e).__name__}")
    shutil.rmtree(tmp)

    by = {name[:3]: t for name, t, _, _ in rows}
    mg, cli = by.get("(a)", float("nan")), by.get("(e)", float("nan"))
    print(
        f"micrograd's demo: moons 100, MLP 2-16-16-1, hinge + L2, full batch, {STEPS} SGD steps; "
        f"median of {args.repeats} runs"
    )
    print("| engine | ms/step | speed-up over micrograd | time vs CLI | last loss | accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t, loss, acc in rows:
        cells = [name, fmt(t), f"{mg / t:.1f}x", f"{t / cli:.2f}x", f"{loss:.6f}", f"{acc:.0%}"]
        print("| " + " | ".join(cells) + " |")
    for n in notes:
        print(f"- {n}")

    gpt_rows = []  # (program, gc, steps, seconds per step)
    losses = {}
    if MICROGPT:
        for keep_gc in (False, True):
            mode = "on" if keep_gc else "off"
            t, losses["py"] = microgpt_steps(args.gpt_python_steps, False, keep_gc)
            gpt_rows.append(("microgpt.py, pure Python (its own Value)", mode, t))
            t, losses["bp"] = microgpt_steps(args.gpt_steps, True, keep_gc)
            gpt_rows.append(("microgpt.py with `from backprop import Value`", mode, t))
        title = "Karpathy's microgpt.py"
    else:
        t, losses["py"] = gpt_python_steps(args.gpt_python_steps, False)
        gpt_rows.append(("bench/gpt_python.py, pure Python (its own Value)", "on", t))
        t, losses["bp"] = gpt_python_steps(args.gpt_steps, True)
        gpt_rows.append(("bench/gpt_python.py with `from backprop import Value`", "on", t))
        title = "microgpt in pure Python (bench/gpt_python.py)"
    n = min(len(losses["py"]), len(losses["bp"]))
    diff = max(abs(a - b) for a, b in zip(losses["py"][:n], losses["bp"][:n]))
    print(
        f"\n{title} (1 layer, n_embd 16, 4 heads, block 16, names, seed 42), "
        "median ms per training step"
        + (
            ", with the garbage collector off (collecting between steps, untimed) and on "
            "(as the program runs)"
            if MICROGPT
            else ", the garbage collector on (as the program runs)"
        )
    )
    print("| program | gc | steps timed | ms/step | speed-up over the original |")
    print("|---|---|---:|---:|---:|")
    base = {}
    for name, mode, times in gpt_rows:
        t = statistics.median(times)
        base.setdefault(mode, t)
        steps = (
            len(times)
            if MICROGPT
            else (args.gpt_python_steps if "pure" in name else args.gpt_steps)
        )
        print(f"| {name} | {mode} | {steps} | {fmt(t)} | {base[mode] / t:.1f}x |")
    if os.path.exists(CLI):
        g = cli_gpt(args.gpt_steps)
        print(
            f"| `backprop gpt` CLI (Rust, for reference) | - | {args.gpt_steps} | {fmt(g)} "
            + (
                f"| {base['off'] / g:.0f}x (gc off), {base['on'] / g:.0f}x (gc on) |"
                if MICROGPT
                else f"| {base['on'] / g:.0f}x |"
            )
        )
    print(f"\nlosses of the first {n} steps, swapped vs original: max |difference| {diff:.2e}")
    print(
        f"load average (1 min) at the start {load:.1f}, at the end {os.getloadavg()[0]:.1f}, "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        "Demo table: Python loops timed with the garbage collector "
        + (
            "on (--gc)."
            if KEEP_GC
            else "frozen and disabled, gc.collect() between steps, untimed (--gc to keep it on)."
        )
    )


if __name__ == "__main__":
    main()
