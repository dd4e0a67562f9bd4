//! `backprop draw`: a picture of the expression graph, like the notebook's
//! `draw_dot`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use backprop::explain;
use backprop::files::{check_paths, check_writable};
use backprop::viz::{self, DotOptions, Format, RankDir, Renderer, VizError};
use backprop::{Graph, Value};

use crate::Usage;
use crate::args::has_extension;
use crate::args::program::{ModelArgs, ProgramArgs};
use crate::explain::{build, explanation};
use crate::out::{Out, note};

/// Output formats for `--format`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Graphviz DOT text.
    Dot,
    /// SVG (Graphviz if installed, else the built-in layout).
    Svg,
    /// PNG (Graphviz if installed, else the built-in layout).
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
    /// The built-in, pure-Rust layout (small graphs).
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
    /// .html). Without it, or with `-`, the drawing goes to stdout (DOT
    /// unless --format says svg or html).
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
    /// Draw the graph of the gradient computation instead: the nodes that
    /// compute d(output)/d(input) (from the gradient taken as graph
    /// values), for the input named by --wrt. Unless --no-grad, the grad
    /// fields hold the derivatives of that gradient: second derivatives.
    #[arg(long)]
    pub grad_graph: bool,
    /// The input whose gradient --grad-graph draws (default: the first).
    #[arg(long, value_name = "NAME", requires = "grad_graph")]
    pub wrt: Option<String>,
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
pub fn run(args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    let output = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    if let Some(path) = output {
        // Before any work: the program file itself, or a file that cannot
        // be written, is refused now rather than after the layout.
        let inputs: Vec<(&str, &Path)> = args
            .source
            .file
            .as_deref()
            .filter(|f| f.as_os_str() != "-")
            .map(|f| ("--file", f))
            .into_iter()
            .chain(args.model.model.as_deref().map(|m| ("--model", m)))
            .collect();
        check_paths(&inputs, &[("--output", path)]).map_err(|e| Usage(e.to_string()))?;
        check_writable(path).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    let is_html = |path: &Path| has_extension(path, &["html", "htm"]);
    let format = match (args.format, output) {
        (Some(FormatArg::Html), _) => return run_html(&args, output, out),
        (None, Some(path)) if is_html(path) => return run_html(&args, output, out),
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
    if format == Format::Png && output.is_none() {
        return Err(Usage(
            "PNG is not text: write it to a file with -o FILE.png (stdout takes DOT, SVG and HTML)"
                .into(),
        )
        .into());
    }
    if args.leaf.is_some() {
        return Err(Usage("--leaf is for .html pages".into()).into());
    }
    let renderer = match args.layout {
        LayoutArg::Auto => Renderer::Auto,
        LayoutArg::Builtin => Renderer::Builtin,
        LayoutArg::Graphviz => Renderer::Graphviz,
    };
    let g = Graph::new();
    let built = build(&g, &args.source, &args.model)?;
    let root = root_to_draw(&args, &built)?;
    if !args.no_grad {
        root.backward();
    }
    let opts = DotOptions {
        rankdir: args.rankdir,
        show_grad: !args.no_grad,
    };
    let limit = Duration::from_secs_f64(args.timeout);
    let bytes = viz::render_within(&g, root.id(), &opts, format, renderer, limit).map_err(|e| {
        let message = format!(
            "cannot draw the graph as {}: {e}{}",
            format.name(),
            hint(&e, args.layout)
        );
        match e {
            // A graph past a layout's size limit is refused like a page
            // past its limit or a file past its size: a mistake in what
            // was given (exit 2), as `gpt graph` does.
            VizError::TooLarge { .. }
            | VizError::TooTangled { .. }
            | VizError::TooLargeForGraphviz { .. } => anyhow::Error::new(Usage(message)),
            _ => anyhow::anyhow!(message),
        }
    })?;
    match output {
        Some(path) => {
            viz::write_atomic(path, &bytes)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            // On stderr, like train's messages: stdout carries drawings.
            note!(
                "wrote the {} drawing to {}",
                format.name().to_uppercase(),
                path.display()
            );
        }
        None => out.write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The node to draw: the output, or with --grad-graph the gradient of the
/// output with respect to the --wrt input, as graph values.
fn root_to_draw<'g>(args: &Args, built: &crate::explain::Built<'g>) -> anyhow::Result<Value<'g>> {
    if !args.grad_graph {
        return Ok(built.root);
    }
    let inputs = &built.leaves;
    let (name, x) = match &args.wrt {
        Some(name) => inputs.iter().find(|(n, _)| n == name).ok_or_else(|| {
            let of = if args.model.model.is_some() {
                "model"
            } else {
                "program"
            };
            Usage(format!(
                "--wrt: `{name}` is not an input of the {of} (inputs: {})",
                inputs
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => inputs.first().ok_or_else(|| {
            Usage("--grad-graph: the program has no input to differentiate by".into())
        })?,
    };
    let y = built.root.label().unwrap_or_else(|| "y".into());
    let g = built.root.graph();
    Ok(g.grad(built.root, &[*x])[0].with_label(format!("d{y}/d{name}")))
}

/// Writes the interactive page (`-o FILE.html` or `--format html`).
fn run_html(args: &Args, output: Option<&Path>, out: &mut Out) -> anyhow::Result<ExitCode> {
    let g = Graph::new();
    let built = build(&g, &args.source, &args.model)?;
    let root = root_to_draw(args, &built)?;
    if args.leaf.is_none() {
        // The page shows every node the root depends on: refuse a graph
        // past the limit before explaining it (explaining a million-node
        // program takes seconds and gigabytes).
        let nodes = g.trace(root.id()).nodes.len();
        if nodes > explain::PAGE_MAX_NODES {
            let err = explain::PageError::TooLarge {
                nodes,
                max: explain::PAGE_MAX_NODES,
            };
            return Err(Usage(format!("cannot draw the page: {err}")).into());
        }
    }
    let e = explanation(root, &built.leaves, None, None)?;
    if let Some(leaf) = &args.leaf {
        // Checked here for the message; the page focuses its own copy.
        e.clone()
            .focus(leaf)
            .map_err(|err| Usage(format!("--leaf: {err}")))?;
    }
    let page = explain::to_html(&e, args.leaf.as_deref(), &built.title)
        .map_err(|err| Usage(format!("cannot draw the page: {err}")))?;
    match output {
        Some(path) => {
            viz::write_atomic(path, page.as_bytes())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            note!("wrote the page to {}", path.display());
        }
        None => out.write_all(page.as_bytes())?,
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
