//! The `Value` handle and its math methods. Operators (`+ - * /`, unary
//! `-`, compound assignment, `Sum`) are in `ops.rs`; each op's forward
//! rule and derivative are in `rules.rs`.

use std::fmt;

use super::rules::{Sweep, chain};
use super::tape::{Node, Tape};
use super::{Graph, NodeId, Op};

/// A scalar in a [`Graph`]: a `Copy` handle holding the graph and the
/// node's index.
///
/// Values combine with `+ - * /` (with each other, and with `f64` or `i32`
/// on either side: `2 * x`, `x / 2.5`), unary `-`, `+= -= *= /=`,
/// [`Sum`](std::iter::Sum), and the methods below; each result is a new
/// node that remembers its [`Op`] and children. A number operand becomes a
/// leaf node holding the constant, as in micrograd.
///
/// # Panics
/// Combining two values from different graphs is a programmer error: every
/// operator and method that takes a second `Value` panics with
/// "cannot combine values from two different graphs".
#[derive(Clone, Copy)]
pub struct Value<'g> {
    graph: &'g Graph,
    pub(super) index: u32,
}

impl<'g> Value<'g> {
    #[inline]
    pub(super) fn new(graph: &'g Graph, index: u32) -> Self {
        Self { graph, index }
    }

    /// The graph this value lives in.
    pub fn graph(self) -> &'g Graph {
        self.graph
    }

    /// The node's identity (index, graph and generation), to keep across
    /// [`Graph::truncate`] calls.
    #[inline]
    pub fn id(self) -> NodeId {
        self.graph.tape.borrow().id(self.index)
    }

    /// The node's position in the arena (creation order, from 0): the
    /// [`NodeId::index`] of [`Value::id`], without building the id.
    #[inline]
    pub fn index(self) -> usize {
        self.index as usize
    }

    fn i(self) -> usize {
        self.index as usize
    }

    fn node(self) -> Node {
        self.graph.tape.borrow().nodes[self.i()]
    }

    /// The number this node holds (micrograd's `.data`).
    pub fn data(self) -> f64 {
        self.graph.tape.borrow().data[self.i()]
    }

    /// Overwrites the number this node holds. Nodes computed from it are
    /// not recomputed: change inputs before building on them.
    pub fn set_data(self, data: f64) {
        self.graph.tape.borrow_mut().data[self.i()] = data;
    }

    /// d(output)/d(this node), accumulated by [`Value::backward`]
    /// (micrograd's `.grad`); 0 until something sets it.
    ///
    /// It starts at `0.0` and accumulates with `+=`, like PyTorch's `.grad`
    /// after `zero_grad(set_to_none=False)`, so a gradient of `-0.0` reads
    /// `0.0` here; [`Graph::gradients`] gives it with its sign.
    pub fn grad(self) -> f64 {
        self.graph.tape.borrow().grad(self.i())
    }

    /// Overwrites the gradient, as the notebook does by hand
    /// (`o.grad = 1.0`).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let o = g.value(0.7071);
    /// o.set_grad(1.0);
    /// assert_eq!(o.grad(), 1.0);
    /// ```
    pub fn set_grad(self, grad: f64) {
        let mut t = self.graph.tape.borrow_mut();
        t.grads_full()[self.i()] = grad;
    }

    /// The op that produced this node ([`Op::Leaf`] for an input).
    pub fn op(self) -> Op {
        self.node().op()
    }

    /// The operands of the op that produced this node, in order (for
    /// [`Op::Dot`], the weights, then the inputs, then the bias if any);
    /// empty for a leaf.
    pub fn children(self) -> Vec<Value<'g>> {
        let t = self.graph.tape.borrow();
        let mut out = Vec::new();
        t.nodes[self.i()].for_each_operand(&t.args, |c| out.push(Value::new(self.graph, c)));
        out
    }

    /// Each operand with its local derivative `d(self)/d(operand)` at the
    /// current data, in the order of [`Value::children`]: the numbers the
    /// chain rule multiplies by (from the same rule as
    /// [`Value::backward`]). An operand used twice appears twice.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let (a, b) = (g.value(2.0), g.value(-3.0));
    /// let y = a * b;
    /// let d: Vec<f64> = y.local_grads().iter().map(|&(_, d)| d).collect();
    /// assert_eq!(d, [-3.0, 2.0]);
    /// ```
    pub fn local_grads(self) -> Vec<(Value<'g>, f64)> {
        struct Record<'a> {
            data: &'a [f64],
            out: Vec<(u32, f64)>,
        }
        impl Sweep<f64> for Record<'_> {
            fn x(&self, i: u32) -> f64 {
                self.data[i as usize]
            }
            fn wants(&self, _: u32) -> bool {
                true
            }
            fn add(&mut self, i: u32, d: f64) {
                self.out.push((i, d));
            }
        }
        let t = self.graph.tape.borrow();
        let mut r = Record {
            data: &t.data,
            out: Vec::new(),
        };
        let y = t.data[self.i()];
        chain(t.nodes[self.i()], &t.args, &t.consts, y, 1.0, &mut r);
        r.out
            .into_iter()
            .map(|(i, d)| (Value::new(self.graph, i), d))
            .collect()
    }

    /// The constant exponent of a [`Op::PowF`] node, `None` for other ops.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// assert_eq!(g.value(3.0).powf(2.0).exponent(), Some(2.0));
    /// ```
    pub fn exponent(self) -> Option<f64> {
        let t = self.graph.tape.borrow();
        t.nodes[self.i()].exponent(&t.consts)
    }

    /// The node's label, if it has one.
    pub fn label(self) -> Option<String> {
        self.graph.tape.borrow().labels.get(&self.index).cloned()
    }

    /// Sets the node's label (shown when the graph is drawn).
    pub fn set_label(self, label: impl Into<String>) {
        self.graph
            .tape
            .borrow_mut()
            .labels
            .insert(self.index, label.into());
    }

    /// Sets the node's label and returns the value, for use in expressions.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x1 = g.value(2.0).with_label("x1");
    /// assert_eq!(x1.label().as_deref(), Some("x1"));
    /// ```
    pub fn with_label(self, label: impl Into<String>) -> Self {
        self.set_label(label);
        self
    }

    /// Back-propagates from this value: adds d(self)/d(node) to the gradient
    /// of every node this value depends on, itself included (its gradient
    /// grows by 1).
    ///
    /// Gradients accumulate (`+=`), so a node used several times gets the sum
    /// of its contributions, and calling `backward` a second time adds the
    /// same gradients again (as PyTorch does with `retain_graph`); call
    /// [`Graph::zero_grad`] in between to start afresh. Nodes the output does
    /// not depend on are left untouched.
    ///
    /// One reverse loop over the arena, no recursion: graphs of millions of
    /// nodes are fine.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let a = g.value(3.0);
    /// let y = a * a + a; // dy/da = 2a + 1
    /// y.backward();
    /// assert_eq!(a.grad(), 7.0);
    /// ```
    pub fn backward(self) {
        self.graph
            .tape
            .borrow_mut()
            .backward::<false>(self.i(), true);
    }

    /// [`Value::backward`] that does no work for nodes whose gradient is
    /// exactly zero: what the training loops use, where dead relus and
    /// samples past the hinge give most of the graph gradient 0.
    ///
    /// Every node whose total gradient is `0.0` or `-0.0` is passed over
    /// (its contributions, `0 * dy/da`, are not computed).
    ///
    /// **Contract.** If no gradient that [`Value::backward`] computes is
    /// NaN, the gradients are the same numbers (`==`, which takes
    /// `-0.0 == 0.0`), and the same bits wherever the gradient is not 0 or
    /// started at `0.0` (so after [`Graph::zero_grad`](super::Graph::zero_grad),
    /// bit for bit). The one difference: where a zero gradient meets an
    /// infinite or NaN local derivative (`relu(-√x)` at `x = 0`: `0 * inf`),
    /// `backward` gives NaN as PyTorch does, and this passes 0 on. That needs
    /// a non-finite derivative on a path whose gradient is exactly 0; for
    /// `+`, `-`, `*`, dot, relu, tanh, sigmoid and exp at finite data it
    /// cannot happen (their derivatives are finite there), and a training
    /// loss that is finite has none on its live paths.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let (w, x) = (g.value(0.5), g.value(-2.0));
    /// let y = (w * x).relu() + w; // the relu is off: dy/dw = 1, dy/dx = 0
    /// y.backward_skip_zeros();
    /// assert_eq!((w.grad(), x.grad()), (1.0, 0.0));
    ///
    /// // Where a zero gradient meets d√x/dx = inf at x = 0, `backward` gives
    /// // NaN (as PyTorch) and this gives 0.
    /// let x = g.value(0.0);
    /// let y = (-x.sqrt()).relu();
    /// y.backward_skip_zeros();
    /// assert_eq!(x.grad(), 0.0);
    /// g.zero_grad();
    /// y.backward();
    /// assert!(x.grad().is_nan());
    /// ```
    pub fn backward_skip_zeros(self) {
        self.graph
            .tape
            .borrow_mut()
            .backward::<true>(self.i(), true);
    }

    // Every op is `#[inline]`, in the caller's crate too: a node's whole
    // append (the borrow, two pushes, the forward rule) then sits in the
    // caller's loop, without a call and its register saves. W2's forward
    // went from 5.4 to 4.0 ns per node. `binary` itself is always inlined:
    // left to the compiler, one in three of W2's binary ops stayed a call
    // (forward 4.45 -> 4.05 ns per node, `examples`-style W2 loop, 8
    // interleaved rounds).
    #[inline(always)]
    pub(super) fn binary(self, other: Value<'g>, node: impl FnOnce(u32, u32) -> Node) -> Self {
        self.graph.check_same(other);
        self.graph.push(node(self.index, other.index))
    }

    /// `self ** p` for a constant exponent.
    ///
    /// Forward `x^p`; derivative `p * x^(p-1)` (0 when `p == 0`, as in
    /// PyTorch). Domain errors give NaN like `f64::powf` (e.g. a negative
    /// base with a fractional exponent).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0);
    /// let y = x.powf(2.0);
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (9.0, 6.0));
    /// ```
    #[inline]
    pub fn powf(self, p: f64) -> Self {
        // Most exponents (2, 3, 0.5, -1, ...) are exact in an f32 and fit in
        // the node itself; the others go to the side table.
        let node = if f64::from(p as f32).to_bits() == p.to_bits() {
            Node::PowF(self.index, p as f32)
        } else {
            let mut t = self.graph.tape.borrow_mut();
            t.consts.push(p);
            Node::PowF64(self.index, super::tape::side_index(t.consts.len() - 1))
        };
        self.graph.push(node)
    }

    /// `self ** exponent`, PyTorch's `pow`: with a number (`f64` or
    /// `i32`) it is [`Value::powf`]; with a `Value` exponent it is an
    /// [`Op::Pow`] node.
    ///
    /// Forward `a^b`; derivatives `d/da = b * a^(b-1)` (0 when `b == 0`)
    /// and `d/db = a^b * ln a` (taken as 0 when `a == 0` and `b >= 0`, as in
    /// PyTorch; NaN for a negative base, like `f64`).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let (a, b) = (g.value(2.0), g.value(3.0));
    /// let y = a.pow(b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad()), (8.0, 12.0));
    /// assert!((b.grad() - 8.0 * 2f64.ln()).abs() < 1e-12);
    /// assert_eq!(a.pow(2).data(), 4.0);
    /// assert_eq!(a.pow(0.5).exponent(), Some(0.5));
    /// ```
    pub fn pow(self, exponent: impl Exponent<'g>) -> Self {
        exponent.raise(self)
    }

    /// `e ** self`. Forward `e^x`; derivative `e^x`. Overflows to `inf` past
    /// `x ≈ 709.78`, like `f64::exp`.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(0.0);
    /// let y = x.exp();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (1.0, 1.0));
    /// ```
    #[inline]
    pub fn exp(self) -> Self {
        self.graph.push(Node::Exp(self.index))
    }

    /// The natural logarithm. Forward `ln x`; derivative `1 / x`. Like
    /// `f64::ln`: `-inf` at 0, NaN for negative numbers.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(4.0);
    /// let y = x.ln();
    /// y.backward();
    /// assert_eq!(x.grad(), 0.25);
    /// assert!(g.value(-1.0).ln().data().is_nan());
    /// ```
    #[inline]
    pub fn ln(self) -> Self {
        self.graph.push(Node::Ln(self.index))
    }

    /// The natural logarithm under PyTorch's name (`torch.log`): the same
    /// node as [`Value::ln`].
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// assert_eq!(g.value(1.0).log().data(), 0.0);
    /// ```
    pub fn log(self) -> Self {
        self.ln()
    }

    /// The hyperbolic tangent. Forward `tanh x`; derivative `1 - tanh² x`.
    /// Stable for any input: exactly ±1 for large |x|, never NaN (unlike the
    /// notebook's `(e^2x - 1)/(e^2x + 1)`, which is NaN past x ≈ 355).
    /// The forward rule is [`engine::tanh`](crate::engine::tanh), within
    /// 1.5 units in the last place of the exact value.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(0.5);
    /// let y = x.tanh();
    /// y.backward();
    /// assert!((x.grad() - (1.0 - 0.5f64.tanh().powi(2))).abs() < 1e-15);
    /// assert_eq!(g.value(1000.0).tanh().data(), 1.0);
    /// ```
    #[inline]
    pub fn tanh(self) -> Self {
        self.graph.push(Node::Tanh(self.index))
    }

    /// The rectified linear unit. Forward `max(x, 0)`; derivative 1 for
    /// `x > 0`, else 0 (0 at `x == 0`, as in PyTorch and micrograd).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(-2.0);
    /// let y = x.relu();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (0.0, 0.0));
    /// ```
    #[inline]
    pub fn relu(self) -> Self {
        self.graph.push(Node::Relu(self.index))
    }

    /// The logistic sigmoid. Forward `1 / (1 + e^-x)`; derivative
    /// `σ(x) (1 - σ(x))`. Computed without overflow for any input.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(0.0);
    /// let y = x.sigmoid();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (0.5, 0.25));
    /// assert_eq!(g.value(-1000.0).sigmoid().data(), 0.0);
    /// ```
    #[inline]
    pub fn sigmoid(self) -> Self {
        self.graph.push(Node::Sigmoid(self.index))
    }

    /// The square root. Forward `√x`; derivative `1 / (2√x)` (`inf` at 0).
    /// NaN for negative numbers, like `f64::sqrt`.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(9.0);
    /// let y = x.sqrt();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (3.0, 1.0 / 6.0));
    /// ```
    #[inline]
    pub fn sqrt(self) -> Self {
        self.graph.push(Node::Sqrt(self.index))
    }

    /// The n-ary sum `Σ v_i` of `values` as one node; equivalent to
    /// [`Graph::sum`]. Derivative 1 for each operand.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(2.0);
    /// let y = backprop::Value::sum([x, x, x]);
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (6.0, 3.0));
    /// ```
    ///
    /// # Panics
    /// If `values` is empty (there is no graph to put the 0 in: use
    /// [`Graph::sum`]) or mixes graphs.
    pub fn sum(values: impl IntoIterator<Item = Value<'g>>) -> Self {
        let mut it = values.into_iter().peekable();
        let first = *it
            .peek()
            .expect("cannot sum an empty list of values (use Graph::sum, which gives 0)");
        first.graph.sum(it)
    }

    /// The dot product `Σ w_i x_i` as one node, equivalent to
    /// [`Graph::dot`]. Derivatives `d/dw_i = x_i`, `d/dx_i = w_i`.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(2.0), g.value(3.0)];
    /// let x = [g.value(-1.0), g.value(4.0)];
    /// assert_eq!(backprop::Value::dot(&w, &x).data(), 10.0);
    /// ```
    ///
    /// # Panics
    /// If the slices are empty or differ in length, or mix graphs.
    pub fn dot(w: &[Value<'g>], x: &[Value<'g>]) -> Self {
        let first = w
            .first()
            .expect("cannot take the dot product of empty slices (use Graph::dot)");
        first.graph.dot(w, x)
    }
}

