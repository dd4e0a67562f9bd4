//! `backprop eval`: loss and accuracy of a saved model on a dataset.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backprop::nn::SavedModel;

use crate::Usage;
use crate::train::data::{DataArgs, EVAL_SEED, count, json_num, num};

/// Arguments of `backprop eval`.
#[derive(clap::Args)]
#[command(mut_arg("seed", |a| a.help(
    "Seed of the data generator [default: 1338, one more than train's, so that a bare eval scores other samples than the training set]"
)))]
pub struct Args {
    /// The model file written by `backprop train --save`.
    #[arg(long)]
    model: PathBuf,
    // Its `--seed` has eval's words (above) and default (set in `run`):
    // eval initialises nothing.
    #[command(flatten)]
    data: DataArgs,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `backprop eval`.
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    let seed = *args.data.seed.get_or_insert(EVAL_SEED);
    // A CSV file is read as it is: no seed applies.
    let seed = match args.data.dataset {
        backprop::data::DatasetSpec::Csv(_) => None,
        _ => Some(seed),
    };
    // Usage mistakes first, before any file is read.
    args.data.check()?;
    let model = SavedModel::load(&args.model)
        .with_context(|| format!("cannot load model {}", args.model.display()))?;
    let data = args.data.load(model.class_names.clone())?;
    if model.class_names.is_none() && data.class_names().is_some() {
        return Err(Usage(format!(
            "{} has class names as labels ({}), but {} was trained on numbered classes 0 to {}",
            args.data.dataset.name(),
            data.class_names().unwrap_or_default().join(", "),
            args.model.display(),
            model.classes - 1
        ))
        .into());
    }
    let e = model.evaluate(&data).with_context(|| {
        format!(
            "cannot evaluate {} on {}",
            args.model.display(),
            args.data.dataset.name()
        )
    })?;
    let mut out = crate::out::stdout();
    if args.json {
        let summary = serde_json::json!({
            "dataset": args.data.dataset.name(),
            "seed": seed,
            "samples": data.len(),
            "loss": json_num(e.loss),
            "loss_includes_l2": false,
            "accuracy": e.accuracy,
            "classes": (0..model.classes).map(|c| model.class_name(c)).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        writeln!(
            out,
            "{}{}: {}, data loss {} (no L2 term), accuracy {:.1}% (classes {})",
            args.data.dataset.name(),
            seed.map_or(String::new(), |s| format!(" (seed {s})")),
            count(data.len(), "sample"),
            num(e.loss),
            e.accuracy * 100.0,
            (0..model.classes)
                .map(|c| model.class_name(c))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
