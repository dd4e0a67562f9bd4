//! The `backprop` command line: a thin layer over the library. Each
//! subcommand lives in its own file: parse arguments, call the library,
//! print.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod draw;
mod eval;
mod explain;
mod grad;
mod out;
mod predict;
mod train;

/// Backpropagation from scratch: gradients, pictures and training of
/// scalar expression graphs.
#[derive(Parser)]
#[command(name = "backprop", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Gradients of an expression program (a table, or JSON with --json).
    Grad(grad::Args),
    /// The forward and backward pass step by step, as the notebook works
    /// it out by hand.
    Explain(explain::Args),
    /// Draw the expression graph with data and gradients (DOT, SVG, PNG).
    Draw(draw::Args),
    /// Train a multi-layer perceptron (default: micrograd's moons demo).
    Train(train::Args),
    /// Predict classes and scores with a saved model.
    Predict(predict::Args),
    /// Evaluate a saved model on a dataset.
    Eval(eval::Args),
}

/// A mistake in how the command was called (a bad argument or a program
/// that does not parse): exit code 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Grad(args) => grad::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Draw(args) => draw::run(args),
        Command::Train(args) => train::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Eval(args) => eval::run(args),
    };
    match result {
        Ok(code) => code,
        // The reader of our output has gone (`backprop grad ... | head -1`):
        // nothing is wrong and there is no one to tell.
        Err(err) if out::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.chain().any(|e| e.is::<Usage>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
