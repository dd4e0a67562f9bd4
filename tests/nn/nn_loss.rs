//! Losses: values from their formulas by hand, gradients against finite
//! differences (`gradcheck`).

use backprop::gradcheck::{Tolerances, gradcheck};
use backprop::nn::{Loss, bce_with_logits, cross_entropy, hinge, l2, mse};
use backprop::{Graph, Value};

fn check(f: impl for<'g> Fn(&'g Graph, &[Value<'g>]) -> Value<'g>, inputs: &[f64]) {
    let report = gradcheck(f, inputs, Tolerances::default());
    assert!(report.passed(), "{report}");
}

#[test]
fn hinge_value_and_gradient() {
    let g = Graph::new();
    let s = [g.value(0.3), g.value(-2.0), g.value(1.5)];
    // relu(1 - 0.3) = 0.7, relu(1 - 2) = 0 (label -1, score -2), relu(1 - 1.5) = 0
    let l = hinge(&g, &s, &[1.0, -1.0, 1.0]);
    assert!((l.data() - 0.7 / 3.0).abs() < 1e-15);
    l.backward();
    // d/ds0 = -y0 / n
    assert!((s[0].grad() + 1.0 / 3.0).abs() < 1e-15);
    assert_eq!(s[1].grad(), 0.0);
    check(
        |g, x| hinge(g, x, &[1.0, -1.0, 1.0, -1.0]),
        &[0.3, 0.2, -0.4, -1.7],
    );
}

#[test]
fn mse_value_and_gradient() {
    let g = Graph::new();
    let p = [g.value(0.5), g.value(-1.0)];
    // ((0.5 - 1)² + (-1 - 1)²) / 2 = (0.25 + 4) / 2
    assert!((mse(&g, &p, &[1.0, 1.0]).data() - 2.125).abs() < 1e-15);
    check(|g, x| mse(g, x, &[1.0, -1.0, 0.5]), &[0.3, 0.2, -2.0]);
}

#[test]
fn bce_matches_the_textbook_formula() {
    let sigma = |z: f64| 1.0 / (1.0 + (-z).exp());
    let zs = [-3.0, -0.2, 0.0, 0.7, 4.0];
    let ys = [0.0, 1.0, 1.0, 0.0, 1.0];
    let g = Graph::new();
    let z: Vec<Value<'_>> = zs.iter().map(|&v| g.value(v)).collect();
    let want: f64 = zs
        .iter()
        .zip(&ys)
        .map(|(&z, &y)| -(y * sigma(z).ln() + (1.0 - y) * (1.0 - sigma(z)).ln()))
        .sum::<f64>()
        / zs.len() as f64;
    let l = bce_with_logits(&g, &z, &ys);
    assert!((l.data() - want).abs() < 1e-12, "{} vs {want}", l.data());
    l.backward();
    // d/dz = (σ(z) - y) / n
    for ((v, &zv), &y) in z.iter().zip(&zs).zip(&ys) {
        assert!((v.grad() - (sigma(zv) - y) / 5.0).abs() < 1e-12);
    }
    check(
        |g, x| bce_with_logits(g, x, &[0.0, 1.0, 1.0, 0.0]),
        &[-3.0, -0.2, 0.7, 4.0],
    );
}

#[test]
fn bce_is_stable_for_huge_logits() {
    let g = Graph::new();
    let z = [g.value(800.0), g.value(-800.0)];
    let l = bce_with_logits(&g, &z, &[0.0, 1.0]);
    assert!((l.data() - 800.0).abs() < 1e-9);
    l.backward();
    assert!((z[0].grad() - 0.5).abs() < 1e-12 && (z[1].grad() + 0.5).abs() < 1e-12);
}

#[test]
fn cross_entropy_matches_the_textbook_formula() {
    let logits = [1.0, 2.0, 0.5, -1.0, 0.0, 3.0];
    let labels = [1, 0];
    let want: f64 = logits
        .chunks(3)
        .zip(labels)
        .map(|(row, y)| {
            let z: f64 = row.iter().map(|v: &f64| v.exp()).sum();
            -(row[y].exp() / z).ln()
        })
        .sum::<f64>()
        / 2.0;
    let g = Graph::new();
    let l: Vec<Value<'_>> = logits.iter().map(|&v| g.value(v)).collect();
    let loss = cross_entropy(&g, &l, 3, &labels);
    assert!((loss.data() - want).abs() < 1e-12);
    check(|g, x| cross_entropy(g, x, 3, &[1, 0]), &logits);
    check(|g, x| Loss::CrossEntropy.compute(g, x, &[2, 1]), &logits);
}

#[test]
fn cross_entropy_is_stable_for_huge_logits() {
    let g = Graph::new();
    let l = [g.value(1000.0), g.value(-1000.0), g.value(999.0)];
    let loss = cross_entropy(&g, &l, 3, &[2]);
    // ln(e^1 + e^-2000 + 1) approx: ln(e + 1) - 0
    assert!((loss.data() - (1f64.exp() + 1.0).ln()).abs() < 1e-12);
    loss.backward();
    assert!(l.iter().all(|v| v.grad().is_finite()));
}

#[test]
fn l2_value_and_gradient() {
    let g = Graph::new();
    let p = [g.value(1.0), g.value(-2.0)];
    assert!((l2(&g, &p, 0.5).data() - 2.5).abs() < 1e-15);
    check(|g, x| l2(g, x, 1e-2), &[0.3, -1.2, 2.0]);
}

#[test]
fn loss_kinds_compute_their_functions() {
    let scores = [0.3, -0.5, 1.2];
    let classes = [1, 0, 0];
    check(|g, x| Loss::Hinge.compute(g, x, &classes), &scores);
    check(|g, x| Loss::Mse.compute(g, x, &classes), &scores);
    check(|g, x| Loss::Bce.compute(g, x, &classes), &scores);
    let g = Graph::new();
    let s: Vec<Value<'_>> = scores.iter().map(|&v| g.value(v)).collect();
    let h = Loss::Hinge.compute(&g, &s, &classes).data();
    assert!((h - hinge(&g, &s, &[1.0, -1.0, -1.0]).data()).abs() < 1e-15);
    let b = Loss::Bce.compute(&g, &s, &classes).data();
    assert!((b - bce_with_logits(&g, &s, &[1.0, 0.0, 0.0]).data()).abs() < 1e-15);
}
