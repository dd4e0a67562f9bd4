//! `backprop grad` and `backprop draw` end to end, against the notebook's
//! and micrograd's published numbers.

use crate::common::{MICROGRAD, NEURON, Run, backprop};
use predicates::prelude::*;

/// `backprop args...` with `stdin`, which must succeed and print one JSON
/// object on one line.
fn json(args: &[&str], stdin: Option<&str>) -> serde_json::Value {
    let mut cmd = backprop();
    cmd.args(args);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    let text = cmd.stdout_text();
    assert_eq!(text.lines().count(), 1, "exactly one JSON object: {text}");
    serde_json::from_str(&text).unwrap()
}

fn near(v: &serde_json::Value, want: f64, tol: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() <= tol)
}

#[test]
fn neuron_json() {
    let v = json(&["grad", NEURON, "--json"], None);
    assert_eq!(v["output"], "o");
    assert!(near(&v["value"], std::f64::consts::FRAC_1_SQRT_2, 1e-8));
    let grads = [
        ("x1", -1.5),
        ("w1", 1.0),
        ("x2", 0.5),
        ("w2", 0.0),
        ("b", 0.5),
    ];
    assert_eq!(v["grads"].as_object().unwrap().len(), 5);
    for (name, want) in grads {
        assert!(
            near(&v["grads"][name], want, 1e-9),
            "{name}: {}",
            v["grads"][name]
        );
    }
    let n = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "n")
        .unwrap();
    assert!(near(&n["grad"], 0.5, 1e-9));
    assert_eq!(v["nodes"][0]["name"], "o");
}

#[test]
fn micrograd_json_from_a_file_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mg.txt");
    std::fs::write(&path, MICROGRAD).unwrap();
    for v in [
        json(&["grad", "-f", path.to_str().unwrap(), "--json"], None),
        json(&["grad", "-", "--json"], Some(MICROGRAD)),
    ] {
        assert_eq!(v["output"], "g");
        assert!(near(&v["value"], 24.70408163265306, 1e-6));
        assert!(near(&v["grads"]["a"], 138.83381924198252, 1e-6));
        assert!(near(&v["grads"]["b"], 645.5772594752186, 1e-6));
    }
}

#[test]
fn at_overrides_inputs() {
    // y = x**2 at x = 3: 9, dy/dx = 6.
    let v = json(&["grad", "x = 1; y = x**2", "--at", "x=3", "--json"], None);
    assert_eq!(v["value"], 9.0);
    assert_eq!(v["grads"]["x"], 6.0);
}

#[test]
fn table_lists_named_nodes_output_first() {
    backprop()
        .args(["grad", NEURON])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("name"))
        .stdout(predicate::str::contains("o     0.707106781186547"))
        .stdout(predicate::str::contains("x1    2"));
}

#[test]
fn non_finite_numbers_are_printed_not_errors() {
    let v = json(&["grad", "x = -1; y = log(x)", "--json"], None);
    assert_eq!(v["value"], "NaN");
    let v = json(&["grad", "x = 0; y = 1 / x", "--json"], None);
    assert_eq!(v["value"], "inf");
    assert_eq!(v["grads"]["x"], "-inf");
}

