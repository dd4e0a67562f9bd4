//! `backprop explain` end to end: the notebook's and micrograd's numbers,
//! input handling shared with `grad`, the options, and a saved network.

use crate::common::{MICROGRAD, NEURON, Run, backprop, json, text};
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn the_neuron_text_has_the_notebooks_steps() {
    let t = text(&["explain", NEURON]);
    for line in [
        "o.grad = 1",
        "n.grad = o.grad * (1 - o**2) = 1 * 0.5 = 0.5",
        "b.grad = n.grad * 1 = 0.5 * 1 = 0.5",
        "x1.grad = (x1*w1).grad * w1.data = 0.5 * (-3) = -1.5",
        "w1.grad = (x1*w1).grad * x1.data = 0.5 * 2 = 1",
        "x2.grad = (x2*w2).grad * w2.data = 0.5 * 1 = 0.5",
        "w2.grad = (x2*w2).grad * x2.data = 0.5 * 0 = 0",
    ] {
        assert!(t.contains(line), "missing `{line}` in\n{t}");
    }
    // The forward pass comes first, with the notebook's n and o.
    let forward = t.find("forward pass").unwrap();
    let backward = t.find("backward pass").unwrap();
    assert!(forward < backward);
    assert!(
        t[..backward].contains("n                   = ((x1*w1) + (x2*w2)) + b = 0.881374"),
        "{t}"
    );
    assert!(t[..backward].contains("= tanh(n) = 0.707107"), "{t}");
}

#[test]
fn json_has_steps_terms_and_grads() {
    let v = json(&["explain", NEURON, "--json"]);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["node"], "o");
    assert_eq!(steps[0]["upstream"], 1.0);
    let t = &steps[0]["terms"][0];
    assert_eq!(t["operand"], "n");
    assert!((t["local"].as_f64().unwrap() - 0.5).abs() < 1e-12);
    assert!((t["contribution"].as_f64().unwrap() - 0.5).abs() < 1e-12);
    let grads = v["grads"].as_object().unwrap();
    let names: Vec<&str> = grads.keys().map(String::as_str).collect();
    assert_eq!(names.len(), 5);
    for (name, want) in [
        ("x1", -1.5),
        ("x2", 0.5),
        ("w1", 1.0),
        ("w2", 0.0),
        ("b", 0.5),
    ] {
        assert!(
            (grads[name].as_f64().unwrap() - want).abs() < 1e-12,
            "{name}"
        );
    }
}

#[test]
fn micrograds_published_gradients_with_every_contribution() {
    let v = json(&["explain", MICROGRAD, "--json"]);
    let g = &v["grads"];
    assert!((g["a"].as_f64().unwrap() - 138.8338).abs() < 1e-4);
    assert!((g["b"].as_f64().unwrap() - 645.5773).abs() < 1e-4);
    assert!((v["value"].as_f64().unwrap() - 24.7041).abs() < 1e-4);
    // a and b are used many times: each use is one `+=` term, and the
    // terms into each add up to its gradient.
    for leaf in ["a", "b"] {
        let terms: Vec<&Value> = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["terms"].as_array().unwrap())
            .filter(|t| t["operand"] == leaf)
            .collect();
        assert!(terms.len() > 3, "{leaf}: {} terms", terms.len());
        assert!(terms.iter().all(|t| t["accumulates"] == true));
        let sum: f64 = terms
            .iter()
            .map(|t| t["contribution"].as_f64().unwrap())
            .sum();
        assert!((sum - g[leaf].as_f64().unwrap()).abs() < 1e-9);
    }
}

