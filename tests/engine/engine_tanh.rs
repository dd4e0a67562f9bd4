//! The engine's `tanh` against 60-digit values from mpmath
//! (tests/fixtures/tanh_reference.json, written by
//! tests/fixtures/make_tanh.py; CI does not run it), and its special values.

use backprop::Graph;
use backprop::engine::tanh;
use serde_json::Value as Json;

/// `(x, hi, lo)`: tanh(x) is `hi + lo` to about 30 digits.
fn reference() -> Vec<(f64, f64, f64)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tanh_reference.json"
    ))
    .expect("the fixture is committed");
    let json: Json = serde_json::from_str(&text).expect("the fixture is JSON");
    json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let n = |k: usize| r[k].as_f64().expect("a number");
            (n(0), n(1), n(2))
        })
        .collect()
}

/// The error of `y` in units in the last place of the exact value
/// `hi + lo`: `y - hi` is exact (they are close), so only `lo` rounds.
fn ulps(y: f64, hi: f64, lo: f64) -> f64 {
    let a = hi.abs();
    let up = f64::from_bits(a.to_bits() + 1) - a;
    // At a power of two, a value just below it has the finer spacing.
    let unit = if a.to_bits() & ((1 << 52) - 1) == 0 && a > 0.0 && lo * hi < 0.0 {
        up / 2.0
    } else {
        up
    };
    ((y - hi) - lo).abs() / unit
}

#[test]
fn within_one_and_a_half_units_in_the_last_place_of_the_reference() {
    let rows = reference();
    assert!(rows.len() > 10_000, "the fixture has {} rows", rows.len());
    let (mut worst, mut at, mut platform) = (0.0f64, 0.0, 0.0f64);
    for &(x, hi, lo) in &rows {
        let e = ulps(tanh(x), hi, lo);
        if e > worst {
            (worst, at) = (e, x);
        }
        platform = platform.max(ulps(x.tanh(), hi, lo));
    }
    eprintln!(
        "largest error {worst:.3} ulp at x = {x:e}; f64::tanh: {platform:.3} ulp",
        x = at
    );
    // The documented bound: 1.49 is reached just above the split.
    assert!(worst <= 1.5, "{worst} ulp at x = {at:e}");
}

#[test]
fn tiny_inputs_come_back_unchanged() {
    // tanh(x) = x - x³/3 + ...: below 2^-27 the cube is under half an ulp.
    for x in [
        f64::from_bits(1),
        f64::MIN_POSITIVE,
        1e-300,
        1e-20,
        2f64.powi(-28),
        7.450_580_596_923_828e-9,
    ] {
        assert_eq!(tanh(x), x);
        assert_eq!(tanh(-x), -x);
    }
}

#[test]
fn special_values() {
    assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(tanh(f64::INFINITY), 1.0);
    assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
    assert_eq!(tanh(f64::MAX), 1.0);
    assert_eq!(tanh(-20.0), -1.0);
    assert!(tanh(f64::NAN).is_nan());
    assert!(tanh(-f64::NAN).is_nan());
}

#[test]
fn odd_and_nondecreasing() {
    let rows = reference();
    for &(x, ..) in &rows {
        assert_eq!(tanh(-x).to_bits(), (-tanh(x)).to_bits(), "x = {x:e}");
    }
    // A dense sweep over both methods and the split between them.
    let mut last = tanh(0.0);
    for k in 1..=400_000 {
        let x = f64::from(k) * 5e-5;
        let y = tanh(x);
        assert!(y >= last, "tanh decreases at x = {x}: {last} then {y}");
        assert!(y > 0.0 && y <= 1.0, "tanh({x}) = {y}");
        last = y;
    }
    let split = 3f64.ln() / 2.0;
    let mut x = split;
    for _ in 0..50 {
        x = f64::from_bits(x.to_bits() - 1);
    }
    let mut last = tanh(x);
    for _ in 0..100 {
        x = f64::from_bits(x.to_bits() + 1);
        let y = tanh(x);
        assert!(y >= last, "tanh decreases at x = {x:e}");
        last = y;
    }
}

#[test]
fn the_graph_and_every_plain_evaluation_use_it() {
    let g = Graph::new();
    for x in [-3.0, -0.7, -0.1, 0.0, 0.3, 0.5493, 0.6, 1.5, 8.0] {
        let y = g.value(x).tanh();
        assert_eq!(y.data().to_bits(), tanh(x).to_bits(), "x = {x}");
        // The derivative is 1 - tanh², from the node's own value.
        y.backward();
    }
    // A constant exponent is folded by the expression language.
    let x = 0.881_373_587_019_543;
    let p = backprop::expr::Program::parse(&format!("a = 2; b = a ** tanh({x})")).unwrap();
    let ev = p.eval(&g, &[] as &[(&str, f64)]).unwrap();
    assert_eq!(ev.output.data().to_bits(), 2f64.powf(tanh(x)).to_bits());
    assert_eq!(
        backprop::nn::Activation::Tanh.apply_f64(x).to_bits(),
        tanh(x).to_bits()
    );
}
