//! microgpt: a GPT built from scalar [`Value`]s and trained on names.
//!
//! This is the algorithm of Andrej Karpathy's microgpt (February 2026,
//! about 200 lines of Python on a micrograd-style engine), written on this
//! crate's [`Graph`]:
//!
//! - **Parameters** (named as in its state dict, no biases, drawn from
//!   N(0, 0.08²)): `wte` [vocab, n_embd], `wpe` [block_size, n_embd],
//!   `lm_head` [vocab, n_embd], and per layer `i`: `layer{i}.attn_wq`,
//!   `attn_wk`, `attn_wv`, `attn_wo` [n_embd, n_embd], `layer{i}.mlp_fc1`
//!   [4 n_embd, n_embd] and `layer{i}.mlp_fc2` [n_embd, 4 n_embd].
//! - **`rmsnorm(x)`** `= x * (mean(x²) + 1e-5) ** -0.5`.
//! - **One token** at position `pos`: `x = rmsnorm(wte[token] + wpe[pos])`;
//!   per layer, attention over the key/value cache of the earlier
//!   positions (`x + attn_wo · concat_h(Σ_t softmax_t(q_h·k_t,h / √head_dim) v_t,h)`
//!   with `q, k, v` the products of `attn_wq/wk/wv` with `rmsnorm(x)`), then
//!   the MLP (`x + mlp_fc2 · relu(mlp_fc1 · rmsnorm(x))`); the logits are
//!   `lm_head · x`.
//! - **Loss** of a document: the mean over its positions of
//!   `-ln softmax(logits)[next token]`.
//!
//! Matrix-vector products, attention logits and attention-weighted sums are
//! fused [`Op::Dot`](crate::Op::Dot) nodes (see [`Graph::linear_runs`]),
//! sums are [`Op::Sum`](crate::Op::Sum) nodes; everything else is one node
//! per scalar operation, so every number can be drawn. [`Formulation::Plain`]
//! builds the same model from binary `+` and `*` only, as microgpt does.
//!
//! ```
//! use backprop::Graph;
//! use backprop::nn::gpt::{Gpt, GptConfig, Tokenizer};
//!
//! let docs = ["emma", "olivia", "ava"];
//! let tok = Tokenizer::from_documents(&docs);
//! let config = GptConfig { vocab_size: tok.vocab_size(), ..GptConfig::default() };
//! let g = Graph::new();
//! let model = Gpt::new(&g, config, 42).unwrap();
//! assert_eq!(model.parameters().len(), config.num_parameters());
//! let loss = model.loss(&g, &tok.document("emma", config.block_size));
//! // Untrained, every token is about equally likely.
//! assert!((loss.data() - (tok.vocab_size() as f64).ln()).abs() < 0.2);
//! ```

mod data;
mod io;
mod program;
mod train;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Graph, NodeId, Value};

pub use data::{NAMES, Tokenizer, documents};
pub use io::{GptWeights, Tensor};
pub use train::{GptTrainer, TrainOptions, sample};

/// Largest accepted `n_layer`.
pub const MAX_LAYERS: usize = 64;
/// Largest accepted `n_embd`.
pub const MAX_EMBD: usize = 1024;
/// Largest accepted `block_size` (context length).
pub const MAX_BLOCK_SIZE: usize = 1024;
/// Largest accepted number of parameters (about 50 bytes of memory each
/// during training, besides a step's activations: see [`MAX_STEP_BYTES`]).
pub const MAX_PARAMETERS: usize = 1 << 24;
/// Largest accepted memory for one training step's activations and
/// attention weights over a whole block ([`GptConfig::step_bytes`]): 4 GiB.
/// Attention grows as `n_layer × n_head × block_size²`, so sizes that are
/// each accepted can together need far more than a machine has.
pub const MAX_STEP_BYTES: u64 = 4 << 30;
/// Largest weight file read (`--init`, `--model`): 1 GiB, room for
/// [`MAX_PARAMETERS`] as JSON text.
pub const MAX_WEIGHT_BYTES: u64 = 1 << 30;
/// Largest training text read (`--data`): 256 MiB, about a thousand times
/// the names.
pub const MAX_DATA_BYTES: u64 = 256 << 20;

