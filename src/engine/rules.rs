//! Every op's rules in one place: the forward rule ([`forward`]) and the
//! chain rule ([`chain`]), one arm per op in the same order.
//!
//! [`chain`] is written once over [`Scalar`], which both `f64` and
//! [`Value`] implement: the fast backward runs it on numbers, and
//! [`Graph::grad`](super::Graph::grad) runs the very same rule on graph
//! values, which appends the derivative as new nodes that can be
//! differentiated again. The two cannot drift apart.
//!
//! The formulas are PyTorch's (`tools/autograd/derivatives.yaml`), operand
//! order and masks included, so results agree to the bit where PyTorch's
//! kernels round the same way, and non-differentiable points follow its
//! conventions: `relu'(0) = 0`; `d(x^p)/dx = 0` when `p == 0`;
//! `d(a^b)/da = 0` when `b == 0`; `d(a^b)/db = 0` when `a == 0` and
//! `b >= 0`. Where PyTorch masks with `where`, the masked derivative is an
//! [`Op::Masked`](super::Op::Masked) node in a gradient graph, so second
//! derivatives there are PyTorch's too (often NaN: the masked branch still
//! passes `0 * inf` on). Everything else follows IEEE arithmetic: `0 * inf`
//! is NaN, and a gradient of `-0.0` stays `-0.0`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use super::kernels::dot_kernel;
use super::tape::Node;
use super::value::{relu, sigmoid};

/// What the chain rule computes with: `f64` (numbers) or
/// [`Value`](super::Value) (graph nodes).
pub(super) trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// The number held: masks and kinks are decided on it.
    fn num(self) -> f64;
    /// A constant next to `self` (for a value: a new leaf, whose
    /// derivative is 0).
    fn constant(self, c: f64) -> Self;
    fn powf(self, p: f64) -> Self;
    fn pow(self, e: Self) -> Self;
    fn ln(self) -> Self;
    /// PyTorch's `where(mask, 0, self)`: 0, which still passes a zero
    /// gradient on to `self` (for a value: an [`Op::Masked`](super::Op::Masked) node).
    fn masked(self) -> Self;
}

impl Scalar for f64 {
    fn num(self) -> f64 {
        self
    }
    fn constant(self, c: f64) -> f64 {
        c
    }
    fn powf(self, p: f64) -> f64 {
        powf(self, p)
    }
    fn pow(self, e: f64) -> f64 {
        f64::powf(self, e)
    }
    fn ln(self) -> f64 {
        f64::ln(self)
    }
    fn masked(self) -> f64 {
        0.0
    }
}

/// A reverse sweep as the chain rule sees it: operand values in, adjoint
/// contributions out.
pub(super) trait Sweep<S: Scalar> {
    /// Node `i` as a scalar (its data, or its handle).
    fn x(&self, i: u32) -> S;
    /// Whether the sweep needs node `i`'s gradient. A graph-building sweep
    /// says no for nodes that lead to no requested input, so it builds no
    /// derivative nodes for them.
    fn wants(&self, i: u32) -> bool;
    /// Adds `d` to node `i`'s adjoint (and marks it reached).
    fn add(&mut self, i: u32, d: S);
    /// `add(dst + k, g * x(src + k))` for `k < n`: a dot node over runs.
    /// The `f64` sweep overrides it with a vectorized loop.
    fn add_run(&mut self, dst: u32, g: S, src: u32, n: u32) {
        for k in 0..n {
            if self.wants(dst + k) {
                let d = g * self.x(src + k);
                self.add(dst + k, d);
            }
        }
    }
}

