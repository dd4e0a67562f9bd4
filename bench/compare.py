#!/usr/bin/env python3
"""Side-by-side benchmark: backprop against micrograd, micrograd-rust and
PyTorch on the same three workloads, measured in the same run.

  W1  micrograd's moons demo: 100 points (noise 0.1), labels -1/+1,
      MLP 2-16-16-1 ReLU, mean hinge loss + 1e-4 L2, full batch,
      SGD lr = 1 - 0.9 k/100, 100 steps: time per step, final accuracy.
  W2  a graph of about 1,000,000 scalar nodes of mixed ops
      (*, +, tanh, relu, **2): forward and backward nodes per second, and
      bytes per node.
  W3  MLP 2-64-64-1 on 200 moons points: median time per step (100 steps
      for backprop and PyTorch, 10 for the Python engines).
  W4  Karpathy's microgpt on makemore's names (`backprop gpt`'s default run:
      1 layer, n_embd 16, 4 heads, block 16, 1000 steps, seed 42): time per
      step against the same model in PyTorch float64 on one thread
      (bench/gpt_torch.py: the whole document at once with a causal mask, and
      position by position with a key/value cache as microgpt computes it)
      and in pure Python on a scalar engine
      (bench/gpt_python.py, a few steps only), the whole `backprop gpt`
      command (training, 20 samples and the plot), and its peak memory at
      1,000 and 20,000 steps (with /usr/bin/time -v, when installed).
  Roofline  this machine's f64 peak and bandwidth on one core, and W1, W3
      and W4's FLOPs and bytes per step, achieved GFLOP/s and fraction of
      peak (`cargo bench --bench roofline`, on the same W1 and W3 points;
      the formulas are in benches/roofline.rs).

Every engine trains on the same points (written to a CSV file that
backprop reads too). Engines that are not installed are skipped. Set-up:

  python3 -m venv bench/.venv
  bench/.venv/bin/pip install torch micrograd micrograd-rust numpy
  bench/.venv/bin/python bench/compare.py

Times are medians over the steps (W1, W3) or over repeats (W2); backprop's
figures are then the medians of --backprop-runs runs of its workloads bench
per thread count, interleaved.
"""

import argparse
import gc
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_moons(n, noise, seed):
    """sklearn.datasets.make_moons, re-done with the standard library."""
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    pts, labels = [], []
    for i in range(n_out):
        t = math.pi * i / (n_out - 1)
        pts.append((math.cos(t), math.sin(t)))
        labels.append(-1.0)
    for i in range(n_in):
        t = math.pi * i / (n_in - 1)
        pts.append((1.0 - math.cos(t), 1.0 - math.sin(t) - 0.5))
        labels.append(1.0)
    pts = [(x + rng.gauss(0, noise), y + rng.gauss(0, noise)) for x, y in pts]
    return pts, labels


def write_csv(path, pts, labels):
    with open(path, "w") as f:
        f.write("x,y,label\n")
        for (a, b), c in zip(pts, labels):
            f.write(f"{a!r},{b!r},{int(c)}\n")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ---------------------------------------------------------------- micrograd


def micrograd_mlp(engine, nin, nouts, seed):
    """micrograd's MLP (uniform(-1, 1) weights, zero biases, ReLU hidden)."""
    Value = engine.Value
    rng = random.Random(seed)
    sizes = [nin] + nouts
    layers = []
    for i in range(len(nouts)):
        layer = []
        for _ in range(sizes[i + 1]):
            w = [Value(rng.uniform(-1, 1)) for _ in range(sizes[i])]
            layer.append((w, Value(0.0)))
        layers.append(layer)
    return layers


def add_tanh(Value):
    """micrograd's engine has no tanh; add the lecture's one-node version."""

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    Value.tanh = tanh


def relu(v, Value):
    # micrograd-rust has no relu; this is the same function and gradient.
    return v.relu() if hasattr(v, "relu") else (v if v.data > 0 else 0.0 * v)


def micrograd_forward(layers, x, Value):
    for li, layer in enumerate(layers):
        out = []
        for w, b in layer:
            act = b
            for wi, xi in zip(w, x):
                act = act + wi * xi
            out.append(relu(act, Value) if li != len(layers) - 1 else act)
        x = out
    return x[0]


