//! Dataset options shared by `backprop train` and `backprop eval`, and
//! the CSV options `predict` shares with them.

use anyhow::Context;
use backprop::data::{CsvOptions, DataError, Dataset, DatasetSpec, Header, LabelColumn};
use backprop::nn::SavedModel;

use super::{non_negative, whole};
use crate::Usage;

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
            Ok(d) if !matches!(spec, DatasetSpec::Csv(_)) => {
                // A noise so large that the points overflow (`--noise
                // 1e308`) is a mistake in the arguments, not a training
                // that diverges.
                let finite = (0..d.len()).all(|i| d.x(i).iter().all(|v| v.is_finite()));
                if finite {
                    Ok(d)
                } else {
                    Err(Usage(format!(
                        "--noise {}: the generated points are not all finite numbers; use a smaller noise",
                        backprop::format::exact(self.noise.unwrap_or_else(|| spec.default_noise()))
                    ))
                    .into())
                }
            }
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

/// Word labels in `data` (loaded as `dataset`) for a `model` (the file at
/// `model_path`) trained on numbered classes: a usage error naming both,
/// the same for `eval` and `train --init`.
pub fn check_label_kind(
    data: &Dataset,
    dataset: &str,
    model: &SavedModel,
    model_path: &std::path::Path,
) -> Result<(), Usage> {
    match (data.class_names(), &model.class_names) {
        (Some(names), None) => Err(Usage(format!(
            "{dataset} has class names as labels ({}), but {} was trained on numbered classes 0 to {}",
            names.join(", "),
            model_path.display(),
            model.classes - 1
        ))),
        _ => Ok(()),
    }
}
