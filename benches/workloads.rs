//! The three workloads of the side-by-side comparison (`bench/compare.py`),
//! printed as one JSON line for the script to read:
//!
//! - W1: micrograd's moons demo (MLP 2-16-16-1, hinge + L2, SGD, 100 steps):
//!   median time per step and final accuracy;
//! - W2: a graph of about 1,000,000 mixed scalar nodes: forward and backward
//!   nodes per second (medians, steady state) and bytes per node;
//! - W3: MLP 2-64-64-1 on 200 points, 10 steps: median time per step;
//! - W4: microgpt on the names (`backprop gpt`'s default run: 1000 steps,
//!   seed 42): median time per step, whole training time, and the mean loss
//!   of the last 100 steps.
//!
//! `cargo bench --bench workloads -- [--w1 CSV] [--w3 CSV] [--threads N]`
//! (without CSV files, the crate's own moons generator makes the points).

use std::time::Instant;

use backprop::Graph;
use backprop::data::{self, CsvOptions, Dataset};
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};

#[path = "common/w2.rs"]
mod w2;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Median seconds per step and the final training accuracy.
fn train(d: &Dataset, hidden: &[usize], steps: usize, threads: usize) -> (f64, f64) {
    let g = Graph::new();
    let mut sizes = hidden.to_vec();
    sizes.push(1);
    let model = Mlp::new(&g, 2, &sizes, &MlpConfig::default()).expect("valid sizes");
    let opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let config = TrainConfig {
        threads,
        ..Default::default()
    };
    let mut t = Trainer::new(g, model, Box::new(opt), config);
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let start = Instant::now();
        t.step(d).expect("training does not diverge");
        times.push(start.elapsed().as_secs_f64());
    }
    (median(times), t.accuracy(d))
}

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

/// W4: median seconds per step, seconds for all 1000 steps, mean loss of
/// the last 100.
fn w4() -> (f64, f64, f64) {
    use backprop::nn::gpt::{
        Gpt, GptConfig, GptTrainer, NAMES, Tokenizer, TrainOptions, documents,
    };
    let docs = documents(NAMES.as_bytes()).expect("the names");
    let tok = Tokenizer::from_documents(&docs);
    let g = Graph::new();
    let model = Gpt::new(&g, GptConfig::default(), 42).expect("valid sizes");
    let mut t = GptTrainer::new(g, model, &docs, &tok, TrainOptions::default());
    let (mut times, mut losses) = (Vec::new(), Vec::new());
    let start = Instant::now();
    for _ in 0..1000 {
        let t0 = Instant::now();
        losses.push(t.step());
        times.push(t0.elapsed().as_secs_f64());
    }
    let total = start.elapsed().as_secs_f64();
    (
        median(times),
        total,
        losses[900..].iter().sum::<f64>() / 100.0,
    )
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
    let (w1_step, w1_acc) = train(&d1, &[16, 16], 100, threads);
    let (w3_step, _) = train(&d3, &[64, 64], 10, threads);
    let (w2_fwd, w2_bwd, w2_bytes) = w2();
    let (w4_step, w4_total, w4_loss) = w4();
    println!(
        "{{\"threads\": {threads}, \"w1_step\": {w1_step:e}, \"w1_acc\": {w1_acc}, \"w2_fwd\": {w2_fwd:e}, \"w2_bwd\": {w2_bwd:e}, \"w2_bytes\": {w2_bytes}, \"w3_step\": {w3_step:e}, \"w4_step\": {w4_step:e}, \"w4_total\": {w4_total:e}, \"w4_loss\": {w4_loss}}}"
    );
}
