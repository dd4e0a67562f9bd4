//! # 12: Saving a model and predicting with it
//!
//! A trained network is saved as JSON (format version, architecture,
//! activations, weights, the loss that decides how scores become classes),
//! written atomically. Loading validates every shape, and prediction runs
//! in plain `f64`, bit for bit what the graph computed.
//!
//! Run with `cargo run --release --example 12-save-and-predict`.

use backprop::nn::{Loss, Mlp, MlpConfig, SavedModel, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};
use backprop::{Graph, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let d = data::moons(100, 0.1, 1337);
    let g = Graph::new();
    let model = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default())?;
    let sgd = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let mut trainer = Trainer::new(g, model, Box::new(sgd), TrainConfig::default());
    trainer.fit(&d, |_| {})?;

    let path = std::env::temp_dir().join("backprop-moons-model.json");
    SavedModel::from_mlp(trainer.graph(), trainer.model(), Loss::Hinge, 2, None).save(&path)?;
    let loaded = SavedModel::load(&path)?;
    for x in [[2.0, 0.2], [-0.5, 0.8], [0.5, 0.25]] {
        let p = loaded.predict(&x)?;
        println!("{x:?}: class {} (score {:+.4})", p.class, p.scores[0]);
    }
    let e = loaded.evaluate(&d)?;
    println!("loss {:.6}, accuracy {:.0}%", e.loss, e.accuracy * 100.0);
    Ok(())
}
