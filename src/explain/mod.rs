//! Backpropagation, step by step: the notebook's by-hand gradients,
//! worked out for any graph.
//!
//! The notebook computes each gradient by hand, from the output back to
//! the inputs: `o.grad = 1`, then `n.grad = o.grad * (1 - o**2)`, then a
//! `+` passes `n.grad` on unchanged and a `*` multiplies it by the other
//! operand's data. [`explain`] writes out exactly these steps for the graph
//! under any root [`Value`]:
//!
//! - the **forward pass**: every node the root depends on, in creation
//!   order, with the value it computed;
//! - the **backward pass**, in the order [`Value::backward`] runs it
//!   (reverse creation order), one [`Step`] per op node: its upstream
//!   gradient and, per operand, a [`Term`] with the local derivative (its
//!   formula in the notebook's words, such as `1 - o**2` or `x1.data`, and
//!   its value), the contribution `upstream * local`, and the operand's
//!   running gradient after it. An operand that receives contributions
//!   from several places (fan-out, or `a + a`) is marked: its terms
//!   accumulate (`+=`), as micrograd's `backward` does;
//! - the resulting gradients of the leaves.
//!
//! Fused n-ary nodes ([`Op::Sum`], [`Op::Dot`]) list one term per operand.
//! Nodes are named by their label; unlabelled leaves (constants) by their
//! number; unlabelled computed nodes by the expression they compute, such
//! as `(x1*w1)` (long expressions are cut, see [`MAX_NAME`]). Each name is
//! one node: a label carried by several nodes (a program that rebinds `c`
//! with `c += ...`) is numbered in creation order, `c₁ c₂ c₃`, and so is
//! any other name several nodes would share; an input keeps its plain name
//! (`a a₂` when the program rebinds its input `a`), the name `--at`,
//! `--leaf` and the gradients know it by. Inside formulas a constant is
//! its number (`-10/f.data**2`, `1/2`), and [`Term::constant`] marks the
//! terms towards constants, which the text leaves out by default: a
//! constant is not a parameter.
//!
//! The explanation works on its own copy of the numbers: it neither calls
//! `backward` nor changes any gradient in the graph.
//!
//! ```
//! use backprop::Graph;
//! use backprop::explain::explain;
//!
//! let g = Graph::new();
//! let x1 = g.value(2.0).with_label("x1");
//! let w1 = g.value(-3.0).with_label("w1");
//! let b = g.value(6.8813735870195432).with_label("b");
//! let n = (x1 * w1 + b).with_label("n");
//! let o = n.tanh().with_label("o");
//! let e = explain(o);
//! let first = &e.steps[0]; // o = tanh(n): n.grad = o.grad * (1 - o**2)
//! assert_eq!((first.node.as_str(), first.upstream), ("o", 1.0));
//! assert_eq!(first.terms[0].formula, "1 - o**2");
//! assert!((first.terms[0].contribution - 0.5).abs() < 1e-12);
//! assert!((e.grad("w1").unwrap() - 1.0).abs() < 1e-12);
//! println!("{}", e.to_text(&backprop::explain::TextOptions::default()));
//! ```

mod network;
mod page;
mod text;
mod train_page;

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::{NodeId, Op, Value};

pub use network::{NetworkError, NetworkGraph, network_graph};
pub use page::{
    GRAPHVIZ_VERSION, LAYOUT_SECONDS, PAGE_FD_STEP, PAGE_MAX_NODES, PageError, VIZ_JS_VERSION,
    to_dot, to_html,
};
pub use text::{DEFAULT_MAX_STEPS, TextOptions};
pub use train_page::{
    DEFAULT_GRID, DEFAULT_SNAPSHOTS, MAX_GRID, MAX_PAGE_PARAMETERS, MAX_POINTS, MAX_SAMPLE_GRAPHS,
    MAX_SNAPSHOTS, MIN_GRID, Snapshot, SnapshotRecorder, TrainingPage, TrainingPageError,
    page_extent, snapshot_steps, training_page_html, write_training_page,
};

/// The longest name given to an unlabelled computed node, in characters;
/// longer expressions keep their outer operation and show the long
/// operands as `…`.
pub const MAX_NAME: usize = 40;

