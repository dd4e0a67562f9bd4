//! The scalar reverse-mode autograd engine.
//!
//! A [`Graph`] is an arena (a tape, or Wengert list): every node is appended
//! in creation order, so the order of the arena is already a topological
//! order of the expression graph. A [`Value`] is a cheap `Copy` handle (a
//! reference to its graph and a node index). [`Value::backward`] is one
//! reverse loop over the arena: no recursion, no per-node allocation, so
//! graphs of millions of nodes are fine. [`Graph::grad`] runs the same loop
//! over graph values instead of numbers: the gradients it returns are new
//! nodes, which can be differentiated again (Hessians, Newton's method,
//! gradient penalties; see [`hessian`], [`hvp`] and [`jacobian`]).
//!
//! Read it in this order:
//! - `tape.rs`: storage (the `Node` enum, whose variants carry
//!   their operands; side tables; the checks behind [`NodeId`] and [`Mark`]),
//! - `rules.rs`: each op's forward rule and chain rule, written once for
//!   numbers and graph values,
//! - `backward.rs`: the reverse sweeps,
//! - `graph.rs`, `value.rs`, `ops.rs`: the public API,
//! - `higher.rs`: Hessians, Hessian-vector products, Jacobians.
//!
//! # How values live in the graph
//!
//! One design serves the Rust API, the Python package and batched training,
//! so that none of them changes what a node is:
//!
//! 1. **A node holds one scalar.** Every node of a [`Graph`] has one `f64`
//!    of data, one `f64` of gradient and a typed record of its op and
//!    operands. Explanations, drawings, pages, gradient checks and Python's
//!    `Value.data` all read that one number. Nothing below changes it.
//! 2. **Handles, not owners.** A Rust [`Value`] borrows its graph (so
//!    [`Graph::truncate`], which takes `&mut`, cannot leave one dangling);
//!    a [`NodeId`] carries its graph and generation, so a foreign or stale
//!    id is refused instead of read.
//! 3. **Python values are slots.** A Python `Value` does not hold a node
//!    index: it holds a slot in its graph's handle table, and the slot holds
//!    the [`NodeId`]. Python graphs rebuild every step and have no
//!    truncation point, so instead the arena is compacted when it has grown
//!    (`Graph::compact`): nodes that no live slot depends on are dropped,
//!    the rest keep their creation order (still a topological order) and
//!    slide down, and the slots are rewritten. Memory stays proportional to
//!    what Python can still reach. An id that a compaction moved is stale,
//!    and the generation check catches it.
//! 4. **Batches are lanes outside the graph.** Batched training does not
//!    store a batch in the graph. One sample's scalar graph is the
//!    template; a lane program replays it over a batch of samples, with
//!    buffers laid out node by node, one lane per sample. Nodes that do not
//!    depend on the sample (parameters, constants) hold one number, and
//!    their gradients are summed over the lanes in a fixed order and
//!    written back to the graph by [`NodeId`]. The lane program never hands
//!    out a [`Value`], so `explain`, `draw` and Python see the same scalar
//!    graph of one sample, with the same numbers. The first one trains an
//!    MLP (`nn/lanes.rs`, behind [`Trainer`](crate::nn::Trainer)): its
//!    buffers are row-major per layer (one row of a layer's outputs per
//!    sample, so a neuron's dot product stays one contiguous
//!    [`dot_kernel`]), and it repeats the scalar graph's sums in the
//!    graph's order, so its losses and gradients are the graph's to the
//!    last bit. The second one trains microgpt (`nn/gpt/program.rs`,
//!    behind [`GptTrainer`](crate::nn::gpt::GptTrainer) and
//!    [`Gpt::loss_and_grad`](crate::nn::gpt::Gpt::loss_and_grad)): its
//!    lanes are the positions of one document, each activation a
//!    `[positions, width]` buffer and attention a causal triangle, so one
//!    weight row's products with every position run back to back; its
//!    adjoints are summed in another order than the reverse sweep's, so its
//!    gradients are the graph's to rounding (1e-12 in the tests).
//!
//! ```
//! use backprop::Graph;
//!
//! let g = Graph::new();
//! let x1 = g.value(2.0).with_label("x1");
//! let w1 = g.value(-3.0).with_label("w1");
//! let b = g.value(6.8813735870195432).with_label("b");
//! let o = (x1 * w1 + b).tanh().with_label("o");
//! o.backward();
//! assert!((o.data() - 0.7071).abs() < 1e-4);
//! assert!((w1.grad() - 1.0).abs() < 1e-9);
//! ```

mod backward;
mod graph;
mod higher;
mod kernels;
mod ops;
mod rules;
mod tanh;
mod tape;
mod value;

use std::fmt;

