//! How the program writes counts and measured numbers for people. Exact
//! numbers and tables are [`backprop::format`]'s, and numbers in JSON
//! follow its [`JsonNumber`](backprop::format::JsonNumber) rule.

/// `1 step`, `2 steps`, `3 classes`: a count and its noun, plural when the
/// count is not 1.
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ if noun.ends_with('s') => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// A measured number for people: six decimals for ordinary magnitudes,
/// exponent notation past a million or below a millionth (a diverging
/// loss or `--lr 1e300` would otherwise print hundreds of digits).
pub fn num(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-6..1e6).contains(&v.abs()) {
        format!("{v:.6e}")
    } else {
        format!("{v:.6}")
    }
}

/// `training diverged at step 7: the loss is NaN, up from 0.693147 at the
/// first step`, or at step 0, `the first loss is NaN` (it has nothing to
/// be up from).
pub fn diverged(step: usize, loss: f64, first: f64) -> String {
    if step == 0 {
        format!(
            "training diverged at step 0: the first loss is {}",
            num(loss)
        )
    } else {
        format!(
            "training diverged at step {step}: the loss is {}, up from {} at the first step",
            num(loss),
            num(first)
        )
    }
}

/// A fraction as a percentage with one decimal: 0.9 is `90.0%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(count(1, "step"), "1 step");
        assert_eq!(count(0, "step"), "0 steps");
        assert_eq!(count(3, "class"), "3 classes");
    }
}
