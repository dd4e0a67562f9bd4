//! The lane program of a microgpt training step: [`Gpt::loss`]'s scalar
//! graph and its backward pass, computed from plain buffers with the
//! document's positions as lanes (see "How values live in the graph",
//! item 4, in the engine's module docs).
//!
//! A [`GptTrainer`](super::GptTrainer) step on the scalar graph builds
//! about 8,000 nodes for a name of six letters and sweeps them back; most
//! of that time is bookkeeping per node. The program computes the same
//! numbers layer by layer over all positions at once, the way a tensor
//! library runs microgpt with a causal mask:
//!
//! - **Layout.** Every activation is a row-major `[positions, width]`
//!   buffer (one row per position), so a weight row's product with a
//!   position is one contiguous [`dot_kernel`] (the sum the graph's dot nodes
//!   over runs compute) and its backward steps are contiguous `axpy`s.
//!   Attention weights are one causal triangle per head. The parameters are one run of consecutive nodes (as
//!   [`Gpt`] always makes them): they are read as one slice of the graph's
//!   data and their gradients added to one slice of its gradients.
//! - **The same formulas.** Every node's forward and chain rule is the
//!   graph's (`engine::rules`): `x / c` by division, `(ms + eps) ** -0.5`
//!   by `powf`, the softmax's `e / Σe` with PyTorch's quotient rule, a relu
//!   that is off passing nothing on, and, as in
//!   [`Value::backward_skip_zeros`](crate::Value::backward_skip_zeros) (what
//!   the trainer runs on the graph), a node whose adjoint is `±0` passing
//!   nothing on (so with finite numbers the gradients are `backward()`'s
//!   too; where a weight is infinite or NaN, `0 · ∞` terms are skipped
//!   instead of making NaN). Forward sums are summed in the graph's
//!   order (so the loss matches the scalar graph's to the last bit or
//!   nearly); adjoints that several nodes feed are summed in a different
//!   order than the reverse sweep's, so gradients agree with the scalar
//!   graph's to rounding (the tests hold them to 1e-12 of the largest gradient).
//! - **Scope.** [`GptTrainer`](super::GptTrainer) runs it for
//!   [`Formulation::Fused`](super::Formulation::Fused) models and builds
//!   the scalar graph for [`Formulation::Plain`](super::Formulation::Plain),
//!   the reference; [`Gpt::loss_and_grad`] runs it for either (the two
//!   graphs differ only in rounding).

use super::{Gpt, Matrix};
use crate::engine::{dot_kernel_inlined as dot_kernel, relu};

/// `dst_i += g * src_i`.
#[inline(always)]
fn axpy(dst: &mut [f64], g: f64, src: &[f64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += g * s;
    }
}

/// The activations of one transformer layer over all positions.
#[derive(Default)]
struct Layer {
    /// The residual stream coming in, `[n, e]`.
    x_in: Vec<f64>,
    /// The attention rmsnorm: `ms + eps` and its `** -0.5` per position.
    s1: Vec<f64>,
    r1: Vec<f64>,
    /// `rmsnorm(x_in)`, `[n, e]`.
    xn1: Vec<f64>,
    q: Vec<f64>,
    k: Vec<f64>,
    v: Vec<f64>,
    /// `exp(logit - max)` and the softmax's weights: per head, the causal
    /// triangle, row `p` (positions `0..=p`) at [`triangle`]`(p)`.
    ex: Vec<f64>,
    att: Vec<f64>,
    /// `Σ_t exp`, `[heads, n]`.
    tot: Vec<f64>,
    /// The heads' weighted sums of values, concatenated, `[n, e]`.
    heads: Vec<f64>,
    /// `x_in + attn_wo · heads`, `[n, e]`.
    x_mid: Vec<f64>,
    s2: Vec<f64>,
    r2: Vec<f64>,
    xn2: Vec<f64>,
    /// `relu(mlp_fc1 · xn2)`, `[n, 4e]` (the pre-activations are not
    /// needed: a relu's derivative reads its output).
    hid: Vec<f64>,
}

