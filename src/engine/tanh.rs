//! The engine's `tanh`: the forward rule of [`Value::tanh`](super::Value::tanh).
//!
//! The platform's `tanh` (glibc's, behind `f64::tanh`) goes through the
//! older `expm1` and took about 40 % of building W2, a graph in which one
//! node in six is a `tanh`. This one is as accurate with a shorter path:
//!
//! - `|x| < ln(3)/2` (where `tanh` is below 1/2): `x + x³ P(x²)`, `P` of
//!   degree 10, fitted by weighted least squares on 400 Chebyshev nodes at
//!   60 digits (`tests/fixtures/make_tanh.py coefficients`) and evaluated
//!   by Estrin's scheme, a few multiplications deep instead of ten;
//! - above: `1 - 2 / (e^{2|x|} + 1)` with the sign of `x`, from the
//!   platform's `exp` (within about half a unit in the last place). The
//!   subtraction loses nothing: `2 / (e + 1) <= 1/2` there.
//!
//! The error is at most 1.5 units in the last place: against 60-digit
//! values on 10,099 inputs across the whole range
//! (`tests/fixtures/tanh_reference.json`) the largest is 1.49, just above
//! the split, where `2 / (e + 1)` is near 1/2 and `1 -` keeps the errors
//! of `exp`, the sum and the division (0.9 below the split, where the
//! polynomial is used); glibc's `tanh` reaches 1.95 on the same inputs. The
//! two can differ in the last bit or two, as PyTorch's own CPU kernels do
//! (its vectorized `tanh` is SLEEF's, its scalar one the platform's).
//! `-0.0`, tiny and subnormal inputs come back unchanged, `±inf` gives
//! `±1`, NaN stays NaN.

/// `P(z)` for `tanh(x) = x + x³ P(x²)`, lowest degree first.
const P: [f64; 11] = [
    -0.333333333333333,
    0.1333333333332649,
    -0.053968253963708135,
    0.021869488384854724,
    -0.008863232591346793,
    0.0035920919803921762,
    -0.0014555428073134218,
    0.0005884453492910664,
    -0.0002333860856921265,
    8.332595876785633e-05,
    -1.950228638357226e-05,
];

/// `ln(3) / 2`, where `tanh` is 1/2: the polynomial below, `exp` above.
const SPLIT: f64 = 0.549_306_144_334_054_9;

/// The hyperbolic tangent, as the engine computes it (see the module docs
/// for the method and its accuracy). Code that evaluates without a graph
/// uses it to get the same bits as [`Value::tanh`](super::Value::tanh).
///
/// ```
/// use backprop::engine::tanh;
/// assert!((tanh(0.5) - 0.5f64.tanh()).abs() <= 1e-16);
/// assert_eq!(tanh(f64::INFINITY), 1.0);
/// assert!(tanh(-0.0).is_sign_negative());
/// assert!(tanh(f64::NAN).is_nan());
/// ```
#[inline]
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    if a < SPLIT {
        // Estrin's scheme: pairs, then powers of z, so that the latency is
        // a few multiplications deep rather than ten.
        let z = x * x;
        let (z2, z4) = (z * z, (z * z) * (z * z));
        let q = |k: usize| P[k] + P[k + 1] * z;
        let r0 = q(0) + q(2) * z2;
        let r1 = q(4) + q(6) * z2;
        let r2 = q(8) + P[10] * z2;
        let p = (r0 + r1 * z4) + r2 * (z4 * z4);
        // The sign copy keeps -0.0: `-0.0 + (+0.0)` would be +0.0.
        (x + x * z * p).copysign(x)
    } else {
        // NaN lands here too: `exp` keeps it, and so does the sign copy.
        let t = 1.0 - 2.0 / ((2.0 * a).exp() + 1.0);
        t.copysign(x)
    }
}
