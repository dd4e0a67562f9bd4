//! Hostile and odd inputs: graphs past the drawing limits, files from
//! another command, bytes that do not belong in a message. Each gets a
//! message that names what is wrong, the exit code of the README's policy
//! (2 for a mistake in what was given), no panic, and no file written.

use crate::common::{Run, fails};

/// `x = 1`, then `y = x` and `steps` statements `y = y * x`: a chain of
/// `steps` products, two drawn nodes (a record and an op) each.
fn chain(steps: usize) -> String {
    let mut p = String::from("x = 1\ny = x\n");
    for _ in 0..steps {
        p.push_str("y = y * x\n");
    }
    p
}

#[test]
fn a_drawing_past_a_layout_limit_is_an_input_mistake() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::write(dir.path(), "chain.txt", chain(300));
    crate::common::write(dir.path(), "long.txt", chain(6000));
    // 600 drawn nodes: past the built-in layout's 250.
    for out in ["big.svg", "big.png"] {
        fails(
            dir.path(),
            &["draw", "-f", "chain.txt", "--layout", "builtin", "-o", out],
            2,
            "more than the built-in layout handles",
        );
    }
    // 12,000 drawn nodes: past Graphviz's 10,000 when it is installed,
    // past the built-in layout's limit when it is not.
    fails(
        dir.path(),
        &["draw", "-f", "long.txt", "-o", "big.svg"],
        2,
        "nodes to draw, more than",
    );
    // The page's limit has the same exit code.
    fails(
        dir.path(),
        &["draw", "-f", "long.txt", "-o", "big.html"],
        2,
        "more than the page's limit of 2000",
    );
}

/// Another command's output given as a model: the message says what the
/// file is and which command makes the file that was asked for.
#[test]
fn another_commands_file_as_a_model_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::save_small_model(d);
    crate::common::backprop_in(d)
        .args([
            "gpt",
            "--steps",
            "1",
            "--no-plot",
            "-q",
            "--save",
            "gpt.safetensors",
        ])
        .succeeds();
    let summary = crate::common::backprop_in(d)
        .args(["train", "--steps", "1", "--no-plot", "--json"])
        .succeeds()
        .stdout;
    crate::common::write(d, "summary.json", summary);

    // A GPT's weights where an MLP is expected.
    for cmd in [
        vec!["predict", "--model", "gpt.safetensors", "--point", "1,2"],
        vec!["eval", "--model", "gpt.safetensors"],
        vec!["explain", "--model", "gpt.safetensors", "--point", "1,2"],
    ] {
        let err = fails(d, &cmd, 2, "gpt.safetensors");
        assert!(
            err.contains("safetensors") && err.contains("backprop train --save"),
            "{cmd:?}: {err}"
        );
    }
    // train --json's summary where a model is expected.
    let err = fails(
        d,
        &["predict", "--model", "summary.json", "--point", "1,2"],
        2,
        "summary.json",
    );
    assert!(
        err.contains("backprop train --save") && err.contains("format"),
        "{err}"
    );
    // An MLP model where a GPT's weights are expected.
    for cmd in [
        vec!["gpt", "sample", "--model", "model.json"],
        vec![
            "gpt",
            "graph",
            "--model",
            "model.json",
            "--pos",
            "0",
            "-o",
            "g.dot",
        ],
    ] {
        let err = fails(d, &cmd, 2, "model.json");
        assert!(
            err.contains("backprop train --save") && err.contains("not GPT weights"),
            "{cmd:?}: {err}"
        );
    }
}