/// The standard deviation of the initial weights (microgpt's 0.08).
pub const INIT_STD: f64 = 0.08;

/// Errors of the GPT: bad sizes, bad data, bad weight files.
#[derive(Debug, thiserror::Error)]
pub enum GptError {
    /// A size out of its accepted range.
    #[error("{what} must be between {min} and {max}, got {got}")]
    Size {
        /// Which size (`n_embd`, ...).
        what: &'static str,
        /// The value given.
        got: usize,
        /// Smallest accepted.
        min: usize,
        /// Largest accepted.
        max: usize,
    },
    /// `n_embd` not a multiple of `n_head`.
    #[error("n_embd {n_embd} is not divisible by n_head {n_head}")]
    Heads {
        /// The embedding size.
        n_embd: usize,
        /// The number of heads.
        n_head: usize,
    },
    /// More parameters than [`MAX_PARAMETERS`].
    #[error("the model would have {parameters} parameters; at most {max} are accepted")]
    TooLarge {
        /// Parameters of the configuration.
        parameters: usize,
        /// The limit.
        max: usize,
    },
    /// A training step over a whole block would need more than
    /// [`MAX_STEP_BYTES`] of memory.
    #[error(
        "a training step over a whole block would need {} MiB for activations and attention \
         (n_layer × n_head × block_size² dominates); at most {} MiB is accepted: \
         use fewer layers or heads or a smaller block size",
        bytes >> 20,
        max >> 20
    )]
    StepTooLarge {
        /// Bytes one step would need ([`GptConfig::step_bytes`]).
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A data file with no documents.
    #[error("the data has no documents: it is empty or has only blank lines")]
    NoDocuments,
    /// A data line that is not UTF-8.
    #[error("line {line} is not valid UTF-8 (at byte {column} of the line)")]
    NotUtf8 {
        /// 1-based line number.
        line: usize,
        /// 1-based byte in the line where the invalid sequence starts.
        column: usize,
    },
    /// Text with characters the vocabulary lacks.
    #[error("characters not in the vocabulary: {chars} (the vocabulary is {vocab:?})")]
    UnknownChars {
        /// The unknown characters, quoted.
        chars: String,
        /// The vocabulary.
        vocab: String,
    },
    /// A weight file without a tensor the model needs.
    #[error("tensor {name} is missing (expected shape {expected:?})")]
    MissingTensor {
        /// Its name.
        name: String,
        /// Its shape for this configuration.
        expected: Vec<usize>,
    },
    /// A weight file with a tensor the model does not have.
    #[error("unexpected tensor {name} with shape {found:?}: this model has no such parameter")]
    ExtraTensor {
        /// Its name.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
    },
    /// A tensor of the wrong shape.
    #[error("tensor {name} has shape {found:?}, expected {expected:?}")]
    Shape {
        /// Its name.
        name: String,
        /// The shape this configuration needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A model whose vocabulary is not the data's.
    #[error("the model's vocabulary {model:?} does not match the data's {data:?}")]
    Vocab {
        /// The model's characters.
        model: String,
        /// The data's characters.
        data: String,
    },
    /// A sampling temperature that is not a finite number above 0.
    #[error("the temperature must be a finite number greater than 0, got {}", crate::format::exact(*.0))]
    Temperature(f64),
    /// A model whose output is not a finite number, so that no
    /// probabilities can be drawn from it (weights so large they overflow).
    #[error("the model's logit for token {token} at position {position} is {}: its weights overflow, so there are no probabilities to sample from", crate::format::exact(*value))]
    NonFiniteLogit {
        /// The position in the sample (0 is after `BOS`).
        position: usize,
        /// The token whose logit it is.
        token: usize,
        /// The logit: NaN or infinite.
        value: f64,
    },
    /// A prompt that leaves no room to sample.
    #[error("the prefix has {len} characters, but the context holds {block_size} tokens (BOS + at most {} characters)", block_size - 1)]
    PrefixTooLong {
        /// Characters in the prefix.
        len: usize,
        /// The model's block size.
        block_size: usize,
    },
    /// A weight file that cannot be read as one.
    #[error("{0}")]
    Format(String),
}

/// The sizes of a GPT; the defaults are microgpt's (with the names'
/// vocabulary of 26 letters + BOS). Serializes with these field names,
/// as `backprop gpt --json` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GptConfig {
    /// Transformer layers (default 1).
    pub n_layer: usize,
    /// Embedding width (default 16).
    pub n_embd: usize,
    /// Attention heads; must divide `n_embd` (default 4).
    pub n_head: usize,
    /// Context length: the most positions a document or sample has
    /// (default 16).
    pub block_size: usize,
    /// Tokens, `BOS` included (default 27).
    pub vocab_size: usize,
}

