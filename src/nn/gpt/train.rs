//! Training a [`Gpt`] one document per step with Adam, and sampling from it.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::program::Program;
use super::{Formulation, Gpt, GptError, KvCache, Tokenizer};
use crate::{Graph, Mark};

/// How [`GptTrainer`] trains; the defaults are microgpt's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainOptions {
    /// Steps, one document each (default 1000); the learning rate decays
    /// linearly to 0 over them.
    pub steps: usize,
    /// The initial learning rate (default 0.01).
    pub lr: f64,
    /// The seed of the document shuffle (default 42).
    pub seed: u64,
    /// Whether to shuffle the documents first (default true).
    pub shuffle: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            steps: 1000,
            lr: 0.01,
            seed: 42,
            shuffle: true,
        }
    }
}

/// Adam's hyper-parameters in microgpt: β1 0.85, β2 0.99.
pub const ADAM_BETAS: (f64, f64) = (0.85, 0.99);
/// Adam's eps in microgpt.
pub const ADAM_EPS: f64 = 1e-8;

/// microgpt's Adam, written out as it is there, over the model's
/// parameters (one run of consecutive nodes, so the loop reads contiguous
/// memory and vectorizes).
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    /// Step `k` (from 0) at learning rate `lr_t` on the parameters
    /// `data[range]`, whose gradients it then zeroes:
    /// `m = β1 m + (1 - β1) g`, `v = β2 v + (1 - β2) g²`,
    /// `m̂ = m / (1 - β1^(k+1))`, `v̂ = v / (1 - β2^(k+1))`,
    /// `p -= lr_t m̂ / (√v̂ + eps)`.
    fn step(&mut self, g: &mut Graph, range: std::ops::Range<usize>, k: usize, lr_t: f64) {
        let (data, grad) = g.data_and_grad_mut();
        let (data, grad) = (&mut data[range.clone()], &mut grad[range]);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2, checked just above.
            return unsafe { self.update_avx2(data, grad, k, lr_t) };
        }
        self.update(data, grad, k, lr_t);
    }

    /// [`Adam::update`] compiled for AVX2 (four square roots and divisions
    /// at a time instead of two), chosen at run time: the same IEEE
    /// operations in the same order, so the same numbers to the last bit.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn update_avx2(&mut self, data: &mut [f64], grad: &mut [f64], k: usize, lr_t: f64) {
        self.update(data, grad, k, lr_t);
    }

    /// The update of [`Adam::step`] on the parameters' data and gradients.
    #[inline(always)]
    fn update(&mut self, data: &mut [f64], grad: &mut [f64], k: usize, lr_t: f64) {
        let (b1, b2) = ADAM_BETAS;
        let t = (k + 1) as f64;
        // Dividing by the bias corrections as multiplying by their
        // inverses: one division per parameter instead of three (the same
        // formula, rounded differently in the last bit).
        let (r1, r2) = (1.0 / (1.0 - b1.powf(t)), 1.0 / (1.0 - b2.powf(t)));
        for (((p, gr), m), v) in data
            .iter_mut()
            .zip(grad.iter_mut())
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let gi = *gr;
            *m = b1 * *m + (1.0 - b1) * gi;
            *v = b2 * *v + (1.0 - b2) * (gi * gi);
            let m_hat = *m * r1;
            let v_hat = *v * r2;
            *p -= lr_t * m_hat / (v_hat.sqrt() + ADAM_EPS);
            *gr = 0.0;
        }
    }
}

