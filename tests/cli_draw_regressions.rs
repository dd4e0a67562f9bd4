//! `backprop draw`: regressions from the QA report (layouts that must not
//! hang, usage errors, Graphviz failures that say what to do).

use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn backprop() -> Command {
    Command::cargo_bin("backprop").unwrap()
}

/// The report's program: `y{i}` uses `y{i-1}` to `y{i-3}` and `x`, so the
/// number of paths through the graph grows exponentially.
fn dense(n: usize) -> String {
    let mut s = String::from("x = 1\ny0 = x\n");
    for i in 1..n {
        let terms: Vec<String> = (i.saturating_sub(3)..i).map(|j| format!("y{j}")).collect();
        s.push_str(&format!("y{i} = y{}*x + {}\n", i - 1, terms.join(" + ")));
    }
    s
}

#[test]
fn the_builtin_layout_refuses_a_tangled_graph_at_once() {
    // 187 drawn nodes, under the node limit: this used to run for minutes.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("d.svg");
    let start = Instant::now();
    backprop()
        .args(["draw", "-", "-o", svg.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .write_stdin(dense(25))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("built-in layout"))
        .stderr(predicate::str::contains("apt-get install graphviz"))
        .stderr(predicate::str::contains(".dot"));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(!svg.exists());
    // Nor does it leave a temporary file behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_layout_gives_up_at_the_timeout() {
    // About 100 drawn nodes and 1e9 path steps: well under a second in a
    // release build, far more than a millisecond.
    let start = Instant::now();
    backprop()
        .args(["draw", "-", "--format", "svg", "--layout", "builtin"])
        .args(["--timeout", "0.001"])
        .write_stdin(dense(14))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the built-in layout did not finish drawing the graph within 0.001 s",
        ));
    assert!(start.elapsed() < Duration::from_secs(10));
    for bad in ["0", "-1", "nan", "abc"] {
        backprop()
            .args(["draw", "x = 1; y = x", "--timeout", bad])
            .assert()
            .code(2);
    }
}

#[test]
fn png_with_the_builtin_layout_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    backprop()
        .args(["draw", "x = 1; y = x*2", "--layout", "builtin"])
        .args(["-o", png.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only draws SVG"));
    backprop()
        .args([
            "draw",
            "x = 1; y = x*2",
            "--layout",
            "builtin",
            "--format",
            "png",
        ])
        .assert()
        .code(2);
    assert!(!png.exists());
}

#[test]
fn invalid_utf8_is_a_usage_error() {
    backprop()
        .args(["draw", "-"])
        .write_stdin(&b"x = 1\ny = x\xfe"[..])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>:2:6:"))
        .stderr(predicate::str::contains("not UTF-8"));
}

#[test]
fn graphviz_missing_suggests_the_builtin_layout_for_svg() {
    backprop()
        .args([
            "draw",
            "x = 1; y = x*2",
            "--layout",
            "graphviz",
            "--format",
            "svg",
        ])
        .env("PATH", "/nonexistent")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--layout builtin"))
        .stderr(predicate::str::contains("write .svg").not());
    let dir = tempfile::tempdir().unwrap();
    backprop()
        .args(["draw", "x = 1; y = x*2", "--format", "png", "-o"])
        .arg(dir.path().join("graph.png"))
        .env("PATH", "/nonexistent")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("write .svg"));
}

#[test]
fn too_large_with_the_builtin_layout_points_to_an_installed_graphviz() {
    let mut src = String::from("x = 1; w = 0.5\ny = x\n");
    for _ in 0..100 {
        src.push_str("y = tanh(y * w + 0.1)\n");
    }
    let assert = backprop()
        .args(["draw", "-", "--layout", "builtin", "--format", "svg"])
        .write_stdin(src)
        .assert()
        .code(1);
    if backprop::viz::graphviz_available() {
        assert.stderr(predicate::str::contains(
            "Graphviz is installed: use --layout auto",
        ));
    } else {
        assert.stderr(predicate::str::contains("Graphviz is installed").not());
    }
}

#[test]
fn graphviz_refuses_huge_graphs_at_once() {
    let mut src = String::from("x0 = 1\n");
    for i in 1..5000 {
        src.push_str(&format!("x{i} = x{} + 1\n", i - 1));
    }
    let start = Instant::now();
    backprop()
        .args(["draw", "-", "--layout", "graphviz", "--format", "svg"])
        .write_stdin(src)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("more than Graphviz draws"))
        .stderr(predicate::str::contains(".dot"));
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// A `dot` that crashes without a word, as Graphviz does on huge graphs.
#[test]
#[cfg(unix)]
fn a_crashing_graphviz_is_reported_with_what_to_do() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let dot = dir.path().join("dot");
    std::fs::write(&dot, "#!/bin/sh\nkill -SEGV $$\n").unwrap();
    std::fs::set_permissions(&dot, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = backprop()
        .args([
            "draw",
            "x = 1; y = x*2",
            "--layout",
            "graphviz",
            "--format",
            "svg",
        ])
        .env("PATH", dir.path())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("graphviz `dot -Tsvg` failed ("), "{err}");
    assert!(
        !err.contains("): \n") && !err.trim_end().ends_with(':'),
        "{err}"
    );
    assert!(err.contains(".dot"), "{err}");
}
