//! `backprop predict`: classes and scores of points with a saved model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backprop::data::{Header, parse_features};
use backprop::nn::SavedModel;

use crate::Usage;

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
    /// A CSV file of points, one per row (a header row is detected).
    #[arg(long, conflicts_with = "points")]
    csv: Option<PathBuf>,
    /// Print JSON (one object per point) instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `backprop predict`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.points.is_empty() && args.csv.is_none() {
        return Err(
            Usage("give points with --point X1,X2 or a file with --csv FILE".into()).into(),
        );
    }
    let model = SavedModel::load(&args.model)
        .with_context(|| format!("cannot load model {}", args.model.display()))?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    if let Some(path) = &args.csv {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let (values, width) = parse_features(&text, Header::Auto)
            .with_context(|| format!("cannot read points from {}", path.display()))?;
        if width != model.inputs {
            anyhow::bail!(
                "{}: rows have {width} fields, but the model takes {} features",
                path.display(),
                model.inputs
            );
        }
        rows.extend(values.chunks(width).map(<[f64]>::to_vec));
    }
    for (i, p) in args.points.iter().enumerate() {
        let x = p
            .split(',')
            .map(|c| c.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| Usage(format!("--point {p}: expected numbers separated by commas")))?;
        if x.len() != model.inputs {
            return Err(Usage(format!(
                "--point {p} (point {}): the model takes {} features, but the point has {}",
                i + 1,
                model.inputs,
                x.len()
            ))
            .into());
        }
        rows.push(x);
    }
    let mut out = Vec::with_capacity(rows.len());
    for x in &rows {
        out.push((x, model.predict(x)?));
    }
    if args.json {
        let items: Vec<_> = out
            .iter()
            .map(|(x, p)| serde_json::json!({"point": x, "class": p.class, "scores": p.scores}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else {
        for (x, p) in out {
            let point = x
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let scores = p
                .scores
                .iter()
                .map(|v| format!("{v:.6}"))
                .collect::<Vec<_>>()
                .join(", ");
            let what = if p.scores.len() == 1 {
                "score"
            } else {
                "logits"
            };
            println!("{point}\tclass {}\t{what} {scores}", p.class);
        }
    }
    Ok(ExitCode::SUCCESS)
}
