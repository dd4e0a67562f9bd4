//! The lane program of an [`Mlp`] training step: the scalar graph of one
//! sample, replayed over a chunk of rows without building it (see "How
//! values live in the graph", item 4, in the engine's module docs).
//!
//! A [`Trainer`](super::Trainer) step builds, per chunk, one scalar graph
//! per row (every neuron's dot node and activation), the loss over the
//! rows and the L2 term, and runs `backward_skip_zeros` over it. Most of
//! that time is bookkeeping per node, not arithmetic. [`Lanes::chunk`]
//! computes the same numbers from plain buffers:
//!
//! - **Layout.** Row-major per layer: layer `l`'s outputs for the chunk are
//!   one `Vec<f64>` holding row `r`'s outputs at `r * width..(r + 1) * width`,
//!   and so are the adjoints. A neuron's pre-activation is then
//!   [`dot_kernel`] over its weights and one row (contiguous slices, as in the
//!   graph's dot nodes over runs), and its backward steps are `axpy`s over
//!   contiguous rows. The parameters are read from, and their gradients
//!   written to, the graph by [`NodeId`](crate::NodeId).
//! - **The same numbers, to the bit.** Every value and adjoint is computed by
//!   the graph's own formulas (`engine::rules`), and every sum in the graph's
//!   order: the forward rule's eight running sums of `dot_kernel`; a
//!   parameter's adjoint starts at `-0.0`, takes the L2 term's two
//!   contributions first (that node is created last), then one contribution
//!   per row, last row first (the reverse sweep meets the rows' nodes in
//!   that order); an input's adjoint takes the next layer's neurons last
//!   first. A node whose adjoint is `±0.0` passes nothing on, as in
//!   `backward_skip_zeros`. So the loss, the accuracy and every gradient are
//!   bit-identical to the scalar graph's, for every activation and loss.
//! - **Fallback.** The program reads the parameters as one run of
//!   consecutive nodes (what [`Mlp::new`] and loading a model make); for any
//!   other model, [`Lanes::supports`] says no and the trainer builds the
//!   scalar graph as before.

use super::{Activation, Loss, Mlp};
use crate::Graph;
use crate::data::Dataset;
use crate::engine::dot_kernel;

/// The buffers of the lane program, reused from chunk to chunk (no
/// allocation once they have grown).
#[derive(Default)]
pub(crate) struct Lanes {
    /// The inputs, then each layer's outputs, row-major.
    acts: Vec<Vec<f64>>,
    /// The adjoints of the current layer's outputs, row-major.
    d_out: Vec<f64>,
    /// The adjoints of its inputs (the previous layer's outputs).
    d_in: Vec<f64>,
    /// Each row's term of the loss's sum.
    terms: Vec<f64>,
    /// The parameters' adjoints, in [`Mlp::parameters`] order.
    adj: Vec<f64>,
}

/// One chunk's job: its rows and how its loss is scaled.
pub(crate) struct LaneChunk<'a> {
    pub(crate) data: &'a Dataset,
    pub(crate) rows: &'a [usize],
    /// The rows of the whole batch: a chunk's loss is its share of the
    /// batch's mean.
    pub(crate) batch_rows: usize,
    pub(crate) loss: Loss,
    /// The L2 strength, for the chunk that adds the L2 term (0: none).
    pub(crate) alpha: f64,
}

/// `x ** 2` as `PowF`'s forward rule computes it.
#[inline]
fn square(x: f64) -> f64 {
    x * x
}

impl Lanes {
    /// Whether the lane program can run `model`: its parameters are one run
    /// of consecutive nodes, so that they are one slice of the graph's data
    /// (and the scalar graph takes its dot nodes over runs, whose sums the
    /// program repeats).
    pub(crate) fn supports(model: &Mlp) -> bool {
        let p = model.parameters();
        !p.is_empty() && p.windows(2).all(|w| w[1].index() == w[0].index() + 1)
    }

