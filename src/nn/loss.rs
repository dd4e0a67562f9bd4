//! Losses, built from engine ops so that their gradients come for free.
//!
//! Each function returns the mean over the samples. For the binary losses
//! the network has one output, a score `s`; class 1 is predicted when
//! `s > 0`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::NnError;
use crate::{Graph, NodeId, Value};

/// The SVM max-margin (hinge) loss `mean(relu(1 - y s))` for labels
/// `y = ±1` (micrograd's demo).
///
/// ```
/// let g = backprop::Graph::new();
/// let s = [g.value(2.0), g.value(0.5)];
/// // relu(1 - 2) = 0, relu(1 + 0.5) = 1.5
/// assert_eq!(backprop::nn::hinge(&g, &s, &[1.0, -1.0]).data(), 0.75);
/// ```
///
/// # Panics
/// If the slices differ in length.
pub fn hinge<'g>(g: &'g Graph, scores: &[Value<'g>], targets: &[f64]) -> Value<'g> {
    assert_eq!(scores.len(), targets.len(), "one target per score");
    hinge_at(g, scores.len(), |i| scores[i], targets.iter().copied())
}

/// The losses read sample `i`'s output through `at(i)`, so that they work
/// on slices of values and on node ids alike.
fn hinge_at<'g>(
    g: &'g Graph,
    n: usize,
    at: impl Fn(usize) -> Value<'g>,
    y: impl Iterator<Item = f64>,
) -> Value<'g> {
    let total = g.sum((0..n).zip(y).map(|(i, y)| (1.0 - y * at(i)).relu()));
    mean(total, n)
}

/// The mean squared error `mean((p - t)²)`.
///
/// ```
/// let g = backprop::Graph::new();
/// let p = [g.value(1.0), g.value(-1.0)];
/// assert_eq!(backprop::nn::mse(&g, &p, &[0.0, 1.0]).data(), 2.5);
/// ```
///
/// # Panics
/// If the slices differ in length.
pub fn mse<'g>(g: &'g Graph, predictions: &[Value<'g>], targets: &[f64]) -> Value<'g> {
    assert_eq!(
        predictions.len(),
        targets.len(),
        "one target per prediction"
    );
    mse_at(
        g,
        predictions.len(),
        |i| predictions[i],
        targets.iter().copied(),
    )
}

fn mse_at<'g>(
    g: &'g Graph,
    n: usize,
    at: impl Fn(usize) -> Value<'g>,
    t: impl Iterator<Item = f64>,
) -> Value<'g> {
    let total = g.sum((0..n).zip(t).map(|(i, t)| (at(i) - t).powf(2.0)));
    mean(total, n)
}

/// Binary cross-entropy from logits (PyTorch's `BCEWithLogitsLoss`) for
/// targets `y` in `[0, 1]`: `mean(max(z, 0) - z y + ln(1 + e^-|z|))`.
///
/// This equals `-y ln σ(z) - (1 - y) ln(1 - σ(z))` but never overflows:
/// `e^-|z| <= 1`. `max(z, 0)` and `|z|` are chosen by the sign of `z`
/// (a constant for the graph, like the max in [`cross_entropy`]), so the
/// gradient is `σ(z) - y` everywhere, `z = 0` included.
///
/// ```
/// let g = backprop::Graph::new();
/// let z = [g.value(0.0), g.value(1000.0)];
/// let l = backprop::nn::bce_with_logits(&g, &z, &[1.0, 1.0]);
/// assert!((l.data() - 2f64.ln() / 2.0).abs() < 1e-15);
/// ```
///
/// # Panics
/// If the slices differ in length.
pub fn bce_with_logits<'g>(g: &'g Graph, logits: &[Value<'g>], targets: &[f64]) -> Value<'g> {
    assert_eq!(logits.len(), targets.len(), "one target per logit");
    bce_at(g, logits.len(), |i| logits[i], targets.iter().copied())
}

fn bce_at<'g>(
    g: &'g Graph,
    n: usize,
    at: impl Fn(usize) -> Value<'g>,
    y: impl Iterator<Item = f64>,
) -> Value<'g> {
    let total = g.sum((0..n).zip(y).map(|(i, y)| {
        let z = at(i);
        // max(z, 0) and |z| picked by the sign of z's data: each branch is
        // smooth, and the gradient is σ(z) - y even at z = 0 (where
        // relu(z) + relu(-z) would give the subgradient 0 for |z|).
        if z.data() >= 0.0 {
            z * (1.0 - y) + ((-z).exp() + 1.0).ln()
        } else {
            z * -y + (z.exp() + 1.0).ln()
        }
    }));
    mean(total, n)
}

