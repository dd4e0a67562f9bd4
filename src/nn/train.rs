//! The training loop: forward, loss, backward, update, truncate.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use std::ops::Range;

use super::lanes::{LaneChunk, Lanes};
use super::loss::l2_ids;
use super::{ForwardBuffers, Loss, Mlp, NnError};
use crate::data::Dataset;
use crate::optim::{LrSchedule, Optimizer};
use crate::{Graph, Mark, NodeId};

/// A step cuts its batch into chunks of about [`CHUNK_ROWS`] rows, at most
/// this many, whatever the number of threads. Each chunk's gradient is
/// computed on its own, and the chunks' gradients are added in chunk order,
/// so the result is the same to the last bit for any thread count (up to
/// this many threads share a step).
pub const CHUNKS: usize = 8;

/// Work per step (rows × parameters) per thread, when
/// [`TrainConfig::threads`] is 0: a step may use one thread per
/// `PARALLEL_WORK` of its work (rounded down, at least one), so a second
/// thread is considered from twice this much; below that, waking a worker
/// and copying the parameters to it costs more than it saves.
/// Measured with `cargo bench --bench threads` (see the README's
/// Performance section).
pub const PARALLEL_WORK: usize = 100_000;

/// The fewest rows worth a chunk of their own: each chunk has a fixed cost
/// (its own backward pass over the parameters, and their gradients copied
/// out), which 25 rows of a small network amortise.
pub const CHUNK_ROWS: usize = 25;

/// How a [`Trainer`] trains. The default is micrograd's demo: 100 steps,
/// full batch, hinge loss, L2 `alpha = 1e-4`, and the learning rate
/// scheduled as `lr · (1 - 0.9 k / 100)` (micrograd's `1 - 0.9 k / 100` with
/// an optimizer of `lr` 1). The learning rate itself is the optimizer's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// The number of steps.
    pub steps: usize,
    /// Rows per step; `None` (or a size of at least the dataset) is full
    /// batch; `Some(0)` is refused by [`Trainer::check`]. Mini-batches walk through a seeded shuffle of the rows, one
    /// epoch after another.
    pub batch_size: Option<usize>,
    /// The data loss.
    pub loss: Loss,
    /// The L2 regularisation strength (0 for none).
    pub alpha: f64,
    /// The learning-rate schedule: step `k` uses the optimizer's own
    /// learning rate (its config's `lr`, as given to the [`Trainer`]) times
    /// the schedule's factor. [`LrSchedule::Constant`] keeps it as it is.
    pub schedule: LrSchedule,
    /// The seed of the mini-batch shuffles.
    pub seed: u64,
    /// The most threads that share a step's batch (and never more than
    /// [`CHUNKS`]); 0 (the default): one per [`PARALLEL_WORK`] of work per
    /// step, up to one per core (see [`Trainer::threads_for`]). When a step
    /// may use several, the trainer times steps on one thread and on
    /// several and keeps the faster, timing again every [`REPROBE_EVERY`]
    /// steps and whenever the batch size changes, so that more threads do
    /// not make training slower (apart from the timing steps themselves,
    /// 16 in every 516); [`Trainer::threads_used`] tells what the last step
    /// used. Results do not depend on it: see [`CHUNKS`]. Without
    /// the `parallel` cargo feature (on by default), a step always runs on
    /// the calling thread.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 100,
            batch_size: None,
            loss: Loss::Hinge,
            alpha: 1e-4,
            schedule: LrSchedule::MICROGRAD,
            seed: 1337,
            threads: 0,
        }
    }
}

/// Training stops as diverged when the loss exceeds this many times its
/// first step's value (or this many times 1, if the first value is
/// smaller): a loss that has grown a thousandfold is not coming back, and
/// the weights are already useless (features around 100 without
/// standardisation, or the MSE loss at lr 1, climb to 1e7 and beyond while
/// the accuracy stays at the majority class).
pub const DIVERGENCE_FACTOR: f64 = 1e3;

/// The most steps a [`History`] keeps by default: past it, every other
/// point is dropped and only every second step is kept from then on (then
/// every fourth, ...), so that a million steps cost as much memory as a
/// few thousand.
pub const HISTORY_POINTS: usize = 4096;

