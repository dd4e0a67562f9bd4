//! The timed training runs of W1, W3 and W4, shared by the `workloads`
//! and `roofline` benches.

use std::time::Instant;

use backprop::Graph;
use backprop::data::Dataset;
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// W1 and W3: median seconds per step of an MLP `2-hidden-1` (micrograd's
/// defaults: hinge + L2, SGD at lr 1 with its schedule), the final
/// training accuracy, and the threads the last step used.
pub fn train(d: &Dataset, hidden: &[usize], steps: usize, threads: usize) -> (f64, f64, usize) {
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
    (median(times), t.accuracy(d), t.threads_used())
}

/// W4 (`backprop gpt`'s default run, 1000 steps): median seconds per step,
/// seconds for all steps, mean loss of the last 100.
pub fn w4() -> (f64, f64, f64) {
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
