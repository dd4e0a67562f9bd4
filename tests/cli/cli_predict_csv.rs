//! `backprop predict` with CSV files and extreme points, against a model
//! written by hand: one linear neuron, score `x1 - x2`, class 1 when the
//! score is positive (the hinge loss's rule).

use std::path::Path;

use crate::common::{Run, backprop_in, write};
use assert_cmd::Command;
use predicates::prelude::*;

const MODEL: &str = r#"{
  "format": "backprop-mlp",
  "version": 1,
  "inputs": 2,
  "loss": "hinge",
  "classes": 2,
  "layers": [
    {"activation": "linear", "neurons": [{"weights": [1.0, -1.0], "bias": 0.0}]}
  ]
}"#;

/// A fresh directory holding the model as `m.json`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.json", MODEL);
    dir
}

/// `backprop predict --model m.json` in `dir`.
fn predict(dir: &Path) -> Command {
    let mut cmd = backprop_in(dir);
    cmd.args(["predict", "--model", "m.json"]);
    cmd
}

/// Defect 15: a CSV of the wrong width exited 1, unlike --point (2).
#[test]
fn wrong_width_is_a_usage_error_with_a_hint() {
    let dir = setup();
    write(dir.path(), "three.csv", "x,y,label\n3,1,1\n1,3,0\n");
    predict(dir.path())
        .args(["--csv", "three.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "three.csv: the model takes 2 features, but the input has 3 (rows have 3 fields)",
        ))
        .stderr(predicate::str::contains("--label-column"));
    write(dir.path(), "one.csv", "1\n2\n");
    predict(dir.path())
        .args(["--csv", "one.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(rows have 1 field)"));
}

/// Defect 15: a training file, label column and all, can be predicted by
/// naming the label column.
#[test]
fn a_training_csv_predicts_without_its_label_column() {
    let dir = setup();
    write(dir.path(), "t.csv", "x,y,label\n3,1,1\n1,3,0\n");
    // 3 - 1 = 2 > 0: class 1; 1 - 3 = -2: class 0.
    let expected = "3,1\tclass 1\tscore 2.000000\n1,3\tclass 0\tscore -2.000000\n";
    for column in ["last", "2", "label"] {
        predict(dir.path())
            .args(["--csv", "t.csv", "--label-column", column])
            .assert()
            .success()
            .stdout(expected);
    }
    // The label first, no header.
    write(dir.path(), "first.csv", "1,3,1\n0,1,3\n");
    predict(dir.path())
        .args([
            "--csv",
            "first.csv",
            "--label-column",
            "0",
            "--header",
            "no",
        ])
        .assert()
        .success()
        .stdout(expected);
}

/// Defect 15: a label column that is not there is a usage error (2).
#[test]
fn a_missing_label_column_is_a_usage_error() {
    let dir = setup();
    write(dir.path(), "t.csv", "x,y,label\n3,1,1\n");
    predict(dir.path())
        .args(["--csv", "t.csv", "--label-column", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "label column 5 does not exist: rows have 3 fields",
        ));
    predict(dir.path())
        .args(["--csv", "t.csv", "--label-column", "class"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no column named `class`"));
    predict(dir.path())
        .args(["--point", "1,2", "--label-column", "last"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--label-column is for --csv files",
        ));
}

/// Defect 7: a first row with a NaN was dropped as a header.
#[test]
fn a_nan_first_row_is_an_error_not_a_header() {
    let dir = setup();
    write(dir.path(), "p.csv", "nan,2\n3,4\n");
    predict(dir.path())
        .args(["--csv", "p.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "line 1, column 1: `nan` is not a finite number",
        ));
}

/// Defect 20: infinite scores were written as JSON null; now as the
/// strings "inf" and "-inf", as `grad --json` writes them.
#[test]
fn json_writes_infinite_scores_as_strings() {
    let dir = setup();
    // 1.7e308 - (-1.7e308) overflows to +inf, and the reverse to -inf.
    let v = predict(dir.path())
        .args([
            "--json",
            "--point=1.7e308,-1.7e308",
            "--point=-1.7e308,1.7e308",
        ])
        .args(["--point", "3,1"])
        .stdout_json();
    assert_eq!(v[0]["scores"][0], "inf");
    assert_eq!(v[0]["class"], 1);
    assert_eq!(v[1]["scores"][0], "-inf");
    assert_eq!(v[1]["class"], 0);
    assert_eq!(v[2]["scores"][0], 2.0);
}

/// Defect 20: a huge point or score printed as hundreds of digits.
#[test]
fn text_output_of_huge_numbers_is_short() {
    let dir = setup();
    predict(dir.path())
        .args(["--point", "1e300,0"])
        .assert()
        .success()
        .stdout("1e300,0\tclass 1\tscore 1.000000e300\n");
}

/// A CSV that still holds word labels: the message names the cell and
/// points to --label-column, which then reads the same file.
#[test]
fn word_labels_left_in_the_points_get_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "words.csv", "x1,x2,label\n0.5,0.2,cat\n1,1,dog\n");
    backprop_in(d)
        .args([
            "train",
            "--steps",
            "3",
            "--no-plot",
            "-q",
            "--save",
            "m.json",
        ])
        .args(["--dataset", "csv:words.csv"])
        .succeeds();
    let err = crate::common::fails(
        d,
        &["predict", "--model", "m.json", "--csv", "words.csv"],
        2,
        "line 2, column 3: `cat`",
    );
    assert!(err.contains("--label-column"), "{err}");
    let text = backprop_in(d)
        .args([
            "predict",
            "--model",
            "m.json",
            "--csv",
            "words.csv",
            "--label-column",
            "last",
        ])
        .stdout_text();
    assert_eq!(text.lines().count(), 2, "{text}");
}

/// A model whose output is NaN (1e308 * 10 + 1e308 * -10 is inf - inf)
/// names no class: predict and eval exit 1 naming the point or row.
#[test]
fn a_nan_score_is_an_error_not_a_class() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "m.json", MODEL.replace("[1.0, -1.0]", "[1e308, 1e308]"));
    let err = predict(d)
        .args(["--point", "3,1", "--point", "10,-10"])
        .stderr_with_code(1);
    assert!(err.contains("cannot classify point 10,-10"), "{err}");
    assert!(err.contains("the model's output is NaN"), "{err}");
    write(d, "d.csv", "x,y,label\n1,1,1\n10,-10,0\n");
    crate::common::fails(
        d,
        &["eval", "--model", "m.json", "--dataset", "csv:d.csv"],
        1,
        "row 2: the model's output is NaN",
    );
}
