//! One sample's graph through a saved network, with every parameter
//! labelled, ready to explain.

use std::collections::HashMap;

use crate::format::shown_name;
use crate::nn::{NnError, SavedModel};
use crate::{Graph, NodeId, Op, Value};

/// Why [`network_graph`] could not build a graph.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The model does not validate, or the point has the wrong size.
    #[error(transparent)]
    Model(#[from] NnError),
    /// A label that is not one of the model's classes.
    #[error("label {label} is not a class of this model (its classes are 0 to {})", classes - 1)]
    Label {
        /// The label given.
        label: usize,
        /// The model's number of classes.
        classes: usize,
    },
    /// An output index past the network's outputs.
    #[error("output {index} does not exist: the network has {outputs} output(s), counted from 0")]
    Output {
        /// The index given.
        index: usize,
        /// The network's number of outputs.
        outputs: usize,
    },
}

/// One sample's forward graph through a network: the root to explain and
/// the leaves to report, inputs first, then each layer's parameters.
#[derive(Clone, Debug)]
pub struct NetworkGraph<'g> {
    /// The loss of the sample (with a label) or one output (without).
    pub root: Value<'g>,
    /// The labelled leaves: `x1`, `x2`, ..., then `L1.N1.w1`, ...,
    /// `L1.N1.b`, `L1.N2.w1`, ... (layers, neurons and weights counted
    /// from 1).
    pub leaves: Vec<(String, Value<'g>)>,
    /// One line saying what the root is, e.g. `the hinge loss of the point
    /// 0.5,0.2 with label 1`, or `... with label dog (class 1)` for a model
    /// trained on word labels.
    pub title: String,
}

/// Builds `model`'s graph for one `point` on `g`, parameters as labelled
/// leaves. With a `label` the root is the sample's loss (the model's own
/// loss function, as `backprop train` computes it for one row); without,
/// the root is output `output` (counted from 0; by default the predicted
/// class's output, the only one for binary models). A model trained with
/// standardisation gets the standardised point as its inputs `x1`, `x2`,
/// ... (the title says so). The outputs are `out` (one output) or, one
/// per class, `out.cat`, `out.dog` for a model trained on word labels
/// (else `out1`, `out2`, ...).
///
/// ```
/// use backprop::{Graph, nn::{Loss, Mlp, MlpConfig, SavedModel}};
/// use backprop::explain::{explain_with_leaves, network_graph};
///
/// let g = Graph::new();
/// let m = Mlp::new(&g, 2, &[3, 1], &MlpConfig::default()).unwrap();
/// let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
/// let g = Graph::new();
/// let net = network_graph(&g, &saved, &[0.5, 0.2], Some(1), None).unwrap();
/// let e = explain_with_leaves(net.root, &net.leaves);
/// assert!(e.grad("L1.N3.w2").is_some() && e.grad("L2.N1.b").is_some());
/// assert_eq!(e.grads.len(), 2 + 3 * 3 + 4);
/// ```
///
/// # Errors
/// [`NetworkError::Model`] with [`NnError::InvalidModel`] if the model
/// does not validate or [`NnError::FeatureCount`] for a point of the
/// wrong size; [`NetworkError::Label`] for a label that is not a class;
/// [`NetworkError::Output`] for an output that does not exist.
pub fn network_graph<'g>(
    g: &'g Graph,
    model: &SavedModel,
    point: &[f64],
    label: Option<usize>,
    output: Option<usize>,
) -> Result<NetworkGraph<'g>, NetworkError> {
    model.validate()?;
    if point.len() != model.inputs {
        return Err(NnError::FeatureCount {
            expected: model.inputs,
            found: point.len(),
        }
        .into());
    }
    if let Some(c) = label
        && c >= model.classes
    {
        return Err(NetworkError::Label {
            label: c,
            classes: model.classes,
        });
    }
    let mlp = model.to_mlp(g)?;
    let mut leaves = Vec::new();
    let x: Vec<Value<'g>> = point
        .iter()
        .enumerate()
        .map(|(j, &v)| {
            let v = match &model.normalization {
                Some(n) => n.standardize(j, v),
                None => v,
            };
            let name = format!("x{}", j + 1);
            let leaf = g.value(v).with_label(name.clone());
            leaves.push((name, leaf));
            leaf
        })
        .collect();
    for (l, layer) in mlp.layers().iter().enumerate() {
        for (n, neuron) in layer.neurons().iter().enumerate() {
            for (i, &w) in neuron.weights().iter().enumerate() {
                let name = format!("L{}.N{}.w{}", l + 1, n + 1, i + 1);
                leaves.push((name.clone(), g.get(w).with_label(name)));
            }
            let name = format!("L{}.N{}.b", l + 1, n + 1);
            leaves.push((name.clone(), g.get(neuron.bias()).with_label(name)));
        }
    }
    let outs = mlp.forward(g, &x);
    let nout = outs.len();
    let shown = point
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let standardized = if model.normalization.is_some() {
        " (inputs x1.. standardised as in training)"
    } else {
        ""
    };
    for (k, o) in outs.iter().enumerate() {
        if o.label().is_none() {
            o.set_label(match &model.class_names {
                _ if nout == 1 => "out".to_string(),
                // One output per class: named by the class's word label,
                // so the loss's terms read `out.dog`.
                Some(names) if names.len() == nout => format!("out.{}", names[k]),
                _ => format!("out{}", k + 1),
            });
        }
    }
    name_neurons(g, &outs, &leaves);
    let (root, title) = match label {
        Some(c) => {
            let loss = model.loss.compute(g, &outs, &[c]).with_label("loss");
            (
                loss,
                format!(
                    "the {} loss of the point {shown} with label {}{standardized}",
                    model.loss,
                    label_words(model, c)
                ),
            )
        }
        None => {
            let k = match output {
                Some(k) if k >= nout => {
                    return Err(NetworkError::Output {
                        index: k,
                        outputs: nout,
                    });
                }
                Some(k) => k,
                None if nout == 1 => 0,
                None => {
                    let scores: Vec<f64> = outs.iter().map(|o| o.data()).collect();
                    model.loss.predict(&scores)
                }
            };
            let of = match &model.class_names {
                Some(names) if nout > 1 && k < names.len() => {
                    format!(" (class {})", shown_name(&names[k]))
                }
                _ => String::new(),
            };
            (
                outs[k],
                format!(
                    "output {} of {nout}{of} for the point {shown}{standardized}",
                    k + 1
                ),
            )
        }
    };
    Ok(NetworkGraph {
        root,
        leaves,
        title,
    })
}