/// Trains a [`Gpt`] as microgpt does: step `k` takes document `k mod N`
/// (after a seeded shuffle), computes its loss, back-propagates, and takes
/// an Adam step (β1 0.85, β2 0.99, eps 1e-8, with bias correction) at
/// `lr_k = lr * (1 - k / steps)`.
///
/// The graph is truncated back to the parameters after every step, so
/// memory stays flat however many steps run.
///
/// ```
/// use backprop::Graph;
/// use backprop::nn::gpt::{Gpt, GptConfig, GptTrainer, Tokenizer, TrainOptions};
///
/// let docs: Vec<String> = ["emma", "olivia", "ava", "isabella"].map(String::from).into();
/// let tok = Tokenizer::from_documents(&docs);
/// let config = GptConfig { vocab_size: tok.vocab_size(), n_embd: 8, n_head: 2, ..Default::default() };
/// let g = Graph::new();
/// let model = Gpt::new(&g, config, 1).unwrap();
/// let options = TrainOptions { steps: 40, ..Default::default() };
/// let mut trainer = GptTrainer::new(g, model, &docs, &tok, options);
/// let losses: Vec<f64> = (0..40).map(|_| trainer.step()).collect();
/// assert!(losses[36..].iter().sum::<f64>() < losses[..4].iter().sum::<f64>());
/// ```
pub struct GptTrainer {
    graph: Graph,
    model: Gpt,
    adam: Adam,
    mark: Mark,
    docs: Vec<Vec<usize>>,
    options: TrainOptions,
    k: usize,
    /// The lane program's buffers, when steps run it (see
    /// [`GptTrainer::set_lane_program`]).
    program: Option<Program>,
}

impl GptTrainer {
    /// A trainer of `model` (whose parameters live on `graph`) on `docs`,
    /// tokenized with `tokenizer`.
    ///
    /// # Panics
    /// If `docs` is empty, or a document has a character the tokenizer
    /// lacks (build the tokenizer from the documents), or the model's
    /// parameters are not live nodes of `graph` (it was built on another).
    pub fn new(
        graph: Graph,
        model: Gpt,
        docs: &[String],
        tokenizer: &Tokenizer,
        options: TrainOptions,
    ) -> Self {
        assert!(!docs.is_empty(), "GptTrainer needs at least one document");
        graph.check_ids(model.parameters());
        graph.check_ids(&model.constants());
        let block = model.config().block_size;
        let mut docs: Vec<Vec<usize>> = docs
            .iter()
            .map(|d| {
                assert!(
                    d.chars().all(|c| tokenizer.token(c).is_some()),
                    "document {d:?} has characters outside the vocabulary"
                );
                tokenizer.document(d, block)
            })
            .collect();
        if options.shuffle {
            docs.shuffle(&mut rng(options.seed, 1));
        }
        let n = model.parameters().len();
        let adam = Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        };
        let mark = graph.mark();
        Self {
            graph,
            model,
            adam,
            mark,
            docs,
            options,
            k: 0,
            program: Some(Program::default()),
        }
    }

    /// One training step on the next document; returns its loss (before
    /// the update).
    pub fn step(&mut self) -> f64 {
        let doc = &self.docs[self.k % self.docs.len()];
        let range = self.model.parameter_range();
        let loss = if let (Some(program), Formulation::Fused) =
            (&mut self.program, self.model.formulation())
        {
            let (data, grad) = self.graph.data_and_grad_mut();
            program.loss_and_grad(
                &self.model,
                &data[range.clone()],
                &mut grad[range.clone()],
                doc,
            )
        } else {
            let loss = self.model.loss(&self.graph, doc);
            // The same gradients as `backward` (see its contract), with no
            // work spent on relus that are off.
            loss.backward_skip_zeros();
            loss.data()
        };
        let steps = self.options.steps.max(1) as f64;
        let lr_t = self.options.lr * (1.0 - self.k as f64 / steps);
        self.adam.step(&mut self.graph, range, self.k, lr_t);
        let (_, grad) = self.graph.data_and_grad_mut();
        for c in self.model.constants() {
            grad[c.index()] = 0.0;
        }
        self.graph.truncate(self.mark);
        self.k += 1;
        loss
    }

    /// Whether steps run the lane program: [`Gpt::loss`] and its backward
    /// pass computed from plain buffers, layer by layer over all positions
    /// of the document, without building the scalar graph (the default, for
    /// [`Formulation::Fused`] models). The other way builds the scalar
    /// graph and sweeps it back (the reference; always so for
    /// [`Formulation::Plain`]). Losses and gradients agree to rounding
    /// (within 1e-12 of the largest gradient in the tests); the lane
    /// program is about four times faster.
    pub fn lane_program(&self) -> bool {
        self.program.is_some() && self.model.formulation() == Formulation::Fused
    }

    /// Chooses the lane program (`true`, the default) or the scalar graph
    /// (`false`) for the next steps: for tests and benchmarks that compare
    /// the two.
    pub fn set_lane_program(&mut self, on: bool) {
        self.program = on.then(Program::default);
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.k
    }

    /// The documents as tokens, in training order.
    pub fn documents(&self) -> &[Vec<usize>] {
        &self.docs
    }

    /// The graph holding the parameters.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The graph, mutably (to sample, which builds and then drops nodes).
    pub fn graph_mut(&mut self) -> &mut Graph {
        &mut self.graph
    }

    /// The model.
    pub fn model(&self) -> &Gpt {
        &self.model
    }

    /// The graph and model, e.g. to keep sampling after training.
    pub fn into_parts(self) -> (Graph, Gpt) {
        (self.graph, self.model)
    }
}

