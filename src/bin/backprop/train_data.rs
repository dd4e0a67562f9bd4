//! Dataset options shared by `backprop train` and `backprop eval`, and the
//! argument parsers they use.

use anyhow::Context;
use backprop::data::{CsvOptions, Dataset, DatasetSpec, Header, LabelColumn};

/// Which data to use.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// The dataset: moons, circles, spiral, xor, blobs, or csv:PATH.
    #[arg(long, default_value = "moons", value_parser = parse_dataset)]
    pub dataset: DatasetSpec,
    /// Number of samples to generate [default: 100].
    #[arg(long, value_parser = at_least_one)]
    pub samples: Option<usize>,
    /// Noise of the generator (standard deviation) [default: per dataset:
    /// moons 0.1, circles 0.05, spiral 0.1, xor 0.05, blobs 0.5].
    #[arg(long, value_parser = non_negative)]
    pub noise: Option<f64>,
    /// Number of classes of spiral and blobs [default: 3].
    #[arg(long, value_parser = at_least_two)]
    pub classes: Option<usize>,
    /// Seed of the data generator and the network initialisation.
    #[arg(long, default_value_t = 1337)]
    pub seed: u64,
    /// CSV label column: a 0-based index, a header name, or `last`.
    #[arg(long, default_value = "last")]
    pub label_column: LabelColumn,
    /// Whether the CSV's first row is a header: auto, yes, no.
    #[arg(long, default_value = "auto", value_parser = parse_header)]
    pub header: Header,
}

impl DataArgs {
    /// Generates or reads the dataset.
    pub fn load(&self) -> anyhow::Result<Dataset> {
        let spec = &self.dataset;
        let csv = CsvOptions {
            label: self.label_column.clone(),
            header: self.header,
        };
        spec.load(
            self.samples.unwrap_or(100),
            self.noise.unwrap_or_else(|| spec.default_noise()),
            self.classes.unwrap_or_else(|| spec.default_classes()),
            self.seed,
            &csv,
        )
        .with_context(|| match spec {
            DatasetSpec::Csv(p) => format!("cannot load dataset {}", p.display()),
            _ => format!("cannot make dataset {}", spec.name()),
        })
    }
}

fn parse_dataset(s: &str) -> Result<DatasetSpec, String> {
    s.parse()
        .map_err(|e: backprop::data::DataError| e.to_string())
}

fn parse_header(s: &str) -> Result<Header, String> {
    match s {
        "auto" => Ok(Header::Auto),
        "yes" | "true" => Ok(Header::Yes),
        "no" | "false" => Ok(Header::No),
        _ => Err(format!("expected auto, yes or no, got `{s}`")),
    }
}

/// A positive integer.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number of at least 1, got `{s}`")),
    }
}

fn at_least_two(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 2 => Ok(n),
        _ => Err(format!("expected a whole number of at least 2, got `{s}`")),
    }
}

/// A finite number greater than 0.
pub fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive number, got `{s}`")),
    }
}

/// A finite number of at least 0.
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a number of at least 0, got `{s}`")),
    }
}

/// Hidden layer sizes: `16,16`, or `none` for no hidden layer.
pub fn parse_hidden(s: &str) -> Result<Vec<usize>, String> {
    if s == "none" || s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|p| match p.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            Ok(_) => Err(format!("layer sizes must be at least 1, got `{s}`")),
            Err(_) => Err(format!(
                "expected layer sizes like 16,16 (or none), got `{s}`"
            )),
        })
        .collect()
}
