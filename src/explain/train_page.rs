//! The training page: a network learning, step by step, in one
//! self-contained HTML file.
//!
//! A [`SnapshotRecorder`] keeps the network's weights at evenly spaced
//! steps of a [`Trainer`] run (always the first and the last), through
//! [`Trainer::fit_with`]'s callback. [`training_page_html`] turns the
//! snapshots into a page with the decision boundary as a heat map over
//! the data, the loss and accuracy curves with a marker at the current
//! step, a slider, play/pause and the arrow keys; clicking a data point
//! shows its forward and loss graph at that step, the graph of
//! `backprop explain --model --point --label`, replayed as on the `draw`
//! page.
//!
//! [`training_page_html`] says how a sample's graph gets into the page.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::page::{
    GRAPHVIZ_VERSION, LAYOUT_SECONDS, MAIN_THREAD_NODES, MAIN_THREAD_WORK, NUMBERS_SCRIPT,
    PAGE_FD_STEP, PAGE_MAX_NODES, VIZ_JS, VIZ_JS_VERSION, assemble, dot_and_work, html_escape,
    script_safe, write_head,
};
use super::{Explanation, NetworkError, explain_with_leaves, network_graph};
use crate::Graph;
use crate::data::Dataset;
use crate::format::{JsonNumber, shown_name};
use crate::nn::{NnError, Normalization, SavedModel, StepStats, Trainer};

/// The number of snapshots [`SnapshotRecorder`] keeps unless told
/// otherwise (`backprop train --page-snapshots`).
pub const DEFAULT_SNAPSHOTS: usize = 21;

/// The most snapshots a page holds.
pub const MAX_SNAPSHOTS: usize = 101;

/// The heat map's cells per side unless told otherwise
/// (`--page-grid`).
pub const DEFAULT_GRID: usize = 60;

/// The fewest heat-map cells per side.
pub const MIN_GRID: usize = 4;

/// The most heat-map cells per side.
pub const MAX_GRID: usize = 200;

/// The most data points a page shows (each one clickable at every
/// snapshot).
pub const MAX_POINTS: usize = 2000;

/// The most sample graphs (points times snapshots) a page holds: the
/// page's size and the time to write it grow with them.
pub const MAX_SAMPLE_GRAPHS: usize = 50_000;

/// The most parameters a network on the page may have: a sample's graph
/// must fit the `draw` page's [`PAGE_MAX_NODES`].
pub const MAX_PAGE_PARAMETERS: usize = 1500;

