"""Random programs, built twice: with backprop Values in Python and as text in
the expression language for ``backprop grad --json`` (the Rust CLI, run as a
subprocess). The output's value and every input's gradient must agree.

Each program is a random tree of statements over 2-4 inputs with + - * /,
``**`` with constant exponents, unary minus, relu, tanh, exp, sigmoid, log and
sqrt, and rebinding (``c = c + a``, ``c += a``, ``a *= b``). The Python side is
built from the tree with Value operators (never by parsing the text); the text
is printed with Python's precedence and as few parentheses as it needs, so the
CLI's parser is checked too. Domains stay away from NaN (division by small
numbers, logs of small numbers, huge exponentials are not generated); a few
hand-written programs check that both sides agree on NaN and infinities.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from support import backprop_bin
from support import json_number as number

import backprop
from backprop import Value

SEED = 20240611
PROGRAMS = 200
REL = 1e-12


def agree(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return x == y or abs(x - y) <= REL * max(abs(x), abs(y))


# --- expression trees -------------------------------------------------------
# ("var", name) | ("num", c) | ("neg", e) | ("bin", op, l, r) | ("pow", e, k, ktext)
# | ("fn", name, e)

PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
FUNCS = ["relu", "tanh", "exp", "sigmoid", "log", "ln", "sqrt"]


def prec(t) -> int:
    kind = t[0]
    if kind == "bin":
        return PREC[t[1]]
    if kind == "neg":
        return 3
    if kind == "pow":
        return 4
    return 5


def text(t) -> str:
    """`t` in the expression language, which is also Python's syntax."""
    kind = t[0]
    if kind == "var":
        return t[1]
    if kind == "num":
        c = t[1]
        return str(int(c)) if c == int(c) else repr(c)
    if kind == "neg":
        inner = text(t[1])
        return "-" + (f"({inner})" if prec(t[1]) < 3 else inner)
    if kind == "bin":
        op, left, right = t[1], t[2], t[3]
        ls, rs = text(left), text(right)
        if prec(left) < PREC[op]:
            ls = f"({ls})"
        if prec(right) <= PREC[op]:
            rs = f"({rs})"
        return f"{ls} {op} {rs}"
    if kind == "pow":
        base = text(t[1])
        if prec(t[1]) <= 4:  # (-x)**2, (x**2)**3
            base = f"({base})"
        return f"{base}**{t[3]}"
    if kind == "fn":
        return f"{t[1]}({text(t[2])})"
    raise AssertionError(t)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def fvalue(t, env: dict[str, float]) -> float:
    """The value of `t` in plain floats (to keep the generator in its domain)."""
    kind = t[0]
    if kind == "var":
        return env[t[1]]
    if kind == "num":
        return t[1]
    if kind == "neg":
        return -fvalue(t[1], env)
    if kind == "bin":
        a, b = fvalue(t[2], env), fvalue(t[3], env)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.inf}[t[1]]
    if kind == "pow":
        return fvalue(t[1], env) ** t[2]
    if kind == "fn":
        x = fvalue(t[2], env)
        f = t[1]
        if f == "relu":
            return max(x, 0.0)
        if f == "sigmoid":
            return sigmoid(x)
        if f in ("log", "ln"):
            return math.log(x)
        return getattr(math, f)(x)
    raise AssertionError(t)


def pyvalue(t, env: dict[str, Value]):
    """`t` built with backprop Values and Python operators."""
    kind = t[0]
    if kind == "var":
        return env[t[1]]
    if kind == "num":
        return t[1]
    if kind == "neg":
        return -pyvalue(t[1], env)
    if kind == "bin":
        a, b = pyvalue(t[2], env), pyvalue(t[3], env)
        op = t[1]
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b
    if kind == "pow":
        return pyvalue(t[1], env) ** t[2]
    if kind == "fn":
        x = pyvalue(t[2], env)
        return x.log() if t[1] in ("log", "ln") else getattr(x, t[1])()
    raise AssertionError(t)


# Constant exponents: (k, how it is written).
EXPONENTS = [
    (2, "2"),
    (3, "3"),
    (2.0, "2.0"),
    (-1, "-1"),
    (-2, "-2"),
    (0.5, "0.5"),
    (0.5, "(1/2)"),
    (1.5, "1.5"),
]
CONSTANTS = [0.5, 1.0, 2.0, 3.0, 1.5, 0.1, 10.0, 0.25]


