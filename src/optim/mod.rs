//! Optimizers: [`Sgd`] (with momentum), [`Adam`] and [`AdamW`], behind one
//! [`Optimizer`] trait, and learning-rate schedules ([`LrSchedule`]).
//!
//! An optimizer updates the parameters in place through
//! [`Graph::data_and_grad_mut`] and then zeroes their gradients. Its state
//! (velocities, moments) is indexed by position in the `params` slice, so
//! pass the same slice every step.
//!
//! ```
//! use backprop::Graph;
//! use backprop::optim::{Optimizer, Sgd, SgdConfig};
//!
//! let mut g = Graph::new();
//! let w = g.value(0.0).id();
//! let mark = g.mark();
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() });
//! for _ in 0..200 {
//!     (g.get(w) - 3.0).powf(2.0).backward();
//!     opt.step(&mut g, &[w]);
//!     g.truncate(mark);
//! }
//! assert!((g.get(w).data() - 3.0).abs() < 1e-9);
//! ```

use std::fmt;

use crate::{Graph, NodeId};

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of `params` from their gradients, which it then sets to 0.
    ///
    /// # Panics
    /// If an id is not a live node of `g` (from another graph, or dropped
    /// by a truncation): see [`Graph::check_ids`].
    fn step(&mut self, g: &mut Graph, params: &[NodeId]);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Changes the learning rate (what a schedule does between steps).
    fn set_lr(&mut self, lr: f64);
}

/// Hyper-parameters of [`Sgd`] (PyTorch's `torch.optim.SGD`, without
/// dampening or Nesterov).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (default 0.01).
    pub lr: f64,
    /// Momentum factor μ (default 0: plain gradient descent).
    pub momentum: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            momentum: 0.0,
            weight_decay: 0.0,
        }
    }
}

/// Stochastic gradient descent with momentum, as PyTorch computes it:
/// `g = ∇p + λ p`, `v = μ v + g` (with `v = g` at the first step),
/// `p = p - lr v`.
///
/// ```
/// use backprop::{Graph, optim::{Optimizer, Sgd, SgdConfig}};
///
/// let mut g = Graph::new();
/// let p = g.value(1.0).id();
/// let mut opt = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() });
/// g.get(p).set_grad(2.0);
/// opt.step(&mut g, &[p]); // v = 2, p = 1 - 0.2
/// assert!((g.get(p).data() - 0.8).abs() < 1e-15);
/// assert_eq!(g.get(p).grad(), 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    config: SgdConfig,
    velocity: Vec<f64>,
}

impl Sgd {
    /// An optimizer with these hyper-parameters.
    pub fn new(config: SgdConfig) -> Self {
        Self {
            config,
            velocity: Vec::new(),
        }
    }

    /// The hyper-parameters (with the current learning rate).
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, g: &mut Graph, params: &[NodeId]) {
        let SgdConfig {
            lr,
            momentum,
            weight_decay,
        } = self.config;
        // Velocity starts at 0, so the first step gives v = g, as PyTorch.
        self.velocity.resize(params.len(), 0.0);
        g.check_ids(params);
        let (data, grad) = g.data_and_grad_mut();
        for (&p, v) in params.iter().zip(&mut self.velocity) {
            let i = p.index();
            let mut d = grad[i] + weight_decay * data[i];
            if momentum != 0.0 {
                *v = momentum * *v + d;
                d = *v;
            }
            data[i] -= lr * d;
            grad[i] = 0.0;
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// Hyper-parameters of [`Adam`]; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Decay rates of the first and second moment estimates (default
    /// (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator for stability (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0); see [`AdamW`] for the
    /// decoupled kind.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Hyper-parameters of [`AdamW`]; the defaults are PyTorch's (as
/// [`AdamConfig`], with weight decay 1e-2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate (default 1e-3).
    pub lr: f64,
    /// Moment decay rates (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Denominator term (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay λ (default 1e-2).
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
        }
    }
}

