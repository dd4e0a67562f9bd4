//! The scalar reverse-mode autograd engine.
//!
//! A [`Graph`] is an arena (a tape, or Wengert list): every node is appended
//! in creation order, so the order of the arena is already a topological
//! order of the expression graph. A [`Value`] is a cheap `Copy` handle (a
//! reference to its graph and a [`NodeId`]). [`Value::backward`] is one
//! reverse loop over the arena: no recursion, no visited set, no per-node
//! allocation, so graphs of millions of nodes are fine.
//!
//! Storage is struct-of-arrays: per node, its data (`f64`), its gradient
//! (`f64`), a 12-byte [`Op`]-and-children record, plus an `f64` of scratch
//! used by `backward`. Labels, `powf` exponents and the operands of n-ary
//! ops live in side tables that only the nodes that need them pay for.
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

mod kernels;
mod ops;
mod value;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use kernels::axpy;
pub use kernels::dot_kernel;
pub use value::{Value, relu, sigmoid};

/// The identity of a node in a [`Graph`]: its index in the arena.
///
/// Unlike a [`Value`], a `NodeId` does not borrow its graph, so it can be
/// stored in a model across [`Graph::truncate`] calls (a model keeps the ids
/// of its parameters and asks the graph for a `Value` each step).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in the arena (creation order, from 0).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
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

/// One arena record (12 bytes): the op, layout flags and two `u32`
/// operands. For binary ops `a` and `b` are the children; for unary ops
/// only `a`; for `PowF`, `b` holds the exponent as `f32` bits when that is
/// exact ([`INLINE`]), else indexes it in `consts`; for `Sum`,
/// `args[a..a + b]` are the operands; for `Dot` over `b` pairs, `args[a..]`
/// holds either all weight ids then all input ids, or (with [`RANGES`])
/// just the first weight id and the first input id of two runs of
/// consecutive ids, followed by the bias id when there is one ([`BIAS`]).
#[derive(Clone, Copy)]
struct Node {
    op: Op,
    flags: u8,
    a: u32,
    b: u32,
}

/// `Dot` flag: weights and inputs are runs of consecutive node ids, so the
/// inner loops read and write contiguous memory.
const RANGES: u8 = 1;
/// `Dot` flag: the node adds a bias, whose id is the last of its args.
const BIAS: u8 = 2;
/// `PowF` flag: the exponent is stored in `b` as `f32` bits.
const INLINE: u8 = 4;

/// Everything a graph stores. Kept behind a `RefCell` so that `Value`
/// handles (which only hold `&Graph`) can append nodes: that is what makes
/// `a * b + c` work on `Copy` handles.
#[derive(Clone, Default)]
struct Tape {
    data: Vec<f64>,
    /// Gradients; may be shorter than `data` (missing entries are 0), so that
    /// building a graph never touches gradient memory.
    grad: Vec<f64>,
    nodes: Vec<Node>,
    consts: Vec<f64>,
    args: Vec<u32>,
    /// `backward`'s adjoint buffer, kept to avoid reallocating it each call.
    adj: Vec<f64>,
    /// Operand ids being collected for an n-ary op, kept for the same reason.
    pending: Vec<u32>,
    labels: BTreeMap<u32, String>,
}

/// Bits of `-0.0`, the "not reached" mark in `backward`'s adjoint buffer.
/// `-0.0 + x == x` for every `x`, so the first contribution to a node needs
/// no branch, and nodes that no path from the output reaches keep the mark.
const UNREACHED: u64 = 0x8000_0000_0000_0000;

impl Tape {
    fn push(&mut self, op: Op, data: f64, a: u32, b: u32) -> NodeId {
        self.push_flagged(op, 0, data, a, b)
    }