/// One node of the forward pass.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    /// Position in [`Explanation::nodes`] (creation order, from 0).
    pub index: usize,
    /// The node's index in its graph ([`NodeId::index`]).
    pub id: usize,
    /// The name it is shown by, unique in the explanation: its label, its
    /// number (a constant), or the expression it computes; a name that
    /// several nodes would share gets its version as a subscript, in
    /// creation order (`c₁`, `c₂`, `c₃` for a program that binds `c` three
    /// times; see [`crate::format::versioned`]).
    pub name: String,
    /// The node's label (a program's name for it), if it has one, as
    /// [`crate::format::shown_name`] shows it (hidden characters such as a
    /// newline written `U+000A`); several nodes may share a label. Names
    /// and labels are looked up ([`Explanation::node`]) by either spelling.
    pub label: Option<String>,
    /// The op's symbol (`+`, `*`, `tanh`, `**2`, `Σ`, ...); empty for a leaf.
    pub op: String,
    /// How the node is computed from its operands' names (constants as
    /// their numbers), e.g. `x1*w1 + b`, `tanh(n)` or `c₁ + 1`; for a
    /// leaf, its number.
    pub expr: String,
    /// The value computed in the forward pass.
    #[serde(serialize_with = "crate::format::json_number")]
    pub data: f64,
    /// d(root)/d(this node), once the backward pass is over.
    #[serde(serialize_with = "crate::format::json_number")]
    pub grad: f64,
    /// The operands, as indices into [`Explanation::nodes`], in order (for
    /// `dot`: the weights, the inputs, then the bias).
    pub operands: Vec<usize>,
    /// How many times other nodes of the graph use this one (`a + a`
    /// counts twice); more than 1 means its gradient accumulates (`+=`).
    pub uses: usize,
}

impl Node {
    /// Whether the node is a leaf (an input, a parameter or a constant).
    pub fn is_leaf(&self) -> bool {
        self.operands.is_empty() && self.op.is_empty()
    }

    /// Whether the node is a constant: a leaf without a label, such as the
    /// `2` of `x*2`. Formulas show it as its number, and it gets no
    /// gradient line of its own (it is not a parameter).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0).with_label("x");
    /// let e = backprop::explain::explain((x * 2.0).with_label("y"));
    /// assert!(!e.nodes[0].is_constant() && e.nodes[1].is_constant());
    /// assert_eq!(e.steps[0].terms[0].formula, "2"); // d(x*2)/dx, as a number
    /// ```
    pub fn is_constant(&self) -> bool {
        self.is_leaf() && self.label.is_none()
    }

    /// Whether the node's name carries a version mark: its label is bound
    /// to more than one node (`c₁`, `c₂` for a program's `c = ...` and
    /// `c += ...`).
    ///
    /// ```
    /// let p = backprop::expr::Program::parse("a = 2; c = a * 3; c += c * a")?;
    /// let g = backprop::Graph::new();
    /// let ev = p.eval(&g, &[] as &[(&str, f64)])?;
    /// let e = backprop::explain::explain_with_leaves(ev.output, &ev.inputs);
    /// let names: Vec<&str> = e.nodes.iter().map(|n| n.name.as_str()).collect();
    /// assert_eq!(names, ["a", "3", "c₁", "(c₁*a)", "c₂"]);
    /// assert!(e.nodes[2].is_versioned() && !e.nodes[0].is_versioned());
    /// assert_eq!(e.nodes[4].label.as_deref(), Some("c"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_versioned(&self) -> bool {
        self.label.as_ref().is_some_and(|l| *l != self.name)
    }
}

/// One operand's share of a backward step: the chain rule for one edge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Term {
    /// The operand's name.
    pub operand: String,
    /// The operand's index in [`Explanation::nodes`].
    pub operand_index: usize,
    /// The local derivative d(node)/d(operand) in the notebook's words:
    /// `1`, `-1`, `x1.data`, `1 - o**2`, `2*x.data`, ...
    pub formula: String,
    /// The local derivative's value.
    #[serde(serialize_with = "crate::format::json_number")]
    pub local: f64,
    /// `upstream * local`: what this edge adds to the operand's gradient.
    #[serde(serialize_with = "crate::format::json_number")]
    pub contribution: f64,
    /// The operand's gradient after this contribution.
    #[serde(serialize_with = "crate::format::json_number")]
    pub total: f64,
    /// Whether the operand receives more than one contribution in the
    /// whole backward pass, so that this one is added (`+=`) to the others.
    pub accumulates: bool,
    /// Whether the operand is a constant (an unlabelled leaf, such as the
    /// `2` of `x*2`): not a parameter, so the text and the page leave its
    /// gradient out (`backprop explain --all` shows it).
    pub constant: bool,
}

/// One node's turn in the backward pass.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// The step's number, from 1, in the order the engine runs them.
    pub number: usize,
    /// The node's name.
    pub node: String,
    /// The node's index in [`Explanation::nodes`].
    pub node_index: usize,
    /// The node's op symbol.
    pub op: String,
    /// d(root)/d(node): the gradient that arrived from the node's users,
    /// now passed on to its operands.
    #[serde(serialize_with = "crate::format::json_number")]
    pub upstream: f64,
    /// One term per operand, in operand order.
    pub terms: Vec<Term>,
}

