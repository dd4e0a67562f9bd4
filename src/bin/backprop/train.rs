//! `backprop train`.

use std::process::ExitCode;

/// Arguments of `backprop train`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `backprop train`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`backprop train` is not available yet")
}
