//! `backprop train`, `predict` and `eval` from the outside: the default
//! run, JSON output, and every kind of bad input.

use crate::common::{Run, backprop_exe, backprop_in, fails, files, save_small_model, write};
use predicates::prelude::*;

#[test]
fn default_run_is_micrograds_demo() {
    let dir = tempfile::tempdir().unwrap();
    backprop_in(dir.path())
        .arg("train")
        .assert()
        .success()
        .stdout(predicate::str::contains("accuracy 100.0%"))
        .stdout(predicate::str::contains("wrote the plot to moons.png"))
        .stderr(predicate::str::contains("step 0 loss"));
    let png = std::fs::read(dir.path().join("moons.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(files(dir.path()), ["moons.png"]);
}

#[test]
fn json_summary_parses() {
    let dir = tempfile::tempdir().unwrap();
    let v = backprop_in(dir.path())
        .args(["train", "--json", "--steps", "30", "--plot", "run.svg"])
        .stdout_json();
    assert_eq!(v["steps"], 30);
    assert_eq!(v["parameters"], 337);
    assert!(v["final_loss"].as_f64().unwrap() > 0.0);
    assert!((0.0..=1.0).contains(&v["accuracy"].as_f64().unwrap()));
    assert!(v["time_per_step_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v["plot"], "run.svg");
    let svg = std::fs::read_to_string(dir.path().join("run.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("loss"));
}

#[test]
fn save_predict_eval_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    backprop_in(dir.path())
        .args(["train", "--quiet", "--no-plot", "--save", "model.json"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(files(dir.path()), ["model.json"]);
    // (2, 0.2) is deep in the inner moon (class 1), (-0.5, 0.8) in the outer.
    backprop_in(dir.path())
        .args([
            "predict",
            "--model",
            "model.json",
            "--point",
            "2,0.2",
            "--point",
            "-0.5,0.8",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"^2,0.2\tclass 1\tscore \S+\n-0.5,0.8\tclass 0\tscore -\S+\n$",
            )
            .unwrap(),
        );
    write(dir.path(), "points.csv", "x,y\n2,0.2\n-0.5,0.8\n");
    let v = backprop_in(dir.path())
        .args([
            "predict",
            "--model",
            "model.json",
            "--csv",
            "points.csv",
            "--json",
        ])
        .stdout_json();
    assert_eq!(
        (v[0]["class"].as_u64(), v[1]["class"].as_u64()),
        (Some(1), Some(0))
    );
    backprop_in(dir.path())
        .args(["eval", "--model", "model.json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("moons (seed 1338): 100 samples")
                .and(predicate::str::contains("accuracy 100.0%")),
        );
}

#[test]
fn spiral_defaults_to_cross_entropy_and_adam() {
    let dir = tempfile::tempdir().unwrap();
    let v = backprop_in(dir.path())
        .args([
            "train",
            "--dataset",
            "spiral",
            "--samples",
            "60",
            "--steps",
            "20",
            "--json",
            "--no-plot",
        ])
        .stdout_json();
    assert_eq!(
        (v["loss"].as_str(), v["optimizer"].as_str()),
        (Some("cross-entropy"), Some("adam"))
    );
    assert_eq!(v["architecture"], "2-16-16-3");
}

#[test]
fn csv_dataset_trains() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b,label\n");
    for i in 0..20 {
        let x = i as f64 / 10.0 - 1.0;
        text += &format!("{x},{},{}\n", x * 0.5, usize::from(x > 0.0));
    }
    write(dir.path(), "line.csv", text);
    backprop_in(dir.path())
        .args([
            "train",
            "--dataset",
            "csv:line.csv",
            "--label-column",
            "label",
            "--standardize",
            "--quiet",
        ])
        .assert()
        .success();
    assert!(dir.path().join("line.png").exists());
}

#[test]
fn unknown_dataset_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        dir.path(),
        &["train", "--dataset", "iris"],
        2,
        "unknown dataset `iris`",
    );
}

#[test]
fn zero_hidden_size_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        dir.path(),
        &["train", "--hidden", "0"],
        2,
        "layer sizes must be at least 1",
    );
    fails(
        dir.path(),
        &["train", "--hidden", "16,0"],
        2,
        "layer sizes must be at least 1",
    );
}

#[test]
fn learning_rate_must_be_a_positive_number() {
    let dir = tempfile::tempdir().unwrap();
    for lr in ["0", "-1", "abc", "inf", "NaN"] {
        fails(
            dir.path(),
            &["train", "--lr", lr],
            2,
            "expected a positive number",
        );
    }
}

#[test]
fn bad_csv_cell_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.csv", "x,y,c\n1,2,0\n3,oops,1\n");
    fails(
        dir.path(),
        &["train", "--dataset", "csv:bad.csv", "--save", "m.json"],
        2,
        "line 3, column 2: `oops` is not a finite number",
    );
    write(dir.path(), "short.csv", "1,2,0\n3,1\n");
    fails(
        dir.path(),
        &["train", "--dataset", "csv:short.csv"],
        2,
        "line 2: expected 3 fields, found 2",
    );
}

#[test]
fn feature_count_mismatch_between_model_and_input() {
    let dir = tempfile::tempdir().unwrap();
    save_small_model(dir.path());
    fails(
        dir.path(),
        &["predict", "--model", "model.json", "--point", "1,2,3"],
        2,
        "the model takes 2 features, but the input has 3",
    );
    write(dir.path(), "three.csv", "1,2,3\n4,5,6\n");
    fails(
        dir.path(),
        &["predict", "--model", "model.json", "--csv", "three.csv"],
        2,
        "the model takes 2 features, but the input has 3 (rows have 3 fields)",
    );
    write(dir.path(), "d3.csv", "1,2,3,0\n4,5,6,1\n");
    fails(
        dir.path(),
        &["eval", "--model", "model.json", "--dataset", "csv:d3.csv"],
        2,
        "the model takes 2 features, but the input has 3",
    );
}

#[test]
fn truncated_or_edited_model_files_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    save_small_model(dir.path());
    let json = std::fs::read_to_string(dir.path().join("model.json")).unwrap();
    write(dir.path(), "cut.json", &json[..json.len() / 2]);
    fails(
        dir.path(),
        &["predict", "--model", "cut.json", "--point", "1,2"],
        2,
        ": EOF while parsing",
    );
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["layers"][1]["neurons"][3]["weights"]
        .as_array_mut()
        .unwrap()
        .pop();
    write(dir.path(), "edited.json", v.to_string());
    fails(
        dir.path(),
        &["eval", "--model", "edited.json"],
        2,
        "layer 1 neuron 3 has 15 weights, expected 16",
    );
    write(
        dir.path(),
        "typo.json",
        json.replacen("\"bias\"", "\"bais\"", 1),
    );
    fails(
        dir.path(),
        &["predict", "--model", "typo.json", "--point", "1,2"],
        2,
        "unknown field `bais`",
    );
}

#[test]
fn divergence_stops_at_a_step_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.json", "previous model");
    fails(
        dir.path(),
        &[
            "train",
            "--loss",
            "mse",
            "--lr",
            "1000",
            "--save",
            "model.json",
            "--plot",
            "p.png",
        ],
        1,
        "training diverged at step ",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("model.json")).unwrap(),
        "previous model"
    );
    let out = backprop_in(dir.path())
        .args(["train", "--loss", "mse", "--lr", "1000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("NaN,") && !stderr.contains("loss NaN"),
        "{stderr}"
    );
}