/// The stats of a run of training steps, kept within a bound
/// ([`History::with_capacity`]): evenly spaced steps (every step, or every
/// 2nd, 4th, ... once there are more than the capacity), and always the
/// last step. It reads as a slice of the kept [`StepStats`], in step order.
///
/// ```
/// use backprop::nn::{History, StepStats};
///
/// let mut h = History::with_capacity(4);
/// for step in 0..10 {
///     h.push(StepStats { step, loss: 1.0, accuracy: 1.0, lr: 0.1 });
/// }
/// assert_eq!(h.steps(), 10);
/// let kept: Vec<usize> = h.iter().map(|s| s.step).collect();
/// assert_eq!(kept, [0, 4, 8, 9]);
/// assert_eq!(h.last().unwrap().step, 9);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The evenly spaced steps, then the last step if it is not one.
    points: Vec<StepStats>,
    /// Whether the last point is the off-grid last step.
    extra: bool,
    /// Every `stride`-th step is kept.
    stride: usize,
    capacity: usize,
    steps: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::with_capacity(HISTORY_POINTS)
    }
}

impl History {
    /// An empty history that keeps at most `capacity` evenly spaced steps
    /// (at least 2) and the last one.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            points: Vec::new(),
            extra: false,
            stride: 1,
            capacity: capacity.max(2),
            steps: 0,
        }
    }

    /// Records a step.
    pub fn push(&mut self, s: StepStats) {
        if self.extra {
            self.points.pop();
        }
        let index = self.steps;
        self.steps += 1;
        if index.is_multiple_of(self.stride) && self.points.len() == self.capacity {
            // Keep every other point: the spacing doubles.
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
        }
        self.extra = !index.is_multiple_of(self.stride);
        self.points.push(s);
    }

    /// How many steps were recorded (kept or not).
    pub fn steps(&self) -> usize {
        self.steps
    }
}

impl std::ops::Deref for History {
    type Target = [StepStats];

    fn deref(&self) -> &[StepStats] {
        &self.points
    }
}

/// What one training step measured (before its update, as micrograd
/// prints it). Serializes as `{"step", "loss", "accuracy", "lr"}`, numbers
/// by [`crate::format::JsonNumber`]'s rule (as `backprop train --json`
/// prints its `history`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct StepStats {
    /// The step, from 0.
    pub step: usize,
    /// The total loss (data loss plus regularisation).
    #[serde(serialize_with = "crate::format::json_number")]
    pub loss: f64,
    /// The fraction of the batch classified correctly.
    #[serde(serialize_with = "crate::format::json_number")]
    pub accuracy: f64,
    /// The learning rate used for the update.
    #[serde(serialize_with = "crate::format::json_number")]
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
    /// The optimizer's learning rate when the trainer was made: what the
    /// schedule scales.
    base_lr: f64,
    config: TrainConfig,
    step: usize,
    /// One per thread, each with its own copy of the graph.
    workers: Vec<Worker>,
    #[cfg(feature = "parallel")]
    pool: Option<rayon::ThreadPool>,
    rows: Vec<usize>,
    grads: Vec<f64>,
    perm: Vec<usize>,
    cursor: usize,
    rng: ChaCha8Rng,
    /// The loss of the first step, for [`DIVERGENCE_FACTOR`].
    first_loss: Option<f64>,
    /// Whether steps run the lane program instead of building the scalar
    /// graph (see [`Trainer::set_lane_program`]).
    lanes: bool,
    /// One thread or several: which is faster, as timed.
    choice: ThreadChoice,
    /// The threads the last step used.
    last_threads: usize,
}

/// Steps in a block of timing: the trainer times blocks of this many
/// steps on one thread, then on several, [`PROBE_BLOCKS`] blocks in all,
/// and drops each block's first step (it pays for waking or idling the
/// other thread, which steady running does not).
pub const PROBE_BLOCK: usize = 4;
/// Blocks of timing before choosing (half on one thread, half on several).
pub const PROBE_BLOCKS: usize = 4;
/// How much faster several threads must be timed to be chosen: their
/// median step at most this fraction of one thread's (a wrong choice of
/// several threads costs more than a wrong choice of one).
pub const PROBE_MARGIN: f64 = 0.9;
/// Steps after which the choice is timed again (the machine's load, or
/// the batch, may have changed).
pub const REPROBE_EVERY: usize = 500;

