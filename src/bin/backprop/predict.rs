//! `backprop predict`.

use std::process::ExitCode;

/// Arguments of `backprop predict`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `backprop predict`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`backprop predict` is not available yet")
}
