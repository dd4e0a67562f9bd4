"""micrograd's ``Value`` API, and what bad input gets.

Expected numbers are closed-form derivatives or finite differences.
"""

from __future__ import annotations

import gc
import math
import threading

import pytest

import backprop
from backprop import Graph, Value, grad, hessian


def fd(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def test_repr_label_op_and_prev_as_micrograd() -> None:
    a = Value(2.0, label="a")
    b = Value(-3.0)
    c = a * b
    assert repr(c) == "Value(data=-6.0, grad=0.0)"
    assert a.label == "a" and b.label == ""
    c.label = "c"
    assert c.label == "c"
    assert c._op == "*" and (a + b)._op == "+" and a._op == ""
    assert (a**2)._op == "**2" and a.relu()._op == "ReLU"
    assert c._prev == {a, b}
    assert a in c._prev and b in c._prev
    # Wrappers of one node are equal and hash alike; distinct nodes are not.
    (child,) = [p for p in c._prev if p.label == "a"]
    assert child == a and hash(child) == hash(a)
    assert Value(2.0) != Value(2.0)


def test_operators_with_numbers_on_either_side() -> None:
    x = Value(3.0)
    cases = {
        "x + 2": (x + 2, 5.0, 1.0),
        "2 + x": (2 + x, 5.0, 1.0),
        "x - 2": (x - 2, 1.0, 1.0),
        "2 - x": (2 - x, -1.0, -1.0),
        "x * 2.5": (x * 2.5, 7.5, 2.5),
        "2 * x": (2 * x, 6.0, 2.0),
        "x / 4": (x / 4, 0.75, 0.25),
        "6 / x": (6 / x, 2.0, -6 / 9),
        "x ** 2": (x**2, 9.0, 6.0),
        "2 ** x": (2**x, 8.0, 8 * math.log(2)),
        "-x": (-x, -3.0, -1.0),
        "x ** x": (x**x, 27.0, 27 * (math.log(3) + 1)),
    }
    for name, (y, value, derivative) in cases.items():
        x.grad = 0
        y.backward()
        assert y.data == pytest.approx(value, rel=1e-12), name
        assert x.grad == pytest.approx(derivative, rel=1e-12), name


def test_methods_match_finite_differences() -> None:
    fns = {
        "tanh": (lambda v: v.tanh(), math.tanh),
        "exp": (lambda v: v.exp(), math.exp),
        "log": (lambda v: v.log(), math.log),
        "sigmoid": (lambda v: v.sigmoid(), lambda t: 1 / (1 + math.exp(-t))),
        "sqrt": (lambda v: v.sqrt(), math.sqrt),
        "relu": (lambda v: v.relu(), lambda t: max(t, 0.0)),
    }
    for name, (f, ref) in fns.items():
        x = Value(0.7)
        y = f(x)
        y.backward()
        assert y.data == pytest.approx(ref(0.7), rel=1e-12), name
        assert x.grad == pytest.approx(fd(ref, 0.7), rel=1e-6), name


def test_augmented_assignment_rebinds_and_sum_starts_at_zero() -> None:
    a = Value(1.5)
    b = a
    b += 1
    assert b is not a and a.data == 1.5 and b.data == 2.5
    s = sum([a, a, 2.0])
    s.backward()
    assert s.data == 5.0 and a.grad == 2.0


def test_data_and_grad_are_writable_as_in_an_sgd_step() -> None:
    p = Value(1.0)
    loss = (p * 3 - 6) ** 2  # d/dp = 6 (3p - 6) = -18
    loss.backward()
    assert p.grad == -18.0
    p.data -= 0.01 * p.grad
    assert p.data == pytest.approx(1.18)
    p.grad = 0
    assert p.grad == 0.0


def test_backward_sets_the_root_to_one_and_accumulates_into_the_rest() -> None:
    # micrograd: self.grad = 1, then every other node gets += ...
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 8.0  # 4 + 4


def test_higher_order_gradients_closed_form() -> None:
    x = Value(0.5)
    y = Value(-1.2)
    f = (x * y).tanh() + x**3 * y
    gx, gy = grad(f, [x, y], create_graph=True)
    t = math.tanh(-0.6)
    assert gx.data == pytest.approx((1 - t * t) * -1.2 + 3 * 0.25 * -1.2, rel=1e-12)
    assert gy.data == pytest.approx((1 - t * t) * 0.5 + 0.125, rel=1e-12)
    (gxx,) = grad(gx, [x])
    # d/dx [(1 - tanh²(xy)) y + 3x²y] = -2 tanh(xy)(1 - tanh²(xy)) y² + 6xy
    assert gxx.data == pytest.approx(-2 * t * (1 - t * t) * 1.44 + 6 * 0.5 * -1.2, rel=1e-12)
    h = hessian(f, [x, y])
    assert h[0][0] == pytest.approx(gxx.data, rel=1e-12)
    assert h[0][1] == pytest.approx(h[1][0], rel=1e-12)
    # grad leaves .grad alone; without create_graph the results are inputs.
    assert x.grad == 0.0
    (g0,) = grad(f, x)
    assert g0._op == "" and g0.data == gx.data


def test_bad_input_raises_python_exceptions() -> None:
    with pytest.raises(TypeError, match="real number"):
        Value("abc")
    with pytest.raises(TypeError):
        Value(None)
    with pytest.raises(TypeError):
        _ = Value(1.0) + "x"  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Value(1.0) < Value(2.0)  # type: ignore[operator]
    with pytest.raises(TypeError):
        pow(Value(2.0), 2, 5)
    # A complex result is NaN, as in the engine and PyTorch.
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    with pytest.raises(TypeError, match="Value"):
        grad(Value(1.0), ["x"])
    with pytest.raises(ValueError, match="one output"):
        grad([Value(1.0), Value(2.0)], [Value(1.0)])


def test_values_of_two_graphs_do_not_mix_and_reset_values_are_refused() -> None:
    g1, g2 = Graph(), Graph()
    with g1:
        a = Value(1.0)
    with g2:
        b = Value(2.0)
    assert backprop.graph_of(a) == g1 and backprop.graph_of(b) == g2
    with pytest.raises(ValueError, match="two different graphs"):
        a + b
    with pytest.raises(ValueError, match="two different graphs"):
        grad(a * 2, [b])
    c = a * 3
    g1.reset()
    with pytest.raises(RuntimeError, match="reset"):
        _ = c.data
    with pytest.raises(RuntimeError, match="reset"):
        c + 1
    with pytest.raises(RuntimeError, match="reset"):
        c.backward()
    del c
    gc.collect()
    with g1:
        fresh = Value(5.0)
    assert (fresh * 2).data == 10.0


def test_values_cross_threads_safely() -> None:
    # Values may be used from any thread: the graph's lock serialises each
    # operation. Four threads each build and differentiate their own sums.
    x = Value(2.0)
    results: list[float] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            total = Value(0.0)
            for _ in range(2000):
                total = total + x * x
            (g,) = grad(total, [x])
            results.append(g.data)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [2000 * 4.0] * 4


def test_an_operation_written_micrograds_way_is_refused_not_silently_wrong() -> None:
    # micrograd: Value(t, (self,), 'tanh') plus an _backward closure is how
    # the lecture adds tanh; backprop's engine would never call the closure,
    # so the constructor refuses the children instead of giving grad 0.
    import micrograd.engine

    def tanh(value_type, self):
        t = math.tanh(self.data)
        out = value_type(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    x = micrograd.engine.Value(0.5)
    (tanh(micrograd.engine.Value, x) * 2).backward()
    assert math.isclose(x.grad, 2 * (1 - math.tanh(0.5) ** 2), rel_tol=1e-15)
    with pytest.raises(TypeError, match="_children"):
        tanh(Value, Value(0.5))
