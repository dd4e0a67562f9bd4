//! Helpers shared by the model and training tests.

use backprop::Graph;
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};

/// A trainer, in a graph of its own, for an MLP with layer sizes `sizes`
/// on `inputs` features (the default initialisation), stepped by plain
/// SGD (no momentum, no weight decay) at `lr`.
pub fn sgd_trainer(inputs: usize, sizes: &[usize], lr: f64, config: TrainConfig) -> Trainer {
    let g = Graph::new();
    let model = Mlp::new(&g, inputs, sizes, &MlpConfig::default()).unwrap();
    let opt = Sgd::new(SgdConfig {
        lr,
        ..Default::default()
    });
    Trainer::new(g, model, Box::new(opt), config)
}
