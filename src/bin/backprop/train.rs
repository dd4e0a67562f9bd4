//! `backprop train`: with no arguments, micrograd's demo (two moons, MLP
//! 2-16-16-1, hinge loss + L2, SGD with a decaying learning rate).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use backprop::Graph;
use backprop::data::{DataError, Dataset, DatasetSpec};
use backprop::explain::{self, SnapshotRecorder, TrainingPage};
use backprop::files::check_paths;
use backprop::format::{JsonNumber, exact};
use backprop::nn::{
    Activation, History, Init, Loss, Mlp, MlpConfig, Module, NnError, Normalization, SavedModel,
    StepStats, TrainConfig, Trainer,
};
use backprop::optim::{LrSchedule, OptimizerKind};
use backprop::plot::{TrainingPlot, save_training_plot};
use serde::Serialize;

use crate::Usage;
use crate::args::data::{DataArgs, TRAIN_SEED, check_label_kind};
use crate::args::{
    at_least_one, has_extension, non_negative, plot_path, positive, whole, writable,
};
use crate::format::{count, diverged, num, percent};
use crate::out::{Out, note};
use crate::progress::Progress;

/// The most training steps (`--steps`).
pub const MAX_STEPS: usize = 10_000_000;

/// Hidden layer sizes (a newtype so that clap takes `16,16` as one value).
#[derive(Clone, Debug)]
pub struct Hidden(Vec<usize>);

/// `--init`: a scheme for new weights, or a saved model to start from.
#[derive(Clone, Debug)]
pub enum InitArg {
    Scheme(Init),
    Model(PathBuf),
}

/// `uniform`, `kaiming`, `xavier`, or a path ending in `.json`.
fn parse_init(s: &str) -> Result<InitArg, String> {
    if let Ok(init) = s.parse() {
        return Ok(InitArg::Scheme(init));
    }
    let path = PathBuf::from(s);
    if has_extension(&path, &["json"]) {
        return Ok(InitArg::Model(path));
    }
    Err(format!(
        "expected uniform, kaiming, xavier, or a model file saved by --save (.json), got `{s}`"
    ))
}

/// Arguments of `backprop train`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    data: DataArgs,
    /// Hidden layer sizes, comma separated (`none` for a linear model)
    /// [default: 16,16].
    #[arg(
        long,
        value_parser = |s: &str| parse_hidden(s).map(Hidden),
        allow_negative_numbers = true
    )]
    hidden: Option<Hidden>,
    /// Activation of the hidden layers: relu, tanh, sigmoid, linear
    /// [default: relu].
    #[arg(long)]
    activation: Option<Activation>,
    /// Weight initialisation: uniform (micrograd's U(-1, 1)), kaiming,
    /// xavier; or a model saved by --save (FILE.json) to start from its
    /// weights, which then decides the layers, activations, loss and
    /// feature scaling.
    #[arg(long, default_value = "uniform", value_parser = parse_init, value_name = "SCHEME|FILE.json")]
    init: InitArg,
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
    /// SGD momentum, at least 0 and less than 1 (only with --optimizer
    /// sgd: Adam and AdamW have their own) [default: 0].
    #[arg(long, value_parser = momentum, allow_negative_numbers = true)]
    momentum: Option<f64>,
    /// Learning-rate schedule: constant, linear (micrograd's 1 - 0.9 k/steps),
    /// linear:END, cosine [default: linear for sgd, constant otherwise].
    #[arg(long)]
    schedule: Option<LrSchedule>,
    /// L2 regularisation strength.
    #[arg(long, default_value_t = 1e-4, value_parser = non_negative, allow_negative_numbers = true)]
    alpha: f64,
    /// Training steps.
    #[arg(long, default_value_t = 100, value_parser = |s: &str| whole(s, 1, MAX_STEPS), allow_negative_numbers = true)]
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
    /// Write a page (.html) that shows the network learning: the decision
    /// boundary at evenly spaced steps, the curves, and any point's graph
    /// at each step. Needs 2 features.
    #[arg(long, value_name = "FILE.html")]
    page: Option<PathBuf>,
    /// Snapshots on the --page, evenly spaced from step 0 to the last
    /// (both always included).
    #[arg(
        long,
        default_value_t = explain::DEFAULT_SNAPSHOTS,
        value_name = "N",
        requires = "page",
        value_parser = |s: &str| whole(s, 2, explain::MAX_SNAPSHOTS),
        allow_negative_numbers = true
    )]
    page_snapshots: usize,
    /// Cells per side of the --page's heat map.
    #[arg(
        long,
        default_value_t = explain::DEFAULT_GRID,
        value_name = "N",
        requires = "page",
        value_parser = |s: &str| whole(s, explain::MIN_GRID, explain::MAX_GRID),
        allow_negative_numbers = true
    )]
    page_grid: usize,
    /// Print no progress and no summary (errors and --json still print).
    #[arg(long, short)]
    quiet: bool,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
    /// The most threads that share each step's batch (0: chosen from the
    /// work per step, one for small steps, up to one per core for large
    /// ones). Several are used only while timed faster than one. The
    /// results are the same to the last bit for any number.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "N",
        value_parser = |s: &str| whole(s, 0, usize::MAX),
        allow_negative_numbers = true
    )]
    threads: usize,
}

