//! The command line's error policy and its limits (README, "Errors and
//! limits"): every kind of failure found by a hostile pass over the
//! commands, each with its exit code (2 for a mistake in what was given, 1
//! for I/O and runtime failures), its message, and no file lost or
//! half-written.

use std::os::unix::fs::FileTypeExt;
use std::time::{Duration, Instant};

use crate::common::{Run, backprop_exe, backprop_in, fails, files, save_small_model, write};

/// 60 rows of two well separated classes.
fn good_rows() -> String {
    (0..60)
        .map(|i| {
            let c = i % 2;
            format!("{},{},{c}\n", c as f64 + 0.01 * i as f64, 0.5 - c as f64)
        })
        .collect()
}

#[test]
fn a_device_output_is_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/null", d.join("null.dot")).unwrap();
    backprop_in(d)
        .args(["draw", "x = 1; y = x * 2", "-o", "null.dot"])
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(d.join("null.dot"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn a_full_device_gives_the_os_error_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/full", d.join("full.json")).unwrap();
    fails(
        d,
        &["train", "--steps", "2", "--no-plot", "--save", "full.json"],
        1,
        "No space left on device",
    );
    fails(
        d,
        &["draw", "x = 1", "-o", "/dev/full", "--format", "dot"],
        1,
        "No space left on device",
    );
}

#[test]
fn a_read_only_model_and_a_symlinked_model() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "ro.json", "keep me");
    std::fs::set_permissions(d.join("ro.json"), std::fs::Permissions::from_mode(0o444)).unwrap();
    fails(
        d,
        &["train", "--steps", "2", "--no-plot", "--save", "ro.json"],
        1,
        "cannot write the model to ro.json: permission denied",
    );
    // Through a link: the target gets the model, the link stays.
    write(d, "real.json", "old");
    std::os::unix::fs::symlink("real.json", d.join("link.json")).unwrap();
    backprop_in(d)
        .args([
            "train",
            "-q",
            "--steps",
            "2",
            "--no-plot",
            "--save",
            "link.json",
        ])
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(d.join("link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(d.join("real.json"))
            .unwrap()
            .contains("backprop-mlp")
    );
}

#[test]
fn outputs_that_are_inputs_or_each_other_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "data.csv", good_rows());
    fails(
        d,
        &["train", "--dataset", "csv:data.csv", "--save", "./data.csv"],
        2,
        "--save ./data.csv is also --dataset data.csv: writing it would destroy the input",
    );
    fails(
        d,
        &[
            "train",
            "--dataset",
            "csv:data.csv",
            "--plot",
            "x.png",
            "--save",
            "x.png",
        ],
        2,
        "--plot and --save both write x.png",
    );
    write(d, "prog.txt", "x = 1; y = x * x");
    fails(
        d,
        &[
            "draw", "-f", "prog.txt", "-o", "prog.txt", "--format", "dot",
        ],
        2,
        "--output prog.txt is also --file prog.txt",
    );
    // A missing directory is found before training, not after.
    let start = Instant::now();
    fails(
        d,
        &[
            "train",
            "--steps",
            "10000000",
            "--save",
            "no/such/model.json",
        ],
        1,
        "the directory no/such does not exist",
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    fails(
        d,
        &["draw", "x = 1", "-o", "missing/g.svg"],
        1,
        "the directory missing does not exist",
    );
}

#[test]
fn dash_writes_text_formats_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = backprop_in(d)
        .args(["draw", "x = 1; y = x * 2", "-o", "-"])
        .succeeds();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digraph"));
    let out = backprop_in(d)
        .args(["draw", "x = 1; y = x * 2", "-o", "-", "--format", "svg"])
        .args(["--layout", "builtin"])
        .succeeds();
    let svg = String::from_utf8_lossy(&out.stdout);
    roxmltree::Document::parse(&svg).expect("SVG on stdout");
    fails(
        d,
        &["draw", "x = 1", "-o", "-", "--format", "png"],
        2,
        "PNG is not text",
    );
    let out = backprop_in(d)
        .args(["train", "--steps", "3", "--no-plot", "--save", "-"])
        .succeeds();
    let model = String::from_utf8_lossy(&out.stdout);
    backprop::nn::SavedModel::from_json(&model).expect("the model on stdout");
    assert!(files(d).is_empty());
}

#[test]
fn inputs_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let start = Instant::now();
    fails(
        d,
        &["train", "--dataset", "csv:/dev/zero", "--no-plot"],
        2,
        "the file is larger than the limit of 256 MiB",
    );
    fails(
        d,
        &["grad", "-f", "/dev/zero"],
        2,
        "the file is larger than the limit of 16 MiB",
    );
    fails(
        d,
        &["predict", "--model", "/dev/zero", "--point", "1,2"],
        2,
        "the file is larger than the limit of 128 MiB",
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn the_sample_limit_applies_to_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut text = String::new();
    for i in 0..1_100_000 {
        text.push_str(if i % 2 == 0 { "0.5,0\n" } else { "1.5,1\n" });
    }
    write(d, "big.csv", &text);
    fails(
        d,
        &["train", "--dataset", "csv:big.csv", "--no-plot"],
        2,
        "line 1000001: more than 1000000 data rows, the limit",
    );
}

