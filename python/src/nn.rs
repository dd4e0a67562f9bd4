//! The fused training path: `backprop.nn.MLP.fit` hands its parameters and
//! data to the Rust `Trainer` (the one `backprop train` runs), without the
//! GIL, and takes the trained parameters back.

use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use backprop::Graph;
use backprop::data::Dataset;
use backprop::explain::{
    DEFAULT_GRID, DEFAULT_SNAPSHOTS, MAX_GRID, MAX_POINTS, MIN_GRID, SnapshotRecorder,
    TrainingPage, TrainingPageError, write_training_page,
};
use backprop::nn::{Activation, Layer, Loss, Mlp, Neuron, TrainConfig, Trainer};
use backprop::optim::{LrSchedule, OptimizerKind};

/// One layer as Python holds it: each neuron's weights, each bias, and
/// whether a ReLU follows.
type PyLayer = (Vec<Vec<f64>>, Vec<f64>, bool);

/// One step's numbers: step, loss, accuracy, learning rate.
type StepRow = (usize, f64, f64, f64);

fn bad(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// Trains an MLP given as `layers` on rows `x` with class labels `y`
/// (0..classes); returns the trained layers and each step's numbers.
#[pyfunction]
#[pyo3(signature = (layers, x, y, steps, lr, loss, optimizer, batch_size, alpha, schedule, seed, threads, page = None, page_snapshots = DEFAULT_SNAPSHOTS, page_grid = DEFAULT_GRID, page_title = None))]
#[allow(clippy::too_many_arguments)]
pub fn fit_mlp(
    py: Python<'_>,
    layers: Vec<PyLayer>,
    x: Vec<Vec<f64>>,
    y: Vec<usize>,
    steps: usize,
    lr: f64,
    loss: &str,
    optimizer: &str,
    batch_size: Option<usize>,
    alpha: f64,
    schedule: &str,
    seed: u64,
    threads: usize,
    page: Option<PathBuf>,
    page_snapshots: usize,
    page_grid: usize,
    page_title: Option<String>,
) -> PyResult<(Vec<PyLayer>, Vec<StepRow>)> {
    let loss: Loss = loss.parse().map_err(bad)?;
    let kind: OptimizerKind = optimizer.parse().map_err(bad)?;
    let schedule: LrSchedule = schedule.parse().map_err(bad)?;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(bad(format!("lr must be a positive number, got {lr}")));
    }
    if !(alpha.is_finite() && alpha >= 0.0) {
        return Err(bad(format!("alpha must be 0 or more, got {alpha}")));
    }
    if batch_size == Some(0) {
        return Err(bad("batch_size must be at least 1"));
    }
    if x.len() != y.len() {
        return Err(bad(format!(
            "X has {} rows but y has {} labels",
            x.len(),
            y.len()
        )));
    }
    let Some(first) = layers.first() else {
        return Err(bad("the model has no layers"));
    };
    let nin = first.0.first().map_or(0, Vec::len);
    for (i, row) in x.iter().enumerate() {
        if row.len() != nin {
            return Err(bad(format!(
                "X[{i}] has {} features, the model takes {nin}",
                row.len()
            )));
        }
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "X[{i}][{j}] is {}, not a finite number",
                row[j]
            )));
        }
    }
    let classes = y.iter().max().map_or(2, |&m| (m + 1).max(2));
    let features: Vec<f64> = x.into_iter().flatten().collect();
    let data = Dataset::new(features, y, nin).map_err(|e| bad(e.to_string()))?;
    let shape: Vec<(usize, usize, bool)> = layers
        .iter()
        .map(|(w, b, nonlin)| (w.len(), b.len(), *nonlin))
        .collect();

    let graph = Graph::new();
    let mut built = Vec::with_capacity(layers.len());
    let mut width = nin;
    for (k, (w, b, nonlin)) in layers.iter().enumerate() {
        if w.is_empty() || w.len() != b.len() {
            return Err(bad(format!(
                "layer {k} has {} neurons and {} biases",
                w.len(),
                b.len()
            )));
        }
        let act = if *nonlin {
            Activation::Relu
        } else {
            Activation::Linear
        };
        let mut neurons = Vec::with_capacity(w.len());
        for (j, (wj, &bj)) in w.iter().zip(b).enumerate() {
            if wj.len() != width {
                return Err(bad(format!(
                    "layer {k} neuron {j} has {} weights, the layer before gives {width} inputs",
                    wj.len()
                )));
            }
            neurons.push(Neuron::from_weights(&graph, wj, bj, act));
        }
        built.push(Layer::from_neurons(neurons));
        width = w.len();
    }
    let model = Mlp::from_layers(built);
    let expected = loss.outputs(classes);
    if model.nout() != expected {
        return Err(bad(format!(
            "the {} loss on {classes} classes needs {expected} outputs, the model has {}",
            loss.name(),
            model.nout()
        )));
    }
    let config = TrainConfig {
        steps,
        batch_size,
        loss,
        alpha,
        schedule,
        seed,
        threads,
    };
    let mut trainer = Trainer::new(graph, model, kind.build(lr, 0.0), config);
    trainer.check(&data).map_err(|e| bad(e.to_string()))?;
    // The training page's limits are checked before training, as
    // `backprop train --page` does.
    let mut recorder = match &page {
        Some(path) => {
            backprop::nn::check_writable(path).map_err(|e| {
                PyOSError::new_err(format!("cannot write the page to {}: {e}", path.display()))
            })?;
            if nin != 2 {
                return Err(bad(TrainingPageError::Features(nin).to_string()));
            }
            if !(MIN_GRID..=MAX_GRID).contains(&page_grid) {
                return Err(bad(format!(
                    "page_grid must be from {MIN_GRID} to {MAX_GRID}, got {page_grid}"
                )));
            }
            if data.len() > MAX_POINTS {
                return Err(bad(format!(
                    "the training page shows at most {MAX_POINTS} points, the data has {}",
                    data.len()
                )));
            }
            let r = SnapshotRecorder::new(&trainer, classes, None, page_snapshots)
                .map_err(|e| bad(format!("page_snapshots: {e}")))?;
            Some(r)
        }
        None => None,
    };
    // The trainer's optimizer is not `Send`, so the GIL stays held: other
    // Python threads wait for the run (as for any long C call).
    // Rows grow as steps complete (a huge `steps` is not reserved up
    // front), and Ctrl-C is seen after every step.
    let mut rows = Vec::with_capacity(steps.min(1 << 16));
    while trainer.steps_taken() < steps {
        let s = trainer
            .step(&data)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        rows.push((s.step, s.loss, s.accuracy, s.lr));
        if let Some(r) = recorder.as_mut() {
            r.record(&trainer, &s);
        }
        py.check_signals()?;
    }
    if let (Some(path), Some(r)) = (&page, &recorder) {
        let title = page_title.unwrap_or_else(|| "MLP.fit".into());
        let p = TrainingPage {
            title: &title,
            grid: page_grid,
            ..TrainingPage::new(r, &data)
        };
        write_training_page(path, &p).map_err(|e| match e {
            TrainingPageError::Io { .. } => PyOSError::new_err(e.to_string()),
            e => bad(e.to_string()),
        })?;
    }

    let g = trainer.graph();
    let params: Vec<f64> = trainer
        .model()
        .parameters()
        .iter()
        .map(|&id| g.get(id).data())
        .collect();
    // Parameters are neuron by neuron: weights, then bias.
    let mut it = params.into_iter();
    let mut out = Vec::with_capacity(shape.len());
    let mut width = nin;
    for (nout, _, nonlin) in shape {
        let mut w = Vec::with_capacity(nout);
        let mut b = Vec::with_capacity(nout);
        for _ in 0..nout {
            w.push(it.by_ref().take(width).collect());
            b.push(it.next().expect("one bias per neuron"));
        }
        out.push((w, b, nonlin));
        width = nout;
    }
    Ok((out, rows))
}