/// Runs `backprop train`: resolve the arguments into a [`Plan`] (every
/// check that can fail before training does), execute it, report.
pub fn run(args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    let plan = Plan::resolve(args)?;
    let trained = plan.execute()?;
    plan.report(&trained, out)?;
    Ok(ExitCode::SUCCESS)
}

/// The network training starts from.
enum Start {
    /// New weights: the layer sizes after the inputs (the output layer's
    /// last) and how to draw them.
    New {
        sizes: Vec<usize>,
        config: MlpConfig,
    },
    /// A saved model's weights (`--init FILE.json`).
    Saved { path: PathBuf, model: SavedModel },
}

/// Where the trained model goes.
enum SaveTo {
    Nowhere,
    File(PathBuf),
    /// `--save -`: the model's JSON on stdout.
    Stdout,
}

/// What `train` will do, with every default chosen and every input
/// checked: the data loaded, the outputs known to be writable.
struct Plan {
    /// The dataset's name (`moons`, `csv:PATH`).
    dataset: String,
    /// The data as loaded: the plot shows it, the model keeps its class
    /// names.
    raw: Dataset,
    /// The data the network learns from (standardised with
    /// `--standardize`).
    data: Dataset,
    normalization: Option<Normalization>,
    /// The network to start from.
    start: Start,
    /// How many classes the model tells apart.
    classes: usize,
    train: TrainConfig,
    optimizer: OptimizerKind,
    lr: f64,
    momentum: f64,
    plot: Option<PathBuf>,
    save: SaveTo,
    /// `--page`, with its snapshots and grid.
    page: Option<(PathBuf, usize, usize)>,
    standardize: bool,
    quiet: bool,
    json: bool,
}

/// The outcome of training.
struct Trained {
    trainer: Trainer,
    history: History,
    elapsed: Duration,
    /// On the whole (standardised) data, after the last step.
    accuracy: f64,
    saved: SavedModel,
    /// The snapshots for `--page`.
    recorder: Option<SnapshotRecorder>,
}

/// What `train --json` prints.
#[derive(Serialize)]
struct Summary<'a> {
    dataset: &'a str,
    samples: usize,
    /// Steps taken.
    steps: usize,
    /// The last step's loss: data loss plus the L2 term (`alpha`).
    final_loss: JsonNumber,
    alpha: JsonNumber,
    /// On the whole training data after the last step, 0 to 1.
    accuracy: f64,
    time_per_step_ms: f64,
    total_time_s: f64,
    parameters: usize,
    /// Layer sizes from inputs to outputs: `2-16-16-1`.
    architecture: String,
    loss: &'a str,
    optimizer: &'a str,
    lr: JsonNumber,
    plot: Option<String>,
    model: Option<String>,
    /// `--page`'s file.
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<String>,
    /// Each step's loss, accuracy and learning rate: every step up to
    /// 4,096 of them, evenly spaced steps (and the last) beyond. With
    /// `--batch-size`, the batch's loss and accuracy.
    history: &'a [StepStats],
}