/// What cannot go on a training page.
#[derive(Debug, thiserror::Error)]
pub enum TrainingPageError {
    /// A count outside its limits.
    #[error("{what} must be from {min} to {max}, got {value}")]
    Limit {
        /// What is counted (`snapshots`, `grid cells per side`, ...).
        what: &'static str,
        /// The number given.
        value: usize,
        /// The least allowed.
        min: usize,
        /// The most allowed.
        max: usize,
    },
    /// Not two features: the heat map needs a plane.
    #[error("the decision boundary is drawn over 2 features, but the data has {0}")]
    Features(usize),
    /// A feature's range that cannot be drawn.
    #[error("the features' range is too wide to draw")]
    Range,
    /// Data or snapshots that do not fit the last snapshot's network.
    #[error("{0}")]
    Input(String),
    /// A network or point the sample graph cannot be built for.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The model or data do not fit.
    #[error(transparent)]
    Model(#[from] NnError),
    /// Writing the page failed.
    #[error("cannot write the page to {path}: {source}")]
    Io {
        /// The page's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The steps at which `count` snapshots of a run of `steps` steps are
/// taken: evenly spaced from 0 (before any update) to `steps` (after the
/// last), rounded down, both ends always included, no step twice.
///
/// ```
/// use backprop::explain::snapshot_steps;
/// assert_eq!(snapshot_steps(100, 5), [0, 25, 50, 75, 100]);
/// assert_eq!(snapshot_steps(3, 21), [0, 1, 2, 3]);
/// assert_eq!(snapshot_steps(10, 1), [0, 10]);
/// assert_eq!(snapshot_steps(0, 5), [0]);
/// ```
pub fn snapshot_steps(steps: usize, count: usize) -> Vec<usize> {
    if steps == 0 {
        return vec![0];
    }
    let count = count.max(2).min(steps.saturating_add(1));
    let mut out: Vec<usize> = (0..count)
        .map(|k| ((k as u128 * steps as u128) / (count as u128 - 1)) as usize)
        .collect();
    out.dedup();
    out
}

/// The network's weights after `step` updates.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Updates done: 0 is the initial network.
    pub step: usize,
    /// The network then, as `backprop train --save` would have saved it.
    pub model: SavedModel,
}

/// Keeps snapshots of a [`Trainer`] run at the steps of
/// [`snapshot_steps`], and the run's loss and accuracy, for
/// [`training_page_html`].
///
/// ```
/// use backprop::{Graph, data, nn::{Loss, Mlp, MlpConfig, TrainConfig, Trainer}, optim::{Sgd, SgdConfig}};
/// use backprop::explain::{SnapshotRecorder, TrainingPage, training_page_html};
///
/// let d = data::moons(30, 0.1, 1);
/// let g = Graph::new();
/// let model = Mlp::new(&g, 2, &[4, 1], &MlpConfig::default()).unwrap();
/// let opt = Box::new(Sgd::new(SgdConfig::default()));
/// let mut t = Trainer::new(g, model, opt, TrainConfig { steps: 10, ..Default::default() });
/// let mut rec = SnapshotRecorder::new(&t, 2, None, 3).unwrap();
/// t.fit_with(&d, |t, s| rec.record(t, s)).unwrap();
/// let steps: Vec<usize> = rec.snapshots().iter().map(|s| s.step).collect();
/// assert_eq!(steps, [0, 5, 10]);
/// let page = TrainingPage { title: "moons", grid: 20, ..TrainingPage::new(&rec, &d) };
/// let html = training_page_html(&page).unwrap();
/// assert!(html.starts_with("<!DOCTYPE html>") && html.contains(r#"id="training""#));
/// ```
#[derive(Clone, Debug)]
pub struct SnapshotRecorder {
    planned: Vec<usize>,
    snapshots: Vec<Snapshot>,
    history: crate::nn::History,
    classes: usize,
    normalization: Option<Normalization>,
}

impl SnapshotRecorder {
    /// A recorder for `trainer`'s run (of [`crate::nn::TrainConfig::steps`]
    /// steps) that keeps `count` snapshots, the first one now. `classes`
    /// and `normalization` are what the snapshots' [`SavedModel`]s need
    /// besides the weights (as for [`SavedModel::from_mlp`]).
    ///
    /// # Errors
    /// [`TrainingPageError::Limit`] for a `count` below 2 or above
    /// [`MAX_SNAPSHOTS`].
    pub fn new(
        trainer: &Trainer,
        classes: usize,
        normalization: Option<Normalization>,
        count: usize,
    ) -> Result<Self, TrainingPageError> {
        check_limit("snapshots", count, 2, MAX_SNAPSHOTS)?;
        let mut r = Self {
            planned: snapshot_steps(trainer.config().steps, count),
            snapshots: Vec::new(),
            history: crate::nn::History::default(),
            classes,
            normalization,
        };
        r.keep(trainer);
        Ok(r)
    }

    /// Records one step: its stats, and a snapshot if the trainer has now
    /// taken a planned number of steps. Pass it to [`Trainer::fit_with`].
    pub fn record(&mut self, trainer: &Trainer, stats: &StepStats) {
        self.history.push(*stats);
        if self.planned.binary_search(&trainer.steps_taken()).is_ok() {
            self.keep(trainer);
        }
    }

    fn keep(&mut self, trainer: &Trainer) {
        let step = trainer.steps_taken();
        if self.snapshots.last().is_some_and(|s| s.step == step) {
            return;
        }
        let model = SavedModel::from_mlp(
            trainer.graph(),
            trainer.model(),
            trainer.config().loss,
            self.classes,
            self.normalization.clone(),
        );
        self.snapshots.push(Snapshot { step, model });
    }

    /// The snapshots so far, in step order.
    pub fn snapshots(&self) -> &[Snapshot] {
        &self.snapshots
    }

    /// The recorded steps' stats (see [`crate::nn::History`]).
    pub fn history(&self) -> &[StepStats] {
        &self.history
    }
}

/// What [`training_page_html`] draws.
#[derive(Clone, Debug)]
pub struct TrainingPage<'a> {
    /// The page's heading.
    pub title: &'a str,
    /// The data as given to training (not standardised): the points
    /// shown, whose graphs the page holds. Two features.
    pub data: &'a Dataset,
    /// The snapshots, in step order; the last one is the trained network.
    pub snapshots: &'a [Snapshot],
    /// Each step's stats, for the curves.
    pub history: &'a [StepStats],
    /// Heat-map cells per side, [`MIN_GRID`] to [`MAX_GRID`].
    pub grid: usize,
}

impl<'a> TrainingPage<'a> {
    /// A page of `recorder`'s snapshots and history over `data`, with an
    /// empty title and a [`DEFAULT_GRID`].
    pub fn new(recorder: &'a SnapshotRecorder, data: &'a Dataset) -> Self {
        Self {
            title: "",
            data,
            snapshots: recorder.snapshots(),
            history: recorder.history(),
            grid: DEFAULT_GRID,
        }
    }
}

fn check_limit(
    what: &'static str,
    value: usize,
    min: usize,
    max: usize,
) -> Result<(), TrainingPageError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(TrainingPageError::Limit {
            what,
            value,
            min,
            max,
        })
    }
}