/// `x ** p` with the common small integer exponents computed exactly and
/// fast (as `x * x` etc.), everything else by `f64::powf`.
#[inline]
pub(super) fn powf(x: f64, p: f64) -> f64 {
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

/// The forward rule: the number a node holds, from its operands' data.
/// Every operand is read with a bounds check, which is what proves, when a
/// node is appended, that its operands are nodes before it (see `Node`).
#[inline(always)]
pub(super) fn forward(node: Node, data: &[f64], args: &[u32], consts: &[f64]) -> f64 {
    let x = |i: u32| data[i as usize];
    match node {
        Node::Leaf => unreachable!("a leaf's data is given, not computed"),
        Node::Add(a, b) => x(a) + x(b),
        Node::Sub(a, b) => x(a) - x(b),
        Node::Mul(a, b) => x(a) * x(b),
        Node::Div(a, b) => x(a) / x(b),
        Node::Pow(a, b) => x(a).powf(x(b)),
        Node::Neg(a) => -x(a),
        Node::Exp(a) => x(a).exp(),
        Node::Ln(a) => x(a).ln(),
        Node::Tanh(a) => super::tanh(x(a)),
        Node::Relu(a) => relu(x(a)),
        Node::Sigmoid(a) => sigmoid(x(a)),
        Node::Sqrt(a) => x(a).sqrt(),
        // Read although unused: every operand of a new node passes through
        // a checked read here (see `Node`).
        Node::Masked(a) => {
            let _ = x(a);
            0.0
        }
        Node::PowF(a, _) | Node::PowF64(a, _) => powf(x(a), node.exponent(consts).unwrap()),
        Node::Sum { at, n } => args[at as usize..(at + n) as usize]
            .iter()
            .map(|&c| x(c))
            .sum(),
        Node::Dot { at, n, runs, bias } => {
            let (at, n) = (at as usize, n as usize);
            let (total, rest) = if runs {
                let (w, xs) = (args[at] as usize, args[at + 1] as usize);
                (dot_kernel(&data[w..w + n], &data[xs..xs + n]), at + 2)
            } else {
                let (w, xs) = args[at..at + 2 * n].split_at(n);
                let mut total = 0.0;
                for (&w, &xi) in w.iter().zip(xs) {
                    total += x(w) * x(xi);
                }
                (total, at + 2 * n)
            };
            if bias { total + x(args[rest]) } else { total }
        }
    }
}

/// Gives `$d` to operand `$i` if the sweep wants it (computing `$d` only
/// then).
macro_rules! give {
    ($s:ident, $i:expr, $d:expr) => {
        if $s.wants($i) {
            let d = $d;
            $s.add($i, d);
        }
    };
}

/// The chain rule for one node: given `y` (the node) and `g` (d out/d y),
/// adds `g * dy/da` to each operand `a`. Operand lists come from `args`,
/// 64-bit exponents from `consts`.
// Always inlined: the number sweep has two loops that call it, and with
// the rule out of line (a call per node) W2's backward took 1.5x as long.
#[inline(always)]
pub(super) fn chain<S: Scalar>(
    node: Node,
    args: &[u32],
    consts: &[f64],
    y: S,
    g: S,
    s: &mut impl Sweep<S>,
) {
    // Constants are made where used: on graph values each is a new leaf.
    let zero = || g.constant(0.0);
    let one = || g.constant(1.0);
    match node {
        Node::Leaf => {}
        // d(a+b) = (1, 1)
        Node::Add(a, b) => {
            give!(s, a, g);
            give!(s, b, g);
        }
        // d(a-b) = (1, -1)
        Node::Sub(a, b) => {
            give!(s, a, g);
            give!(s, b, -g);
        }
        // d(ab) = (b, a)
        Node::Mul(a, b) => {
            give!(s, a, g * s.x(b));
            give!(s, b, g * s.x(a));
        }
        // d(a/b) = (1/b, -a/b²), PyTorch's `-g * ((a / b) / b)`
        Node::Div(a, b) => {
            give!(s, a, g / s.x(b));
            give!(s, b, -g * ((s.x(a) / s.x(b)) / s.x(b)));
        }
        // d(a^b) = (b a^(b-1), a^b ln a), masked as PyTorch
        Node::Pow(a, b) => {
            let (xa, xb) = (s.x(a), s.x(b));
            give!(s, a, {
                let d = g * (xb * xa.pow(xb - one()));
                if xb.num() == 0.0 { d.masked() } else { d }
            });
            give!(
                s,
                b,
                g * {
                    let d = y * xa.ln();
                    if xa.num() == 0.0 && xb.num() >= 0.0 {
                        d.masked()
                    } else {
                        d
                    }
                }
            );
        }
        // d(-a) = -1
        Node::Neg(a) => give!(s, a, -g),
        // d(e^a) = e^a
        Node::Exp(a) => give!(s, a, g * y),
        // d(ln a) = 1/a
        Node::Ln(a) => give!(s, a, g / s.x(a)),
        // d(tanh a) = 1 - tanh² a
        Node::Tanh(a) => give!(s, a, g * (one() - y * y)),
        // d(relu a) = 1 if relu(a) > 0 else 0: a step, whose own derivative is 0
        Node::Relu(a) => give!(s, a, if y.num() > 0.0 { g } else { g.masked() }),
        // A masked derivative is 0, and so is its own derivative.
        Node::Masked(a) => give!(s, a, zero()),
        // d(σ(a)) = (1 - σ) σ
        Node::Sigmoid(a) => give!(s, a, g * (one() - y) * y),
        // d(√a) = 1 / (2√a)
        Node::Sqrt(a) => give!(s, a, g / (g.constant(2.0) * y)),
        // d(a^p) = p a^(p-1), and 0 when p == 0
        Node::PowF(a, _) | Node::PowF64(a, _) => {
            let p = node.exponent(consts).unwrap();
            give!(
                s,
                a,
                if p == 0.0 {
                    zero()
                } else {
                    g * (g.constant(p) * s.x(a).powf(p - 1.0))
                }
            );
        }
        // d(Σ a_k) = 1 for each operand
        Node::Sum { at, n } => {
            for &c in &args[at as usize..(at + n) as usize] {
                give!(s, c, g);
            }
        }
        // d(Σ w_k x_k + b) = (x_k for w_k, w_k for x_k, 1 for b)
        Node::Dot { at, n, runs, bias } => {
            let at = at as usize;
            let rest = if runs {
                let (w, x) = (args[at], args[at + 1]);
                // Two passes, so that overlapping runs are right.
                s.add_run(w, g, x, n);
                s.add_run(x, g, w, n);
                at + 2
            } else {
                let (w, x) = args[at..at + 2 * n as usize].split_at(n as usize);
                for (&w, &x) in w.iter().zip(x) {
                    give!(s, w, g * s.x(x));
                }
                for (&w, &x) in w.iter().zip(x) {
                    give!(s, x, g * s.x(w));
                }
                at + 2 * n as usize
            };
            if bias {
                give!(s, args[rest], g);
            }
        }
    }
}
