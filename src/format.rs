//! How the crate writes for people and programs: numbers exactly and
//! short in text ([`exact`], in [`table`]s) and by one rule in JSON
//! ([`JsonNumber`]), and user text in messages with its hidden characters
//! escaped ([`escape_char`]).
//!
//! # Numbers in JSON
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
//! use backprop::format::JsonNumber;
//!
//! let row = [JsonNumber(0.5), JsonNumber(f64::NAN), JsonNumber(f64::NEG_INFINITY)];
//! assert_eq!(serde_json::to_string(&row).unwrap(), r#"[0.5,"NaN","-inf"]"#);
//! ```

use serde::{Serialize, Serializer};

/// `x` exactly (the text reads back to the same `f64`) and short: the
/// shortest decimal that does (Rust's `Display`, Python's `repr` without
/// the `.0`: `0.1`, `2`, `-1.5`), in exponent notation below 1e-5 and from
/// 1e16 on (`1e-200`, `2.5e300`, where `Display` would print hundreds of
/// digits); `NaN`, `inf`, `-inf`.
///
/// ```
/// use backprop::format::exact;
///
/// assert_eq!(exact(0.1), "0.1");
/// assert_eq!(exact(2.0), "2");
/// assert_eq!(exact(-1.5e-200), "-1.5e-200");
/// assert_eq!(exact(1e300), "1e300");
/// assert_eq!(exact(f64::NEG_INFINITY), "-inf");
/// assert_eq!(exact(1e-200).parse::<f64>(), Ok(1e-200));
/// ```
pub fn exact(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-5..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Whether messages show `c` escaped: a control character, or one of the
/// invisible bidirectional and zero-width controls (U+061C, U+200B–U+200F,
/// U+202A–U+202E, U+2066–U+2069, U+FEFF), which could hide or reorder the
/// text around them. Text quoted from a user's input (a program, a CSV
/// cell, a file name) goes through [`escape_char`], so it cannot drive
/// the terminal.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// A name as pictures, pages and tables show it (a node's label, a class
/// name, an input's name): every [`is_hidden`] character written as its
/// code point, `U+000A`, so that a newline cannot break a record or a
/// table row and a bidirectional control cannot reorder what follows.
/// Names without such characters are returned unchanged.
///
/// ```
/// use backprop::format::shown_name;
///
/// assert_eq!(shown_name("a\nb"), "aU+000Ab");
/// assert_eq!(shown_name("x\u{202e}y\t"), "xU+202EyU+0009");
/// assert_eq!(shown_name("x\u{7f}\u{61c}"), "xU+007FU+061C");
/// assert_eq!(shown_name("é₂"), "é₂");
/// ```
pub fn shown_name(name: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if is_hidden(c) {
            let _ = write!(out, "U+{:04X}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// `c` as a message shows it: escaped as `\u{1b}` when [`is_hidden`],
/// itself otherwise.
///
/// ```
/// use backprop::format::escape_char;
///
/// assert_eq!(escape_char('\u{1b}'), r"\u{1b}");
/// assert_eq!(escape_char('\u{202e}'), r"\u{202e}");
/// assert_eq!(escape_char('é'), "é");
/// ```
pub fn escape_char(c: char) -> String {
    if is_hidden(c) {
        c.escape_unicode().to_string()
    } else {
        c.to_string()
    }
}

/// `rows` as left-aligned columns separated by two spaces, one line each
/// (ending in `\n`, without trailing spaces), widths counted in
/// characters: the tables `backprop grad` and the gradient checks print.
/// The first row is usually the header.
///
/// ```
/// use backprop::format::table;
///
/// let rows = [["name", "grad"].map(String::from), ["x²", "2"].map(String::from)];
/// assert_eq!(table(&rows), "name  grad\nx²    2\n");
/// ```
pub fn table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let mut width: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            let w = cell.chars().count();
            match width.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => width.push(w),
            }
        }
    }
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.as_ref().iter().zip(&width).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// An `f64` that serializes by the rule above: itself when finite, else
/// `"NaN"`, `"inf"` or `"-inf"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JsonNumber(pub f64);

impl Serialize for JsonNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json_number(&self.0, s)
    }
}

