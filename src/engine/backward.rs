//! The reverse sweeps: one loop from the output back to the inputs, over
//! numbers ([`Tape::backward`]) or over graph values ([`grad_values`]),
//! each applying [`chain`] to every node that the output reaches.
//!
//! Creation order is a topological order, so no recursion and no visited
//! set are needed. Adjoints start at `-0.0`, the identity of `+`, so the
//! first contribution is taken exactly, sign of zero included.
//!
//! A node is reached when it received a contribution, whatever its value:
//! one whose total gradient happens to be `0.0` or `-0.0` still passes
//! `0 * inf = NaN` on, as in PyTorch. The number sweep knows this without a
//! bit per contribution: in IEEE addition (round to nearest) a sum that
//! starts at `-0.0` stays `-0.0` only while every term is `-0.0` (any other
//! zero, or an exact cancellation, gives `+0.0`, and nothing turns back into
//! `-0.0`). So an adjoint that is not `-0.0` was reached, and the reached
//! bitset needs setting only for `-0.0` contributions (and for dot runs,
//! a word at a time).
//!
//! [`Value::backward_skip_zeros`] runs the same loop without the
//! reachability: it passes over every node whose adjoint is `0.0` or
//! `-0.0` (and sets no bits), which is what training needs and all it can
//! afford: in an MLP step most of the graph (dead relus, samples past the
//! hinge) has gradient 0. It loses only the NaN of `0 * inf` on such
//! paths; the contract is on that method.

use std::mem::MaybeUninit;

use super::Value;
use super::kernels::axpy;
use super::rules::{Scalar, Sweep, chain};
use super::tape::{Node, Tape};

/// One bit per node.
#[inline]
fn bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] >> (i % 64) & 1 != 0
}

#[inline]
fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

/// Sets bits `from..from + n`, a word at a time.
fn set_bits(bits: &mut [u64], from: usize, n: usize) {
    let (mut i, end) = (from, from + n);
    while i < end {
        let (word, shift) = (i / 64, i % 64);
        let take = (64 - shift).min(end - i);
        let mask = if take == 64 {
            !0
        } else {
            ((1u64 << take) - 1) << shift
        };
        bits[word] |= mask;
        i += take;
    }
}

/// The bits of `-0.0`, where every adjoint starts.
const NEG_ZERO: u64 = 0x8000_0000_0000_0000;

/// Whether node `i`, whose adjoint is `g`, received a contribution (see
/// the module docs).
#[inline]
fn is_reached(g: f64, bits: &[u64], i: usize) -> bool {
    g.to_bits() != NEG_ZERO || bit(bits, i)
}

/// The `f64` sweep's state: data in, adjoints and reached bits out.
/// With `SKIP_ZEROS`, `reached` is not kept. Operands are read and added
/// to without bounds checks (W2's backward 1.06x as fast), by the arena's
/// invariant that every operand is below its node (see `Node`).
struct Numbers<'a, const SKIP_ZEROS: bool> {
    data: &'a [f64],
    adj: &'a mut [f64],
    reached: &'a mut [u64],
}

impl<const SKIP_ZEROS: bool> Sweep<f64> for Numbers<'_, SKIP_ZEROS> {
    #[inline]
    fn x(&self, i: u32) -> f64 {
        debug_assert!((i as usize) < self.data.len());
        // SAFETY: `i` is an operand of a node the sweep visits, and
        // operands are below their node (the arena's invariant, see
        // `Node`), itself below `data.len()`, the sweep's length.
        unsafe { *self.data.get_unchecked(i as usize) }
    }
    #[inline]
    fn wants(&self, _: u32) -> bool {
        true
    }
    #[inline]
    fn add(&mut self, i: u32, d: f64) {
        debug_assert!((i as usize) < self.adj.len());
        // SAFETY: as in `x`: an operand, below its node, below the length.
        unsafe { *self.adj.get_unchecked_mut(i as usize) += d };
        if !SKIP_ZEROS && d.to_bits() == NEG_ZERO {
            set_bit(self.reached, i as usize);
        }
    }
    #[inline]
    fn add_run(&mut self, dst: u32, g: f64, src: u32, n: u32) {
        let (dst, src, n) = (dst as usize, src as usize, n as usize);
        axpy(&mut self.adj[dst..dst + n], g, &self.data[src..src + n]);
        if !SKIP_ZEROS {
            set_bits(self.reached, dst, n);
        }
    }
}