impl Default for GptConfig {
    fn default() -> Self {
        Self {
            n_layer: 1,
            n_embd: 16,
            n_head: 4,
            block_size: 16,
            vocab_size: 27,
        }
    }
}

impl GptConfig {
    /// `n_embd / n_head`.
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head.max(1)
    }

    /// The parameter tensors in state-dict order: names and `[rows, cols]`.
    ///
    /// ```
    /// let c = backprop::nn::gpt::GptConfig::default();
    /// let shapes = c.tensor_shapes();
    /// assert_eq!(shapes[0], ("wte".to_string(), [27, 16]));
    /// assert_eq!(shapes.last().unwrap(), &("layer0.mlp_fc2".to_string(), [16, 64]));
    /// assert_eq!(c.num_parameters(), 4192);
    /// ```
    pub fn tensor_shapes(&self) -> Vec<(String, [usize; 2])> {
        let (v, e) = (self.vocab_size, self.n_embd);
        let mut t = vec![
            ("wte".to_string(), [v, e]),
            ("wpe".to_string(), [self.block_size, e]),
            ("lm_head".to_string(), [v, e]),
        ];
        for i in 0..self.n_layer {
            for m in ["attn_wq", "attn_wk", "attn_wv", "attn_wo"] {
                t.push((format!("layer{i}.{m}"), [e, e]));
            }
            t.push((format!("layer{i}.mlp_fc1"), [4 * e, e]));
            t.push((format!("layer{i}.mlp_fc2"), [e, 4 * e]));
        }
        t
    }

    /// The number of parameters (saturating on absurd sizes).
    pub fn num_parameters(&self) -> usize {
        let (v, e, b, l) = (self.vocab_size, self.n_embd, self.block_size, self.n_layer);
        let per_layer = e.saturating_mul(e).saturating_mul(12);
        v.saturating_mul(e)
            .saturating_mul(2)
            .saturating_add(b.saturating_mul(e))
            .saturating_add(l.saturating_mul(per_layer))
    }

    /// The memory (bytes) of one training step's activations, attention
    /// weights and their adjoints, for a document that fills the block: per
    /// layer, two `n_head × block_size (block_size + 1) / 2` attention
    /// triangles and twelve `block_size × n_embd` buffers, plus the
    /// embeddings, the logits and the adjoints (the lane program's buffers;
    /// the scalar graph of the same step needs several times more).
    /// Saturates on absurd sizes.
    ///
    /// ```
    /// let c = backprop::nn::gpt::GptConfig::default();
    /// assert!(c.step_bytes() < 1 << 20); // microgpt: well under a MiB
    /// ```
    pub fn step_bytes(&self) -> u64 {
        let (l, e, h, n, v) = (
            self.n_layer as u64,
            self.n_embd as u64,
            self.n_head as u64,
            self.block_size as u64,
            self.vocab_size as u64,
        );
        let triangle = n.saturating_mul(n + 1) / 2;
        let per_layer = h
            .saturating_mul(triangle)
            .saturating_mul(2)
            .saturating_add(n.saturating_mul(e).saturating_mul(12));
        l.saturating_mul(per_layer)
            .saturating_add(n.saturating_mul(e).saturating_mul(12))
            .saturating_add(n.saturating_mul(v).saturating_mul(2))
            .saturating_mul(8)
    }

    /// Checks the sizes against the documented limits ([`MAX_LAYERS`],
    /// [`MAX_EMBD`], [`MAX_BLOCK_SIZE`], [`MAX_PARAMETERS`],
    /// [`MAX_STEP_BYTES`]); every size must be at least 1 and `n_head` must
    /// divide `n_embd`.
    ///
    /// # Errors
    /// The first size out of range, as a [`GptError`].
    pub fn validate(&self) -> Result<(), GptError> {
        let check = |what, got, max| {
            if (1..=max).contains(&got) {
                Ok(())
            } else {
                Err(GptError::Size {
                    what,
                    got,
                    min: 1,
                    max,
                })
            }
        };
        check("n_layer", self.n_layer, MAX_LAYERS)?;
        check("n_embd", self.n_embd, MAX_EMBD)?;
        check("n_head", self.n_head, self.n_embd)?;
        check("block_size", self.block_size, MAX_BLOCK_SIZE)?;
        check("vocab_size", self.vocab_size, MAX_PARAMETERS)?;
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(GptError::Heads {
                n_embd: self.n_embd,
                n_head: self.n_head,
            });
        }
        let parameters = self.num_parameters();
        if parameters > MAX_PARAMETERS {
            return Err(GptError::TooLarge {
                parameters,
                max: MAX_PARAMETERS,
            });
        }
        let bytes = self.step_bytes();
        if bytes > MAX_STEP_BYTES {
            return Err(GptError::StepTooLarge {
                bytes,
                max: MAX_STEP_BYTES,
            });
        }
        Ok(())
    }
}