/// The engine's forward rule for [`Value::sigmoid`] on a plain number: the
/// logistic function, computed so that `exp` never overflows. Code that
/// evaluates without a graph uses it to get the same bits.
///
/// ```
/// assert_eq!(backprop::engine::sigmoid(0.0), 0.5);
/// assert_eq!(backprop::engine::sigmoid(-1000.0), 0.0);
/// ```
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The engine's forward rule for [`Value::relu`] on a plain number:
/// `max(x, 0)` as PyTorch computes it: NaN stays NaN (`f64::max` would
/// give 0) and `-0.0` stays `-0.0`.
///
/// ```
/// assert_eq!(backprop::engine::relu(-2.0), 0.0);
/// assert!(backprop::engine::relu(f64::NAN).is_nan());
/// assert!(backprop::engine::relu(-0.0).is_sign_negative());
/// ```
pub fn relu(x: f64) -> f64 {
    if x < 0.0 { 0.0 } else { x }
}

impl fmt::Display for Value<'_> {
    /// `Value(data=0.7071067811865476, grad=0)`; a precision (`{:.4}`)
    /// applies to both numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t: std::cell::Ref<'_, Tape> = self.graph.tape.borrow();
        let (d, g) = (t.data[self.i()], t.grad(self.i()));
        match f.precision() {
            Some(p) => write!(f, "Value(data={d:.p$}, grad={g:.p$})"),
            None => write!(f, "Value(data={d}, grad={g})"),
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("id", &self.id())
            .field("op", &self.op())
            .field("data", &self.data())
            .field("grad", &self.grad())
            .finish()
    }
}

/// An exponent for [`Value::pow`]: a number (`f64`, `i32`) gives a
/// constant-exponent [`Op::PowF`] node, a `Value` an [`Op::Pow`] node.
pub trait Exponent<'g> {
    /// `base ** self`.
    fn raise(self, base: Value<'g>) -> Value<'g>;
}

impl<'g> Exponent<'g> for f64 {
    fn raise(self, base: Value<'g>) -> Value<'g> {
        base.powf(self)
    }
}

impl<'g> Exponent<'g> for i32 {
    fn raise(self, base: Value<'g>) -> Value<'g> {
        base.powf(f64::from(self))
    }
}

impl<'g> Exponent<'g> for Value<'g> {
    fn raise(self, base: Value<'g>) -> Value<'g> {
        base.binary(self, Node::Pow)
    }
}