/// The seeded RNG of one purpose (`stream` 0: initial weights, 1: the
/// document shuffle, 2: sampling).
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Samples one sequence as microgpt does: from `BOS` (then the `prefix`
/// tokens, fed as given), each next token is drawn from
/// `softmax(logits / temperature)`, until `BOS` is drawn or the context
/// (`block_size` positions) is full. Returns the tokens after `BOS`,
/// prefix included, without the final `BOS`.
///
/// The nodes it builds on `g` are dropped before it returns.
///
/// ```
/// use backprop::Graph;
/// use backprop::nn::gpt::{Gpt, GptConfig, sample};
/// use rand::SeedableRng;
///
/// let mut g = Graph::new();
/// let model = Gpt::new(&g, GptConfig::default(), 7).unwrap();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
/// let s = sample(&mut g, &model, &mut rng, 0.5, &[0, 1]).unwrap();
/// assert_eq!(&s[..2], &[0, 1]);
/// assert!(s.len() <= 16 && s.iter().all(|&t| t < 26));
/// ```
///
/// # Errors
/// [`GptError::Temperature`] for a temperature that is not finite and
/// above 0, [`GptError::PrefixTooLong`] for a prefix of `block_size` tokens
/// or more, [`GptError::UnknownChars`] for a prefix token outside the
/// vocabulary or equal to `BOS`.
pub fn sample(
    g: &mut Graph,
    model: &Gpt,
    rng: &mut impl Rng,
    temperature: f64,
    prefix: &[usize],
) -> Result<Vec<usize>, GptError> {
    let c = model.config();
    let bos = c.vocab_size - 1;
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(GptError::Temperature(temperature));
    }
    if prefix.len() >= c.block_size {
        return Err(GptError::PrefixTooLong {
            len: prefix.len(),
            block_size: c.block_size,
        });
    }
    if let Some(t) = prefix.iter().find(|&&t| t >= bos) {
        return Err(GptError::UnknownChars {
            chars: format!("token {t}"),
            vocab: format!("tokens 0 to {}", bos - 1),
        });
    }
    let mark = g.mark();
    let drawn = draw(g, model, rng, temperature, prefix);
    g.truncate(mark);
    drawn
}