/// The reverse loop over `nodes`, the nodes from index `from` on: each
/// node the output reaches passes its adjoint to its operands by the chain
/// rule. With `SETTLE`, each adjoint, final once the loop reaches its node,
/// is moved out as the node's gradient into `settled[k]`: `0 + g`, as `+=`
/// on a gradient of 0 gives, so that one left at -0.0 (not reached, or
/// reached only by -0.0) becomes 0.0; and its slot in `adj` is put back to
/// -0.0, ready for the next sweep. (Which NaN a NaN gradient is, sign and
/// payload, is not kept: Rust does not specify it for arithmetic.)
#[inline(always)]
fn sweep_nodes<const SKIP_ZEROS: bool, const SETTLE: bool>(
    nodes: &[Node],
    from: usize,
    args: &[u32],
    consts: &[f64],
    settled: &mut [MaybeUninit<f64>],
    s: &mut Numbers<'_, SKIP_ZEROS>,
) {
    if SETTLE {
        assert_eq!(settled.len(), nodes.len());
    }
    for (k, &node) in nodes.iter().enumerate().rev() {
        let i = from + k;
        let g = s.adj[i];
        if SETTLE {
            // SAFETY: `k < nodes.len() == settled.len()` (asserted above).
            unsafe { settled.get_unchecked_mut(k).write(0.0 + g) };
            s.adj[i] = -0.0;
        }
        let skip = if SKIP_ZEROS {
            g == 0.0
        } else {
            !is_reached(g, s.reached, i)
        };
        if skip {
            continue;
        }
        chain(node, args, consts, s.data[i], g, s);
    }
}

impl Tape {
    /// Reverse sweep from `root` over numbers. Without `accumulate`,
    /// leaves d(root)/d(node) in `adj` for every node up to `root`, with
    /// its bit set in `reached` (what [`Tape::adjoint`] reads); with
    /// `accumulate`, adds it to `grad` instead (what [`Value::backward`]
    /// does), and leaves every slot of `adj` at -0.0 for the next sweep.
    /// With `SKIP_ZEROS`, passes over every node whose adjoint is `±0.0`
    /// and leaves `reached` empty (what [`Value::backward_skip_zeros`]
    /// does).
    pub(super) fn backward<const SKIP_ZEROS: bool>(&mut self, root: usize, accumulate: bool) {
        let Tape {
            data,
            grad,
            nodes,
            consts,
            args,
            adj,
            adj_dirty,
            reached,
            ..
        } = self;
        let n = root + 1;
        // Adjoints start at -0.0. A training sweep (`accumulate`) puts
        // every slot it used back to -0.0 as it goes, so only what a sweep
        // that kept its adjoints left behind is reset here, not the whole
        // array at every step: on the W2 graph that pass of 8 MB, and the
        // cache it evicted, took a fifth of the backward time.
        let dirty = (*adj_dirty).min(adj.len());
        adj[..dirty].fill(-0.0);
        if adj.len() < n {
            adj.resize(n, -0.0);
        }
        // Until this sweep has put them back (should it not finish, the
        // next one resets them).
        *adj_dirty = n;
        reached.clear();
        reached.resize(n.div_ceil(64), 0);
        adj[root] = 1.0;
        // With `accumulate`, the nodes from `held` up have no gradient yet
        // (a training step's, past the model's parameters): theirs is
        // their adjoint, which the loop moves into `grad`'s spare room as
        // it passes them.
        let held = if accumulate { grad.len().min(n) } else { n };
        grad.reserve(n - held);
        let settled = &mut grad.spare_capacity_mut()[..n - held];
        let mut sweep = Numbers::<'_, SKIP_ZEROS> {
            data: &data[..n],
            adj: &mut adj[..n],
            reached,
        };
        sweep_nodes::<SKIP_ZEROS, true>(&nodes[held..n], held, args, consts, settled, &mut sweep);
        sweep_nodes::<SKIP_ZEROS, false>(&nodes[..held], 0, args, consts, &mut [], &mut sweep);
        if accumulate {
            if held < n {
                // SAFETY: `grad` held `held` gradients, and the settling
                // loop wrote `grad[held..n]`, the spare room after them.
                unsafe { grad.set_len(n) };
            }
            // The gradients that exist get `+=` where reached (a model's
            // parameters), after the loop rather than tested for at every
            // node: each adjoint is final once the loop has passed it.
            let old = grad[..held].iter_mut().zip(&mut adj[..held]);
            for (i, (t, a)) in old.enumerate() {
                let reached = if SKIP_ZEROS {
                    *a != 0.0
                } else {
                    is_reached(*a, reached, i)
                };
                if reached {
                    *t += *a;
                }
                *a = -0.0;
            }
            *adj_dirty = 0;
        }
    }

    /// d(root)/d(node) after a [`Tape::backward`] without `accumulate`: 0
    /// for a node the root does not reach (beyond the root, `adj` is
    /// -0.0 and no bit is kept).
    pub(super) fn adjoint(&self, i: usize) -> f64 {
        let bit = |i: usize| {
            self.reached
                .get(i / 64)
                .is_some_and(|w| w >> (i % 64) & 1 != 0)
        };
        match self.adj.get(i) {
            Some(&a) if a.to_bits() != NEG_ZERO || bit(i) => a,
            _ => 0.0,
        }
    }
}

