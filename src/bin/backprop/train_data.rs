//! Dataset options shared by `backprop train` and `backprop eval`, the
//! argument parsers they use, and the number formats of `train`, `predict`
//! and `eval`.

use anyhow::Context;
use backprop::data::{CsvOptions, DataError, Dataset, DatasetSpec, Header, LabelColumn};
use backprop::nn::Mlp;

use crate::Usage;
pub use crate::args::{non_negative, positive};

/// The most samples a generator makes (`--samples`); CSV files have the
/// same limit.
pub const MAX_SAMPLES: usize = backprop::data::MAX_SAMPLES;

/// `--seed` of `train` when none is given.
pub const TRAIN_SEED: u64 = 1337;

/// `--seed` of `eval` when none is given: other samples than the ones
/// `train` learns from by default.
pub const EVAL_SEED: u64 = TRAIN_SEED + 1;

/// The most classes of spiral and blobs (`--classes`).
pub const MAX_CLASSES: usize = 1_000;

/// The most training steps (`--steps`).
pub const MAX_STEPS: usize = 10_000_000;

/// Which data to use.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// The dataset: moons, circles, spiral, xor, blobs, or csv:PATH.
    #[arg(long, default_value = "moons", value_parser = parse_dataset)]
    pub dataset: DatasetSpec,
    /// Number of samples to generate, at least 2 (and at least one per
    /// class) [default: 100].
    #[arg(long, value_parser = parse_samples, allow_negative_numbers = true)]
    pub samples: Option<usize>,
    /// Noise of the generator (standard deviation) [default: per dataset:
    /// moons 0.1, circles 0.05, spiral 0.1, xor 0.05, blobs 0.5].
    #[arg(long, value_parser = non_negative, allow_negative_numbers = true)]
    pub noise: Option<f64>,
    /// Number of classes of spiral and blobs [default: 3].
    #[arg(long, value_parser = parse_classes, allow_negative_numbers = true)]
    pub classes: Option<usize>,
    /// Seed of the data generator and the network initialisation
    /// [default: 1337].
    #[arg(long, value_parser = parse_seed, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// CSV label column: a 0-based index, a header name, or `last`
    /// [default: last].
    #[arg(long, value_parser = parse_label_column, allow_negative_numbers = true)]
    pub label_column: Option<LabelColumn>,
    /// Whether the CSV's first row is a header: auto, yes, no [default:
    /// auto].
    #[arg(long, value_parser = parse_header)]
    pub header: Option<Header>,
}

impl DataArgs {
    /// Options that do not apply to the chosen dataset, or do not fit
    /// together: a usage error rather than silently ignored.
    pub fn check(&self) -> Result<(), Usage> {
        let spec = &self.dataset;
        let name = spec.name();
        if let DatasetSpec::Csv(_) = spec {
            for (given, option) in [
                (self.samples.is_some(), "--samples"),
                (self.noise.is_some(), "--noise"),
                (self.classes.is_some(), "--classes"),
            ] {
                if given {
                    return Err(Usage(format!(
                        "{option} is for generated datasets, not csv:PATH (a CSV file has its own rows and labels)"
                    )));
                }
            }
            return Ok(());
        }
        for (given, option) in [
            (self.label_column.is_some(), "--label-column"),
            (self.header.is_some(), "--header"),
        ] {
            if given {
                return Err(Usage(format!(
                    "{option} is for csv:PATH datasets, not {name}"
                )));
            }
        }
        let multi_class = matches!(spec, DatasetSpec::Spiral | DatasetSpec::Blobs);
        if self.classes.is_some() && !multi_class {
            return Err(Usage(format!(
                "--classes is for spiral and blobs; {name} always has 2 classes"
            )));
        }
        let classes = self.classes.unwrap_or_else(|| spec.default_classes());
        if let Some(n) = self.samples
            && multi_class
            && n < classes
        {
            return Err(Usage(format!(
                "--samples {n} is fewer than the {classes} classes of {name}: give at least one sample per class"
            )));
        }
        Ok(())
    }

