//! `backprop gpt`: training, saving, sampling and drawing from the command
//! line, and every kind of bad input (a clear message, exit 2, no file
//! written).

use std::path::Path;

use crate::common::{Run, backprop_in, fails, write};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gpt");

#[test]
fn trains_saves_samples_and_draws() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = backprop_in(d)
        .args([
            "gpt",
            "--steps",
            "30",
            "--json",
            "--save",
            "m.safetensors",
            "--plot",
            "loss.svg",
        ])
        .stdout_json();
    let losses = s["losses"].as_array().unwrap();
    assert_eq!(losses.len(), 30);
    assert!((losses[0].as_f64().unwrap() - 27f64.ln()).abs() < 0.2);
    assert!(s["ms_per_step"].as_f64().unwrap() > 0.0);
    assert_eq!(s["samples"].as_array().unwrap().len(), 20);
    assert_eq!(s["parameters"], 4192);
    assert!(
        std::fs::read_to_string(d.join("loss.svg"))
            .unwrap()
            .contains("<svg")
    );

    // Sampling from the saved model: the prefix starts every name.
    let text = backprop_in(d)
        .args([
            "gpt",
            "sample",
            "--model",
            "m.safetensors",
            "--count",
            "7",
            "--prefix",
            "ka",
            "--seed",
            "3",
        ])
        .stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7);
    assert!(lines.iter().all(|l| l.starts_with("ka")), "{lines:?}");

    // The saved model continues training as --init: the first loss is the
    // saved model's loss on that document, so it is below ln 27.
    backprop_in(d)
        .args([
            "gpt",
            "--steps",
            "1",
            "--json",
            "--no-plot",
            "--init",
            "m.safetensors",
        ])
        .succeeds();

    // The graph of one position's loss, as DOT.
    backprop_in(d)
        .args([
            "gpt",
            "graph",
            "--model",
            "m.safetensors",
            "--text",
            "emma",
            "--pos",
            "1",
            "-o",
            "loss.dot",
        ])
        .succeeds();
    let dot = std::fs::read_to_string(d.join("loss.dot")).unwrap();
    assert!(dot.starts_with("digraph"));
    assert!(dot.contains("loss[1]") && dot.contains("wte[4,0]") && dot.contains("lm_head"));
    // One attention head's output, on stdout.
    let dot = backprop_in(d)
        .args([
            "gpt",
            "graph",
            "--model",
            "m.safetensors",
            "--pos",
            "0",
            "--head",
            "2",
        ])
        .stdout_text();
    assert!(dot.contains("layer0.head2[0] at 0") && !dot.contains("lm_head"));
    // The same loss explained step by step, and as the interactive page.
    let graph = |extra: &[&str]| {
        let mut args = vec!["gpt", "graph", "--model", "m.safetensors", "--text", "emma"];
        args.extend_from_slice(&["--pos", "1"]);
        args.extend_from_slice(extra);
        backprop_in(d).args(&args).stdout_text()
    };
    let text = graph(&["--explain"]);
    assert!(
        text.contains("loss[1]") && text.contains("lm_head"),
        "{text}"
    );
    let focused = graph(&["--explain", "--leaf", "lm_head[3,0]"]);
    assert!(focused.contains("lm_head[3,0]") && !focused.contains("lm_head[4,0]"));
    // A position's whole loss is more than a page holds: the page takes
    // the paths to one parameter.
    graph(&["--leaf", "lm_head[3,0]", "-o", "loss.html"]);
    let page = std::fs::read_to_string(d.join("loss.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("loss[1]") && page.contains("lm_head[3,0]"));
}

#[test]
fn losses_follow_the_pytorch_fixture_from_the_command_line() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/torch_losses.json")).unwrap(),
    )
    .unwrap();
    let want = fixture["runs"][1]["losses"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let got = backprop_in(dir.path())
        .args(["gpt", "--data", &format!("{FIXTURES}/small.txt"), "--init"])
        .arg(format!("{FIXTURES}/init_l2.json"))
        .args([
            "--no-shuffle",
            "--steps",
            "50",
            "--layers",
            "2",
            "--embd",
            "8",
            "--heads",
            "2",
            "--block-size",
            "8",
            "--json",
            "--no-plot",
        ])
        .stdout_json();
    for (k, (g, w)) in got["losses"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want)
        .enumerate()
    {
        let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
        assert!(((g - w) / w).abs() <= 1e-9, "step {k}: {g} vs {w}");
    }
}

