//! Number validators for command-line options, shared by the subcommands.

/// A finite number greater than 0.
pub fn positive(s: &str) -> Result<f64, String> {
    number(
        s,
        "a positive number",
        |x| x > 0.0,
        "it must be greater than 0",
    )
}

/// A finite number, 0 or more.
pub fn non_negative(s: &str) -> Result<f64, String> {
    number(
        s,
        "a number of at least 0",
        |x| x >= 0.0,
        "it must be 0 or more",
    )
}

/// `s` as a finite number that passes `ok`; otherwise a message saying
/// what was expected and what is wrong with `s`.
fn number(s: &str, expected: &str, ok: impl Fn(f64) -> bool, rule: &str) -> Result<f64, String> {
    let why = match s.trim().parse::<f64>() {
        Err(_) => "not a number",
        Ok(x) if !x.is_finite() => "it is not finite",
        Ok(x) if !ok(x) => rule,
        Ok(x) => return Ok(x),
    };
    Err(format!("expected {expected}, got `{s}`: {why}"))
}