#[test]
fn input_is_taken_like_grad_and_errors_are_identical() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.txt");
    std::fs::write(&file, NEURON).unwrap();
    let from_arg = json(&["explain", NEURON, "--json"]);
    let from_file = json(&["explain", "-f", file.to_str().unwrap(), "--json"]);
    let from_stdin = backprop()
        .args(["explain", "-", "--json"])
        .write_stdin(NEURON)
        .stdout_json();
    assert_eq!(from_arg, from_file);
    assert_eq!(from_arg, from_stdin);
    // --at moves the point: d tanh(x1*w1 + ...)/d w1 = x1 * (1 - o²).
    let at = json(&["explain", NEURON, "--at", "x1=1", "--json"]);
    let n: f64 = 1.0 * -3.0 + 6.8813735870195432;
    let want = 1.0 * (1.0 - n.tanh().powi(2));
    assert!((at["grads"]["w1"].as_f64().unwrap() - want).abs() < 1e-12);
    for bad in [
        "x = 2; y = x +* 3",
        "y = foo(2)",
        "x = (1 + 2",
        "x = 1\ny = x $ 2",
    ] {
        let e = backprop().args(["explain", bad]).stderr_with_code(2);
        let g = backprop().args(["grad", bad]).stderr_with_code(2);
        assert_eq!(e, g, "{bad}");
        assert!(e.contains("<program>:") && e.contains('^'), "{e}");
    }
    std::fs::write(&file, "a = 1\nb = a ** \n").unwrap();
    let e = backprop()
        .args(["explain", "-f", file.to_str().unwrap()])
        .stderr_with_code(2);
    let g = backprop()
        .args(["grad", "-f", file.to_str().unwrap()])
        .stderr_with_code(2);
    assert_eq!(e, g);
    backprop()
        .args(["explain", NEURON, "--at", "n=1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--at"));
}

#[test]
fn check_adds_the_notebooks_finite_differences() {
    let t = text(&["explain", NEURON, "--check"]);
    assert!(
        t.contains("(f(x+h)-f(x))/h") && t.contains("(f(x+h)-f(x-h))/2h"),
        "{t}"
    );
    let v = json(&["explain", NEURON, "--check", "--eps", "1e-4", "--json"]);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 5);
    for c in checks {
        let (bp, fwd, cen) = (
            c["backprop"].as_f64().unwrap(),
            c["forward"].as_f64().unwrap(),
            c["central"].as_f64().unwrap(),
        );
        // Forward differences are off by O(h), central ones by O(h²).
        assert!((fwd - bp).abs() < 1e-3, "{c}");
        assert!((cen - bp).abs() < 1e-7, "{c}");
        assert_eq!(c["h"], 1e-4);
    }
}

#[test]
fn leaf_keeps_the_paths_to_one_input() {
    let v = json(&["explain", NEURON, "--leaf", "w1", "--json"]);
    let nodes: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["o", "n", "((x1*w1) + (x2*w2))", "(x1*w1)"]);
    assert_eq!(v["grads"].as_object().unwrap().len(), 1);
    for s in v["steps"].as_array().unwrap() {
        assert_eq!(s["terms"].as_array().unwrap().len(), 1, "{s}");
    }
    backprop()
        .args(["explain", NEURON, "--leaf", "w9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no input called `w9` in the graph (its inputs are: x1, x2, w1, w2, b)",
        ));
    // An input the output does not depend on has no path to show.
    backprop()
        .args(["explain", "x = 2; y = 3; z = x * x", "--leaf", "y"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "input `y` does not reach the output (its gradient is 0, no path to show); \
             the inputs that do: x",
        ));
}