#[test]
fn other_usage_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        dir.path(),
        &["train", "--plot", "out.jpg"],
        2,
        "use a .png or .svg file name",
    );
    fails(
        dir.path(),
        &["train", "--dataset", "spiral", "--loss", "hinge"],
        2,
        "the hinge loss is for 2 classes",
    );
    fails(
        dir.path(),
        &["predict", "--model", "m.json"],
        2,
        "give points with --point",
    );
    fails(dir.path(), &["train", "--steps", "0"], 2, "at least 1");
    fails(
        dir.path(),
        &["predict", "--model", "missing.json", "--point", "1,2"],
        1,
        "cannot read missing.json",
    );
}

/// `eval` without `--seed` scores other samples than `train` learned from
/// (seed 1338, one more than train's 1337), and says so.
#[test]
fn eval_defaults_to_another_seed_than_training_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    backprop_in(dir.path())
        .args(["train", "--no-plot", "--steps", "3", "--save", "m.json"])
        .assert()
        .success();
    let eval = |extra: &[&str]| {
        backprop_in(dir.path())
            .args(["eval", "--model", "m.json"])
            .args(extra)
            .stdout_text()
    };
    let bare = eval(&[]);
    assert!(bare.starts_with("moons (seed 1338): 100 samples"), "{bare}");
    assert_eq!(bare, eval(&["--seed", "1338"]));
    let training_set = eval(&["--seed", "1337"]);
    assert!(
        training_set.starts_with("moons (seed 1337)"),
        "{training_set}"
    );
    // Other samples, so another loss.
    let loss = |s: &str| {
        s.split("data loss ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(loss(&bare), loss(&training_set));
    let help = backprop_in(dir.path())
        .args(["eval", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let seed_help = help.split("--seed").nth(1).unwrap();
    let seed_help = seed_help.split("\n      --").next().unwrap();
    assert!(!seed_help.contains("initialisation"), "{seed_help}");
    assert!(seed_help.contains("1338"), "{seed_help}");
}

/// `train`'s loss includes the L2 term and `eval`'s does not, and both say
/// so. Checked by the closed form: after one step with a negligible
/// learning rate the saved parameters p are the ones the loss was computed
/// with, so train's loss minus eval's data loss (same samples) is
/// `alpha Σp²` over the model file's weights and biases.
#[test]
fn train_and_eval_losses_say_whether_l2_is_included() {
    let dir = tempfile::tempdir().unwrap();
    let out = backprop_in(dir.path())
        .args(["train", "--no-plot", "--steps", "1", "--lr", "1e-300"])
        .args(["--alpha", "0.01", "--save", "m.json"])
        .succeeds();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("(data loss + L2 0.01 Σp²)"), "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("hinge loss + L2 0.01 Σp²"), "{stderr}");
    let json = |args: &[&str]| backprop_in(dir.path()).args(args).stdout_json();
    let eval = json(&["eval", "--model", "m.json", "--seed", "1337", "--json"]);
    assert_eq!(eval["loss_includes_l2"], false);
    assert_eq!(eval["seed"], 1337);
    assert_eq!(json(&["eval", "--model", "m.json", "--json"])["seed"], 1338);
    let train = json(&[
        "train",
        "--no-plot",
        "--steps",
        "1",
        "--lr",
        "1e-300",
        "--alpha",
        "0.01",
        "--json",
    ]);
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m.json")).unwrap()).unwrap();
    let mut sum_sq = 0.0;
    for layer in model["layers"].as_array().unwrap() {
        for n in layer["neurons"].as_array().unwrap() {
            let b = n["bias"].as_f64().unwrap();
            sum_sq += b * b;
            for w in n["weights"].as_array().unwrap() {
                sum_sq += w.as_f64().unwrap().powi(2);
            }
        }
    }
    let l2 = train["final_loss"].as_f64().unwrap() - eval["loss"].as_f64().unwrap();
    assert!(
        (l2 - 0.01 * sum_sq).abs() < 1e-9,
        "{l2} vs {}",
        0.01 * sum_sq
    );
    let text = backprop_in(dir.path())
        .args(["eval", "--model", "m.json"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("data loss ") && text.contains("(no L2 term)"),
        "{text}"
    );
    backprop_in(dir.path())
        .args(["train", "--no-plot", "--steps", "1", "--alpha", "0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(data loss, no L2 term)"));
}

/// With `--batch-size` the progress accuracy is the batch's, and says so.
#[test]
fn batch_progress_accuracy_is_labelled() {
    let dir = tempfile::tempdir().unwrap();
    backprop_in(dir.path())
        .args(["train", "--no-plot", "--steps", "3", "--batch-size", "10"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("step 0 loss")
                .and(predicate::str::contains(", batch accuracy ")),
        );
    backprop_in(dir.path())
        .args(["train", "--no-plot", "--steps", "3"])
        .assert()
        .success()
        .stderr(predicate::str::contains("batch accuracy").not());
}

/// A CSV header's column names label the plot's axes (not x1, x2); the
/// label column's name is none of them.
#[test]
fn plot_axes_take_the_csv_column_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("height,kind,weight\n");
    for i in 0..20 {
        let x = f64::from(i) / 10.0;
        csv += &format!("{x},{},{}\n", i % 2, 1.0 - x);
    }
    write(dir.path(), "d.csv", csv);
    backprop_in(dir.path())
        .args(["train", "--dataset", "csv:d.csv", "--label-column", "kind"])
        .args(["--steps", "2", "--plot", "p.svg"])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.path().join("p.svg")).unwrap();
    // plotters writes each text on a line of its own.
    let text = |t: &str| svg.lines().any(|l| l.trim() == t);
    assert!(text("height") && text("weight"), "{svg}");
    assert!(!text("x1") && !text("x2") && !text("kind"), "{svg}");
}

/// `predict --json`'s help says what it prints: one array, an object per
/// point with the keys it names.
#[test]
fn predict_json_help_matches_its_output() {
    let dir = tempfile::tempdir().unwrap();
    backprop_in(dir.path())
        .args(["train", "--no-plot", "--steps", "2", "--save", "m.json"])
        .assert()
        .success();
    let help = backprop_in(dir.path())
        .args(["predict", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let json_help = help.split("--json").nth(1).unwrap();
    assert!(json_help.contains("one JSON array"), "{help}");
    assert!(!json_help.contains("one object per point"), "{help}");
    let out = backprop_in(dir.path())
        .args([
            "predict", "--model", "m.json", "--point", "0,0", "--point", "1,0", "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().expect("one array");
    assert_eq!(items.len(), 2);
    for item in items {
        for key in ["point", "class", "scores"] {
            assert!(json_help.contains(&format!("`{key}`")) && item.get(key).is_some());
        }
    }
}

/// On a terminal the progress bar shows the same step and numbers as the
/// lines printed elsewhere (it used to show step k+1 next to step k's
/// loss). The terminal is `script`'s pseudo-terminal (util-linux, part of
/// every Debian system).
#[test]
fn progress_bar_and_lines_agree() {
    let dir = tempfile::tempdir().unwrap();
    let args = "train --no-plot --steps 20";
    let lines = backprop_in(dir.path())
        .args(args.split(' '))
        .output()
        .unwrap();
    let lines = String::from_utf8(lines.stderr).unwrap();
    let last = lines.lines().last().unwrap();
    assert!(last.starts_with("step 19 loss "), "{lines}");
    let bin = backprop_exe();
    let tty = std::process::Command::new("script")
        .args(["-qec", &format!("'{}' {args}", bin.display()), "/dev/null"])
        .current_dir(dir.path())
        .output()
        .expect("script (util-linux) runs");
    assert!(tty.status.success());
    let screen = String::from_utf8_lossy(&tty.stdout);
    // The bar's last frame: after the last carriage return or erase.
    let frames: Vec<&str> = screen
        .split(['\r', '\n'])
        .filter(|f| f.contains("step "))
        .collect();
    let final_frame = frames
        .iter()
        .rev()
        .find(|f| !f.starts_with("20 steps"))
        .unwrap();
    // The summary starts a line of its own, not at the end of the bar.
    assert!(screen.contains("\n20 steps: final loss"), "{screen}");
    assert!(final_frame.contains(last), "{final_frame:?} vs {last:?}");
    assert!(!screen.contains("step 20"), "{screen}");
}

/// Messages go to stderr and are not results: a reader of stderr that has
/// gone (`2>&1 >out.txt | head -1`) does not stop the work or the
/// results on stdout, and nothing panics.
#[test]
fn a_closed_stderr_does_not_stop_the_work() {
    let dir = tempfile::tempdir().unwrap();
    for (args, result) in [
        ("train --no-plot --steps 30", "30 steps: final loss"),
        (
            "gpt --no-plot --steps 20 --samples 1 --embd 8 --heads 2",
            "20 steps in",
        ),
        ("draw x=2;y=x*x -o g.dot", ""),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(backprop_exe())
            .args(args.split(' '))
            .current_dir(dir.path())
            .stderr(writer)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args}: {stdout}");
        assert!(stdout.contains(result), "{args}: {stdout}");
    }
    assert!(dir.path().join("g.dot").exists());
}

/// `--json` carries the loss curve: one entry per step, in order, with
/// micrograd's learning rate 1 - 0.9 k/steps (closed form), the last
/// entry's loss the summary's final loss.
#[test]
fn json_has_the_history_of_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let json = backprop_in(dir.path())
        .args(["train", "--json", "--no-plot", "--steps", "7"])
        .stdout_json();
    let history = json["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    for (k, s) in history.iter().enumerate() {
        assert_eq!(s["step"], k);
        let lr = s["lr"].as_f64().unwrap();
        assert!((lr - (1.0 - 0.9 * k as f64 / 7.0)).abs() < 1e-15, "{s}");
        let accuracy = s["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&accuracy));
    }
    assert_eq!(history[6]["loss"], json["final_loss"]);
}

/// A linear model's weights and bias from a model file.
fn linear_weights(path: &std::path::Path) -> (Vec<f64>, f64) {
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let n = &m["layers"][0]["neurons"][0];
    let w = n["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (w, n["bias"].as_f64().unwrap())
}

/// `--init FILE.json` starts from a saved model's weights. Checked by the
/// closed form of a linear model: MSE against ±1 targets plus
/// alpha Σp² at the given weights, one SGD step on its gradient, the loss
/// there, and the weights saved after two steps.
#[test]
fn init_from_a_model_file_continues_from_its_weights() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ([1.0, 2.0], 1),
        ([-1.0, 0.5], 0),
        ([0.5, -1.0], 1),
        ([2.0, 1.0], 0),
    ];
    let mut csv = String::from("x1,x2,label\n");
    for (x, c) in rows {
        csv.push_str(&format!("{},{},{c}\n", x[0], x[1]));
    }
    write(dir.path(), "data.csv", csv);
    let data = ["--dataset", "csv:data.csv", "--no-plot", "-q"];
    backprop_in(dir.path())
        .args(["train", "--hidden", "none", "--loss", "mse", "--steps", "1"])
        .args(data)
        .args(["--save", "m0.json"])
        .succeeds();
    let (lr, alpha) = (0.1, 0.01);
    let json = backprop_in(dir.path())
        .args(["train", "--init", "m0.json", "--steps", "2", "--json"])
        .args(["--lr", "0.1", "--schedule", "constant", "--alpha", "0.01"])
        .args(data)
        .args(["--save", "m2.json"])
        .stdout_json();

    // Loss and gradient of mean((w·x + b - t)²) + alpha (|w|² + b²).
    let loss_and_grad = |w: &[f64], b: f64| {
        let n = rows.len() as f64;
        let (mut loss, mut gw, mut gb) = (0.0, [0.0; 2], 0.0);
        for (x, c) in rows {
            let t = if c == 1 { 1.0 } else { -1.0 };
            let r = w[0] * x[0] + w[1] * x[1] + b - t;
            loss += r * r / n;
            gw[0] += 2.0 * r * x[0] / n;
            gw[1] += 2.0 * r * x[1] / n;
            gb += 2.0 * r / n;
        }
        loss += alpha * (w[0] * w[0] + w[1] * w[1] + b * b);
        let gw = [gw[0] + 2.0 * alpha * w[0], gw[1] + 2.0 * alpha * w[1]];
        (loss, gw, gb + 2.0 * alpha * b)
    };
    let step = |w: &[f64], b: f64| {
        let (_, gw, gb) = loss_and_grad(w, b);
        (vec![w[0] - lr * gw[0], w[1] - lr * gw[1]], b - lr * gb)
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    let (w0, b0) = linear_weights(&dir.path().join("m0.json"));
    let (w1, b1) = step(&w0, b0);
    let (w2, b2) = step(&w1, b1);
    let history = json["history"].as_array().unwrap();
    for (s, (w, b)) in history.iter().zip([(&w0, b0), (&w1, b1)]) {
        let loss = s["loss"].as_f64().unwrap();
        assert!(close(loss, loss_and_grad(w, b).0), "{s} vs {:?}", (w, b));
    }
    let (saved_w, saved_b) = linear_weights(&dir.path().join("m2.json"));
    assert!(close(saved_w[0], w2[0]) && close(saved_w[1], w2[1]) && close(saved_b, b2));
}

/// What a saved model decides cannot also be given, and data that do not
/// fit it are refused, before any work.
#[test]
fn init_from_a_model_file_refuses_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    save_small_model(dir.path());
    for (args, message) in [
        (
            &["--hidden", "4"][..],
            "--hidden: the network starts from --init model.json",
        ),
        (
            &["--activation", "tanh"],
            "--activation: the network starts from",
        ),
        (&["--loss", "mse"], "--loss: the network starts from"),
        (&["--standardize"], "--standardize: the network starts from"),
        (
            &["--dataset", "spiral"],
            "spiral has 3 classes, but the model has 2 classes",
        ),
        (&["--save", "model.json"], "would destroy the input"),
    ] {
        let mut all = vec!["train", "--init", "model.json", "--no-plot"];
        all.extend(args);
        fails(dir.path(), &all, 2, message);
    }
    fails(
        dir.path(),
        &["train", "--init", "m.txt", "--no-plot"],
        2,
        "expected uniform, kaiming, xavier, or a model file",
    );
    fails(
        dir.path(),
        &["train", "--init", "gone.json", "--no-plot"],
        1,
        "cannot load model gone.json",
    );
}

/// A model trained on from `--init` keeps what the first model decided:
/// its feature scaling (the same means and deviations, not refitted) and
/// its class names (numbered labels index them).
#[test]
fn init_from_a_model_file_keeps_its_scaling_and_class_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "words.csv",
        "x1,x2,label\n0.5,0.2,cat\n1,1,dog\n3,0,cat\n",
    );
    let run = |args: &[&str]| {
        backprop_in(d)
            .args(["train", "--no-plot", "-q", "--steps", "3"])
            .args(args)
            .succeeds();
    };
    let json = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join(name)).unwrap()).unwrap()
    };
    run(&[
        "--dataset",
        "csv:words.csv",
        "--standardize",
        "--save",
        "a.json",
    ]);
    run(&["--init", "a.json", "--dataset", "moons", "--save", "b.json"]);
    let (a, b) = (json("a.json"), json("b.json"));
    // A three-class model on two-class data is refused, with both counts.
    run(&["--dataset", "spiral", "--save", "c.json"]);
    let err = crate::common::fails(d, &["train", "--init", "c.json", "--no-plot"], 2, "");
    assert!(
        err.contains("moons has 2 classes, but the model has 3 classes"),
        "{err}"
    );
    assert!(a["normalization"].is_object(), "{a}");
    assert_eq!(a["normalization"], b["normalization"]);
    assert_eq!(b["class_names"], serde_json::json!(["cat", "dog"]));
}