    fn push_flagged(&mut self, op: Op, flags: u8, data: f64, a: u32, b: u32) -> NodeId {
        let id = u32::try_from(self.data.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .expect("a graph holds at most 2^32 - 1 nodes");
        self.data.push(data);
        self.nodes.push(Node { op, flags, a, b });
        NodeId(id)
    }

    fn check(&self, id: NodeId) -> usize {
        let i = id.index();
        assert!(
            i < self.data.len(),
            "node {id} does not exist in this graph of {} nodes \
             (was it created after a mark that was later truncated?)",
            self.data.len()
        );
        i
    }

    fn grad(&self, i: usize) -> f64 {
        self.grad.get(i).copied().unwrap_or(0.0)
    }

    fn grads_full(&mut self) -> &mut [f64] {
        let n = self.data.len();
        if self.grad.len() < n {
            self.grad.resize(n, 0.0);
        }
        &mut self.grad
    }

    fn operands(&self, i: usize) -> Vec<NodeId> {
        let Node { op, flags, a, b } = self.nodes[i];
        match op {
            Op::Leaf => vec![],
            Op::Neg
            | Op::PowF
            | Op::Exp
            | Op::Ln
            | Op::Tanh
            | Op::Relu
            | Op::Sigmoid
            | Op::Sqrt => {
                vec![NodeId(a)]
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => vec![NodeId(a), NodeId(b)],
            Op::Sum => self.args[a as usize..(a + b) as usize]
                .iter()
                .map(|&c| NodeId(c))
                .collect(),
            Op::Dot => {
                let a = a as usize;
                let mut ids: Vec<NodeId> = if flags & RANGES != 0 {
                    let (w, x) = (self.args[a], self.args[a + 1]);
                    (w..w + b).chain(x..x + b).map(NodeId).collect()
                } else {
                    self.args[a..a + 2 * b as usize]
                        .iter()
                        .map(|&c| NodeId(c))
                        .collect()
                };
                if flags & BIAS != 0 {
                    let at = if flags & RANGES != 0 {
                        a + 2
                    } else {
                        a + 2 * b as usize
                    };
                    ids.push(NodeId(self.args[at]));
                }
                ids
            }
        }
    }

    /// Reverse-mode sweep from `root`: adds d(root)/d(node) to the gradient of
    /// every node that `root` depends on (itself included).
    fn backward(&mut self, root: usize) {
        let Tape {
            data,
            grad,
            nodes,
            consts,
            args,
            adj,
            ..
        } = self;
        let n = root + 1;
        if grad.len() < n {
            grad.resize(n, 0.0);
        }
        adj.clear();
        adj.resize(n, -0.0);
        adj[root] = 1.0;
        for i in (0..n).rev() {
            let g = adj[i];
            if g.to_bits() == UNREACHED {
                continue;
            }
            grad[i] += g;
            let Node { op, flags, a, b } = nodes[i];
            let (a, b) = (a as usize, b as usize);
            // The local derivatives, one line per op. Zero-exponent and
            // 0 ** b cases follow PyTorch, which masks them to 0 instead of
            // producing 0 * inf = NaN.
            match op {
                Op::Leaf => {}
                Op::Add => {
                    adj[a] += g;
                    adj[b] += g;
                }
                Op::Sub => {
                    adj[a] += g;
                    adj[b] -= g;
                }
                Op::Mul => {
                    adj[a] += g * data[b];
                    adj[b] += g * data[a];
                }
                Op::Div => {
                    adj[a] += g / data[b];
                    adj[b] += -g * data[a] / (data[b] * data[b]);
                }
                Op::Neg => adj[a] -= g,
                Op::PowF => {
                    let p = exponent(flags, b as u32, consts);
                    if p != 0.0 {
                        adj[a] += g * p * powf(data[a], p - 1.0);
                    }
                }
                Op::Pow => {
                    let (x, p) = (data[a], data[b]);
                    if p != 0.0 {
                        adj[a] += g * p * x.powf(p - 1.0);
                    }
                    if !(x == 0.0 && p >= 0.0) {
                        adj[b] += g * data[i] * x.ln();
                    }
                }
                Op::Exp => adj[a] += g * data[i],
                Op::Ln => adj[a] += g / data[a],
                Op::Tanh => adj[a] += g * (1.0 - data[i] * data[i]),
                Op::Relu => {
                    if data[i] > 0.0 {
                        adj[a] += g;
                    }
                }
                Op::Sigmoid => adj[a] += g * (1.0 - data[i]) * data[i],
                Op::Sqrt => adj[a] += g / (2.0 * data[i]),
                Op::Sum => {
                    for &c in &args[a..a + b] {
                        adj[c as usize] += g;
                    }
                }
                Op::Dot => {
                    let n = b;
                    let bias = if flags & RANGES != 0 {
                        let (w, x) = (args[a] as usize, args[a + 1] as usize);
                        // Two separate passes, so that overlapping runs
                        // (a node among both weights and inputs) are right.
                        axpy(&mut adj[w..w + n], g, &data[x..x + n]);
                        axpy(&mut adj[x..x + n], g, &data[w..w + n]);
                        a + 2
                    } else {
                        let (w, x) = args[a..a + 2 * n].split_at(n);
                        for (&w, &x) in w.iter().zip(x) {
                            let (w, x) = (w as usize, x as usize);
                            let (dw, dx) = (g * data[x], g * data[w]);
                            adj[w] += dw;
                            adj[x] += dx;
                        }
                        a + 2 * n
                    };
                    if flags & BIAS != 0 {
                        adj[args[bias] as usize] += g;
                    }
                }
            }
        }
    }
}

/// The exponent of a `PowF` node.
#[inline]
fn exponent(flags: u8, b: u32, consts: &[f64]) -> f64 {
    if flags & INLINE != 0 {
        f64::from(f32::from_bits(b))
    } else {
        consts[b as usize]
    }
}

/// `x ** p` with the common small integer exponents computed exactly and
/// fast (as `x * x` etc.), everything else by `f64::powf`.
#[inline]
fn powf(x: f64, p: f64) -> f64 {
    if p == 2.0 {
        x * x
    } else if p == 1.0 {
        x
    } else if p == 3.0 {
        x * x * x
    } else if p == -1.0 {
        1.0 / x
    } else {
        x.powf(p)
    }
}

/// A side-table position or length as the `u32` a node record holds.
///
/// # Panics
/// Past `u32::MAX`, instead of silently wrapping.
fn side_index(n: usize) -> u32 {
    u32::try_from(n).expect("a graph's side tables hold at most 2^32 - 1 entries")
}

/// A position in a graph's arena, returned by [`Graph::mark`]: everything
/// created after it can be dropped with [`Graph::truncate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    nodes: u32,
    consts: u32,
    args: u32,
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

/// An arena of scalar nodes: the expression graph (tape) that [`Value`]s
/// live in.
///
/// Create inputs with [`Graph::value`], combine them with operators and
/// methods on [`Value`], then call [`Value::backward`].
///
/// In a training loop, create the parameters first, take a [`Graph::mark`],
/// and [`Graph::truncate`] back to it after each step: the arena's storage
/// is reused, so a million steps run in constant memory.
///
/// ```
/// use backprop::Graph;
///
/// let mut g = Graph::new();
/// let w = g.value(0.5).id();
/// let mark = g.mark();
/// for _ in 0..100 {
///     let loss = {
///         let w = g.get(w);
///         let loss = (w * 3.0 - 6.0).powf(2.0);
///         loss.backward();
///         loss.data()
///     };
///     let (data, grad) = g.data_and_grad_mut();
///     data[w.index()] -= 0.05 * grad[w.index()];
///     grad[w.index()] = 0.0;
///     g.truncate(mark);
///     assert!(loss.is_finite());
/// }
/// assert!((g.get(w).data() - 2.0).abs() < 1e-6);
/// assert_eq!(g.len(), 1);
/// ```
///
/// A `Graph` is `Send` but not `Sync`: one thread builds on it at a time.
/// To work on several threads, give each its own clone (a copy of every
/// node, as multi-threaded training does with the parameters).
#[derive(Clone, Default)]
pub struct Graph {
    tape: RefCell<Tape>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `nodes` nodes before it reallocates.
    pub fn with_capacity(nodes: usize) -> Self {
        let g = Self::new();
        {
            let mut t = g.tape.borrow_mut();
            t.data.reserve(nodes);
            t.grad.reserve(nodes);
            t.nodes.reserve(nodes);
            t.adj.reserve(nodes);
        }
        g
    }

    /// A new input node (a leaf) holding `data`, with gradient 0.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0);
    /// assert_eq!(x.data(), 3.0);
    /// assert_eq!(x.grad(), 0.0);
    /// ```
    pub fn value(&self, data: f64) -> Value<'_> {
        let id = self.tape.borrow_mut().push(Op::Leaf, data, 0, 0);
        Value::new(self, id)
    }

    /// The handle of an existing node.
    ///
    /// # Panics
    /// If `id` is not a node of this graph (for example a node created after
    /// a mark that was then truncated).
    pub fn get(&self, id: NodeId) -> Value<'_> {
        self.tape.borrow().check(id);
        Value::new(self, id)
    }

