//! `backprop grad`.

use std::process::ExitCode;

/// Arguments of `backprop grad`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `backprop grad`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`backprop grad` is not available yet")
}