/// The buffers of the program, reused from step to step.
#[derive(Default)]
pub(crate) struct Program {
    /// `wte[token] + wpe[pos]`, `[n, e]`, and its rmsnorm's `ms + eps`
    /// and scale.
    emb: Vec<f64>,
    s0: Vec<f64>,
    r0: Vec<f64>,
    layers: Vec<Layer>,
    /// The last layer's output, `[n, e]`.
    x_out: Vec<f64>,
    /// `exp(logit - max)` of the head's logits, `[n, vocab]`, and their
    /// sums, `[n]`.
    ex: Vec<f64>,
    tot: Vec<f64>,
    /// Adjoints, `[n, e]` and `[n, 4e]`: of the residual stream, of a
    /// normed input, of q, k, v, of the heads, of a layer's hidden units.
    dx: Vec<f64>,
    dxn: Vec<f64>,
    dq: Vec<f64>,
    dk: Vec<f64>,
    dv: Vec<f64>,
    dheads: Vec<f64>,
    dhid: Vec<f64>,
    /// Scratch of one softmax row's adjoints, `[n]`.
    drow: Vec<f64>,
    /// The logits in the forward pass, then their adjoints in the backward
    /// pass (one buffer: once their exps are kept, the logits are not
    /// needed), `[n, vocab]`.
    logits: Vec<f64>,
}

/// `y[p] = W · x[p]` for every position: `w` is `[rows, cols]`, `x`
/// `[n, cols]`, `y` `[n, rows]`; each entry is the graph's `linear_runs`
/// node, `dot_kernel(w_r, x_p) + 0`.
#[inline(always)]
fn linear(w: &[f64], m: Matrix, x: &[f64], y: &mut Vec<f64>, n: usize) {
    y.clear();
    for xp in x.chunks_exact(m.cols).take(n) {
        y.extend(w.chunks_exact(m.cols).map(|wr| dot_kernel(wr, xp) + 0.0));
    }
}

/// The chain rule of [`linear`]: `dw_r += dy_pr x_p` and `dx_p += dy_pr w_r`
/// for every position and row (skipping zero adjoints, as the sweep does).
#[inline(always)]
fn linear_back(w: &[f64], dw: &mut [f64], m: Matrix, x: &[f64], dy: &[f64], dx: &mut [f64]) {
    for ((xp, dyp), dxp) in x
        .chunks_exact(m.cols)
        .zip(dy.chunks_exact(m.rows))
        .zip(dx.chunks_exact_mut(m.cols))
    {
        for ((wr, dwr), &g) in w
            .chunks_exact(m.cols)
            .zip(dw.chunks_exact_mut(m.cols))
            .zip(dyp)
        {
            if g != 0.0 {
                axpy(dwr, g, xp);
                axpy(dxp, g, wr);
            }
        }
    }
}

/// `x * (Σx² / e + eps) ** -0.5` per position: fills `s` (`ms + eps`),
/// `r` (its `** -0.5`) and `xn`.
#[inline(always)]
fn rmsnorm(x: &[f64], e: usize, s: &mut Vec<f64>, r: &mut Vec<f64>, xn: &mut Vec<f64>) {
    s.clear();
    r.clear();
    xn.clear();
    for xp in x.chunks_exact(e) {
        let sp = dot_kernel(xp, xp) / e as f64 + EPS;
        let rp = sp.powf(-0.5);
        s.push(sp);
        r.push(rp);
        xn.extend(xp.iter().map(|&v| v * rp));
    }
}

