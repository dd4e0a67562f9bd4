//! `backprop draw`: a picture of the expression graph, like the notebook's
//! `draw_dot`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backprop::Graph;
use backprop::viz::{self, DotOptions, Format, RankDir, Renderer};

use crate::Usage;
use crate::grad::{Loaded, ProgramArgs};

/// Output formats for `--format`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Graphviz DOT text.
    Dot,
    /// SVG (Graphviz if installed, else the built-in layout).
    Svg,
    /// PNG (needs Graphviz).
    Png,
}

/// Layout engines for `--layout`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LayoutArg {
    /// Graphviz when `dot` is on the PATH, else the built-in layout.
    Auto,
    /// The built-in, pure-Rust layout (SVG only, small graphs).
    Builtin,
    /// Graphviz's `dot`.
    Graphviz,
}

/// Arguments of `backprop draw`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: ProgramArgs,
    /// Output file; its extension picks the format (.dot, .svg, .png).
    /// Without it, DOT goes to stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format, overriding the file extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Direction of the graph: LR (left to right) or TB (top to bottom).
    #[arg(long, default_value = "LR", value_parser = parse_rankdir, value_name = "DIR")]
    pub rankdir: RankDir,
    /// Draw data only: no backward pass, no grad field.
    #[arg(long)]
    pub no_grad: bool,
    /// Which layout engine draws SVG and PNG.
    #[arg(long, value_enum, default_value = "auto", value_name = "ENGINE")]
    pub layout: LayoutArg,
}

fn parse_rankdir(s: &str) -> Result<RankDir, String> {
    s.parse()
}

/// Runs `backprop draw`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Loaded { program, overrides } = args.source.load()?;
    let format = match (args.format, &args.output) {
        (Some(FormatArg::Dot), _) => Format::Dot,
        (Some(FormatArg::Svg), _) => Format::Svg,
        (Some(FormatArg::Png), _) => Format::Png,
        (None, None) => Format::Dot,
        (None, Some(path)) => Format::from_path(path).ok_or_else(|| {
            Usage(format!(
                "cannot tell the format of `{}` from its extension: use .dot, .svg or .png, or --format",
                path.display()
            ))
        })?,
    };
    let renderer = match args.layout {
        LayoutArg::Auto => Renderer::Auto,
        LayoutArg::Builtin => Renderer::Builtin,
        LayoutArg::Graphviz => Renderer::Graphviz,
    };
    let g = Graph::new();
    let ev = program
        .eval(&g, &overrides)
        .map_err(|e| Usage(format!("--at: {e}")))?;
    if !args.no_grad {
        ev.output.backward();
    }
    let opts = DotOptions {
        rankdir: args.rankdir,
        show_grad: !args.no_grad,
    };
    let bytes = viz::render(&g, ev.output.id(), &opts, format, renderer)
        .with_context(|| format!("cannot draw the graph as {}", format.name()))?;
    match &args.output {
        Some(path) => viz::write_atomic(path, &bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).context("cannot write to stdout")?;
            out.flush().context("cannot write to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