/// The moment estimates Adam and AdamW share.
#[derive(Clone, Debug, Default)]
struct Moments {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Moments {
    /// One Adam update (Kingma & Ba, Algorithm 1, as PyTorch computes it):
    /// `m = β1 m + (1 - β1) g`, `v = β2 v + (1 - β2) g²`,
    /// `p -= lr (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)`.
    /// `l2` is added to the gradient as `l2 p`; `decay` multiplies `p` by
    /// `1 - lr decay` first (AdamW).
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        g: &mut Graph,
        params: &[NodeId],
        lr: f64,
        betas: (f64, f64),
        eps: f64,
        l2: f64,
        decay: f64,
    ) {
        let (b1, b2) = betas;
        self.m.resize(params.len(), 0.0);
        self.v.resize(params.len(), 0.0);
        self.t = self.t.saturating_add(1);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        g.check_ids(params);
        let (data, grad) = g.data_and_grad_mut();
        for ((&p, m), v) in params.iter().zip(&mut self.m).zip(&mut self.v) {
            let i = p.index();
            if decay != 0.0 {
                data[i] *= 1.0 - lr * decay;
            }
            let gi = grad[i] + l2 * data[i];
            *m = b1 * *m + (1.0 - b1) * gi;
            *v = b2 * *v + (1.0 - b2) * gi * gi;
            data[i] -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            grad[i] = 0.0;
        }
    }
}

/// Adam (PyTorch's `torch.optim.Adam`), with optional L2 weight decay.
///
/// ```
/// use backprop::{Graph, optim::{Adam, Optimizer}};
///
/// let mut g = Graph::new();
/// let p = g.value(1.0).id();
/// let mut opt = Adam::new(Default::default());
/// g.get(p).set_grad(0.5);
/// opt.step(&mut g, &[p]);
/// // The first step moves every parameter by about lr, whatever its gradient.
/// assert!((g.get(p).data() - (1.0 - 1e-3)).abs() < 1e-10);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    config: AdamConfig,
    moments: Moments,
}

impl Adam {
    /// An optimizer with these hyper-parameters.
    pub fn new(config: AdamConfig) -> Self {
        Self {
            config,
            moments: Moments::default(),
        }
    }

    /// The hyper-parameters (with the current learning rate).
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl Optimizer for Adam {
    fn step(&mut self, g: &mut Graph, params: &[NodeId]) {
        let c = self.config;
        self.moments
            .step(g, params, c.lr, c.betas, c.eps, c.weight_decay, 0.0);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// AdamW (PyTorch's `torch.optim.AdamW`): Adam with decoupled weight decay,
/// `p = p (1 - lr λ)` before the Adam update.
///
/// ```
/// use backprop::{Graph, optim::{AdamW, Optimizer}};
///
/// let mut g = Graph::new();
/// let p = g.value(2.0).id();
/// let mut opt = AdamW::new(Default::default());
/// opt.step(&mut g, &[p]); // zero gradient: only the decay acts
/// assert!((g.get(p).data() - 2.0 * (1.0 - 1e-3 * 1e-2)).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    config: AdamWConfig,
    moments: Moments,
}

impl AdamW {
    /// An optimizer with these hyper-parameters.
    pub fn new(config: AdamWConfig) -> Self {
        Self {
            config,
            moments: Moments::default(),
        }
    }

    /// The hyper-parameters (with the current learning rate).
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, g: &mut Graph, params: &[NodeId]) {
        let c = self.config;
        self.moments
            .step(g, params, c.lr, c.betas, c.eps, 0.0, c.weight_decay);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// How the learning rate changes over a run of `steps` steps: step `k`
/// (from 0) uses `lr · factor(k, steps)`.
///
/// ```
/// use backprop::optim::LrSchedule;
///
/// // micrograd's demo: 1.0 - 0.9 * k / 100
/// let s = LrSchedule::Linear { end: 0.1 };
/// assert_eq!(s.factor(0, 100), 1.0);
/// assert!((s.factor(50, 100) - 0.55).abs() < 1e-15);
/// assert!((s.factor(99, 100) - 0.109).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LrSchedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Linear decay from `lr` towards `lr · end`: factor `1 - (1 - end) k / steps`
    /// (micrograd's `1.0 - 0.9 k / 100` is `end = 0.1`).
    Linear {
        /// The factor reached at `k = steps`, in `[0, 1]` (parsing rejects
        /// others: below 0 the rate would turn negative and training climb
        /// the loss, above 1 it grows instead of decaying).
        end: f64,
    },
    /// Cosine decay from `lr` to 0: factor `(1 + cos(π k / steps)) / 2`.
    Cosine,
}

impl LrSchedule {
    /// micrograd's schedule, `1 - 0.9 k / steps`.
    pub const MICROGRAD: LrSchedule = LrSchedule::Linear { end: 0.1 };

    /// The multiplier of the base learning rate at step `k` of `steps`.
    pub fn factor(self, k: usize, steps: usize) -> f64 {
        let frac = k as f64 / steps.max(1) as f64;
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Linear { end } => 1.0 - (1.0 - end) * frac,
            LrSchedule::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * frac).cos()),
        }
    }
}