/// The chain rule of [`rmsnorm`]: adds `d xn / d x` times `dxn` to `dx`.
#[inline(always)]
fn rmsnorm_back(x: &[f64], e: usize, s: &[f64], r: &[f64], dxn: &[f64], dx: &mut [f64]) {
    for ((((xp, &sp), &rp), dxnp), dxp) in x
        .chunks_exact(e)
        .zip(s)
        .zip(r)
        .zip(dxn.chunks_exact(e))
        .zip(dx.chunks_exact_mut(e))
    {
        // xn_i = x_i * r
        let mut dr = 0.0;
        for ((d, &g), &xi) in dxp.iter_mut().zip(dxnp).zip(xp) {
            if g != 0.0 {
                *d += g * rp;
                dr += g * xi;
            }
        }
        if dr == 0.0 {
            continue;
        }
        // r = s ** -0.5, s = ms + eps, ms = dot / e, dot = Σ x_i x_i
        let ds = dr * (-0.5 * sp.powf(-1.5));
        let ddot = ds / e as f64;
        if ddot != 0.0 {
            axpy(dxp, ddot, xp);
            axpy(dxp, ddot, xp);
        }
    }
}

/// The rmsnorm's epsilon (the model's `eps` constant).
const EPS: f64 = 1e-5;

/// `n (n + 1) / 2`: where row `n` of a causal triangle starts (and the
/// size of one of `n` rows).
#[inline(always)]
fn triangle(n: usize) -> usize {
    n * (n + 1) / 2
}

/// Where matrix `m`'s entries are among the parameters.
fn span(m: Matrix) -> std::ops::Range<usize> {
    m.offset..m.offset + m.rows * m.cols
}

/// `buf` as `len` zeros.
fn zeros(buf: &mut Vec<f64>, len: usize) {
    buf.clear();
    buf.resize(len, 0.0);
}

impl Program {
    /// One step's loss and gradients: [`Gpt::loss`] of `tokens` with the
    /// parameters in `data` (the model's parameters, in order), its
    /// gradients added to `grad` (the same indices).
    ///
    /// # Panics
    /// If `tokens` is not a document of the model (as [`Gpt::loss`]).
    pub(crate) fn loss_and_grad(
        &mut self,
        model: &Gpt,
        data: &[f64],
        grad: &mut [f64],
        tokens: &[usize],
    ) -> f64 {
        let c = model.config;
        let n = tokens.len().saturating_sub(1);
        assert!(
            (1..=c.block_size).contains(&n),
            "a document needs 2 to block_size + 1 = {} tokens, got {}",
            c.block_size + 1,
            tokens.len()
        );
        if let Some((pos, t)) = tokens.iter().enumerate().find(|(_, t)| **t >= c.vocab_size) {
            panic!(
                "token {t} at position {pos} is outside the model's vocabulary ({})",
                c.vocab_size
            );
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: this CPU has AVX2, checked just above.
            return unsafe { self.run_avx2(model, data, grad, tokens, n) };
        }
        self.run(model, data, grad, tokens, n)
    }

    /// [`Program::run`] compiled for AVX2 (4 lanes of `f64` instead of
    /// SSE2's 2), chosen at run time. The same operations in the same
    /// order, each rounded as IEEE 754 says (Rust never fuses a multiply
    /// and an add by itself), so the same numbers to the last bit.
    ///
    /// (A function of its own, not a shared helper taking a closure: LLVM
    /// does not inline a closure this large into the AVX2 function, and the
    /// step then ran the baseline code, 0.024 ms instead of 0.020.)
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(
        &mut self,
        model: &Gpt,
        data: &[f64],
        grad: &mut [f64],
        tokens: &[usize],
        n: usize,
    ) -> f64 {
        self.run(model, data, grad, tokens, n)
    }

    /// Forward, then backward (every helper is inlined here, so that it is
    /// compiled for the caller's instruction set).
    #[inline(always)]
    fn run(
        &mut self,
        model: &Gpt,
        data: &[f64],
        grad: &mut [f64],
        tokens: &[usize],
        n: usize,
    ) -> f64 {
        let loss = self.forward(model, data, tokens, n);
        self.backward(model, data, grad, tokens, n);
        loss
    }

