//! `Graph::compact`: dropping what no root depends on keeps every kept
//! node's data, gradient, label and op, gradients through the kept graph
//! match closed-form derivatives, and ids taken before are refused.

use std::panic::{AssertUnwindSafe, catch_unwind};

use backprop::{Graph, Op};

#[test]
fn compaction_keeps_what_roots_reach_and_gradients_match_closed_form() {
    let mut g = Graph::new();
    let (x0, y0) = (0.7_f64, -1.3_f64);
    let x = g.value(x0).with_label("x").id();
    let y = g.value(y0).with_label("y").id();
    // Garbage between the live nodes: a dead subgraph, an n-ary sum, a
    // dot over runs and an f64 exponent that needs all 64 bits.
    for k in 0..50 {
        let v = g.get(x) * (k as f64) + g.get(y).exp();
        let _ = g.sum([v, v.tanh(), g.get(x)]);
    }
    let w: Vec<_> = (0..4).map(|k| g.value(0.1 * k as f64 + 0.2)).collect();
    let inputs: Vec<_> = (0..4).map(|k| g.get(x) * (k as f64 + 1.0)).collect();
    let w_ids: Vec<_> = w.iter().map(|v| v.id()).collect();
    let b = g.value(0.5);
    // f = linear(w, x·(1..4), b) + y^(1/3 as f64) + sum(x, y)
    let third = 1.0 / 3.0;
    let f =
        g.linear(&w, &inputs, b) + (g.get(y) * g.get(y)).powf(third) + g.sum([g.get(x), g.get(y)]);
    let f = f.with_label("f").id();
    let before = g.len();
    let mut all = vec![x, y, f];
    all.extend(&w_ids);
    g.compact(&mut all);
    assert!(
        g.len() < before,
        "{} nodes before, {} after",
        before,
        g.len()
    );
    let (x, y, f) = (all[0], all[1], all[2]);
    let fx = g.get(f);
    assert_eq!(g.get(x).label().as_deref(), Some("x"));
    assert_eq!(fx.label().as_deref(), Some("f"));
    assert_eq!(fx.op(), Op::Add);
    // Forward value, closed form.
    let lin: f64 = (0..4)
        .map(|k| (0.1 * k as f64 + 0.2) * x0 * (k as f64 + 1.0))
        .sum::<f64>()
        + 0.5;
    let expect = lin + (y0 * y0).powf(third) + x0 + y0;
    assert!(
        (fx.data() - expect).abs() < 1e-12,
        "{} vs {expect}",
        fx.data()
    );
    fx.backward();
    // df/dx = Σ w_k (k + 1) + 1; df/dy = (2/3) y (y²)^(-2/3) + 1.
    let dx: f64 = (0..4)
        .map(|k| (0.1 * k as f64 + 0.2) * (k as f64 + 1.0))
        .sum::<f64>()
        + 1.0;
    let dy = 2.0 / 3.0 * y0 * (y0 * y0).powf(-2.0 / 3.0) + 1.0;
    assert!((g.get(x).grad() - dx).abs() < 1e-12);
    assert!((g.get(y).grad() - dy).abs() < 1e-12);
    for (k, &wk) in all[3..].iter().enumerate() {
        assert!((g.get(wk).grad() - x0 * (k as f64 + 1.0)).abs() < 1e-12);
    }
}

#[test]
fn ids_taken_before_a_compaction_are_refused() {
    let mut g = Graph::new();
    let a = g.value(1.0).id();
    let dead = (g.get(a) * 2.0).id();
    let mut roots = [a];
    g.compact(&mut roots);
    assert!(!g.contains(dead));
    // `a` itself, unrewritten, is stale too: the generation moved on.
    assert!(!g.contains(a));
    assert!(g.contains(roots[0]));
    let err = catch_unwind(AssertUnwindSafe(|| {
        g.get(a);
    }))
    .expect_err("a stale id must be refused");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("stale"), "{msg}");
}

#[test]
fn repeated_compaction_keeps_memory_flat() {
    // A loop that rebuilds its graph each step, as a Python training loop
    // does, compacting when the graph has doubled: the length stays bounded.
    let mut g = Graph::new();
    let mut w = g.value(0.5).id();
    let mut peak = 0;
    for _ in 0..200 {
        let loss = {
            let wv = g.get(w);
            let l = (wv * 3.0 - 6.0).powf(2.0);
            l.backward();
            l.id()
        };
        let _ = loss;
        let step = 0.01 * g.get(w).grad();
        g.get(w).set_data(g.get(w).data() - step);
        g.get(w).set_grad(0.0);
        if g.len() > 16 {
            let mut roots = [w];
            g.compact(&mut roots);
            w = roots[0];
        }
        peak = peak.max(g.len());
    }
    assert!(peak <= 16 + 6, "peak {peak}");
    // 200 steps of gradient descent on (3w - 6)²: w → 2 (closed form:
    // w_k - 2 = (w_0 - 2)(1 - 0.18)^k).
    let expect = 2.0 + (0.5 - 2.0) * (1.0_f64 - 0.18).powi(200);
    assert!((g.get(w).data() - expect).abs() < 1e-12);
}