    /// The sum of `values` as one n-ary node (see [`Value::sum`]); a leaf
    /// holding 0 when there are none.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let xs = [g.value(1.0), g.value(2.0), g.value(3.0)];
    /// assert_eq!(g.sum(xs).data(), 6.0);
    /// assert_eq!(g.sum([]).data(), 0.0);
    /// ```
    ///
    /// # Panics
    /// If a value belongs to another graph.
    pub fn sum<'g>(&'g self, values: impl IntoIterator<Item = Value<'g>>) -> Value<'g> {
        let mut ids = std::mem::take(&mut self.tape.borrow_mut().pending);
        ids.clear();
        // Collect first: the iterator may itself build nodes on this graph.
        for v in values {
            self.check_same(v);
            ids.push(v.id().0);
        }
        let mut t = self.tape.borrow_mut();
        let total = ids.iter().map(|&c| t.data[c as usize]).sum();
        let start = side_index(t.args.len());
        t.args.extend_from_slice(&ids);
        let id = t.push(Op::Sum, total, start, side_index(ids.len()));
        t.pending = ids;
        drop(t);
        Value::new(self, id)
    }

    /// The dot product `Σ w_i * x_i` as one n-ary [`Op::Dot`] node (see
    /// [`Graph::linear`], which adds a bias).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(1.0), g.value(2.0)];
    /// let x = [g.value(3.0), g.value(4.0)];
    /// let y = g.dot(&w, &x);
    /// assert_eq!(y.data(), 11.0);
    /// y.backward();
    /// assert_eq!((w[1].grad(), x[1].grad()), (4.0, 2.0));
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length or a value belongs to another graph.
    pub fn dot<'g>(&'g self, w: &[Value<'g>], x: &[Value<'g>]) -> Value<'g> {
        self.fused_dot(w, x, None)
    }

    /// A neuron's pre-activation `Σ w_i * x_i + b` as one [`Op::Dot`] node.
    ///
    /// Forward `Σ w_i x_i + b`; derivatives `d/dw_i = x_i`, `d/dx_i = w_i`,
    /// `d/db = 1`. When the weights are consecutive nodes (created one after
    /// the other, as a layer's parameters are) and so are the inputs (the
    /// previous layer's outputs), the node stores just where each run
    /// starts, and forward and backward are loops over contiguous memory.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(0.5), g.value(-1.0)];
    /// let b = g.value(0.25);
    /// let x = [g.value(2.0), g.value(3.0)];
    /// let y = g.linear(&w, &x, b);
    /// assert_eq!(y.data(), 0.5 * 2.0 - 1.0 * 3.0 + 0.25);
    /// y.backward();
    /// assert_eq!((w[0].grad(), x[1].grad(), b.grad()), (2.0, -1.0, 1.0));
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length or a value belongs to another graph.
    pub fn linear<'g>(&'g self, w: &[Value<'g>], x: &[Value<'g>], b: Value<'g>) -> Value<'g> {
        self.fused_dot(w, x, Some(b))
    }

    /// [`Graph::linear`] over two runs of `n` consecutive nodes, given by
    /// where they start: `Σ_{i<n} w_{w+i} · x_{x+i} + b`.
    ///
    /// This is the contiguous case of `linear` without inspecting each
    /// operand, for callers that know their layout: a layer's weights are
    /// created one after the other, and so are its outputs.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(0.5), g.value(-1.0)];
    /// let b = g.value(0.25);
    /// let x = [g.value(2.0), g.value(3.0)];
    /// let y = g.linear_runs(w[0].id(), x[0].id(), 2, b.id());
    /// assert_eq!(y.data(), g.linear(&w, &x, b).data());
    /// ```
    ///
    /// # Panics
    /// If `n` is 0, or a run or the bias is not inside the graph.
    pub fn linear_runs(&self, w: NodeId, x: NodeId, n: usize, b: NodeId) -> Value<'_> {
        let mut t = self.tape.borrow_mut();
        let len = t.data.len();
        let (ws, xs, bi) = (w.index(), x.index(), b.index());
        assert!(
            n > 0 && ws + n <= len && xs + n <= len && bi < len,
            "linear_runs: runs of {n} nodes at {w} and {x} with bias {b} do not fit in a graph of {len} nodes"
        );
        let total = dot_kernel(&t.data[ws..ws + n], &t.data[xs..xs + n]) + t.data[bi];
        let start = side_index(t.args.len());
        t.args.extend([w.0, x.0, b.0]);
        let id = t.push_flagged(Op::Dot, RANGES | BIAS, total, start, side_index(n));
        drop(t);
        Value::new(self, id)
    }

    fn fused_dot<'g>(
        &'g self,
        w: &[Value<'g>],
        x: &[Value<'g>],
        b: Option<Value<'g>>,
    ) -> Value<'g> {
        assert_eq!(
            w.len(),
            x.len(),
            "dot needs as many weights as inputs, got {} weights and {} inputs",
            w.len(),
            x.len()
        );
        for v in w.iter().chain(x).chain(&b) {
            self.check_same(*v);
        }
        let consecutive = |vs: &[Value<'g>]| vs.windows(2).all(|p| p[1].id().0 == p[0].id().0 + 1);
        let ranges = !w.is_empty() && consecutive(w) && consecutive(x);
        let mut t = self.tape.borrow_mut();
        let start = side_index(t.args.len());
        let total = if ranges {
            let (ws, xs) = (w[0].id().index(), x[0].id().index());
            t.args.extend([ws as u32, xs as u32]);
            dot_kernel(&t.data[ws..ws + w.len()], &t.data[xs..xs + x.len()])
        } else {
            t.args.extend(w.iter().chain(x).map(|v| v.id().0));
            let data = &t.data;
            let mut total = 0.0;
            for (wi, xi) in w.iter().zip(x) {
                total += data[wi.id().index()] * data[xi.id().index()];
            }
            total
        };
        let mut flags = if ranges { RANGES } else { 0 };
        let total = match b {
            Some(b) => {
                flags |= BIAS;
                t.args.push(b.id().0);
                total + t.data[b.id().index()]
            }
            None => total,
        };
        let id = t.push_flagged(Op::Dot, flags, total, start, side_index(w.len()));
        drop(t);
        Value::new(self, id)
    }

    /// How many nodes the graph holds.
    pub fn len(&self) -> usize {
        self.tape.borrow().data.len()
    }

    /// Whether the graph holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of heap memory the graph holds now (allocated capacity of all
    /// its buffers, labels excluded).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let t = self.tape.borrow();
        t.data.capacity() * size_of::<f64>()
            + t.grad.capacity() * size_of::<f64>()
            + t.nodes.capacity() * size_of::<Node>()
            + t.consts.capacity() * size_of::<f64>()
            + t.args.capacity() * size_of::<u32>()
            + t.adj.capacity() * size_of::<f64>()
            + t.pending.capacity() * size_of::<u32>()
    }

    /// The current end of the arena: pass it to [`Graph::truncate`] to drop
    /// everything created after this call.
    pub fn mark(&self) -> Mark {
        let t = self.tape.borrow();
        Mark {
            nodes: t.data.len() as u32,
            consts: t.consts.len() as u32,
            args: t.args.len() as u32,
        }
    }

    /// Drops every node created after `mark`, keeping the storage for reuse.
    /// Nodes before the mark keep their data, gradients and labels.
    ///
    /// Taking `&mut self` means no [`Value`] handle can outlive this call;
    /// [`NodeId`]s of dropped nodes become invalid.
    ///
    /// # Panics
    /// If the graph is shorter than the mark (it was already truncated
    /// further back).
    pub fn truncate(&mut self, mark: Mark) {
        let t = self.tape.get_mut();
        assert!(
            mark.len() <= t.data.len(),
            "cannot truncate a graph of {} nodes to a mark at {} nodes \
             (it was already truncated further back)",
            t.data.len(),
            mark.len()
        );
        t.data.truncate(mark.len());
        t.nodes.truncate(mark.len());
        t.grad.truncate(mark.len());
        t.consts.truncate(mark.consts as usize);
        t.args.truncate(mark.args as usize);
        if t.labels.range(mark.nodes..).next().is_some() {
            t.labels.split_off(&mark.nodes);
        }
    }

    /// Removes every node, keeping the storage for reuse.
    pub fn clear(&mut self) {
        self.truncate(Mark {
            nodes: 0,
            consts: 0,
            args: 0,
        });
    }

    /// Sets every gradient in the graph to 0.
    pub fn zero_grad(&self) {
        self.tape.borrow_mut().grad.fill(0.0);
    }

    /// All data and all gradients, indexed by [`NodeId::index`]: what an
    /// optimizer needs to update parameters in place without any lookup.
    ///
    /// ```
    /// let mut g = backprop::Graph::new();
    /// let w = g.value(1.0).id();
    /// let (data, grad) = g.data_and_grad_mut();
    /// grad[w.index()] = 0.5;
    /// data[w.index()] -= 0.1 * grad[w.index()];
    /// assert_eq!(g.get(w).data(), 0.95);
    /// ```
    pub fn data_and_grad_mut(&mut self) -> (&mut [f64], &mut [f64]) {
        let t = self.tape.get_mut();
        t.grads_full();
        (&mut t.data, &mut t.grad)
    }

    /// The nodes and edges of the subgraph that leads to `root`, in creation
    /// order: what the notebook's `trace` computes, but deterministic and
    /// without recursion.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let a = g.value(2.0);
    /// let unrelated = g.value(5.0);
    /// let y = a * a + 1.0;
    /// let t = g.trace(y.id());
    /// assert_eq!(t.nodes.len(), 4); // a, a*a, the constant 1, y
    /// assert!(!t.nodes.contains(&unrelated.id()));
    /// assert_eq!(t.edges.len(), 3); // a->a*a once, a*a->y, 1->y
    /// ```
    ///
    /// # Panics
    /// If `root` is not a node of this graph.
    pub fn trace(&self, root: NodeId) -> Trace {
        let t = self.tape.borrow();
        let r = t.check(root);
        let mut reached = vec![false; r + 1];
        reached[r] = true;
        // `seen[c] == i + 1` once child `c` has an edge to parent `i`: drops
        // repeated operands (`a * a`) in linear time, even for wide nodes.
        let mut seen = vec![0usize; r + 1];
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for i in (0..=r).rev() {
            if !reached[i] {
                continue;
            }
            nodes.push(NodeId(i as u32));
            let mut children = t.operands(i);
            children.retain(|c| {
                reached[c.index()] = true;
                let new = seen[c.index()] != i + 1;
                seen[c.index()] = i + 1;
                new
            });
            for c in children.into_iter().rev() {
                edges.push((c, NodeId(i as u32)));
            }
        }
        nodes.reverse();
        edges.reverse();
        Trace { nodes, edges }
    }

    /// Nodes that carry a label, with their labels, in creation order.
    pub fn labels(&self) -> Vec<(NodeId, String)> {
        let t = self.tape.borrow();
        t.labels
            .iter()
            .map(|(&i, l)| (NodeId(i), l.clone()))
            .collect()
    }

    fn check_same(&self, v: Value<'_>) {
        assert!(
            std::ptr::eq(self, v.graph()),
            "cannot combine values from two different graphs (node {} belongs to another graph)",
            v.id()
        );
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph").field("len", &self.len()).finish()
    }
}
