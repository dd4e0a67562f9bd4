//! # 11: Three spirals with softmax cross-entropy and Adam
//!
//! Several classes need one output per class and the softmax
//! cross-entropy loss (computed with a stable log-sum-exp); Adam copes with
//! the very different gradient scales of the layers.
//!
//! Run with `cargo run --release --example 11-spiral-adam`.

use backprop::nn::{Init, Loss, Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Adam, AdamConfig, LrSchedule};
use backprop::{Graph, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let d = data::spiral(300, 3, 0.1, 7);
    let g = Graph::new();
    let config = MlpConfig {
        init: Init::KaimingUniform,
        seed: 7,
        ..Default::default()
    };
    let model = Mlp::new(&g, 2, &[24, 24, 3], &config)?;
    println!("{model}");
    let adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    let train = TrainConfig {
        steps: 400,
        loss: Loss::CrossEntropy,
        alpha: 0.0,
        schedule: LrSchedule::Constant,
        ..Default::default()
    };
    let mut trainer = Trainer::new(g, model, Box::new(adam), train);
    trainer.fit(&d, |s| {
        if s.step % 50 == 0 {
            println!(
                "step {} loss {:.4}, accuracy {:.1}%",
                s.step,
                s.loss,
                s.accuracy * 100.0
            );
        }
    })?;
    println!("final accuracy {:.1}%", trainer.accuracy(&d) * 100.0);
    Ok(())
}