    #[inline(always)]
    fn forward(&mut self, model: &Gpt, data: &[f64], tokens: &[usize], n: usize) -> f64 {
        let c = model.config;
        let (e, nh, hd) = (c.n_embd, c.n_head, c.head_dim());
        let scale = (hd as f64).sqrt();
        let w = |m: Matrix| &data[m.offset..m.offset + m.rows * m.cols];
        let (wte, wpe) = (w(model.wte), w(model.wpe));
        self.emb.clear();
        for (p, &t) in tokens[..n].iter().enumerate() {
            let (a, b) = (&wte[t * e..(t + 1) * e], &wpe[p * e..(p + 1) * e]);
            self.emb.extend(a.iter().zip(b).map(|(x, y)| x + y));
        }
        self.layers.resize_with(c.n_layer, Layer::default);
        let mut x = std::mem::take(&mut self.x_out);
        rmsnorm(&self.emb, e, &mut self.s0, &mut self.r0, &mut x);
        for (lb, [wq, wk, wv, wo, fc1, fc2]) in self.layers.iter_mut().zip(&model.layers) {
            lb.x_in.clear();
            lb.x_in.extend_from_slice(&x);
            rmsnorm(&lb.x_in, e, &mut lb.s1, &mut lb.r1, &mut lb.xn1);
            linear(w(*wq), *wq, &lb.xn1, &mut lb.q, n);
            linear(w(*wk), *wk, &lb.xn1, &mut lb.k, n);
            linear(w(*wv), *wv, &lb.xn1, &mut lb.v, n);
            zeros(&mut lb.ex, nh * triangle(n));
            zeros(&mut lb.att, nh * triangle(n));
            zeros(&mut lb.tot, nh * n);
            zeros(&mut lb.heads, n * e);
            for p in 0..n {
                let qp = &lb.q[p * e..(p + 1) * e];
                for h in 0..nh {
                    let hs = h * hd;
                    let row = h * triangle(n) + triangle(p);
                    let ex = &mut lb.ex[row..row + p + 1];
                    for (t, l) in ex.iter_mut().enumerate() {
                        let kt = &lb.k[t * e + hs..t * e + hs + hd];
                        *l = dot_kernel(&qp[hs..hs + hd], kt) / scale;
                    }
                    let max = ex.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    for l in ex.iter_mut() {
                        *l = (*l - max).exp();
                    }
                    let tot: f64 = ex.iter().sum();
                    lb.tot[h * n + p] = tot;
                    let att = &mut lb.att[row..row + p + 1];
                    for (a, &x) in att.iter_mut().zip(ex.iter()) {
                        *a = x / tot;
                    }
                    // heads_pj = Σ_t att_t v_tj, summed in order as the
                    // graph's dot node over non-runs does.
                    for j in hs..hs + hd {
                        let mut s = 0.0;
                        for (t, &a) in att.iter().enumerate() {
                            s += a * lb.v[t * e + j];
                        }
                        lb.heads[p * e + j] = s;
                    }
                }
            }
            linear(w(*wo), *wo, &lb.heads, &mut lb.x_mid, n);
            for (y, r) in lb.x_mid.iter_mut().zip(&lb.x_in) {
                *y += r;
            }
            rmsnorm(&lb.x_mid, e, &mut lb.s2, &mut lb.r2, &mut lb.xn2);
            linear(w(*fc1), *fc1, &lb.xn2, &mut lb.hid, n);
            for v in &mut lb.hid {
                *v = relu(*v);
            }
            linear(w(*fc2), *fc2, &lb.hid, &mut x, n);
            for (y, r) in x.iter_mut().zip(&lb.x_mid) {
                *y += r;
            }
        }
        self.x_out = x;
        // The logits and each position's -ln softmax(logits)[next].
        let v = c.vocab_size;
        linear(
            w(model.lm_head),
            model.lm_head,
            &self.x_out,
            &mut self.logits,
            n,
        );
        self.ex.clear();
        self.tot.clear();
        let mut losses = 0.0;
        for (p, lp) in self.logits.chunks_exact(v).enumerate() {
            let max = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let start = self.ex.len();
            self.ex.extend(lp.iter().map(|&l| (l - max).exp()));
            let tot: f64 = self.ex[start..].iter().sum();
            self.tot.push(tot);
            let loss_p = -(self.ex[start + tokens[p + 1]] / tot).ln();
            losses += loss_p;
        }
        (1.0 / n as f64) * losses
    }

