//! `backprop draw`.

use std::process::ExitCode;

/// Arguments of `backprop draw`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `backprop draw`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`backprop draw` is not available yet")
}
