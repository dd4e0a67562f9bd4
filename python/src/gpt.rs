//! `backprop.gpt`: microgpt trained from Python on the Rust `GptTrainer`
//! that `backprop gpt` runs.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use backprop::Graph;
use backprop::nn::DIVERGENCE_FACTOR;
use backprop::nn::gpt::{self, Gpt, GptConfig, GptTrainer, GptWeights, Tokenizer, TrainOptions};

struct Trained {
    graph: Graph,
    model: Gpt,
    tokenizer: Tokenizer,
    rng: ChaCha8Rng,
}

/// A trained microgpt: `losses` per step, `sample()` for new documents.
#[pyclass(frozen, name = "GPT", module = "backprop.gpt")]
pub struct PyGpt {
    inner: Mutex<Trained>,
    #[pyo3(get)]
    losses: Vec<f64>,
    #[pyo3(get)]
    num_parameters: usize,
    #[pyo3(get)]
    vocab: String,
}

#[pymethods]
impl PyGpt {
    /// `n` new documents at `temperature` (microgpt's 0.5), each one
    /// forward pass per character until BOS or the block size. Ctrl-C
    /// (`KeyboardInterrupt`) is seen after each document.
    #[pyo3(signature = (n = 20, temperature = 0.5))]
    fn sample(&self, py: Python<'_>, n: i64, temperature: f64) -> PyResult<Vec<String>> {
        let n = usize::try_from(n)
            .map_err(|_| PyValueError::new_err(format!("n must be 0 or more, got {n}")))?;
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Trained {
            graph,
            model,
            tokenizer,
            rng,
        } = &mut *t;
        (0..n)
            .map(|_| {
                let name = gpt::sample(graph, model, rng, temperature, &[])
                    .map(|tokens| tokenizer.decode(&tokens))
                    .map_err(|e| PyValueError::new_err(e.to_string()))?;
                py.check_signals()?;
                Ok(name)
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "<backprop.gpt.GPT: {} parameters, {} steps, final loss {:.4}>",
            self.num_parameters,
            self.losses.len(),
            self.losses.last().copied().unwrap_or(f64::NAN)
        )
    }
}

/// Trains microgpt on `docs` (one document per string) with microgpt's
/// Adam and linear learning-rate decay; see `backprop gpt --help`.
#[pyfunction]
#[pyo3(signature = (docs, steps, lr, seed, shuffle, n_layer, n_embd, n_head, block_size, init = None))]
#[allow(clippy::too_many_arguments)]
pub fn gpt_train(
    py: Python<'_>,
    docs: Vec<String>,
    steps: usize,
    lr: f64,
    seed: u64,
    shuffle: bool,
    n_layer: usize,
    n_embd: usize,
    n_head: usize,
    block_size: usize,
    init: Option<std::path::PathBuf>,
) -> PyResult<PyGpt> {
    let bad = |m: String| PyValueError::new_err(m);
    if docs.iter().all(|d| d.is_empty()) {
        return Err(bad("gpt needs at least one non-empty document".into()));
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(bad(format!("lr must be a positive number, got {lr}")));
    }
    let tokenizer = Tokenizer::from_documents(&docs);
    let config = GptConfig {
        n_layer,
        n_embd,
        n_head,
        block_size,
        vocab_size: tokenizer.vocab_size(),
    };
    config.validate().map_err(|e| bad(e.to_string()))?;
    let g = Graph::new();
    let model = match init {
        Some(path) => {
            if !path.is_file() {
                return Err(pyo3::exceptions::PyOSError::new_err(format!(
                    "cannot read the init weights {}: not a file",
                    path.display()
                )));
            }
            let w = GptWeights::load(&path).map_err(|e| bad(e.to_string()))?;
            Gpt::from_tensors(&g, config, &w.tensors)
                .map_err(|e| bad(format!("init {}: {e}", path.display())))?
        }
        None => Gpt::new(&g, config, seed).map_err(|e| bad(e.to_string()))?,
    };
    let options = TrainOptions {
        steps,
        lr,
        seed,
        shuffle,
    };
    let mut trainer = GptTrainer::new(g, model, &docs, &tokenizer, options);
    let mut losses = Vec::with_capacity(steps.min(1 << 16));
    for k in 0..steps {
        let loss = trainer.step();
        let first = losses.first().copied().unwrap_or(loss);
        if !loss.is_finite() || loss > DIVERGENCE_FACTOR * first.max(1.0) {
            return Err(PyRuntimeError::new_err(format!(
                "training diverged at step {k} (loss {loss}); try a smaller lr (it was {lr})"
            )));
        }
        losses.push(loss);
        py.check_signals()?;
    }
    let (graph, model) = trainer.into_parts();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2);
    Ok(PyGpt {
        num_parameters: config.num_parameters(),
        vocab: tokenizer.as_string(),
        inner: Mutex::new(Trained {
            graph,
            model,
            tokenizer,
            rng,
        }),
        losses,
    })
}

/// The documents of a text file as `backprop gpt --data` reads them: one per
/// non-blank line, UTF-8, a byte order mark dropped.
#[pyfunction]
pub fn gpt_read_documents(path: std::path::PathBuf) -> PyResult<Vec<String>> {
    let bytes = backprop::files::read_limited(&path, gpt::MAX_DATA_BYTES).map_err(|e| {
        pyo3::exceptions::PyOSError::new_err(format!("cannot read {}: {e}", path.display()))
    })?;
    gpt::documents(&bytes).map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))
}