/// The forward and backward pass of one graph, as data (see the
/// [module docs](self)). Serializes to the JSON that `backprop explain
/// --json` prints; non-finite numbers become the strings `"NaN"`, `"inf"`,
/// `"-inf"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The root's name (its unique [`Node::name`], such as `g₂` for a
    /// program's second binding of `g`).
    pub output: String,
    /// The root's value.
    #[serde(serialize_with = "crate::format::json_number")]
    pub value: f64,
    /// The forward pass: every node the root depends on, in creation order.
    pub nodes: Vec<Node>,
    /// The backward pass, one step per op node, in the engine's order.
    pub steps: Vec<Step>,
    /// The leaves' gradients, by name, in creation order (serialized as a
    /// JSON object): the names given to [`explain_with_leaves`] (a
    /// program's input names, as `grad --json` has them), or else the
    /// labelled leaves' [`Node::name`]s.
    #[serde(serialize_with = "crate::format::json_map")]
    pub grads: Vec<(String, f64)>,
    /// How many backward steps were left out (by [`Explanation::truncate`]).
    pub steps_left_out: usize,
    /// The leaf that [`Explanation::focus`] kept paths to, if any.
    pub focus: Option<String>,
    /// Finite-difference checks of the leaves' gradients, when asked for
    /// with [`Explanation::with_checks`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Each node's forward rule, for [`Explanation::rerun`]; empty once
    /// focused.
    #[serde(skip)]
    rules: Vec<Option<Rule>>,
}

impl Explanation {
    /// The gradient of the leaf called `name`.
    pub fn grad(&self, name: &str) -> Option<f64> {
        let name = crate::format::shown_name(name);
        self.grads.iter().find(|(n, _)| *n == name).map(|&(_, g)| g)
    }

    /// The node called `name`: by its unique name (`c₂`), or by its label
    /// (the last binding, if several nodes share it).
    pub fn node(&self, name: &str) -> Option<&Node> {
        let name = crate::format::shown_name(name);
        let name = name.as_str();
        self.nodes.iter().find(|n| n.name == name).or_else(|| {
            self.nodes
                .iter()
                .rev()
                .find(|n| n.label.as_deref() == Some(name))
        })
    }

    /// The index of the leaf called `name` (by its unique name or its
    /// label).
    pub(crate) fn leaf_index(&self, name: &str) -> Option<usize> {
        let name = crate::format::shown_name(name);
        let name = name.as_str();
        let leaf = |n: &&Node| n.is_leaf() && n.label.is_some();
        self.nodes
            .iter()
            .filter(leaf)
            .find(|n| n.name == name)
            .or_else(|| {
                self.nodes
                    .iter()
                    .filter(leaf)
                    .find(|n| n.label.as_deref() == Some(name))
            })
            .map(|n| n.index)
    }

    /// Keeps only what lies on a path from the output to the leaf `leaf`:
    /// the nodes that depend on it, the steps of those nodes, and in each
    /// step only the terms whose operand is on such a path.
    ///
    /// # Errors
    /// [`FocusError`] if no leaf is called `leaf`, listing the leaves.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let a = g.value(1.0).with_label("a");
    /// let b = g.value(2.0).with_label("b");
    /// let c = g.value(3.0).with_label("c");
    /// let y = (a * b + c).with_label("y");
    /// let e = backprop::explain::explain(y).focus("a").unwrap();
    /// assert_eq!(e.steps.len(), 2); // y = ... + c, then (a*b)
    /// assert_eq!(e.steps[0].terms.len(), 1); // only the term towards a*b
    /// assert!(backprop::explain::explain(y).focus("z").is_err());
    /// ```
    pub fn focus(mut self, leaf: &str) -> Result<Explanation, FocusError> {
        let Some(target) = self.leaf_index(leaf) else {
            let (reaching, unreached): (Vec<String>, Vec<String>) = self
                .grads
                .iter()
                .map(|(n, _)| n.clone())
                .partition(|n| self.leaf_index(n).is_some());
            return Err(FocusError {
                leaf: leaf.to_string(),
                unreached: unreached.iter().any(|n| n == leaf),
                leaves: reaching,
            });
        };
        let keep: Vec<bool> = self
            .grads
            .iter()
            .map(|(n, _)| self.leaf_index(n) == Some(target))
            .collect();
        let mut on_path = vec![false; self.nodes.len()];
        on_path[target] = true;
        for n in &self.nodes[target + 1..] {
            on_path[n.index] = n.operands.iter().any(|&o| on_path[o]);
        }
        let mut renumber = vec![usize::MAX; self.nodes.len()];
        let mut nodes = Vec::new();
        for mut n in std::mem::take(&mut self.nodes) {
            if on_path[n.index] {
                renumber[n.index] = nodes.len();
                n.index = nodes.len();
                nodes.push(n);
            }
        }
        for n in &mut nodes {
            n.operands.retain(|&o| on_path[o]);
            for o in &mut n.operands {
                *o = renumber[*o];
            }
        }
        let mut steps = Vec::new();
        for mut s in std::mem::take(&mut self.steps) {
            if !on_path[s.node_index] {
                continue;
            }
            s.terms.retain(|t| on_path[t.operand_index]);
            for t in &mut s.terms {
                t.operand_index = renumber[t.operand_index];
            }
            s.node_index = renumber[s.node_index];
            s.number = steps.len() + 1;
            steps.push(s);
        }
        self.nodes = nodes;
        self.steps = steps;
        self.rules = Vec::new();
        let mut keep_iter = keep.iter();
        self.grads.retain(|_| *keep_iter.next().unwrap_or(&false));
        let kept: Vec<String> = self.grads.iter().map(|(n, _)| n.clone()).collect();
        self.checks.retain(|c| kept.contains(&c.name));
        self.focus = Some(leaf.to_string());
        Ok(self)
    }