    /// Forward, loss and backward for one chunk, on `graph`'s current
    /// parameters: returns the chunk's loss (its share of the batch's mean,
    /// plus the L2 term if `alpha` is not 0) and how many rows it
    /// classified correctly, and adds the gradients to the parameters'
    /// gradient slots of `graph`, as `backward_skip_zeros` on the scalar
    /// graph would (not when the loss is not finite, as the trainer).
    ///
    /// # Panics
    /// If a cross-entropy label is not below the number of outputs, or the
    /// parameters are not in `graph`. The caller checks
    /// [`Lanes::supports`] (once: a trainer's model does not change).
    // Out of line: inlined into the trainer's loop, its kernels were
    // compiled 4-5 % slower (W1, W3).
    #[inline(never)]
    pub(crate) fn chunk(
        &mut self,
        model: &Mlp,
        graph: &mut Graph,
        job: &LaneChunk<'_>,
    ) -> (f64, usize) {
        debug_assert!(Self::supports(model), "the parameters are not one run");
        let params = model.parameters();
        let p0 = params[0].index();
        let (data, grad) = graph.data_and_grad_mut();
        let p = &data[p0..p0 + params.len()];
        let layers = model.layers();
        let m = job.rows.len();

        // Forward, layer by layer over all rows.
        self.acts.resize_with(layers.len() + 1, Vec::new);
        let x = &mut self.acts[0];
        x.clear();
        for &i in job.rows {
            x.extend_from_slice(job.data.x(i));
        }
        let mut off = 0;
        for (l, layer) in layers.iter().enumerate() {
            let (nin, nout, act) = (layer.nin(), layer.nout(), layer.activation());
            let (ins, outs) = self.acts.split_at_mut(l + 1);
            let (x, y) = (&ins[l], &mut outs[0]);
            y.clear();
            let w = &p[off..off + (nin + 1) * nout];
            for xr in x.chunks_exact(nin) {
                for wk in w.chunks_exact(nin + 1) {
                    // A dot node over runs with its bias, then the activation.
                    let pre = dot_kernel(&wk[..nin], xr) + wk[nin];
                    y.push(act.apply_f64(pre));
                }
            }
            off += (nin + 1) * nout;
        }

        // The loss: the outputs' adjoints, and the value.
        let nout = model.nout();
        let out = &self.acts[layers.len()];
        let chunked = m != job.batch_rows;
        let frac = m as f64 / job.batch_rows as f64;
        let inv_n = 1.0 / m.max(1) as f64;
        // The adjoint that the loss's sum node passes to every row's term.
        let g = (if chunked { 1.0 * frac } else { 1.0 }) * inv_n;
        self.terms.clear();
        self.d_out.clear();
        self.d_out.resize(m * nout, -0.0);
        let mut correct = 0;
        for (r, (o, d)) in out
            .chunks_exact(nout)
            .zip(self.d_out.chunks_exact_mut(nout))
            .enumerate()
        {
            let label = job.data.label(job.rows[r]);
            correct += usize::from(job.loss.predict(o) == label);
            self.terms.push(loss_row(job.loss, o, label, g, d));
        }
        let total: f64 = if m == 0 {
            0.0
        } else {
            self.terms.iter().copied().sum()
        };
        let mut value = total * inv_n;
        if chunked {
            value *= frac;
        }
        if job.alpha != 0.0 {
            value += (dot_kernel(p, p) + 0.0) * job.alpha;
        }
        if !value.is_finite() {
            return (value, correct);
        }

        // Backward: the L2 term's node comes last in the graph, so its two
        // contributions (`w` and `x` of `dot(p, p)`) come first.
        self.adj.clear();
        self.adj.resize(p.len(), -0.0);
        if job.alpha != 0.0 {
            let g2 = 1.0 * job.alpha;
            for (a, &v) in self.adj.iter_mut().zip(p) {
                *a += g2 * v;
                *a += g2 * v;
            }
        }
        for (l, layer) in layers.iter().enumerate().rev() {
            let (nin, nout, act) = (layer.nin(), layer.nout(), layer.activation());
            off -= (nin + 1) * nout;
            let w = &p[off..off + (nin + 1) * nout];
            let adj = &mut self.adj[off..off + (nin + 1) * nout];
            let (x, y) = (&self.acts[l], &self.acts[l + 1]);
            let inputs_wanted = l > 0;
            self.d_in.clear();
            if inputs_wanted {
                self.d_in.resize(m * nin, -0.0);
            }
            for r in (0..m).rev() {
                let xr = &x[r * nin..(r + 1) * nin];
                for k in (0..nout).rev() {
                    let a = self.d_out[r * nout + k];
                    if a == 0.0 {
                        continue;
                    }
                    let gk = pre_adjoint(act, a, y[r * nout + k]);
                    if gk == 0.0 {
                        continue;
                    }
                    let base = k * (nin + 1);
                    axpy(&mut adj[base..base + nin], gk, xr);
                    if inputs_wanted {
                        axpy(
                            &mut self.d_in[r * nin..(r + 1) * nin],
                            gk,
                            &w[base..base + nin],
                        );
                    }
                    adj[base + nin] += gk;
                }
            }
            std::mem::swap(&mut self.d_out, &mut self.d_in);
        }

        // Written back by id, as the reverse sweep adds to `grad`.
        for (gr, &a) in grad[p0..p0 + params.len()].iter_mut().zip(&self.adj) {
            if a != 0.0 {
                *gr += a;
            }
        }
        (value, correct)
    }
}