impl fmt::Display for LrSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LrSchedule::Constant => f.write_str("constant"),
            LrSchedule::Linear { end } => write!(f, "linear (to {end})"),
            LrSchedule::Cosine => f.write_str("cosine"),
        }
    }
}

impl std::str::FromStr for LrSchedule {
    type Err = String;

    /// `constant`, `linear` (micrograd's, to 0.1), `linear:END` with END
    /// in `[0, 1]`, `cosine`.
    ///
    /// ```
    /// use backprop::optim::LrSchedule;
    ///
    /// assert_eq!("linear:0.5".parse(), Ok(LrSchedule::Linear { end: 0.5 }));
    /// assert!("linear:-1".parse::<LrSchedule>().is_err());
    /// assert!("linear:1e300".parse::<LrSchedule>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "constant" => Ok(LrSchedule::Constant),
            "linear" | "micrograd" => Ok(LrSchedule::MICROGRAD),
            "cosine" => Ok(LrSchedule::Cosine),
            _ => match s.strip_prefix("linear:") {
                Some(e) => match e.parse::<f64>() {
                    Ok(end) if (0.0..=1.0).contains(&end) => Ok(LrSchedule::Linear { end }),
                    _ => Err(format!(
                        "linear:END needs END between 0 and 1 (the fraction of the learning rate left at the end), got `{e}`"
                    )),
                },
                None => Err(format!(
                    "unknown schedule `{s}` (expected constant, linear, linear:END or cosine)"
                )),
            },
        }
    }
}

/// Which optimizer, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    /// [`Sgd`].
    Sgd,
    /// [`Adam`].
    Adam,
    /// [`AdamW`].
    AdamW,
}

impl OptimizerKind {
    /// A boxed optimizer of this kind with learning rate `lr`, SGD momentum
    /// `momentum`, and otherwise default hyper-parameters.
    pub fn build(self, lr: f64, momentum: f64) -> Box<dyn Optimizer> {
        match self {
            OptimizerKind::Sgd => Box::new(Sgd::new(SgdConfig {
                lr,
                momentum,
                ..Default::default()
            })),
            OptimizerKind::Adam => Box::new(Adam::new(AdamConfig {
                lr,
                ..Default::default()
            })),
            OptimizerKind::AdamW => Box::new(AdamW::new(AdamWConfig {
                lr,
                ..Default::default()
            })),
        }
    }

    /// The learning rate `backprop train` uses with this optimizer unless
    /// told otherwise: 1 for SGD (micrograd's demo), 0.01 for Adam and
    /// AdamW.
    ///
    /// ```
    /// assert_eq!(backprop::optim::OptimizerKind::Sgd.default_lr(), 1.0);
    /// ```
    pub fn default_lr(self) -> f64 {
        match self {
            OptimizerKind::Sgd => 1.0,
            OptimizerKind::Adam | OptimizerKind::AdamW => 0.01,
        }
    }

    /// The schedule `backprop train` uses with this optimizer unless told
    /// otherwise: micrograd's `1 - 0.9 k/steps` for SGD, constant for Adam
    /// and AdamW (which adapt their own step sizes).
    pub fn default_schedule(self) -> LrSchedule {
        match self {
            OptimizerKind::Sgd => LrSchedule::MICROGRAD,
            OptimizerKind::Adam | OptimizerKind::AdamW => LrSchedule::Constant,
        }
    }

    /// The name (`sgd`, `adam`, `adamw`).
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sgd" => Ok(OptimizerKind::Sgd),
            "adam" => Ok(OptimizerKind::Adam),
            "adamw" => Ok(OptimizerKind::AdamW),
            _ => Err(format!(
                "unknown optimizer `{s}` (expected sgd, adam or adamw)"
            )),
        }
    }
}