/// Whether several threads pay, decided by timing steps both ways: the
/// first steps alternate blocks of one thread and of several (see
/// [`PROBE_BLOCK`]), then the faster kind (by median, several threads
/// needing a [`PROBE_MARGIN`]) runs for [`REPROBE_EVERY`] steps, then they
/// are timed again. Waking a second thread and merging its gradients has a
/// cost that depends on the machine (on a virtual machine, a thread's
/// wake-up can take as long as a small step), so no fixed threshold of
/// work per step is right everywhere; the timing is. Results do not depend
/// on the choice (see [`CHUNKS`]), only the time does.
#[derive(Clone, Debug, Default)]
struct ThreadChoice {
    /// The batch (rows) and the most threads that the timing is for: when
    /// either changes, the times no longer compare, and timing starts over.
    batch: usize,
    most: usize,
    /// Steps timed so far in this round of timing.
    probed: usize,
    /// Step times (s) with one thread and with several, while timing.
    one: Vec<f64>,
    many: Vec<f64>,
    /// Whether several threads won, once decided, and the steps until the
    /// next timing.
    chosen: Option<bool>,
    until_probe: usize,
}

impl ThreadChoice {
    /// Starts timing over if the next step, on `batch` rows with at most
    /// `most` threads, is not what the timing so far was for.
    fn prepare(&mut self, batch: usize, most: usize) {
        if (self.batch, self.most) != (batch, most) {
            (self.batch, self.most) = (batch, most);
            self.restart();
        }
    }

    /// Forgets the choice and the times (keeping the buffers), so that the
    /// next steps are timed again.
    fn restart(&mut self) {
        self.probed = 0;
        self.one.clear();
        self.many.clear();
        self.chosen = None;
        self.until_probe = 0;
    }

    /// Whether the next step should run on several threads.
    fn many(&self) -> bool {
        self.chosen.unwrap_or((self.probed / PROBE_BLOCK) % 2 == 1)
    }

    /// Records a step that took `secs` on several threads (`many`) or one.
    fn record(&mut self, many: bool, secs: f64) {
        if self.chosen.is_some() {
            self.until_probe = self.until_probe.saturating_sub(1);
            if self.until_probe == 0 {
                self.restart();
            }
            return;
        }
        if !self.probed.is_multiple_of(PROBE_BLOCK) {
            if many {
                self.many.push(secs);
            } else {
                self.one.push(secs);
            }
        }
        self.probed += 1;
        if self.probed == PROBE_BLOCK * PROBE_BLOCKS {
            let faster = median(&mut self.many) <= PROBE_MARGIN * median(&mut self.one);
            self.chosen = Some(faster);
            self.until_probe = REPROBE_EVERY;
        }
    }
}

/// The median of a non-empty list (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// What every chunk of a step shares.
struct Job<'a> {
    model: &'a Mlp,
    data: &'a Dataset,
    rows: &'a [usize],
    chunks: usize,
    loss: Loss,
    alpha: f64,
    /// Whether chunks run the lane program.
    lanes: bool,
}

impl Job<'_> {
    /// The rows of chunk `c`: the batch cut into `chunks` near-equal parts.
    fn chunk(&self, c: usize) -> &[usize] {
        let n = self.rows.len();
        &self.rows[c * n / self.chunks..(c + 1) * n / self.chunks]
    }
}

/// A thread's share of a step: its graph (a copy of the parameters) and
/// every buffer it needs, reused from step to step.
///
/// Aligned to 128 bytes (two cache lines, as the adjacent-line prefetcher
/// fetches them) so that two workers side by side in the trainer's `Vec`
/// never share a line: the buffers' lengths are written on every push, and
/// a shared line made each of two threads' halves of a W3 step take 1.3 to
/// 1.6 times as long as on its own.
#[repr(align(128))]
struct Worker {
    graph: Graph,
    mark: Mark,
    buffers: ForwardBuffers,
    lanes: Lanes,
    /// The chunk's outputs, row after row.
    outputs: Vec<NodeId>,
    labels: Vec<usize>,
    scores: Vec<f64>,
    /// Per chunk, the parameters' gradients (chunk-major).
    grads: Vec<f64>,
    /// Per chunk, its share of the loss.
    losses: Vec<f64>,
    correct: usize,
}

