//! Timings of `backprop explain` and of the interactive page, end to end
//! through the release binary (medians of several runs):
//!
//! - `explain --json` on a program of about 10,000 nodes (target < 1 s);
//! - `draw -o graph.html` for about 1,000 nodes (target < 2 s; the layout
//!   happens later, in the browser);
//! - opening the page of about 200 nodes in headless Chromium until it is
//!   interactive (laid out, controls live; target < 3 s), when Chromium
//!   is installed.
//!
//! `cargo bench --bench explain`

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/cli/common/cdp.rs"]
mod cdp;

const BIN: &str = env!("CARGO_BIN_EXE_backprop");

/// A chain of `units` tanh units sharing one weight (fan-out): five nodes
/// per unit.
fn chain(units: usize) -> String {
    let mut p = String::from("x = 0.5\nw = 0.3\ny = x\n");
    for _ in 0..units {
        p.push_str("y = tanh(y * w + 0.1)\n");
    }
    p
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time_command(args: &[&str], runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(BIN).args(args).output().unwrap();
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    median(times)
}

fn nodes(program: &Path) -> usize {
    let out = Command::new(BIN)
        .args(["explain", "--json", "-f", program.to_str().unwrap()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["nodes"].as_array().unwrap().len()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("10k.txt");
    std::fs::write(&big, chain(2500)).unwrap();
    let t = time_command(&["explain", "--json", "-f", big.to_str().unwrap()], 7);
    println!(
        "explain --json, {} nodes: {:.3} s (median of 7)",
        nodes(&big),
        t.as_secs_f64()
    );

    let mid = dir.path().join("1k.txt");
    std::fs::write(&mid, chain(249)).unwrap();
    let html = dir.path().join("1k.html");
    let t = time_command(
        &[
            "draw",
            "-f",
            mid.to_str().unwrap(),
            "-o",
            html.to_str().unwrap(),
        ],
        7,
    );
    println!(
        "draw -o graph.html, {} nodes: {:.3} s (median of 7), {} bytes",
        nodes(&mid),
        t.as_secs_f64(),
        std::fs::metadata(&html).unwrap().len()
    );

    let small = dir.path().join("200.txt");
    std::fs::write(&small, chain(50)).unwrap();
    let page = dir.path().join("200.html");
    time_command(
        &[
            "draw",
            "-f",
            small.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ],
        1,
    );
    let Some(exe) = cdp::chromium() else {
        println!("page open in Chromium: skipped (no chromium installed)");
        return;
    };
    let mut b = cdp::Browser::launch(&exe);
    let mut wall = Vec::new();
    let mut inside = Vec::new();
    for _ in 0..5 {
        b.call("Page.navigate", serde_json::json!({"url": "about:blank"}));
        let start = Instant::now();
        b.open(&page);
        wall.push(start.elapsed());
        inside.push(b.eval("window.backpropPage.readyMs").as_f64().unwrap());
    }
    inside.sort_by(f64::total_cmp);
    println!(
        "open the {}-node page until interactive: {:.3} s wall clock (median of 5; the page's own \
         performance.now() at ready: {:.0} ms), {} bytes",
        nodes(&small),
        median(wall).as_secs_f64(),
        inside[inside.len() / 2],
        std::fs::metadata(&page).unwrap().len()
    );
}