/// A run from `--init` that diverges is told to lower --lr, never to add
/// --standardize: the saved model decides the scaling, and --init refuses
/// --standardize.
#[test]
fn init_diverging_run_does_not_advise_standardize() {
    let dir = tempfile::tempdir().unwrap();
    save_small_model(dir.path());
    let err = fails(
        dir.path(),
        &[
            "train",
            "--init",
            "model.json",
            "--no-plot",
            "--lr",
            "1e6",
            "--steps",
            "20",
        ],
        1,
        "training diverged",
    );
    assert!(err.contains("Try a smaller --lr (it was 1000000)"), "{err}");
    assert!(!err.contains("--standardize"), "{err}");
}

/// Data lacking one of a word-label model's classes is refused naming the
/// class by its word (not its index), with no advice to renumber labels
/// that the model fixes.
#[test]
fn init_data_missing_one_of_the_models_classes_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "three.csv",
        "x,y,label\n1,2,cat\n1,3,dog\n5,5,bird\n2,2,cat\n",
    );
    write(d, "two.csv", "x,y,label\n1,2,cat\n1,3,cat\n5,5,dog\n");
    write(d, "nums.csv", "x,y,label\n1,2,0\n1,3,2\n5,5,2\n");
    backprop_in(d)
        .args(["train", "--no-plot", "-q", "--steps", "3"])
        .args(["--dataset", "csv:three.csv", "--save", "m.json"])
        .succeeds();
    let err = fails(
        d,
        &[
            "train",
            "--init",
            "m.json",
            "--dataset",
            "csv:two.csv",
            "--no-plot",
        ],
        2,
        "--init m.json: two has no row of class `bird`",
    );
    assert!(!err.contains("renumber"), "{err}");
    // A model of numbered classes 0 to 2, and data without class 1.
    backprop_in(d)
        .args(["train", "--no-plot", "-q", "--steps", "3"])
        .args(["--dataset", "spiral", "--save", "n.json"])
        .succeeds();
    let err = fails(
        d,
        &[
            "train",
            "--init",
            "n.json",
            "--dataset",
            "csv:nums.csv",
            "--no-plot",
        ],
        2,
        "--init n.json: nums has no row of class 1, but the model has 3 classes",
    );
    assert!(!err.contains("renumber"), "{err}");
}