impl Worker {
    fn new(graph: Graph) -> Self {
        let mark = graph.mark();
        Self {
            graph,
            mark,
            buffers: ForwardBuffers::default(),
            lanes: Lanes::default(),
            outputs: Vec::new(),
            labels: Vec::new(),
            scores: Vec::new(),
            grads: Vec::new(),
            losses: Vec::new(),
            correct: 0,
        }
    }

    /// Forward and backward for each chunk in `chunks`: each chunk's loss is
    /// its rows' share of the batch's mean loss (chunk 0 adds the L2 term),
    /// and its gradient is taken out of the graph before the next chunk.
    fn run(&mut self, job: &Job<'_>, chunks: Range<usize>) {
        let params = job.model.parameters();
        self.grads.clear();
        self.losses.clear();
        self.correct = 0;
        for c in chunks {
            let rows = job.chunk(c);
            let value = if job.lanes {
                // The same numbers as below, without building the graph.
                let lane_job = LaneChunk {
                    data: job.data,
                    rows,
                    batch_rows: job.rows.len(),
                    loss: job.loss,
                    alpha: if c == 0 { job.alpha } else { 0.0 },
                };
                let (value, correct) = self.lanes.chunk(job.model, &mut self.graph, &lane_job);
                self.correct += correct;
                value
            } else {
                let g = &self.graph;
                self.outputs.clear();
                self.labels.clear();
                for &i in rows {
                    let inputs = &mut self.buffers.cur;
                    inputs.clear();
                    inputs.extend(job.data.x(i).iter().map(|&v| g.value(v).id()));
                    job.model.forward_ids(g, &mut self.buffers);
                    let out = &self.buffers.cur;
                    self.scores.clear();
                    self.scores.extend(out.iter().map(|&id| g.get(id).data()));
                    let label = job.data.label(i);
                    self.correct += usize::from(job.loss.predict(&self.scores) == label);
                    self.labels.push(label);
                    self.outputs.extend_from_slice(out);
                }
                let mut loss = job.loss.compute_ids(g, &self.outputs, &self.labels);
                if rows.len() != job.rows.len() {
                    loss *= rows.len() as f64 / job.rows.len() as f64;
                }
                if c == 0 && job.alpha != 0.0 {
                    loss += l2_ids(g, params, job.alpha);
                }
                let value = loss.data();
                if value.is_finite() {
                    // Dead relus and samples past the hinge pass a zero
                    // gradient: skipping them gives the same gradients
                    // (see its contract), at a fraction of the work.
                    loss.backward_skip_zeros();
                }
                value
            };
            self.losses.push(value);
            let (_, grad) = self.graph.data_and_grad_mut();
            for &p in params {
                self.grads.push(grad[p.index()]);
                grad[p.index()] = 0.0;
            }
            self.graph.truncate(self.mark);
        }
    }
}

impl Trainer {
    /// A trainer for `model`, whose parameters live on `graph`. Everything
    /// on the graph so far is kept; what a step builds is dropped after it.
    /// The optimizer's learning rate now is the one the schedule scales.
    ///
    /// # Panics
    /// If the model's parameters are not live nodes of `graph` (the model
    /// was built on another graph), or if the thread pool for
    /// [`TrainConfig::threads`] cannot be started.
    pub fn new(
        graph: Graph,
        model: Mlp,
        optimizer: Box<dyn Optimizer>,
        config: TrainConfig,
    ) -> Self {
        graph.check_ids(model.parameters());
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .min(CHUNKS);
        // Without the `parallel` feature there is one worker.
        #[cfg(not(feature = "parallel"))]
        let threads = threads.min(1);
        #[cfg(feature = "parallel")]
        let pool = (threads > 1).then(|| {
            // The calling thread is the first worker (see `step`).
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .build()
                .expect("cannot start the training threads")
        });
        let workers = (0..threads).map(|_| Worker::new(graph.clone())).collect();
        let lanes = Lanes::supports(&model);
        Self {
            graph,
            model,
            base_lr: optimizer.lr(),
            optimizer,
            config,
            step: 0,
            workers,
            #[cfg(feature = "parallel")]
            pool,
            rows: Vec::new(),
            grads: Vec::new(),
            perm: Vec::new(),
            cursor: 0,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            first_loss: None,
            lanes,
            choice: ThreadChoice::default(),
            last_threads: 1,
        }
    }