#[test]
fn long_explanations_are_capped_and_say_how_to_focus() {
    // 3000 steps: a chain of additions.
    let mut p = String::from("x = 1\ny = x\n");
    for _ in 0..3000 {
        p.push_str("y = y + x\n");
    }
    let t = text(&["explain", &p]);
    assert!(
        t.contains("... 1000 more steps not shown (raise --max-steps, or follow one input with --leaf NAME)"),
        "{}",
        &t[t.len() - 400..]
    );
    assert_eq!(t.lines().filter(|l| l.starts_with("step ")).count(), 2000);
    let t = text(&["explain", &p, "--max-steps", "10"]);
    assert_eq!(t.lines().filter(|l| l.starts_with("step ")).count(), 10);
    assert!(t.contains("... 2990 more steps not shown"));
    // One left out is one step, and one node.
    let one = text(&["explain", "x = 1; y = x*2", "--max-steps", "0"]);
    assert!(one.contains("... 1 more step not shown"), "{one}");
    let one = text(&[
        "explain",
        "x = 1\ny = x\ny = y + x\ny = y + x",
        "--max-steps",
        "1",
    ]);
    assert!(
        one.contains("... 1 more step not shown") && one.contains("more nodes not shown"),
        "{one}"
    );
    assert!(
        t.contains("x.grad = 3001"),
        "the gradients are still all there"
    );
    let v = json(&["explain", &p, "--json"]);
    assert_eq!(v["steps"].as_array().unwrap().len(), 3000);
    assert_eq!(v["grads"]["x"], 3001.0);
    let v = json(&["explain", &p, "--json", "--max-steps", "5"]);
    assert_eq!(v["steps"].as_array().unwrap().len(), 5);
    assert_eq!(v["steps_left_out"], 2995);
}

/// A 2-3-1 network with known weights, mean squared error.
const MODEL: &str = r#"{"format":"backprop-mlp","version":1,"inputs":2,"loss":"mse","classes":2,
"normalization":null,"layers":[
 {"activation":"tanh","neurons":[{"weights":[0.5,-0.3],"bias":0.1},{"weights":[-0.2,0.8],"bias":-0.4},{"weights":[0.7,0.25],"bias":0.05}]},
 {"activation":"linear","neurons":[{"weights":[1.2,-0.6,0.9],"bias":0.3}]}]}"#;

/// The network's score, written out by hand from the weights.
fn score(w: &[f64], x: [f64; 2]) -> f64 {
    let h = |k: usize| (w[3 * k] * x[0] + w[3 * k + 1] * x[1] + w[3 * k + 2]).tanh();
    w[9] * h(0) + w[10] * h(1) + w[11] * h(2) + w[12]
}

/// The MSE loss for label 1 (target +1).
fn loss(w: &[f64], x: [f64; 2]) -> f64 {
    (score(w, x) - 1.0).powi(2)
}

#[test]
fn a_saved_network_is_explained_with_labelled_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    std::fs::write(&path, MODEL).unwrap();
    let m = path.to_str().unwrap();
    let v = json(&[
        "explain", "--model", m, "--point", "0.5,0.2", "--label", "1", "--json",
    ]);
    assert_eq!(v["output"], "loss");
    let names = [
        "L1.N1.w1", "L1.N1.w2", "L1.N1.b", "L1.N2.w1", "L1.N2.w2", "L1.N2.b", "L1.N3.w1",
        "L1.N3.w2", "L1.N3.b", "L2.N1.w1", "L2.N1.w2", "L2.N1.w3", "L2.N1.b",
    ];
    let w = [
        0.5, -0.3, 0.1, -0.2, 0.8, -0.4, 0.7, 0.25, 0.05, 1.2, -0.6, 0.9, 0.3,
    ];
    assert!((v["value"].as_f64().unwrap() - loss(&w, [0.5, 0.2])).abs() < 1e-12);
    for (k, name) in names.iter().enumerate() {
        let h = 1e-6;
        let (mut up, mut down) = (w, w);
        up[k] += h;
        down[k] -= h;
        let numeric = (loss(&up, [0.5, 0.2]) - loss(&down, [0.5, 0.2])) / (2.0 * h);
        let g = v["grads"][name].as_f64().unwrap();
        assert!((g - numeric).abs() < 1e-7, "{name}: {g} vs {numeric}");
    }
    assert!(v["grads"]["x1"].is_number() && v["grads"]["x2"].is_number());
    let t = text(&[
        "explain", "--model", m, "--point", "0.5,0.2", "--label", "1",
    ]);
    assert!(
        t.contains("L1.N3.w2") && t.contains("the mse loss of the point 0.5,0.2 with label 1"),
        "{t}"
    );
    // Without a label: the output's graph, whose root is the score.
    let v = json(&["explain", "--model", m, "--point", "0.5,0.2", "--json"]);
    assert_eq!(v["output"], "out");
    assert!((v["value"].as_f64().unwrap() - score(&w, [0.5, 0.2])).abs() < 1e-12);
    // And the page.
    let html = dir.path().join("mlp.html");
    backprop()
        .args([
            "draw",
            "--model",
            m,
            "--point",
            "0.5,0.2",
            "--label",
            "1",
            "-o",
            html.to_str().unwrap(),
        ])
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("L1.N3.w2"));
    // Bad input: exit 2 with what is wrong.
    for (args, msg) in [
        (
            vec!["--point", "0.5"],
            "--point 0.5: the model takes 2 features, but the input has 1",
        ),
        (
            vec!["--point", "0.5,x"],
            "--point 0.5,x: value 2 `x` is not a number",
        ),
        (
            vec!["--point", "0.5,0.2", "--label", "2"],
            "--label 2: the model's classes are 0 to 1",
        ),
        (
            vec!["--point", "0.5,0.2", "--output-index", "1"],
            "output 1 does not exist",
        ),
    ] {
        backprop()
            .args(["explain", "--model", m])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
    }
    backprop()
        .args(["explain", "--model", m])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--point"));
}