/// A hand-edited model whose weights make the very first loss infinite is
/// refused blaming the weights, not the learning rate (no update has run
/// yet), and nothing is saved.
#[test]
fn init_whose_weights_overflow_the_first_loss_blames_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    let mut model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("model.json")).unwrap()).unwrap();
    for layer in model["layers"].as_array_mut().unwrap() {
        for neuron in layer["neurons"].as_array_mut().unwrap() {
            neuron["bias"] = serde_json::json!(1e300);
        }
    }
    write(d, "huge.json", model.to_string());
    let err = fails(
        d,
        &[
            "train",
            "--init",
            "huge.json",
            "--no-plot",
            "--save",
            "out.json",
        ],
        1,
        "training diverged at step 0: the first loss is inf",
    );
    assert!(err.contains("the weights of --init huge.json"), "{err}");
    assert!(!err.contains("--lr"), "{err}");
}

/// SGD with an L2 strength so large that lr * alpha > 1 diverges from the
/// weight decay alone (each step multiplies every weight by
/// 1 - 2 * lr * alpha, here 1 - 20 = -19): the advice names --alpha.
#[test]
fn diverging_from_a_huge_alpha_advises_a_smaller_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        dir.path(),
        &[
            "train",
            "--alpha",
            "10",
            "--optimizer",
            "sgd",
            "--lr",
            "1",
            "--no-plot",
            "--steps",
            "50",
        ],
        1,
        "training diverged",
    );
    assert!(err.contains("or a smaller --alpha (it was 10)"), "{err}");
    // With the default alpha, no advice about it.
    let err = fails(
        dir.path(),
        &["train", "--lr", "1e6", "--no-plot", "--steps", "20"],
        1,
        "training diverged",
    );
    assert!(!err.contains("--alpha"), "{err}");
}

