//! `backprop train`: with no arguments, micrograd's demo (two moons, MLP
//! 2-16-16-1, hinge loss + L2, SGD with a decaying learning rate).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use backprop::Graph;
use backprop::data::DatasetSpec;
use backprop::files::check_paths;
use backprop::nn::{
    Activation, Init, Loss, Mlp, MlpConfig, Module, NnError, Normalization, SavedModel,
    TrainConfig, Trainer, check_writable,
};
use backprop::optim::{LrSchedule, OptimizerKind};
use backprop::plot::{ImageFormat, TrainingPlot, save_training_plot};

use crate::{Usage, out};

#[path = "train_data.rs"]
pub(crate) mod data;

use data::{
    DataArgs, at_least_one, count, exact, json_num, momentum, non_negative, num, parse_steps,
    positive,
};

/// Hidden layer sizes (a newtype so that clap takes `16,16` as one value).
#[derive(Clone, Debug)]
pub struct Hidden(Vec<usize>);

/// Arguments of `backprop train`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Hidden layer sizes, comma separated (`none` for a linear model).
    #[arg(
        long,
        default_value = "16,16",
        value_parser = |s: &str| data::parse_hidden(s).map(Hidden),
        allow_negative_numbers = true
    )]
    hidden: Hidden,
    /// Activation of the hidden layers: relu, tanh, sigmoid, linear.
    #[arg(long, default_value = "relu")]
    activation: Activation,
    /// Weight initialisation: uniform (micrograd's U(-1, 1)), kaiming, xavier.
    #[arg(long, default_value = "uniform")]
    init: Init,
    /// Loss: hinge, mse, bce, cross-entropy [default: hinge for 2 classes,
    /// cross-entropy for more].
    #[arg(long)]
    loss: Option<Loss>,
    /// Optimizer: sgd, adam, adamw [default: sgd, adam with cross-entropy].
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Learning rate [default: 1.0 for sgd, 0.01 for adam/adamw].
    #[arg(long, value_parser = positive, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// SGD momentum, at least 0 and less than 1.
    #[arg(long, default_value_t = 0.0, value_parser = momentum, allow_negative_numbers = true)]
    momentum: f64,
    /// Learning-rate schedule: constant, linear (micrograd's 1 - 0.9 k/steps),
    /// linear:END, cosine [default: linear for sgd, constant otherwise].
    #[arg(long)]
    schedule: Option<LrSchedule>,
    /// L2 regularisation strength.
    #[arg(long, default_value_t = 1e-4, value_parser = non_negative, allow_negative_numbers = true)]
    alpha: f64,
    /// Training steps.
    #[arg(long, default_value_t = 100, value_parser = parse_steps, allow_negative_numbers = true)]
    steps: usize,
    /// Samples per step [default: all].
    #[arg(long, value_parser = at_least_one, allow_negative_numbers = true)]
    batch_size: Option<usize>,
    /// Standardise the features (mean 0, deviation 1; stored in the model).
    #[arg(long)]
    standardize: bool,
    /// Where to draw the decision boundary and curves (.png or .svg)
    /// [default: DATASET.png].
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Draw no plot.
    #[arg(long, conflicts_with = "plot")]
    no_plot: bool,
    /// Save the trained model (JSON) to this file.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Print no progress and no summary (errors and --json still print).
    #[arg(long, short)]
    quiet: bool,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    /// Threads that share each step's batch (0: chosen from the work per
    /// step, one for small steps, up to one per core for large ones). The
    /// results are the same to the last bit for any number.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "N",
        value_parser = |s: &str| data::whole(s, 0, usize::MAX),
        allow_negative_numbers = true
    )]
    threads: usize,
}

