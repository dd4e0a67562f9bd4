//! # 03: the gradients, by hand
//!
//! Backpropagation is the chain rule applied from the output backwards. The
//! notebook does it by hand: `o.grad = 1`, then `n.grad = 1 - o²` (the
//! derivative of tanh), then a `+` passes its gradient through unchanged
//! and a `*` multiplies it by the other operand's data.
//!
//! Then `backprop::explain` writes out the same steps for the graph, with
//! each local derivative's formula and value, so the two can be compared
//! line by line (`backprop explain PROGRAM` does it for any expression).
//!
//! `cargo run --example 03-gradients-by-hand`

use backprop::Graph;
use backprop::explain::explain;

fn main() {
    let g = Graph::new();
    let x1 = g.value(2.0).with_label("x1");
    let x2 = g.value(0.0).with_label("x2");
    let w1 = g.value(-3.0).with_label("w1");
    let w2 = g.value(1.0).with_label("w2");
    let b = g.value(6.8813735870195432).with_label("b");
    let x1w1 = (x1 * w1).with_label("x1*w1");
    let x2w2 = (x2 * w2).with_label("x2*w2");
    let x1w1x2w2 = (x1w1 + x2w2).with_label("x1*w1 + x2*w2");
    let n = (x1w1x2w2 + b).with_label("n");
    let o = n.tanh().with_label("o");

    o.set_grad(1.0);
    n.set_grad(o.grad() * (1.0 - o.data() * o.data())); // tanh' = 1 - tanh²
    // `+` routes the gradient to both operands unchanged.
    x1w1x2w2.set_grad(n.grad());
    b.set_grad(n.grad());
    x1w1.set_grad(x1w1x2w2.grad());
    x2w2.set_grad(x1w1x2w2.grad());
    // `*` multiplies it by the other operand.
    w1.set_grad(x1w1.grad() * x1.data());
    x1.set_grad(x1w1.grad() * w1.data());
    w2.set_grad(x2w2.grad() * x2.data());
    x2.set_grad(x2w2.grad() * w2.data());

    for v in [o, n, x1w1x2w2, b, x1w1, x2w2, x1, w1, x2, w2] {
        println!("{:>14}: {v:.4}", v.label().unwrap_or_default());
    }

    // The same steps, written out by the library from the graph alone.
    let e = explain(o);
    println!("\nthe same steps, by backprop::explain:\n\n{e}");
    for v in [x1, w1, x2, w2, b] {
        let label = v.label().unwrap_or_default();
        let auto = e.grad(&label).expect("an input of o");
        assert!(
            (auto - v.grad()).abs() < 1e-12,
            "{label}: by hand {}, explain {auto}",
            v.grad()
        );
    }
}
