//! `backprop draw`: a picture of the expression graph, like the notebook's
//! `draw_dot`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use backprop::Graph;
use backprop::viz::{self, DotOptions, Format, RankDir, Renderer, VizError};

use crate::grad::{Loaded, ProgramArgs};
use crate::{Usage, out};

/// Output formats for `--format`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Graphviz DOT text.
    Dot,
    /// SVG (Graphviz if installed, else the built-in layout).
    Svg,
    /// PNG (Graphviz if installed, else the built-in layout).
    Png,
}

/// Layout engines for `--layout`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LayoutArg {
    /// Graphviz when `dot` is on the PATH, else the built-in layout.
    Auto,
    /// The built-in, pure-Rust layout (small graphs).
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
    /// Give up on the SVG or PNG layout after this many seconds.
    #[arg(long, default_value_t = 30.0, value_parser = parse_seconds, value_name = "SECS")]
    pub timeout: f64,
}

fn parse_rankdir(s: &str) -> Result<RankDir, String> {
    s.parse()
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 1e6 => Ok(x),
        Ok(_) => Err(format!(
            "must be more than 0 and at most 1000000 seconds, got {s}"
        )),
        Err(_) => Err(format!("`{s}` is not a number of seconds")),
    }
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
    let limit = Duration::from_secs_f64(args.timeout);
    let bytes =
        viz::render_within(&g, ev.output.id(), &opts, format, renderer, limit).map_err(|e| {
            anyhow::anyhow!(
                "cannot draw the graph as {}: {e}{}",
                format.name(),
                hint(&e, args.layout)
            )
        })?;
    match &args.output {
        Some(path) => viz::write_atomic(path, &bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => {
            let mut out = out::stdout();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What to do about a drawing error, in terms of this command's options.
fn hint(err: &VizError, layout: LayoutArg) -> String {
    let builtin_gave_up = match err {
        VizError::TooLarge { .. } | VizError::TooTangled { .. } => true,
        VizError::Timeout { engine, .. } => engine.contains("built-in"),
        _ => false,
    };
    match err {
        VizError::GraphvizMissing(_) => {
            "; or draw it with the built-in layout (--layout builtin), or write .dot".into()
        }
        _ if builtin_gave_up
            && matches!(layout, LayoutArg::Builtin)
            && viz::graphviz_available() =>
        {
            "\nhint: Graphviz is installed: use --layout auto (or graphviz) to draw with it".into()
        }
        VizError::Timeout { .. } => "\nhint: or allow more time with --timeout SECS".into(),
        _ => String::new(),
    }
}
