//! Neurons, layers and multi-layer perceptrons.

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Activation, Init, Module, NnError};
use crate::{Graph, NodeId, Op, Value};

/// One neuron: `activation(w · x + b)`.
///
/// Its parameters are created contiguously, the weights and then the bias,
/// so [`Module::parameters`] is a range of node ids.
///
/// ```
/// use backprop::{Graph, nn::{Activation, Init, Neuron}};
/// use rand::SeedableRng;
///
/// let g = Graph::new();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let n = Neuron::new(&g, 2, Activation::Tanh, Init::Uniform, &mut rng);
/// let y = n.forward(&g, &[g.value(1.0), g.value(-2.0)]);
/// assert!(y.data().abs() < 1.0);
/// assert_eq!(n.to_string(), "TanhNeuron(2)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Neuron {
    params: Vec<NodeId>,
    activation: Activation,
}

impl Neuron {
    /// A neuron with `nin` inputs, its weights drawn by `init` and its bias 0.
    ///
    /// # Panics
    /// If `nin` is 0 (use [`Mlp::new`] for a checked construction).
    pub fn new(
        g: &Graph,
        nin: usize,
        activation: Activation,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        Self::with_fan_out(g, nin, 1, activation, init, rng)
    }

    fn with_fan_out(
        g: &Graph,
        nin: usize,
        fan_out: usize,
        activation: Activation,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        assert!(nin > 0, "a neuron needs at least one input");
        let mut params: Vec<NodeId> = (0..nin)
            .map(|_| g.value(init.sample(nin, fan_out, rng)).id())
            .collect();
        params.push(g.value(0.0).id());
        Self { params, activation }
    }

    /// A neuron with the given weights and bias (for loading a model).
    ///
    /// # Panics
    /// If `weights` is empty.
    pub fn from_weights(g: &Graph, weights: &[f64], bias: f64, activation: Activation) -> Self {
        assert!(!weights.is_empty(), "a neuron needs at least one input");
        let params = weights
            .iter()
            .chain([&bias])
            .map(|&w| g.value(w).id())
            .collect();
        Self { params, activation }
    }

    /// The number of inputs.
    pub fn nin(&self) -> usize {
        self.params.len() - 1
    }

    /// The weights' ids.
    pub fn weights(&self) -> &[NodeId] {
        &self.params[..self.nin()]
    }

    /// The bias's id.
    pub fn bias(&self) -> NodeId {
        self.params[self.nin()]
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// `activation(w · x + b)`: one [`Graph::linear`] node (a dot-product
    /// node that adds the bias) and the activation's node (none for linear);
    /// the graph a one-neuron [`Layer::forward`] builds.
    ///
    /// # Panics
    /// If `x` does not have [`Neuron::nin`] values, or they belong to
    /// another graph.
    pub fn forward<'g>(&self, g: &'g Graph, x: &[Value<'g>]) -> Value<'g> {
        let x = ids_of(g, x, self.nin());
        let runs = is_run(self.weights());
        let pre = pre_activation(g, &self.params, &x, runs, is_run(&x));
        self.activation.apply(g.get(pre))
    }
}

impl Module for Neuron {
    fn parameters(&self) -> &[NodeId] {
        &self.params
    }
}

impl fmt::Display for Neuron {
    /// micrograd's `ReLUNeuron(2)`, `LinearNeuron(16)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.activation {
            Activation::Relu => "ReLU",
            Activation::Tanh => "Tanh",
            Activation::Sigmoid => "Sigmoid",
            Activation::Linear => "Linear",
        };
        write!(f, "{name}Neuron({})", self.nin())
    }
}

/// A layer of neurons sharing their inputs; always a vector of outputs,
/// even with one neuron.
///
/// ```
/// use backprop::{Graph, nn::{Activation, Init, Layer, Module}};
/// use rand::SeedableRng;
///
/// let g = Graph::new();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let layer = Layer::new(&g, 3, 1, Activation::Linear, Init::Uniform, &mut rng);
/// let out = layer.forward(&g, &[g.value(1.0), g.value(2.0), g.value(3.0)]);
/// assert_eq!(out.len(), 1);
/// assert_eq!(layer.parameters().len(), 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    neurons: Vec<Neuron>,
    params: Vec<NodeId>,
    nin: usize,
    activation: Activation,
    /// Whether every neuron's weights are consecutive nodes (always, for
    /// [`Layer::new`] and [`Mlp::new`]), so that forward passes can use
    /// [`Graph::linear_runs`].
    weight_runs: bool,
}