impl Plan {
    /// Checks the arguments, the output paths and the data, and chooses
    /// the defaults that depend on them (loss, optimizer, learning rate,
    /// schedule).
    fn resolve(args: Args) -> anyhow::Result<Plan> {
        let (plot, save, page) = outputs(&args)?;
        let (saved, scheme) = match &args.init {
            InitArg::Scheme(scheme) => (None, *scheme),
            InitArg::Model(p) => (
                Some((p.clone(), load_initial_model(&args, p)?)),
                Init::default(),
            ),
        };
        let dataset = args.data.dataset.name();
        let class_names = saved.as_ref().and_then(|(_, m)| m.class_names.clone());
        let raw = args.data.load(class_names)?;
        match (raw.check_classes(), &saved) {
            (Ok(()), _) => {}
            // The model fixes the classes: name the missing one as the
            // model does, and do not advise renumbering.
            (Err(DataError::MissingClass { class, .. }), Some((p, m))) => {
                let class = match &m.class_names {
                    Some(names) => format!("`{}`", names[class]),
                    None => class.to_string(),
                };
                return Err(Usage(format!(
                    "--init {}: {dataset} has no row of class {class}, but the model has {}: training from it needs a row of each",
                    p.display(),
                    count(m.classes, "class"),
                ))
                .into());
            }
            (Err(e), _) => {
                return Err(e).with_context(|| format!("cannot train on {dataset}"));
            }
        }
        let classes = match &saved {
            None => raw.n_classes(),
            Some((p, m)) => {
                check_data_fits(m, p, &raw, &dataset)?;
                m.classes
            }
        };
        let loss = match &saved {
            None => args.loss.unwrap_or(Loss::for_classes(classes)),
            Some((_, m)) => m.loss,
        };
        loss.check_classes(classes)
            .map_err(|e| Usage(e.to_string()))?;
        let optimizer = args.optimizer.unwrap_or(loss.default_optimizer());
        // Momentum is SGD's: with Adam it would be ignored without a word.
        if let Some(m) = args.momentum
            && optimizer != OptimizerKind::Sgd
        {
            let why = if args.optimizer.is_some() {
                String::new()
            } else {
                format!(" (the default with the {loss} loss)")
            };
            return Err(Usage(format!(
                "--momentum {m}: the optimizer is {optimizer}{why}, which has no momentum setting; add --optimizer sgd or leave --momentum out"
            ))
            .into());
        }
        let lr = args.lr.unwrap_or(optimizer.default_lr());
        let normalization = match &saved {
            None => args.standardize.then(|| Normalization::fit(&raw)),
            Some((_, m)) => m.normalization.clone(),
        };
        if normalization.is_none()
            && !args.quiet
            && let Some(w) = scale_warning(&raw)
        {
            note!("warning: {w}");
        }
        let data = match &normalization {
            Some(n) => n.apply(&raw),
            None => raw.clone(),
        };
        // A saved deviation can be positive and still overflow the
        // division (a hand-edited 1e-320).
        if let Some((p, _)) = &saved {
            let width = data.n_features();
            if let Some(i) = data.features().iter().position(|x| !x.is_finite()) {
                return Err(Usage(format!(
                    "--init {}: the model's normalization turns {dataset}'s row {}, feature {} ({}) into {}",
                    p.display(),
                    i / width + 1,
                    i % width + 1,
                    exact(raw.features()[i]),
                    exact(data.features()[i]),
                ))
                .into());
            }
        }
        if let Some(p) = &page {
            check_page(p, &raw, &dataset, args.page_snapshots, args.steps)?;
        }
        let seed = args.data.seed.unwrap_or(TRAIN_SEED);
        let start = match saved {
            Some((path, model)) => Start::Saved { path, model },
            None => {
                let mut sizes = args.hidden.map_or_else(|| vec![16, 16], |h| h.0);
                sizes.push(loss.outputs(classes));
                Start::New {
                    sizes,
                    config: MlpConfig {
                        activation: args.activation.unwrap_or(Activation::Relu),
                        output_activation: Activation::Linear,
                        init: scheme,
                        seed,
                    },
                }
            }
        };
        Ok(Plan {
            dataset,
            raw,
            data,
            normalization,
            start,
            classes,
            train: TrainConfig {
                steps: args.steps,
                batch_size: args.batch_size,
                loss,
                alpha: args.alpha,
                schedule: args.schedule.unwrap_or(optimizer.default_schedule()),
                seed,
                threads: args.threads,
            },
            optimizer,
            lr,
            momentum: args.momentum.unwrap_or(0.0),
            plot,
            save,
            page: page.map(|p| (p, args.page_snapshots, args.page_grid)),
            standardize: args.standardize,
            quiet: args.quiet,
            json: args.json,
        })
    }