/// A hand-edited normalization whose deviation is positive but so small
/// that dividing by it overflows (1e-320) is refused before training,
/// naming the row and feature it turns non-finite.
#[test]
fn init_whose_normalization_overflows_the_features_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "w.csv", "x,y,label\n1000,2,cat\n1100,3,dog\n900,1,cat\n");
    backprop_in(d)
        .args(["train", "--no-plot", "-q", "--steps", "3", "--standardize"])
        .args(["--dataset", "csv:w.csv", "--save", "m.json"])
        .succeeds();
    let mut model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("m.json")).unwrap()).unwrap();
    model["normalization"]["std"][0] = serde_json::json!(1e-320);
    write(d, "tiny.json", model.to_string());
    let err = fails(
        d,
        &[
            "train",
            "--init",
            "tiny.json",
            "--dataset",
            "csv:w.csv",
            "--no-plot",
        ],
        2,
        "--init tiny.json: the model's normalization turns w's row ",
    );
    assert!(err.contains(", feature 1 ("), "{err}");
}

/// A model hand-edited (or written by Python's `json.dump`) with `NaN`
/// or `Infinity` for a weight is refused saying that these are not JSON
/// numbers, where the token is, and in which field.
#[test]
fn init_with_a_nan_literal_in_the_model_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    let text = std::fs::read_to_string(d.join("model.json")).unwrap();
    let mut model: serde_json::Value = serde_json::from_str(&text).unwrap();
    model["layers"][0]["neurons"][0]["bias"] = serde_json::json!(12345.5);
    for (token, name) in [("NaN", "nan.json"), ("-Infinity", "inf.json")] {
        write(d, name, model.to_string().replace("12345.5", token));
        let err = fails(
            d,
            &["train", "--init", name, "--no-plot"],
            2,
            &format!("field layers[0].neurons[0].bias: `{token}` at line 1, column "),
        );
        assert!(err.contains("is not a JSON number"), "{err}");
    }
}

/// Word labels for a model trained on numbered classes: `eval` and
/// `train --init` refuse them in the same words, naming the labels and
/// the model's classes.
#[test]
fn word_labels_for_a_numbered_model_are_refused_alike() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    write(d, "words.csv", "x1,x2,label\n0.5,0.2,cat\n1,1,dog\n");
    let message = "words has class names as labels (cat, dog), but model.json was trained on numbered classes 0 to 1";
    for cmd in [
        &[
            "eval",
            "--model",
            "model.json",
            "--dataset",
            "csv:words.csv",
        ][..],
        &[
            "train",
            "--init",
            "model.json",
            "--dataset",
            "csv:words.csv",
            "--no-plot",
        ],
    ] {
        fails(d, cmd, 2, message);
    }
}
