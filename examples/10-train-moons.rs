//! # 10: Training an MLP on two moons (micrograd's demo)
//!
//! The whole of micrograd's `demo.ipynb` with the library: 100 moons with
//! noise 0.1, an MLP 2-16-16-1 (ReLU, linear output), the SVM max-margin
//! loss plus `1e-4 Σ p²`, full-batch SGD with the learning rate
//! `1 - 0.9 k / 100`, and a plot of the decision boundary.
//!
//! Run with `cargo run --release --example 10-train-moons`.

use backprop::nn::{Mlp, MlpConfig, Module, SavedModel, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};
use backprop::plot::{TrainingPlot, save_training_plot};
use backprop::{Graph, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let d = data::moons(100, 0.1, 1337);

    // Parameters first, as leaves; the trainer marks the graph after them
    // and truncates back to the mark after every step.
    let g = Graph::new();
    let model = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default())?;
    println!("{model}");
    assert_eq!(model.num_parameters(), 337);

    let sgd = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let mut trainer = Trainer::new(g, model, Box::new(sgd), TrainConfig::default());
    let history = trainer.fit(&d, |s| {
        if s.step % 10 == 0 {
            println!(
                "step {} loss {:.6}, accuracy {:.0}%",
                s.step,
                s.loss,
                s.accuracy * 100.0
            );
        }
    })?;
    println!("final accuracy {:.0}%", trainer.accuracy(&d) * 100.0);

    // A graph-free snapshot of the weights classifies the plane for the plot.
    let saved = SavedModel::from_mlp(
        trainer.graph(),
        trainer.model(),
        trainer.config().loss,
        2,
        None,
    );
    let classify = |x: &[f64]| saved.predict(x).map_or(0, |p| p.class);
    let loss: Vec<f64> = history.iter().map(|s| s.loss).collect();
    let accuracy: Vec<f64> = history.iter().map(|s| s.accuracy).collect();
    let plot = TrainingPlot {
        title: "two moons".into(),
        data: &d,
        classify: Some(&classify),
        loss: &loss,
        accuracy: &accuracy,
    };
    save_training_plot("moons.png", &plot)?;
    println!("wrote moons.png");
    Ok(())
}
