//! `backprop eval`: loss and accuracy of a saved model on a dataset.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backprop::format::{JsonNumber, shown_name};
use backprop::nn::SavedModel;
use serde::Serialize;

use crate::args::data::{DataArgs, EVAL_SEED, check_label_kind};
use crate::format::{count, num, percent};
use crate::out::Out;

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

/// What `eval --json` prints.
#[derive(Serialize)]
struct EvalJson<'a> {
    dataset: &'a str,
    /// The generator's seed; `null` for a CSV file.
    seed: Option<u64>,
    samples: usize,
    /// The mean data loss (the L2 term of training is not in it).
    loss: JsonNumber,
    loss_includes_l2: bool,
    /// The fraction classified right, 0 to 1.
    accuracy: f64,
    /// The class names, in class order.
    classes: Vec<String>,
}

/// Runs `backprop eval`.
pub fn run(mut args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    // eval's seed only generates data (train's also starts the network):
    // with a CSV file it would change nothing, as --noise would not.
    if let (backprop::data::DatasetSpec::Csv(_), Some(_)) = (&args.data.dataset, args.data.seed) {
        return Err(crate::Usage(
            "--seed is for generated datasets, not csv:PATH (eval reads a CSV file as it is: no seed applies)"
                .into(),
        )
        .into());
    }
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
    check_label_kind(&data, &args.data.dataset.name(), &model, &args.model)?;
    let e = model.evaluate(&data).with_context(|| {
        format!(
            "cannot evaluate {} on {}",
            args.model.display(),
            args.data.dataset.name()
        )
    })?;
    let dataset = args.data.dataset.name();
    let classes: Vec<String> = (0..model.classes).map(|c| model.class_name(c)).collect();
    if args.json {
        out.json(&EvalJson {
            dataset: &dataset,
            seed,
            samples: data.len(),
            loss: JsonNumber(e.loss),
            loss_includes_l2: false,
            accuracy: e.accuracy,
            classes,
        })?;
    } else {
        writeln!(
            out,
            "{dataset}{}: {}, data loss {} (no L2 term), accuracy {} (classes {})",
            seed.map_or(String::new(), |s| format!(" (seed {s})")),
            count(data.len(), "sample"),
            num(e.loss),
            percent(e.accuracy),
            classes
                .iter()
                .map(|c| shown_name(c))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
