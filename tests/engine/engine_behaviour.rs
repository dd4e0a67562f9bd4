//! How the engine behaves: accumulation, reuse, truncation, inspection,
//! edge cases. Expected numbers come from closed-form derivatives.

use backprop::{Graph, Op};

#[test]
fn reused_nodes_accumulate() {
    let g = Graph::new();
    let a = g.value(3.0);
    let b = a + a; // d/da = 2
    b.backward();
    assert_eq!(a.grad(), 2.0);

    let g = Graph::new();
    let a = g.value(3.0);
    let b = a * a; // d/da = 2a
    b.backward();
    assert_eq!(a.grad(), 6.0);

    // One node feeding many others: y = Σ_k (k * a), dy/da = Σ k.
    let g = Graph::new();
    let a = g.value(1.5);
    let y = g.sum((1..=10).map(|k| k as f64 * a));
    y.backward();
    assert_eq!(a.grad(), 55.0);
}

#[test]
fn second_backward_adds_the_same_gradients_and_zero_grad_resets() {
    let g = Graph::new();
    let x = g.value(0.3);
    let w = g.value(-1.2);
    let y = (x * w).tanh();
    y.backward();
    let (gx, gw) = (x.grad(), w.grad());
    let t = (0.3f64 * -1.2).tanh();
    assert!((gx - (1.0 - t * t) * -1.2).abs() < 1e-15);
    y.backward();
    assert_eq!((x.grad(), w.grad()), (2.0 * gx, 2.0 * gw));
    assert_eq!(y.grad(), 2.0);
    g.zero_grad();
    assert_eq!((x.grad(), w.grad(), y.grad()), (0.0, 0.0, 0.0));
    y.backward();
    assert_eq!((x.grad(), w.grad()), (gx, gw));
}

#[test]
fn nodes_the_output_does_not_depend_on_are_untouched() {
    let g = Graph::new();
    let x = g.value(2.0);
    let other = x * f64::INFINITY; // a node after x that y does not use
    let y = x * 3.0;
    y.backward();
    assert_eq!(x.grad(), 3.0); // no 0 * inf = NaN leaking in from `other`
    assert_eq!(other.grad(), 0.0);
    // Backward from an intermediate node only reaches its ancestors.
    let g = Graph::new();
    let a = g.value(1.0);
    let b = g.value(2.0);
    let c = a * 4.0;
    let _d = c + b;
    c.backward();
    assert_eq!((a.grad(), b.grad(), c.grad()), (4.0, 0.0, 1.0));
}

#[test]
fn grads_and_data_can_be_set_by_hand() {
    let g = Graph::new();
    let x = g.value(1.0);
    x.set_data(2.5);
    x.set_grad(-4.0);
    assert_eq!((x.data(), x.grad()), (2.5, -4.0));
    let y = x * 2.0;
    y.backward();
    assert_eq!(x.grad(), -2.0); // accumulates onto what was set
}

#[test]
#[should_panic(expected = "cannot combine values from two different graphs")]
fn mixing_graphs_panics() {
    let g1 = Graph::new();
    let g2 = Graph::new();
    let _ = g1.value(1.0) + g2.value(2.0);
}

#[test]
#[should_panic(expected = "is stale")]
fn stale_node_id_panics() {
    let mut g = Graph::new();
    let mark = g.mark();
    let id = g.value(1.0).id();
    g.truncate(mark);
    let _ = g.get(id);
}

#[test]
fn truncate_keeps_the_nodes_before_the_mark() {
    let mut g = Graph::new();
    let w = g.value(0.5).with_label("w").id();
    let mark = g.mark();
    for step in 0..3 {
        {
            let w = g.get(w);
            let y = (w * 2.0).with_label("y");
            y.backward();
            assert_eq!(g.len(), 3); // w, the constant 2, y
            assert_eq!(w.grad(), 2.0 * (step + 1) as f64);
        }
        g.truncate(mark);
        assert_eq!(g.len(), 1);
        assert_eq!(g.labels(), vec![(w, "w".to_string())]);
    }
}

