//! One training step of `backprop train`'s default run (micrograd's demo):
//! 100 moons, MLP 2-16-16-1, hinge loss + L2, forward, backward and the SGD
//! update, with the graph truncated back to the parameters; on one thread
//! and on two.

use backprop::Graph;
use backprop::data;
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};
use criterion::{Criterion, criterion_group, criterion_main};

fn train_step(c: &mut Criterion) {
    let d = data::moons(100, 0.1, 1337);
    for threads in [1, 2] {
        let g = Graph::new();
        let model = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
        let opt = Sgd::new(SgdConfig {
            lr: 1.0,
            ..Default::default()
        });
        // Effectively endless, so that the schedule never runs out.
        let config = TrainConfig {
            steps: usize::MAX,
            threads,
            ..Default::default()
        };
        let mut t = Trainer::new(g, model, Box::new(opt), config);
        let name = format!(
            "train_step (moons 100, 2-16-16-1, {threads} thread{})",
            if threads > 1 { "s" } else { "" }
        );
        c.bench_function(&name, |b| b.iter(|| t.step(&d).unwrap().loss));
    }
}

criterion_group!(benches, train_step);
criterion_main!(benches);
