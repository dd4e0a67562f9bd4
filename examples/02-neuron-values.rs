//! # 02: the neuron as a graph of `Value`s
//!
//! The notebook's `Value` stores a number, its gradient, its children, the
//! op that made it and a label. Here a [`Graph`] holds the nodes and each
//! `Value` is a small handle into it; the operators record the graph as
//! they compute.
//!
//! It also writes the graph as an interactive page (the notebook's
//! `draw_dot` picture, with the forward pass replayed node by node) to
//! the system's temporary directory; the program prints where.
//!
//! `cargo run --example 02-neuron-values`

use backprop::Graph;
use backprop::explain::{explain, to_html};

fn main() {
    let g = Graph::new();
    // inputs
    let x1 = g.value(2.0).with_label("x1");
    let x2 = g.value(0.0).with_label("x2");
    // weights
    let w1 = g.value(-3.0).with_label("w1");
    let w2 = g.value(1.0).with_label("w2");
    // bias, chosen so that n comes out at 0.8814 and tanh(n) at 1/√2
    let b = g.value(6.8813735870195432).with_label("b");
    // n = x1*w1 + x2*w2 + b, o = tanh(n)
    let x1w1 = (x1 * w1).with_label("x1*w1");
    let x2w2 = (x2 * w2).with_label("x2*w2");
    let x1w1x2w2 = (x1w1 + x2w2).with_label("x1*w1 + x2*w2");
    let n = (x1w1x2w2 + b).with_label("n");
    let o = n.tanh().with_label("o");

    println!("o = {o}");
    println!("\nthe graph that leads to o, in creation order:");
    for id in g.trace(o.id()).nodes {
        let v = g.get(id);
        let children: Vec<String> = v
            .children()
            .iter()
            .map(|c| c.label().unwrap_or_default())
            .collect();
        println!(
            "  {:<14} = {:<5} {:<28} data {:>8.4}",
            v.label().unwrap_or_default(),
            v.op().symbol(),
            children.join(", "),
            v.data()
        );
    }

    // The picture: open the page in a browser and step through the
    // forward pass (then the backward pass, which example 03 does by hand).
    let page = to_html(&explain(o), None, "the notebook's neuron").expect("10 nodes fit a page");
    let path = std::env::temp_dir().join("backprop-02-neuron.html");
    match std::fs::write(&path, page) {
        Ok(()) => println!("\nthe graph as a page: {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}