#[test]
fn memory_is_constant_across_truncate_and_rebuild_cycles() {
    let mut g = Graph::new();
    let params: Vec<_> = (0..32).map(|i| g.value(i as f64 * 0.01).id()).collect();
    let mark = g.mark();
    let mut after_first = 0;
    for cycle in 0..1000 {
        {
            let ws: Vec<_> = params.iter().map(|&p| g.get(p)).collect();
            let mut acc = g.value(0.0);
            for (k, w) in ws.iter().enumerate() {
                acc = (acc + *w * (k as f64)).tanh() + w.powf(2.0);
            }
            let s = Graph::sum(&g, ws.iter().copied());
            (acc * s).backward();
        }
        g.truncate(mark);
        if cycle == 0 {
            after_first = g.memory_bytes();
        }
        assert_eq!(g.memory_bytes(), after_first, "cycle {cycle}");
    }
    assert_eq!(g.len(), params.len());
}

#[test]
fn ten_million_node_chain_has_no_stack_overflow() {
    let g = Graph::with_capacity(10_000_001);
    let x = g.value(1.0);
    let c = g.value(-1.0);
    let mut y = x;
    for _ in 0..10_000_000 {
        y *= c; // one node per step
    }
    assert_eq!(g.len(), 10_000_002);
    y.backward();
    // y = x * c^N with N even: dy/dx = 1, dy/dc = N x c^(N-1) = -N.
    assert_eq!(x.grad(), 1.0);
    assert_eq!(c.grad(), -10_000_000.0);
}

#[test]
fn trace_is_deterministic_and_follows_creation_order() {
    let g = Graph::new();
    let a = g.value(1.0);
    let b = g.value(2.0);
    let _unused = g.value(7.0);
    let c = a * b;
    let d = c + a;
    let t = g.trace(d.id());
    assert_eq!(t.nodes, vec![a.id(), b.id(), c.id(), d.id()]);
    assert_eq!(
        t.edges,
        vec![
            (a.id(), c.id()),
            (b.id(), c.id()),
            (c.id(), d.id()),
            (a.id(), d.id())
        ]
    );
    assert_eq!(t, g.trace(d.id()));
}

#[test]
fn inspection() {
    let g = Graph::new();
    let a = g.value(2.0);
    let b = g.value(3.0);
    assert_eq!(a.op(), Op::Leaf);
    assert!(a.children().is_empty());
    let y = (a * b).powf(2.0);
    assert_eq!(y.op(), Op::PowF);
    assert_eq!(y.exponent(), Some(2.0));
    let m = y.children()[0];
    assert_eq!(m.op(), Op::Mul);
    assert_eq!(
        m.children().iter().map(|v| v.id()).collect::<Vec<_>>(),
        vec![a.id(), b.id()]
    );
    let d = g.dot(&[a, b], &[b, a]);
    assert_eq!(d.op(), Op::Dot);
    assert_eq!(d.children().len(), 4);
    assert_eq!(d.data(), 12.0);
}

#[test]
fn display_matches_micrograd() {
    let g = Graph::new();
    let x = g.value(0.5);
    assert_eq!(x.to_string(), "Value(data=0.5, grad=0)");
    (x * 2.0).backward();
    assert_eq!(format!("{x:.4}"), "Value(data=0.5000, grad=2.0000)");
}

#[test]
fn operators_with_f64_on_either_side() {
    let g = Graph::new();
    let x = g.value(4.0);
    assert_eq!((x + 1.0).data(), 5.0);
    assert_eq!((1.0 + x).data(), 5.0);
    assert_eq!((x - 1.0).data(), 3.0);
    assert_eq!((1.0 - x).data(), -3.0);
    assert_eq!((x * 2.0).data(), 8.0);
    assert_eq!((2.0 * x).data(), 8.0);
    assert_eq!((x / 2.0).data(), 2.0);
    assert_eq!((2.0 / x).data(), 0.5);
    assert_eq!((-x).data(), -4.0);
    let mut y = x;
    y += 1.0;
    y -= x;
    y *= 3.0;
    y /= g.value(2.0);
    assert_eq!(y.data(), 1.5);
    y.backward();
    assert_eq!(x.grad(), 0.0); // (x + 1 - x) * 3 / 2 does not depend on x
    let s: backprop::Value = [x, x, g.value(1.0)].iter().sum();
    assert_eq!(s.data(), 9.0);
}

