//! The engine against independent numbers: the notebook's worked example
//! and micrograd's published golden values.

#![allow(clippy::misrefactored_assign_op)] // micrograd's example, verbatim: `c += c + 1`

use backprop::Graph;
use backprop::gradcheck::{central_difference, forward_difference};

use crate::common::labelled_neuron;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// The notebook's neuron: o = tanh(x1*w1 + x2*w2 + b).
#[test]
fn notebook_neuron_by_backward() {
    let g = Graph::new();
    let v = labelled_neuron(&g);
    v.o.backward();

    assert!(close(v.o.data(), std::f64::consts::FRAC_1_SQRT_2, 1e-9));
    assert!(close(v.o.grad(), 1.0, 0.0));
    assert!(close(v.n.grad(), 0.5, 1e-9));
    assert!(close(v.sum.grad(), 0.5, 1e-9));
    assert!(close(v.x1w1.grad(), 0.5, 1e-9));
    assert!(close(v.x2w2.grad(), 0.5, 1e-9));
    assert!(close(v.x1.grad(), -1.5, 1e-9));
    assert!(close(v.w1.grad(), 1.0, 1e-9));
    assert!(close(v.x2.grad(), 0.5, 1e-9));
    assert!(close(v.w2.grad(), 0.0, 0.0));
    assert!(close(v.b.grad(), 0.5, 1e-9));
}

/// The same gradients set by hand, step by step, as the notebook does.
#[test]
fn notebook_neuron_by_hand() {
    let g = Graph::new();
    let x1 = g.value(2.0);
    let x2 = g.value(0.0);
    let w1 = g.value(-3.0);
    let w2 = g.value(1.0);
    let b = g.value(6.8813735870195432);
    let x1w1 = x1 * w1;
    let x2w2 = x2 * w2;
    let x1w1x2w2 = x1w1 + x2w2;
    let n = x1w1x2w2 + b;
    let o = n.tanh();

    o.set_grad(1.0);
    n.set_grad(1.0 - o.data().powi(2));
    x1w1x2w2.set_grad(n.grad());
    b.set_grad(n.grad());
    x1w1.set_grad(x1w1x2w2.grad());
    x2w2.set_grad(x1w1x2w2.grad());
    w1.set_grad(x1w1.grad() * x1.data());
    x1.set_grad(x1w1.grad() * w1.data());
    w2.set_grad(x2w2.grad() * x2.data());
    x2.set_grad(x2w2.grad() * w2.data());

    let by_hand: Vec<f64> = [x1, x2, w1, w2, b, n].iter().map(|v| v.grad()).collect();
    let expected = [-1.5, 0.5, 1.0, 0.0, 0.5, 0.5];
    for (got, want) in by_hand.iter().zip(expected) {
        assert!(close(*got, want, 1e-9), "{got} != {want}");
    }

    // backward() on a fresh copy agrees with the hand computation.
    let g2 = Graph::new();
    let v: Vec<_> = [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]
        .iter()
        .map(|&x| g2.value(x))
        .collect();
    let n2 = v[0] * v[2] + v[1] * v[3] + v[4];
    n2.tanh().backward();
    for (i, want) in by_hand.iter().take(5).enumerate() {
        assert!(close(v[i].grad(), *want, 1e-12));
    }
}

/// The notebook's numerical derivative examples.
#[test]
fn notebook_numerical_derivatives() {
    let f = |x: f64| 4.0 * x * x - 2.0 * x + 5.0;
    let d = forward_difference(f, 3.0, 0.001);
    assert!(close(d, 22.004, 1e-9), "{d}");
    assert!(close(central_difference(f, 3.0, 0.001), 22.0, 1e-9));

    // d(a*b + c)/dc with h = 1e-4 at a = 2, b = -3, c = 10.
    let d = forward_difference(|c| 2.0 * -3.0 + c, 10.0, 1e-4);
    assert!(close(d, 1.0, 1e-8), "{d}");

    // The engine gives the exact derivatives.
    let g = Graph::new();
    let x = g.value(3.0);
    let y = 4.0 * x.powf(2.0) - 2.0 * x + 5.0;
    y.backward();
    assert_eq!(x.grad(), 22.0);
}

/// micrograd's README example (golden values from its README / test suite,
/// computed there by PyTorch).
#[test]
fn micrograd_readme_example() {
    let gr = Graph::new();
    let a = gr.value(-4.0);
    let b = gr.value(2.0);
    let mut c = a + b;
    let mut d = a * b + b.powf(3.0);
    c += c + 1.0;
    c += 1.0 + c + (-a);
    d += d * 2.0 + (b + a).relu();
    d += 3.0 * d + (b - a).relu();
    let e = c - d;
    let f = e.powf(2.0);
    let mut g = f / 2.0;
    g += 10.0 / f;
    g.backward();
    assert!(close(g.data(), 24.70408163265306, 1e-6), "{}", g.data());
    assert!(close(a.grad(), 138.83381924198252, 1e-6), "{}", a.grad());
    assert!(close(b.grad(), 645.5772594752186, 1e-6), "{}", b.grad());
}

/// micrograd's `test_sanity_check` (PyTorch's numbers).
#[test]
fn micrograd_sanity_check() {
    let g = Graph::new();
    let x = g.value(-4.0);
    let z = 2.0 * x + 2.0 + x;
    let q = z.relu() + z * x;
    let h = (z * z).relu();
    let y = h + q + q * x;
    y.backward();
    assert_eq!(y.data(), -20.0);
    assert_eq!(x.grad(), 46.0);
}

/// Sub and Div have their own derivative rules; micrograd composes them
/// from `+`, `*` and `**`. Both must give the golden values above.
#[test]
fn native_sub_div_agree_with_micrograd_composition() {
    let gr = Graph::new();
    let a = gr.value(-4.0);
    let b = gr.value(2.0);
    let mut c = a + b;
    let mut d = a * b + b.powf(3.0);
    c += c + 1.0;
    c += 1.0 + c + (-a);
    d += d * 2.0 + (b + a).relu();
    d += 3.0 * d + (b - a).relu();
    let e = c - d;
    let f = e.powf(2.0);
    let mut g = f / 2.0;
    g += 10.0 / f;
    g.backward();
    // The same expression with division written as a power, as micrograd
    // composes it, gives the same gradients.
    let gr2 = Graph::new();
    let a2 = gr2.value(-4.0);
    let b2 = gr2.value(2.0);
    let mut c2 = a2 + b2;
    let mut d2 = a2 * b2 + b2.powf(3.0);
    c2 += c2 + 1.0;
    c2 += 1.0 + c2 + (-1.0 * a2);
    d2 += d2 * 2.0 + (b2 + a2).relu();
    d2 += 3.0 * d2 + (b2 + (-1.0 * a2)).relu();
    let e2 = c2 + (-1.0 * d2);
    let f2 = e2.powf(2.0);
    let mut g2 = f2 * 2f64.powf(-1.0);
    g2 += 10.0 * f2.powf(-1.0);
    g2.backward();
    assert!(close(g.data(), g2.data(), 1e-12));
    assert!(close(a.grad(), a2.grad(), 1e-9));
    assert!(close(b.grad(), b2.grad(), 1e-9));
}