#[test]
fn gradient_check_past_its_cap_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = 20_000;
    let mut src: String = (0..n).map(|i| format!("x{i} = 0.5\n")).collect();
    src.push_str("y = x0");
    for i in 1..n {
        src.push_str(&format!(" + x{i}"));
    }
    write(d, "wide.txt", &src);
    let start = Instant::now();
    fails(
        d,
        &["grad", "--check", "-f", "wide.txt"],
        2,
        "--check: a gradient check of 20000 inputs",
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn divergence_without_nan_stops_names_the_step_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Features around 100, not standardized.
    let rows: String = (0..60)
        .map(|i| {
            let c = i % 2;
            format!(
                "{},{},{c}\n",
                100.0 + 5.0 * c as f64 + 0.1 * i as f64,
                100.0 - 3.0 * c as f64
            )
        })
        .collect();
    write(d, "far.csv", &rows);
    write(d, "model.json", "previous model");
    let stderr = fails(
        d,
        &[
            "train",
            "--dataset",
            "csv:far.csv",
            "--save",
            "model.json",
            "--plot",
            "p.png",
        ],
        1,
        "training diverged at step ",
    );
    assert!(stderr.contains("nothing was saved"), "{stderr}");
    assert!(
        stderr.contains("--lr") && stderr.contains("--standardize"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: feature 1 reaches magnitude"),
        "{stderr}"
    );
    // MSE at the default lr 1 on moons: also caught.
    fails(
        d,
        &[
            "train",
            "--loss",
            "mse",
            "--no-plot",
            "--save",
            "model.json",
        ],
        1,
        "training diverged at step ",
    );
    // Standardized, the same data trains.
    backprop_in(d)
        .args([
            "train",
            "--dataset",
            "csv:far.csv",
            "--standardize",
            "--no-plot",
        ])
        .assert()
        .success();
}

#[test]
fn the_same_mistake_gets_the_same_code_and_words_in_predict_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    write(d, "d3.csv", "1,2,3,0\n4,5,6,1\n");
    let predict = fails(
        d,
        &["predict", "--model", "model.json", "--point", "1,2,3"],
        2,
        "the model takes 2 features, but the input has 3",
    );
    let eval = fails(
        d,
        &["eval", "--model", "model.json", "--dataset", "csv:d3.csv"],
        2,
        "the model takes 2 features, but the input has 3",
    );
    assert!(predict.starts_with("error: ") && eval.starts_with("error: "));
}

#[test]
fn point_values_are_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    fails(
        d,
        &["predict", "--model", "model.json", "--point", "1,nan"],
        2,
        "--point 1,nan: value 2 `nan` is not a finite number",
    );
    fails(
        d,
        &["predict", "--model", "model.json", "--point", "1e309,2"],
        2,
        "--point 1e309,2: value 1 `1e309` is out of range",
    );
    fails(
        d,
        &["predict", "--model", "model.json", "--point", "1,x"],
        2,
        "--point 1,x: value 2 `x` is not a number",
    );
    // Below the smallest subnormal: 0, as in Python.
    backprop_in(d)
        .args(["predict", "--model", "model.json", "--point", "1e-400,2"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("0,2\t"));
}

#[test]
fn a_csv_that_is_not_utf8_gets_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "bad.csv", b"x,y,c\n1,2,0\n3,\xff,1\n");
    fails(
        d,
        &["train", "--dataset", "csv:bad.csv", "--no-plot"],
        2,
        "line 3, column 2: the text is not UTF-8 (byte offset 14 in the file)",
    );
}