def micrograd_train(engine, pts, labels, nouts, steps, seed):
    Value = engine.Value
    layers = micrograd_mlp(engine, 2, nouts, seed)
    params = [p for layer in layers for w, b in layer for p in w + [b]]
    times, acc = [], float("nan")
    gc.disable()
    try:
        for k in range(steps):
            t0 = time.perf_counter()
            inputs = [[Value(a), Value(b)] for a, b in pts]
            scores = [micrograd_forward(layers, x, Value) for x in inputs]
            losses = [relu(1 + -yi * si, Value) for yi, si in zip(labels, scores)]
            data_loss = losses[0]
            for loss in losses[1:]:
                data_loss = data_loss + loss
            data_loss = (1.0 / len(losses)) * data_loss
            reg = params[0] * params[0]
            for p in params[1:]:
                reg = reg + p * p
            total = data_loss + 1e-4 * reg
            for p in params:
                p.grad = 0.0
            total.backward()
            lr = 1.0 - 0.9 * k / 100
            for p in params:
                p.data -= lr * p.grad
            times.append(time.perf_counter() - t0)
            acc = sum((yi > 0) == (si.data > 0) for yi, si in zip(labels, scores)) / len(labels)
            del inputs, scores, losses, data_loss, reg, total
            gc.collect()
    finally:
        gc.enable()
    return median(times), acc


def mixed_graph_python(Value, nodes):
    ring_n = 64
    ring = [Value(math.sin(k * 0.37)) for k in range(ring_n)]
    leaves = list(ring)
    steps = (nodes - ring_n - 1) // 6
    for i in range(steps):
        j = i % ring_n
        x = ring[j]
        y = ring[(i * 7 + 3) % ring_n]
        m = x * y
        s = m + x
        t = s.tanh()
        r = relu(t, Value)
        p = r * r if not hasattr(r, "relu") else r**2
        ring[j] = t + p
    root = ring[0]
    for v in ring[1:]:
        root = root + v
    return root, leaves


def micrograd_w2(engine, nodes):
    gc.disable()
    before = rss_bytes()
    t0 = time.perf_counter()
    root, _ = mixed_graph_python(engine.Value, nodes)
    t1 = time.perf_counter()
    after = rss_bytes()
    root.backward()
    t2 = time.perf_counter()
    del root
    gc.enable()
    gc.collect()
    return nodes / (t1 - t0), nodes / (t2 - t1), (after - before) / nodes


# ---------------------------------------------------------------- PyTorch