    /// Keeps the first `max_steps` backward steps and records how many were
    /// left out ([`Explanation::steps_left_out`]).
    pub fn truncate(&mut self, max_steps: usize) {
        if self.steps.len() > max_steps {
            self.steps_left_out += self.steps.len() - max_steps;
            self.steps.truncate(max_steps);
        }
    }

    /// Adds [`Explanation::checks`]: for each leaf in
    /// [`Explanation::grads`], its backprop gradient next to the forward
    /// and central differences with step `h`. A leaf the output does not
    /// depend on has both estimates 0.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(2.0).with_label("x");
    /// let y = x.exp().with_label("y");
    /// let e = backprop::explain::explain(y).with_checks(1e-6);
    /// let c = &e.checks[0];
    /// assert_eq!(c.name, "x");
    /// assert!((c.central - c.backprop).abs() < 1e-6);
    /// ```
    ///
    /// # Panics
    /// On a [focused](Explanation::focus) explanation: check first.
    pub fn with_checks(mut self, h: f64) -> Explanation {
        self.checks = self
            .grads
            .iter()
            .map(|(name, g)| {
                let at = self.leaf_index(name);
                let e = at.map_or(
                    Estimate {
                        forward: 0.0,
                        central: 0.0,
                    },
                    |k| self.finite_difference(k, h),
                );
                Check {
                    name: name.clone(),
                    backprop: *g,
                    forward: e.forward,
                    central: e.central,
                    h,
                }
            })
            .collect();
        self
    }

    /// Finite-difference estimates of d(root)/d(node) for every node, in
    /// the order of [`Explanation::nodes`]: the notebook's forward
    /// difference `(f(x + h) - f(x)) / h` and the central difference
    /// `(f(x + h) - f(x - h)) / 2h`, where `f` reruns the forward pass with
    /// the node's value set to `x` ([`Explanation::rerun`]).
    ///
    /// Quadratic in the size of the graph: one rerun per node and side.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0).with_label("x");
    /// let y = (x * x).with_label("y");
    /// let fd = backprop::explain::explain(y).finite_differences(1e-6);
    /// assert!((fd[0].central - 6.0).abs() < 1e-6);
    /// assert!((fd[0].forward - 6.0).abs() < 1e-5);
    /// ```
    ///
    /// # Panics
    /// On a [focused](Explanation::focus) explanation.
    pub fn finite_differences(&self, h: f64) -> Vec<Estimate> {
        (0..self.nodes.len())
            .map(|k| self.finite_difference(k, h))
            .collect()
    }

    /// [`Explanation::finite_differences`] for node `index` alone.
    ///
    /// # Panics
    /// If `index` is not a node, or on a focused explanation.
    pub fn finite_difference(&self, index: usize, h: f64) -> Estimate {
        let x = self.nodes[index].data;
        let (up, base, down) = (
            self.rerun(index, x + h),
            self.rerun(index, x),
            self.rerun(index, x - h),
        );
        Estimate {
            forward: (up - base) / h,
            central: (up - down) / (2.0 * h),
        }
    }