/// [`sample`]'s loop, once its arguments are checked; the caller drops
/// the nodes it builds.
fn draw(
    g: &Graph,
    model: &Gpt,
    rng: &mut impl Rng,
    temperature: f64,
    prefix: &[usize],
) -> Result<Vec<usize>, GptError> {
    let c = model.config();
    let bos = c.vocab_size - 1;
    let mut out = prefix.to_vec();
    {
        let mut cache = KvCache::new(c.n_layer);
        let mut token = bos;
        let mut probs = vec![0.0; c.vocab_size];
        for pos in 0..c.block_size {
            let logits = model.forward(g, token, pos, &mut cache);
            if pos < prefix.len() {
                token = prefix[pos];
                continue;
            }
            for (p, l) in probs.iter_mut().zip(&logits) {
                *p = l.data();
            }
            if let Some(i) = probs.iter().position(|p| !p.is_finite()) {
                return Err(GptError::NonFiniteLogit {
                    position: pos,
                    token: i,
                    value: probs[i],
                });
            }
            let total = softmax_weights(&mut probs, temperature);
            let mut u = rng.r#gen::<f64>() * total;
            token = probs.len() - 1;
            for (i, &p) in probs.iter().enumerate() {
                if u < p {
                    token = i;
                    break;
                }
                u -= p;
            }
            if token == bos {
                break;
            }
            out.push(token);
        }
    }
    Ok(out)
}

/// Turns finite `logits` into the unnormalized weights of
/// `softmax(logits / temperature)` in place and returns their sum, for
/// any finite `temperature` above 0. The largest logit gets weight 1 (so
/// the sum is at least 1 and never NaN): as microgpt computes it,
/// `exp(l / T - max / T)`, while `max / T` is finite, and
/// `exp((l - max) / T)` when it overflows (a subnormal `T`), where the
/// largest logits share the draw, as greedy decoding would pick them.
fn softmax_weights(logits: &mut [f64], temperature: f64) -> f64 {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let scaled_max = max / temperature;
    let mut total = 0.0;
    for p in logits.iter_mut() {
        *p = if scaled_max.is_finite() {
            (*p / temperature - scaled_max).exp()
        } else {
            ((*p - max) / temperature).exp()
        };
        total += *p;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// softmax(l / T) for any finite T above 0: the usual weights for an
    /// ordinary T, and for a subnormal T, where l / T overflows, all the
    /// weight on the largest logits (shared when they tie), never NaN.
    #[test]
    fn softmax_weights_for_any_positive_temperature() {
        let mut w = [0.0, 2f64.ln(), 0.0];
        let total = softmax_weights(&mut w, 1.0);
        assert!((total - 2.0).abs() < 1e-15, "{total}");
        assert_eq!(w[1], 1.0);
        assert!((w[0] - 0.5).abs() < 1e-15 && w[0] == w[2], "{w:?}");
        for t in [1e-310, 5e-324, f64::MIN_POSITIVE, 1e-300] {
            let mut w = [0.25, 1.5, -3.0, 1.5];
            let total = softmax_weights(&mut w, t);
            assert_eq!((w, total), ([0.0, 1.0, 0.0, 1.0], 2.0), "T = {t:e}");
        }
        let mut w = [1e308, -1e308];
        assert_eq!(softmax_weights(&mut w, 1e-300), 1.0);
        assert_eq!(w, [1.0, 0.0]);
        let mut w = [0.25, -3.0];
        assert_eq!(softmax_weights(&mut w, 1e300), 2.0);
        assert_eq!(w, [1.0, 1.0]);
    }

    /// Adam's AVX2 build and its baseline one give the same parameters,
    /// moments and zeroed gradients to the last bit.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn adam_avx2_and_baseline_agree_to_the_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("this CPU has no AVX2: nothing to compare");
            return;
        }
        let n = 37; // not a multiple of any vector width
        let data0: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let grad0: Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).cos() * 1e-3).collect();
        let mut a = Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        };
        let mut b = Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        };
        let (mut d0, mut d1) = (data0.clone(), data0.clone());
        for k in 0..5 {
            let (mut g0, mut g1) = (grad0.clone(), grad0.clone());
            a.update(&mut d0, &mut g0, k, 0.01);
            // SAFETY: AVX2 was detected above.
            unsafe { b.update_avx2(&mut d1, &mut g1, k, 0.01) };
            assert!(g0.iter().chain(&g1).all(|&x| x == 0.0));
        }
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&d0), bits(&d1));
        assert_eq!(bits(&a.m), bits(&b.m));
        assert_eq!(bits(&a.v), bits(&b.v));
        assert_ne!(bits(&d0), bits(&data0));
    }
}
