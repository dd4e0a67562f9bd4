//! Neural networks on the engine: [`Neuron`], [`Layer`], [`Mlp`], losses,
//! a [`Trainer`], and saving/loading models ([`SavedModel`]); and
//! [`gpt`], Karpathy's microgpt on the same engine.
//!
//! A model creates its parameters on a [`Graph`] as leaves and keeps only
//! their [`NodeId`]s, so the graph can be truncated back to a mark after
//! every training step (see [`Graph::truncate`]).
//!
//! ```
//! use backprop::Graph;
//! use backprop::nn::{Mlp, MlpConfig, Module};
//!
//! let g = Graph::new();
//! let model = Mlp::new(&g, 3, &[4, 4, 1], &MlpConfig::default()).unwrap();
//! assert_eq!(model.parameters().len(), 4 * 4 + 4 * 5 + 5);
//! let x = [g.value(2.0), g.value(3.0), g.value(-1.0)];
//! let y = model.forward(&g, &x);
//! assert_eq!(y.len(), 1);
//! println!("{model}\n{}", y[0]);
//! ```

pub mod gpt;
mod lanes;
mod loss;
mod mlp;
mod model;
mod train;

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{Graph, NodeId, Value};

pub use loss::{Loss, bce_with_logits, cross_entropy, hinge, l2, mse};
pub(crate) use mlp::ForwardBuffers;
pub use mlp::{Layer, Mlp, MlpConfig, Neuron};
pub use model::{
    Evaluation, FORMAT, FORMAT_VERSION, MAX_MODEL_BYTES, Normalization, Prediction, SavedLayer,
    SavedModel, SavedNeuron, check_writable,
};
pub use train::{
    CHUNK_ROWS, CHUNKS, DIVERGENCE_FACTOR, HISTORY_POINTS, History, PARALLEL_WORK, PROBE_BLOCK,
    PROBE_BLOCKS, PROBE_MARGIN, REPROBE_EVERY, StepStats, TrainConfig, Trainer,
};

/// Errors of the neural-network layer: bad architectures, bad model files,
/// inputs of the wrong size, divergent training.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A model whose output is NaN (weights so large that the layers
    /// overflow): it names no class. `row` is the data row (from 1) in
    /// [`SavedModel::evaluate`], `None` in [`SavedModel::predict`].
    #[error("{}the model's output is NaN (its weights overflow), so it gives no class", row.map_or(String::new(), |r| format!("row {r}: ")))]
    NanScore {
        /// The data row, from 1.
        row: Option<usize>,
    },
    /// A layer or input of size 0.
    #[error("{what} must be at least 1, got 0")]
    ZeroSize {
        /// What was 0 (`inputs`, `layer 2 size`, ...).
        what: String,
    },
    /// A binary loss used with more than two classes.
    #[error("the {loss} loss is for 2 classes, but the data has {classes} (use cross-entropy)")]
    LossClasses {
        /// The loss.
        loss: Loss,
        /// The number of classes.
        classes: usize,
    },
    /// The network's last layer does not fit the loss.
    #[error(
        "the last layer has {found} outputs, but the {loss} loss with {classes} classes needs {expected}"
    )]
    OutputSize {
        /// The loss.
        loss: Loss,
        /// Classes.
        classes: usize,
        /// Outputs the loss needs.
        expected: usize,
        /// Outputs the network has.
        found: usize,
    },
    /// An input with the wrong number of features.
    #[error("the model takes {}, but the input has {found}", features(*.expected))]
    FeatureCount {
        /// Features the model takes.
        expected: usize,
        /// Features given.
        found: usize,
    },
    /// A model file that cannot be read or written (the reason is the
    /// error's source).
    #[error("{action} {path}")]
    Io {
        /// `cannot read`, `cannot write`, ...
        action: &'static str,
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A model file that is not valid JSON for a model (truncated, a
    /// missing or misspelt field, a wrong type). The message names the
    /// field (`layers[0].neurons[2].bias`), the source gives serde's reason
    /// with line and column.
    #[error("invalid model file{}", field_suffix(path))]
    Json {
        /// Where in the document the error is, like
        /// `layers[0].neurons[2].bias` (empty if not in a field).
        path: String,
        /// serde's error.
        source: serde_json::Error,
    },
    /// A model file that parses but does not describe a valid network.
    #[error("invalid model file: {0}")]
    InvalidModel(String),
    /// A network with more parameters than [`Mlp::MAX_PARAMETERS`].
    #[error(
        "the network would have {parameters} parameters, more than the limit of {max}",
        max = Mlp::MAX_PARAMETERS
    )]
    TooLarge {
        /// The number of weights and biases asked for.
        parameters: u128,
    },
    /// Data with a class the model does not know.
    #[error(
        "row {row} of the data has class {class}, but the model was trained for classes 0 to {} only",
        classes - 1
    )]
    UnknownClass {
        /// The row (from 1).
        row: usize,
        /// Its class.
        class: usize,
        /// The model's number of classes.
        classes: usize,
    },
    /// The loss became NaN or infinite, or grew past
    /// [`DIVERGENCE_FACTOR`] times its first
    /// value.
    #[error(
        "training diverged at step {step}: the loss is {loss:.6e}, up from {first:.6e} at the first step (try a smaller learning rate, or standardized features)"
    )]
    Diverged {
        /// The step (from 0) whose loss was too large.
        step: usize,
        /// The loss.
        loss: f64,
        /// The first step's loss.
        first: f64,
    },
    /// A training configuration that cannot work.
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
}