    /// The most threads a step uses.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }

    /// The threads the last step used: 1, or [`Trainer::threads_for`] its
    /// batch when several threads were timed faster than one (see
    /// [`TrainConfig::threads`]).
    pub fn threads_used(&self) -> usize {
        self.last_threads
    }

    /// The most threads a step on a batch of `batch` rows may use (it uses
    /// them when they were timed faster than one: see
    /// [`TrainConfig::threads`]): at most
    /// [`Trainer::threads`] and one per chunk ([`CHUNK_ROWS`], [`CHUNKS`]);
    /// with [`TrainConfig::threads`] 0, also at most one per
    /// [`PARALLEL_WORK`] of work (rows × parameters, rounded down, at least
    /// one), so that a small step stays on one thread.
    ///
    /// ```
    /// use backprop::{Graph, nn::{Mlp, MlpConfig, TrainConfig, Trainer}, optim::{Sgd, SgdConfig}};
    ///
    /// let g = Graph::new();
    /// let model = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    /// let opt = Box::new(Sgd::new(SgdConfig::default()));
    /// let t = Trainer::new(g, model, opt, TrainConfig::default());
    /// assert_eq!(t.threads_for(100), 1); // micrograd's demo: 33,700 of work
    /// assert_eq!(t.threads_for(1000), t.threads().min(3));
    /// ```
    pub fn threads_for(&self, batch: usize) -> usize {
        let chunks = batch.div_ceil(CHUNK_ROWS).clamp(1, CHUNKS);
        let most = self.workers.len().min(chunks);
        if self.config.threads != 0 {
            return most;
        }
        let work = batch.saturating_mul(self.model.parameters().len());
        (work / PARALLEL_WORK).clamp(1, most)
    }

    /// Whether a step runs the lane program (the default, for any model
    /// whose parameters are consecutive nodes, as [`Mlp::new`] makes them)
    /// or builds one scalar graph per row and runs its backward pass (the
    /// reference). Both give the same loss, accuracy and gradients to the
    /// last bit; the lane program is several times faster.
    pub fn lane_program(&self) -> bool {
        self.lanes
    }