/// Softmax cross-entropy for several classes (PyTorch's
/// `CrossEntropyLoss`): `logits` holds `classes` numbers per sample,
/// row-major, and the loss is `mean(ln Σ_j e^(l_j) - l_label)`.
///
/// Stable log-sum-exp: the largest logit `m` of each row is subtracted as a
/// constant, `ln Σ_j e^(l_j - m) - (l_label - m)` (same value and
/// gradient, no overflow).
///
/// ```
/// let g = backprop::Graph::new();
/// let l = [g.value(1.0), g.value(1.0), g.value(1000.0), g.value(0.0)];
/// let loss = backprop::nn::cross_entropy(&g, &l, 2, &[0, 1]);
/// // row 1: ln 2; row 2 (label 1): ln(e^1000 + e^0) - 0 ≈ 1000
/// assert!((loss.data() - (2f64.ln() + 1000.0) / 2.0).abs() < 1e-9);
/// ```
///
/// # Panics
/// If `classes` is 0, `logits.len() != classes * labels.len()`, or a label is not below
/// `classes`.
pub fn cross_entropy<'g>(
    g: &'g Graph,
    logits: &[Value<'g>],
    classes: usize,
    labels: &[usize],
) -> Value<'g> {
    assert_eq!(
        logits.len(),
        classes * labels.len(),
        "{classes} logits per label"
    );
    cross_entropy_at(g, |i| logits[i], classes, labels)
}

fn cross_entropy_at<'g>(
    g: &'g Graph,
    at: impl Fn(usize) -> Value<'g>,
    classes: usize,
    labels: &[usize],
) -> Value<'g> {
    let total = g.sum(labels.iter().enumerate().map(|(r, &label)| {
        assert!(label < classes, "label {label} is not below {classes}");
        let row = |j: usize| at(r * classes + j);
        let m = (0..classes)
            .map(|j| row(j).data())
            .fold(f64::NEG_INFINITY, f64::max);
        // A chain of additions, not a nested `Graph::sum`, keeps this
        // allocation-free (classes are few).
        let mut shifted_label = None;
        let mut sum: Option<Value<'g>> = None;
        for j in 0..classes {
            let d = row(j) - m;
            if j == label {
                shifted_label = Some(d);
            }
            let e = d.exp();
            sum = Some(sum.map_or(e, |s| s + e));
        }
        let (sum, d) = (
            sum.expect("classes >= 1"),
            shifted_label.expect("label < classes"),
        );
        sum.ln() - d
    }));
    mean(total, labels.len())
}

/// L2 regularisation `alpha Σ p²`, as one dot-product node.
///
/// ```
/// let g = backprop::Graph::new();
/// let p = [g.value(3.0), g.value(4.0)];
/// let r = backprop::nn::l2(&g, &p, 1e-4);
/// r.backward();
/// assert!((r.data() - 25e-4).abs() < 1e-15);
/// assert!((p[0].grad() - 6e-4).abs() < 1e-15);
/// ```
pub fn l2<'g>(g: &'g Graph, params: &[Value<'g>], alpha: f64) -> Value<'g> {
    g.dot(params, params) * alpha
}

/// [`l2`] on the parameters' ids; one [`Graph::linear_runs`] node (with a
/// zero bias, which changes no bit of the sum) when they are consecutive
/// nodes, as [`Mlp::new`](super::Mlp::new) makes them.
pub(crate) fn l2_ids<'g>(g: &'g Graph, params: &[NodeId], alpha: f64) -> Value<'g> {
    let run = params.windows(2).all(|p| p[1].index() == p[0].index() + 1);
    match params.first() {
        Some(&p0) if run => g.linear_runs(p0, p0, params.len(), g.value(0.0).id()) * alpha,
        _ => {
            let p: Vec<Value<'g>> = params.iter().map(|&id| g.get(id)).collect();
            l2(g, &p, alpha)
        }
    }
}

fn mean(total: Value<'_>, n: usize) -> Value<'_> {
    total * (1.0 / n.max(1) as f64)
}

/// A loss, as the model file and the command line name it.
///
/// ```
/// use backprop::nn::Loss;
///
/// let l: Loss = "cross-entropy".parse().unwrap();
/// assert_eq!(l.outputs(3), 3);
/// assert_eq!(Loss::Hinge.outputs(2), 1);
/// assert_eq!(Loss::Hinge.predict(&[-0.3]), 0);
/// assert_eq!(l.predict(&[0.1, 2.0, -1.0]), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// [`hinge`], labels ±1.
    Hinge,
    /// [`mse`] against ±1.
    Mse,
    /// [`bce_with_logits`], labels 0/1.
    Bce,
    /// [`cross_entropy`] over the classes.
    CrossEntropy,
}

impl Loss {
    /// All losses.
    pub const ALL: [Loss; 4] = [Loss::Hinge, Loss::Mse, Loss::Bce, Loss::CrossEntropy];