#[test]
fn a_page_past_the_limit_is_refused_with_a_hint() {
    let mut p = String::from("x = 1\ny = x\n");
    for _ in 0..2100 {
        p.push_str("y = y * x\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.html");
    backprop()
        .args(["draw", &p, "-o", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("more than the page's limit of 2000")
                .and(predicate::str::contains("--leaf")),
        );
    assert!(!out.exists());
}

/// micrograd's README example through the command: `--json` names each
/// node once and keeps the program's name as `label`; the text never has
/// one name on both sides of a step; constants are numbers, with lines of
/// their own only with `--all`; `draw` labels the bindings c₁ c₂ c₃.
#[test]
fn micrograds_example_has_one_name_per_node() {
    let v = json(&["explain", MICROGRAD, "--json"]);
    let nodes = v["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    let unique: std::collections::HashSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    let c: Vec<(&str, &str)> = nodes
        .iter()
        .filter(|n| n["label"] == "c")
        .map(|n| (n["name"].as_str().unwrap(), n["expr"].as_str().unwrap()))
        .collect();
    assert_eq!(
        c,
        [
            ("c₁", "a + b"),
            ("c₂", "c₁ + (c₁ + 1)"),
            ("c₃", "c₂ + ((1 + c₂) + (-a))")
        ]
    );
    for s in v["steps"].as_array().unwrap() {
        for t in s["terms"].as_array().unwrap() {
            assert_ne!(t["operand"], s["node"], "{s}");
        }
    }
    // micrograd's published numbers.
    assert!((v["value"].as_f64().unwrap() - 24.7041).abs() < 1e-4);
    assert!((v["grads"]["a"].as_f64().unwrap() - 138.8338).abs() < 1e-4);
    assert!((v["grads"]["b"].as_f64().unwrap() - 645.5773).abs() < 1e-4);
    let t = text(&["explain", MICROGRAD]);
    assert!(t.contains("step 1: g₂ = g₁ + (10/f)    grad 1"), "{t}");
    assert!(t.contains("  g₁.grad = g₂.grad * 1 = 1 * 1 = 1"), "{t}");
    assert!(
        t.contains("(d₁ d₂ d₃ are the values bound to d, in program order)"),
        "{t}"
    );
    assert!(!t.contains("10.grad") && !t.contains("2.data"), "{t}");
    let all = text(&["explain", MICROGRAD, "--all"]);
    assert!(
        all.lines()
            .any(|l| l.starts_with("  10 ") && l.ends_with(" = 10    (a constant)")),
        "{all}"
    );
    // d(10/f)/d10 = 1/f = 1/49.
    assert!(
        all.contains("10.grad = (10/f).grad * 1/f.data = 1 * 0.0204082"),
        "{all}"
    );
    let dot = text(&["draw", MICROGRAD]);
    for name in ["c₁", "c₂", "c₃", "d₃", "g₂"] {
        assert!(dot.contains(&format!("label=\"{{{name}|")), "{name}: {dot}");
    }
    assert!(!dot.contains("label=\"{c|"), "{dot}");
}

/// A one-layer, two-class softmax model trained on the words `cat` and
/// `dog` (class 0 and 1).
const WORD_MODEL: &str = r#"{"format":"backprop-mlp","version":1,"inputs":2,"loss":"cross-entropy","classes":2,
"class_names":["cat","dog"],"normalization":null,"layers":[
 {"activation":"linear","neurons":[{"weights":[0.5,-0.3],"bias":0.1},{"weights":[-0.2,0.8],"bias":-0.4}]}]}"#;

/// `--label dog` for a model trained on words, in `explain` and `draw`:
/// the loss is the hand-computed softmax cross-entropy
/// ln(e^z_cat + e^z_dog) - z_dog, its terms name the label's output
/// `out.dog`, and the title says `with label dog`.
#[test]
fn a_word_label_names_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.json");
    std::fs::write(&path, WORD_MODEL).unwrap();
    let m = path.to_str().unwrap();
    // By hand, at (0.5, 0.2): z_cat = 0.25 - 0.06 + 0.1, z_dog = -0.1 + 0.16 - 0.4.
    let (z_cat, z_dog) = (0.29f64, -0.34f64);
    let lse = (z_cat.exp() + z_dog.exp()).ln();
    let p_dog = z_dog.exp() / (z_cat.exp() + z_dog.exp());
    for (label, loss, b_dog) in [
        ("dog", lse - z_dog, p_dog - 1.0),
        ("cat", lse - z_cat, p_dog),
    ] {
        let v = json(&[
            "explain", "--model", m, "--point", "0.5,0.2", "--label", label, "--json",
        ]);
        assert!(
            (v["value"].as_f64().unwrap() - loss).abs() < 1e-12,
            "{label}"
        );
        // d loss / d b_dog = softmax(dog) - [label is dog].
        let g = v["grads"]["L1.N2.b"].as_f64().unwrap();
        assert!((g - b_dog).abs() < 1e-12, "{label}: {g} vs {b_dog}");
        let names: Vec<&str> = v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"out.cat") && names.contains(&"out.dog"),
            "{names:?}"
        );
        let unique: std::collections::HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        // The loss's last term subtracts the label's output.
        let step = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["op"] == "-" && s["node"].as_str().unwrap().starts_with("(ln("))
            .unwrap();
        assert!(
            step["node"]
                .as_str()
                .unwrap()
                .contains(&format!("out.{label}")),
            "{step}"
        );
    }
    let t = text(&[
        "explain", "--model", m, "--point", "0.5,0.2", "--label", "dog",
    ]);
    assert!(t.contains("with label dog (class 1)"), "{t}");
    assert!(
        !t.contains("with label 0") && !t.contains("with label 1"),
        "{t}"
    );
    let html = dir.path().join("words.html");
    backprop()
        .args([
            "draw", "--model", m, "--point", "0.5,0.2", "--label", "dog", "-o",
        ])
        .arg(&html)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("with label dog")
    );
    let svg = dir.path().join("words.dot");
    backprop()
        .args([
            "draw", "--model", m, "--point", "0.5,0.2", "--label", "dog", "-o",
        ])
        .arg(&svg)
        .assert()
        .success();
    for cmd in ["explain", "draw"] {
        backprop()
            .args([cmd, "--model", m, "--point", "0.5,0.2", "--label", "bird"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "--label bird: not a class of this model (its classes are cat, dog)",
            ));
    }
    // A model trained on numbers says so when given a word.
    std::fs::write(&path, MODEL).unwrap();
    backprop()
        .args([
            "explain", "--model", m, "--point", "0.5,0.2", "--label", "dog",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--label dog: this model was trained on numbered classes, 0 to 1",
        ));
}