/// The page's data, read by `train_page.js`.
#[derive(Serialize)]
struct PageData<'a> {
    title: &'a str,
    classes: usize,
    class_names: Vec<String>,
    features: [String; 2],
    /// Layer sizes, inputs first.
    layers: Vec<usize>,
    activations: Vec<&'static str>,
    loss: &'static str,
    /// `[x, y, class]` per point, as given.
    points: Vec<(JsonNumber, JsonNumber, usize)>,
    /// Per point, the inputs the network sees (standardised if the model
    /// is).
    inputs: Vec<Vec<JsonNumber>>,
    grid: Grid,
    snapshots: Vec<SnapshotData>,
    /// `[step, loss, accuracy]`.
    history: Vec<(usize, JsonNumber, JsonNumber)>,
    templates: Vec<TemplateData>,
    /// Per snapshot, per point: `[template, values, locals, names,
    /// formulas, derived]` (see [`Pair`]).
    pairs: Vec<Vec<Pair>>,
    estimate_step: f64,
    layout_seconds: u32,
    /// Where the sample's data goes in the `draw` page's HTML.
    marker: &'static str,
    /// Where Viz.js goes in it.
    viz_marker: &'static str,
    /// Where the sample's title goes in it.
    title_marker: &'static str,
}

#[derive(Serialize)]
struct Grid {
    n: usize,
    /// Cell centres, left to right.
    xs: Vec<f64>,
    /// Cell centres, bottom to top.
    ys: Vec<f64>,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

#[derive(Serialize)]
struct SnapshotData {
    step: usize,
    /// Per parameter, in the order of the sample graph's leaves (layer,
    /// neuron, weights then bias).
    params: Vec<JsonNumber>,
    /// The predicted class of each cell, row by row from the bottom.
    cells: Vec<usize>,
    /// How sure each cell is, 0 to 3, one digit per cell.
    levels: String,
    /// The mean data loss and the accuracy on all points.
    loss: JsonNumber,
    accuracy: f64,
}

#[derive(Serialize)]
struct TemplateData {
    /// The shape's explanation without the numbers the script computes
    /// (see [`shape_json`]).
    explanation: serde_json::Value,
    /// The explanation itself, for comparing the other points' with it.
    #[serde(skip)]
    full: Explanation,
    dot: String,
    layout_in_worker: bool,
    /// Per node: where its value comes from: `>= 0` the input or
    /// parameter at that place of `[inputs.., params..]`; -1 the pair's
    /// values; -2 a dot product; -3 a ReLU.
    src: Vec<i64>,
    /// The names of the explanation's `grads`, in order.
    grad_names: Vec<String>,
    /// Per entry of the explanation's `grads`, its node.
    grad_nodes: Vec<usize>,
}

/// `(template, values, locals, names, formulas, derived)`: with
/// `derived` 1, `names` holds only constants, and the script derives the
/// other names and the formulas by replacing the shape's constant names
/// with these.
type Pair = (
    usize,
    Vec<JsonNumber>,
    Vec<JsonNumber>,
    Vec<(usize, String, String)>,
    Vec<(usize, usize, String)>,
    u8,
);

const FROM_PAIR: i64 = -1;
const DOT: i64 = -2;
const RELU: i64 = -3;

/// Where a node's value comes from (see [`TemplateData::src`]).
fn sources(e: &Explanation, leaf_place: &HashMap<usize, usize>) -> Vec<i64> {
    e.nodes
        .iter()
        .map(|n| match (n.op.as_str(), leaf_place.get(&n.id)) {
            ("", Some(&p)) => p as i64,
            ("dot", _) => DOT,
            ("relu", _) => RELU,
            _ => FROM_PAIR,
        })
        .collect()
}

/// The operation and operands of each node: two explanations with the
/// same key differ only in numbers and the names of constants.
fn shape_key(e: &Explanation) -> String {
    let mut s = String::new();
    for n in &e.nodes {
        let _ = write!(s, "{}{:?}{:?};", n.op, n.operands, n.label);
    }
    s
}

/// `e` as JSON without what the script computes for each point: the
/// values, gradients, local derivatives, contributions, running totals and
/// upstream gradients, the leaves' numbers, the step's node names (its
/// node's) and the gradients (see `TemplateData::grad_names`).
fn shape_json(e: &Explanation) -> serde_json::Value {
    let mut v = serde_json::to_value(e).expect("an explanation serializes");
    let strip = |v: &mut serde_json::Value, keys: &[&str]| {
        if let Some(o) = v.as_object_mut() {
            for k in keys {
                o.remove(*k);
            }
        }
    };
    strip(&mut v, &["value", "checks"]);
    for n in v["nodes"].as_array_mut().into_iter().flatten() {
        let leaf = n["op"] == "";
        strip(n, &["data", "grad"]);
        if leaf {
            strip(n, &["expr"]);
        }
    }
    for st in v["steps"].as_array_mut().into_iter().flatten() {
        strip(st, &["upstream", "node"]);
        for t in st["terms"].as_array_mut().into_iter().flatten() {
            strip(t, &["operand", "local", "contribution", "total"]);
        }
    }
    // A `serde_json::Value` object sorts its keys: the names go, in order,
    // in `TemplateData::grad_names`.
    strip(&mut v, &["grads"]);
    v
}

/// Whether the script computes a step's local derivatives itself.
fn computed_locals(op: &str) -> bool {
    op == "dot" || op == "relu"
}

/// The marker the `draw` page's data replaces.
const MARKER: &str = "/*backprop-sample-data*/";

/// The marker for the sample's title in the `draw` page's HTML.
const TITLE_MARKER: &str = "backprop-sample-title";

/// The marker for Viz.js in the `draw` page's HTML: the page holds Viz.js
/// once, as the `draw` page does, and the script puts it back.
const VIZ_MARKER: &str = "/*backprop-viz-js*/";

const SCRIPT: &str = include_str!("train_page.js");
const STYLE: &str = include_str!("train_page.css");

/// A feature's range with a margin (as the training plot draws it).
fn padded((lo, hi): (f64, f64)) -> Option<(f64, f64)> {
    let p = 0.1 * (hi - lo).max(1e-9) + 0.25;
    let (a, b) = (lo - p, hi + p);
    ((b - a).is_finite() && b > a).then_some((a, b))
}

/// The plane the page's heat map covers, `((x0, x1), (y0, y1))`: the
/// range of each of the 2 features with a margin, or `None` for data
/// without 2 features or a range too wide to draw (its width overflows).
///
/// ```
/// let d = backprop::data::Dataset::new(vec![0.0, 0.0, 1.0, 2.0], vec![0, 1], 2).unwrap();
/// assert_eq!(backprop::explain::page_extent(&d), Some(((-0.35, 1.35), (-0.45, 2.45))));
/// let wide = backprop::data::Dataset::new(vec![-1e308, 0.0, 1e308, 1.0], vec![0, 1], 2).unwrap();
/// assert_eq!(backprop::explain::page_extent(&wide), None);
/// ```
pub fn page_extent(data: &Dataset) -> Option<((f64, f64), (f64, f64))> {
    if data.n_features() != 2 {
        return None;
    }
    let b = data.bounds();
    padded(b[0]).zip(padded(b[1]))
}

/// The training page: one self-contained HTML file, offline, with the
/// decision boundary at each snapshot as a heat map over the points, the
/// loss and accuracy curves with a marker at the snapshot's step, a
/// slider, play/pause and the arrow keys, the network's layers (edges by
/// weight), and every point's graph at every snapshot (click a point).
///
/// # How a point's graph gets into the page
///
/// The page cannot run the engine, and embedding every sample's
/// explanation at every snapshot would take hundreds of megabytes (about
/// 180 kB each for the default network). The page holds instead:
///
/// - per snapshot, its parameters (337 numbers for the default network);
/// - per *shape* of graph (one per class, and one more where the loss
///   branches on the data, as the BCE loss does), one whole
///   [`Explanation`] with its DOT text: the names, operations, formulas
///   and operands;
/// - per sample and snapshot, only what the parameters do not give: the
///   values of the nodes that are neither inputs, parameters, dot products
///   nor ReLUs (the loss's nodes, constants, tanh and sigmoid activations),
///   and the local derivatives of the steps other than dot products and
///   ReLUs, all computed by the engine here, plus the names that differ
///   from the shape's (a cross-entropy's shift by the largest logit is a
///   constant named by its value).
///
/// The page's script fills in the rest with the engine's own rules: a dot
/// product's value (summed in [`crate::engine::dot_kernel`]'s order) and
/// its local derivatives (the other operand's data), a ReLU's value and
/// its derivative (1 where the output is positive), then the backward
/// pass in the engine's order (`grad += upstream * local`). The numbers
/// are those of `backprop explain --model` (a browser test compares
/// them), and the default run's page (21 snapshots, 100 points, a 60 × 60 grid)
/// is about 2.5 MB, more than half of it Graphviz.
///
/// See [`SnapshotRecorder`] for an example.
///
/// # Errors
/// [`TrainingPageError::Limit`] for a grid, point count or snapshot
/// count outside [`MIN_GRID`]..=[`MAX_GRID`], [`MAX_POINTS`],
/// [`MAX_SNAPSHOTS`], [`MAX_SAMPLE_GRAPHS`] or a network of more than
/// [`MAX_PAGE_PARAMETERS`]; [`TrainingPageError::Features`] for data
/// without exactly 2 features; [`TrainingPageError::Input`] for no
/// snapshots or labels the model does not have.
pub fn training_page_html(page: &TrainingPage<'_>) -> Result<String, TrainingPageError> {
    let data = page.data;
    let snaps = page.snapshots;
    check_limit("grid cells per side", page.grid, MIN_GRID, MAX_GRID)?;
    check_limit("data points", data.len(), 1, MAX_POINTS)?;
    check_limit("snapshots", snaps.len(), 1, MAX_SNAPSHOTS)?;
    check_limit(
        "sample graphs (points × snapshots)",
        data.len() * snaps.len(),
        1,
        MAX_SAMPLE_GRAPHS,
    )?;
    if data.n_features() != 2 {
        return Err(TrainingPageError::Features(data.n_features()));
    }
    let last = &snaps[snaps.len() - 1].model;
    last.validate()?;
    check_limit(
        "network parameters",
        last.num_parameters(),
        1,
        MAX_PAGE_PARAMETERS,
    )?;
    if last.inputs != 2 {
        return Err(TrainingPageError::Features(last.inputs));
    }
    if let Some(i) = data.labels().iter().position(|&c| c >= last.classes) {
        return Err(TrainingPageError::Input(format!(
            "point {} has class {}, but the model has {} classes",
            i + 1,
            data.label(i),
            last.classes
        )));
    }
    let ((x0, x1), (y0, y1)) = page_extent(data).ok_or(TrainingPageError::Range)?;
    let n = page.grid;
    let centre = |lo: f64, hi: f64, i: usize| lo + (i as f64 + 0.5) * ((hi - lo) / n as f64);
    let grid = Grid {
        n,
        xs: (0..n).map(|i| centre(x0, x1, i)).collect(),
        ys: (0..n).map(|i| centre(y0, y1, i)).collect(),
        x0,
        x1,
        y0,
        y1,
    };

    let mut snapshots = Vec::with_capacity(snaps.len());
    let mut templates: Vec<(String, TemplateData)> = Vec::new();
    let mut pairs = Vec::with_capacity(snaps.len());
    for snap in snaps {
        let m = &snap.model;
        m.validate()?;
        let sizes = |m: &SavedModel| -> Vec<(usize, usize)> {
            m.layers
                .iter()
                .map(|l| {
                    (
                        l.neurons.len(),
                        l.neurons.first().map_or(0, |n| n.weights.len()),
                    )
                })
                .collect()
        };
        if m.inputs != 2 || m.classes != last.classes || sizes(m) != sizes(last) {
            return Err(TrainingPageError::Input(format!(
                "the snapshot at step {} is not the same network as the last",
                snap.step
            )));
        }
        let mut cells = Vec::with_capacity(n * n);
        let mut levels = String::with_capacity(n * n);
        for &y in &grid.ys {
            for &x in &grid.xs {
                let p = m.predict(&[x, y])?;
                cells.push(p.class);
                levels.push(char::from(b'0' + confidence(&p.scores)));
            }
        }
        let eval = m.evaluate(data)?;
        snapshots.push(SnapshotData {
            step: snap.step,
            params: m
                .layers
                .iter()
                .flat_map(|l| l.neurons.iter())
                .flat_map(|n| n.weights.iter().chain(std::iter::once(&n.bias)))
                .map(|&w| JsonNumber(w))
                .collect(),
            cells,
            levels,
            loss: JsonNumber(eval.loss),
            accuracy: eval.accuracy,
        });
        let mut row = Vec::with_capacity(data.len());
        for explained in explain_points(m, data)? {
            row.push(pair(explained, &mut templates)?);
        }
        pairs.push(row);
    }
    let norm = last.normalization.as_ref();
    let points = (0..data.len())
        .map(|i| {
            let x = data.x(i);
            (JsonNumber(x[0]), JsonNumber(x[1]), data.label(i))
        })
        .collect();
    let inputs = (0..data.len())
        .map(|i| {
            data.x(i)
                .iter()
                .enumerate()
                .map(|(j, &v)| JsonNumber(norm.map_or(v, |n| n.standardize(j, v))))
                .collect()
        })
        .collect();
    let features = match data.feature_names() {
        Some(f) if f.len() == 2 => [shown_name(&f[0]), shown_name(&f[1])],
        _ => ["x1".into(), "x2".into()],
    };
    let title = crate::format::shown_name(page.title);
    let page_data = PageData {
        title: &title,
        classes: last.classes,
        class_names: (0..last.classes)
            .map(|c| match data.class_names() {
                Some(names) if c < names.len() => shown_name(&names[c]),
                _ => shown_name(&last.class_name(c)),
            })
            .collect(),
        features,
        layers: std::iter::once(last.inputs)
            .chain(last.layers.iter().map(|l| l.neurons.len()))
            .collect(),
        activations: last.layers.iter().map(|l| l.activation.name()).collect(),
        loss: last.loss.name(),
        points,
        inputs,
        grid,
        snapshots,
        history: page
            .history
            .iter()
            .map(|s| (s.step, JsonNumber(s.loss), JsonNumber(s.accuracy)))
            .collect(),
        templates: templates.into_iter().map(|(_, t)| t).collect(),
        pairs,
        estimate_step: PAGE_FD_STEP,
        layout_seconds: LAYOUT_SECONDS,
        marker: MARKER,
        viz_marker: VIZ_MARKER,
        title_marker: TITLE_MARKER,
    };
    let json = serde_json::to_string(&page_data).expect("page data always serializes");
    // The `draw` page, with a marker where the sample's data goes: the
    // script fills it in and shows it in a frame.
    let shell_source = Graph::new();
    let shell_leaf = shell_source.value(0.0).with_label("x");
    let shell =
        assemble(TITLE_MARKER, MARKER, &super::explain(shell_leaf)).replacen(VIZ_JS, VIZ_MARKER, 1);
    let shell = serde_json::to_string(&shell).expect("a string serializes");
    Ok(assemble_training(&title, &json, &shell))
}

/// [`training_page_html`], written to `path` atomically (a temporary file
/// renamed into place, as every output of this crate).
///
/// # Errors
/// As [`training_page_html`], and [`TrainingPageError::Io`] if the file
/// cannot be written.
pub fn write_training_page(
    path: impl AsRef<Path>,
    page: &TrainingPage<'_>,
) -> Result<(), TrainingPageError> {
    let html = training_page_html(page)?;
    let path = path.as_ref();
    crate::files::write_atomic(path, html.as_bytes()).map_err(|source| TrainingPageError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// 0 to 3: how far a cell is from the boundary, by the gap between its
/// two largest outputs (or a single output's distance from 0).
fn confidence(scores: &[f64]) -> u8 {
    let gap = if scores.len() == 1 {
        scores[0].abs()
    } else {
        let mut s: Vec<f64> = scores.to_vec();
        s.sort_by(|a, b| b.total_cmp(a));
        s[0] - s[1]
    };
    if gap.is_nan() {
        0
    } else {
        (gap * 2.0).clamp(0.0, 3.0) as u8
    }
}

/// One sample's graph at one snapshot, as the numbers its shape needs.
/// One point's explanation at one snapshot, and its leaves' node ids
/// (inputs, then parameters).
fn explain_point(
    m: &SavedModel,
    x: &[f64],
    label: usize,
) -> Result<(Explanation, Vec<usize>), TrainingPageError> {
    let g = Graph::new();
    let net = network_graph(&g, m, x, Some(label), None)?;
    let e = explain_with_leaves(net.root, &net.leaves);
    Ok((e, net.leaves.iter().map(|(_, v)| v.id().index()).collect()))
}

/// Every point's explanation at snapshot `m`, in the points' order (on
/// several threads with the `parallel` feature: the same results).
fn explain_points(
    m: &SavedModel,
    data: &Dataset,
) -> Result<Vec<(Explanation, Vec<usize>)>, TrainingPageError> {
    let one = |i: usize| explain_point(m, data.x(i), data.label(i));
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..data.len()).into_par_iter().map(one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    (0..data.len()).map(one).collect()
}

fn pair(
    (e, leaves): (Explanation, Vec<usize>),
    templates: &mut Vec<(String, TemplateData)>,
) -> Result<Pair, TrainingPageError> {
    let key = shape_key(&e);
    let t = match templates.iter().position(|(k, _)| *k == key) {
        Some(t) => t,
        None => {
            if e.nodes.len() > PAGE_MAX_NODES {
                return Err(TrainingPageError::Limit {
                    what: "nodes in a sample's graph",
                    value: e.nodes.len(),
                    min: 1,
                    max: PAGE_MAX_NODES,
                });
            }
            let leaf_place: HashMap<usize, usize> =
                leaves.iter().enumerate().map(|(p, &id)| (id, p)).collect();
            let (dot, work) = dot_and_work(&e);
            templates.push((
                key,
                TemplateData {
                    src: sources(&e, &leaf_place),
                    grad_names: e.grads.iter().map(|(name, _)| name.clone()).collect(),
                    grad_nodes: e
                        .grads
                        .iter()
                        .map(|(name, _)| {
                            e.nodes
                                .iter()
                                .position(|n| n.is_leaf() && n.name == *name)
                                .unwrap_or(usize::MAX)
                        })
                        .collect(),
                    dot,
                    layout_in_worker: e.nodes.len() > MAIN_THREAD_NODES || work > MAIN_THREAD_WORK,
                    explanation: shape_json(&e),
                    full: e.clone(),
                },
            ));
            templates.len() - 1
        }
    };
    let tpl = &templates[t].1;
    let values = e
        .nodes
        .iter()
        .zip(&tpl.src)
        .filter(|&(_, &s)| s == FROM_PAIR)
        .map(|(n, _)| JsonNumber(n.data))
        .collect();
    let locals = e
        .steps
        .iter()
        .filter(|s| !computed_locals(&e.nodes[s.node_index].op))
        .flat_map(|s| s.terms.iter().map(|t| JsonNumber(t.local)))
        .collect();
    let te = &tpl.full;
    // The constants whose names differ from the shape's (a cross-entropy's
    // shift by the largest logit): the other names and formulas that
    // differ usually differ only by them, and the script derives them by
    // the same replacements, when they give exactly the engine's names.
    let mut subs: Vec<(&str, &str)> = Vec::new();
    for (a, b) in e.nodes.iter().zip(&te.nodes) {
        if a.is_leaf() && a.name != b.name && !subs.iter().any(|(old, _)| *old == b.name) {
            subs.push((&b.name, &a.name));
        }
    }
    let derive = |text: &str| {
        subs.iter()
            .fold(text.to_string(), |t, (old, new)| t.replace(old, new))
    };
    let derived = e
        .nodes
        .iter()
        .zip(&te.nodes)
        .filter(|(a, _)| !a.is_leaf())
        .all(|(a, b)| derive(&b.name) == a.name && derive(&b.expr) == a.expr)
        && e.steps.iter().zip(&te.steps).all(|(s, ts)| {
            s.terms
                .iter()
                .zip(&ts.terms)
                .all(|(a, b)| derive(&b.formula) == a.formula)
        });
    let names = e
        .nodes
        .iter()
        .zip(&te.nodes)
        .zip(&tpl.src)
        .filter(|&((a, b), &s)| {
            s < 0 && (a.is_leaf() || !derived) && (a.name != b.name || a.expr != b.expr)
        })
        .map(|((a, _), _)| (a.index, a.name.clone(), a.expr.clone()))
        .collect();
    let mut formulas = Vec::new();
    if !derived {
        for (k, (s, ts)) in e.steps.iter().zip(&te.steps).enumerate() {
            for (j, (a, b)) in s.terms.iter().zip(&ts.terms).enumerate() {
                if a.formula != b.formula {
                    formulas.push((k, j, a.formula.clone()));
                }
            }
        }
    }
    Ok((t, values, locals, names, formulas, u8::from(derived)))
}

fn assemble_training(title: &str, json: &str, shell: &str) -> String {
    let title = html_escape(title);
    let mut s = String::with_capacity(json.len() + shell.len() + SCRIPT.len() + 20_000);
    write_head(&mut s, &title, STYLE, true);
    let _ = write!(
        s,
        r#"<header>
  <h1>{title}</h1>
  <div id="controls" role="toolbar" aria-label="training step controls">
    <button id="first" title="first snapshot (Home)">|&#x25C0;</button>
    <button id="prev" title="previous snapshot (&#x2190;)">&#x25C0;</button>
    <button id="play" title="play / pause (space)">&#x25B6; play</button>
    <button id="next" title="next snapshot (&#x2192;)">&#x25B6;</button>
    <button id="last" title="last snapshot (End)">&#x25B6;|</button>
    <input id="slider" type="range" min="0" max="0" value="0" aria-label="training step">
    <span id="stepinfo">step 0</span>
  </div>
</header>
<main>
  <section id="left">
    <div id="mapbox"><canvas id="map" width="520" height="520" aria-label="decision boundary: click a point to see its graph"></canvas></div>
    <div id="legend"></div>
    <canvas id="curves" width="520" height="200" aria-label="loss and accuracy"></canvas>
  </section>
  <section id="right">
    <div id="netbox"><h2>The network <span id="netinfo"></span></h2><svg id="net" role="img" aria-label="the network's layers"></svg></div>
    <div id="sample"><h2 id="samplehead">A sample's graph</h2><p id="samplehint">Click a data point to see its forward and loss graph at this step, and step through its backward pass.</p><iframe id="graphframe" title="the sample's graph"></iframe></div>
  </section>
</main>
<footer><details><summary>About this page</summary><p>Written by <code>backprop train --page</code>. A sample's graph is laid out by Graphviz {GRAPHVIZ_VERSION} compiled to WebAssembly (Viz.js {VIZ_JS_VERSION}), embedded in this file; its licenses are in the graph's own page.</p></details></footer>
<script type="application/json" id="training">{data}</script>
<script type="application/json" id="draw-page">{shell}</script>
<script type="text/plain" id="viz-js">
{VIZ_JS}
</script>
<script>
{NUMBERS_SCRIPT}
{SCRIPT}
</script>
</body>
</html>
"#,
        data = script_safe(json),
        shell = script_safe(shell),
    );
    s
}