/// `1 feature`, `2 features`.
fn features(n: usize) -> String {
    if n == 1 {
        "1 feature".into()
    } else {
        format!("{n} features")
    }
}

impl From<serde_json::Error> for NnError {
    fn from(source: serde_json::Error) -> Self {
        NnError::Json {
            path: String::new(),
            source,
        }
    }
}

fn field_suffix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(", field {path}")
    }
}

/// Something with trainable parameters (PyTorch's `nn.Module`).
pub trait Module {
    /// The parameters' node ids, in a fixed order (what an optimizer
    /// updates).
    fn parameters(&self) -> &[NodeId];

    /// Sets the gradients of the parameters to 0 (PyTorch's
    /// `Module.zero_grad`). It takes `&Graph`, so it can be called while
    /// the step's values are alive, between the loss and `backward`.
    ///
    /// ```
    /// use backprop::{Graph, nn::{Mlp, MlpConfig, Module}};
    ///
    /// let g = Graph::new();
    /// let m = Mlp::new(&g, 2, &[1], &MlpConfig::default()).unwrap();
    /// g.get(m.parameters()[0]).set_grad(3.0);
    /// m.zero_grad(&g);
    /// assert_eq!(g.get(m.parameters()[0]).grad(), 0.0);
    /// ```
    ///
    /// # Panics
    /// If a parameter is not a live node of `g`.
    fn zero_grad(&self, g: &Graph) {
        g.check_ids(self.parameters());
        for &p in self.parameters() {
            g.get(p).set_grad(0.0);
        }
    }

    /// How many parameters there are.
    fn num_parameters(&self) -> usize {
        self.parameters().len()
    }
}

/// A neuron's non-linearity.
///
/// ```
/// use backprop::nn::Activation;
///
/// let a: Activation = "relu".parse().unwrap();
/// assert_eq!(a, Activation::Relu);
/// assert_eq!(a.apply_f64(-2.0), 0.0);
/// assert_eq!(Activation::Linear.to_string(), "linear");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(x, 0)` ([`Value::relu`]).
    #[default]
    Relu,
    /// `tanh x` ([`Value::tanh`]).
    Tanh,
    /// `1 / (1 + e^-x)` ([`Value::sigmoid`]).
    Sigmoid,
    /// The identity: no node at all.
    Linear,
}

impl Activation {
    /// All activations, in the order of the enum.
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Linear,
    ];

    /// Applies the activation on the graph (no node for `Linear`).
    pub fn apply<'g>(self, x: Value<'g>) -> Value<'g> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Linear => x,
        }
    }

    /// Applies the activation to a plain number, with the same formulas as
    /// the engine (so graph and plain evaluation agree to the last bit).
    pub fn apply_f64(self, x: f64) -> f64 {
        match self {
            Activation::Relu => crate::engine::relu(x),
            Activation::Tanh => crate::engine::tanh(x),
            Activation::Sigmoid => crate::engine::sigmoid(x),
            Activation::Linear => x,
        }
    }

    /// The lowercase name (`relu`, `tanh`, `sigmoid`, `linear`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Linear => "linear",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Activation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                format!("unknown activation `{s}` (expected relu, tanh, sigmoid or linear)")
            })
    }
}

/// How weights are initialised. Biases always start at 0 (as in
/// micrograd).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// micrograd's `random.uniform(-1, 1)`.
    #[default]
    Uniform,
    /// Kaiming (He) uniform for ReLU: `U(-b, b)` with `b = √(6 / fan_in)`.
    KaimingUniform,
    /// Xavier (Glorot) uniform: `U(-b, b)` with `b = √(6 / (fan_in + fan_out))`.
    XavierUniform,
}

impl Init {
    /// A weight for a neuron with `fan_in` inputs in a layer of `fan_out`
    /// neurons. A fan of 0 (a neuron with no inputs has no weight to draw)
    /// counts as 1, so that any arguments give a finite weight.
    ///
    /// ```
    /// use backprop::nn::Init;
    /// use rand::SeedableRng;
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let w = Init::KaimingUniform.sample(0, 0, &mut rng);
    /// assert!(w.abs() <= 6f64.sqrt());
    /// ```
    pub fn sample(self, fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> f64 {
        let fan_in = fan_in.max(1) as f64;
        let bound = match self {
            Init::Uniform => 1.0,
            Init::KaimingUniform => (6.0 / fan_in).sqrt(),
            Init::XavierUniform => (6.0 / (fan_in + fan_out as f64)).sqrt(),
        };
        rng.gen_range(-bound..=bound)
    }
}

impl std::str::FromStr for Init {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "uniform" => Ok(Init::Uniform),
            "kaiming" | "kaiming-uniform" => Ok(Init::KaimingUniform),
            "xavier" | "xavier-uniform" => Ok(Init::XavierUniform),
            _ => Err(format!(
                "unknown init `{s}` (expected uniform, kaiming or xavier)"
            )),
        }
    }
}
