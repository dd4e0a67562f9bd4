//! Helpers shared by the command-line tests: the `backprop` command, the
//! programs of the notebook and of micrograd, files in a test's directory,
//! and the checks most tests make of a run (it succeeds and prints text or
//! JSON; it fails with an exit code and a message and leaves its
//! directory as it was).

pub mod cdp;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// The notebook's neuron, o = tanh(x1*w1 + x2*w2 + b), on one line. The
/// notebook's numbers: o = 0.7071, x1.grad = -1.5, w1.grad = 1,
/// x2.grad = 0.5, w2.grad = 0, b.grad = 0.5.
pub const NEURON: &str =
    "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432; n = x1*w1 + x2*w2 + b; o = tanh(n)";

/// micrograd's README example; its published results are g = 24.7041,
/// a.grad = 138.8338 and b.grad = 645.5773.
pub const MICROGRAD: &str = "a = -4.0
b = 2.0
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + relu(b + a)
d += 3 * d + relu(b - a)
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
";

/// The path of the `backprop` binary under test, for the runs that need a
/// plain `std::process::Command` (a child to signal, a device as stdout, a
/// pseudo-terminal).
pub fn backprop_exe() -> PathBuf {
    assert_cmd::cargo::cargo_bin("backprop")
}

/// The `backprop` binary under test.
pub fn backprop() -> Command {
    Command::new(backprop_exe())
}

/// `backprop` run in `dir`, stopped (and failed) after 120 s, so a hang
/// is a failing test and not a stuck run.
pub fn backprop_in(dir: &Path) -> Command {
    let mut cmd = backprop();
    cmd.current_dir(dir).timeout(Duration::from_secs(120));
    cmd
}

/// What the tests check of a finished `backprop` run.
pub trait Run {
    /// Runs the command and checks that it exits with 0 (the failure shows
    /// its stdout and stderr); returns its output.
    fn succeeds(&mut self) -> Output;

    /// Runs the command, checks that it exits with 0, and returns its
    /// stdout, which must be UTF-8.
    fn stdout_text(&mut self) -> String {
        String::from_utf8(self.succeeds().stdout).unwrap()
    }

    /// Runs the command, checks that it exits with 0, and returns its
    /// stdout parsed as JSON.
    fn stdout_json(&mut self) -> Value {
        serde_json::from_slice(&self.succeeds().stdout).unwrap()
    }

    /// Runs the command and checks that it exits with `code`; returns its
    /// stderr, which must be UTF-8.
    fn stderr_with_code(&mut self, code: i32) -> String;
}

impl Run for Command {
    fn succeeds(&mut self) -> Output {
        self.assert().success().get_output().clone()
    }

    fn stderr_with_code(&mut self, code: i32) -> String {
        let out = self.assert().code(code).get_output().stderr.clone();
        String::from_utf8(out).unwrap()
    }
}

/// `backprop args...`, which must succeed: its stdout.
pub fn text(args: &[&str]) -> String {
    backprop().args(args).stdout_text()
}

/// `backprop args...`, which must succeed: its stdout as JSON.
pub fn json(args: &[&str]) -> Value {
    backprop().args(args).stdout_json()
}

/// The names in `dir`, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Writes `contents` to the file `name` in `dir`.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), contents).unwrap();
}

/// A regular file's bytes; nothing for links, devices and directories
/// (reading a link to /dev/full would never end).
fn contents(path: &Path) -> Vec<u8> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => std::fs::read(path).unwrap(),
        _ => Vec::new(),
    }
}

/// Every name in `dir` with its regular file's bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files(dir)
        .into_iter()
        .map(|n| {
            let bytes = contents(&dir.join(&n));
            (n, bytes)
        })
        .collect()
}

/// Runs `backprop args...` in `dir`, which must fail: exit `code`,
/// `message` on stderr, no panic, and no file made, removed or changed in
/// `dir`. Returns stderr.
pub fn fails(dir: &Path, args: &[&str], code: i32, message: &str) -> String {
    let before = snapshot(dir);
    let out = backprop_in(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(message), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(
        snapshot(dir) == before,
        "{args:?} changed the files in its directory"
    );
    stderr
}

/// Trains the default network for 5 steps and saves it as `model.json`
/// in `dir`.
pub fn save_small_model(dir: &Path) {
    backprop_in(dir)
        .args(["train", "--quiet", "--no-plot", "--steps", "5"])
        .args(["--save", "model.json"])
        .assert()
        .success();
}
