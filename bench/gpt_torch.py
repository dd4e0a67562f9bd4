#!/usr/bin/env python3
"""microgpt's model and training in PyTorch, float64, one thread.

The same algorithm as `backprop gpt` (Karpathy's microgpt): parameters
wte, wpe, lm_head, layer{i}.attn_wq/wk/wv/wo, layer{i}.mlp_fc1/fc2 (no
biases), rmsnorm(x) = x * (mean(x^2) + 1e-5) ** -0.5, causal multi-head
attention (the whole document at once, which equals microgpt's per-token
key/value cache), relu MLP, mean cross-entropy over the document's
positions, one document per step, Adam (beta1 0.85, beta2 0.99, eps 1e-8,
bias-corrected, written out as microgpt does) at lr * (1 - k / steps).

Used two ways:
- by bench/compare.py (workload W4: the default 1000 steps on names) for
  the time per step;
- to make the test fixture tests/fixtures/gpt/torch_losses.json (see the
  README there): per-step losses from given initial weights (--init, a JSON
  object of tensor name to list of rows) on a small file, in file order.

  /work/venv/bin/python bench/gpt_torch.py --json                # W4
  /work/venv/bin/python bench/gpt_torch.py --json --per-token    # W4, microgpt's loop
  /work/venv/bin/python bench/gpt_torch.py --data F --init W.json --no-shuffle --steps 50 --json
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f.read().split("\n") if line.strip()]


def shapes(vocab, n_layer, n_embd, block_size):
    s = {"wte": (vocab, n_embd), "wpe": (block_size, n_embd), "lm_head": (vocab, n_embd)}
    for i in range(n_layer):
        for m in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            s[f"layer{i}.{m}"] = (n_embd, n_embd)
        s[f"layer{i}.mlp_fc1"] = (4 * n_embd, n_embd)
        s[f"layer{i}.mlp_fc2"] = (n_embd, 4 * n_embd)
    return s


def rmsnorm(x):
    return x * (x.pow(2).mean(-1, keepdim=True) + 1e-5) ** -0.5


def doc_loss(sd, tokens, n_layer, n_head, block_size):
    n = min(block_size, len(tokens) - 1)
    inp = torch.tensor(tokens[:n])
    tgt = torch.tensor(tokens[1 : n + 1])
    x = rmsnorm(sd["wte"][inp] + sd["wpe"][:n])
    e = x.shape[1]
    hd = e // n_head
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    for i in range(n_layer):
        res = x
        x = rmsnorm(x)
        q = (x @ sd[f"layer{i}.attn_wq"].T).view(n, n_head, hd).transpose(0, 1)
        k = (x @ sd[f"layer{i}.attn_wk"].T).view(n, n_head, hd).transpose(0, 1)
        v = (x @ sd[f"layer{i}.attn_wv"].T).view(n, n_head, hd).transpose(0, 1)
        att = (q @ k.transpose(1, 2)) / hd**0.5
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        out = (att @ v).transpose(0, 1).reshape(n, e)
        x = out @ sd[f"layer{i}.attn_wo"].T + res
        res = x
        x = rmsnorm(x)
        x = torch.relu(x @ sd[f"layer{i}.mlp_fc1"].T) @ sd[f"layer{i}.mlp_fc2"].T + res
    logits = x @ sd["lm_head"].T
    return torch.nn.functional.cross_entropy(logits, tgt)


def doc_loss_per_token(sd, tokens, n_layer, n_head, block_size):
    """The same loss computed as microgpt does: one position at a time, with
    a key/value cache, on vectors (no batching over positions)."""
    n = min(block_size, len(tokens) - 1)
    keys = [[] for _ in range(n_layer)]
    values = [[] for _ in range(n_layer)]
    losses = []
    for pos in range(n):
        x = rmsnorm(sd["wte"][tokens[pos]] + sd["wpe"][pos])
        e = x.shape[0]
        hd = e // n_head
        for i in range(n_layer):
            res = x
            x = rmsnorm(x)
            q = sd[f"layer{i}.attn_wq"] @ x
            keys[i].append(sd[f"layer{i}.attn_wk"] @ x)
            values[i].append(sd[f"layer{i}.attn_wv"] @ x)
            k = torch.stack(keys[i])  # [t, e]
            v = torch.stack(values[i])
            heads = []
            for h in range(n_head):
                s = slice(h * hd, (h + 1) * hd)
                w = ((k[:, s] @ q[s]) / hd**0.5).softmax(0)
                heads.append(w @ v[:, s])
            x = sd[f"layer{i}.attn_wo"] @ torch.cat(heads) + res
            res = x
            x = sd[f"layer{i}.mlp_fc2"] @ torch.relu(sd[f"layer{i}.mlp_fc1"] @ rmsnorm(x)) + res
        logits = sd["lm_head"] @ x
        losses.append(-logits.log_softmax(0)[tokens[pos + 1]])
    return torch.stack(losses).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "names", "names.txt"))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-shuffle", action="store_true")
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--embd", type=int, default=16)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--block-size", type=int, default=16)
    ap.add_argument("--init", help="initial weights: JSON object of tensor name to list of rows")
    ap.add_argument(
        "--write-init",
        help="write N(0, 0.08^2) weights (seeded by --seed) to this JSON file and exit",
    )
    ap.add_argument(
        "--per-token",
        action="store_true",
        help="compute each position separately with a key/value cache, as microgpt does, "
        "instead of the whole document at once with a causal mask",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    docs = load_docs(args.data)
    rng = random.Random(args.seed)
    if not args.no_shuffle:
        rng.shuffle(docs)
    uchars = sorted(set("".join(docs)))
    bos = len(uchars)
    vocab = bos + 1
    shp = shapes(vocab, args.layers, args.embd, args.block_size)

    if args.write_init:
        w = {
            k: [[rng.gauss(0, 0.08) for _ in range(c)] for _ in range(r)]
            for k, (r, c) in shp.items()
        }
        with open(args.write_init, "w") as f:
            json.dump(w, f)
        return
    if args.init:
        with open(args.init) as f:
            w = json.load(f)
        sd = {k: torch.tensor(w[k], dtype=torch.float64) for k in shp}
    else:
        g = torch.Generator().manual_seed(args.seed)
        sd = {k: torch.randn(r, c, generator=g) * 0.08 for k, (r, c) in shp.items()}
    for k, (r, c) in shp.items():
        assert tuple(sd[k].shape) == (r, c), (k, sd[k].shape, (r, c))
        sd[k].requires_grad_(True)
    params = list(sd.values())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    b1, b2, eps = 0.85, 0.99, 1e-8

    encoded = [[bos] + [uchars.index(ch) for ch in d] + [bos] for d in docs]
    losses, times = [], []
    for step in range(args.steps):
        t0 = time.perf_counter()
        tokens = encoded[step % len(encoded)]
        f = doc_loss_per_token if args.per_token else doc_loss
        loss = f(sd, tokens, args.layers, args.heads, args.block_size)
        loss.backward()
        lr_t = args.lr * (1 - step / args.steps)
        with torch.no_grad():
            for i, p in enumerate(params):
                g = p.grad
                m[i].mul_(b1).add_((1 - b1) * g)
                v[i].mul_(b2).add_((1 - b2) * g**2)
                m_hat = m[i] / (1 - b1 ** (step + 1))
                v_hat = v[i] / (1 - b2 ** (step + 1))
                p -= lr_t * m_hat / (v_hat**0.5 + eps)
                p.grad = None
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    last = losses[-100:]
    summary = {
        "engine": f"PyTorch {torch.__version__.split('+')[0]} float64, 1 thread, "
        + ("per token with a KV cache" if args.per_token else "whole document, causal mask"),
        "steps": args.steps,
        "losses": losses,
        "mean_loss_last_100": sum(last) / len(last),
        "ms_per_step": statistics.median(times) * 1e3,
    }
    if args.json:
        json.dump(summary, sys.stdout)
        print()
    else:
        print(
            f"{args.steps} steps, {summary['ms_per_step']:.3f} ms/step, "
            f"mean loss of the last {len(last)}: {summary['mean_loss_last_100']:.4f}"
        )


if __name__ == "__main__":
    main()
