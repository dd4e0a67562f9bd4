//! # 04: `backward()` does it for any expression
//!
//! The engine knows each op's local derivative, so one call walks the graph
//! from the output back to the inputs and fills in every gradient: the same
//! numbers as example 03, with no arithmetic by hand. A numerical check
//! (example 01's idea, with central differences) confirms them.
//!
//! The page it writes (path printed at the end) replays that backward
//! pass on the graph, one node at a time, with the chain-rule arithmetic
//! of each step.
//!
//! `cargo run --example 04-backward`

use backprop::Graph;
use backprop::explain::{explain, to_html};
use backprop::gradcheck::{Tolerances, gradcheck};

fn main() {
    let g = Graph::new();
    let x1 = g.value(2.0).with_label("x1");
    let x2 = g.value(0.0).with_label("x2");
    let w1 = g.value(-3.0).with_label("w1");
    let w2 = g.value(1.0).with_label("w2");
    let b = g.value(6.8813735870195432).with_label("b");
    let n = (x1 * w1 + x2 * w2 + b).with_label("n");
    let o = n.tanh().with_label("o");
    o.backward();
    for v in [o, n, x1, w1, x2, w2, b] {
        println!("{:>3}: {v:.4}", v.label().unwrap_or_default());
    }

    // The same neuron as a function of its five inputs, checked against
    // central differences with PyTorch's default tolerances.
    let report = gradcheck(
        |_, v| (v[0] * v[2] + v[1] * v[3] + v[4]).tanh(),
        &[2.0, 0.0, -3.0, 1.0, 6.8813735870195432],
        Tolerances::default(),
    );
    println!("\ngradient check (x1, x2, w1, w2, b):\n{report}");

    // Watch backward() happen: each step's chain rule, on the graph.
    let page = to_html(&explain(o), None, "o = tanh(x1*w1 + x2*w2 + b)").expect("a small graph");
    let path = std::env::temp_dir().join("backprop-04-backward.html");
    match std::fs::write(&path, page) {
        Ok(()) => println!("\nbackward() step by step, as a page: {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}
