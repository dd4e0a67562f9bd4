//! `backprop grad --hessian` and `backprop draw --grad-graph` end to end:
//! Hessians against closed forms and the PyTorch fixture, the sign of zero
//! in `--json`, and the usage errors.

use crate::common::{backprop, json};
use predicates::prelude::*;
use serde_json::Value as Json;

fn num(v: &Json) -> f64 {
    match v {
        Json::Number(n) => n.as_f64().unwrap(),
        Json::String(s) if s == "NaN" => f64::NAN,
        Json::String(s) if s == "inf" => f64::INFINITY,
        Json::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

#[test]
fn json_hessian_has_every_pair_keyed_by_input_names() {
    // z = x² y + tanh y: H = [[2y, 2x], [2x, -2 tanh y (1 - tanh² y)]]
    let v = json(&[
        "grad",
        "x = 2; y = 3; z = x**2 * y + tanh(y)",
        "--json",
        "--hessian",
    ]);
    let h = v["hessian"].as_object().unwrap();
    assert_eq!(h.keys().collect::<Vec<_>>(), ["x", "y"]);
    for row in h.values() {
        assert_eq!(
            row.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["x", "y"]
        );
    }
    let t = 3f64.tanh();
    assert_eq!(num(&h["x"]["x"]), 6.0);
    assert_eq!(num(&h["x"]["y"]), 4.0);
    assert_eq!(num(&h["y"]["x"]), 4.0);
    assert!((num(&h["y"]["y"]) - -2.0 * t * (1.0 - t * t)).abs() < 1e-15);
    // The rest of the output is unchanged.
    assert_eq!(num(&v["grads"]["x"]), 12.0);
}

#[test]
fn json_hessian_matches_the_pytorch_fixture() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/second_order.json"
    ))
    .unwrap();
    let fixture: Json = serde_json::from_str(&text).unwrap();
    for case in fixture["programs"].as_array().unwrap().iter().take(8) {
        let program = case["program"].as_str().unwrap();
        let v = json(&["grad", program, "--json", "--hessian"]);
        let names: Vec<&str> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        for (i, row) in case["hessian"].as_array().unwrap().iter().enumerate() {
            for (j, want) in row.as_array().unwrap().iter().enumerate() {
                let want = if want.is_null() { 0.0 } else { num(want) };
                let got = num(&v["hessian"][names[i]][names[j]]);
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{program}: H[{}][{}] = {got}, PyTorch {want}",
                    names[i],
                    names[j]
                );
            }
        }
    }
}

#[test]
fn gradients_keep_the_sign_of_zero_and_nan() {
    // PyTorch: dy/dx = -0.0 and NaN.
    let v = json(&["grad", "x = 0; y = exp(-(x*x))", "--json"]);
    let d = num(&v["grads"]["x"]);
    assert!(d == 0.0 && d.is_sign_negative());
    let v = json(&["grad", "x = 0; y = -(sqrt(x)**2)", "--json"]);
    assert!(num(&v["grads"]["x"]).is_nan());
}

#[test]
fn table_prints_the_hessian() {
    backprop()
        .args(["grad", "x = 2; y = 3; z = x**2 * y", "--hessian"])
        .assert()
        .success()
        .stdout(predicate::str::contains("hessian: d²z/d(row) d(column)"))
        .stdout(predicate::str::contains("x  6  4"))
        .stdout(predicate::str::contains("y  4  0"));
}

#[test]
fn too_many_inputs_for_hessian_is_a_usage_error() {
    let inputs: Vec<String> = (0..65).map(|i| format!("x{i} = {i}")).collect();
    let sum: Vec<String> = (0..65).map(|i| format!("x{i}")).collect();
    let program = format!("{}; y = {}", inputs.join("; "), sum.join(" + "));
    backprop()
        .args(["grad", &program, "--hessian"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--hessian takes at most 64 inputs, the program has 65",
        ));
    // 64 inputs are fine.
    let program = format!("{}; y = {}", inputs[..64].join("; "), sum[..64].join(" * "));
    backprop()
        .args(["grad", &program, "--hessian", "--json"])
        .assert()
        .success();
}

#[test]
fn draw_grad_graph_draws_the_derivative() {
    // y = x³: dy/dx = 3x² drawn as nodes; its grad field is y'' = 6x = 12.
    backprop()
        .args(["draw", "x = 2; y = x**3", "--grad-graph"])
        .assert()
        .success()
        .stdout(predicate::str::contains("{dy/dx|data 12.0000|grad 1.0000}"))
        .stdout(predicate::str::contains("{x|data 2.0000|grad 12.0000}"))
        .stdout(predicate::str::contains("**2"));
    backprop()
        .args([
            "draw",
            "x = 2; z = 1; y = x**3 * z",
            "--grad-graph",
            "--wrt",
            "z",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("dy/dz|data 8.0000"));
    backprop()
        .args(["draw", "x = 2; y = x**3", "--grad-graph", "--wrt", "q"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`q` is not an input of the program",
        ));
}