#[test]
fn bad_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "empty.txt", "");
    write(d, "blank.txt", "\n  \n\t\n");
    write(d, "latin1.txt", b"emma\nava\nren\xe9e\n");
    for f in ["empty.txt", "blank.txt"] {
        fails(
            d,
            &["gpt", "--data", f, "--steps", "2"],
            2,
            "has no documents: it is empty or has only blank lines",
        );
    }
    fails(
        d,
        &["gpt", "--data", "latin1.txt", "--steps", "2"],
        2,
        "line 3 is not valid UTF-8",
    );
    fails(
        d,
        &["gpt", "--data", "missing.txt", "--steps", "2"],
        1,
        "cannot read the data file missing.txt",
    );
}

#[test]
fn outputs_that_are_inputs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    saved_model(d);
    let model = std::fs::read(d.join("m.safetensors")).unwrap();
    // Training data named like a model, saved over: the data would be lost.
    write(d, "names.safetensors", "abc\ncab\nbca\n");
    fails(
        d,
        &[
            "gpt",
            "--data",
            "names.safetensors",
            "--steps",
            "2",
            "--save",
            "names.safetensors",
        ],
        2,
        "--save",
    );
    assert_eq!(
        std::fs::read_to_string(d.join("names.safetensors")).unwrap(),
        "abc\ncab\nbca\n"
    );
    // Starting weights saved over, the plot over the model, a drawing over
    // its model.
    for args in [
        &[
            "gpt",
            "--data",
            "abc.txt",
            "--embd",
            "4",
            "--heads",
            "2",
            "--block-size",
            "4",
            "--init",
            "m.safetensors",
            "--save",
            "m.safetensors",
            "--steps",
            "1",
        ][..],
        &[
            "gpt", "--data", "abc.txt", "--steps", "1", "--save", "x.svg", "--plot", "x.svg",
        ][..],
        &[
            "gpt",
            "graph",
            "--model",
            "m.safetensors",
            "-o",
            "m.safetensors",
        ][..],
    ] {
        let out = backprop_in(d).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            std::fs::read(d.join("m.safetensors")).unwrap(),
            model,
            "{args:?}"
        );
    }
}

#[test]
fn bad_sizes_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fails(
        d,
        &["gpt", "--embd", "10", "--heads", "4"],
        2,
        "--embd 10 is not divisible by --heads 4",
    );
    for (flag, value) in [
        ("--embd", "0"),
        ("--layers", "0"),
        ("--heads", "0"),
        ("--block-size", "0"),
        ("--steps", "0"),
        ("--embd", "100000"),
        ("--layers", "65"),
        ("--block-size", "5000"),
        ("--steps", "18446744073709551616"),
        ("--steps", "10000001"),
    ] {
        fails(d, &["gpt", flag, value], 2, flag);
    }
    fails(
        d,
        &["gpt", "--embd", "1024", "--heads", "1", "--layers", "64"],
        2,
        "parameters; at most 16777216 are accepted",
    );
    // Sizes each accepted, together too much memory for one step
    // (1,024 heads × 1,024² attention weights): refused before training.
    fails(
        d,
        &[
            "gpt",
            "--embd",
            "1024",
            "--heads",
            "1024",
            "--block-size",
            "1024",
        ],
        2,
        "a training step over a whole block would need",
    );
    fails(
        d,
        &["gpt", "--embd", "16", "--heads", "17"],
        2,
        "--heads must be between 1 and 16 (at most --embd, 16), got 17",
    );
    for t in ["0", "-0.5", "nan", "inf"] {
        fails(d, &["gpt", "--temperature", t], 2, "--temperature");
    }
    fails(d, &["gpt", "--lr", "0"], 2, "--lr");
    fails(d, &["gpt", "--plot", "loss.gif"], 2, "use a .png or .svg");
    fails(d, &["gpt", "--save", "m.json"], 2, "use a .safetensors");
}

