//! `backprop eval`.

use std::process::ExitCode;

/// Arguments of `backprop eval`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `backprop eval`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`backprop eval` is not available yet")
}