#[test]
fn extreme_inputs_stay_finite_and_correct() {
    let g = Graph::new();
    for &x in &[
        -1e308, -1000.0, -355.0, -40.0, 40.0, 355.0, 356.0, 1000.0, 1e308,
    ] {
        let v = g.value(x);
        let t = v.tanh();
        let s = v.sigmoid();
        t.backward();
        s.backward();
        assert_eq!(t.data(), x.signum(), "tanh({x})");
        assert!(t.data().is_finite() && s.data().is_finite());
        assert!(v.grad().is_finite());
        if x > 0.0 {
            assert_eq!(s.data(), 1.0, "sigmoid({x})");
        } else {
            // σ(x) = e^x / (1 + e^x) ≈ e^x to within e^2x for x ≤ -40.
            assert!(
                (s.data() - x.exp()).abs() <= 1e-15 * x.exp(),
                "sigmoid({x})"
            );
        }
    }
    // sigmoid keeps precision in the far negative tail: σ(-40) = e^-40 / (1 + e^-40).
    let s = g.value(-40.0).sigmoid().data();
    assert!((s - (-40f64).exp() / (1.0 + (-40f64).exp())).abs() < 1e-30);
    // exp overflows like f64, without panicking.
    assert_eq!(g.value(710.0).exp().data(), f64::INFINITY);
    assert_eq!(g.value(-1000.0).exp().data(), 0.0);
}

#[test]
fn domain_errors_are_nan_like_f64() {
    let g = Graph::new();
    let x = g.value(-1.0);
    let l = x.ln();
    let s = x.sqrt();
    assert!(l.data().is_nan() && s.data().is_nan());
    (l + s).backward();
    assert!(x.grad().is_nan());
    assert_eq!(g.value(0.0).ln().data(), f64::NEG_INFINITY);
    let n = g.value(f64::NAN);
    let r = n.relu();
    assert!(r.data().is_nan());
    assert!((n * 2.0 + 1.0).tanh().data().is_nan());
    assert_eq!(g.value(1.0).div_zero_check(), f64::INFINITY);
}

trait DivZero {
    fn div_zero_check(self) -> f64;
}

impl DivZero for backprop::Value<'_> {
    fn div_zero_check(self) -> f64 {
        (self / 0.0).data()
    }
}

/// PyTorch masks a few 0 * inf cases in pow's backward; so do we.
#[test]
fn pow_edge_cases_follow_pytorch() {
    let g = Graph::new();
    // d/dx x^0 = 0 everywhere, even at 0 (PyTorch: 0, not 0 * 0^-1 = NaN).
    let x = g.value(0.0);
    x.powf(0.0).backward();
    assert_eq!(x.grad(), 0.0);
    // d/db 0^b = 0 for b >= 0 (PyTorch masks 0^b ln 0).
    let g = Graph::new();
    let (a, b) = (g.value(0.0), g.value(2.0));
    a.pow(b).backward();
    assert_eq!((a.grad(), b.grad()), (0.0, 0.0));
    // sqrt'(0) = inf, as in PyTorch.
    let g = Graph::new();
    let x = g.value(0.0);
    x.sqrt().backward();
    assert_eq!(x.grad(), f64::INFINITY);
    // relu'(0) = 0, as in PyTorch and micrograd.
    let g = Graph::new();
    let x = g.value(0.0);
    x.relu().backward();
    assert_eq!(x.grad(), 0.0);
}

/// Exponents that an `f32` cannot hold exactly are kept exactly too.
#[test]
fn powf_keeps_any_exponent_exactly() {
    for p in [1.0 / 3.0, 0.1, -2.7, 1e-300, 2.0, 0.5] {
        let g = Graph::new();
        let x = g.value(1.7);
        let y = x.powf(p);
        y.backward();
        assert_eq!(y.exponent(), Some(p));
        assert_eq!(y.data(), 1.7f64.powf(p));
        let want = p * 1.7f64.powf(p - 1.0);
        assert!((x.grad() - want).abs() <= 1e-15 * want.abs(), "p = {p}");
    }
}

