//! `backprop explain`: the forward and backward pass of an expression
//! program (or of one sample through a saved network), step by step.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use backprop::explain::{self, DEFAULT_MAX_STEPS, Explanation, TextOptions};
use backprop::gradcheck::Tolerances;
use backprop::nn::SavedModel;
use backprop::{Graph, Value};

use crate::Usage;
use crate::args::positive;
use crate::args::program::{Loaded, ModelArgs, ProgramArgs};
use crate::out::Out;

/// The graph to explain, built on a caller's [`Graph`].
pub struct Built<'g> {
    pub root: Value<'g>,
    /// The leaves whose gradients are reported, in order.
    pub leaves: Vec<(String, Value<'g>)>,
    /// What the graph is, for a page's title.
    pub title: String,
}

/// Builds the graph from a program (`source`) or from a network and a
/// sample (`model`).
pub fn build<'g>(
    g: &'g Graph,
    source: &ProgramArgs,
    model: &ModelArgs,
) -> anyhow::Result<Built<'g>> {
    if let Some(path) = &model.model {
        let saved = SavedModel::load(path)
            .with_context(|| format!("cannot load model {}", path.display()))?;
        let p = model.point.as_deref().unwrap_or_default();
        let x = crate::args::point(p, saved.inputs)?;
        let label = match &model.label {
            Some(text) => Some(class_of(&saved, text)?),
            None => None,
        };
        let net = explain::network_graph(g, &saved, &x, label, model.output_index).map_err(
            |e| match e {
                explain::NetworkError::Output { .. } => {
                    anyhow::Error::new(Usage(format!("--output-index: {e}")))
                }
                explain::NetworkError::Label { .. } => {
                    anyhow::Error::new(Usage(format!("--label: {e}")))
                }
                explain::NetworkError::Model(e) => {
                    anyhow::Error::new(e).context(format!("cannot use model {}", path.display()))
                }
            },
        )?;
        return Ok(Built {
            root: net.root,
            leaves: net.leaves,
            title: format!("{}: {}", path.display(), net.title),
        });
    }
    let Loaded { program, overrides } = source.load()?;
    let ev = program
        .eval(g, &overrides)
        .map_err(|e| Usage(format!("--at: {e}")))?;
    let title = format!("{} = {}", ev.output_name, ev.output.data());
    Ok(Built {
        root: ev.output,
        leaves: ev.inputs,
        title,
    })
}

/// The class `--label` names: a word label of a model trained on words
/// (as `predict` and `eval` print them), or a class number.
fn class_of(model: &SavedModel, text: &str) -> Result<usize, Usage> {
    let shown: String = text.chars().map(backprop::format::escape_char).collect();
    if let Some(names) = &model.class_names {
        if let Some(c) = names.iter().position(|n| n == text) {
            return Ok(c);
        }
        return match text.parse::<usize>() {
            Ok(c) if c < model.classes => Ok(c),
            _ => Err(Usage(format!(
                "--label {shown}: not a class of this model (its classes are {})",
                names.join(", ")
            ))),
        };
    }
    match text.parse::<usize>() {
        Ok(c) if c < model.classes => Ok(c),
        Ok(_) => Err(Usage(format!(
            "--label {shown}: the model's classes are 0 to {}",
            model.classes - 1
        ))),
        Err(_) => Err(Usage(format!(
            "--label {shown}: this model was trained on numbered classes, 0 to {}",
            model.classes - 1
        ))),
    }
}

/// Arguments of `backprop explain`.
#[derive(clap::Args)]
#[command(mut_arg("program", |a| a.required_unless_present_any(["file", "model"])))]
pub struct Args {
    #[command(flatten)]
    pub source: ProgramArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print the explanation as one JSON object (see the README).
    #[arg(long)]
    pub json: bool,
    /// Add each input's finite differences, (f(x+h)-f(x))/h and
    /// (f(x+h)-f(x-h))/2h, next to its backprop gradient.
    #[arg(long)]
    pub check: bool,
    /// The step h for --check.
    #[arg(
        long,
        default_value_t = Tolerances::default().eps,
        value_name = "H",
        value_parser = positive,
        requires = "check"
    )]
    pub eps: f64,
    /// Keep only the steps on paths from the output to this input.
    #[arg(long, value_name = "NAME")]
    pub leaf: Option<String>,
    /// Show constants on lines of their own too: in the forward pass, and
    /// a gradient line for each (by default a constant appears only as its
    /// number inside formulas: it is not a parameter).
    #[arg(long)]
    pub all: bool,
    /// Print at most this many backward steps (and forward lines); the
    /// default is 2000 for text and no limit for --json.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
}

/// The explanation `args` ask for, with checks and focus applied.
pub fn explanation(
    root: Value<'_>,
    leaves: &[(String, Value<'_>)],
    check: Option<f64>,
    leaf: Option<&str>,
) -> anyhow::Result<Explanation> {
    let mut e = explain::explain_with_leaves(root, leaves);
    if let Some(h) = check {
        // Each input's differences rerun the graph: `grad --check`'s limit.
        let work = 2 * e.grads.len() as u128 * e.nodes.len() as u128;
        if work > u128::from(backprop::expr::MAX_CHECK_WORK) {
            let err = backprop::expr::EvalError::CheckTooLarge {
                inputs: e.grads.len(),
                size: e.nodes.len(),
            };
            return Err(Usage(format!("--check: {err}")).into());
        }
        e = e.with_checks(h);
    }
    if let Some(leaf) = leaf {
        e = e
            .focus(leaf)
            .map_err(|err| Usage(format!("--leaf: {err}")))?;
    }
    Ok(e)
}

/// Runs `backprop explain`.
pub fn run(args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    let g = Graph::new();
    let built = build(&g, &args.source, &args.model)?;
    let check = args.check.then_some(args.eps);
    let mut e = explanation(built.root, &built.leaves, check, args.leaf.as_deref())?;
    if args.json {
        if let Some(n) = args.max_steps {
            e.truncate(n);
        }
        writeln!(out, "{}", e.to_json())?;
    } else {
        let max = args.max_steps.unwrap_or(DEFAULT_MAX_STEPS);
        e.truncate(max);
        let opts = TextOptions {
            max_forward: max,
            constants: args.all,
        };
        if args.model.model.is_some() {
            writeln!(out, "{}\n", backprop::format::shown_name(&built.title))?;
        }
        write!(out, "{}", e.to_text(&opts))?;
    }
    Ok(ExitCode::SUCCESS)
}
