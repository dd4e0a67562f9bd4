//! Gradients and Hessians against PyTorch float64 double backward, read
//! from tests/fixtures/second_order.json (written by
//! tests/fixtures/make_second_order.py, which records the torch version and
//! date; CI does not run it).
//!
//! `programs`: values, gradients and Hessians of programs over every op.
//! `zeros`: the sign-of-zero / NaN family (every op reached by a gradient of
//! `±0.0` while its local derivative is infinite or NaN, and gradients that
//! are exactly `-0.0`), where first derivatives must match PyTorch bit for
//! bit in kind: the same NaN, the same infinity, the same sign of zero.

use backprop::Graph;
use backprop::expr::Program;
use serde_json::Value as Json;

fn fixture() -> Json {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/second_order.json"
    ))
    .expect("the fixture is committed");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// A fixture number: a float, or "NaN" / "inf" / "-inf"; `null` (PyTorch's
/// None: no dependence) is 0.
fn num(v: &Json) -> f64 {
    match v {
        Json::Null => 0.0,
        Json::Number(n) => n.as_f64().unwrap(),
        Json::String(s) if s == "NaN" => f64::NAN,
        Json::String(s) if s == "inf" => f64::INFINITY,
        Json::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a fixture number: {other}"),
    }
}

/// Equal within `rel` (relative) or `abs`, with NaN == NaN, infinities
/// exactly, and (when `sign` is set) zeros of the same sign.
fn agrees(ours: f64, torch: f64, rel: f64, sign: bool) -> bool {
    if torch.is_nan() || ours.is_nan() {
        return torch.is_nan() && ours.is_nan();
    }
    if torch.is_infinite() || ours.is_infinite() {
        return ours == torch;
    }
    if sign && torch == 0.0 {
        return ours == 0.0 && ours.is_sign_negative() == torch.is_sign_negative();
    }
    (ours - torch).abs() <= rel * torch.abs().max(1.0)
}

struct Ours {
    value: f64,
    grads: Vec<f64>,
    hessian: Vec<Vec<f64>>,
}

fn evaluate(case: &Json) -> Ours {
    let src = case["program"].as_str().unwrap();
    let program = Program::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let g = Graph::new();
    let ev = program.eval::<&str>(&g, &[]).unwrap();
    assert_eq!(ev.output_name, case["output"].as_str().unwrap(), "{src}");
    let names: Vec<&str> = ev.inputs.iter().map(|(n, _)| n.as_str()).collect();
    let want: Vec<&str> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names, want, "{src}");
    let xs: Vec<_> = ev.inputs.iter().map(|&(_, v)| v).collect();
    Ours {
        value: ev.output.data(),
        grads: g.gradients(ev.output, &xs),
        hessian: g.hessian(ev.output, &xs),
    }
}

fn check(case: &Json, rel: f64, grad_sign: bool) -> Vec<String> {
    let src = case["program"].as_str().unwrap();
    let ours = evaluate(case);
    let mut bad = Vec::new();
    let value = num(&case["value"]);
    if !agrees(ours.value, value, rel, true) {
        bad.push(format!("{src}: value {} vs torch {value}", ours.value));
    }
    for (i, t) in case["grads"].as_array().unwrap().iter().enumerate() {
        let t = num(t);
        if !agrees(ours.grads[i], t, rel, grad_sign) {
            bad.push(format!("{src}: grad {i}: {} vs torch {t}", ours.grads[i]));
        }
    }
    for (i, row) in case["hessian"].as_array().unwrap().iter().enumerate() {
        for (j, t) in row.as_array().unwrap().iter().enumerate() {
            let t = num(t);
            if !agrees(ours.hessian[i][j], t, rel, false) {
                bad.push(format!(
                    "{src}: hessian[{i}][{j}]: {} vs torch {t}",
                    ours.hessian[i][j]
                ));
            }
        }
    }
    bad
}

#[test]
fn fixture_records_its_provenance() {
    let f = fixture();
    assert!(f["torch"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(f["date"].as_str().is_some_and(|v| v.len() == 10));
    assert_eq!(f["dtype"], "float64");
    assert!(f["programs"].as_array().unwrap().len() >= 20);
    assert!(f["zeros"].as_array().unwrap().len() >= 40);
}

#[test]
fn values_gradients_and_hessians_match_pytorch() {
    let f = fixture();
    let bad: Vec<String> = f["programs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| check(c, 1e-12, false))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn zero_and_nan_gradients_match_pytorch_with_their_sign() {
    let f = fixture();
    let bad: Vec<String> = f["zeros"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| check(c, 1e-12, true))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