    /// The explanation as JSON text (one line).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an explanation always serializes")
    }

    /// The explanation as the notebook writes it: the forward pass, the
    /// backward steps, then the leaf gradients (see [`TextOptions`]).
    pub fn to_text(&self, options: &TextOptions) -> String {
        text::render(self, options)
    }

    /// The root's value with the data of node `index` (an index into
    /// [`Explanation::nodes`]) replaced by `x`: the forward pass rerun from
    /// that node on, in plain `f64` with the engine's forward rules.
    ///
    /// This is what finite differences need: `(f(x + h) - f(x)) / h` is
    /// `(e.rerun(k, x + h) - e.value) / h`.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0).with_label("x");
    /// let y = (x * x).with_label("y");
    /// let e = backprop::explain::explain(y);
    /// assert_eq!(e.rerun(0, 4.0), 16.0);
    /// ```
    ///
    /// # Panics
    /// If `index` is not a node of the explanation, or the explanation was
    /// [focused](Explanation::focus) (it no longer holds the whole graph).
    pub fn rerun(&self, index: usize, x: f64) -> f64 {
        assert!(
            self.focus.is_none(),
            "rerun needs the whole graph: call it before Explanation::focus"
        );
        let mut data: Vec<f64> = self.nodes.iter().map(|n| n.data).collect();
        data[index] = x;
        for k in index + 1..self.nodes.len() {
            if let Some(rule) = &self.rules[k] {
                data[k] = rule.forward(&self.nodes[k].operands, &data);
            }
        }
        data[self.nodes.len() - 1]
    }
}

/// Finite-difference estimates of one node's gradient (see
/// [`Explanation::finite_differences`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// `(f(x + h) - f(x)) / h`, as the notebook estimates derivatives.
    #[serde(serialize_with = "crate::format::json_number")]
    pub forward: f64,
    /// `(f(x + h) - f(x - h)) / 2h`, accurate to O(h²).
    #[serde(serialize_with = "crate::format::json_number")]
    pub central: f64,
}

/// One leaf's gradient checked by finite differences (see
/// [`Explanation::with_checks`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// The leaf's name.
    pub name: String,
    /// Its gradient from the backward pass.
    #[serde(serialize_with = "crate::format::json_number")]
    pub backprop: f64,
    /// `(f(x + h) - f(x)) / h`.
    #[serde(serialize_with = "crate::format::json_number")]
    pub forward: f64,
    /// `(f(x + h) - f(x - h)) / 2h`.
    #[serde(serialize_with = "crate::format::json_number")]
    pub central: f64,
    /// The step `h`.
    #[serde(serialize_with = "crate::format::json_number")]
    pub h: f64,
}

/// [`Explanation::focus`] was given a name that is not a leaf on a path to
/// the output: no input has that name, or the input does not reach the
/// output (its gradient is 0 and there is no path to show).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct FocusError {
    /// The name asked for.
    pub leaf: String,
    /// Whether an input has that name but does not reach the output.
    pub unreached: bool,
    /// The names of the inputs that reach the output.
    pub leaves: Vec<String>,
}

impl FocusError {
    fn message(&self) -> String {
        let leaves = self.leaves.join(", ");
        if self.unreached {
            format!(
                "input `{}` does not reach the output (its gradient is 0, no path to show); \
                 the inputs that do: {leaves}",
                self.leaf
            )
        } else {
            format!(
                "no input called `{}` in the graph (its inputs are: {leaves})",
                self.leaf
            )
        }
    }
}

/// How a node's value is computed from its operands' data, for
/// [`Explanation::rerun`]: the engine's forward rules in plain `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    Op(Op),
    PowF(f64),
    /// A dot product over `pairs` pairs, with a bias when `bias`.
    Dot {
        pairs: usize,
        bias: bool,
    },
}

impl Rule {
    fn forward(self, operands: &[usize], data: &[f64]) -> f64 {
        let x = |k: usize| data[operands[k]];
        match self {
            Rule::PowF(p) => x(0).powf(p),
            Rule::Dot { pairs, bias } => {
                let w: Vec<f64> = (0..pairs).map(x).collect();
                let v: Vec<f64> = (pairs..2 * pairs).map(x).collect();
                let d = crate::engine::dot_kernel(&w, &v);
                if bias { d + x(2 * pairs) } else { d }
            }
            Rule::Op(op) => match op {
                Op::Add => x(0) + x(1),
                Op::Sub => x(0) - x(1),
                Op::Mul => x(0) * x(1),
                Op::Div => x(0) / x(1),
                Op::Neg => -x(0),
                Op::Pow => x(0).powf(x(1)),
                Op::Exp => x(0).exp(),
                Op::Ln => x(0).ln(),
                Op::Tanh => crate::engine::tanh(x(0)),
                Op::Relu => crate::engine::relu(x(0)),
                Op::Sigmoid => crate::engine::sigmoid(x(0)),
                Op::Sqrt => x(0).sqrt(),
                Op::Sum => operands.iter().map(|&o| data[o]).sum(),
                Op::Masked => 0.0,
                Op::Leaf | Op::PowF | Op::Dot => unreachable!("handled above"),
            },
        }
    }
}

