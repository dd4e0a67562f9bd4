//! `backprop predict`: classes and scores of points with a saved model.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backprop::data::{DataError, Header, LabelColumn, parse_features, parse_features_without};
use backprop::format::{JsonNumber, exact, shown_name};
use backprop::nn::{NnError, SavedModel};
use serde::Serialize;

use crate::Usage;
use crate::args::data::{parse_header, parse_label_column};
use crate::format::{count, num};
use crate::out::Out;

/// Arguments of `backprop predict`.
#[derive(clap::Args)]
pub struct Args {
    /// The model file written by `backprop train --save`.
    #[arg(long)]
    model: PathBuf,
    /// A point to classify, its features comma separated (repeatable).
    #[arg(
        long = "point",
        value_name = "X1,X2,...",
        allow_negative_numbers = true,
        allow_hyphen_values = true
    )]
    points: Vec<String>,
    /// A CSV file of points, one per row (a header row is detected), at
    /// most 256 MiB.
    #[arg(long, conflicts_with = "points")]
    csv: Option<PathBuf>,
    /// A column of the --csv file to ignore, such as the label column of a
    /// training file: a 0-based index, a header name, or `last`.
    #[arg(long, value_parser = parse_label_column, allow_negative_numbers = true)]
    label_column: Option<LabelColumn>,
    /// Whether the --csv file's first row is a header: auto, yes, no
    /// [default: auto].
    #[arg(long, value_parser = parse_header)]
    header: Option<Header>,
    /// Print one JSON array instead of text: an object per point, with
    /// its `point`, `class`, `scores` (and `class_name` for a model with
    /// word labels).
    ///
    /// A model whose output for a point is NaN (weights that overflow)
    /// names no class: predict then prints nothing and exits with 1,
    /// naming the point.
    #[arg(long)]
    json: bool,
}

/// One point of `predict --json`'s array.
#[derive(Serialize)]
struct PredictionJson<'a> {
    point: &'a [f64],
    class: usize,
    /// The output layer's values: one score, or a logit per class.
    scores: Vec<JsonNumber>,
    /// The class's word label, for a model trained on word labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    class_name: Option<String>,
}

/// Runs `backprop predict`.
pub fn run(args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    if args.points.is_empty() && args.csv.is_none() {
        return Err(
            Usage("give points with --point X1,X2 or a file with --csv FILE".into()).into(),
        );
    }
    // Checked here, not with clap's `requires`: clap drops the requirement
    // when `--point` (which conflicts with `--csv`) is given.
    if args.csv.is_none() {
        for (given, option) in [
            (args.label_column.is_some(), "--label-column"),
            (args.header.is_some(), "--header"),
        ] {
            if given {
                return Err(Usage(format!("{option} is for --csv files, not --point")).into());
            }
        }
    }
    let model = SavedModel::load(&args.model)
        .with_context(|| format!("cannot load model {}", args.model.display()))?;
    let rows = points(&args, &model)?;
    let mut preds = Vec::with_capacity(rows.len());
    for x in &rows {
        let p = model.predict(x).with_context(|| {
            let point = x.iter().map(|&v| exact(v)).collect::<Vec<_>>().join(",");
            format!("cannot classify point {point}")
        })?;
        preds.push((x, p));
    }
    if args.json {
        let items: Vec<_> = preds
            .iter()
            .map(|(x, p)| PredictionJson {
                point: x,
                class: p.class,
                scores: p.scores.iter().map(|&v| JsonNumber(v)).collect(),
                class_name: model
                    .class_names
                    .is_some()
                    .then(|| model.class_name(p.class)),
            })
            .collect();
        out.json(&items)?;
    } else {
        for (x, p) in preds {
            let point = x.iter().map(|&v| exact(v)).collect::<Vec<_>>().join(",");
            let scores = p
                .scores
                .iter()
                .map(|&v| num(v))
                .collect::<Vec<_>>()
                .join(", ");
            let what = if p.scores.len() == 1 {
                "score"
            } else {
                "logits"
            };
            writeln!(
                out,
                "{point}\tclass {}\t{what} {scores}",
                shown_name(&model.class_name(p.class))
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The points to classify: the `--csv` file's rows (without the label
/// column, if named), then each `--point`, each with as many features as
/// the model takes.
fn points(args: &Args, model: &SavedModel) -> anyhow::Result<Vec<Vec<f64>>> {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    if let Some(path) = &args.csv {
        let text = backprop::data::read_bytes(path)?;
        let header = args.header.unwrap_or_default();
        let parsed = match &args.label_column {
            Some(column) => parse_features_without(&text, header, column),
            None => parse_features(&text, header),
        };
        let (values, width) = match parsed {
            Err(
                e @ (DataError::ColumnOutOfRange { .. }
                | DataError::NoSuchColumn { .. }
                | DataError::NoHeader(_)),
            ) => {
                return Err(Usage(format!("--label-column: {}: {e}", path.display())).into());
            }
            Err(e @ DataError::NotANumber { .. }) if args.label_column.is_none() => {
                // Word labels left in a training file are the likely cause.
                return Err(Usage(format!(
                    "cannot read points from {}: {e}; if a column holds labels, leave it out with --label-column (e.g. --label-column last)",
                    path.display()
                ))
                .into());
            }
            other => {
                other.with_context(|| format!("cannot read points from {}", path.display()))?
            }
        };
        if width != model.inputs {
            let hint = if args.label_column.is_none() && width == model.inputs + 1 {
                " (if one column is the label, name it with --label-column, e.g. --label-column last)"
            } else {
                ""
            };
            let e = NnError::FeatureCount {
                expected: model.inputs,
                found: width,
            };
            return Err(Usage(format!(
                "{}: {e} (rows have {}{}){hint}",
                path.display(),
                count(width, "field"),
                if args.label_column.is_some() {
                    " besides the label column"
                } else {
                    ""
                },
            ))
            .into());
        }
        rows.extend(values.chunks(width).map(<[f64]>::to_vec));
    }
    for (i, p) in args.points.iter().enumerate() {
        let x = crate::args::point(p, model.inputs).map_err(|e| {
            // Which point, when there are several.
            if args.points.len() > 1 {
                Usage(e.0.replacen(
                    &format!("--point {p}"),
                    &format!("--point {p} (point {})", i + 1),
                    1,
                ))
            } else {
                e
            }
        })?;
        rows.push(x);
    }
    Ok(rows)
}
