//! Drawing expression graphs: a DOT writer and SVG/PNG rendering.
//!
//! [`to_dot`] writes what the notebook's `draw_dot` draws, for any graph: a
//! record node `{ label | data %.4f | grad %.4f }` per value and a separate
//! op node (`+`, `*`, `tanh`, `**2`, `Σ`, ...) between an op's operands and
//! its result, left to right. The output is deterministic: node names are
//! `n<index>` and `n<index>_op` (the [`NodeId`] index), nodes and edges are
//! in creation order. A label carried by several nodes (a program that
//! rebinds a name) is drawn with its version, `c₁ c₂ c₃`.
//!
//! [`render`] turns the same picture into SVG or PNG: with Graphviz's `dot`
//! when it is on the `PATH` (the better layout), and otherwise with the
//! pure-Rust layout of the `layout-rs` crate, which needs nothing installed
//! but gets slow on big graphs (see [`BUILTIN_MAX_NODES`] and
//! [`BUILTIN_MAX_WORK`]); its SVG becomes PNG through `resvg`
//! ([`svg_to_png`]) with the embedded font. [`render_within`] also puts a time limit on
//! either layout.
//!
//! ```
//! use backprop::Graph;
//! use backprop::viz::{DotOptions, to_dot};
//!
//! let g = Graph::new();
//! let a = g.value(2.0).with_label("a");
//! let y = (a * a).with_label("y");
//! y.backward();
//! let dot = to_dot(&g, y.id(), &DotOptions::default());
//! assert!(dot.contains(r#"n0 [label="{a|data 2.0000|grad 4.0000}", shape=record];"#));
//! assert!(dot.contains(r#"n1_op [label="*"];"#));
//! assert!(dot.contains("n0 -> n1_op;"));
//! ```

mod render;

use std::fmt::{self, Write as _};
use std::str::FromStr;

use crate::{Graph, NodeId, Op};

#[cfg(feature = "layout")]
pub use render::render_svg_builtin;
pub use render::{
    BUILTIN_MAX_NODES, BUILTIN_MAX_WORK, Format, GRAPHVIZ_MAX_NODES, Renderer, VizError, graphviz,
    graphviz_available, render, render_within, svg_to_png, write_atomic,
};

/// Which way the graph flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RankDir {
    /// Left to right, as in the notebook (`rankdir=LR`).
    #[default]
    LeftToRight,
    /// Top to bottom (`rankdir=TB`).
    TopToBottom,
}

impl fmt::Display for RankDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RankDir::LeftToRight => "LR",
            RankDir::TopToBottom => "TB",
        })
    }
}

impl FromStr for RankDir {
    type Err = String;

    /// `LR` or `TB` (any case).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "LR" => Ok(RankDir::LeftToRight),
            "TB" => Ok(RankDir::TopToBottom),
            _ => Err(format!("unknown rank direction `{s}` (expected LR or TB)")),
        }
    }
}

/// How to draw a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DotOptions {
    /// Which way the graph flows (default left to right).
    pub rankdir: RankDir,
    /// Whether records show the gradient (default true); without it they
    /// are `{ label | data ... }`.
    pub show_grad: bool,
}

impl Default for DotOptions {
    fn default() -> Self {
        Self {
            rankdir: RankDir::LeftToRight,
            show_grad: true,
        }
    }
}

/// What is drawn for one node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NodeView {
    pub id: NodeId,
    pub label: String,
    pub data: f64,
    pub grad: f64,
    /// The op node's text; `None` for a leaf.
    pub op: Option<String>,
}

impl NodeView {
    /// The record's fields as displayed: label, `data %.4f`, `grad %.4f`.
    pub fn fields(&self, show_grad: bool) -> Vec<String> {
        let mut f = vec![self.label.clone(), format!("data {:.4}", self.data)];
        if show_grad {
            f.push(format!("grad {:.4}", self.grad));
        }
        f
    }
}