    /// Builds the network and trains it, with progress on stderr.
    fn execute(&self) -> anyhow::Result<Trained> {
        let g = Graph::new();
        let inputs = self.data.n_features();
        let model = match &self.start {
            Start::New { sizes, config } => {
                Mlp::new(&g, inputs, sizes, config).map_err(|e| match e {
                    NnError::TooLarge { .. } => {
                        let (hidden, outputs) = sizes.split_at(sizes.len() - 1);
                        Usage(format!(
                            "--hidden {}: {e} (with {inputs} inputs and {} outputs)",
                            hidden_name(hidden),
                            outputs[0]
                        ))
                    }
                    e => Usage(e.to_string()),
                })?
            }
            Start::Saved { path, model } => model
                .to_mlp(&g)
                .with_context(|| format!("cannot use model {}", path.display()))?,
        };
        if let Some((path, _, _)) = &self.page {
            let parameters = model.num_parameters();
            if parameters > explain::MAX_PAGE_PARAMETERS {
                return Err(Usage(format!(
                    "--page {}: the network has {parameters} parameters, more than the page's limit of {}: use smaller --hidden layers",
                    path.display(),
                    explain::MAX_PAGE_PARAMETERS
                ))
                .into());
            }
        }
        let optimizer = self.optimizer.build(self.lr, self.momentum);
        let mut trainer = Trainer::new(g, model, optimizer, self.train);
        trainer.check(&self.data)?;
        let mut recorder = match &self.page {
            Some((_, snapshots, _)) => Some(SnapshotRecorder::new(
                &trainer,
                self.classes,
                self.normalization.clone(),
                *snapshots,
            )?),
            None => None,
        };
        let t = &self.train;
        if !self.quiet {
            let from = match &self.start {
                Start::New { .. } => String::new(),
                Start::Saved { path, .. } => format!(" from {}", path.display()),
            };
            note!(
                "training {}{from} on {} ({}, {}, {}): {} loss{}, {} lr {} ({}), {}",
                trainer.model(),
                self.dataset,
                count(self.data.len(), "sample"),
                count(inputs, "feature"),
                count(self.classes, "class"),
                t.loss,
                l2_term(t.alpha),
                self.optimizer,
                exact(self.lr),
                t.schedule,
                count(t.steps, "step")
            );
        }
        // A batch smaller than the data: the progress shows that batch's
        // accuracy, not the data's.
        let batch = if t.batch_size.is_some_and(|b| b < self.data.len()) {
            "batch "
        } else {
            ""
        };
        let progress = Progress::new(t.steps, self.quiet);
        let start = Instant::now();
        let result = trainer.fit_with(&self.data, |t, s| {
            if let Some(r) = &mut recorder {
                r.record(t, s);
            }
            progress.update(s.step, || {
                format!(
                    "step {} loss {}, {batch}accuracy {}",
                    s.step,
                    num(s.loss),
                    percent(s.accuracy)
                )
            })
        });
        let elapsed = start.elapsed();
        progress.finish();
        let history = result.map_err(|e| match e {
            // Step 0's loss comes before any update: the learning rate
            // did not make it, a saved model's weights may have.
            NnError::Diverged {
                step: 0,
                loss,
                first,
            } => match &self.start {
                Start::Saved { path, .. } => anyhow::anyhow!(
                    "{}: the weights of --init {} give it on {} before any update; nothing was saved",
                    diverged(0, loss, first),
                    path.display(),
                    self.dataset,
                ),
                Start::New { .. } => anyhow::anyhow!(
                    "{}; nothing was saved{}",
                    diverged(0, loss, first),
                    if self.standardize {
                        ""
                    } else {
                        ". Try --standardize"
                    }
                ),
            },
            NnError::Diverged { step, loss, first } => anyhow::anyhow!(
                "{}; nothing was saved. Try a smaller --lr (it was {}){}{}",
                diverged(step, loss, first),
                exact(self.lr),
                // SGD's L2 step multiplies each weight by
                // 1 - 2 * lr * alpha: from lr * alpha > 1 on, the decay
                // alone makes the weights grow. Named only for an alpha
                // above 1 (the L2 term then outweighs the data loss).
                if self.optimizer == OptimizerKind::Sgd
                    && self.train.alpha > 1.0
                    && self.lr * self.train.alpha > 1.0
                {
                    format!(" or a smaller --alpha (it was {})", exact(self.train.alpha))
                } else {
                    String::new()
                },
                // With --init the model decides the scaling (and
                // --standardize is refused).
                if self.standardize || matches!(self.start, Start::Saved { .. }) {
                    ""
                } else {
                    " or --standardize"
                }
            ),
            e => e.into(),
        })?;
        let accuracy = trainer.accuracy(&self.data);
        let saved = SavedModel::from_mlp(
            trainer.graph(),
            trainer.model(),
            t.loss,
            self.classes,
            self.normalization.clone(),
        )
        .with_class_names(self.class_names());
        Ok(Trained {
            trainer,
            history,
            elapsed,
            accuracy,
            saved,
            recorder,
        })
    }