#[test]
fn stdout_errors_say_cannot_write_to_stdout_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_small_model(d);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [
        &["grad", "x = 1; y = x"][..],
        &["draw", "x = 1; y = x"],
        &["train", "--steps", "2", "--no-plot"],
        &["train", "--steps", "2", "--no-plot", "--json"],
        &["predict", "--model", "model.json", "--point", "1,2"],
        &["eval", "--model", "model.json"],
        &["explain", "x = 1; y = x"],
        &["gpt", "--steps", "2", "--no-plot"],
        // Help and the version are results too, on stdout.
        &["--help"],
        &["train", "--help"],
        &["--version"],
    ] {
        let out = std::process::Command::new(backprop_exe())
            .current_dir(d)
            .args(args)
            .stdout(full())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: cannot write to stdout: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn counts_of_one_are_singular() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = backprop_in(d)
        .args(["train", "--steps", "1", "--no-plot"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("), 1 step\n"), "{stderr}");
    assert!(stdout.starts_with("1 step: final loss"), "{stdout}");
    assert!(!stdout.contains("1 steps") && !stderr.contains("1 steps"));
    save_small_model(d);
    write(d, "one.csv", "x,y,c\n0.5,0.5,1\n");
    let out = backprop_in(d)
        .args(["eval", "--model", "model.json", "--dataset", "csv:one.csv"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("one: 1 sample, data loss"), "{stdout}");
}

#[test]
fn csv_files_people_really_have() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Quoted fields and header names, CRLF, a byte order mark, words.
    let mut text = String::from("\u{feff}\"width\",\"height\",\"animal\"\r\n");
    for i in 0..40 {
        let (w, kind) = if i % 2 == 0 {
            (-1.0, "cat")
        } else {
            (1.0, "dog")
        };
        text.push_str(&format!(
            "\"{}\",{},\"{kind}\"\r\n",
            w + 0.01 * i as f64,
            -w
        ));
    }
    write(d, "pets.csv", &text);
    backprop_in(d)
        .args([
            "train",
            "-q",
            "--dataset",
            "csv:pets.csv",
            "--label-column",
            "animal",
        ])
        .args(["--no-plot", "--save", "pets.json"])
        .assert()
        .success();
    let model = std::fs::read_to_string(d.join("pets.json")).unwrap();
    assert!(model.contains("\"class_names\""), "{model}");
    let out = backprop_in(d)
        .args([
            "predict",
            "--model",
            "pets.json",
            "--point",
            "-1,1",
            "--point",
            "1,-1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains("\tclass cat\t"), "{stdout}");
    assert!(lines[1].contains("\tclass dog\t"), "{stdout}");
    let out = backprop_in(d)
        .args(["eval", "--model", "pets.json", "--dataset", "csv:pets.csv"])
        .args(["--label-column", "animal"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("accuracy 100.0% (classes cat, dog)"),
        "{stdout}"
    );
    // Duplicate names are refused.
    write(d, "dup.csv", "x,x,c\n1,2,0\n3,4,1\n");
    fails(
        d,
        &["train", "--dataset", "csv:dup.csv", "--no-plot"],
        2,
        "columns 1 and 2 are both named `x`",
    );
}

#[test]
fn programs_may_start_with_a_minus_or_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Python: -2**2 == -4.
    backprop_in(d)
        .args(["grad", "--json", "-2**2"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"value\":-4.0"));
    write(d, "bom.txt", "\u{feff}x = 3\ny = x * x\n");
    backprop_in(d)
        .args(["grad", "--json", "-f", "bom.txt"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"value\":9.0"));
    backprop_in(d)
        .args(["grad", "--json", "x = 1e-400; y = x + 1"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"value\":1.0"));
    fails(
        d,
        &["grad", "y = 1e309"],
        2,
        "number `1e309` is out of range",
    );
}

/// Ctrl-C or SIGTERM while a large file is being written leaves no
/// temporary file, and no partial output.
#[test]
fn an_interrupted_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A program of about 400,000 nodes: its DOT text is some 60 MB.
    let mut src = String::from("x = 1\ny = x");
    for _ in 0..200_000 {
        src.push_str(" + x * 2");
    }
    write(d, "big.txt", &src);
    for signal in ["INT", "TERM"] {
        let out = d.join("out.dot");
        // The signal must come while the drawing is being written: wait for
        // a temporary file of more than 1 MB. A run that ends before it is
        // seen (a fast disk) is tried again.
        let mut caught = false;
        for _attempt in 0..5 {
            let mut child = std::process::Command::new(backprop_exe())
                .current_dir(d)
                .args(["draw", "-f", "big.txt", "-o", "out.dot"])
                .spawn()
                .unwrap();
            let start = Instant::now();
            let tmp = loop {
                let big = std::fs::read_dir(d).unwrap().find_map(|e| {
                    let e = e.unwrap();
                    let name = e.file_name().to_string_lossy().into_owned();
                    let len = e.metadata().map_or(0, |m| m.len());
                    (name.starts_with(".out.dot.") && len > 1 << 20).then_some(name)
                });
                if big.is_some() || child.try_wait().unwrap().is_some() {
                    break big;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(120),
                    "no temporary file"
                );
                std::thread::sleep(Duration::from_micros(100));
            };
            let Some(tmp) = tmp else {
                // Finished first: a complete file, no temporary one.
                assert!(child.wait().unwrap().success());
                assert_eq!(files(d), ["big.txt", "out.dot"]);
                std::fs::remove_file(&out).unwrap();
                continue;
            };
            // The shell's own `kill`: no procps needed.
            let kill = format!("kill -{signal} {}", child.id());
            std::process::Command::new("sh")
                .args(["-c", &kill])
                .status()
                .unwrap();
            let status = child.wait().unwrap();
            eprintln!("SIG{signal} with {tmp} being written: {status}");
            let expected = if signal == "INT" { 130 } else { 143 };
            // The signal came during the write (exit 128 + signal, no
            // output) or just as it ended (a complete output).
            match status.code() {
                Some(c) if c == expected => assert!(!out.exists()),
                Some(0) => assert!(std::fs::read_to_string(&out).unwrap().ends_with("}\n")),
                other => panic!("{signal}: exit {other:?}"),
            }
            assert!(!d.join(&tmp).exists(), "{signal}: {tmp} left behind");
            assert_eq!(files(d).iter().filter(|n| n.starts_with('.')).count(), 0);
            let _ = std::fs::remove_file(&out);
            caught = true;
            break;
        }
        assert!(caught, "{signal}: every run finished before the signal");
    }
}