/// The nodes and edges that lead to `root`, as they are drawn. A label
/// that several of them carry (a program that rebinds `c`) is shown with
/// its version, `c₁ c₂ c₃` ([`crate::format::versioned`]; a rebound
/// input stays plain, `a a₂`), so that each record names one node.
/// Labels are shown with [`crate::format::shown_name`]: a newline or a
/// bidirectional control in a label is drawn as its code point.
pub(crate) fn views(g: &Graph, root: NodeId) -> (Vec<NodeView>, Vec<(NodeId, NodeId)>) {
    let trace = g.trace(root);
    let labels: Vec<String> = trace
        .nodes
        .iter()
        .map(|&id| crate::format::shown_name(&g.get(id).label().unwrap_or_default()))
        .collect();
    let inputs: Vec<bool> = trace
        .nodes
        .iter()
        .map(|&id| g.get(id).op() == Op::Leaf)
        .collect();
    let labels = crate::format::versioned_inputs_plain(&labels, &inputs);
    let nodes = trace
        .nodes
        .iter()
        .zip(labels)
        .map(|(&id, label)| {
            let v = g.get(id);
            let op = match v.op() {
                Op::Leaf => None,
                Op::PowF => Some(format!("**{}", v.exponent().unwrap_or(f64::NAN))),
                op => Some(op.symbol().to_string()),
            };
            NodeView {
                id,
                label,
                data: v.data(),
                grad: v.grad(),
                op,
            }
        })
        .collect();
    (nodes, trace.edges)
}

/// The Graphviz DOT text of the subgraph that leads to `root`, drawn like
/// the notebook's `draw_dot`: a record per value, an op node per op,
/// edges from operands to the op node and from the op node to its result.
///
/// Gradients are drawn as they are: call `backward` first.
///
/// # Panics
/// If `root` is not a node of `g`.
///
/// ```
/// use backprop::Graph;
/// use backprop::viz::{DotOptions, RankDir, to_dot};
///
/// let g = Graph::new();
/// let x = g.value(3.0);
/// let y = x.powf(2.0).with_label("y");
/// let opts = DotOptions { rankdir: RankDir::TopToBottom, show_grad: false };
/// assert_eq!(
///     to_dot(&g, y.id(), &opts),
///     "digraph {\n  graph [rankdir=TB];\n\
///      \x20 n0 [label=\"{|data 3.0000}\", shape=record];\n\
///      \x20 n1 [label=\"{y|data 9.0000}\", shape=record];\n\
///      \x20 n1_op [label=\"**2\"];\n\
///      \x20 n1_op -> n1;\n\
///      \x20 n0 -> n1_op;\n}\n"
/// );
/// ```
pub fn to_dot(g: &Graph, root: NodeId, opts: &DotOptions) -> String {
    let (nodes, edges) = views(g, root);
    let mut s = String::new();
    s.push_str("digraph {\n");
    let _ = writeln!(s, "  graph [rankdir={}];", opts.rankdir);
    for n in &nodes {
        let fields: Vec<String> = n
            .fields(opts.show_grad)
            .iter()
            .map(|f| escape_record(f))
            .collect();
        let i = n.id.index();
        let _ = writeln!(
            s,
            "  n{i} [label=\"{{{}}}\", shape=record];",
            fields.join("|")
        );
        if let Some(op) = &n.op {
            let _ = writeln!(s, "  n{i}_op [label=\"{}\"];", escape_string(op));
            let _ = writeln!(s, "  n{i}_op -> n{i};");
        }
    }
    for (child, parent) in &edges {
        let _ = writeln!(s, "  n{} -> n{}_op;", child.index(), parent.index());
    }
    s.push_str("}\n");
    s
}

/// Escapes text for a field of a record label inside a DOT string: the
/// record syntax characters `| { } < >` get a backslash, as do `"` and
/// backslash itself for the DOT string; hidden characters (a newline,
/// other controls, bidirectional marks) are written as their code point,
/// `U+000A`, as [`crate::format::shown_name`] shows them.
///
/// ```
/// assert_eq!(backprop::viz::escape_record(r#"a|b{c}<d>"e\"#), r#"a\|b\{c\}\<d\>\"e\\"#);
/// ```
pub fn escape_record(text: &str) -> String {
    escape(text, &['|', '{', '}', '<', '>', '"', '\\'])
}

/// Escapes text for a plain DOT string (`"` and backslash).
fn escape_string(text: &str) -> String {
    escape(text, &['"', '\\'])
}

/// Backslash-escapes the `special` characters; hidden characters (a
/// newline, NUL, other controls, bidirectional marks:
/// [`crate::format::is_hidden`]), which break a record or which Graphviz
/// refuses or shows misleadingly, are written as their code point
/// (`U+000A`).
fn escape(text: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if special.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c if crate::format::is_hidden(c) => {
                let _ = write!(out, "U+{:04X}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out
}
