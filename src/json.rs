//! The project's one rule for numbers in JSON.
//!
//! JSON has no NaN and no infinities, and `serde_json` writes them as
//! `null`, which reads back as "missing". Everything this crate and the
//! `backprop` command write as JSON (`backprop grad --json`, the
//! [`Explanation`](crate::explain::Explanation) JSON, the training
//! summaries) writes them as the strings `"NaN"`, `"inf"` and `"-inf"`
//! instead, the words Python's `float()` and Rust's `str::parse::<f64>`
//! both read back. Finite numbers are written in full (the shortest text
//! that reads back to the same `f64`).
//!
//! ```
//! use backprop::json::Number;
//!
//! let row = [Number(0.5), Number(f64::NAN), Number(f64::NEG_INFINITY)];
//! assert_eq!(serde_json::to_string(&row).unwrap(), r#"[0.5,"NaN","-inf"]"#);
//! ```

use serde::{Serialize, Serializer};

/// An `f64` that serializes by the rule above: itself when finite, else
/// `"NaN"`, `"inf"` or `"-inf"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number(pub f64);

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        number(&self.0, s)
    }
}

/// The rule for an `f64` field: `#[serde(serialize_with =
/// "backprop::json::number")]`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Step {
///     #[serde(serialize_with = "backprop::json::number")]
///     loss: f64,
/// }
/// let json = serde_json::to_string(&Step { loss: f64::INFINITY }).unwrap();
/// assert_eq!(json, r#"{"loss":"inf"}"#);
/// ```
///
/// # Errors
///
/// Only the serializer's own.
pub fn number<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("NaN")
    } else if *x > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

/// `(name, number)` pairs as one JSON object, keys in the pairs' order
/// (a `serde_json` map would sort them), numbers by the rule above: for a
/// field such as `#[serde(serialize_with = "backprop::json::ordered_map")]
/// grads: Vec<(String, f64)>`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Grads {
///     #[serde(serialize_with = "backprop::json::ordered_map")]
///     grads: Vec<(String, f64)>,
/// }
/// let g = Grads { grads: vec![("y".into(), 2.0), ("x".into(), f64::NAN)] };
/// assert_eq!(serde_json::to_string(&g).unwrap(), r#"{"grads":{"y":2.0,"x":"NaN"}}"#);
/// ```
///
/// # Errors
///
/// Only the serializer's own.
pub fn ordered_map<K: Serialize, S: Serializer>(
    pairs: &[(K, f64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        m.serialize_entry(k, &Number(*v))?;
    }
    m.end()
}