/// How the graph of a forward pass is built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Formulation {
    /// Fused nodes: one [`Op::Dot`](crate::Op::Dot) per dot product, one
    /// [`Op::Sum`](crate::Op::Sum) per sum (the fast default).
    #[default]
    Fused,
    /// Binary `+` and `*` nodes only, summing left to right as microgpt's
    /// Python does: the reference the fused graph is tested against.
    Plain,
}

/// One parameter tensor: where its `rows × cols` values start in
/// [`Gpt::parameters`] (row-major).
#[derive(Clone, Copy, Debug)]
struct Matrix {
    offset: usize,
    rows: usize,
    cols: usize,
}

/// The key/value cache of one sequence: per layer and position, the
/// `n_embd` keys and values (the forward pass's attention context).
pub struct KvCache<'g> {
    keys: Vec<Vec<Vec<Value<'g>>>>,
    values: Vec<Vec<Vec<Value<'g>>>>,
    heads: Vec<Vec<Vec<Value<'g>>>>,
}

impl<'g> KvCache<'g> {
    /// An empty cache for a model of `n_layer` layers.
    pub fn new(n_layer: usize) -> Self {
        Self {
            keys: vec![Vec::new(); n_layer],
            values: vec![Vec::new(); n_layer],
            heads: vec![Vec::new(); n_layer],
        }
    }

    /// The attention output of `layer` at position `pos`, before
    /// `attn_wo`: the heads' weighted sums of values, concatenated
    /// (`n_embd` values; head `h` is `[h * head_dim, (h + 1) * head_dim)`).
    /// `None` for a position not computed yet.
    pub fn attention(&self, layer: usize, pos: usize) -> Option<&[Value<'g>]> {
        self.heads.get(layer)?.get(pos).map(Vec::as_slice)
    }

    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.keys.first().map_or(0, Vec::len)
    }

    /// Whether no position is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A GPT whose parameters live on a [`Graph`]: microgpt's model (see the
/// [module docs](self)).
///
/// The parameters are leaves created one tensor after the other, row by
/// row, so each weight row is a run of consecutive nodes; a few constant
/// leaves follow them. Take a [`Graph::mark`] after creating the model and
/// truncate back to it after each step (as [`GptTrainer`] does).
#[derive(Clone, Debug)]
pub struct Gpt {
    config: GptConfig,
    formulation: Formulation,
    params: Vec<NodeId>,
    names: Vec<(String, Matrix)>,
    wte: Matrix,
    wpe: Matrix,
    lm_head: Matrix,
    layers: Vec<[Matrix; 6]>,
    /// Constant leaves: 0 (the bias of fused products), `n_embd`, 1e-5,
    /// `√head_dim`.
    zero: NodeId,
    n_embd: NodeId,
    eps: NodeId,
    scale: NodeId,
}