def torch_train(torch, pts, labels, nouts, steps, seed):
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(seed)
    X = torch.tensor(pts, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    sizes = [2] + nouts
    params = []
    for i in range(len(nouts)):
        w = (
            torch.rand(sizes[i + 1], sizes[i], generator=g, dtype=torch.float64) * 2 - 1
        ).requires_grad_()
        b = torch.zeros(sizes[i + 1], dtype=torch.float64, requires_grad=True)
        params += [w, b]

    def forward(x):
        for i in range(len(nouts)):
            x = x @ params[2 * i].T + params[2 * i + 1]
            if i != len(nouts) - 1:
                x = torch.relu(x)
        return x.squeeze(1)

    times = []
    for k in range(steps):
        t0 = time.perf_counter()
        scores = forward(X)
        data_loss = torch.relu(1 - y * scores).mean()
        reg = 1e-4 * sum((p * p).sum() for p in params)
        loss = data_loss + reg
        for p in params:
            p.grad = None
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = ((forward(X) > 0) == (y > 0)).double().mean().item()
    return median(times), acc


def torch_w2(torch, nodes):
    torch.set_num_threads(1)

    def build():
        ring_n = 64
        ring = [
            torch.tensor(math.sin(k * 0.37), dtype=torch.float64, requires_grad=True)
            for k in range(ring_n)
        ]
        steps = (nodes - ring_n - 1) // 6
        for i in range(steps):
            j = i % ring_n
            x = ring[j]
            y = ring[(i * 7 + 3) % ring_n]
            m = x * y
            s = m + x
            t = torch.tanh(s)
            p = torch.relu(t) ** 2
            ring[j] = t + p
        return torch.stack(ring).sum()

    before = rss_bytes()
    t0 = time.perf_counter()
    root = build()
    t1 = time.perf_counter()
    after = rss_bytes()
    root.backward()
    t2 = time.perf_counter()
    return nodes / (t1 - t0), nodes / (t2 - t1), (after - before) / nodes


# ---------------------------------------------------------------- backprop


def backprop_run(csv_w1, csv_w3, threads):
    cmd = [
        "cargo",
        "bench",
        "--quiet",
        "--bench",
        "workloads",
        "--",
        "--w1",
        csv_w1,
        "--w3",
        csv_w3,
        "--threads",
        str(threads),
    ]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def backprop_runs(csv_w1, csv_w3, thread_counts, runs):
    """`runs` runs of the workloads bench per thread count, interleaved (so
    that every count sees the same machine load), and per count the median
    of each figure over the runs: one run on a shared machine can be
    slowed 2x by a neighbour."""
    results = {t: [] for t in thread_counts}
    for _ in range(max(runs, 1)):
        for t in thread_counts:
            results[t].append(backprop_run(csv_w1, csv_w3, t))
    return {t: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for t, rs in results.items()}


def roofline_table(csv_w1, csv_w3):
    """The roofline bench's table, printed as it prints it."""
    print("running the roofline ...", file=sys.stderr)
    cmd = ["cargo", "bench", "--quiet", "--bench", "roofline", "--", "--w1", csv_w1, "--w3", csv_w3]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    print("\n" + out.strip())


# ---------------------------------------------------------------- W4


def w4_table(ours, python_steps, runs):
    """The W4 rows: backprop from the workloads bench, then the scripts."""
    here = os.path.dirname(os.path.abspath(__file__))
    print("running W4 (microgpt) ...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "backprop")
    tmp = tempfile.mkdtemp()
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([exe, "gpt", "-q"], cwd=tmp, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    rss = {}
    if os.path.exists("/usr/bin/time"):
        for steps in (1000, 20000):
            r = subprocess.run(
                ["/usr/bin/time", "-v", exe, "gpt", "-q", "--no-plot", "--steps", str(steps)],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            for line in r.stderr.splitlines():
                if "Maximum resident set size" in line:
                    rss[steps] = int(line.split(":")[1]) / 1024
    rows = [("backprop (1 thread)", ours["w4_step"], ours["w4_loss"], 1000)]
    for extra in ([], ["--per-token"]):
        try:
            out = subprocess.run(
                [sys.executable, os.path.join(here, "gpt_torch.py"), "--json"] + extra,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out)
            rows.append((r["engine"], r["ms_per_step"] / 1e3, r["mean_loss_last_100"], r["steps"]))
        except subprocess.CalledProcessError as e:
            print(f"PyTorch W4 skipped: {e.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    out = subprocess.run(
        [
            sys.executable,
            os.path.join(here, "gpt_python.py"),
            "--json",
            "--steps",
            str(python_steps),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    r = json.loads(out)
    rows.append((r["engine"] + " scalar engine", r["ms_per_step"] / 1e3, float("nan"), r["steps"]))
    base = ours["w4_step"]
    print("\n| W4 engine | ms/step | vs backprop | mean loss, last 100 steps | steps timed |")
    print("|---|---:|---:|---:|---:|")
    for name, step, loss, steps in rows:
        print(
            f"| {name} | {step * 1e3:.4f} | {step / base:.1f}x | "
            f"{'-' if loss != loss else f'{loss:.4f}'} | {steps} |"
        )
    print(
        f"\nW4 backprop training: {ours['w4_total']:.3f} s for 1000 steps. "
        f"Whole `backprop gpt` (train, 20 samples, PNG plot), median of {runs}: "
        f"{statistics.median(walls):.3f} s (min {min(walls):.3f} s)."
    )
    if rss:
        print(
            "Peak RSS of `backprop gpt -q --no-plot`: "
            + ", ".join(f"{rss[k]:.1f} MiB at {k} steps" for k in sorted(rss))
            + "."
        )


# ---------------------------------------------------------------- main


def fmt_time(s):
    if s != s:
        return "-"
    return f"{s * 1e3:.4f} ms" if s < 1 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument(
        "--micrograd-w3-steps",
        type=int,
        default=2,
        help="pure-Python micrograd is slow on W3; time this many steps",
    )
    ap.add_argument(
        "--torch-w2-nodes",
        type=int,
        default=100_000,
        help="PyTorch builds one tensor per scalar; use a smaller W2 graph",
    )
    ap.add_argument(
        "--w4-python-steps",
        type=int,
        default=3,
        help="pure-Python microgpt takes about 0.5 s per step; time this many steps",
    )
    ap.add_argument(
        "--w4-runs", type=int, default=5, help="runs of the whole `backprop gpt` command"
    )
    ap.add_argument(
        "--backprop-runs",
        type=int,
        default=5,
        help="runs of backprop's workloads bench per thread count (medians are reported)",
    )
    ap.add_argument("--only-w4", action="store_true", help="run W4 only")
    ap.add_argument("--only-roofline", action="store_true", help="run the roofline only")
    args = ap.parse_args()

    sys.setrecursionlimit(10_000_000)
    threading.stack_size(1 << 30)

    pts1, lab1 = make_moons(100, 0.1, args.seed)
    pts3, lab3 = make_moons(200, 0.1, args.seed + 1)
    tmp = tempfile.mkdtemp()
    csv1, csv3 = os.path.join(tmp, "w1.csv"), os.path.join(tmp, "w3.csv")
    write_csv(csv1, pts1, lab1)
    write_csv(csv3, pts3, lab3)

    rows = {}  # engine -> dict
    ncpu = os.cpu_count() or 1
    if args.only_roofline:
        roofline_table(csv1, csv3)
        return
    print("building and running backprop ...", file=sys.stderr)
    if args.only_w4:
        ours1 = backprop_runs(csv1, csv3, [1], args.backprop_runs)[1]
        w4_table(ours1, args.w4_python_steps, args.w4_runs)
        return
    ours = backprop_runs(csv1, csv3, [1, ncpu], args.backprop_runs)
    ours1, ours_n = ours[1], ours[ncpu]
    rows["backprop (1 thread)"] = ours1
    rows[f"backprop ({ncpu} threads)"] = {k: ours_n[k] for k in ("w1_step", "w1_acc", "w3_step")}

    def run_in_thread(fn, *a):
        box = {}
        th = threading.Thread(target=lambda: box.setdefault("r", fn(*a)))
        th.start()
        th.join()
        return box["r"]

    engines = []
    try:
        import micrograd.engine as mg_engine

        engines.append(("micrograd", mg_engine))
    except ImportError:
        print("micrograd not installed: skipped", file=sys.stderr)
    try:
        import micrograd_rust

        engines.append(("micrograd-rust", micrograd_rust))
    except ImportError:
        print("micrograd-rust not installed: skipped", file=sys.stderr)
    for name, eng in engines:
        if not hasattr(eng.Value, "tanh"):
            add_tanh(eng.Value)
        print(f"running {name} ...", file=sys.stderr)
        r = {}
        r["w1_step"], r["w1_acc"] = micrograd_train(eng, pts1, lab1, [16, 16, 1], 100, args.seed)
        r["w3_step"], _ = micrograd_train(
            eng,
            pts3,
            lab3,
            [64, 64, 1],
            args.micrograd_w3_steps if name == "micrograd" else 10,
            args.seed,
        )
        r["w2_fwd"], r["w2_bwd"], r["w2_bytes"] = run_in_thread(micrograd_w2, eng, 1_000_000)
        rows[name] = r
    try:
        import torch

        print("running PyTorch ...", file=sys.stderr)
        r = {}
        r["w1_step"], r["w1_acc"] = torch_train(torch, pts1, lab1, [16, 16, 1], 100, args.seed)
        r["w3_step"], _ = torch_train(torch, pts3, lab3, [64, 64, 1], 100, args.seed)
        r["w2_fwd"], r["w2_bwd"], r["w2_bytes"] = torch_w2(torch, args.torch_w2_nodes)
        rows[f"PyTorch {torch.__version__.split('+')[0]} (f64, 1 thread)"] = r
    except ImportError:
        print("torch not installed: skipped", file=sys.stderr)

    base = rows["backprop (1 thread)"]
    base_both = 1 / (
        1 / base["w2_fwd"] + 1 / base["w2_bwd"]
    )  # nodes/s of a forward + backward pass
    nan = float("nan")
    print(
        "| engine | W1 ms/step | W1 vs backprop | W1 accuracy | W2 fwd Mnodes/s | W2 bwd Mnodes/s "
        "| W2 fwd+bwd vs backprop | W2 bytes/node | W3 ms/step | W3 vs backprop |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        w1, w3 = r.get("w1_step", nan), r.get("w3_step", nan)
        f, b = r.get("w2_fwd", nan), r.get("w2_bwd", nan)
        both = 1 / (1 / f + 1 / b) if f == f and b == b else nan
        cells = [
            name,
            f"{w1 * 1e3:.4f}",
            f"{w1 / base['w1_step']:.1f}x",
            f"{r.get('w1_acc', nan) * 100:.0f} %",
            f"{f / 1e6:.2f}" if f == f else "-",
            f"{b / 1e6:.2f}" if b == b else "-",
            f"{base_both / both:.1f}x slower"
            if both == both and both < base_both
            else ("1.0x" if both == both else "-"),
            f"{r['w2_bytes']:.0f}" if "w2_bytes" in r else "-",
            f"{w3 * 1e3:.4f}",
            f"{w3 / base['w3_step']:.1f}x",
        ]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\nbackprop, 1 thread: a whole forward-and-backward pass of the W2 graph runs at "
        f"{base_both / 1e6:.0f} million nodes per second ({1e9 / base_both:.2f} ns per node)."
    )
    print(
        f"backprop's figures are medians of {args.backprop_runs} interleaved runs per thread "
        f"count; micrograd's W3 is timed over {args.micrograd_w3_steps} steps; PyTorch's W2 graph "
        f"has {args.torch_w2_nodes} nodes (one tensor per scalar); ratios are the engine's time "
        "over backprop's (1 thread), all measured in this run."
    )
    w4_table(ours1, args.w4_python_steps, args.w4_runs)
    roofline_table(csv1, csv3)


if __name__ == "__main__":
    main()
