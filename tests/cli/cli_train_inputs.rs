//! `backprop train` and `eval` with the inputs of the QA report: huge and
//! negative numbers, options that do not apply, awkward CSV files, and
//! files that cannot be written. Each must exit with a clear message (2
//! for usage mistakes and bad data, 1 for I/O failures), never panic, hang
//! or half-write.

use std::time::Duration;

use crate::common::{backprop_in, fails, save_small_model, write};
use predicates::prelude::*;

/// 50 rows `0.i,1,i mod 2` (two classes).
fn good_rows() -> String {
    (0..50).map(|i| format!("0.{i},1,{}\n", i % 2)).collect()
}

/// Defect 2: sizes that overflowed a capacity or exhausted memory.
#[test]
fn huge_sizes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let max = "18446744073709551615";
    fails(
        d,
        &["train", "--samples", max],
        2,
        "must be at most 1000000",
    );
    fails(
        d,
        &["train", "--samples", "4294967296"],
        2,
        "must be at most",
    );
    fails(
        d,
        &["train", "--hidden", max],
        2,
        "layer sizes must be at most",
    );
    fails(
        d,
        &["train", "--dataset", "blobs", "--classes", max],
        2,
        "must be at most",
    );
    fails(
        d,
        &["train", "--dataset", "spiral", "--classes", "100000000"],
        2,
        "must be at most",
    );
    fails(d, &["train", "--steps", max], 2, "must be at most");
    // Each size is allowed, but not the network: (2+1)·1e5 + (1e5+1)·1e5 +
    // (1e5+1)·1 weights and biases.
    fails(
        d,
        &["train", "--hidden", "100000,100000"],
        2,
        "the network would have 10000500001 parameters",
    );
}

/// Defect 12: negative numbers reached clap as unknown flags ("unexpected
/// argument '-1' found"), not the options' own checks.
#[test]
fn negative_numbers_get_the_options_own_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (option, message) in [
        ("--noise", "at least 0"),
        ("--momentum", "at least 0"),
        ("--seed", "at least 0"),
        ("--hidden", "at least 1"),
        ("--label-column", "at least 0"),
        ("--alpha", "at least 0"),
        ("--samples", "at least 2"),
        ("--steps", "at least 1"),
        ("--batch-size", "at least 1"),
        ("--threads", "at least 0"),
    ] {
        let stderr = fails(d, &["train", option, "-1"], 2, message);
        assert!(!stderr.contains("unexpected argument"), "{stderr}");
    }
}

/// Defects 8 and 9: hyper-parameters that can only diverge.
#[test]
fn diverging_hyper_parameters_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fails(d, &["train", "--momentum", "5"], 2, "less than 1");
    fails(d, &["train", "--momentum", "1"], 2, "less than 1");
    fails(
        d,
        &["train", "--schedule", "linear:-1"],
        2,
        "between 0 and 1",
    );
    fails(
        d,
        &["train", "--schedule", "linear:1e300"],
        2,
        "between 0 and 1",
    );
    backprop_in(d)
        .args([
            "train",
            "-q",
            "--no-plot",
            "--steps",
            "3",
            "--momentum",
            "0.9",
        ])
        .args(["--schedule", "linear:0"])
        .assert()
        .success();
}

/// Defect 19: options that were silently ignored or altered.
#[test]
fn options_that_do_not_apply_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "p.csv", good_rows());
    fails(
        d,
        &["train", "--classes", "5"],
        2,
        "--classes is for spiral and blobs",
    );
    fails(
        d,
        &["train", "--dataset", "xor", "--classes", "3"],
        2,
        "--classes is for spiral and blobs",
    );
    fails(
        d,
        &["train", "--label-column", "2"],
        2,
        "--label-column is for csv",
    );
    fails(d, &["train", "--header", "yes"], 2, "--header is for csv");
    fails(
        d,
        &["train", "--dataset", "csv:p.csv", "--noise", "0.1"],
        2,
        "--noise is for generated datasets",
    );
    fails(
        d,
        &["train", "--dataset", "csv:p.csv", "--samples", "10"],
        2,
        "--samples is for generated datasets",
    );
    fails(
        d,
        &["train", "--hidden", ""],
        2,
        "expected layer sizes like 16,16",
    );
    // One sample cannot make two moons: not quietly 2 samples.
    fails(d, &["train", "--samples", "1"], 2, "must be at least 2");
    fails(
        d,
        &["train", "--dataset", "spiral", "--samples", "2"],
        2,
        "fewer than the 3 classes",
    );
    fails(
        d,
        &["eval", "--model", "m.json", "--classes", "3"],
        2,
        "--classes is for spiral and blobs",
    );
}