/// The rule for an `f64` field: `#[serde(serialize_with =
/// "backprop::format::json_number")]`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Step {
///     #[serde(serialize_with = "backprop::format::json_number")]
///     loss: f64,
/// }
/// let json = serde_json::to_string(&Step { loss: f64::INFINITY }).unwrap();
/// assert_eq!(json, r#"{"loss":"inf"}"#);
/// ```
///
/// # Errors
///
/// Only the serializer's own.
pub fn json_number<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
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
/// field such as `#[serde(serialize_with = "backprop::format::json_map")]
/// grads: Vec<(String, f64)>`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Grads {
///     #[serde(serialize_with = "backprop::format::json_map")]
///     grads: Vec<(String, f64)>,
/// }
/// let g = Grads { grads: vec![("y".into(), 2.0), ("x".into(), f64::NAN)] };
/// assert_eq!(serde_json::to_string(&g).unwrap(), r#"{"grads":{"y":2.0,"x":"NaN"}}"#);
/// ```
///
/// # Errors
///
/// Only the serializer's own.
pub fn json_map<K: Serialize, S: Serializer>(pairs: &[(K, f64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        m.serialize_entry(k, &JsonNumber(*v))?;
    }
    m.end()
}

/// `n` in subscript digits: `subscript(12)` is `₁₂`.
///
/// ```
/// assert_eq!(backprop::format::subscript(3), "₃");
/// assert_eq!(backprop::format::subscript(10), "₁₀");
/// ```
pub fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|d| char::from_u32('₀' as u32 + d.to_digit(10).unwrap_or(0)).unwrap_or('?'))
        .collect()
}

/// One name per node: names that occur more than once in `names` (in
/// creation order, so in program order) get their version as a
/// subscript, `c₁ c₂ c₃`, as a learner numbers the bindings of a name that
/// a program rebinds (`c += ...`); names that occur once stay as they are,
/// and empty names stay empty.
///
/// A versioned name that collides with another name (a label literally
/// spelt `c₂` next to two bindings of `c`) is made unique by a further
/// `#k`, so the result never repeats a non-empty name.
///
/// ```
/// use backprop::format::versioned;
///
/// let names = ["a", "c", "c", "", "d", "c", ""].map(String::from);
/// assert_eq!(versioned(&names), ["a", "c₁", "c₂", "", "d", "c₃", ""]);
/// ```
pub fn versioned(names: &[String]) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let mut count: HashMap<&str, usize> = HashMap::new();
    for n in names.iter().filter(|n| !n.is_empty()) {
        *count.entry(n).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        if n.is_empty() {
            out.push(String::new());
            continue;
        }
        let mut name = if count[n.as_str()] > 1 {
            let k = seen.entry(n).or_default();
            *k += 1;
            format!("{n}{}", subscript(*k))
        } else {
            n.clone()
        };
        if taken.contains(&name) {
            let base = name.clone();
            let mut k = 2;
            while taken.contains(&name) {
                name = format!("{base}#{k}");
                k += 1;
            }
        }
        taken.insert(name.clone());
        out.push(name);
    }
    out
}

/// [`versioned`], except that the nodes `plain` marks (a program's
/// inputs) keep their name when they are the first of several: `a a₂ a₃`
/// for an input `a` that the program rebinds, so that the input's name
/// means the same node in `--at`, `--leaf`, `grad` and `explain`.
pub(crate) fn versioned_inputs_plain(names: &[String], plain: &[bool]) -> Vec<String> {
    let mut out = versioned(names);
    for (k, name) in out.iter_mut().enumerate() {
        if plain[k] && !names[k].is_empty() && *name == format!("{}₁", names[k]) {
            name.clone_from(&names[k]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of `f64` reads back to the same bits, and no text is
    /// longer than the exponent form needs.
    #[test]
    fn exact_reads_back_to_the_same_bits() {
        let mut bits = 0x9E37_79B9_7F4A_7C15u64;
        let mut values = vec![0.0, -0.0, 1.0, 0.1, 1e-5, 9.999e-6, 1e16, 9.9e15];
        values.extend([f64::MIN_POSITIVE, 5e-324, f64::MAX, f64::EPSILON]);
        for _ in 0..10_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            values.push(f64::from_bits(bits));
        }
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let text = exact(v);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                v.to_bits(),
                "{text}"
            );
            assert!(text.len() <= 24, "{text}");
        }
        assert_eq!(exact(f64::NAN), "NaN");
        assert_eq!(exact(f64::INFINITY), "inf");
    }
}