    #[inline(always)]
    fn backward(
        &mut self,
        model: &Gpt,
        data: &[f64],
        grad: &mut [f64],
        tokens: &[usize],
        n: usize,
    ) {
        let c = model.config;
        let (e, nh, hd, v) = (c.n_embd, c.n_head, c.head_dim(), c.vocab_size);
        let scale = (hd as f64).sqrt();
        let w = |m: Matrix| &data[m.offset..m.offset + m.rows * m.cols];
        // loss = (1/n) Σ_p -ln(ex_y / tot)
        let dl = 1.0 / n as f64;
        let dlogits = &mut self.logits;
        zeros(dlogits, n * v);
        for p in 0..n {
            let (ex, tot) = (&self.ex[p * v..(p + 1) * v], self.tot[p]);
            let y = tokens[p + 1];
            let ratio = ex[y] / tot;
            let dratio = -dl / ratio;
            let dtot = -dratio * ((ex[y] / tot) / tot);
            let d = &mut dlogits[p * v..(p + 1) * v];
            d[y] += dratio / tot;
            for (di, &xi) in d.iter_mut().zip(ex) {
                // ex_i's adjoint: from the sum (and the ratio, for y).
                let dex = *di + dtot;
                *di = if dex != 0.0 { dex * xi } else { 0.0 };
            }
        }
        zeros(&mut self.dx, n * e);
        let r = span(model.lm_head);
        linear_back(
            w(model.lm_head),
            &mut grad[r],
            model.lm_head,
            &self.x_out,
            dlogits,
            &mut self.dx,
        );
        for (lb, [wq, wk, wv, wo, fc1, fc2]) in self.layers.iter().zip(&model.layers).rev() {
            // x_out = x_mid + fc2 · relu(fc1 · xn2): dx reaches x_mid as is.
            zeros(&mut self.dhid, n * fc2.cols);
            let r = span(*fc2);
            linear_back(
                w(*fc2),
                &mut grad[r],
                *fc2,
                &lb.hid,
                &self.dx,
                &mut self.dhid,
            );
            for (d, &h) in self.dhid.iter_mut().zip(&lb.hid) {
                // The graph's rule: the gradient passes where the output
                // is above 0 (so not where it is NaN).
                let on = h > 0.0;
                if !on {
                    *d = 0.0;
                }
            }
            zeros(&mut self.dxn, n * e);
            let r = span(*fc1);
            linear_back(
                w(*fc1),
                &mut grad[r],
                *fc1,
                &lb.xn2,
                &self.dhid,
                &mut self.dxn,
            );
            rmsnorm_back(&lb.x_mid, e, &lb.s2, &lb.r2, &self.dxn, &mut self.dx);
            // x_mid = x_in + wo · heads
            zeros(&mut self.dheads, n * e);
            let r = span(*wo);
            linear_back(
                w(*wo),
                &mut grad[r],
                *wo,
                &lb.heads,
                &self.dx,
                &mut self.dheads,
            );
            zeros(&mut self.dq, n * e);
            zeros(&mut self.dk, n * e);
            zeros(&mut self.dv, n * e);
            for p in 0..n {
                for h in 0..nh {
                    let hs = h * hd;
                    let row = h * triangle(n) + triangle(p);
                    let (ex, att) = (&lb.ex[row..row + p + 1], &lb.att[row..row + p + 1]);
                    let tot = lb.tot[h * n + p];
                    let dh = &self.dheads[p * e + hs..p * e + hs + hd];
                    // heads_pj = Σ_t att_t v_tj
                    self.drow.clear();
                    for (t, &a) in att.iter().enumerate() {
                        let vt = &lb.v[t * e + hs..t * e + hs + hd];
                        let dvt = &mut self.dv[t * e + hs..t * e + hs + hd];
                        let mut da = 0.0;
                        for ((&g, &vj), dvj) in dh.iter().zip(vt).zip(dvt) {
                            if g != 0.0 {
                                da += g * vj;
                                *dvj += a * g;
                            }
                        }
                        self.drow.push(da);
                    }
                    // att_t = ex_t / tot, tot = Σ ex_t, ex_t = exp(l_t - max)
                    let mut dtot = 0.0;
                    for (&da, &x) in self.drow.iter().zip(ex) {
                        if da != 0.0 {
                            dtot += -da * ((x / tot) / tot);
                        }
                    }
                    let qp = &lb.q[p * e + hs..p * e + hs + hd];
                    for (t, (&da, &x)) in self.drow.iter().zip(ex).enumerate() {
                        let from_att = if da != 0.0 { da / tot } else { 0.0 };
                        let dex = from_att + dtot;
                        if dex == 0.0 {
                            continue;
                        }
                        // l_t = (q_p · k_t) / scale
                        let ddot = dex * x / scale;
                        if ddot != 0.0 {
                            let kt = &lb.k[t * e + hs..t * e + hs + hd];
                            axpy(&mut self.dq[p * e + hs..p * e + hs + hd], ddot, kt);
                            axpy(&mut self.dk[t * e + hs..t * e + hs + hd], ddot, qp);
                        }
                    }
                }
            }
            zeros(&mut self.dxn, n * e);
            for (m, d) in [(wq, &self.dq), (wk, &self.dk), (wv, &self.dv)] {
                let r = span(*m);
                linear_back(w(*m), &mut grad[r], *m, &lb.xn1, d, &mut self.dxn);
            }
            rmsnorm_back(&lb.x_in, e, &lb.s1, &lb.r1, &self.dxn, &mut self.dx);
        }
        // x0 = rmsnorm(wte[token] + wpe[pos])
        zeros(&mut self.dxn, n * e);
        rmsnorm_back(&self.emb, e, &self.s0, &self.r0, &self.dx, &mut self.dxn);
        for (p, &t) in tokens[..n].iter().enumerate() {
            let d = &self.dxn[p * e..(p + 1) * e];
            let o = model.wte.offset + t * e;
            axpy(&mut grad[o..o + e], 1.0, d);
            let o = model.wpe.offset + p * e;
            axpy(&mut grad[o..o + e], 1.0, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Graph;
    use crate::nn::gpt::{GptConfig, Tokenizer};

    /// The AVX2 build of the program and the baseline one give the same
    /// loss and gradients to the last bit (the claim that lets the CPU
    /// choose).
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_and_baseline_agree_to_the_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("this CPU has no AVX2: nothing to compare");
            return;
        }
        let tok = Tokenizer::from_documents(&["emma", "olivia", "sophiaelizabeth"]);
        for (n_layer, n_embd, n_head) in [(1, 16, 4), (2, 12, 3), (1, 5, 1)] {
            let config = GptConfig {
                n_layer,
                n_embd,
                n_head,
                block_size: 10,
                vocab_size: tok.vocab_size(),
            };
            let g = Graph::new();
            let model = Gpt::new(&g, config, 3).unwrap();
            let data: Vec<f64> = model
                .parameters()
                .iter()
                .map(|&p| g.get(p).data())
                .collect();
            for doc in ["emma", "olivia", "sophiaelizabeth"] {
                let tokens = tok.document(doc, 10);
                let n = tokens.len() - 1;
                let mut base = vec![0.0; data.len()];
                let mut wide = vec![0.0; data.len()];
                let l0 = Program::default().run(&model, &data, &mut base, &tokens, n);
                // SAFETY: AVX2 was detected above.
                let l1 =
                    unsafe { Program::default().run_avx2(&model, &data, &mut wide, &tokens, n) };
                assert_eq!(l0.to_bits(), l1.to_bits(), "{doc}");
                assert!(
                    base.iter()
                        .zip(&wide)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                );
                assert!(base.iter().any(|&x| x != 0.0));
            }
        }
    }
}