/// The local derivatives d(node)/d(operand) of `v`, one per operand in
/// [`Value::children`] order: the engine's own rule
/// ([`Value::local_grads`]), the numbers `backward` multiplies by.
fn local_grads<'g>(v: Value<'g>) -> Vec<(Value<'g>, f64)> {
    v.local_grads()
}

/// The local derivative's formula for operand `k` of node `v`, in the
/// notebook's words: `name` is the node's name and `names` its operands'
/// as they appear in formulas, where a constant operand (`constant[k]`)
/// is its number (`-10/f.data**2`, `1/2`) and any other is `NAME.data`.
fn formula(v: Value<'_>, name: &str, names: &[&str], constant: &[bool], k: usize) -> String {
    let data = |k: usize| {
        if constant[k] {
            names[k].to_string()
        } else {
            format!("{}.data", text::grouped(names[k]))
        }
    };
    let name = &text::grouped(name);
    match v.op() {
        Op::Leaf => String::new(),
        Op::Add | Op::Sum => "1".into(),
        Op::Sub => if k == 0 { "1" } else { "-1" }.into(),
        Op::Neg => "-1".into(),
        Op::Mul => data(1 - k),
        Op::Div if k == 0 => format!("1/{}", data(1)),
        Op::Div => format!("-{}/{}**2", data(0), data(1)),
        Op::PowF => {
            let p = v.exponent().unwrap_or(f64::NAN);
            match p {
                0.0 => "0".into(),
                1.0 => "1".into(),
                2.0 => format!("2*{}", data(0)),
                _ => format!("{}*{}**{}", text::number(p), data(0), text::number(p - 1.0)),
            }
        }
        Op::Pow if k == 0 => format!("{}*{}**({} - 1)", data(1), data(0), data(1)),
        Op::Pow => format!("{name}*ln({})", data(0)),
        Op::Exp => name.to_string(),
        Op::Ln => format!("1/{}", data(0)),
        Op::Tanh => format!("1 - {name}**2"),
        Op::Relu => format!("1 if {} > 0 else 0", data(0)),
        Op::Sigmoid => format!("{name}*(1 - {name})"),
        Op::Sqrt => format!("1/(2*{name})"),
        Op::Masked => "0".into(),
        Op::Dot => {
            let pairs = names.len() / 2;
            if k < pairs {
                data(pairs + k)
            } else if k < 2 * pairs {
                data(k - pairs)
            } else {
                "1".into()
            }
        }
    }
}

/// The forward and backward pass of the graph under `root`, with every
/// labelled leaf's gradient in [`Explanation::grads`].
///
/// Linear in the size of the graph (plus the names' lengths). The graph
/// is only read.
///
/// ```
/// let g = backprop::Graph::new();
/// let a = g.value(3.0).with_label("a");
/// let b = (a + a).with_label("b");
/// let e = backprop::explain::explain(b);
/// let terms = &e.steps[0].terms;
/// assert_eq!(terms.len(), 2);
/// assert!(terms.iter().all(|t| t.accumulates && t.contribution == 1.0));
/// assert_eq!(e.grad("a"), Some(2.0));
/// ```
pub fn explain(root: Value<'_>) -> Explanation {
    explain_with_leaves(root, &[])
}

