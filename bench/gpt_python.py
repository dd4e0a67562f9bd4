#!/usr/bin/env python3
"""microgpt's model in pure Python on a micrograd-style scalar engine.

The same algorithm as `backprop gpt` and bench/gpt_torch.py (Karpathy's
microgpt), one Python object per scalar, for the benchmark of
bench/compare.py (workload W4). It is slow (about half a second per step),
so the benchmark times a few steps only:

  python3 bench/gpt_python.py --steps 5 --json
"""

import argparse
import json
import math
import os
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Value:
    """A scalar with its gradient, its children and their local gradients."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0.0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, p):
        return Value(self.data**p, (self,), (p * self.data ** (p - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self):
        return Value(max(0.0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((c, False) for c in v._children)
        self.grad = 1.0
        for v in reversed(order):
            for c, lg in zip(v._children, v._local_grads):
                c.grad += lg * v.grad


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def softmax(logits):
    m = max(v.data for v in logits)
    exps = [(v - m).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def gpt(sd, token, pos, keys, values, n_layer, n_head):
    x = [t + p for t, p in zip(sd["wte"][token], sd["wpe"][pos])]
    x = rmsnorm(x)
    hd = len(x) // n_head
    for li in range(n_layer):
        res = x
        x = rmsnorm(x)
        q = linear(x, sd[f"layer{li}.attn_wq"])
        k = linear(x, sd[f"layer{li}.attn_wk"])
        v = linear(x, sd[f"layer{li}.attn_wv"])
        keys[li].append(k)
        values[li].append(v)
        out = []
        for h in range(n_head):
            s = h * hd
            logits = [sum(q[s + j] * kt[s + j] for j in range(hd)) / hd**0.5 for kt in keys[li]]
            w = softmax(logits)
            out.extend(sum(w[t] * values[li][t][s + j] for t in range(len(w))) for j in range(hd))
        x = [a + b for a, b in zip(linear(out, sd[f"layer{li}.attn_wo"]), res)]
        res = x
        x = [h.relu() for h in linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"])]
        x = [a + b for a, b in zip(linear(x, sd[f"layer{li}.mlp_fc2"]), res)]
    return linear(x, sd["lm_head"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "names", "names.txt"))
    ap.add_argument("--steps", type=int, default=5, help="steps to time")
    ap.add_argument("--total-steps", type=int, default=1000, help="the schedule's length")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    n_layer, n_embd, n_head, block_size, lr = 1, 16, 4, 16, 0.01
    rng = random.Random(args.seed)
    with open(args.data, encoding="utf-8") as f:
        docs = [line.strip() for line in f.read().split("\n") if line.strip()]
    rng.shuffle(docs)
    uchars = sorted(set("".join(docs)))
    bos = len(uchars)
    vocab = bos + 1

    def matrix(r, c):
        return [[Value(rng.gauss(0, 0.08)) for _ in range(c)] for _ in range(r)]

    sd = {
        "wte": matrix(vocab, n_embd),
        "wpe": matrix(block_size, n_embd),
        "lm_head": matrix(vocab, n_embd),
    }
    for i in range(n_layer):
        for m in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            sd[f"layer{i}.{m}"] = matrix(n_embd, n_embd)
        sd[f"layer{i}.mlp_fc1"] = matrix(4 * n_embd, n_embd)
        sd[f"layer{i}.mlp_fc2"] = matrix(n_embd, 4 * n_embd)
    params = [p for mat in sd.values() for row in mat for p in row]
    m = [0.0] * len(params)
    v = [0.0] * len(params)
    b1, b2, eps = 0.85, 0.99, 1e-8

    times, losses = [], []
    for step in range(args.steps):
        t0 = time.perf_counter()
        doc = docs[step % len(docs)]
        tokens = [bos] + [uchars.index(ch) for ch in doc] + [bos]
        n = min(block_size, len(tokens) - 1)
        keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
        step_losses = []
        for pos in range(n):
            probs = softmax(gpt(sd, tokens[pos], pos, keys, values, n_layer, n_head))
            step_losses.append(-probs[tokens[pos + 1]].log())
        loss = (1 / n) * sum(step_losses)
        loss.backward()
        lr_t = lr * (1 - step / args.total_steps)
        for i, p in enumerate(params):
            m[i] = b1 * m[i] + (1 - b1) * p.grad
            v[i] = b2 * v[i] + (1 - b2) * p.grad**2
            m_hat = m[i] / (1 - b1 ** (step + 1))
            v_hat = v[i] / (1 - b2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            p.grad = 0.0
        times.append(time.perf_counter() - t0)
        losses.append(loss.data)
    summary = {
        "engine": f"pure Python {sys.version.split()[0]}",
        "steps": args.steps,
        "losses": losses,
        "ms_per_step": statistics.median(times) * 1e3,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{args.steps} steps, {summary['ms_per_step']:.1f} ms/step, losses {losses}")


if __name__ == "__main__":
    main()
