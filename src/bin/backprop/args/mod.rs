//! Arguments shared by the subcommands: the number validators every
//! option uses, `--point`, the dataset options ([`data`]) and the program
//! and model options ([`program`]). The same checks give the same words
//! in every command.

pub mod data;
pub mod program;

use std::path::{Path, PathBuf};

use anyhow::Context;
use backprop::plot::ImageFormat;

use crate::Usage;

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
    let why = match finite_number(s) {
        Err(why) => format!("it {why}"),
        Ok(x) if !ok(x) => rule.to_string(),
        Ok(x) => return Ok(x),
    };
    Err(format!("expected {expected}, got `{s}`: {why}"))
}

/// A finite number, or why `s` is not one: `is not a number`, `is out of
/// range (...)` for magnitudes past `f64::MAX` (`1e309`), `is not finite`
/// for `nan` and `inf`. Numbers below the smallest subnormal read as 0.
pub fn finite_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    match t.parse::<f64>() {
        Err(_) if t.is_empty() => Err("is missing".into()),
        Err(_) => Err("is not a number".into()),
        Ok(x) if x.is_nan() => Err("is not a finite number (NaN)".into()),
        Ok(x) if x.is_infinite() && t.trim_start_matches(['+', '-']).starts_with(['i', 'I']) => {
            Err("is not a finite number".into())
        }
        Ok(x) if x.is_infinite() => {
            Err("is out of range (f64 numbers go up to about 1.8e308)".into())
        }
        Ok(x) => Ok(x),
    }
}

/// The features of a `--point X1,X2,...` for a model that takes `inputs`
/// of them: every value finite, and as many as the model takes. The same
/// checks and words in every command that takes a point.
pub fn point(p: &str, inputs: usize) -> Result<Vec<f64>, Usage> {
    let x = p
        .split(',')
        .enumerate()
        .map(|(j, cell)| {
            finite_number(cell).map_err(|why| {
                Usage(format!(
                    "--point {p}: value {} `{}` {why}",
                    j + 1,
                    cell.trim()
                ))
            })
        })
        .collect::<Result<Vec<f64>, Usage>>()?;
    if x.len() != inputs {
        let e = backprop::nn::NnError::FeatureCount {
            expected: inputs,
            found: x.len(),
        };
        return Err(Usage(format!("--point {p}: {e}")));
    }
    Ok(x)
}

/// A whole number in `min..=max`.
pub fn whole(s: &str, min: usize, max: usize) -> Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n < min as i128 => Err(format!("must be at least {min}, got `{s}`")),
        Ok(n) if n > max as i128 => Err(format!("must be at most {max}, got `{s}`")),
        Ok(n) => Ok(n as usize),
        Err(_) if s.trim().parse::<u128>().is_ok() => {
            Err(format!("must be at most {max}, got `{s}`"))
        }
        Err(_) => Err(format!(
            "expected a whole number from {min} to {max}, got `{s}`"
        )),
    }
}

/// A positive integer (at most `usize::MAX`).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    whole(s, 1, usize::MAX)
}

/// `--plot FILE` / `--no-plot` of `train` and `gpt`: the plot's path
/// (`default` when none is given), or `None` for no plot; a name that is
/// not `.png` or `.svg` is a usage error.
pub fn plot_path(
    no_plot: bool,
    plot: Option<&Path>,
    default: &str,
) -> Result<Option<PathBuf>, Usage> {
    if no_plot {
        return Ok(None);
    }
    let p = plot.map_or_else(|| PathBuf::from(default), Path::to_path_buf);
    if ImageFormat::from_path(&p).is_none() {
        return Err(Usage(format!(
            "--plot {}: use a .png or .svg file name",
            p.display()
        )));
    }
    Ok(Some(p))
}

/// Fails (exit 1) if the output file `path` cannot be written, naming
/// `what` it is for: checked before any work, so that training is not
/// thrown away for an unwritable file.
pub fn writable(path: &Path, what: &str) -> anyhow::Result<()> {
    backprop::files::check_writable(path)
        .with_context(|| format!("cannot write {what} to {}", path.display()))
}

/// Whether `path` ends in one of `extensions` (without the dot, any case).
pub fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}