    /// The name used by the command line and model files.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Hinge => "hinge",
            Loss::Mse => "mse",
            Loss::Bce => "bce",
            Loss::CrossEntropy => "cross-entropy",
        }
    }

    /// Whether this loss is for two classes and one output.
    pub fn is_binary(self) -> bool {
        self != Loss::CrossEntropy
    }

    /// The loss `backprop train` uses for `classes` classes unless told
    /// otherwise: micrograd's hinge loss for two, softmax cross-entropy for
    /// more.
    ///
    /// ```
    /// use backprop::nn::Loss;
    /// assert_eq!(Loss::for_classes(2), Loss::Hinge);
    /// assert_eq!(Loss::for_classes(3), Loss::CrossEntropy);
    /// ```
    pub fn for_classes(classes: usize) -> Self {
        if classes > 2 {
            Loss::CrossEntropy
        } else {
            Loss::Hinge
        }
    }

    /// The optimizer `backprop train` uses with this loss unless told
    /// otherwise: Adam for cross-entropy, SGD (micrograd's demo) for the
    /// others.
    pub fn default_optimizer(self) -> crate::optim::OptimizerKind {
        use crate::optim::OptimizerKind;
        if self == Loss::CrossEntropy {
            OptimizerKind::Adam
        } else {
            OptimizerKind::Sgd
        }
    }

    /// The number of network outputs the loss needs for `classes` classes.
    pub fn outputs(self, classes: usize) -> usize {
        if self.is_binary() { 1 } else { classes }
    }

    /// Checks that the loss can handle `classes` classes.
    ///
    /// # Errors
    /// [`NnError::LossClasses`] for a binary loss and more than 2 classes.
    pub fn check_classes(self, classes: usize) -> Result<(), NnError> {
        if self.is_binary() && classes > 2 {
            return Err(NnError::LossClasses {
                loss: self,
                classes,
            });
        }
        Ok(())
    }

    /// The mean loss of `outputs` (row-major, [`Loss::outputs`] per sample)
    /// for class `labels`; binary losses map class 1 to the target 1 and
    /// class 0 to -1 (hinge, mse) or 0 (bce).
    ///
    /// # Panics
    /// If the sizes do not match.
    pub fn compute<'g>(self, g: &'g Graph, outputs: &[Value<'g>], labels: &[usize]) -> Value<'g> {
        if self == Loss::CrossEntropy {
            // The sizes are checked there.
            return cross_entropy(g, outputs, outputs.len() / labels.len().max(1), labels);
        }
        self.compute_at(g, outputs.len(), |i| outputs[i], labels)
    }

    /// [`Loss::compute`] on the outputs' node ids, for buffers of ids that
    /// outlive the graph borrow (the trainer's).
    pub(crate) fn compute_ids<'g>(
        self,
        g: &'g Graph,
        outputs: &[NodeId],
        labels: &[usize],
    ) -> Value<'g> {
        self.compute_at(g, outputs.len(), |i| g.get(outputs[i]), labels)
    }

    fn compute_at<'g>(
        self,
        g: &'g Graph,
        n: usize,
        at: impl Fn(usize) -> Value<'g>,
        labels: &[usize],
    ) -> Value<'g> {
        let pm = labels.iter().map(|&c| if c == 1 { 1.0 } else { -1.0 });
        match self {
            Loss::Hinge => {
                assert_eq!(n, labels.len(), "one score per label");
                hinge_at(g, n, at, pm)
            }
            Loss::Mse => {
                assert_eq!(n, labels.len(), "one score per label");
                mse_at(g, n, at, pm)
            }
            Loss::Bce => {
                assert_eq!(n, labels.len(), "one score per label");
                bce_at(
                    g,
                    n,
                    at,
                    labels.iter().map(|&c| if c == 1 { 1.0 } else { 0.0 }),
                )
            }
            Loss::CrossEntropy => {
                let classes = n / labels.len().max(1);
                assert_eq!(n, classes * labels.len(), "{classes} logits per label");
                cross_entropy_at(g, at, classes, labels)
            }
        }
    }

    /// The predicted class for one sample's outputs: `score > 0` for binary
    /// losses, the largest logit (the first on ties) otherwise.
    ///
    /// # Panics
    /// If `outputs` is empty.
    pub fn predict(self, outputs: &[f64]) -> usize {
        if self.is_binary() {
            usize::from(outputs[0] > 0.0)
        } else {
            let mut best = 0;
            for (j, &v) in outputs.iter().enumerate() {
                if v > outputs[best] {
                    best = j;
                }
            }
            best
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Loss {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "svm" | "max-margin" => Ok(Loss::Hinge),
            "ce" | "softmax" => Ok(Loss::CrossEntropy),
            "bce-with-logits" | "logistic" => Ok(Loss::Bce),
            _ => Loss::ALL
                .into_iter()
                .find(|l| l.name() == s)
                .ok_or_else(|| {
                    format!("unknown loss `{s}` (expected hinge, mse, bce or cross-entropy)")
                }),
        }
    }
}
