//! The README's command sequences run as written, on the files the
//! repository ships.

use std::path::Path;

use crate::common::{Run, backprop_in};

/// The repository's `data/points`, which the README's CSV commands name.
fn points_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/points"))
}

#[test]
fn the_readme_csv_commands_run_on_the_shipped_points() {
    let dir = tempfile::tempdir().unwrap();
    // The README runs them from the repository's root: the same relative
    // paths, from a copy of data/points.
    let data = dir.path().join("data/points");
    std::fs::create_dir_all(&data).unwrap();
    for name in ["points.csv", "new-points.csv", "test-points.csv"] {
        std::fs::copy(points_dir().join(name), data.join(name)).unwrap();
    }
    backprop_in(dir.path())
        .args(["train", "--dataset", "csv:data/points/points.csv"])
        .args([
            "--label-column",
            "class",
            "--standardize",
            "--save",
            "points.json",
        ])
        .succeeds();
    assert!(dir.path().join("points.json").is_file());

    let predicted = backprop_in(dir.path())
        .args([
            "predict",
            "--model",
            "points.json",
            "--csv",
            "data/points/new-points.csv",
        ])
        .stdout_text();
    let rows = std::fs::read_to_string(data.join("new-points.csv")).unwrap();
    // One line per data row (the file has a header), each with a class name.
    assert_eq!(predicted.lines().count(), rows.lines().count() - 1);
    assert!(
        predicted
            .lines()
            .all(|l| l.contains("class cat") || l.contains("class dog")),
        "{predicted}"
    );

    let eval = backprop_in(dir.path())
        .args(["eval", "--model", "points.json", "--json"])
        .args([
            "--dataset",
            "csv:data/points/test-points.csv",
            "--label-column",
            "class",
        ])
        .stdout_json();
    assert_eq!(eval["samples"], 100);
    assert_eq!(eval["classes"], serde_json::json!(["cat", "dog"]));
    // The two clusters' lengths are 7 apart with deviation 4 and their
    // weights 3 apart with deviation about 1 (data/points/make.py): a
    // linear boundary alone classifies about 95 % of them.
    assert!(eval["accuracy"].as_f64().unwrap() >= 0.85, "{eval}");
}

/// The README's excerpt of `backprop explain -f data/programs/micrograd.txt`
/// is what the command prints: every line it shows (the `...` stand for
/// lines left out) is a line of the output, in the same order.
#[test]
fn the_readme_micrograd_excerpt_is_the_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = "$ backprop explain -f data/programs/micrograd.txt\n";
    let start = readme.find(command).expect("the README shows the excerpt") + command.len();
    let excerpt = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = backprop_in(root)
        .args(["explain", "-f", "data/programs/micrograd.txt"])
        .stdout_text();
    let lines: Vec<&str> = out.lines().collect();
    let mut at = 0;
    let mut shown = 0;
    for want in excerpt.lines().filter(|l| *l != "...") {
        let found = lines[at..].iter().position(|l| *l == want);
        let Some(k) = found else {
            panic!("`{want}` is not in the output (in order):\n{out}");
        };
        at += k + 1;
        shown += 1;
    }
    assert!(shown > 20, "{excerpt}");
}

/// The README's neuron table (`backprop grad 'x1 = 2; ...; o = tanh(n)'`)
/// is what the command prints, and its numbers are the neuron's: `o` is
/// tanh(0.8813735870195432) = 0.70710678118654759116... (50-digit
/// arithmetic) rounded to the nearest `f64`, and each gradient is the
/// chain rule by hand, `(1 - o²)` times the other operand. The README and
/// python/README.md's Python snippets print the same numbers.
#[test]
fn the_readme_neuron_table_is_the_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let program = "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432; n = x1*w1 + x2*w2 + b; o = tanh(n)";
    let command = format!("$ backprop grad '{program}'\n");
    let start = readme.find(&command).expect("the README shows the table") + command.len();
    let table = &readme[start..start + readme[start..].find("\n\n").unwrap() + 1];
    let out = backprop_in(root).args(["grad", program]).stdout_text();
    assert_eq!(table, out);

    let o: f64 = "0.70710678118654759116472505749".parse().unwrap();
    let dn = 1.0 - o * o;
    let cell = |name: &str, col: usize| -> f64 {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        line.split_whitespace().nth(col).unwrap().parse().unwrap()
    };
    assert_eq!(cell("o", 1), o);
    for (name, want) in [
        ("n", dn),
        ("b", dn),
        ("x2", dn),
        ("w1", 2.0 * dn),
        ("x1", -3.0 * dn),
    ] {
        let got = cell(name, 2);
        assert!(
            (got - want).abs() <= 4.0 * f64::EPSILON,
            "{name}: {got} vs {want}"
        );
    }
    // The Python snippets print the same engine's numbers.
    let (w1, x1) = (cell("w1", 2), cell("x1", 2));
    let python = format!("# {o} {w1} {x1}");
    assert!(readme.contains(&python), "README.md lacks `{python}`");
    let py_readme = std::fs::read_to_string(root.join("python/README.md")).unwrap();
    assert!(
        py_readme.contains(&format!("print(w1.grad)  # {w1},")),
        "python/README.md"
    );
}
