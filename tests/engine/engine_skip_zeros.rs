//! `Value::backward_skip_zeros` against `Value::backward`: the same
//! gradients when no local derivative on a zero-gradient path is infinite,
//! and the documented difference (0 * inf) when one is.

use backprop::Graph;
use backprop::data;
use backprop::nn::{Mlp, MlpConfig, hinge, l2};

/// Every gradient of `f`'s output, by `backward` and by
/// `backward_skip_zeros`, on two fresh graphs.
fn both(
    f: impl for<'g> Fn(&'g Graph) -> (backprop::Value<'g>, Vec<backprop::Value<'g>>),
) -> (Vec<f64>, Vec<f64>) {
    let run = |skip: bool| {
        let g = Graph::new();
        let (y, xs) = f(&g);
        if skip {
            y.backward_skip_zeros();
        } else {
            y.backward();
        }
        xs.iter().map(|x| x.grad()).collect::<Vec<f64>>()
    };
    (run(false), run(true))
}

fn same(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x == y || (x.is_nan() && y.is_nan()),
            "gradient {i}: {x} vs {y}"
        );
    }
}

#[test]
fn mlp_hinge_gradients_match_backward_bit_for_bit() {
    // micrograd's demo: moons, 2-16-16-1, hinge + L2; many relus are dead and
    // many samples are past the hinge, so most of the graph has gradient 0.
    let d = data::moons(100, 0.1, 1337);
    let (full, fast) = both(|g| {
        let model = Mlp::new(g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
        let mut scores = Vec::new();
        let mut targets = Vec::new();
        for i in 0..d.len() {
            let x: Vec<_> = d.x(i).iter().map(|&v| g.value(v)).collect();
            scores.push(model.forward(g, &x)[0]);
            targets.push(if d.label(i) == 1 { 1.0 } else { -1.0 });
        }
        let p: Vec<_> = model.parameters().iter().map(|&id| g.get(id)).collect();
        let loss = hinge(g, &scores, &targets) + l2(g, &p, 1e-4);
        (loss, p)
    });
    // Both sweeps start from gradients of 0.0, so even zeros agree in sign.
    assert_eq!(
        full.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        fast.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    assert!(full.contains(&0.0), "some parameter has gradient 0");
    assert!(full.iter().any(|&x| x != 0.0));
}

#[test]
fn finite_derivatives_on_zero_paths_give_the_same_gradients() {
    // Zero gradients through tanh, sigmoid, exp, ln of a positive number,
    // a product and a division by a number that is not small: every local
    // derivative is finite, so the numbers are backward's.
    let (full, fast) = both(|g| {
        let (a, b, c) = (g.value(0.3), g.value(-1.7), g.value(2.5));
        let dead = ((a.tanh() * b.sigmoid() + c.exp() / c + c.ln()) * b).relu();
        (dead * a + a * b, vec![a, b, c])
    });
    assert_eq!(full[2], 0.0);
    same(&full, &fast);
}

#[test]
fn zero_gradient_times_infinite_derivative_nan_only_in_backward() {
    // The documented difference: 0 * inf. `backward` gives NaN, as
    // PyTorch does for relu(-sqrt(x)) at x = 0 (d sqrt(x)/dx = inf);
    // `backward_skip_zeros` passes the zero over.
    let (full, fast) = both(|g| {
        let x = g.value(0.0);
        ((-x.sqrt()).relu(), vec![x])
    });
    assert!(full[0].is_nan());
    assert_eq!(fast[0], 0.0);
    // 0 * (a / b) with b tiny: d/db = -a/b² overflows to -inf.
    let (full, fast) = both(|g| {
        let (a, b, z) = (g.value(1.0), g.value(1e-200), g.value(0.0));
        (z * (a / b), vec![a, b, z])
    });
    assert!(full[1].is_nan() && !full[0].is_nan());
    assert_eq!(fast[..2], [0.0, 0.0]);
    assert_eq!(fast[2], full[2]);
}