/// Class `c` as the title shows it: its word label and number for a model
/// trained on words (`dog (class 1)`), else its number.
fn label_words(model: &SavedModel, c: usize) -> String {
    match &model.class_names {
        Some(_) => format!("{} (class {c})", shown_name(&model.class_name(c))),
        None => c.to_string(),
    }
}

/// Labels each neuron's pre-activation `L1.N3.n` (its dot node, found by
/// its bias) and its activation `L1.N3.o`, as the notebook names a
/// neuron's `n` and `o = tanh(n)`; nodes that already have a label (the
/// outputs) keep it.
fn name_neurons<'g>(g: &'g Graph, outs: &[Value<'g>], leaves: &[(String, Value<'g>)]) {
    let neuron_of_bias: HashMap<NodeId, &str> = leaves
        .iter()
        .filter_map(|(name, v)| name.strip_suffix(".b").map(|n| (v.id(), n)))
        .collect();
    let mut neuron_of: HashMap<NodeId, String> = HashMap::new();
    for out in outs {
        for id in g.trace(out.id()).nodes {
            let v = g.get(id);
            let children = v.children();
            let name = match (v.op(), children.last()) {
                (Op::Dot, Some(b)) => neuron_of_bias.get(&b.id()).map(|n| format!("{n}.n")),
                (Op::Relu | Op::Tanh | Op::Sigmoid, Some(c)) => neuron_of
                    .get(&c.id())
                    .and_then(|n| n.strip_suffix(".n"))
                    .map(|n| format!("{n}.o")),
                _ => None,
            };
            if let Some(name) = name {
                neuron_of.insert(id, name.clone());
                if v.label().is_none() {
                    v.set_label(name);
                }
            }
        }
    }
}