/// The adjoint an activation node with adjoint `a` and value `y` passes to
/// its dot node (`engine::rules::chain`'s arms).
#[inline]
fn pre_adjoint(act: Activation, a: f64, y: f64) -> f64 {
    match act {
        Activation::Linear => a,
        Activation::Relu => {
            if y > 0.0 {
                a
            } else {
                0.0
            }
        }
        Activation::Tanh => a * (1.0 - y * y),
        Activation::Sigmoid => a * (1.0 - y) * y,
    }
}

/// `dst_i += g * src_i`, the dot node's backward step over a run.
#[inline]
fn axpy(dst: &mut [f64], g: f64, src: &[f64]) {
    for (d, v) in dst.iter_mut().zip(src) {
        *d += g * v;
    }
}

/// One row's term of the loss's sum, from its outputs `o`, and the
/// outputs' adjoints in `d` (left at `-0.0` where the graph passes
/// nothing), given `g`, the adjoint of the term. The node-by-node rules of
/// `Loss::compute_ids`' graph, in the reverse sweep's order.
fn loss_row(loss: Loss, o: &[f64], label: usize, g: f64, d: &mut [f64]) -> f64 {
    let pm = if label == 1 { 1.0 } else { -1.0 };
    match loss {
        // relu(1 - y s): Mul(y, s), Sub(1, mul), Relu.
        Loss::Hinge => {
            let t = 1.0 - pm * o[0];
            let term = crate::engine::relu(t);
            if term > 0.0 {
                // The relu passes g to the sub, which passes -g to the mul.
                d[0] = -g * pm;
            }
            term
        }
        // (s - t)²: Sub(s, t), PowF(sub, 2).
        Loss::Mse => {
            let diff = o[0] - pm;
            let gs = g * (2.0 * diff);
            if gs != 0.0 {
                d[0] = gs;
            }
            square(diff)
        }
        // max(z, 0) - z y + ln(1 + e^-|z|), by the sign of z.
        Loss::Bce => {
            let z = o[0];
            let y = if label == 1 { 1.0 } else { 0.0 };
            let mut dz = -0.0;
            let term = if z >= 0.0 {
                // Mul(z, 1 - y), Neg, Exp, Add(exp, 1), Ln, Add(mul, ln).
                let c = 1.0 - y;
                let e = (-z).exp();
                let a1 = e + 1.0;
                let ga1 = g / a1;
                if ga1 != 0.0 {
                    let gneg = ga1 * e;
                    if gneg != 0.0 {
                        dz += -gneg;
                    }
                }
                dz += g * c;
                z * c + a1.ln()
            } else {
                // Mul(z, -y), Exp, Add(exp, 1), Ln, Add(mul, ln).
                let c = -y;
                let e = z.exp();
                let a1 = e + 1.0;
                let ga1 = g / a1;
                if ga1 != 0.0 {
                    dz += ga1 * e;
                }
                dz += g * c;
                z * c + a1.ln()
            };
            if dz != 0.0 {
                d[0] = dz;
            }
            term
        }
        // ln Σ_j e^(o_j - m) - (o_label - m), the sum as a chain of adds.
        Loss::CrossEntropy => {
            let classes = o.len();
            assert!(label < classes, "label {label} is not below {classes}");
            let m = o.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut s = (o[0] - m).exp();
            for &oj in &o[1..] {
                s += (oj - m).exp();
            }
            let dl = o[label] - m;
            // Sub(ln, d_label) gives -g to d_label first; the ln gives
            // g / s down the chain of adds to every exp.
            let gs = g / s;
            for j in (0..classes).rev() {
                let dj = o[j] - m;
                let mut a = if j == label { -0.0 + -g } else { -0.0 };
                if gs != 0.0 {
                    a += gs * dj.exp();
                }
                if a != 0.0 {
                    d[j] = a;
                }
            }
            s.ln() - dl
        }
    }
}
