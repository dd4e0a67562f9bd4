//! How the program writes counts, measured numbers and tables for people.
//! Exact numbers are [`backprop::format::exact`]'s, and numbers in JSON
//! follow [`backprop::format::JsonNumber`]'s rule.

use std::io::{self, Write};

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

/// A fraction as a percentage with one decimal: 0.9 is `90.0%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// Writes rows as left-aligned columns separated by two spaces, without
/// trailing spaces (the first row is usually the header).
pub fn table<R: AsRef<[String]>>(out: &mut impl Write, rows: &[R]) -> io::Result<()> {
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
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.as_ref().iter().zip(&width).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
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

    #[test]
    fn tables_align_columns_by_characters() {
        let mut buf = Vec::new();
        let rows = [
            vec!["name".to_string(), "dy/dx".into()],
            vec!["x²".to_string(), "2".into()],
        ];
        table(&mut buf, &rows).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "name  dy/dx\nx²    2\n");
    }
}