/// Like [`explain`], with the leaves to report in [`Explanation::grads`]
/// given by name, in order: what a program's inputs are, including those
/// the output does not use (their gradient is 0). With no leaves given,
/// every labelled leaf the root depends on is reported.
///
/// ```
/// use backprop::expr::Program;
/// let p = Program::parse("a = 2; unused = 5; y = a**2")?;
/// let g = backprop::Graph::new();
/// let ev = p.eval(&g, &[] as &[(&str, f64)])?;
/// let e = backprop::explain::explain_with_leaves(ev.output, &ev.inputs);
/// assert_eq!(e.grads, vec![("a".to_string(), 4.0), ("unused".to_string(), 0.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn explain_with_leaves<'g>(root: Value<'g>, leaves: &[(String, Value<'g>)]) -> Explanation {
    let g = root.graph();
    let trace = g.trace(root.id());
    let mut index_of: HashMap<NodeId, usize> = HashMap::with_capacity(trace.nodes.len());
    for (k, &id) in trace.nodes.iter().enumerate() {
        index_of.insert(id, k);
    }
    let n = trace.nodes.len();
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    let mut rules: Vec<Option<Rule>> = Vec::with_capacity(n);
    let mut locals: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut uses = vec![0usize; n];
    let mut values: Vec<Value<'g>> = Vec::with_capacity(n);
    for (k, &id) in trace.nodes.iter().enumerate() {
        let v = g.get(id);
        let op = v.op();
        let grads = local_grads(v);
        let operands: Vec<usize> = grads.iter().map(|(c, _)| index_of[&c.id()]).collect();
        for &o in &operands {
            uses[o] += 1;
        }
        let symbol = match v.exponent() {
            Some(p) => format!("**{}", text::number(p)),
            None => op.symbol().to_string(),
        };
        rules.push(match op {
            Op::Leaf => None,
            Op::PowF => Some(Rule::PowF(v.exponent().unwrap_or(f64::NAN))),
            Op::Dot => Some(Rule::Dot {
                pairs: operands.len() / 2,
                bias: operands.len() % 2 == 1,
            }),
            _ => Some(Rule::Op(op)),
        });
        locals.push(grads.iter().map(|&(_, l)| l).collect());
        nodes.push(Node {
            index: k,
            id: id.index(),
            name: String::new(),
            label: v.label().map(|l| crate::format::shown_name(&l)),
            op: symbol,
            expr: String::new(),
            data: v.data(),
            grad: 0.0,
            operands,
            uses: 0,
        });
        values.push(v);
    }
    for (node, u) in nodes.iter_mut().zip(uses) {
        node.uses = u;
    }
    name_nodes(&mut nodes, &values);
    let shown = formula_names(&nodes);
    // Backward, in the engine's order: reverse creation order.
    let mut grad = vec![0.0f64; n];
    if n > 0 {
        grad[n - 1] = 1.0;
    }
    let mut steps = Vec::new();
    for k in (0..n).rev() {
        nodes[k].grad = grad[k];
        if nodes[k].operands.is_empty() && rules[k].is_none() {
            continue;
        }
        let v = values[k];
        let upstream = grad[k];
        let names: Vec<&str> = nodes[k]
            .operands
            .iter()
            .map(|&o| shown[o].as_str())
            .collect();
        let constant: Vec<bool> = nodes[k]
            .operands
            .iter()
            .map(|&o| nodes[o].is_constant())
            .collect();
        let mut terms = Vec::with_capacity(names.len());
        for (j, &o) in nodes[k].operands.iter().enumerate() {
            let local = locals[k][j];
            let contribution = upstream * local;
            grad[o] += contribution;
            terms.push(Term {
                operand: nodes[o].name.clone(),
                operand_index: o,
                formula: formula(v, &nodes[k].name, &names, &constant, j),
                local,
                contribution,
                total: grad[o],
                accumulates: false,
                constant: constant[j],
            });
        }
        steps.push(Step {
            number: steps.len() + 1,
            node: nodes[k].name.clone(),
            node_index: k,
            op: nodes[k].op.clone(),
            upstream,
            terms,
        });
    }
    for s in &mut steps {
        for t in &mut s.terms {
            t.accumulates = nodes[t.operand_index].uses > 1;
        }
    }
    let grads = if leaves.is_empty() {
        nodes
            .iter()
            .filter(|n| n.is_leaf() && n.label.is_some())
            .map(|n| (n.name.clone(), n.grad))
            .collect()
    } else {
        leaves
            .iter()
            .map(|(name, v)| {
                let gr = index_of.get(&v.id()).map_or(0.0, |&k| nodes[k].grad);
                (crate::format::shown_name(name), gr)
            })
            .collect()
    };
    Explanation {
        output: nodes.last().map(|n| n.name.clone()).unwrap_or_default(),
        value: root.data(),
        nodes,
        steps,
        grads,
        steps_left_out: 0,
        focus: None,
        checks: Vec::new(),
        rules,
    }
}

/// How each node appears inside formulas and expressions: a constant as
/// its number (in parentheses when negative, `x*(-3)`), any other node by
/// its name.
fn formula_names(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| {
            if n.is_constant() {
                formula_number(n.data)
            } else {
                n.name.clone()
            }
        })
        .collect()
}