class Generator:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def ok(self, t, env) -> bool:
        """`t`'s value is finite and moderate, and every step is in its domain."""
        try:
            return self.in_domain(t, env) and abs(fvalue(t, env)) <= 1e4
        except (OverflowError, ValueError, ZeroDivisionError):
            return False

    def in_domain(self, t, env) -> bool:
        kind = t[0]
        if kind in ("var", "num"):
            return True
        if kind == "neg":
            return self.in_domain(t[1], env)
        if kind == "bin":
            if not (self.in_domain(t[2], env) and self.in_domain(t[3], env)):
                return False
            return t[1] != "/" or abs(fvalue(t[3], env)) >= 0.2
        if kind == "pow":
            if not self.in_domain(t[1], env):
                return False
            x, k = fvalue(t[1], env), t[2]
            if k != int(k) and x < 0.2:
                return False
            return k > 0 or abs(x) >= 0.2
        if kind == "fn":
            if not self.in_domain(t[2], env):
                return False
            x = fvalue(t[2], env)
            if t[1] == "exp":
                return x <= 8
            if t[1] in ("log", "ln", "sqrt"):
                return x >= 0.2
            return True
        raise AssertionError(t)

    def expr(self, depth: int, env: dict[str, float]):
        """A random expression that uses at least one name."""
        rng = self.rng
        for _ in range(20):
            t = self.attempt(depth, env)
            if self.ok(t, env):
                return t
        return ("var", rng.choice(sorted(env)))

    def attempt(self, depth: int, env):
        rng = self.rng
        var = ("var", rng.choice(sorted(env)))
        if depth <= 0 or rng.random() < 0.2:
            return var
        r = rng.random()
        if r < 0.45:
            op = rng.choice("+-*/")
            left = self.expr(depth - 1, env)
            right = self.expr(depth - 1, env)
            u = rng.random()
            if u < 0.15:
                left = ("num", rng.choice(CONSTANTS))
            elif u < 0.3:
                right = ("num", rng.choice(CONSTANTS))
            return ("bin", op, left, right)
        if r < 0.6:
            k, ktext = rng.choice(EXPONENTS)
            return ("pow", self.expr(depth - 1, env), k, ktext)
        if r < 0.7:
            return ("neg", self.expr(depth - 1, env))
        return ("fn", rng.choice(FUNCS), self.expr(depth - 1, env))

    def program(self):
        """(text, inputs {name: value}, statements [(name, tree)])."""
        rng = self.rng
        names = ["a", "b", "c", "d"][: rng.randint(2, 4)]
        inputs = {n: round(rng.uniform(-2.5, 2.5), rng.choice([1, 3, 17])) for n in names}
        lines = [f"{n} = {v!r}" for n, v in inputs.items()]
        env = dict(inputs)
        statements = []
        computed = []
        for i in range(rng.randint(1, 5)):
            depth = rng.randint(1, 4)
            r = rng.random()
            if i > 0 and r < 0.35:
                # Rebinding: `x = x op e` or `x op= e`, of a computed name or an input.
                name = rng.choice(computed + names if rng.random() < 0.8 else names)
                op = rng.choice("+-*/")
                for _ in range(20):
                    e = self.expr(depth, env)
                    t = ("bin", op, ("var", name), e)
                    if self.ok(t, env):
                        break
                else:
                    op, e = "+", ("var", name)
                    t = ("bin", op, ("var", name), e)
                if rng.random() < 0.5:
                    lines.append(f"{name} {op}= {text(e)}")
                else:
                    lines.append(f"{name} = {text(t)}")
            else:
                name = rng.choice("efghpq") + str(i)
                t = self.expr(depth, env)
                # Mostly computed nodes; sometimes an alias (`e = b`).
                while t[0] == "var" and rng.random() < 0.9:
                    t = self.expr(depth, env)
                lines.append(f"{name} = {text(t)}")
                computed.append(name)
            statements.append((name, t))
            env[name] = fvalue(t, env)
        if rng.random() < 0.3:
            # A bare last expression is the output, named `out`.
            t = self.expr(2, env)
            lines.append(text(t))
            statements.append(("out", t))
        sep = rng.choice(["\n", "; "])
        return sep.join(lines), inputs, statements


def python_side(inputs: dict[str, float], statements):
    """Output value and input gradients from backprop Values: from `backward()`
    and from `backprop.grad`."""
    with backprop.Graph():
        leaves = {n: Value(x, label=n) for n, x in inputs.items()}
        env = dict(leaves)
        out = None
        for name, t in statements:
            out = pyvalue(t, env)
            env[name] = out
        assert isinstance(out, Value), out
        functional = backprop.grad(out, list(leaves.values()))
        out.backward()
        return (
            out.data,
            {n: v.grad for n, v in leaves.items()},
            dict(zip(leaves, (g.data for g in functional))),
        )