impl Layer {
    /// A layer of `nout` neurons with `nin` inputs each; neuron by neuron,
    /// weights then bias, so the layer's ids form one range.
    ///
    /// # Panics
    /// If `nin` or `nout` is 0 (use [`Mlp::new`] for a checked construction).
    pub fn new(
        g: &Graph,
        nin: usize,
        nout: usize,
        activation: Activation,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        assert!(nout > 0, "a layer needs at least one neuron");
        let neurons: Vec<Neuron> = (0..nout)
            .map(|_| Neuron::with_fan_out(g, nin, nout, activation, init, rng))
            .collect();
        Self::from_neurons(neurons)
    }

    /// A layer from neurons that share an input size and an activation.
    ///
    /// # Panics
    /// If `neurons` is empty, or the neurons differ in input size or
    /// activation.
    pub fn from_neurons(neurons: Vec<Neuron>) -> Self {
        assert!(!neurons.is_empty(), "a layer needs at least one neuron");
        let (nin, activation) = (neurons[0].nin(), neurons[0].activation);
        assert!(
            neurons
                .iter()
                .all(|n| n.nin() == nin && n.activation == activation),
            "the neurons of a layer share their input size and activation"
        );
        let params = neurons
            .iter()
            .flat_map(|n| n.params.iter().copied())
            .collect();
        let weight_runs = neurons.iter().all(|n| is_run(n.weights()));
        Self {
            neurons,
            params,
            nin,
            activation,
            weight_runs,
        }
    }

    /// The neurons.
    pub fn neurons(&self) -> &[Neuron] {
        &self.neurons
    }

    /// Inputs per neuron.
    pub fn nin(&self) -> usize {
        self.nin
    }

    /// The number of neurons (outputs).
    pub fn nout(&self) -> usize {
        self.neurons.len()
    }

    /// The neurons' activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Every neuron's output, in order: first every neuron's
    /// [`Graph::linear`] node, then their activations, so that the outputs
    /// are consecutive nodes (what the next layer's `linear` nodes read
    /// fastest).
    ///
    /// # Panics
    /// If `x` does not have [`Layer::nin`] values, or they belong to another
    /// graph.
    pub fn forward<'g>(&self, g: &'g Graph, x: &[Value<'g>]) -> Vec<Value<'g>> {
        let x = ids_of(g, x, self.nin);
        let mut out = Vec::with_capacity(self.nout());
        self.forward_ids(g, &x, &mut out);
        out.into_iter().map(|id| g.get(id)).collect()
    }

    /// [`Layer::forward`] on node ids: the outputs' ids replace `out`'s
    /// contents.
    fn forward_ids(&self, g: &Graph, x: &[NodeId], out: &mut Vec<NodeId>) {
        out.clear();
        let x_run = is_run(x);
        if self.weight_runs && x_run && x.len() == self.nin && self.nin > 0 {
            // The same nodes as below, with the ids checked once.
            let act = match self.activation {
                Activation::Relu => Some(Op::Relu),
                Activation::Tanh => Some(Op::Tanh),
                Activation::Sigmoid => Some(Op::Sigmoid),
                Activation::Linear => None,
            };
            g.dense_runs(&self.params, x[0], self.nin, act, out);
            return;
        }
        let step = self.nin + 1;
        for p in self.params.chunks_exact(step) {
            out.push(pre_activation(g, p, x, self.weight_runs, x_run));
        }
        if self.activation != Activation::Linear {
            for id in out.iter_mut() {
                *id = self.activation.apply(g.get(*id)).id();
            }
        }
    }
}

impl Module for Layer {
    fn parameters(&self) -> &[NodeId] {
        &self.params
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Layer({} -> {}, {})",
            self.nin,
            self.nout(),
            self.activation
        )
    }
}

/// How [`Mlp::new`] builds a network. The default is micrograd's: ReLU
/// hidden layers, a linear output layer, weights uniform in (-1, 1), seed
/// 1337.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MlpConfig {
    /// The activation of every layer but the last.
    pub activation: Activation,
    /// The activation of the last layer.
    pub output_activation: Activation,
    /// The weight initialisation.
    pub init: Init,
    /// The seed of the initialisation's RNG (ChaCha8).
    pub seed: u64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            activation: Activation::Relu,
            output_activation: Activation::Linear,
            init: Init::Uniform,
            seed: 1337,
        }
    }
}

/// A multi-layer perceptron: layers applied one after the other.
///
/// All parameters are created contiguously, layer by layer, so they form
/// one range of node ids: create the model first, then take the graph's
/// [`Graph::mark`].
///
/// ```
/// use backprop::{Graph, nn::{Mlp, MlpConfig}};
///
/// let g = Graph::new();
/// let m = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
/// assert_eq!(
///     m.to_string(),
///     "MLP of [Layer(2 -> 16, relu), Layer(16 -> 16, relu), Layer(16 -> 1, linear)], 337 parameters"
/// );
/// assert!(Mlp::new(&g, 2, &[16, 0, 1], &MlpConfig::default()).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    layers: Vec<Layer>,
    params: Vec<NodeId>,
    nin: usize,
}

