//! `Value::backward_skip_zeros` against `Value::backward`: equal gradients
//! (under `==`, NaN where `backward` gives NaN), only the sign of a zero may
//! differ.

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
    assert!(
        full.iter().any(|&x| x == 0.0),
        "some parameter has gradient 0"
    );
    assert!(full.iter().any(|&x| x != 0.0));
}

#[test]
fn zero_gradient_times_infinite_derivative_is_still_nan() {
    // y = relu(-sqrt(x)) at x = 0: relu passes 0, and sqrt's derivative there
    // is infinite, so PyTorch gives NaN; the relu and the negation are passed
    // over, but sqrt is not.
    let (full, fast) = both(|g| {
        let x = g.value(0.0);
        ((-x.sqrt()).relu(), vec![x])
    });
    assert!(full[0].is_nan());
    same(&full, &fast);
    // 0 * (a / b) with b tiny: the product is passed over, the division's
    // derivative overflows to infinity: NaN.
    let (full, fast) = both(|g| {
        let (a, b, z) = (g.value(1.0), g.value(1e-200), g.value(0.0));
        (z * (a / b), vec![a, b, z])
    });
    assert!(full[1].is_nan() && !full[0].is_nan());
    same(&full, &fast);
    // A zero gradient reaching ln(0) = -inf through a product: not finite,
    // so not passed over; d ln(a)/da = 1/0 = inf: NaN.
    let (full, fast) = both(|g| {
        let (a, z) = (g.value(0.0), g.value(0.0));
        (z * a.ln(), vec![a, z])
    });
    assert!(full[0].is_nan());
    same(&full, &fast);
}
