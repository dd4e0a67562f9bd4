//! # 01: the derivative, estimated numerically
//!
//! The notebook starts without any graph: it nudges the input of
//! `f(x) = 4x² - 2x + 5` by a small `h` and measures how much the output
//! moves. The slope `(f(x + h) - f(x)) / h` approaches the derivative
//! `f'(x) = 8x - 2` as `h` shrinks.
//!
//! At the end, the same derivative by backpropagation: `f` as a graph,
//! its backward pass written out step by step (`backprop::explain`), and
//! the notebook's forward difference next to it.
//!
//! `cargo run --example 01-numerical-derivative`

use backprop::Graph;
use backprop::explain::explain;
use backprop::gradcheck::{central_difference, forward_difference};

fn f(x: f64) -> f64 {
    4.0 * x * x - 2.0 * x + 5.0
}

fn main() {
    let x = 3.0;
    let h = 0.001;
    println!("f(x) = 4x² - 2x + 5 at x = {x}");
    println!(
        "forward difference, h = {h}: {}",
        forward_difference(f, x, h)
    ); // 22.004
    println!(
        "central difference, h = {h}: {}",
        central_difference(f, x, h)
    ); // 22
    println!("exact derivative 8x - 2:        {}", 8.0 * x - 2.0);

    // A function of several inputs: d = a*b + c. Bumping c by h moves d by
    // h, so d(d)/dc = 1.
    let (a, b, c) = (2.0, -3.0, 10.0);
    let h = 0.0001;
    let d1 = a * b + c;
    let d2 = a * b + (c + h);
    println!("\nd = a*b + c at a = {a}, b = {b}, c = {c}");
    println!("d1 = {d1}, d2 = {d2}, slope d(d)/dc = {}", (d2 - d1) / h);

    // The same slope by backpropagation: f as a graph of values, and each
    // local derivative on the way back from f to x.
    let g = Graph::new();
    let x = g.value(3.0).with_label("x");
    let f = (4.0 * x.powf(2.0) - 2.0 * x + 5.0).with_label("f");
    println!("\nthe same derivative by backpropagation (f'(3) = 22):\n");
    print!("{}", explain(f).with_checks(h));
}