impl Mlp {
    /// The most weights and biases [`Mlp::new`] makes: a million. Every
    /// parameter is a graph node, and a training thread keeps its own copy
    /// of the graph, so this already means hundreds of megabytes.
    pub const MAX_PARAMETERS: usize = 1_000_000;

    /// The number of weights and biases of a network with `nin` inputs
    /// and layers of `nouts` neurons, `Σ (fan_in + 1) · fan_out`; a `u128`,
    /// so that no sizes overflow it (it saturates).
    ///
    /// ```
    /// use backprop::nn::Mlp;
    ///
    /// assert_eq!(Mlp::count_parameters(2, &[16, 16, 1]), 3 * 16 + 17 * 16 + 17);
    /// assert!(Mlp::count_parameters(2, &[usize::MAX, usize::MAX]) > u64::MAX as u128);
    /// ```
    pub fn count_parameters(nin: usize, nouts: &[usize]) -> u128 {
        let mut fan_in = nin as u128;
        let mut total: u128 = 0;
        for &n in nouts {
            total = total.saturating_add((fan_in + 1).saturating_mul(n as u128));
            fan_in = n as u128;
        }
        total
    }

    /// A network with `nin` inputs and layers of `nouts[0]`, `nouts[1]`, ...
    /// neurons (the last is the output size).
    ///
    /// # Errors
    /// [`NnError::ZeroSize`] if `nin` is 0, `nouts` is empty, or a layer
    /// size is 0; [`NnError::TooLarge`] past [`Mlp::MAX_PARAMETERS`].
    pub fn new(
        g: &Graph,
        nin: usize,
        nouts: &[usize],
        config: &MlpConfig,
    ) -> Result<Self, NnError> {
        if nin == 0 {
            return Err(NnError::ZeroSize {
                what: "inputs".into(),
            });
        }
        if nouts.is_empty() {
            return Err(NnError::ZeroSize {
                what: "the number of layers".into(),
            });
        }
        if let Some(i) = nouts.iter().position(|&n| n == 0) {
            return Err(NnError::ZeroSize {
                what: format!("layer {i} size"),
            });
        }
        let parameters = Self::count_parameters(nin, nouts);
        if parameters > Self::MAX_PARAMETERS as u128 {
            return Err(NnError::TooLarge { parameters });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let sizes: Vec<usize> = std::iter::once(nin).chain(nouts.iter().copied()).collect();
        let layers: Vec<Layer> = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let act = if i + 1 == nouts.len() {
                    config.output_activation
                } else {
                    config.activation
                };
                Layer::new(g, w[0], w[1], act, config.init, &mut rng)
            })
            .collect();
        Ok(Self::from_layers(layers))
    }

    /// A network from layers; each layer's `nin` must be the previous
    /// layer's `nout`.
    ///
    /// # Panics
    /// If `layers` is empty or the sizes do not chain.
    pub fn from_layers(layers: Vec<Layer>) -> Self {
        assert!(!layers.is_empty(), "an MLP needs at least one layer");
        for w in layers.windows(2) {
            assert_eq!(w[0].nout(), w[1].nin, "layer sizes do not chain");
        }
        let params = layers
            .iter()
            .flat_map(|l| l.params.iter().copied())
            .collect();
        let nin = layers[0].nin;
        Self {
            layers,
            params,
            nin,
        }
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The number of inputs.
    pub fn nin(&self) -> usize {
        self.nin
    }

    /// The number of outputs (the last layer's size).
    pub fn nout(&self) -> usize {
        self.layers.last().map_or(0, Layer::nout)
    }

    /// The parameters' node ids, layer by layer, neuron by neuron, weights
    /// then bias (PyTorch's `parameters()`; the same as
    /// [`Module::parameters`], without importing the trait). Ids, not
    /// [`Value`]s: they stay valid across [`Graph::truncate`] to a mark taken
    /// after the model was made, and are what an
    /// [`Optimizer`](crate::optim::Optimizer) updates.
    ///
    /// ```
    /// use backprop::{Graph, nn::{Mlp, MlpConfig}};
    ///
    /// let g = Graph::new();
    /// let m = Mlp::new(&g, 2, &[3, 1], &MlpConfig::default()).unwrap();
    /// assert_eq!(m.parameters().len(), 3 * 3 + 4);
    /// assert_eq!(g.get(m.parameters()[2]).data(), 0.0); // the first bias
    /// ```
    pub fn parameters(&self) -> &[NodeId] {
        &self.params
    }

    /// Sets the parameters' gradients to 0 (PyTorch's `zero_grad`; the same
    /// as [`Module::zero_grad`], without importing the trait).
    pub fn zero_grad(&self, g: &Graph) {
        Module::zero_grad(self, g);
    }

    /// The network's outputs for inputs `x` (always a vector, even of one),
    /// built on the graph: layer by layer as [`Layer::forward`] builds them.
    /// [`Mlp::predict`] computes the same numbers without a graph.
    ///
    /// # Panics
    /// If `x` does not have [`Mlp::nin`] values, or the parameters are not
    /// live nodes of the graph (the model was built on another graph, or
    /// they were dropped by a truncation): never a silent read of other nodes.
    pub fn forward<'g>(&self, g: &'g Graph, x: &[Value<'g>]) -> Vec<Value<'g>> {
        let mut b = ForwardBuffers {
            cur: ids_of(g, x, self.nin),
            next: Vec::new(),
        };
        self.forward_ids(g, &mut b);
        b.cur.iter().map(|&id| g.get(id)).collect()
    }

    /// [`Mlp::forward`] on node ids: the inputs in `b.cur` on entry, the
    /// outputs there on return. No allocation once the buffers have grown.
    pub(crate) fn forward_ids(&self, g: &Graph, b: &mut ForwardBuffers) {
        for layer in &self.layers {
            layer.forward_ids(g, &b.cur, &mut b.next);
            std::mem::swap(&mut b.cur, &mut b.next);
        }
    }

    /// The outputs for plain inputs, computed without a graph from the
    /// parameters' current data (bit for bit what the graph computes).
    ///
    /// # Panics
    /// If `x` does not have [`Mlp::nin`] values, or the parameters are not
    /// live nodes of the graph (the model was built on another graph, or
    /// they were dropped by a truncation): never a silent read of other nodes.
    pub fn predict(&self, g: &Graph, x: &[f64]) -> Vec<f64> {
        assert_eq!(
            x.len(),
            self.nin,
            "the MLP takes {} inputs, got {}",
            self.nin,
            x.len()
        );
        let mut cur = x.to_vec();
        let mut w = Vec::new();
        for layer in &self.layers {
            cur = layer
                .neurons
                .iter()
                .map(|n| {
                    w.clear();
                    w.extend(n.weights().iter().map(|&id| g.get(id).data()));
                    n.activation
                        .apply_f64(dot_f64(&w, &cur) + g.get(n.bias()).data())
                })
                .collect();
        }
        cur
    }
}

/// `Σ w_i x_i` summed in the same order as the engine's dot node over
/// contiguous runs of nodes, so that plain evaluation gives the graph's
/// numbers to the last bit.
pub(crate) fn dot_f64(w: &[f64], x: &[f64]) -> f64 {
    crate::engine::dot_kernel(w, x)
}

impl Module for Mlp {
    fn parameters(&self) -> &[NodeId] {
        &self.params
    }
}

impl fmt::Display for Mlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MLP of [")?;
        for (i, l) in self.layers.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{l}")?;
        }
        write!(f, "], {} parameters", self.params.len())
    }
}