    /// Chooses the lane program (`true`, the default, used only where it
    /// applies: see [`Trainer::lane_program`]) or the scalar graph
    /// (`false`) for the next steps: for tests and benchmarks that compare
    /// the two.
    pub fn set_lane_program(&mut self, on: bool) {
        self.lanes = on && Lanes::supports(&self.model);
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

    /// Checks that the configuration is usable and that the model and the
    /// loss fit the data.
    ///
    /// # Errors
    /// [`NnError::ZeroSize`] for `batch_size: Some(0)`,
    /// [`NnError::InvalidConfig`] for a learning rate or L2 strength that
    /// is not a finite number (or a negative L2 strength), a feature count
    /// or output size that does not match, or a binary loss on more than
    /// two classes.
    pub fn check(&self, data: &Dataset) -> Result<(), NnError> {
        let c = &self.config;
        if c.batch_size == Some(0) {
            return Err(NnError::ZeroSize {
                what: "batch_size".into(),
            });
        }
        if !self.base_lr.is_finite() {
            return Err(NnError::InvalidConfig(format!(
                "the optimizer's lr is {}, expected a finite number",
                self.base_lr
            )));
        }
        if !(c.alpha.is_finite() && c.alpha >= 0.0) {
            return Err(NnError::InvalidConfig(format!(
                "alpha is {}, expected a finite number of at least 0",
                c.alpha
            )));
        }
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
    /// A [`Trainer::check`] error if `data` does not fit the model and the
    /// loss, or [`NnError::Diverged`] if the loss is NaN or infinite, or
    /// more than [`DIVERGENCE_FACTOR`] times the first step's (the
    /// parameters are then left as they were before this step).
    pub fn step(&mut self, data: &Dataset) -> Result<StepStats, NnError> {
        self.check(data)?;
        let n = data.len();
        let batch = self.config.batch_size.unwrap_or(n).clamp(1, n);
        if batch == n {
            self.rows.clear();
            self.rows.extend(0..n);
        } else {
            self.next_batch(n, batch);
        }
        let lr = self.base_lr * self.config.schedule.factor(self.step, self.config.steps);
        let chunks = batch.div_ceil(CHUNK_ROWS).clamp(1, CHUNKS);
        let most = self.threads_for(batch);
        if most > 1 {
            self.choice.prepare(batch, most);
        }
        let many = most > 1 && self.choice.many();
        let active = if many { most } else { 1 };
        // Timed only where several threads may run (for the choice).
        let started = (most > 1).then(std::time::Instant::now);
        let params = self.model.parameters();

        // Every worker starts from the current parameters.
        let (data_now, _) = self.graph.data_and_grad_mut();
        for w in &mut self.workers[..active] {
            let (d, _) = w.graph.data_and_grad_mut();
            for &p in params {
                d[p.index()] = data_now[p.index()];
            }
        }
        let job = Job {
            model: &self.model,
            data,
            rows: &self.rows,
            chunks,
            loss: self.config.loss,
            alpha: self.config.alpha,
            lanes: self.lanes,
        };
        #[cfg(feature = "parallel")]
        match &self.pool {
            Some(pool) if active > 1 => {
                // Worker `w` takes a contiguous run of chunks, so that
                // reading the workers in order reads the chunks in order.
                // The calling thread runs the first share itself, so a
                // step keeps at most one thread per core busy.
                let share = |w: usize| w * chunks / active..(w + 1) * chunks / active;
                let job = &job;
                let (first, rest) = self.workers[..active]
                    .split_first_mut()
                    .expect("active > 1");
                pool.in_place_scope(|s| {
                    for (w, worker) in rest.iter_mut().enumerate() {
                        s.spawn(move |_| worker.run(job, share(w + 1)));
                    }
                    first.run(job, share(0));
                });
            }
            _ => self.workers[0].run(&job, 0..chunks),
        }
        // Without threads, one worker takes every chunk in turn: the same
        // chunks, so the same sums.
        #[cfg(not(feature = "parallel"))]
        self.workers[0].run(&job, 0..chunks);

        // Add up in chunk order: the same sums for any number of threads.
        let np = params.len();
        self.grads.clear();
        self.grads.resize(np, 0.0);
        let mut loss = 0.0;
        let mut correct = 0;
        for w in &self.workers[..active] {
            for (c, chunk_loss) in w.losses.iter().enumerate() {
                loss += chunk_loss;
                for (acc, g) in self.grads.iter_mut().zip(&w.grads[c * np..(c + 1) * np]) {
                    *acc += g;
                }
            }
            correct += w.correct;
        }
        if let Some(started) = started {
            self.choice.record(many, started.elapsed().as_secs_f64());
        }
        self.last_threads = active;
        let first = *self.first_loss.get_or_insert(loss);
        if !loss.is_finite() || loss > DIVERGENCE_FACTOR * first.max(1.0) {
            return Err(NnError::Diverged {
                step: self.step,
                loss,
                first,
            });
        }
        let (_, grad) = self.graph.data_and_grad_mut();
        for (&p, g) in params.iter().zip(&self.grads) {
            grad[p.index()] += g;
        }
        self.optimizer.set_lr(lr);
        self.optimizer.step(&mut self.graph, params);
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
    /// `on_step` after each, and returns their stats as a [`History`]
    /// (every step up to [`HISTORY_POINTS`] steps, evenly spaced ones past
    /// that: memory stays the same for any number of steps).
    ///
    /// # Errors
    /// As [`Trainer::check`] and [`Trainer::step`]; stops at the first.
    pub fn fit(
        &mut self,
        data: &Dataset,
        mut on_step: impl FnMut(&StepStats),
    ) -> Result<History, NnError> {
        self.fit_with(data, |_, s| on_step(s))
    }

    /// [`Trainer::fit`], with the trainer itself passed to `on_step` after
    /// each update: the callback can read the weights as they are after
    /// that step ([`Trainer::model`], [`Trainer::graph`],
    /// [`Trainer::steps_taken`]), to keep snapshots of the run (see
    /// [`crate::explain::SnapshotRecorder`]).
    ///
    /// ```
    /// use backprop::{Graph, data, nn::{Mlp, MlpConfig, TrainConfig, Trainer}, optim::{Sgd, SgdConfig}};
    ///
    /// let d = data::moons(20, 0.1, 1);
    /// let g = Graph::new();
    /// let model = Mlp::new(&g, 2, &[4, 1], &MlpConfig::default()).unwrap();
    /// let opt = Box::new(Sgd::new(SgdConfig::default()));
    /// let mut t = Trainer::new(g, model, opt, TrainConfig { steps: 3, ..Default::default() });
    /// let mut taken = Vec::new();
    /// t.fit_with(&d, |t, s| taken.push((s.step, t.steps_taken()))).unwrap();
    /// assert_eq!(taken, [(0, 1), (1, 2), (2, 3)]);
    /// ```
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    pub fn fit_with(
        &mut self,
        data: &Dataset,
        mut on_step: impl FnMut(&Trainer, &StepStats),
    ) -> Result<History, NnError> {
        self.check(data)?;
        let mut history = History::default();
        while self.step < self.config.steps {
            let s = self.step(data)?;
            on_step(self, &s);
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

    /// Fills `rows` with the next `batch` rows of the epoch's shuffle.
    fn next_batch(&mut self, n: usize, batch: usize) {
        self.rows.clear();
        for _ in 0..batch {
            if self.perm.len() != n || self.cursor >= n {
                self.perm.clear();
                self.perm.extend(0..n);
                self.perm.shuffle(&mut self.rng);
                self.cursor = 0;
            }
            self.rows.push(self.perm[self.cursor]);
            self.cursor += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `ThreadChoice` steps that take `one` s on one thread and
    /// `many` s on several; returns the kinds it ran.
    fn run(choice: &mut ThreadChoice, steps: usize, one: f64, many: f64) -> Vec<bool> {
        (0..steps)
            .map(|_| {
                let m = choice.many();
                choice.record(m, if m { many } else { one });
                m
            })
            .collect()
    }

    const PROBE: usize = PROBE_BLOCK * PROBE_BLOCKS;

    #[test]
    fn thread_choice_times_both_then_keeps_the_faster() {
        for (one, many, want) in [(2.0, 1.0, true), (1.0, 2.0, false), (1.0, 0.95, false)] {
            let mut c = ThreadChoice::default();
            let probe = run(&mut c, PROBE, one, many);
            // Blocks of one thread, then several, in turn: half each.
            assert_eq!(probe.iter().filter(|&&m| m).count(), PROBE / 2);
            assert!(!probe[0] && probe[PROBE_BLOCK]);
            let after = run(&mut c, REPROBE_EVERY, one, many);
            assert!(
                after.iter().all(|&m| m == want),
                "one {one} s, many {many} s"
            );
            // Then timed again: when the times change, so does the choice.
            let (one2, many2) = if want {
                (one, one)
            } else {
                (2.0 * one, many / 2.0)
            };
            let probe = run(&mut c, PROBE, one2, many2);
            assert_eq!(probe.iter().filter(|&&m| m).count(), PROBE / 2);
            assert!(run(&mut c, 10, one2, many2).iter().all(|&m| m != want));
        }
    }

    #[test]
    fn thread_choice_starts_over_when_the_batch_or_the_threads_change() {
        let mut c = ThreadChoice::default();
        c.prepare(1000, 2);
        run(&mut c, PROBE, 2.0, 1.0);
        assert!(c.chosen == Some(true));
        c.prepare(1000, 2);
        assert!(c.chosen == Some(true), "the same step keeps the choice");
        // A smaller batch: its times were never compared.
        c.prepare(50, 2);
        assert!(c.chosen.is_none() && !c.many());
        let probe = run(&mut c, PROBE, 1.0, 2.0);
        assert_eq!(probe.iter().filter(|&&m| m).count(), PROBE / 2);
        assert!(c.chosen == Some(false));
        c.prepare(50, 8);
        assert!(c.chosen.is_none());
    }

    #[test]
    fn thread_choice_goes_by_the_median_and_drops_each_blocks_first_step() {
        let mut c = ThreadChoice::default();
        for k in 0..PROBE {
            let m = c.many();
            // Several threads are faster, except the first step of each of
            // their blocks (waking the other thread) and one stall.
            let t = match (m, k % PROBE_BLOCK, k) {
                (false, _, _) => 1.0,
                (true, 0, _) => 100.0,
                (true, _, 6) => 50.0,
                (true, _, _) => 0.5,
            };
            c.record(m, t);
        }
        assert!(c.many());
    }
}
