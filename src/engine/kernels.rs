//! The two inner loops of contiguous [`Op::Dot`](super::Op::Dot) nodes.
//!
//! They are plain loops over slices that the compiler vectorizes. (A
//! version compiled for AVX and chosen at run time was measured slower on
//! the training workloads, so there is none.)

/// The body of [`dot_kernel`] and of `dot_kernel_inlined`, one text for
/// both. A macro rather than `dot_kernel` calling the inlined one: the
/// compiler then took `dot_kernel` for a small wrapper and inlined it
/// everywhere (W1 1.11x as long, `bench/ab.py`, 20 rounds).
macro_rules! dot {
    ($a:expr, $b:expr) => {{
        let (a, b): (&[f64], &[f64]) = ($a, $b);
        const L: usize = 8;
        assert_eq!(a.len(), b.len(), "dot_kernel: slices of different lengths");
        let n = a.len();
        let (ac, ar) = a[..n].split_at(n / L * L);
        let (bc, br) = b[..n].split_at(ac.len());
        let mut s = [0.0; L];
        for (p, q) in ac.chunks_exact(L).zip(bc.chunks_exact(L)) {
            for k in 0..L {
                s[k] += p[k] * q[k];
            }
        }
        // A fixed pairwise tree, then the tail in order.
        let mut total = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        for (p, q) in ar.iter().zip(br) {
            total += p * q;
        }
        total
    }};
}

/// `Σ a_i b_i` with eight running sums, so that the additions of long dot
/// products overlap instead of waiting on each other (and vectorize).
/// This summation order is part of the contract of contiguous dot nodes:
/// code that evaluates a network without a graph calls this to get the
/// graph's numbers to the last bit.
///
/// ```
/// assert_eq!(backprop::engine::dot_kernel(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
///
/// # Panics
/// If the slices differ in length.
#[inline]
pub fn dot_kernel(a: &[f64], b: &[f64]) -> f64 {
    dot!(a, b)
}

/// [`dot_kernel`], always inlined, for microgpt's lane program: its AVX2
/// function compiles (and vectorizes) only inlined copies that way. Left
/// to the compiler, those calls stayed calls as soon as the graph's forward
/// rule gave `dot_kernel` more call sites (W4 1.07x as long); inlining
/// `dot_kernel` itself everywhere slowed W1 by 1.05-1.10x instead. Both
/// expand one body, so they sum in the same order.
#[inline(always)]
pub(crate) fn dot_kernel_inlined(a: &[f64], b: &[f64]) -> f64 {
    dot!(a, b)
}

/// `dst_i += g * src_i`: a dot node's backward step for one operand run.
#[inline]
pub(super) fn axpy(dst: &mut [f64], g: f64, src: &[f64]) {
    for (d, v) in dst.iter_mut().zip(src) {
        *d += g * v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_closed_form() {
        // Sums of small integers are exact, whatever the order.
        let ks: Vec<f64> = (1..=21).map(f64::from).collect();
        for n in 0..=ks.len() {
            let want = (n * (n + 1) * (2 * n + 1) / 6) as f64; // Σ k²
            assert_eq!(dot_kernel(&ks[..n], &ks[..n]), want);
        }
        let mut d = vec![1.0; 5];
        axpy(&mut d, 2.0, &ks[..5]);
        assert_eq!(d, [3.0, 5.0, 7.0, 9.0, 11.0]);
    }
}