/// Defect 15: a label column past the last column is a usage mistake.
#[test]
fn label_column_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "p.csv", format!("x,y,label\n{}", good_rows()));
    fails(
        d,
        &["train", "--dataset", "csv:p.csv", "--label-column", "5"],
        2,
        "label column 5 does not exist: rows have 3 fields",
    );
    fails(
        d,
        &["train", "--dataset", "csv:p.csv", "--label-column", "class"],
        2,
        "no column named `class`",
    );
}

/// Defect 4: a feature range that overflows f64 made the plot hang.
#[test]
fn plot_of_features_near_the_limits_of_f64_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "e.csv", "x,y,c\n-1e308,0,0\n1e308,1,1\n0,0.5,1\n");
    backprop_in(d)
        .args(["train", "-q", "--dataset", "csv:e.csv", "--standardize"])
        .args(["--steps", "5", "--plot", "e.png"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    let png = std::fs::read(d.join("e.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

/// Defect 5: standardising features near 1e160 gave an infinite deviation,
/// zeroed the features, and saved a model that could not be loaded.
#[test]
fn standardized_huge_features_make_a_loadable_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Class 1 where the first feature is above 5e160.
    let rows: String = (0..40)
        .map(|i| {
            let x = (i as f64 + 0.5) * 0.25e160;
            format!("{x:e},{:e},{}\n", 1e160, usize::from(x > 5e160))
        })
        .collect();
    write(d, "big.csv", format!("a,b,c\n{rows}"));
    backprop_in(d)
        .args(["train", "-q", "--no-plot", "--dataset", "csv:big.csv"])
        .args(["--standardize", "--steps", "50", "--save", "h.json"])
        .assert()
        .success();
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("h.json")).unwrap()).unwrap();
    let std = model["normalization"]["std"][0].as_f64().unwrap();
    // The first feature runs over 0.125e160 .. 9.875e160 evenly: its
    // deviation is 40·0.25e160 / √12 ≈ 2.9e160 (not inf, and not 1).
    assert!((std / (10e160 / 12f64.sqrt()) - 1.0).abs() < 0.01, "{std}");
    backprop_in(d)
        .args(["predict", "--model", "h.json", "--point", "9e160,1e160"])
        .args(["--point", "1e159,1e160"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\tclass 1\t"))
        .stdout(predicate::str::contains("\tclass 0\t"));
}

/// Defect 6: sparse or single labels made huge networks or a trivial
/// "100 %".
#[test]
fn labels_must_be_a_full_range_of_at_least_two_classes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "sparse.csv", "x,y,c\n0,0,0\n1,1,999999\n");
    fails(
        d,
        &["train", "--dataset", "csv:sparse.csv", "--no-plot"],
        2,
        "no row has class 1, but the largest label is 999999",
    );
    write(d, "fives.csv", "x,y,c\n0,0,5\n1,1,5\n");
    fails(
        d,
        &["train", "--dataset", "csv:fives.csv", "--no-plot"],
        2,
        "all 2 rows have class 5",
    );
    write(d, "one.csv", "x,y,c\n0,0,0\n1,1,0\n2,2,0\n");
    fails(
        d,
        &["train", "--dataset", "csv:one.csv", "--no-plot"],
        2,
        "a classifier needs at least 2 classes",
    );
}

/// Defect 7: a first row with NaN or a typo was taken for a header.
#[test]
fn a_bad_first_row_is_reported_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "nan.csv", format!("NaN,1,1\n{}", good_rows()));
    fails(
        d,
        &["train", "--dataset", "csv:nan.csv", "--no-plot"],
        2,
        "line 1, column 1: `NaN` is not a finite number",
    );
    write(d, "typo.csv", format!("0.5,O.3,1\n{}", good_rows()));
    fails(
        d,
        &["train", "--dataset", "csv:typo.csv", "--no-plot"],
        2,
        "line 1, column 2: `O.3` is not a finite number",
    );
    // A header after a byte order mark is still a header: all 50 rows.
    write(d, "bom.csv", format!("\u{feff}x,y,label\n{}", good_rows()));
    backprop_in(d)
        .args([
            "train",
            "--dataset",
            "csv:bom.csv",
            "--label-column",
            "label",
        ])
        .args(["--no-plot", "--steps", "1"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "(50 samples, 2 features, 2 classes)",
        ));
}

