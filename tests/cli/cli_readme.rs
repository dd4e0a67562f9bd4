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