/// `backward` adds to every gradient with `+=`, including those of nodes
/// the graph held no gradient for yet (all nodes made after the last
/// gradient was set): a gradient that is `-0.0` reads `0.0`, an untouched
/// node `0.0`, NaN stays NaN, and an existing gradient grows.
#[test]
fn gradients_of_new_nodes_follow_plus_equals() {
    for skip_zeros in [false, true] {
        let g = Graph::new();
        let w = g.value(1.5);
        w.set_grad(10.0); // the gradient array now ends at `w`
        let x = g.value(2.0);
        let minus_zero = g.value(-0.0);
        let unused = g.value(7.0);
        let nan = g.value(f64::NAN);
        let lonely = g.value(3.0); // on no path to z
        // z = w·x + tanh(x·(-0)) + relu(unused)·0 + w·0 + relu(nan·0)·0
        let y = w * x + (x * minus_zero).tanh() + unused.relu() * 0.0 + w * 0.0;
        let z = y + (nan * 0.0).relu() * 0.0;
        if skip_zeros {
            z.backward_skip_zeros();
        } else {
            z.backward();
        }
        // dz/dw = x (+ 0 from w * 0), onto the 10 that was set.
        assert_eq!(w.grad(), 10.0 + 2.0, "skip_zeros {skip_zeros}");
        // dz/dx = w + (-0) * tanh'(-0) = 1.5
        assert_eq!(x.grad(), 1.5);
        // d/d(minus_zero) = x * tanh'(..) = 2
        assert_eq!(minus_zero.grad(), 2.0);
        // dz/d(unused) = relu'(7) * 0 = 0: reads +0.0
        assert_eq!(unused.grad().to_bits(), 0.0f64.to_bits());
        // relu(NaN) is not > 0, so it passes 0 on: 0 · 0 = 0.
        assert_eq!(nan.grad().to_bits(), 0.0f64.to_bits());
        assert_eq!(z.grad(), 1.0);
        // A node no path reaches keeps 0.0.
        assert_eq!(lonely.grad().to_bits(), 0.0f64.to_bits());
    }
    // A gradient of exactly -0.0 reads 0.0 (0.0 + -0.0), as in PyTorch
    // after zero_grad(set_to_none=False).
    let g = Graph::new();
    let a = g.value(3.0);
    let b = g.value(-0.0);
    let y = a * b; // dy/da = -0.0
    y.backward();
    assert_eq!(a.grad().to_bits(), 0.0f64.to_bits());
    assert_eq!(b.grad(), 3.0);
    // NaN reaches a new node's gradient.
    let g = Graph::new();
    let a = g.value(0.0);
    let y = a.ln() * 0.0; // d/da = 0 * (1/0) = NaN
    y.backward();
    assert!(a.grad().is_nan());
}

/// Every sweep starts from clean adjoints, whatever ran before it on the
/// graph: `gradients` (which keeps its adjoints for reading), a sweep from
/// a higher root then from a lower one, `backward` then
/// `backward_skip_zeros` on the same nodes, and sweeps after the graph was
/// truncated and built again. Closed forms, with `x = 0.7` and `y = -1.3`:
/// `f = x y + tanh x` has `df/dx = y + 1 - tanh² x` and `df/dy = x`;
/// `h = x² y` has `dh/dx = 2 x y` and `dh/dy = x²`.
#[test]
fn every_sweep_starts_from_clean_adjoints() {
    let (x0, y0) = (0.7f64, -1.3f64);
    let df = [y0 + 1.0 - x0.tanh().powi(2), x0];
    let dh = [2.0 * x0 * y0, x0 * x0];
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= 1e-14 * want.abs().max(1.0),
            "{what}: {got} against {want}"
        );
    };
    let mut g = Graph::new();
    let (xi, yi) = (g.value(x0).id(), g.value(y0).id());
    let mark = g.mark();
    for round in 0..3 {
        {
            let (x, y) = (g.get(xi), g.get(yi));
            let f = x * y + x.tanh();
            let h = x * x * y;
            for _ in 0..2 {
                let d = g.gradients(h, &[x, y]);
                close(d[0], dh[0], "gradients(h) x");
                close(d[1], dh[1], "gradients(h) y");
                let d = g.gradients(f, &[x, y, h]);
                close(d[0], df[0], "gradients(f) x, after h");
                close(d[1], df[1], "gradients(f) y, after h");
                assert_eq!(d[2], 0.0, "h is above f's root");
            }
            g.zero_grad();
            h.backward();
            f.backward();
            close(x.grad(), dh[0] + df[0], "backward h then f: x");
            close(y.grad(), dh[1] + df[1], "backward h then f: y");
            assert_eq!((f.grad(), h.grad()), (1.0, 1.0), "round {round}");
            h.backward_skip_zeros();
            close(x.grad(), 2.0 * dh[0] + df[0], "then skip zeros: x");
            let d = g.gradients(f, &[x]);
            close(d[0], df[0], "gradients(f) after the training sweeps");
            f.backward_skip_zeros();
            close(y.grad(), 2.0 * dh[1] + 2.0 * df[1], "and f again: y");
        }
        g.truncate(mark);
    }
}