/// The graph-building sweep's state: adjoints are values, and only nodes
/// on a path to a requested input take part.
struct Values<'g> {
    graph: &'g super::Graph,
    wanted: Vec<u64>,
    adj: Vec<Option<Value<'g>>>,
}

impl<'g> Sweep<Value<'g>> for Values<'g> {
    fn x(&self, i: u32) -> Value<'g> {
        Value::new(self.graph, i)
    }
    fn wants(&self, i: u32) -> bool {
        bit(&self.wanted, i as usize)
    }
    fn add(&mut self, i: u32, d: Value<'g>) {
        let slot = &mut self.adj[i as usize];
        *slot = Some(match *slot {
            None => d,
            Some(a) => a + d,
        });
    }
}

/// d(root)/d(input) for each input, as new nodes of the graph (PyTorch's
/// `torch.autograd.grad(root, inputs, create_graph=True)`); a constant 0
/// for an input that `root` does not depend on.
pub(super) fn grad_values<'g>(
    graph: &'g super::Graph,
    root: u32,
    inputs: &[u32],
) -> Vec<Value<'g>> {
    // Copies of the side tables: the sweep appends nodes (and side-table
    // entries) while it reads them.
    let (nodes, args, consts) = {
        let t = graph.tape.borrow();
        let n = root as usize + 1;
        (t.nodes[..n].to_vec(), t.args.clone(), t.consts.clone())
    };
    let n = root as usize + 1;
    // Forward pass: a node is wanted when it is an input or depends on one.
    let mut wanted = vec![0u64; n.div_ceil(64)];
    let lo = inputs.iter().copied().min().unwrap_or(root);
    for &i in inputs.iter().filter(|&&i| i <= root) {
        set_bit(&mut wanted, i as usize);
    }
    for (i, node) in nodes.iter().enumerate().skip(lo as usize) {
        let mut any = false;
        node.for_each_operand(&args, |c| any |= bit(&wanted, c as usize));
        if any {
            set_bit(&mut wanted, i);
        }
    }
    let mut sweep = Values {
        graph,
        wanted,
        adj: vec![None; n],
    };
    if sweep.wants(root) {
        sweep.adj[root as usize] = Some(graph.value(1.0));
        for i in (lo as usize..n).rev() {
            if let Some(g) = sweep.adj[i] {
                let y = Value::new(graph, i as u32);
                chain(nodes[i], &args, &consts, y, g, &mut sweep);
            }
        }
    }
    inputs
        .iter()
        .map(|&i| {
            sweep
                .adj
                .get(i as usize)
                .copied()
                .flatten()
                .unwrap_or_else(|| graph.value(0.0))
        })
        .collect()
}

impl<'g> Scalar for Value<'g> {
    fn num(self) -> f64 {
        self.data()
    }
    fn constant(self, c: f64) -> Self {
        self.graph().value(c)
    }
    fn powf(self, p: f64) -> Self {
        // `x ** 1` is `x`, to the bit and in every derivative: no node.
        if p == 1.0 { self } else { Value::powf(self, p) }
    }
    fn pow(self, e: Self) -> Self {
        Value::pow(self, e)
    }
    fn ln(self) -> Self {
        Value::ln(self)
    }
    fn masked(self) -> Self {
        self.graph().push(super::tape::Node::Masked(self.index))
    }
}