impl Gpt {
    /// A model with weights drawn from N(0, 0.08²), seeded (ChaCha8,
    /// Box–Muller), in state-dict order.
    ///
    /// # Errors
    /// A configuration that fails [`GptConfig::validate`].
    pub fn new(g: &Graph, config: GptConfig, seed: u64) -> Result<Self, GptError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(Self::build(g, config, |_, _| INIT_STD * gauss(&mut rng)))
    }

    /// A model with the given weights (from [`GptWeights`]).
    ///
    /// # Errors
    /// A configuration that fails [`GptConfig::validate`], or a tensor that
    /// is missing, extra or of the wrong shape ([`GptError::MissingTensor`],
    /// [`GptError::ExtraTensor`], [`GptError::Shape`]).
    pub fn from_tensors(
        g: &Graph,
        config: GptConfig,
        tensors: &std::collections::BTreeMap<String, Tensor>,
    ) -> Result<Self, GptError> {
        config.validate()?;
        let shapes = config.tensor_shapes();
        for (name, [r, c]) in &shapes {
            let t = tensors.get(name).ok_or_else(|| GptError::MissingTensor {
                name: name.clone(),
                expected: vec![*r, *c],
            })?;
            if t.shape != [*r, *c] {
                return Err(GptError::Shape {
                    name: name.clone(),
                    expected: vec![*r, *c],
                    found: t.shape.clone(),
                });
            }
        }
        if let Some((name, t)) = tensors
            .iter()
            .find(|(n, _)| !shapes.iter().any(|(s, _)| s == *n))
        {
            return Err(GptError::ExtraTensor {
                name: name.clone(),
                found: t.shape.clone(),
            });
        }
        Ok(Self::build(g, config, |name, i| tensors[name].data[i]))
    }

    fn build(g: &Graph, config: GptConfig, mut init: impl FnMut(&str, usize) -> f64) -> Self {
        let mut params = Vec::with_capacity(config.num_parameters());
        let mut names = Vec::new();
        for (name, [rows, cols]) in config.tensor_shapes() {
            let offset = params.len();
            for i in 0..rows * cols {
                params.push(g.value(init(&name, i)).id());
            }
            names.push((name, Matrix { offset, rows, cols }));
        }
        assert!(
            params.windows(2).all(|w| w[1].index() == w[0].index() + 1),
            "a graph appends nodes in order"
        );
        let m = |i: usize| names[i].1;
        let layers = (0..config.n_layer)
            .map(|l| std::array::from_fn(|j| m(3 + 6 * l + j)))
            .collect();
        Self {
            config,
            formulation: Formulation::Fused,
            wte: m(0),
            wpe: m(1),
            lm_head: m(2),
            layers,
            params,
            names,
            zero: g.value(0.0).with_label("0").id(),
            n_embd: g.value(config.n_embd as f64).with_label("n_embd").id(),
            eps: g.value(1e-5).with_label("eps").id(),
            scale: g
                .value((config.head_dim() as f64).sqrt())
                .with_label("√head_dim")
                .id(),
        }
    }

    /// The sizes.
    pub fn config(&self) -> GptConfig {
        self.config
    }

    /// How forward passes are built (default [`Formulation::Fused`]).
    pub fn formulation(&self) -> Formulation {
        self.formulation
    }

    /// Builds forward passes the given way from now on.
    pub fn set_formulation(&mut self, f: Formulation) {
        self.formulation = f;
    }

    /// All parameters, tensor by tensor in state-dict order, each row-major.
    pub fn parameters(&self) -> &[NodeId] {
        &self.params
    }

    /// Where the parameters are in the graph: they are consecutive nodes,
    /// `parameters()[i].index() == parameter_range().start + i`.
    pub fn parameter_range(&self) -> std::ops::Range<usize> {
        let start = self.params[0].index();
        start..start + self.params.len()
    }

    /// Panics unless the parameters are live nodes of `g`. They are one run
    /// of consecutive nodes, so its first and last are enough: a node
    /// between two live ones of the same graph is live.
    pub(crate) fn check_graph(&self, g: &Graph) {
        let (first, last) = (self.params[0], self.params[self.params.len() - 1]);
        g.check_ids(&[first, last]);
    }

    /// The constant leaves the forward pass uses (created right after the
    /// parameters); an optimizer should zero their gradients too.
    pub fn constants(&self) -> [NodeId; 4] {
        [self.zero, self.n_embd, self.eps, self.scale]
    }

    /// The weights now on the graph, by tensor name.
    pub fn weights(&self, g: &Graph) -> std::collections::BTreeMap<String, Tensor> {
        self.names
            .iter()
            .map(|(name, m)| {
                let data = self.params[m.offset..m.offset + m.rows * m.cols]
                    .iter()
                    .map(|&p| g.get(p).data())
                    .collect();
                (
                    name.clone(),
                    Tensor {
                        shape: vec![m.rows, m.cols],
                        data,
                    },
                )
            })
            .collect()
    }

    /// Labels every parameter with its tensor name and position
    /// (`layer0.attn_wq[3,1]`), for drawings.
    pub fn label_parameters(&self, g: &Graph) {
        for (name, m) in &self.names {
            for r in 0..m.rows {
                for c in 0..m.cols {
                    g.get(self.params[m.offset + r * m.cols + c])
                        .set_label(format!("{name}[{r},{c}]"));
                }
            }
        }
    }

    /// The logits (`vocab_size` values, a run of consecutive nodes when
    /// fused) for `token` at position `pos`, attending to the positions in
    /// `cache`, to which this position's keys and values are appended.
    ///
    /// # Panics
    /// If `token` is not below `vocab_size`, `pos` not below `block_size`,
    /// or the cache is not of this model.
    pub fn forward<'g>(
        &self,
        g: &'g Graph,
        token: usize,
        pos: usize,
        cache: &mut KvCache<'g>,
    ) -> Vec<Value<'g>> {
        let c = &self.config;
        assert!(
            token < c.vocab_size && pos < c.block_size,
            "token {token} at position {pos} is outside the model's vocabulary ({}) or context ({})",
            c.vocab_size,
            c.block_size
        );
        let e = c.n_embd;
        let tok = &self.params[self.wte.offset + token * e..][..e];
        let posv = &self.params[self.wpe.offset + pos * e..][..e];
        let x: Vec<Value<'g>> = tok
            .iter()
            .zip(posv)
            .map(|(&t, &p)| g.get(t) + g.get(p))
            .collect();
        let mut x = self.rmsnorm(g, &x);
        let (hd, scale) = (c.head_dim(), g.get(self.scale));
        for (l, [wq, wk, wv, wo, fc1, fc2]) in self.layers.iter().enumerate() {
            let residual = x;
            let xn = self.rmsnorm(g, &residual);
            let q = self.linear(g, wq, &xn);
            cache.keys[l].push(self.linear(g, wk, &xn));
            cache.values[l].push(self.linear(g, wv, &xn));
            let (keys, values) = (&cache.keys[l], &cache.values[l]);
            // All heads' attention weights first, then all their outputs,
            // so that the outputs are one run of nodes for `attn_wo`.
            // (One buffer each for all heads: this runs for every position.)
            let t_len = keys.len();
            let mut weights = Vec::with_capacity(c.n_head * t_len);
            let mut scratch = Vec::with_capacity(2 * t_len);
            for h in 0..c.n_head {
                let hs = h * hd;
                let q_h = &q[hs..hs + hd];
                scratch.clear();
                scratch.extend(
                    keys.iter()
                        .map(|k| self.dot(g, q_h, &k[hs..hs + hd]) / scale),
                );
                self.softmax_into(g, &mut scratch, &mut weights);
            }
            let mut heads = Vec::with_capacity(e);
            let mut column = Vec::with_capacity(t_len);
            for j in 0..e {
                column.clear();
                column.extend(values.iter().map(|v| v[j]));
                let h = j / hd;
                heads.push(self.dot(g, &weights[h * t_len..(h + 1) * t_len], &column));
            }
            let attn = self.linear(g, wo, &heads);
            cache.heads[l].push(heads);
            x = attn.iter().zip(&residual).map(|(&a, &r)| a + r).collect();
            let residual = x;
            let xn = self.rmsnorm(g, &residual);
            let hidden: Vec<Value<'g>> = self
                .linear(g, fc1, &xn)
                .into_iter()
                .map(Value::relu)
                .collect();
            let out = self.linear(g, fc2, &hidden);
            x = out.iter().zip(&residual).map(|(&a, &r)| a + r).collect();
        }
        self.linear(g, &self.lm_head, &x)
    }

    /// The loss of one document, `tokens` as made by
    /// [`Tokenizer::document`]: the mean over positions of
    /// `-ln softmax(logits)[next token]`, microgpt's
    /// `(1 / n) * sum(losses)`.
    ///
    /// # Panics
    /// If `tokens` has fewer than 2 or more than `block_size + 1` tokens,
    /// or a token outside the vocabulary.
    pub fn loss<'g>(&self, g: &'g Graph, tokens: &[usize]) -> Value<'g> {
        let n = tokens.len().saturating_sub(1);
        assert!(
            (1..=self.config.block_size).contains(&n),
            "a document needs 2 to block_size + 1 = {} tokens, got {}",
            self.config.block_size + 1,
            tokens.len()
        );
        let mut cache = KvCache::new(self.config.n_layer);
        let mut losses = Vec::with_capacity(n);
        for pos in 0..n {
            let logits = self.forward(g, tokens[pos], pos, &mut cache);
            losses.push(self.nll(g, &logits, tokens[pos + 1]));
        }
        g.value(1.0 / n as f64) * self.sum(g, &losses)
    }

    /// [`Gpt::loss`] of `tokens` and its gradient, without building the
    /// graph: returns the loss and adds d loss / d parameter to each
    /// parameter's `grad` as `model.loss(g, tokens).backward_skip_zeros()`
    /// would, to rounding (within 1e-12 of the largest gradient in the
    /// tests, for either [`Formulation`], whose graphs differ only in
    /// rounding; with finite weights that is also what `backward()`
    /// gives). This is the lane program that
    /// [`GptTrainer`] steps run, computed layer by layer over all positions
    /// of the document (see its module, `nn/gpt/program.rs`). The graph
    /// gains no nodes.
    ///
    /// ```
    /// use backprop::Graph;
    /// use backprop::nn::gpt::{Gpt, GptConfig, Tokenizer};
    ///
    /// let tok = Tokenizer::from_documents(&["emma", "ava"]);
    /// let config = GptConfig { vocab_size: tok.vocab_size(), ..GptConfig::default() };
    /// let mut g = Graph::new();
    /// let model = Gpt::new(&g, config, 42).unwrap();
    /// let doc = tok.document("emma", config.block_size);
    /// let fast = model.loss_and_grad(&mut g, &doc);
    /// let w = model.parameters()[0];
    /// let fast_grad = g.get(w).grad();
    /// g.zero_grad();
    /// let mark = g.mark();
    /// let loss = model.loss(&g, &doc);
    /// loss.backward();
    /// assert!((loss.data() - fast).abs() < 1e-12);
    /// assert!((g.get(w).grad() - fast_grad).abs() < 1e-12);
    /// # drop(loss);
    /// # g.truncate(mark);
    /// ```
    ///
    /// # Panics
    /// As [`Gpt::loss`]: if `tokens` has fewer than 2 or more than
    /// `block_size + 1` tokens, or a token outside the vocabulary, or the
    /// model's parameters are not live nodes of `g` (the model was built on
    /// another graph, or they were truncated away).
    pub fn loss_and_grad(&self, g: &mut Graph, tokens: &[usize]) -> f64 {
        self.check_graph(g);
        let range = self.parameter_range();
        let (data, grad) = g.data_and_grad_mut();
        program::Program::default().loss_and_grad(
            self,
            &data[range.clone()],
            &mut grad[range],
            tokens,
        )
    }

    /// The loss at one position of a document: `-ln softmax(logits)[next]`
    /// for the token at `pos` (building the positions before it too), the
    /// graph [`Gpt::loss`] averages.
    ///
    /// # Panics
    /// If `pos + 1` is not a position of `tokens` or is past `block_size`.
    pub fn position_loss<'g>(&self, g: &'g Graph, tokens: &[usize], pos: usize) -> Value<'g> {
        assert!(
            pos + 1 < tokens.len() && pos < self.config.block_size,
            "position {pos} has no next token in a document of {} tokens (block size {})",
            tokens.len(),
            self.config.block_size
        );
        let mut cache = KvCache::new(self.config.n_layer);
        for (p, &t) in tokens[..pos].iter().enumerate() {
            self.forward(g, t, p, &mut cache);
        }
        let logits = self.forward(g, tokens[pos], pos, &mut cache);
        self.nll(g, &logits, tokens[pos + 1])
    }

    /// `-ln softmax(logits)[target]`, with the max subtracted first.
    fn nll<'g>(&self, g: &'g Graph, logits: &[Value<'g>], target: usize) -> Value<'g> {
        let max = logits
            .iter()
            .map(|l| l.data())
            .fold(f64::NEG_INFINITY, f64::max);
        let max = g.value(max);
        let exps: Vec<Value<'g>> = logits.iter().map(|&l| (l - max).exp()).collect();
        let total = self.sum(g, &exps);
        -(exps[target] / total).ln()
    }

    /// microgpt's softmax: `exp(l - max) / Σ exp(l - max)`, the max a
    /// constant (no gradient flows through it, none is needed), appended
    /// to `out`; `logits` is used as scratch.
    fn softmax_into<'g>(
        &self,
        g: &'g Graph,
        logits: &mut Vec<Value<'g>>,
        out: &mut Vec<Value<'g>>,
    ) {
        let n = logits.len();
        let max = logits
            .iter()
            .map(|l| l.data())
            .fold(f64::NEG_INFINITY, f64::max);
        let max = g.value(max);
        for i in 0..n {
            let e = (logits[i] - max).exp();
            logits.push(e);
        }
        let exps = &logits[n..];
        let total = self.sum(g, exps);
        out.extend(exps.iter().map(|&e| e / total));
    }

    /// `x * (Σx² / n + 1e-5) ** -0.5`.
    fn rmsnorm<'g>(&self, g: &'g Graph, x: &[Value<'g>]) -> Vec<Value<'g>> {
        let ms = self.dot(g, x, x) / g.get(self.n_embd);
        let scale = (ms + g.get(self.eps)).powf(-0.5);
        x.iter().map(|&v| v * scale).collect()
    }

    /// `W · x` for a weight matrix: one fused node per row when `x` is a
    /// run of consecutive nodes.
    fn linear<'g>(&self, g: &'g Graph, w: &Matrix, x: &[Value<'g>]) -> Vec<Value<'g>> {
        debug_assert_eq!(w.cols, x.len());
        let row = |r: usize| &self.params[w.offset + r * w.cols..][..w.cols];
        if self.formulation == Formulation::Fused && is_run(x) {
            let x0 = x[0].id();
            (0..w.rows)
                .map(|r| g.linear_runs(row(r)[0], x0, w.cols, self.zero))
                .collect()
        } else {
            (0..w.rows)
                .map(|r| {
                    let ws: Vec<Value<'g>> = row(r).iter().map(|&p| g.get(p)).collect();
                    self.dot(g, &ws, x)
                })
                .collect()
        }
    }

    /// `Σ a_i b_i`.
    fn dot<'g>(&self, g: &'g Graph, a: &[Value<'g>], b: &[Value<'g>]) -> Value<'g> {
        match self.formulation {
            Formulation::Fused => g.dot(a, b),
            Formulation::Plain => {
                let mut acc = a[0] * b[0];
                for (&x, &y) in a.iter().zip(b).skip(1) {
                    acc += x * y;
                }
                acc
            }
        }
    }

    /// `Σ x_i`.
    fn sum<'g>(&self, g: &'g Graph, x: &[Value<'g>]) -> Value<'g> {
        match self.formulation {
            Formulation::Fused => g.sum(x.iter().copied()),
            Formulation::Plain => x[1..].iter().fold(x[0], |acc, &v| acc + v),
        }
    }
}

/// Whether the values are consecutive nodes.
fn is_run(x: &[Value<'_>]) -> bool {
    !x.is_empty()
        && x.windows(2)
            .all(|w| w[1].id().index() == w[0].id().index() + 1)
}

/// A standard normal draw (Box–Muller).
fn gauss(rng: &mut impl Rng) -> f64 {
    // 1 - U is in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.r#gen::<f64>();
    let u2: f64 = rng.r#gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