/// Runs `backprop train`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let plot_path = if args.no_plot {
        None
    } else {
        let p = args
            .plot
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.png", args.data.dataset.name())));
        if ImageFormat::from_path(&p).is_none() {
            return Err(Usage(format!(
                "--plot {}: use a .png or .svg file name",
                p.display()
            ))
            .into());
        }
        Some(p)
    };
    // Before any work: an output that would destroy an input, or that
    // cannot be written, found only after training would throw the
    // training away.
    let save = args.save.as_deref().filter(|p| p.as_os_str() != "-");
    let save_to_stdout = args.save.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if save_to_stdout && args.json {
        return Err(Usage(
            "--save - writes the model to stdout, and so does --json its summary: use one".into(),
        )
        .into());
    }
    let mut outputs = Vec::new();
    if let Some(p) = &plot_path {
        outputs.push(("--plot", p.as_path()));
    }
    if let Some(p) = save {
        outputs.push(("--save", p));
    }
    let inputs: Vec<(&str, &Path)> = match &args.data.dataset {
        DatasetSpec::Csv(p) => vec![("--dataset", p.as_path())],
        _ => Vec::new(),
    };
    check_paths(&inputs, &outputs).map_err(|e| Usage(e.to_string()))?;
    if let Some(p) = &plot_path {
        writable(p, "the plot")?;
    }
    if let Some(p) = save {
        writable(p, "the model")?;
    }
    let raw = args.data.load(None)?;
    raw.check_classes()
        .with_context(|| format!("cannot train on {}", args.data.dataset.name()))?;
    let classes = raw.n_classes();
    let loss = args.loss.unwrap_or(Loss::for_classes(classes));
    loss.check_classes(classes)
        .map_err(|e| Usage(e.to_string()))?;
    let kind = args.optimizer.unwrap_or(loss.default_optimizer());
    let lr = args.lr.unwrap_or(kind.default_lr());
    let schedule = args.schedule.unwrap_or(kind.default_schedule());
    if !args.standardize
        && !args.quiet
        && let Some(w) = scale_warning(&raw)
    {
        eprintln!("warning: {w}");
    }
    let normalization = args.standardize.then(|| Normalization::fit(&raw));
    let data = match &normalization {
        Some(n) => n.apply(&raw),
        None => raw.clone(),
    };

    let g = Graph::new();
    let mut sizes = args.hidden.0.clone();
    sizes.push(loss.outputs(classes));
    let config = MlpConfig {
        activation: args.activation,
        output_activation: Activation::Linear,
        init: args.init,
        seed: args.data.seed.unwrap_or(data::TRAIN_SEED),
    };
    let model = Mlp::new(&g, data.n_features(), &sizes, &config).map_err(|e| match e {
        NnError::TooLarge { .. } => Usage(format!(
            "--hidden {}: {e} (with {} inputs and {} outputs)",
            hidden_name(&args.hidden.0),
            data.n_features(),
            loss.outputs(classes)
        )),
        e => Usage(e.to_string()),
    })?;
    let train_config = TrainConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        loss,
        alpha: args.alpha,
        schedule,
        seed: args.data.seed.unwrap_or(data::TRAIN_SEED),
        threads: args.threads,
    };
    let mut trainer = Trainer::new(g, model, kind.build(lr, args.momentum), train_config);
    trainer.check(&data)?;
    if !args.quiet {
        eprintln!(
            "training {} on {} ({}, {}, {}): {loss} loss{}, {kind} lr {} ({schedule}), {}",
            trainer.model(),
            args.data.dataset.name(),
            count(data.len(), "sample"),
            count(data.n_features(), "feature"),
            count(classes, "class"),
            l2_term(args.alpha),
            exact(lr),
            count(args.steps, "step")
        );
    }

    // A batch smaller than the data: the progress shows that batch's
    // accuracy, not the data's.
    let batch = args.batch_size.is_some_and(|b| b < data.len());
    let progress = Progress::new(args.steps, args.quiet, batch);
    let start = Instant::now();
    let result = trainer.fit(&data, |s| progress.update(s.step, s.loss, s.accuracy));
    let elapsed = start.elapsed();
    progress.finish();
    let history = result.map_err(|e| match e {
        NnError::Diverged { step, loss, first } => anyhow::anyhow!(
            "training diverged at step {step}: the loss is {}, up from {} at the first step; nothing was saved. Try a smaller --lr (it was {}){}",
            num(loss),
            num(first),
            exact(lr),
            if args.standardize {
                ""
            } else {
                " or --standardize"
            }
        ),
        e => e.into(),
    })?;
    let steps_taken = history.steps();
    let final_loss = history.last().map_or(f64::NAN, |s| s.loss);
    let accuracy = trainer.accuracy(&data);
    let saved = SavedModel::from_mlp(
        trainer.graph(),
        trainer.model(),
        loss,
        classes,
        normalization,
    )
    .with_class_names(raw.class_names().map(<[String]>::to_vec));
    // Seconds as f64: a Duration divided by `steps as u32` would truncate
    // the count (and divide by zero at 2^32 steps).
    let per_step_ms = elapsed.as_secs_f64() * 1e3 / steps_taken.max(1) as f64;

    if let Some(path) = &plot_path {
        let losses: Vec<f64> = history.iter().map(|s| s.loss).collect();
        let accs: Vec<f64> = history.iter().map(|s| s.accuracy).collect();
        let classify = |x: &[f64]| saved.predict(x).map_or(0, |p| p.class);
        let plot = TrainingPlot {
            title: format!(
                "{} — {}, accuracy {:.1}%",
                args.data.dataset.name(),
                arch(&saved),
                accuracy * 100.0
            ),
            data: &raw,
            classify: Some(&classify),
            loss: &losses,
            accuracy: &accs,
        };
        save_training_plot(path, &plot)?;
    }
    let mut out = out::stdout();
    if let Some(path) = save {
        saved
            .save(path)
            .with_context(|| format!("cannot save the model to {}", path.display()))?;
    } else if save_to_stdout {
        writeln!(out, "{}", saved.to_json())?;
    }

    if args.json {
        let summary = serde_json::json!({
            "dataset": args.data.dataset.name(),
            "samples": data.len(),
            "steps": steps_taken,
            "final_loss": json_num(final_loss),
            "alpha": json_num(args.alpha),
            "accuracy": accuracy,
            "time_per_step_ms": per_step_ms,
            "total_time_s": elapsed.as_secs_f64(),
            "parameters": trainer.model().num_parameters(),
            "architecture": arch(&saved),
            "loss": loss.name(),
            "optimizer": kind.name(),
            "lr": json_num(lr),
            "plot": plot_path.as_ref().map(|p| p.display().to_string()),
            "model": args.save.as_ref().map(|p| p.display().to_string()),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else if !args.quiet {
        // With the model on stdout, the summary goes to stderr.
        let mut summary: Box<dyn Write> = if save_to_stdout {
            Box::new(std::io::stderr())
        } else {
            Box::new(&mut out)
        };
        writeln!(
            summary,
            "{}: final loss {}{}, accuracy {:.1}% ({:.3} ms/step, {})",
            count(steps_taken, "step"),
            num(final_loss),
            match l2_term(args.alpha) {
                t if t.is_empty() => " (data loss, no L2 term)".to_string(),
                t => format!(" (data loss{t})"),
            },
            accuracy * 100.0,
            per_step_ms,
            count(trainer.model().num_parameters(), "parameter")
        )?;
        if let Some(p) = &plot_path {
            writeln!(summary, "wrote the plot to {}", p.display())?;
        }
        if let Some(p) = save {
            writeln!(summary, "saved the model to {}", p.display())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A warning for features far from unit scale (largest magnitude above 10,
/// or below 0.1 and not 0): without standardisation the default learning
/// rates make such data diverge or learn nothing.
fn scale_warning(data: &backprop::data::Dataset) -> Option<String> {
    let bounds = data.bounds();
    let (j, scale) = bounds
        .iter()
        .map(|&(lo, hi)| lo.abs().max(hi.abs()))
        .enumerate()
        .find(|&(_, m)| m > 10.0 || (m > 0.0 && m < 0.1))?;
    Some(format!(
        "feature {} reaches magnitude {} (far from 1) and the features are not standardized: training may diverge or learn little; consider --standardize",
        j + 1,
        num(scale)
    ))
}

/// ` + L2 1e-4 Σp²` (the term the training loss adds to the data loss),
/// or nothing when `alpha` is 0.
fn l2_term(alpha: f64) -> String {
    if alpha == 0.0 {
        String::new()
    } else {
        format!(" + L2 {} Σp²", exact(alpha))
    }
}

/// Fails (exit 1) if `path` cannot be written, naming `what` it is for.
fn writable(path: &Path, what: &str) -> anyhow::Result<()> {
    check_writable(path).with_context(|| format!("cannot write {what} to {}", path.display()))
}

/// `16,16`, or `none`.
fn hidden_name(sizes: &[usize]) -> String {
    if sizes.is_empty() {
        "none".into()
    } else {
        sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// `2-16-16-1`.
fn arch(m: &SavedModel) -> String {
    std::iter::once(m.inputs)
        .chain(m.layers.iter().map(|l| l.neurons.len()))
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// A progress bar on a terminal, periodic lines otherwise, nothing when
/// quiet. All on stderr, so that stdout stays clean for `--json`. The bar
/// and the lines show the same words: `step 0 loss ..., accuracy ...`
/// (steps count from 0, like micrograd's and the divergence error's); the
/// bar's fill counts the steps done, and it shows no number of its own
/// (a redraw between two updates would pair one step's count with the
/// previous step's loss).
enum Progress {
    Bar(indicatif::ProgressBar, bool),
    Lines {
        every: usize,
        last: usize,
        batch: bool,
    },
    Quiet,
}

impl Progress {
    /// `batch`: the accuracy is a batch's (`--batch-size`), so it is
    /// labelled `batch accuracy`.
    fn new(steps: usize, quiet: bool, batch: bool) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(steps as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {msg}  [{elapsed_precise}]")
                    .expect("a valid template"),
            );
            Progress::Bar(bar, batch)
        } else {
            Progress::Lines {
                every: (steps / 10).max(1),
                last: steps.saturating_sub(1),
                batch,
            }
        }
    }

    fn update(&self, step: usize, loss: f64, accuracy: f64) {
        match self {
            Progress::Bar(bar, batch) => {
                bar.set_position(step as u64 + 1);
                bar.set_message(progress_line(step, loss, accuracy, *batch));
            }
            Progress::Lines { every, last, batch } => {
                if step.is_multiple_of(*every) || step == *last {
                    eprintln!("{}", progress_line(step, loss, accuracy, *batch));
                }
            }
            Progress::Quiet => {}
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar, _) = self {
            bar.abandon();
            // The bar leaves the cursor at its end: the summary starts a
            // line of its own.
            eprintln!();
        }
    }
}

/// `step 3 loss 0.5, accuracy 90.0%` (`batch accuracy` for a batch's).
fn progress_line(step: usize, loss: f64, accuracy: f64, batch: bool) -> String {
    format!(
        "step {step} loss {}, {}accuracy {:.1}%",
        num(loss),
        if batch { "batch " } else { "" },
        accuracy * 100.0
    )
}