def cli(program: str) -> dict:
    r = subprocess.run(
        [backprop_bin(), "grad", program, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, f"backprop grad failed ({r.returncode}) on\n{program}\n{r.stderr}"
    return json.loads(r.stdout)


def check(program: str, inputs, statements, got: dict) -> None:
    value, grads, functional = python_side(inputs, statements)
    where = f"\nprogram:\n{program}\ncli: {json.dumps(got)}"
    last, t = statements[-1]
    # A bare last expression is named `out`, unless it is a name itself.
    assert got["output"] == (t[1] if last == "out" and t[0] == "var" else last), where
    assert agree(value, number(got["value"])), f"value: python {value!r}{where}"
    assert set(got["grads"]) == set(inputs), where
    for name in inputs:
        want = number(got["grads"][name])
        assert agree(grads[name], want), f"{name}.grad: python {grads[name]!r}{where}"
        assert agree(functional[name], want), (
            f"backprop.grad wrt {name}: python {functional[name]!r}{where}"
        )
    # Each input's value as the CLI parsed it (full-precision literals).
    for name, x in inputs.items():
        assert number(got["inputs"][name]) == x, where


def test_random_programs_agree_with_the_cli():
    backprop_bin()
    gen = Generator(random.Random(SEED))
    programs = [gen.program() for _ in range(PROGRAMS)]
    # Sanity of the generator: the text, run as Python on floats, is the tree.
    for program, inputs, statements in programs:
        scope = {
            "relu": lambda x: max(x, 0.0),
            "tanh": math.tanh,
            "exp": math.exp,
            "sigmoid": sigmoid,
            "log": math.log,
            "ln": math.log,
            "sqrt": math.sqrt,
        }
        lines = program.replace("; ", "\n").splitlines()
        bare = statements[-1][0] == "out"
        exec("\n".join(lines[:-1] if bare else lines), scope)
        if bare:
            scope["out"] = eval(lines[-1], scope)
        env = dict(inputs)
        for name, t in statements:
            env[name] = fvalue(t, env)
        for name, x in env.items():
            assert agree(scope[name], x), (program, name)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(cli, [p for p, _, _ in programs]))
    for (program, inputs, statements), got in zip(programs, results):
        check(program, inputs, statements, got)


# Hand-written programs whose results are NaN or infinite: both sides must
# agree on them the same way: (program text, inputs, statements).
def _edge_cases():
    v = ("var", "x")
    return [
        # 0 * inf: NaN gradient.
        (
            "x = 0\ny = -(sqrt(x)**2)",
            {"x": 0.0},
            [("y", ("neg", ("pow", ("fn", "sqrt", v), 2, "2")))],
        ),
        # log(0) = -inf, gradient inf.
        ("x = 0\ny = log(x)", {"x": 0.0}, [("y", ("fn", "log", v))]),
        # 1/0.
        ("x = 0\ny = 1 / x", {"x": 0.0}, [("y", ("bin", "/", ("num", 1.0), v))]),
        # sqrt of a negative number: NaN value and gradient.
        ("x = -1\ny = sqrt(x)", {"x": -1.0}, [("y", ("fn", "sqrt", v))]),
        # exp overflow: inf value and gradient.
        ("x = 800\ny = exp(x)", {"x": 800.0}, [("y", ("fn", "exp", v))]),
        # relu at exactly zero, and a negative zero gradient.
        ("x = 0\ny = relu(x)", {"x": 0.0}, [("y", ("fn", "relu", v))]),
        ("x = 0\ny = exp(-(x*x))", {"x": 0.0}, [("y", ("fn", "exp", ("neg", ("bin", "*", v, v))))]),
    ]


@pytest.mark.parametrize("program,inputs,statements", _edge_cases())
def test_non_finite_results_agree_with_the_cli(program, inputs, statements):
    got = cli(program)
    check(program, inputs, statements, got)
    _, _, functional = python_side(inputs, statements)
    for name in inputs:
        want = number(got["grads"][name])
        # backprop.grad returns gradients with PyTorch's sign of zero, as the
        # CLI prints them (`.grad` after backward() accumulates onto 0.0 as
        # micrograd does, so there -0.0 becomes 0.0: the README says so).
        if want == 0:
            assert math.copysign(1, functional[name]) == math.copysign(1, want), (
                program,
                functional,
                want,
            )
