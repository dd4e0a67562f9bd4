//! `backprop eval`: loss and accuracy of a saved model on a dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backprop::nn::SavedModel;

use crate::train::data::DataArgs;

/// Arguments of `backprop eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The model file written by `backprop train --save`.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `backprop eval`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let model = SavedModel::load(&args.model)
        .with_context(|| format!("cannot load model {}", args.model.display()))?;
    let data = args.data.load()?;
    let e = model.evaluate(&data).with_context(|| {
        format!(
            "cannot evaluate {} on {}",
            args.model.display(),
            args.data.dataset.name()
        )
    })?;
    if args.json {
        let summary = serde_json::json!({
            "dataset": args.data.dataset.name(),
            "samples": data.len(),
            "loss": e.loss,
            "accuracy": e.accuracy,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{}: {} samples, loss {:.6}, accuracy {:.1}%",
            args.data.dataset.name(),
            data.len(),
            e.loss,
            e.accuracy * 100.0
        );
    }
    Ok(ExitCode::SUCCESS)
}
