//! `backprop grad`: regressions from the QA report (broken pipes, option
//! validation, input errors with positions, big programs).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::common::{Run, backprop, backprop_exe};
use predicates::prelude::*;

/// A chain `x{i} = x{i-1} + 1` of `n` statements: a table of `n` rows.
fn chain(n: usize) -> String {
    let mut s = String::from("x0 = 1\n");
    for i in 1..n {
        s.push_str(&format!("x{i} = x{} + 1\n", i - 1));
    }
    s
}

/// Runs `backprop args...` on a program file, reads one line of its
/// stdout, closes the pipe and returns the exit status and stderr.
#[cfg(unix)]
fn close_after_one_line(args: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.txt");
    std::fs::write(&file, chain(20_000)).unwrap();
    let mut child = std::process::Command::new(backprop_exe())
        .args(args)
        .arg("-f")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    // The reader is dropped here: the pipe is closed with most of the
    // output (far more than a pipe buffer) still to come.
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[cfg(unix)]
fn a_closed_stdout_ends_quietly() {
    for args in [&["grad"][..], &["grad", "--json"], &["draw"]] {
        let (status, stderr) = close_after_one_line(args);
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn check_tolerances_are_validated() {
    let p = "x = 2; y = x**2";
    for (opt, value, why) in [
        ("--eps", "0", "greater than 0"),
        ("--eps", "-1e-6", "greater than 0"),
        ("--eps", "nan", "finite"),
        ("--eps", "1e999", "out of range"),
        ("--atol", "-1", "0 or more"),
        ("--rtol", "nan", "finite"),
        ("--rtol", "abc", "not a number"),
    ] {
        backprop()
            .args(["grad", p, "--check", opt, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(why))
            .stderr(predicate::str::contains(opt));
    }
    // Zero tolerances are allowed (an exact check).
    backprop()
        .args(["grad", p, "--check", "--atol", "0", "--rtol", "0.5"])
        .assert()
        .success()
        .stdout(predicate::str::contains("passed"));
}

#[test]
fn check_tolerances_need_check() {
    for opt in ["--eps", "--atol", "--rtol"] {
        backprop()
            .args(["grad", "x = 2; y = x**2", opt, "0.1"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--check"));
    }
}

#[test]
fn an_input_set_twice_is_a_usage_error() {
    backprop()
        .args(["grad", "x = 1; y = x*2", "--at", "x=1", "--at", "x=2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`x` is set twice"));
}

#[test]
fn overflowing_numbers_are_errors_with_their_position() {
    backprop()
        .args(["grad", "x = 2\ny = x * 1e999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "<program>:2:9: number `1e999` is out of range",
        ))
        .stderr(predicate::str::contains(
            "2 | y = x * 1e999\n  |         ^^^^^",
        ));
    backprop()
        .args(["grad", "x = 2; y = x", "--at", "x=-1e400"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("out of range"));
    // Spelled-out infinity is still fine.
    backprop()
        .args(["grad", "x = 2; y = x", "--at", "x=-inf", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""value":"-inf""#));
}

#[test]
fn invalid_utf8_is_a_usage_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.txt");
    // Line 2, column 5, byte 10 (0-based) is 0xff.
    std::fs::write(&file, b"x = 1\ny = \xff x").unwrap();
    backprop()
        .args(["grad", "-f", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.txt:2:5:"))
        .stderr(predicate::str::contains("not UTF-8"))
        .stderr(predicate::str::contains("byte 10 (0xff)"));
    backprop()
        .args(["grad", "-"])
        .write_stdin(&b"x = 1\r\xc3"[..])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>:2:1:"));
}

#[test]
fn control_characters_are_escaped_and_long_lines_cut() {
    let err = backprop()
        .args(["grad", "-"])
        .write_stdin("x = 1\0; y = x")
        .stderr_with_code(2);
    assert!(!err.contains('\0'), "{err:?}");
    assert!(err.contains(r"unexpected character `\u{0}`"), "{err}");
    assert!(
        err.contains("1 | x = 1\\u{0}; y = x\n  |      ^^^^^"),
        "{err}"
    );

    // 200,000 characters on one line, the error at the end.
    let src = format!("x = 1; y = {}x @ 2", "x + ".repeat(50_000));
    let err = backprop()
        .args(["grad", "-"])
        .write_stdin(src)
        .stderr_with_code(2);
    assert!(err.len() < 500, "{} bytes of stderr", err.len());
    assert!(err.contains(":1:200014: unexpected character `@`"), "{err}");
    // The caret is under the `@` of the cut line.
    let lines: Vec<&str> = err.lines().collect();
    let text = lines.iter().find(|l| l.starts_with("1 | ")).unwrap();
    let caret = lines.last().unwrap();
    let text_col = text.chars().position(|c| c == '@').unwrap();
    let caret_col = caret.chars().position(|c| c == '^').unwrap();
    assert_eq!(text_col, caret_col, "{err}");
}

#[test]
fn hints_for_function_and_call_mistakes() {
    backprop()
        .args(["grad", "x = 2; y = tanh x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1:12: `tanh` is a function"))
        .stderr(predicate::str::contains("tanh(x)"));
    backprop()
        .args(["grad", "x = 2; y = x(2)"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "1:12: `x` is a value, not a function",
        ));
}

#[test]
fn an_alias_of_an_input_is_not_marked_as_an_input() {
    let table = backprop()
        .args(["grad", "a = 1; b = a; y = b*2"])
        .stdout_text();
    let role = |name: &str| {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap();
        row.split_whitespace().nth(3).unwrap_or("").to_string()
    };
    assert_eq!(role("a"), "input", "{table}");
    assert_eq!(role("b"), "", "{table}");
    backprop()
        .args(["grad", "a = 1; b = a; y = b*2", "--at", "b=3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`b` is not an input: it is another name for the input `a`",
        ));
}

#[test]
fn cr_only_line_endings_end_statements() {
    // y = x*3 at x = 2: 6, dy/dx = 3.
    let v = backprop()
        .args(["grad", "-", "--json"])
        .write_stdin("x = 2\ry = x*3\r")
        .stdout_json();
    assert_eq!(v["output"], "y");
    assert_eq!(v["value"], 6.0);
    assert_eq!(v["grads"]["x"], 3.0);
    backprop()
        .args(["grad", "-"])
        .write_stdin("x = 2\ry = z\r")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>:2:5: unknown name `z`"))
        .stderr(predicate::str::contains("2 | y = z\n"));
}

#[test]
fn the_table_of_many_inputs_is_not_quadratic() {
    // 100,000 inputs: each row used to scan every input (5e9 steps).
    let n = 100_000;
    let mut src = String::new();
    for i in 0..n {
        src.push_str(&format!("a{i} = 1\n"));
    }
    let sum: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    src.push_str(&format!("y = {}\n", sum.join(" + ")));
    let table = backprop()
        .args(["grad", "-"])
        .write_stdin(src)
        .timeout(Duration::from_secs(20))
        .stdout_text();
    assert_eq!(table.lines().count(), n + 2);
    assert_eq!(table.lines().filter(|l| l.ends_with("input")).count(), n);
}

/// Numbers far from 1 print in exponent notation, exactly: `1e-200`, not
/// two hundred zeros. Checked by the closed form d(x²)/dx = 2x, in the
/// table and in the gradient check's.
#[test]
fn extreme_numbers_print_short_and_exact() {
    let out = backprop()
        .args(["grad", "--check", "x = 1e-200; y = x*x"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().all(|l| l.len() < 120), "{text}");
    let row = |first: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(first))
            .unwrap_or_else(|| panic!("no row {first}: {text}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let x = row("x");
    assert_eq!(x[1].parse::<f64>().unwrap(), 1e-200);
    assert_eq!(x[2].parse::<f64>().unwrap(), 2.0 * 1e-200);
    // The gradient check's row: name, analytic, numeric, ...
    let checked: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("x "))
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(checked[1].parse::<f64>().unwrap(), 2.0 * 1e-200);
}

/// `--check`'s analytic gradient is the table's gradient, sign of zero
/// included: at x = -0.0, d(x*x)/dx is -0.0 (PyTorch:
/// `x = torch.tensor(-0.0, dtype=torch.float64, requires_grad=True);
/// (x*x).backward()` leaves `x.grad` = -0.). It was printed as 0.
#[test]
fn check_analytic_keeps_the_sign_of_a_zero_gradient() {
    let args = ["grad", "--check", "--at", "x=-0.0", "x = 1; y = x*x"];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let v = backprop().args(&json_args).stdout_json();
    let grad = v["grads"]["x"].as_f64().unwrap();
    let analytic = v["check"]["inputs"][0]["analytic"].as_f64().unwrap();
    assert!(grad == 0.0 && grad.is_sign_negative(), "{v}");
    assert!(analytic == 0.0 && analytic.is_sign_negative(), "{v}");
    let text = backprop().args(args).stdout_text();
    let row = text
        .lines()
        .find(|l| l.ends_with(" ok") || l.ends_with(" FAIL"))
        .unwrap();
    assert_eq!(row.split_whitespace().nth(1), Some("-0"), "{text}");
}

/// An --eps too small to move an input (1 + 1e-300 == 1 in f64) makes
/// the central difference 0 and fails the check: the report says why
/// instead of leaving a learner with a bare FAIL.
#[test]
fn check_with_an_eps_below_an_inputs_precision_says_so() {
    let out = backprop()
        .args(["grad", "--check", "--eps", "1e-300", "x = 1; y = x*x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("note: x + eps or x - eps rounds to x itself (1)"),
        "{text}"
    );
    // A step that moves the input prints no such note.
    let text = backprop()
        .args(["grad", "--check", "x = 1; y = x*x"])
        .stdout_text();
    assert!(!text.contains("round to"), "{text}");
}
