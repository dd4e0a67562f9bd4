//! The `backprop` command line: a thin layer over the library. Each
//! subcommand lives in its own file: parse arguments, call the library,
//! print. Arguments that several commands take are in [`args`], number
//! and table formats in [`format`], and every byte of output goes through
//! [`out`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod args;
mod draw;
mod eval;
mod explain;
mod format;
mod gpt;
mod grad;
mod out;
mod predict;
mod progress;
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
    /// Train Karpathy's microgpt on names, sample names, draw its graph.
    Gpt(gpt::Args),
}

/// A mistake in how the command was called (a bad argument or a program
/// that does not parse): exit code 2, like clap's own usage errors (see
/// [`exit_code`] for the others).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// On Ctrl-C (SIGINT) and SIGTERM: remove the temporary files of writes in
/// progress, then exit as the signal would have (128 + its number).
fn clean_up_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return; // the default handlers stay: nothing is cleaned, nothing breaks
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            backprop::files::remove_temporaries();
            std::process::exit(128 + signal);
        }
    });
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return parse_failed(e),
    };
    clean_up_on_signals();
    let mut out = out::Out::new();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Grad(args) => grad::run(args, &mut out),
        Command::Explain(args) => explain::run(args, &mut out),
        Command::Draw(args) => draw::run(args, &mut out),
        Command::Train(args) => train::run(args, &mut out),
        Command::Predict(args) => predict::run(args, &mut out),
        Command::Eval(args) => eval::run(args, &mut out),
        Command::Gpt(args) => gpt::run(args, &mut out),
    };
    finish(result, out)
}

/// Flushes stdout and turns the outcome into the exit code, with a
/// message for a failure.
fn finish(result: anyhow::Result<ExitCode>, out: out::Out) -> ExitCode {
    // What a command printed before it failed is still printed.
    let result = match (result, out.finish()) {
        (Ok(code), Ok(())) => Ok(code),
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e.into()),
    };
    match result {
        Ok(code) => code,
        // The reader of our output has gone (`backprop grad ... | head -1`):
        // nothing is wrong and there is no one to tell.
        Err(err) if out::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            out::note!("error: {err:#}");
            exit_code(&err)
        }
    }
}

/// What clap stopped at: a usage mistake, reported by clap on stderr
/// (exit 2), or `--help` and `--version`, which are results: they go
/// through [`out::Out`] like every other, so a failed write to stdout is
/// reported and exits with 1 (on a terminal, with clap's styles).
fn parse_failed(e: clap::Error) -> ExitCode {
    use std::io::{IsTerminal, Write};
    if e.use_stderr() {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let mut out = out::Out::new();
    let help = e.render();
    let written = if std::io::stdout().is_terminal() {
        write!(out, "{}", help.ansi())
    } else {
        write!(out, "{help}")
    };
    finish(written.map(|()| ExitCode::SUCCESS).map_err(Into::into), out)
}

/// The error policy (README, "Errors and limits"): 2 for a mistake in what
/// was given (an argument, a program, the contents of a CSV or model file,
/// a model and data that do not fit together, a file past its size limit),
/// 1 for a failure to read or write and for runtime failures (training
/// that diverges, a drawing that fails).
fn exit_code(err: &anyhow::Error) -> ExitCode {
    use backprop::data::DataError;
    use backprop::nn::NnError;
    let input_mistake = err.chain().any(|e| {
        if e.is::<Usage>() {
            return true;
        }
        if let Some(e) = e.downcast_ref::<DataError>() {
            return !matches!(e, DataError::Io { .. });
        }
        if let Some(e) = e.downcast_ref::<NnError>() {
            return !matches!(
                e,
                NnError::Io { .. } | NnError::Diverged { .. } | NnError::NanScore { .. }
            );
        }
        if let Some(e) = e.downcast_ref::<std::io::Error>() {
            return matches!(
                e.kind(),
                std::io::ErrorKind::FileTooLarge | std::io::ErrorKind::InvalidData
            );
        }
        false
    });
    if input_mistake {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