/// Text from the user (a CSV cell, an argument, a file name) that holds
/// control characters is shown escaped in every message, as the program
/// parser's messages show it: an escape sequence in a file cannot drive
/// the terminal, and a NUL byte is visible.
#[test]
fn control_characters_in_messages_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::save_small_model(d);
    crate::common::write(d, "esc.csv", "x,y,class\n1,\x1b[31m,0\n3,4,1\n");
    crate::common::write(d, "nul.csv", "x,y,class\n1,2\x00,0\n3,4,1\n");
    let cases: [(&[&str], &str); 5] = [
        (
            &["train", "--dataset", "csv:esc.csv", "--no-plot"],
            "`\\u{1b}[31m`",
        ),
        (
            &["train", "--dataset", "csv:nul.csv", "--no-plot"],
            "`2\\u{0}`",
        ),
        (
            &["predict", "--model", "model.json", "--point", "1,\x1b[2J"],
            "`\\u{1b}[2J`",
        ),
        (
            &[
                "train",
                "--dataset",
                "csv:esc.csv",
                "--label-column",
                "\x07",
                "--no-plot",
            ],
            "`\\u{7}`",
        ),
        (
            &["draw", "x = 1", "-o", "a\x1b]0;title\x07.xyz"],
            "a\\u{1b}]0;title\\u{7}.xyz",
        ),
    ];
    for (args, shown) in cases {
        let err = fails(d, args, 2, shown);
        assert!(
            !err.contains(['\x1b', '\x00', '\x07']),
            "{args:?}: a raw control character in {err:?}"
        );
    }
}

/// A GPT whose loss becomes NaN stops as `train` does: it names the step,
/// exits with 1 and writes neither the model nor the plot (it used to go
/// on, print empty samples and save weights that `gpt sample` refuses).
#[test]
fn a_diverging_gpt_stops_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        dir.path(),
        &[
            "gpt",
            "--steps",
            "20",
            "--lr",
            "1e300",
            "--save",
            "m.safetensors",
        ],
        1,
        "training diverged at step ",
    );
    assert!(
        err.contains("nothing was saved") && err.contains("--lr"),
        "{err}"
    );
}

/// `/dev/stdout` and `/dev/stderr` as output files when they are pipes
/// (links to `pipe:[N]`, which is no path): written in place like any
/// device, not refused with "No such file or directory".
#[test]
fn dev_stdout_as_an_output_file_writes_to_the_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::backprop_in(dir.path())
        .args([
            "train",
            "--steps",
            "2",
            "--no-plot",
            "-q",
            "--save",
            "/dev/stdout",
        ])
        .stdout_json();
    assert_eq!(out["format"], "backprop-mlp");
    let dot = crate::common::backprop_in(dir.path())
        .args([
            "draw",
            "x = 1; y = x * 2",
            "--format",
            "dot",
            "-o",
            "/dev/stdout",
        ])
        .stdout_text();
    assert!(dot.starts_with("digraph"), "{dot}");
    let err = crate::common::backprop_in(dir.path())
        .args([
            "draw",
            "x = 1; y = x * 2",
            "--format",
            "dot",
            "-o",
            "/dev/stderr",
        ])
        .succeeds()
        .stderr;
    assert!(String::from_utf8(err).unwrap().contains("digraph"));
    assert!(crate::common::files(dir.path()).is_empty());
}

/// A noise so large that the generated points overflow is a mistake in
/// the arguments (exit 2, naming --noise), not a training that diverges;
/// a loss that is NaN from the first step says so, without "up from NaN".
#[test]
fn non_finite_data_is_named_for_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for dataset in ["moons", "blobs", "spiral"] {
        fails(
            d,
            &[
                "train",
                "--dataset",
                dataset,
                "--noise",
                "1e308",
                "--no-plot",
            ],
            2,
            "--noise 1e308",
        );
    }
    // Finite features whose products overflow: the first loss is NaN.
    crate::common::write(
        d,
        "huge.csv",
        "1e308,1e308,0\n-1e308,1e308,1\n1,2,0\n3,4,1\n",
    );
    let err = fails(
        d,
        &["train", "--dataset", "csv:huge.csv", "--no-plot"],
        1,
        "training diverged at step 0: the first loss is NaN",
    );
    assert!(!err.contains("up from"), "{err}");
}