#[test]
fn check_passes_and_fails() {
    backprop()
        .args(["grad", NEURON, "--check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("gradient check"))
        .stdout(predicate::str::contains("passed"));
    // relu at 0: the engine says 0, the central difference 0.5.
    backprop()
        .args(["grad", "x = 0; y = relu(x)", "--check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL"));
    let out = backprop()
        .args(["grad", "x = 0; y = relu(x)", "--check", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["check"]["passed"], false);
    assert!(near(&v["check"]["inputs"][0]["numeric"], 0.5, 1e-9));
    // Looser tolerances make it pass.
    backprop()
        .args(["grad", "x = 0; y = relu(x)", "--check", "--atol", "1"])
        .assert()
        .success();
}

#[test]
fn bad_input_exits_2_with_line_and_column() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["grad", "x = 1\ny = x + z"],
            "<program>:2:9: unknown name `z`",
        ),
        (
            &["grad", "y = foo(1)"],
            "1:5: unknown function `foo`; known functions: tanh",
        ),
        (
            &["grad", "y = tanh(1, 2)"],
            "1:5: `tanh` takes 1 argument, got 2",
        ),
        (&["grad", "y = (1 + 2"], "1:5: unbalanced parenthesis"),
        (&["grad", "y = 1 + 2)"], "1:10: unbalanced parenthesis"),
        (&["grad", "y = 1 2"], "1:7: unexpected number `2`"),
        (&["grad", ""], "1:1: empty program"),
        (&["grad", "# just a comment"], "1:1: empty program"),
        (
            &["grad", "x = 1; y = x", "--at", "x"],
            "--at:1:2: malformed override `x`",
        ),
        (
            &["grad", "x = 1; y = x", "--at", "x=abc"],
            "--at:1:3: malformed override `x=abc`",
        ),
        (
            &["grad", "x = 1; y = x*2", "--at", "y=2"],
            "`y` is not an input: it is computed at 1:8",
        ),
        (
            &["grad", "x = 1; y = x", "--at", "q=2"],
            "no input named `q`",
        ),
        (&["draw", "x = (1"], "1:5: unbalanced parenthesis"),
        (&["draw", "x = 1", "-o", "x.jpg"], "cannot tell the format"),
    ];
    for (args, want) in cases {
        backprop()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*want))
            .stdout("");
    }
    // The caret sits under the spot.
    backprop()
        .args(["grad", "x = 1\ny = x + zz"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2 | y = x + zz\n  |         ^^"));
    let deep = format!("y = {}1{}", "(".repeat(256), ")".repeat(256));
    backprop()
        .args(["grad", &deep])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nested too deeply"));
}

#[test]
fn draw_dot_to_stdout() {
    backprop()
        .args(["draw", NEURON])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "digraph {\n  graph [rankdir=LR];",
        ))
        .stdout(predicate::str::contains(
            r#"n0 [label="{x1|data 2.0000|grad -1.5000}", shape=record];"#,
        ))
        .stdout(predicate::str::contains(r#"n9_op [label="tanh"];"#));
    backprop()
        .args(["draw", NEURON, "--no-grad", "--rankdir", "TB"])
        .assert()
        .success()
        .stdout(predicate::str::contains("rankdir=TB"))
        .stdout(predicate::str::contains("grad").not());
}

#[test]
fn draw_files() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("neuron.svg");
    backprop()
        .args([
            "draw",
            NEURON,
            "--layout",
            "builtin",
            "-o",
            svg.to_str().unwrap(),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&text).expect("valid XML");
    assert!(text.contains("grad -1.5000") && text.contains("tanh"));
    let dot = dir.path().join("neuron.dot");
    backprop()
        .args(["draw", NEURON, "-o", dot.to_str().unwrap()])
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&dot)
            .unwrap()
            .starts_with("digraph {")
    );
    // Only the outputs are left in the directory: no temporary files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    let png = dir.path().join("neuron.png");
    let png_arg = png.to_str().unwrap();
    // With Graphviz if it is installed, with the built-in layout if not.
    backprop()
        .args(["draw", NEURON, "-o", png_arg])
        .assert()
        .success();
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn draw_big_graph_with_builtin_layout_says_what_to_do() {
    let mut src = String::from("x = 1; w = 0.5\ny = x\n");
    for _ in 0..1000 {
        src.push_str("y = tanh(y * w + 0.1)\n");
    }
    backprop()
        .args(["draw", "-", "--layout", "builtin", "--format", "svg"])
        .write_stdin(src)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2) // a graph past a layout's size limit, like every limit
        .stderr(predicate::str::contains("apt-get install graphviz"))
        .stderr(predicate::str::contains(".dot"));
}

/// `draw -o FILE` says on stderr what it wrote, like `train` does; to
/// stdout it prints the drawing only.
#[test]
fn draw_reports_the_file_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    backprop()
        .current_dir(dir.path())
        .args(["draw", "-o", "g.dot", "a = 2; b = a * 3"])
        .assert()
        .success()
        .stdout("")
        .stderr("wrote the DOT drawing to g.dot\n");
    assert!(
        std::fs::read_to_string(dir.path().join("g.dot"))
            .unwrap()
            .starts_with("digraph")
    );
    backprop()
        .args(["draw", "a = 2; b = a * 3"])
        .assert()
        .success()
        .stderr("");
}

/// Python and calculator habits get the language's spelling as a hint:
/// `relu(x)` for `x.relu()`, `**` for `^`.
#[test]
fn parse_errors_hint_at_the_right_spelling() {
    backprop()
        .args(["grad", "x = 2; y = x.relu()"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("methods are not supported: write `relu(x)`, not `x.relu()`")
                .and(predicate::str::contains("malformed number").not()),
        );
    backprop()
        .args(["grad", "a = 1; b = (a + 1).tanh()"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "write `tanh(...)` around the expression",
        ));
    backprop()
        .args(["grad", "x = 2; y = x^2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "write `**` for a power, as in `x**2`",
        ));
    // A number with a dot still reads as one.
    backprop()
        .args(["grad", "x = .5; y = x * 2."])
        .assert()
        .success();
}

/// `grad --check` names the inputs and prints numbers as the gradient
/// table above it does (the shortest text that reads back, not
/// `-1.499999999999999e0`); the notebook's neuron has dx1 = -1.5 and
/// dw2 = 0.
#[test]
fn check_table_names_inputs_and_prints_numbers_like_grad() {
    let text = backprop().args(["grad", NEURON, "--check"]).stdout_text();
    let (table, check) = text.split_once("gradient check").unwrap();
    let cells = |part: &str, name: &str| -> Vec<String> {
        part.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name} in {part}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    for name in ["x1", "x2", "w1", "w2", "b"] {
        let grad = &cells(table, name)[2];
        let check_row = cells(check, name);
        assert_eq!(&check_row[1], grad, "{text}");
        assert!(
            !check_row[1].contains('e') && !check_row[2].contains('e'),
            "{text}"
        );
    }
    let dx1: f64 = cells(check, "x1")[1].parse().unwrap();
    assert!((dx1 + 1.5).abs() < 1e-12, "{dx1}");
    assert_eq!(cells(check, "w2")[1], "0");
}
