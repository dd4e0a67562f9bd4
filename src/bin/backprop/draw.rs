//! `backprop draw`: a picture of the expression graph, like the notebook's
//! `draw_dot`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use backprop::Graph;
use backprop::explain;
use backprop::viz::{self, DotOptions, Format, RankDir, Renderer, VizError};

use crate::explain::{ModelArgs, build, explanation};
use crate::grad::ProgramArgs;
use crate::{Usage, out};

/// Output formats for `--format`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Graphviz DOT text.
    Dot,
    /// SVG (Graphviz if installed, else the built-in layout).
    Svg,
    /// PNG (needs Graphviz).
    Png,
    /// An interactive, self-contained HTML page that replays the forward
    /// and backward pass (needs nothing installed).
    Html,
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
#[command(mut_arg("program", |a| a.required_unless_present_any(["file", "model"])))]
pub struct Args {
    #[command(flatten)]
    pub source: ProgramArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// For .html: draw only the paths from the output to this input.
    #[arg(long, value_name = "NAME")]
    pub leaf: Option<String>,
    /// Output file; its extension picks the format (.dot, .svg, .png,
    /// .html).
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
    let is_html = |path: &std::path::Path| {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
    };
    let format = match (args.format, &args.output) {
        (Some(FormatArg::Html), _) => return run_html(&args),
        (None, Some(path)) if is_html(path) => return run_html(&args),
        (Some(FormatArg::Dot), _) => Format::Dot,
        (Some(FormatArg::Svg), _) => Format::Svg,
        (Some(FormatArg::Png), _) => Format::Png,
        (None, None) => Format::Dot,
        (None, Some(path)) => Format::from_path(path).ok_or_else(|| {
            Usage(format!(
                "cannot tell the format of `{}` from its extension: use .dot, .svg, .png or .html, or --format",
                path.display()
            ))
        })?,
    };
    if args.leaf.is_some() {
        return Err(Usage("--leaf is for .html pages".into()).into());
    }
    let renderer = match args.layout {
        LayoutArg::Auto => Renderer::Auto,
        LayoutArg::Builtin => Renderer::Builtin,
        LayoutArg::Graphviz => Renderer::Graphviz,
    };
    if let (Format::Png, LayoutArg::Builtin) = (format, args.layout) {
        return Err(Usage(
            "the built-in layout only draws SVG: for PNG use --layout auto or graphviz (needs \
             Graphviz), or write .svg"
                .into(),
        )
        .into());
    }
    let g = Graph::new();
    let root = build(&g, &args.source, &args.model)?.root;
    if !args.no_grad {
        root.backward();
    }
    let opts = DotOptions {
        rankdir: args.rankdir,
        show_grad: !args.no_grad,
    };
    let limit = Duration::from_secs_f64(args.timeout);
    let bytes = viz::render_within(&g, root.id(), &opts, format, renderer, limit).map_err(|e| {
        anyhow::anyhow!(
            "cannot draw the graph as {}: {e}{}",
            format.name(),
            hint(&e, args.layout, format)
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

/// Writes the interactive page (`-o FILE.html` or `--format html`).
fn run_html(args: &Args) -> anyhow::Result<ExitCode> {
    let g = Graph::new();
    let built = build(&g, &args.source, &args.model)?;
    let e = explanation(built.root, &built.leaves, None, None)?;
    if let Some(leaf) = &args.leaf {
        // Checked here for the message; the page focuses its own copy.
        e.clone()
            .focus(leaf)
            .map_err(|err| Usage(format!("--leaf: {err}")))?;
    }
    let page = explain::to_html(&e, args.leaf.as_deref(), &built.title)
        .map_err(|err| Usage(format!("cannot draw the page: {err}")))?;
    match &args.output {
        Some(path) => viz::write_atomic(path, page.as_bytes())
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => {
            let mut out = out::stdout();
            out.write_all(page.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What to do about a drawing error, in terms of this command's options.
fn hint(err: &VizError, layout: LayoutArg, format: Format) -> String {
    let builtin_gave_up = match err {
        VizError::TooLarge { .. } | VizError::TooTangled { .. } => true,
        VizError::Timeout { engine, .. } => engine.contains("built-in"),
        _ => false,
    };
    match err {
        VizError::GraphvizMissing(_) if format == Format::Svg => {
            "; or draw it with the built-in layout (--layout builtin), or write .dot".into()
        }
        VizError::GraphvizMissing(_) => {
            "; or write .svg (drawn by the built-in layout) or .dot".into()
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
