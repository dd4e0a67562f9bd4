//! One thread against at most two, and the default (`threads: 0`, at most
//! one per core by the work per step); wherever several threads are
//! allowed, the trainer times one against several and keeps the faster
//! (the table says which it used), for training steps of several sizes: micrograd's demo
//! (W1), W3 and larger batches. Prints a table of median times per step,
//! measured in interleaved rounds so that all thread counts see the same
//! machine load.
//!
//! `cargo bench --bench threads [-- --rounds N]`

use std::time::Instant;

use backprop::Graph;
use backprop::data;
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn trainer(hidden: &[usize], batch: Option<usize>, threads: usize) -> Trainer {
    let g = Graph::new();
    let mut sizes = hidden.to_vec();
    sizes.push(1);
    let model = Mlp::new(&g, 2, &sizes, &MlpConfig::default()).expect("valid sizes");
    let opt = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    let config = TrainConfig {
        // Effectively endless, so that the schedule never runs out.
        steps: usize::MAX,
        batch_size: batch,
        threads,
        ..Default::default()
    };
    Trainer::new(g, model, Box::new(opt), config)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map_or(15, |r| r.parse().expect("--rounds takes a number"));
    let cases: [(&str, usize, &[usize], Option<usize>); 6] = [
        ("W1: moons 100, 2-16-16-1", 100, &[16, 16], None),
        ("moons 1000, batch 32, 2-16-16-1", 1000, &[16, 16], Some(32)),
        ("W3: moons 200, 2-64-64-1", 200, &[64, 64], None),
        ("moons 400, 2-16-16-1", 400, &[16, 16], None),
        ("moons 1000, 2-16-16-1", 1000, &[16, 16], None),
        ("moons 1000, 2-64-64-1", 1000, &[64, 64], None),
    ];
    println!(
        "| workload | batch x params | 1 thread | at most 2 (used) | default (used) | 2 / 1 | default / 1 |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (name, n, hidden, batch) in cases {
        let d = data::moons(n, 0.1, 1337);
        let mut ts = [
            trainer(hidden, batch, 1),
            trainer(hidden, batch, 2),
            trainer(hidden, batch, 0),
        ];
        let mut times = [Vec::new(), Vec::new(), Vec::new()];
        // Warm up: buffers grow, threads start.
        for t in &mut ts {
            for _ in 0..3 {
                t.step(&d).expect("no divergence");
            }
        }
        let per_round = 10;
        for _ in 0..rounds {
            for (t, times) in ts.iter_mut().zip(&mut times) {
                for _ in 0..per_round {
                    let start = Instant::now();
                    t.step(&d).expect("no divergence");
                    times.push(start.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
        let [one, two, auto] = times.map(median);
        let work = batch.unwrap_or(n) * ts[0].model().parameters().len();
        println!(
            "| {name} | {work} | {one:.3} ms | {two:.3} ms ({}) | {auto:.3} ms ({}) | {:.2} | {:.2} |",
            ts[1].threads_used(),
            ts[2].threads_used(),
            two / one,
            auto / one
        );
    }
}