    /// The trained model's class names: the data's word labels, or those
    /// of the model training started from (whose classes numbered labels
    /// index).
    fn class_names(&self) -> Option<Vec<String>> {
        match (self.raw.class_names(), &self.start) {
            (Some(names), _) => Some(names.to_vec()),
            (None, Start::Saved { model, .. }) => model.class_names.clone(),
            (None, Start::New { .. }) => None,
        }
    }

    /// Draws the plot, saves the model, prints the summary.
    fn report(&self, trained: &Trained, out: &mut Out) -> anyhow::Result<()> {
        let Trained {
            trainer,
            history,
            elapsed,
            accuracy,
            saved,
            recorder,
        } = trained;
        let steps = history.steps();
        let final_loss = history.last().map_or(f64::NAN, |s| s.loss);
        // Seconds as f64: a Duration divided by `steps as u32` would
        // truncate the count (and divide by zero at 2^32 steps).
        let per_step_ms = elapsed.as_secs_f64() * 1e3 / steps.max(1) as f64;
        let parameters = trainer.model().num_parameters();
        if let Some(path) = &self.plot {
            let losses: Vec<f64> = history.iter().map(|s| s.loss).collect();
            let accs: Vec<f64> = history.iter().map(|s| s.accuracy).collect();
            let classify = |x: &[f64]| saved.predict(x).map_or(0, |p| p.class);
            let plot = TrainingPlot {
                title: format!(
                    "{} — {}, accuracy {}",
                    self.dataset,
                    arch(saved),
                    percent(*accuracy)
                ),
                data: &self.raw,
                classify: Some(&classify),
                loss: &losses,
                accuracy: &accs,
            };
            save_training_plot(path, &plot)?;
        }
        match &self.save {
            SaveTo::Nowhere => {}
            SaveTo::File(path) => saved
                .save(path)
                .with_context(|| format!("cannot save the model to {}", path.display()))?,
            SaveTo::Stdout => writeln!(out, "{}", saved.to_json())?,
        }
        // After the model: a page that cannot be written loses no model.
        if let (Some((path, _, grid)), Some(recorder)) = (&self.page, recorder) {
            let title = format!(
                "{} — {}, {} loss, {}",
                self.dataset,
                arch(saved),
                self.train.loss,
                count(steps, "step")
            );
            let page = TrainingPage {
                title: &title,
                grid: *grid,
                ..TrainingPage::new(recorder, &self.raw)
            };
            explain::write_training_page(path, &page).map_err(|e| match e {
                explain::TrainingPageError::Io { .. } => anyhow::Error::new(e),
                e => Usage(format!("--page {}: {e}", path.display())).into(),
            })?;
        }
        if self.json {
            return out.json(&Summary {
                dataset: &self.dataset,
                samples: self.data.len(),
                steps,
                final_loss: JsonNumber(final_loss),
                alpha: JsonNumber(self.train.alpha),
                accuracy: *accuracy,
                time_per_step_ms: per_step_ms,
                total_time_s: elapsed.as_secs_f64(),
                parameters,
                architecture: arch(saved),
                loss: self.train.loss.name(),
                optimizer: self.optimizer.name(),
                lr: JsonNumber(self.lr),
                plot: self.plot.as_ref().map(|p| p.display().to_string()),
                page: self.page.as_ref().map(|(p, _, _)| p.display().to_string()),
                model: match &self.save {
                    SaveTo::Nowhere => None,
                    SaveTo::File(p) => Some(p.display().to_string()),
                    SaveTo::Stdout => Some("-".into()),
                },
                history,
            });
        }
        if self.quiet {
            return Ok(());
        }
        let mut lines = vec![format!(
            "{}: final loss {}{}, accuracy {} ({per_step_ms:.3} ms/step, {})",
            count(steps, "step"),
            num(final_loss),
            match l2_term(self.train.alpha) {
                t if t.is_empty() => " (data loss, no L2 term)".to_string(),
                t => format!(" (data loss{t})"),
            },
            percent(*accuracy),
            count(parameters, "parameter")
        )];
        if let Some(p) = &self.plot {
            lines.push(format!("wrote the plot to {}", p.display()));
        }
        if let Some((p, _, _)) = &self.page {
            lines.push(format!("wrote the page to {}", p.display()));
        }
        if let SaveTo::File(p) = &self.save {
            lines.push(format!("saved the model to {}", p.display()));
        }
        for line in lines {
            // With the model on stdout, the summary goes to stderr.
            if matches!(self.save, SaveTo::Stdout) {
                note!("{line}");
            } else {
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }
}

/// The plot's path and where the model goes, checked before any work: an
/// output that would destroy an input, or that cannot be written, found
/// only after training would throw the training away.
fn outputs(args: &Args) -> anyhow::Result<(Option<PathBuf>, SaveTo, Option<PathBuf>)> {
    let default_plot = format!("{}.png", args.data.dataset.name());
    let plot = plot_path(args.no_plot, args.plot.as_deref(), &default_plot)?;
    let save = match args.save.clone() {
        None => SaveTo::Nowhere,
        Some(p) if p.as_os_str() == "-" => SaveTo::Stdout,
        Some(p) => SaveTo::File(p),
    };
    if matches!(save, SaveTo::Stdout) && args.json {
        return Err(Usage(
            "--save - writes the model to stdout, and so does --json its summary: use one".into(),
        )
        .into());
    }
    let mut outputs = Vec::new();
    if let Some(p) = &plot {
        outputs.push(("--plot", p.as_path()));
    }
    if let SaveTo::File(p) = &save {
        outputs.push(("--save", p.as_path()));
    }
    if let Some(p) = &args.page {
        if p.as_os_str() == "-" || !has_extension(p, &["html", "htm"]) {
            return Err(Usage(format!("--page {}: use a .html file name", p.display())).into());
        }
        outputs.push(("--page", p.as_path()));
    }
    let mut inputs: Vec<(&str, &Path)> = match &args.data.dataset {
        DatasetSpec::Csv(p) => vec![("--dataset", p.as_path())],
        _ => Vec::new(),
    };
    if let InitArg::Model(p) = &args.init {
        inputs.push(("--init", p.as_path()));
    }
    check_paths(&inputs, &outputs).map_err(|e| Usage(e.to_string()))?;
    if let Some(p) = &plot {
        writable(p, "the plot")?;
    }
    if let SaveTo::File(p) = &save {
        writable(p, "the model")?;
    }
    if let Some(p) = &args.page {
        writable(p, "the page")?;
    }
    Ok((plot, save, args.page.clone()))
}

/// What `--page` needs of the data, checked before training: 2 features,
/// at most [`explain::MAX_POINTS`] points, and at most
/// [`explain::MAX_SAMPLE_GRAPHS`] points times snapshots.
fn check_page(
    path: &Path,
    data: &Dataset,
    dataset: &str,
    snapshots: usize,
    steps: usize,
) -> Result<(), Usage> {
    let path = path.display();
    if data.n_features() != 2 {
        return Err(Usage(format!(
            "--page {path}: the page draws the decision boundary over 2 features, but {dataset} has {}",
            count(data.n_features(), "feature")
        )));
    }
    if data.len() > explain::MAX_POINTS {
        return Err(Usage(format!(
            "--page {path}: {dataset} has {} points, more than the page's limit of {}: use fewer --samples",
            data.len(),
            explain::MAX_POINTS
        )));
    }
    if explain::page_extent(data).is_none() {
        return Err(Usage(format!(
            "--page {path}: {dataset}'s features span too wide a range to draw"
        )));
    }
    let kept = explain::snapshot_steps(steps, snapshots).len();
    if data.len() * kept > explain::MAX_SAMPLE_GRAPHS {
        return Err(Usage(format!(
            "--page {path}: {} points × {kept} snapshots = {} sample graphs, more than the page's limit of {}: use fewer --page-snapshots",
            data.len(),
            data.len() * kept,
            explain::MAX_SAMPLE_GRAPHS
        )));
    }
    Ok(())
}

/// `--init FILE.json`'s model, and the options it decides refused: the
/// layers, activations, loss and feature scaling are the model's.
fn load_initial_model(args: &Args, path: &Path) -> anyhow::Result<SavedModel> {
    for (given, option, what) in [
        (args.hidden.is_some(), "--hidden", "layers"),
        (args.activation.is_some(), "--activation", "activations"),
        (args.loss.is_some(), "--loss", "loss"),
        (args.standardize, "--standardize", "feature scaling"),
    ] {
        if given {
            return Err(Usage(format!(
                "{option}: the network starts from --init {}, whose {what} it keeps; leave {option} out",
                path.display()
            ))
            .into());
        }
    }
    SavedModel::load(path).with_context(|| format!("cannot load model {}", path.display()))
}

/// Whether `data` can train the saved `model`: as many features as its
/// inputs, as many classes, class names where it has them.
fn check_data_fits(
    model: &SavedModel,
    model_path: &Path,
    data: &Dataset,
    dataset: &str,
) -> Result<(), Usage> {
    let path = model_path.display();
    if data.n_features() != model.inputs {
        let e = NnError::FeatureCount {
            expected: model.inputs,
            found: data.n_features(),
        };
        return Err(Usage(format!("--init {path}: {dataset}: {e}")));
    }
    if data.n_classes() != model.classes {
        return Err(Usage(format!(
            "--init {path}: {dataset} has {}, but the model has {}",
            count(data.n_classes(), "class"),
            count(model.classes, "class"),
        )));
    }
    check_label_kind(data, dataset, model, model_path)
}

/// A warning for features far from unit scale (largest magnitude above 10,
/// or below 0.1 and not 0): without standardisation the default learning
/// rates make such data diverge or learn nothing.
fn scale_warning(data: &Dataset) -> Option<String> {
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

/// SGD momentum: at least 0 and below 1 (from 1 on, old gradients never
/// fade and the steps grow without bound).
pub fn momentum(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of at least 0 and less than 1, got `{s}`"
        )),
    }
}

/// Hidden layer sizes: `16,16`, or `none` for no hidden layer; each at
/// most [`Mlp::MAX_PARAMETERS`] (the network's total is checked when it is
/// built).
pub fn parse_hidden(s: &str) -> Result<Vec<usize>, String> {
    if s == "none" {
        return Ok(Vec::new());
    }
    let max = Mlp::MAX_PARAMETERS;
    s.split(',')
        .map(|p| match p.trim().parse::<i128>() {
            Ok(n) if n < 1 => Err(format!("layer sizes must be at least 1, got `{s}`")),
            Ok(n) if n > max as i128 => {
                Err(format!("layer sizes must be at most {max}, got `{s}`"))
            }
            Ok(n) => Ok(n as usize),
            Err(_) if p.trim().parse::<u128>().is_ok() => {
                Err(format!("layer sizes must be at most {max}, got `{s}`"))
            }
            Err(_) => Err(format!(
                "expected layer sizes like 16,16 (or none), got `{s}`"
            )),
        })
        .collect()
}