/// Storage for graph forward passes that outlives the graph borrow (node
/// ids, not values), so that a training loop allocates nothing after its
/// first step.
#[derive(Default)]
pub(crate) struct ForwardBuffers {
    /// The inputs, then each layer's outputs.
    pub(crate) cur: Vec<NodeId>,
    next: Vec<NodeId>,
}

/// The ids of `x`, checked: `n` values of graph `g`.
fn ids_of(g: &Graph, x: &[Value<'_>], n: usize) -> Vec<NodeId> {
    assert_eq!(x.len(), n, "the model takes {n} inputs, got {}", x.len());
    x.iter()
        .map(|v| {
            assert!(
                std::ptr::eq(v.graph(), g),
                "an input belongs to another graph than the model's"
            );
            v.id()
        })
        .collect()
}

/// Whether `ids` are consecutive nodes.
fn is_run(ids: &[NodeId]) -> bool {
    ids.windows(2).all(|p| p[1].index() == p[0].index() + 1)
}

/// A neuron's `Σ w_i x_i + b` as one [`Graph::linear`] node, from its
/// parameters (weights then bias) and its inputs' ids: over the runs of
/// nodes when both are consecutive, the common case that needs no lookup.
fn pre_activation(g: &Graph, params: &[NodeId], x: &[NodeId], w_run: bool, x_run: bool) -> NodeId {
    let n = x.len();
    assert_eq!(
        params.len(),
        n + 1,
        "the neuron takes {} inputs, got {n}",
        params.len() - 1
    );
    if w_run && x_run {
        g.linear_runs(params[0], x[0], n, params[n]).id()
    } else {
        let w: Vec<Value<'_>> = params[..n].iter().map(|&id| g.get(id)).collect();
        let x: Vec<Value<'_>> = x.iter().map(|&id| g.get(id)).collect();
        g.linear(&w, &x, g.get(params[n])).id()
    }
}
