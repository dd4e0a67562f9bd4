//! The training loop: forward, loss, backward, update, truncate.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{ForwardBuffers, Loss, Mlp, Module, NnError, l2, recycle};
use crate::data::Dataset;
use crate::optim::{LrSchedule, Optimizer};
use crate::{Graph, Mark, Value};

/// How a [`Trainer`] trains. The default is micrograd's demo: 100 steps,
/// full batch, hinge loss, L2 `alpha = 1e-4`, learning rate
/// `1 - 0.9 k / 100`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// The number of steps.
    pub steps: usize,
    /// Rows per step; `None` (or a size of at least the dataset) is full
    /// batch. Mini-batches walk through a seeded shuffle of the rows, one
    /// epoch after another.
    pub batch_size: Option<usize>,
    /// The data loss.
    pub loss: Loss,
    /// The L2 regularisation strength (0 for none).
    pub alpha: f64,
    /// The base learning rate, multiplied by the schedule's factor.
    pub lr: f64,
    /// The learning-rate schedule.
    pub schedule: LrSchedule,
    /// The seed of the mini-batch shuffles.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 100,
            batch_size: None,
            loss: Loss::Hinge,
            alpha: 1e-4,
            lr: 1.0,
            schedule: LrSchedule::MICROGRAD,
            seed: 1337,
        }
    }
}

/// What one training step measured (before its update, as micrograd
/// prints it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// The step, from 0.
    pub step: usize,
    /// The total loss (data loss plus regularisation).
    pub loss: f64,
    /// The fraction of the batch classified correctly.
    pub accuracy: f64,
    /// The learning rate used for the update.
    pub lr: f64,
}

/// Trains an [`Mlp`] on a [`Dataset`]: owns the graph, the model and the
/// optimizer, and reuses every buffer, so that after the first step a step
/// allocates nothing and the graph's memory stays the same.
///
/// ```
/// use backprop::{Graph, data, nn::{Mlp, MlpConfig, TrainConfig, Trainer}, optim::{Sgd, SgdConfig}};
///
/// let d = data::moons(20, 0.1, 1);
/// let g = Graph::new();
/// let model = Mlp::new(&g, 2, &[8, 1], &MlpConfig::default()).unwrap();
/// let opt = Sgd::new(SgdConfig::default());
/// let mut t = Trainer::new(g, model, Box::new(opt), TrainConfig { steps: 5, ..Default::default() });
/// let history = t.fit(&d, |_| {}).unwrap();
/// assert_eq!(history.len(), 5);
/// ```
pub struct Trainer {
    graph: Graph,
    model: Mlp,
    optimizer: Box<dyn Optimizer>,
    config: TrainConfig,
    mark: Mark,
    step: usize,
    buffers: ForwardBuffers,
    inputs: Vec<Value<'static>>,
    outputs: Vec<Value<'static>>,
    labels: Vec<usize>,
    scores: Vec<f64>,
    order: Vec<usize>,
    perm: Vec<usize>,
    cursor: usize,
    rng: ChaCha8Rng,
}