pub use graph::Graph;
pub use higher::{hessian, hvp, jacobian};
pub use kernels::dot_kernel;
pub(crate) use kernels::dot_kernel_inlined;
pub use tanh::tanh;
pub use value::{Exponent, Value, relu, sigmoid};

/// The identity of a node: its index in the arena, plus the graph it
/// belongs to and the generation of the arena it was made in.
///
/// Unlike a [`Value`], a `NodeId` does not borrow its graph, so it can be
/// stored in a model across [`Graph::truncate`] calls (a model keeps the ids
/// of its parameters and asks the graph for a `Value` each step). An id
/// from another graph, or one whose node a truncation dropped, is refused
/// with a clear panic by [`Graph::get`] and everything that takes ids
/// (never silently read as another node); [`Graph::contains`] asks first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    index: u32,
    graph: u32,
    generation: u32,
}

impl NodeId {
    /// The node's position in the arena (creation order, from 0).
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.index)
    }
}

/// The operation that produced a node: data, not a closure, so a graph can
/// be inspected and drawn. Each variant's forward rule and local derivative
/// are documented on the [`Value`] method that creates it; `backward` is a
/// single `match` over this enum.
///
/// `Sub`, `Div`, `Neg`, `Sqrt` and `Sigmoid` could be composed from the
/// others, as micrograd does. They have their own one-line rules on purpose:
/// one node instead of two or three (half the memory and time for `a - b`),
/// drawings that show what the user wrote, and PyTorch's exact formulas
/// (composing `a / b` as `a * b**-1` rounds differently). `Sum` and `Dot`
/// are fused n-ary nodes for the same reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Op {
    /// An input: a number set by hand (a parameter, a constant, a data point).
    Leaf,
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `-a`.
    Neg,
    /// `a ** p` with a constant `f64` exponent `p` (see [`Value::exponent`]).
    PowF,
    /// `a ** b` with a `Value` exponent `b`.
    Pow,
    /// `e ** a`.
    Exp,
    /// The natural logarithm of `a`.
    Ln,
    /// The hyperbolic tangent of `a`.
    Tanh,
    /// `max(a, 0)`.
    Relu,
    /// The logistic function `1 / (1 + e ** -a)`.
    Sigmoid,
    /// The square root of `a`.
    Sqrt,
    /// 0, standing for a derivative that PyTorch masks with `where(mask,
    /// 0, a)` (relu's derivative where `relu(x) <= 0`, `pow`'s at a zero base
    /// or exponent). It only appears in gradient graphs built by
    /// [`Graph::grad`]: its value is 0 and it passes a gradient of 0 on to
    /// `a`, so that `0 * inf = NaN` still forms in higher derivatives, as in
    /// PyTorch's double backward.
    Masked,
    /// `a0 + a1 + ... + an`, one node for any number of operands.
    Sum,
    /// `w0 * x0 + w1 * x1 + ... + wn * xn (+ b)`, one node for any number
    /// of pairs, with an optional bias (see [`Graph::linear`]).
    Dot,
}

impl Op {
    /// The short symbol used when drawing the graph (`+`, `*`, `tanh`, ...).
    ///
    /// ```
    /// assert_eq!(backprop::Op::Mul.symbol(), "*");
    /// assert_eq!(backprop::Op::Sum.symbol(), "Σ");
    /// ```
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Leaf => "",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Neg => "neg",
            Op::PowF | Op::Pow => "**",
            Op::Exp => "exp",
            Op::Ln => "ln",
            Op::Tanh => "tanh",
            Op::Relu => "relu",
            Op::Sigmoid => "sigmoid",
            Op::Sqrt => "sqrt",
            Op::Masked => "mask",
            Op::Sum => "Σ",
            Op::Dot => "dot",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A position in a graph's arena, returned by [`Graph::mark`]: everything
/// created after it can be dropped with [`Graph::truncate`]. It knows its
/// graph, so truncating another graph to it, or truncating to it after the
/// graph was cut further back, is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    nodes: u32,
    consts: u32,
    args: u32,
    graph: u32,
    generation: u32,
}

impl Mark {
    /// How many nodes the graph had when the mark was taken.
    pub fn len(self) -> usize {
        self.nodes as usize
    }

    /// Whether the graph was empty when the mark was taken.
    pub fn is_empty(self) -> bool {
        self.nodes == 0
    }
}

/// The subgraph that leads to a node, as returned by [`Graph::trace`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The nodes the root depends on, the root included, in creation order.
    pub nodes: Vec<NodeId>,
    /// `(child, parent)` pairs, ordered by parent and then by operand
    /// position; a child used twice by one parent (`a * a`) appears once.
    pub edges: Vec<(NodeId, NodeId)>,
}