    /// Generates or reads the dataset; `class_names` are a model's names
    /// for word labels (`None`: the names in the data, sorted).
    pub fn load(&self, class_names: Option<Vec<String>>) -> anyhow::Result<Dataset> {
        self.check()?;
        let spec = &self.dataset;
        let csv = CsvOptions {
            label: self.label_column.clone().unwrap_or_default(),
            header: self.header.unwrap_or_default(),
            class_names,
        };
        let result = spec.load(
            self.samples.unwrap_or(100),
            self.noise.unwrap_or_else(|| spec.default_noise()),
            self.classes.unwrap_or_else(|| spec.default_classes()),
            self.seed.unwrap_or(TRAIN_SEED),
            &csv,
        );
        let context = || match spec {
            DatasetSpec::Csv(p) => format!("cannot load dataset {}", p.display()),
            _ => format!("cannot make dataset {}", spec.name()),
        };
        match result {
            Err(
                e @ (DataError::ColumnOutOfRange { .. }
                | DataError::NoSuchColumn { .. }
                | DataError::NoHeader(_)),
            ) => Err(anyhow::Error::new(Usage(format!("--label-column: {e}"))).context(context())),
            other => other.with_context(context),
        }
    }
}

fn parse_dataset(s: &str) -> Result<DatasetSpec, String> {
    s.parse()
        .map_err(|e: backprop::data::DataError| e.to_string())
}

/// `auto`, `yes` or `no`.
pub fn parse_header(s: &str) -> Result<Header, String> {
    match s {
        "auto" => Ok(Header::Auto),
        "yes" | "true" => Ok(Header::Yes),
        "no" | "false" => Ok(Header::No),
        _ => Err(format!("expected auto, yes or no, got `{s}`")),
    }
}

/// A 0-based column index, `last`, or a header name (not a negative
/// number: that is a mistake, not a name).
pub fn parse_label_column(s: &str) -> Result<LabelColumn, String> {
    if s.parse::<i128>().is_ok_and(|i| i < 0) {
        return Err(format!(
            "expected a column index of at least 0, `last`, or a header name, got `{s}`"
        ));
    }
    Ok(s.parse().unwrap_or_else(|e| match e {}))
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

/// `--steps`: from 1 to [`MAX_STEPS`].
pub fn parse_steps(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_STEPS)
}

/// `--samples`: from 2 (one per class) to [`MAX_SAMPLES`].
fn parse_samples(s: &str) -> Result<usize, String> {
    whole(s, 2, MAX_SAMPLES)
}

/// `--classes`: from 2 to [`MAX_CLASSES`].
fn parse_classes(s: &str) -> Result<usize, String> {
    whole(s, 2, MAX_CLASSES)
}

/// `--seed`: any `u64`.
fn parse_seed(s: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n < 0 => Err(format!("must be at least 0, got `{s}`")),
        _ => s
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("expected a whole number from 0 to {}, got `{s}`", u64::MAX)),
    }
}

/// SGD momentum: at least 0 and below 1 (from 1 on, old gradients never
/// fade and the steps grow without bound).
pub fn momentum(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of at least 0 and less than 1, got `{s}`"
        )),
    }
}

/// Hidden layer sizes: `16,16`, or `none` for no hidden layer; each at
/// most [`Mlp::MAX_PARAMETERS`] (the network's total is checked when it is
/// built).
pub fn parse_hidden(s: &str) -> Result<Vec<usize>, String> {
    if s == "none" {
        return Ok(Vec::new());
    }
    let max = Mlp::MAX_PARAMETERS;
    s.split(',')
        .map(|p| match p.trim().parse::<i128>() {
            Ok(n) if n < 1 => Err(format!("layer sizes must be at least 1, got `{s}`")),
            Ok(n) if n > max as i128 => {
                Err(format!("layer sizes must be at most {max}, got `{s}`"))
            }
            Ok(n) => Ok(n as usize),
            Err(_) if p.trim().parse::<u128>().is_ok() => {
                Err(format!("layer sizes must be at most {max}, got `{s}`"))
            }
            Err(_) => Err(format!(
                "expected layer sizes like 16,16 (or none), got `{s}`"
            )),
        })
        .collect()
}

/// `1 step`, `2 steps`: a count and its noun, plural when it is not 1.
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ if noun.ends_with('s') => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// A number for people: six decimals for ordinary magnitudes, exponent
/// notation past a million or below a millionth (a diverging loss or
/// `--lr 1e300` would otherwise print hundreds of digits).
pub fn num(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-6..1e6).contains(&v.abs()) {
        format!("{v:.6e}")
    } else {
        format!("{v:.6}")
    }
}

/// A number exactly (it reads back to the same bits), short: `0.25`,
/// `1e300`.
pub fn exact(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-5..1e16).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// A number for JSON: itself when finite, else the string `"inf"`, `"-inf"`
/// or `"NaN"` (JSON has no such numbers; `grad --json` writes them the
/// same way).
pub fn json_num(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        serde_json::json!(v.to_string())
    }
}
