//! The three workloads of the side-by-side comparison (`bench/compare.py`),
//! printed as one JSON line for the script to read:
//!
//! - W1: micrograd's moons demo (MLP 2-16-16-1, hinge + L2, SGD, 100 steps):
//!   median time per step and final accuracy;
//! - W2: a graph of about 1,000,000 mixed scalar nodes: forward and backward
//!   nodes per second (medians, steady state) and bytes per node;
//! - W3: MLP 2-64-64-1 on 200 points, 100 steps: median time per step
//!   (enough steps that a trainer allowed two threads has timed one against
//!   two and settled on the faster: see `TrainConfig::threads`);
//! - W4: microgpt on the names (`backprop gpt`'s default run: 1000 steps,
//!   seed 42): median time per step, whole training time, and the mean loss
//!   of the last 100 steps.
//!
//! `cargo bench --bench workloads -- [--w1 CSV] [--w3 CSV] [--threads N]`
//! (without CSV files, the crate's own moons generator makes the points).

use std::time::Instant;

use backprop::Graph;
use backprop::data::{self, CsvOptions, Dataset};

#[path = "common/steps.rs"]
mod steps;
#[path = "common/w2.rs"]
mod w2;

use steps::{median, train, w4};

/// Forward and backward nodes per second (medians of 7 steady-state runs)
/// and bytes per node.
fn w2() -> (f64, f64, f64) {
    let mut g = Graph::new();
    let ids = w2::leaves(&g);
    let mark = g.mark();
    let (mut fwd, mut bwd) = (Vec::new(), Vec::new());
    let mut nodes = 0;
    for run in 0..8 {
        {
            let t0 = Instant::now();
            let root = w2::build(&g, &ids);
            let t1 = Instant::now();
            root.backward();
            let t2 = Instant::now();
            nodes = g.len();
            if run > 0 {
                fwd.push(nodes as f64 / (t1 - t0).as_secs_f64());
                bwd.push(nodes as f64 / (t2 - t1).as_secs_f64());
            }
        }
        if run < 7 {
            g.truncate(mark);
        }
    }
    (
        median(fwd),
        median(bwd),
        g.memory_bytes() as f64 / nodes as f64,
    )
}

fn load(path: Option<&String>, n: usize, seed: u64) -> Dataset {
    match path {
        Some(p) => data::read_csv(p, &CsvOptions::default()).unwrap_or_else(|e| {
            eprintln!("error: {p}: {e}");
            std::process::exit(2)
        }),
        None => data::moons(n, 0.1, seed),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let threads = opt("--threads").map_or(1, |t| t.parse().expect("--threads takes a number"));
    let d1 = load(opt("--w1"), 100, 1337);
    let d3 = load(opt("--w3"), 200, 1338);
    let (w1_step, w1_acc, w1_threads) = train(&d1, &[16, 16], 100, threads);
    let (w3_step, _, w3_threads) = train(&d3, &[64, 64], 100, threads);
    let (w2_fwd, w2_bwd, w2_bytes) = w2();
    let (w4_step, w4_total, w4_loss) = w4();
    println!(
        "{{\"threads\": {threads}, \"w1_step\": {w1_step:e}, \"w1_acc\": {w1_acc}, \"w1_threads\": {w1_threads}, \"w3_threads\": {w3_threads}, \"w2_fwd\": {w2_fwd:e}, \"w2_bwd\": {w2_bwd:e}, \"w2_bytes\": {w2_bytes}, \"w3_step\": {w3_step:e}, \"w4_step\": {w4_step:e}, \"w4_total\": {w4_total:e}, \"w4_loss\": {w4_loss}}}"
    );
}
