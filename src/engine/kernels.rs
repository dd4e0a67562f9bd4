//! The two inner loops of contiguous [`Op::Dot`](super::Op::Dot) nodes.
//!
//! Each has one portable body, compiled twice: as is, and with AVX enabled
//! for processors that have it (chosen at run time). Rust never fuses a
//! multiply and an add, and every lane does the same operations in the same
//! order, so both versions give the same bits.

/// `Σ a_i b_i` with eight running sums, so that the additions of long dot
/// products overlap instead of waiting on each other (and vectorize).
/// This summation order is part of the contract of contiguous dot nodes:
/// code that evaluates a network without a graph calls this to get the
/// graph's numbers to the last bit.
///
/// ```
/// assert_eq!(backprop::engine::dot_kernel(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
pub fn dot_kernel(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the processor supports AVX, checked just above.
        return unsafe { dot_avx(a, b) };
    }
    dot_body(a, b)
}

/// `dst_i += g * src_i`: a dot node's backward step for one operand run.
#[inline]
pub(super) fn axpy(dst: &mut [f64], g: f64, src: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the processor supports AVX, checked just above.
        return unsafe { axpy_avx(dst, g, src) };
    }
    axpy_body(dst, g, src)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn dot_avx(a: &[f64], b: &[f64]) -> f64 {
    dot_body(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn axpy_avx(dst: &mut [f64], g: f64, src: &[f64]) {
    axpy_body(dst, g, src)
}

#[inline(always)]
fn dot_body(a: &[f64], b: &[f64]) -> f64 {
    const L: usize = 8;
    let n = a.len().min(b.len());
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
}

#[inline(always)]
fn axpy_body(dst: &mut [f64], g: f64, src: &[f64]) {
    for (d, v) in dst.iter_mut().zip(src) {
        *d += g * v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both compiled versions give the same bits as the portable one.
    #[test]
    fn dispatched_kernels_match_the_portable_body() {
        let a: Vec<f64> = (0..67)
            .map(|i| ((i * 37 % 11) as f64 - 5.3) / 7.0)
            .collect();
        let b: Vec<f64> = (0..67)
            .map(|i| ((i * 13 % 17) as f64 - 8.1) / 3.0)
            .collect();
        for n in 0..a.len() {
            assert_eq!(
                dot_kernel(&a[..n], &b[..n]).to_bits(),
                dot_body(&a[..n], &b[..n]).to_bits()
            );
            let (mut d1, mut d2) = (a[..n].to_vec(), a[..n].to_vec());
            axpy(&mut d1, 0.37, &b[..n]);
            axpy_body(&mut d2, 0.37, &b[..n]);
            assert_eq!(d1, d2);
        }
        // The sum is exact for small integers: an independent check.
        let ones = vec![1.0; 21];
        let ks: Vec<f64> = (1..=21).map(f64::from).collect();
        assert_eq!(dot_kernel(&ones, &ks), 231.0);
    }
}