/// `gpt graph -o -` writes DOT to stdout, as `draw -o -` does and as
/// `gpt graph` without `-o` does (it was refused as a file name).
#[test]
fn gpt_graph_to_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::backprop_in(d)
        .args([
            "gpt",
            "--steps",
            "1",
            "--no-plot",
            "-q",
            "--save",
            "m.safetensors",
        ])
        .succeeds();
    let args = [
        "gpt",
        "graph",
        "--model",
        "m.safetensors",
        "--pos",
        "0",
        "--head",
        "1",
    ];
    let bare = crate::common::backprop_in(d).args(args).stdout_text();
    let dash = crate::common::backprop_in(d)
        .args(args)
        .args(["-o", "-"])
        .stdout_text();
    assert!(dash.starts_with("digraph"), "{dash}");
    assert_eq!(dash, bare);
    assert_eq!(crate::common::files(d), ["m.safetensors"]);
}

/// A huge value quoted in a message (a megabyte CSV cell, a 100,000-digit
/// argument, a header name as long) is shown cut, so the message stays a
/// line a person can read and still says where and why.
#[test]
fn huge_values_in_messages_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::save_small_model(d);
    crate::common::write(
        d,
        "cell.csv",
        format!("{},2,0\n3,4,1\n", "1".repeat(1_000_000)),
    );
    crate::common::write(
        d,
        "header.csv",
        format!("x,{},class\n1,2,a\n3,4,b\n", "y".repeat(1_000_000)),
    );
    let digits = format!("{},2", "1".repeat(100_000));
    let label = "z".repeat(100_000);
    let cases: [(&[&str], &str); 3] = [
        (
            &["train", "--dataset", "csv:cell.csv", "--no-plot"],
            "line 1, column 1: `111",
        ),
        (
            &["predict", "--model", "model.json", "--point", &digits],
            "out of range",
        ),
        (
            &[
                "train",
                "--dataset",
                "csv:header.csv",
                "--label-column",
                &label,
            ],
            "no column named `zzz",
        ),
    ];
    for (args, message) in cases {
        let err = fails(d, args, 2, message);
        assert!(err.len() < 2_000, "{} bytes: {}", err.len(), &err[..300]);
        assert!(err.contains('…'), "{err}");
    }
}

/// A data file that starts with a UTF-8 byte order mark (as Windows
/// editors write) trains on its text: the mark is not a character of the
/// vocabulary, and a file of only a mark has no documents.
#[test]
fn gpt_data_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::write(d, "bom.txt", "\u{feff}ab\ncd\n");
    crate::common::write(d, "only.txt", "\u{feff}\n");
    let summary = crate::common::backprop_in(d)
        .args([
            "gpt",
            "--data",
            "bom.txt",
            "--steps",
            "2",
            "--no-plot",
            "-q",
            "--json",
        ])
        .stdout_json();
    assert_eq!(summary["vocab"], "abcd");
    assert_eq!(summary["documents"], 2);
    fails(
        d,
        &["gpt", "--data", "only.txt", "--steps", "2", "--no-plot"],
        2,
        "no documents",
    );
}

/// gpt's size limits are worded as every other file limit (`256 MiB`,
/// not `268435456 bytes`).
#[test]
fn gpt_data_past_its_limit_names_it_in_mib() {
    let dir = tempfile::tempdir().unwrap();
    fails(
        dir.path(),
        &["gpt", "--data", "/dev/zero", "--steps", "1", "--no-plot"],
        2,
        "--data /dev/zero: the file is larger than the limit of 256 MiB",
    );
}

/// `explain --check` has `grad --check`'s limit (2 × inputs × nodes
/// evaluations of at most 10^9 nodes): 3,000 inputs and 100,000 more
/// nodes are refused at once instead of running for minutes.
#[test]
fn explain_check_has_grads_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut p: String = (0..3000).map(|i| format!("x{i} = {i}\n")).collect();
    let terms: Vec<String> = (0..3000).map(|i| format!("x{i}*x{i}")).collect();
    p.push_str(&format!("y = {}\n", terms.join(" + ")));
    p.push_str(&"y = y * 1\n".repeat(100_000));
    crate::common::write(dir.path(), "wide.txt", p);
    for cmd in ["grad", "explain"] {
        fails(
            dir.path(),
            &[cmd, "-f", "wide.txt", "--check"],
            2,
            "more than the limit of 1000000000",
        );
    }
}