/// Gives every node its [`Node::name`] and [`Node::expr`]: labels,
/// constants' numbers and unlabelled nodes' expressions, built from the
/// operands' names, with a version mark on every name that several nodes
/// would share (a rebound label, `c₁ c₂`; the same expression computed
/// twice, `(a*b)₁ (a*b)₂`). An input (a labelled leaf) that is rebound
/// keeps its plain name, and its later bindings are `a₂ a₃`. A mark changes the names built from it, so
/// this repeats until the names are unique (a few rounds at most: each
/// round marks every name still shared); the last round's marks make
/// them unique in any case.
fn name_nodes(nodes: &mut [Node], values: &[Value<'_>]) {
    const ROUNDS: usize = 4;
    let n = nodes.len();
    let mut mark: Vec<String> = vec![String::new(); n];
    let mut round = 0;
    let (names, exprs) = loop {
        let mut names: Vec<String> = Vec::with_capacity(n);
        let mut exprs: Vec<String> = Vec::with_capacity(n);
        let mut shown: Vec<String> = Vec::with_capacity(n);
        for (k, node) in nodes.iter().enumerate() {
            let ops: Vec<&str> = node.operands.iter().map(|&o| shown[o].as_str()).collect();
            let expr = expression(values[k], &ops);
            let base = match &node.label {
                Some(l) => l.clone(),
                None if node.is_leaf() => expr.clone(),
                None => shorten(values[k], &ops, &expr),
            };
            let name = format!("{base}{}", mark[k]);
            shown.push(if node.is_constant() {
                formula_number(node.data)
            } else {
                name.clone()
            });
            names.push(name);
            exprs.push(expr);
        }
        let inputs: Vec<bool> = nodes
            .iter()
            .map(|n| n.is_leaf() && n.label.is_some())
            .collect();
        let unique = crate::format::versioned_inputs_plain(&names, &inputs);
        if unique == names || round == ROUNDS {
            break (unique, exprs);
        }
        for k in 0..n {
            if unique[k] != names[k] {
                mark[k].push_str(&unique[k][names[k].len()..]);
            }
        }
        round += 1;
    };
    for ((node, name), expr) in nodes.iter_mut().zip(names).zip(exprs) {
        node.name = name;
        node.expr = expr;
    }
}

/// A constant as it appears in a formula: its number, in parentheses
/// when negative (`x*(-3)`).
fn formula_number(x: f64) -> String {
    let s = text::number(x);
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

/// How node `v` is computed from its operands' `names`: `a*b`, `a + b`,
/// `tanh(a)`, `a**2`, `Σ(a, b, c)`, `dot(w1, w2; x1, x2) + b`; a leaf's
/// number. Lists of more than four operands show the first three and a
/// count.
fn expression(v: Value<'_>, names: &[&str]) -> String {
    let list = |names: &[&str]| -> String {
        if names.len() > 4 {
            format!("{}, … ({} in all)", names[..3].join(", "), names.len())
        } else {
            names.join(", ")
        }
    };
    match v.op() {
        Op::Leaf => text::number(v.data()),
        Op::Add => format!("{} + {}", names[0], names[1]),
        Op::Sub => format!("{} - {}", names[0], names[1]),
        Op::Mul => format!("{}*{}", names[0], names[1]),
        Op::Div => format!("{}/{}", names[0], names[1]),
        Op::Neg => format!("-{}", names[0]),
        Op::PowF => format!(
            "{}**{}",
            names[0],
            text::number(v.exponent().unwrap_or(f64::NAN))
        ),
        Op::Pow => format!("{}**{}", names[0], names[1]),
        Op::Exp | Op::Ln | Op::Tanh | Op::Relu | Op::Sigmoid | Op::Sqrt => {
            format!("{}({})", v.op().symbol(), names[0])
        }
        Op::Masked => format!("mask({})", names[0]),
        Op::Sum => format!("Σ({})", list(names)),
        Op::Dot => {
            let pairs = names.len() / 2;
            let dot = format!(
                "dot({}; {})",
                list(&names[..pairs]),
                list(&names[pairs..2 * pairs])
            );
            if names.len() % 2 == 1 {
                format!("{dot} + {}", names[names.len() - 1])
            } else {
                dot
            }
        }
    }
}

/// The name of an unlabelled computed node: its expression, in
/// parentheses when it is infix (`(x1*w1)`), at most [`MAX_NAME`]
/// characters: long operand names become `…` first, then the end is cut.
fn shorten(v: Value<'_>, names: &[&str], expr: &str) -> String {
    let wrap = |e: &str| match v.op() {
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Neg | Op::PowF | Op::Pow => format!("({e})"),
        _ => e.to_string(),
    };
    let name = wrap(expr);
    if name.chars().count() <= MAX_NAME {
        return name;
    }
    let short: Vec<&str> = names
        .iter()
        .map(|n| if n.chars().count() > 12 { "…" } else { n })
        .collect();
    let name = wrap(&expression(v, &short));
    if name.chars().count() <= MAX_NAME {
        return name;
    }
    let mut cut: String = name.chars().take(MAX_NAME - 1).collect();
    cut.push('…');
    cut
}

impl fmt::Display for Explanation {
    /// [`Explanation::to_text`] with the default options.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(&TextOptions::default()))
    }
}