/// A small saved model and the data it was trained on.
fn saved_model(d: &Path) {
    write(d, "abc.txt", "abc\ncab\nbca\n");
    backprop_in(d)
        .args([
            "gpt",
            "--data",
            "abc.txt",
            "--steps",
            "3",
            "--embd",
            "4",
            "--heads",
            "2",
            "--block-size",
            "4",
            "--no-plot",
            "-q",
            "--samples",
            "0",
            "--save",
            "m.safetensors",
        ])
        .succeeds();
}

#[test]
fn bad_models_and_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    saved_model(d);
    let tiny = [
        "--embd",
        "4",
        "--heads",
        "2",
        "--block-size",
        "4",
        "--steps",
        "2",
        "--no-plot",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut v = vec!["gpt"];
        v.extend(extra);
        v.extend(tiny);
        v
    };
    // A vocabulary that is not the data's.
    write(d, "abd.txt", "abd\n");
    fails(
        d,
        &with(&["--data", "abd.txt", "--init", "m.safetensors"]),
        2,
        "the model's vocabulary \"abc\" does not match the data's \"abd\"",
    );
    // Sizes that are not the model's: the tensor and both shapes.
    fails(
        d,
        &[
            "gpt",
            "--data",
            "abc.txt",
            "--init",
            "m.safetensors",
            "--embd",
            "4",
            "--heads",
            "2",
            "--block-size",
            "5",
            "--no-plot",
        ],
        2,
        "tensor wpe has shape [4, 4], expected [5, 4]",
    );
    fails(
        d,
        &[
            "gpt",
            "--data",
            "abc.txt",
            "--init",
            "m.safetensors",
            "--embd",
            "4",
            "--heads",
            "2",
            "--block-size",
            "4",
            "--layers",
            "2",
            "--no-plot",
        ],
        2,
        "tensor layer1.attn_wq is missing (expected shape [4, 4])",
    );
    // JSON weights: missing, extra and misshapen tensors.
    let good = |skip: &str| -> serde_json::Map<String, serde_json::Value> {
        let shapes = [
            ("wte", 4, 4),
            ("wpe", 4, 4),
            ("lm_head", 4, 4),
            ("layer0.attn_wq", 4, 4),
            ("layer0.attn_wk", 4, 4),
            ("layer0.attn_wv", 4, 4),
            ("layer0.attn_wo", 4, 4),
            ("layer0.mlp_fc1", 16, 4),
            ("layer0.mlp_fc2", 4, 16),
        ];
        shapes
            .iter()
            .filter(|(n, _, _)| *n != skip)
            .map(|&(n, r, c)| (n.to_string(), serde_json::json!(vec![vec![0.01; c]; r])))
            .collect()
    };
    let ok = good("");
    write(d, "ok.json", serde_json::to_string(&ok).unwrap());
    backprop_in(d)
        .args(with(&["--data", "abc.txt", "--init", "ok.json"]))
        .succeeds();
    write(
        d,
        "missing.json",
        serde_json::to_string(&good("layer0.mlp_fc2")).unwrap(),
    );
    fails(
        d,
        &with(&["--data", "abc.txt", "--init", "missing.json"]),
        2,
        "tensor layer0.mlp_fc2 is missing (expected shape [4, 16])",
    );
    let mut extra = good("");
    extra.insert("layer0.attn_bias".into(), serde_json::json!([[0.0]]));
    write(d, "extra.json", serde_json::to_string(&extra).unwrap());
    fails(
        d,
        &with(&["--data", "abc.txt", "--init", "extra.json"]),
        2,
        "unexpected tensor layer0.attn_bias with shape [1, 1]",
    );
    let mut shape = good("");
    shape.insert("lm_head".into(), serde_json::json!(vec![vec![0.0; 4]; 3]));
    write(d, "shape.json", serde_json::to_string(&shape).unwrap());
    fails(
        d,
        &with(&["--data", "abc.txt", "--init", "shape.json"]),
        2,
        "tensor lm_head has shape [3, 4], expected [4, 4]",
    );
    write(d, "ragged.json", r#"{"wte": [[1, 2], [3]]}"#);
    fails(
        d,
        &with(&["--data", "abc.txt", "--init", "ragged.json"]),
        2,
        "tensor wte: row 1 has 1 values, row 0 has 2",
    );
    write(d, "junk.safetensors", "not a model");
    fails(
        d,
        &["gpt", "sample", "--model", "junk.safetensors"],
        2,
        "not a safetensors file",
    );
    fails(
        d,
        &["gpt", "sample", "--model", "nothere.safetensors"],
        1,
        "cannot read nothere.safetensors",
    );
    // Prompts and temperatures.
    fails(
        d,
        &[
            "gpt",
            "sample",
            "--model",
            "m.safetensors",
            "--prefix",
            "aXbY",
        ],
        2,
        "characters not in the vocabulary: 'X', 'Y'",
    );
    fails(
        d,
        &[
            "gpt",
            "sample",
            "--model",
            "m.safetensors",
            "--prefix",
            "abca",
        ],
        2,
        "the prefix has 4 characters, but the context holds 4 tokens",
    );
    fails(
        d,
        &[
            "gpt",
            "sample",
            "--model",
            "m.safetensors",
            "--temperature",
            "0",
        ],
        2,
        "--temperature",
    );
    fails(
        d,
        &["gpt", "sample", "--model", "m.safetensors", "--count", "0"],
        2,
        "--count",
    );
    fails(
        d,
        &[
            "gpt",
            "graph",
            "--model",
            "m.safetensors",
            "--text",
            "abc",
            "--pos",
            "4",
        ],
        2,
        "--pos 4",
    );
    fails(
        d,
        &["gpt", "graph", "--model", "m.safetensors", "--text", "az"],
        2,
        "characters not in the vocabulary: 'z'",
    );
    fails(
        d,
        &[
            "gpt",
            "graph",
            "--model",
            "m.safetensors",
            "--text",
            "abc",
            "--head",
            "2",
        ],
        2,
        "heads 0 to 1",
    );
}

/// A subnormal temperature makes logits / T overflow: the draw is then
/// greedy (the largest logit, as the smallest normal temperature already
/// gives), never NaN weights and empty samples; a huge temperature is
/// printed short.
#[test]
fn extreme_temperatures_sample_and_print_short() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "names.txt", "ab\ncd\n");
    let summary = backprop_in(d)
        .args(["gpt", "--data", "names.txt", "--steps", "3", "--no-plot"])
        .args(["--samples", "2", "--save", "g.safetensors"])
        .args(["--temperature", "1e300"])
        .stdout_text();
    assert!(
        summary.contains("samples (temperature 1e300):"),
        "{summary}"
    );
    let sample = |t: &str| {
        backprop_in(d)
            .args(["gpt", "sample", "--model", "g.safetensors", "--count", "3"])
            .args(["--temperature", t])
            .stdout_text()
    };
    let greedy = sample("1e-300");
    assert!(greedy.lines().all(|l| !l.is_empty()), "{greedy:?}");
    assert_eq!(greedy.lines().count(), 3);
    for t in ["1e-310", "5e-324", "2.2250738585072014e-308"] {
        assert_eq!(sample(t), greedy, "--temperature {t}");
    }
}