/// Defect 10: the cause of an I/O error was printed twice.
#[test]
fn io_errors_give_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["predict", "--model", "nofile.json", "--point", "1,2"][..],
        &["train", "--dataset", "csv:nofile.csv", "--no-plot"],
        &["eval", "--model", "nofile.json"],
    ] {
        let stderr = fails(d, args, 1, "No such file or directory");
        assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
    }
}

/// Defect 22: an unwritable --save or --plot was found only after
/// training.
#[test]
fn unwritable_outputs_fail_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["train", "--no-plot", "--save", "missing/m.json"][..],
        &["train", "--plot", "missing/p.png"],
        &["train", "--plot", "missing/p.svg", "--save", "m.json"],
    ] {
        let stderr = fails(d, args, 1, "cannot write the");
        assert!(!stderr.contains("training MLP"), "trained first: {stderr}");
        assert!(!stderr.contains("step 0"), "trained first: {stderr}");
    }
    std::fs::create_dir(d.join("adir")).unwrap();
    fails(
        d,
        &["train", "--no-plot", "--save", "adir"],
        1,
        "cannot write the model to adir",
    );
}

/// Defect 20: huge numbers printed as hundreds of digits.
#[test]
fn huge_numbers_print_with_exponents() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = backprop_in(d)
        .args(["train", "--no-plot", "--lr", "1e300", "--loss", "mse"])
        .args(["--steps", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lr 1e300"), "{stderr}");
    assert!(!stderr.contains("0000000000"), "{stderr}");
    // A run whose loss grows huge but stays finite for 5 steps (MSE with
    // rate 1 and momentum 0.9 on the default network).
    // It diverges, and the error gives the loss.
    let out = backprop_in(d)
        .args(["train", "--no-plot", "--momentum", "0.9", "--loss", "mse"])
        .args(["--schedule", "constant", "--steps", "5", "--lr", "1e5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines() {
        assert!(line.len() < 300, "{line}");
    }
    let loss = stderr
        .split("the loss is ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap();
    let value: f64 = loss.parse().unwrap();
    assert!(value > 1e6 && value.is_finite(), "{stderr}");
    assert!(loss.contains('e'), "{stderr}");
}

/// Defect 13: eval blamed the model file for a data mismatch.
#[test]
fn eval_blames_the_data_for_an_unknown_class() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    let stderr = fails(
        d,
        &["eval", "--model", "model.json", "--dataset", "spiral"],
        2,
        "has class 2, but the model was trained for classes 0 to 1 only",
    );
    assert!(!stderr.contains("invalid model file"), "{stderr}");
}

/// Word labels of one class get the message numbered ones get, and a
/// quote left open names its line and column instead of being read as
/// the rest of the file.
#[test]
fn one_word_class_and_an_open_quote_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (file, contents, message) in [
        (
            "one.csv",
            "a,b,c\n1,2,cat\n",
            "the only row has class cat: a classifier needs at least 2 classes",
        ),
        (
            "two.csv",
            "a,b,c\n1,2,cat\n3,4,cat\n",
            "all 2 rows have class cat: a classifier needs at least 2 classes",
        ),
        (
            "open.csv",
            "a,b,c\n1,2,\"unterminated\n3,4,1\n",
            "line 2, column 3: this quoted field is never closed",
        ),
        (
            "first.csv",
            "a,b,c\n1,2,dog\n\"3,4,cat",
            "line 3, column 1: this quoted field is never closed",
        ),
    ] {
        write(d, file, contents);
        let dataset = format!("csv:{file}");
        let args = [
            "train",
            "--dataset",
            &dataset,
            "--no-plot",
            "--steps",
            "3",
            "-q",
        ];
        fails(d, &args, 2, message);
    }
    // Closed quotes, "" inside one, and no final line break still read.
    write(d, "ok.csv", "a,b,c\n1,2,\"x\"\"y\"\n3,4,\"z\"");
    let out = backprop_in(d)
        .args([
            "train",
            "--dataset",
            "csv:ok.csv",
            "--no-plot",
            "--steps",
            "3",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// A row without its label trained, with "" as one more class (saved in
/// the model's class names); now `train` and `eval` name the row and
/// column, exit 2 and save nothing.
#[test]
fn a_missing_label_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "gap.csv", format!("x,y,c\n{}0.5,1,\n", good_rows()));
    let gap = "--dataset=csv:gap.csv";
    fails(
        d,
        &["train", gap, "--no-plot", "--save", "m.json"],
        2,
        "line 52, column 3: the label is empty",
    );
    save_small_model(d);
    fails(
        d,
        &["eval", "--model", "model.json", gap],
        2,
        "line 52, column 3: the label is empty",
    );
}

#[test]
fn momentum_is_refused_with_an_optimizer_that_has_none() {
    // `--momentum` is SGD's; Adam and AdamW used to drop it without a word,
    // also when Adam was only the default (cross-entropy, 3 classes).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, message) in [
        (
            &["--optimizer", "adam", "--momentum", "0.5"][..],
            "--momentum 0.5: the optimizer is adam, which has no momentum setting",
        ),
        (
            &["--optimizer", "adamw", "--momentum", "0"][..],
            "--momentum 0: the optimizer is adamw",
        ),
        (
            &["--dataset", "spiral", "--momentum", "0.9"][..],
            "the optimizer is adam (the default with the cross-entropy loss)",
        ),
    ] {
        let mut all = vec!["train", "--steps", "2", "--no-plot", "-q"];
        all.extend_from_slice(args);
        fails(d, &all, 2, message);
    }
    // With SGD, chosen or by default, momentum applies.
    for args in [
        &["--momentum", "0.5"][..],
        &[
            "--dataset",
            "spiral",
            "--optimizer",
            "sgd",
            "--momentum",
            "0.9",
        ][..],
    ] {
        backprop_in(d)
            .args(["train", "--steps", "2", "--no-plot", "-q"])
            .args(args)
            .assert()
            .success();
    }
}

#[test]
fn options_that_would_be_ignored_are_refused() {
    // Each was accepted and did nothing: --point and --label of a model
    // next to a program (clap excused the missing --model because --model
    // conflicts with the program), the page's settings without --page, and
    // eval's --seed with a CSV file.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    write(d, "p.txt", "x = 2; y = x*x\n");
    write(d, "ok.csv", "a,b,y\n1,2,0\n3,4,1\n");
    for (args, message) in [
        (
            &["explain", "x=1; y=x", "--point", "1,2"][..],
            "cannot be used with",
        ),
        (
            &["explain", "-f", "p.txt", "--point", "1,2"][..],
            "cannot be used with",
        ),
        (
            &["draw", "x=1; y=x", "--point", "1,2"][..],
            "cannot be used with",
        ),
        (
            &["explain", "x=1; y=x", "--point", "1,2", "--label", "1"][..],
            "cannot be used with",
        ),
        (
            &["draw", "x=1; y=x", "--output-index", "0"][..],
            "cannot be used with",
        ),
        (
            &["train", "--no-plot", "--page-snapshots", "5"][..],
            "--page <FILE.html>",
        ),
        (
            &["train", "--no-plot", "--page-grid", "10"][..],
            "--page <FILE.html>",
        ),
        (
            &[
                "eval",
                "--model",
                "model.json",
                "--dataset",
                "csv:ok.csv",
                "--seed",
                "5",
            ][..],
            "--seed is for generated datasets, not csv:PATH",
        ),
    ] {
        fails(d, args, 2, message);
    }
    // The same options where they apply still work.
    for args in [
        &[
            "explain",
            "--model",
            "model.json",
            "--point",
            "1,2",
            "--label",
            "1",
        ][..],
        &[
            "draw",
            "--model",
            "model.json",
            "--point",
            "1,2",
            "--output-index",
            "0",
        ][..],
        &["eval", "--model", "model.json", "--dataset", "csv:ok.csv"][..],
        &["eval", "--model", "model.json", "--seed", "5"][..],
    ] {
        backprop_in(d).args(args).assert().success();
    }
}