impl Trainer {
    /// A trainer for `model`, whose parameters live on `graph`. Everything
    /// on the graph so far is kept; what a step builds is dropped after it.
    pub fn new(
        graph: Graph,
        model: Mlp,
        optimizer: Box<dyn Optimizer>,
        config: TrainConfig,
    ) -> Self {
        let mark = graph.mark();
        Self {
            graph,
            model,
            optimizer,
            config,
            mark,
            step: 0,
            buffers: ForwardBuffers::default(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            labels: Vec::new(),
            scores: Vec::new(),
            order: Vec::new(),
            perm: Vec::new(),
            cursor: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
        }
    }

    /// The model.
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// The graph holding the model's parameters.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The number of steps taken.
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// Checks that the model and the loss fit the data.
    ///
    /// # Errors
    /// A feature count or output size that does not match, or a binary loss
    /// on more than two classes.
    pub fn check(&self, data: &Dataset) -> Result<(), NnError> {
        if data.n_features() != self.model.nin() {
            return Err(NnError::FeatureCount {
                expected: self.model.nin(),
                found: data.n_features(),
            });
        }
        let loss = self.config.loss;
        loss.check_classes(data.n_classes())?;
        let expected = loss.outputs(data.n_classes());
        if self.model.nout() != expected {
            return Err(NnError::OutputSize {
                loss,
                classes: data.n_classes(),
                expected,
                found: self.model.nout(),
            });
        }
        Ok(())
    }

    /// One step on (a batch of) `data`: forward, loss, backward, optimizer
    /// update, then the graph is truncated back to the parameters.
    ///
    /// # Errors
    /// [`NnError::Diverged`] if the loss is NaN or infinite (the parameters
    /// are then left as they were before this step), or a [`Trainer::check`]
    /// error.
    ///
    /// # Panics
    /// If `data` does not fit the model (call [`Trainer::check`] first for
    /// an error instead).
    pub fn step(&mut self, data: &Dataset) -> Result<StepStats, NnError> {
        let n = data.len();
        let batch = self.config.batch_size.unwrap_or(n).clamp(1, n);
        self.labels.clear();
        if batch == n {
            self.labels.extend_from_slice(data.labels());
        } else {
            self.next_batch(n, batch);
        }
        let lr = self.config.lr * self.config.schedule.factor(self.step, self.config.steps);
        let loss_kind = self.config.loss;
        let nout = self.model.nout();
        let (loss, correct) = {
            let g = &self.graph;
            let mut f = self.model.bind_with(g, std::mem::take(&mut self.buffers));
            let mut inputs = recycle(std::mem::take(&mut self.inputs));
            let mut outputs = recycle(std::mem::take(&mut self.outputs));
            let rows = batch;
            let mut correct = 0;
            for r in 0..rows {
                let i = if batch == n { r } else { self.order[r] };
                if batch != n {
                    self.labels.push(data.label(i));
                }
                inputs.clear();
                inputs.extend(data.x(i).iter().map(|&v| g.value(v)));
                let out = f.forward(&inputs);
                self.scores.clear();
                self.scores.extend(out.iter().map(|v| v.data()));
                correct += usize::from(loss_kind.predict(&self.scores) == data.label(i));
                outputs.extend_from_slice(out);
            }
            debug_assert_eq!(outputs.len(), rows * nout);
            let mut loss = loss_kind.compute(g, &outputs, &self.labels);
            if self.config.alpha != 0.0 {
                loss += l2(g, f.params(), self.config.alpha);
            }
            let value = loss.data();
            if value.is_finite() {
                loss.backward();
            }
            self.buffers = f.into_buffers();
            self.inputs = recycle(inputs);
            self.outputs = recycle(outputs);
            (value, correct)
        };
        if !loss.is_finite() {
            self.graph.truncate(self.mark);
            return Err(NnError::Diverged {
                step: self.step,
                loss,
            });
        }
        self.optimizer.set_lr(lr);
        self.optimizer
            .step(&mut self.graph, self.model.parameters());
        self.graph.truncate(self.mark);
        let stats = StepStats {
            step: self.step,
            loss,
            accuracy: correct as f64 / batch as f64,
            lr,
        };
        self.step += 1;
        Ok(stats)
    }

    /// Runs the remaining steps of [`TrainConfig::steps`], calling
    /// `on_step` after each, and returns every step's stats.
    ///
    /// # Errors
    /// As [`Trainer::check`] and [`Trainer::step`]; stops at the first.
    pub fn fit(
        &mut self,
        data: &Dataset,
        mut on_step: impl FnMut(&StepStats),
    ) -> Result<Vec<StepStats>, NnError> {
        self.check(data)?;
        let mut history = Vec::with_capacity(self.config.steps.saturating_sub(self.step));
        while self.step < self.config.steps {
            let s = self.step(data)?;
            on_step(&s);
            history.push(s);
        }
        Ok(history)
    }

    /// The fraction of `data` the model classifies correctly now.
    ///
    /// # Panics
    /// If `data` does not fit the model.
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        let loss = self.config.loss;
        let correct = (0..data.len())
            .filter(|&i| loss.predict(&self.model.predict(&self.graph, data.x(i))) == data.label(i))
            .count();
        correct as f64 / data.len() as f64
    }

    /// Fills `order` with the next `batch` rows of the epoch's shuffle.
    fn next_batch(&mut self, n: usize, batch: usize) {
        self.order.clear();
        for _ in 0..batch {
            if self.perm.len() != n || self.cursor >= n {
                self.perm.clear();
                self.perm.extend(0..n);
                self.perm.shuffle(&mut self.rng);
                self.cursor = 0;
            }
            self.order.push(self.perm[self.cursor]);
            self.cursor += 1;
        }
    }
}
