//! Where an expression program comes from (`grad`, `explain`, `draw`),
//! its `--at` overrides, and the network-and-sample alternative of
//! `explain` and `draw`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use backprop::expr::{MAX_PROGRAM_BYTES, ParseError, Program, parse_override};

use crate::Usage;

/// Where the program comes from, and input overrides: shared by `grad` and
/// `draw`.
#[derive(clap::Args)]
pub struct ProgramArgs {
    /// The program, e.g. 'x = 2; y = x**2' (`-` reads it from stdin).
    #[arg(
        value_name = "PROGRAM",
        required_unless_present = "file",
        conflicts_with = "file",
        allow_hyphen_values = true
    )]
    pub program: Option<String>,
    /// Read the program from a file (`-` for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Set or override an input, e.g. --at x1=2.5 (repeatable).
    #[arg(long = "at", value_name = "NAME=VALUE")]
    pub at: Vec<String>,
}

/// A parsed program and its validated overrides.
pub struct Loaded {
    pub program: Program,
    pub overrides: Vec<(String, f64)>,
}

impl ProgramArgs {
    /// Reads and parses the program and the `--at` overrides; parse errors
    /// and bad overrides are [`Usage`] errors with a caret snippet.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let (origin, src) = match (&self.program, &self.file) {
            (Some(p), _) if p == "-" => ("<stdin>".to_string(), read_stdin()?),
            (Some(p), _) => ("<program>".to_string(), p.clone()),
            (None, Some(f)) if f.as_os_str() == "-" => ("<stdin>".to_string(), read_stdin()?),
            (None, Some(f)) => (f.display().to_string(), read_file(f)?),
            (None, None) => {
                return Err(Usage("give a program, or -f FILE".into()).into());
            }
        };
        let program = Program::parse(&src).map_err(|e| usage(&origin, &e))?;
        let mut overrides: Vec<(String, f64)> = Vec::with_capacity(self.at.len());
        let mut given: HashMap<String, &str> = HashMap::new();
        for text in &self.at {
            let (name, value) = parse_override(text).map_err(|e| usage("--at", &e))?;
            if let Some(first) = given.insert(name.clone(), text) {
                return Err(Usage(format!(
                    "--at: `{name}` is set twice (`{first}` and `{text}`); give each input once"
                ))
                .into());
            }
            overrides.push((name, value));
        }
        // Validate the names now, so every later step can rely on them.
        program
            .input_values(&overrides)
            .map_err(|e| Usage(format!("--at: {e}")))?;
        Ok(Loaded { program, overrides })
    }
}

/// The program on stdin, at most [`MAX_PROGRAM_BYTES`] of it.
fn read_stdin() -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_PROGRAM_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the program from stdin")?;
    if bytes.len() as u64 > MAX_PROGRAM_BYTES {
        return Err(Usage(format!(
            "<stdin>: the program is larger than the limit of {} MiB",
            MAX_PROGRAM_BYTES >> 20
        ))
        .into());
    }
    Ok(decode("<stdin>", bytes)?)
}

/// The program file, at most [`MAX_PROGRAM_BYTES`] of it.
fn read_file(path: &Path) -> anyhow::Result<String> {
    let bytes = backprop::files::read_limited(path, MAX_PROGRAM_BYTES)
        .with_context(|| format!("cannot read the program file `{}`", path.display()))?;
    Ok(decode(&path.display().to_string(), bytes)?)
}

/// The program text, or a [`Usage`] error saying where it stops being
/// UTF-8 (byte offset, line and column, lines ended as the language ends
/// them: `\n`, `\r\n` or `\r`).
fn decode(origin: &str, bytes: Vec<u8>) -> Result<String, Usage> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let mut line = 1;
        let mut line_start = 0;
        let mut chars = good.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let crlf = c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n');
            if (c == '\n' || c == '\r') && !crlf {
                line += 1;
                line_start = i + 1;
            }
        }
        let col = good[line_start..].chars().count() + 1;
        Usage(format!(
            "{origin}:{line}:{col}: the program is not UTF-8 text: byte {at} (0x{:02x}) is not \
             valid UTF-8",
            bytes[at]
        ))
    })
}

/// A parse error as a compiler shows it: `origin:line:col: message` and the
/// line with a caret under the spot.
fn usage(origin: &str, e: &ParseError) -> Usage {
    Usage(format!(
        "{origin}:{}:{}: {}\n{}",
        e.span.line,
        e.span.col,
        e.kind,
        e.snippet()
    ))
}

/// A network and one sample, instead of a program: shared by `explain`
/// and `draw`.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// A model saved by `backprop train --save`: explain one sample's graph
    /// through it (with --point) instead of a program.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["program", "file", "at"], requires = "point")]
    pub model: Option<PathBuf>,
    /// The sample's features, comma separated (with --model), e.g.
    /// --point 0.5,0.2.
    // Each option of the model names the program's options it conflicts
    // with itself: clap excuses a missing `requires` target that conflicts
    // with a given argument, so `--point` with a program and no --model
    // was accepted and ignored.
    #[arg(
        long,
        value_name = "X1,X2,...",
        requires = "model",
        conflicts_with_all = ["program", "file", "at"],
        allow_hyphen_values = true
    )]
    pub point: Option<String>,
    /// The sample's class (with --model), as `predict` prints it: a
    /// number, or the word label of a model trained on words (`dog`). The
    /// graph is then the sample's loss; without it, the graph is one
    /// output of the network.
    #[arg(long, value_name = "CLASS", requires = "model", conflicts_with_all = ["program", "file", "at"])]
    pub label: Option<String>,
    /// Which output to explain when there is no --label (counted from 0;
    /// default: the predicted class's output).
    #[arg(
        long,
        value_name = "K",
        requires = "model",
        conflicts_with_all = ["label", "program", "file", "at"]
    )]
    pub output_index: Option<usize>,
}
