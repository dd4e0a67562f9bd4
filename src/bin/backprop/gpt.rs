//! `backprop gpt`: Karpathy's microgpt on names. Train (the default),
//! sample from a saved model, or draw the graph of one token's loss.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use backprop::format::JsonNumber;
use backprop::nn::DIVERGENCE_FACTOR;
use backprop::nn::gpt::{
    Gpt, GptConfig, GptError, GptTrainer, GptWeights, KvCache, MAX_BLOCK_SIZE, MAX_DATA_BYTES,
    MAX_EMBD, MAX_LAYERS, NAMES, Tokenizer, TrainOptions, documents, sample,
};
use backprop::plot::save_loss_plot;
use backprop::viz::{self, DotOptions, Format, Renderer, VizError};
use backprop::{Graph, NodeId};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::Usage;
use crate::args::{has_extension, plot_path, positive, writable};
use crate::format::{count, diverged};
use crate::out::{Out, note};
use crate::progress::Progress;
use backprop::format::exact;

/// Most steps `--steps` accepts. Each step keeps its loss and its time
/// (12 bytes) for the plot and `--json`: at most 120 MB.
const MAX_STEPS: u64 = 10_000_000;
/// Most names `--count`/`--samples` accept.
const MAX_COUNT: u64 = 1_000_000;

/// Arguments of `backprop gpt`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Train a GPT (the default action).
    Train(TrainArgs),
    /// Generate names with a saved model.
    Sample(SampleArgs),
    /// Draw the graph of one position's loss, or one attention head's output.
    Graph(GraphArgs),
}

/// The model sizes, shared by training.
#[derive(clap::Args, Clone)]
struct SizeArgs {
    /// Transformer layers (1 to 64).
    #[arg(long, default_value_t = 1, value_parser = size(MAX_LAYERS))]
    layers: usize,
    /// Embedding width (1 to 1024; a multiple of --heads).
    #[arg(long, default_value_t = 16, value_parser = size(MAX_EMBD))]
    embd: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 4, value_parser = size(MAX_EMBD))]
    heads: usize,
    /// Context length in tokens (1 to 1024): documents of up to this many
    /// characters minus 1 are learned whole, with their end.
    #[arg(long, default_value_t = 16, value_parser = size(MAX_BLOCK_SIZE))]
    block_size: usize,
}

/// A whole number from 1 to `max`.
fn size(max: usize) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=max as u64)
}

/// Arguments of `backprop gpt train`.
#[derive(clap::Args, Clone)]
struct TrainArgs {
    /// Training text, one document per line (UTF-8; blank lines skipped)
    /// [default: the 32,033 names of makemore's names.txt].
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Training steps, one document each.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=MAX_STEPS))]
    steps: u64,
    /// Initial learning rate (decays linearly to 0).
    #[arg(long, default_value_t = 0.01, value_parser = positive, allow_negative_numbers = true)]
    lr: f64,
    /// Seed of the shuffle, the initial weights and sampling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train on the documents in file order.
    #[arg(long)]
    no_shuffle: bool,
    #[command(flatten)]
    sizes: SizeArgs,
    /// Start from these weights (.safetensors, or .json: tensor name to a
    /// list of rows) instead of random ones.
    #[arg(long, value_name = "FILE")]
    init: Option<PathBuf>,
    /// Save the trained model (.safetensors, vocabulary and sizes in the
    /// metadata).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Where to draw the loss curve (.png or .svg) [default: gpt.png].
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Draw no plot.
    #[arg(long, conflicts_with = "plot")]
    no_plot: bool,
    /// Names to generate after training.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=MAX_COUNT))]
    samples: u64,
    /// Sampling temperature (above 0; lower is more conservative).
    #[arg(long, default_value_t = 0.5, value_parser = positive, allow_negative_numbers = true)]
    temperature: f64,
    /// Print no progress and no summary (errors, samples and --json still print).
    #[arg(long, short)]
    quiet: bool,
    /// Print a JSON summary (per-step losses, ms per step, samples) on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `backprop gpt sample`.
#[derive(clap::Args)]
struct SampleArgs {
    /// The model (.safetensors written by `backprop gpt --save`).
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// How many names.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=MAX_COUNT))]
    count: u64,
    /// Sampling temperature (above 0).
    #[arg(long, default_value_t = 0.5, value_parser = positive, allow_negative_numbers = true)]
    temperature: f64,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Start every name with these characters.
    #[arg(long, default_value = "")]
    prefix: String,
}

/// Arguments of `backprop gpt graph`.
#[derive(clap::Args)]
struct GraphArgs {
    /// The model (.safetensors written by `backprop gpt --save`).
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The document to run the model on.
    #[arg(long, default_value = "emma")]
    text: String,
    /// The position whose loss (predicting the next character) is drawn;
    /// 0 is the BOS token.
    #[arg(long, default_value_t = 0)]
    pos: usize,
    /// Draw this attention head's output at --pos instead of the loss.
    #[arg(long)]
    head: Option<usize>,
    /// With --head: the layer.
    #[arg(long, default_value_t = 0, requires = "head")]
    layer: usize,
    /// With --head: which of the head's head_dim outputs.
    #[arg(long, default_value_t = 0, requires = "head")]
    dim: usize,
    /// Output file (.dot, .svg, .png, or .html for the interactive page
    /// that replays the forward and backward pass); without it, or with `-`, DOT goes
    /// to stdout. SVG and PNG need Graphviz for graphs of more than a few
    /// hundred nodes; .html needs nothing installed.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the backward pass step by step (as `backprop explain` does)
    /// instead of drawing.
    #[arg(long, conflicts_with = "output")]
    explain: bool,
    /// With .html or --explain: keep only the paths from the output to
    /// this parameter (for example `lm_head[3,0]`); a position's whole loss
    /// graph is larger than a page holds.
    #[arg(long, value_name = "NAME")]
    leaf: Option<String>,
}

/// Runs `backprop gpt`.
pub fn run(args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    match args.action {
        None => train(args.train, out),
        Some(Action::Train(a)) => train(a, out),
        Some(Action::Sample(a)) => sample_cmd(a, out),
        Some(Action::Graph(a)) => graph(a, out),
    }
}

/// A library error from bad input as a usage error (exit 2), keeping
/// I/O-like failures (unreadable files) as exit 1.
fn usage(e: GptError) -> anyhow::Error {
    match e {
        GptError::Format(m) if m.contains("cannot read") => anyhow::anyhow!(m),
        // The model's own numbers, not the user's input: a runtime failure.
        e @ GptError::NonFiniteLogit { .. } => anyhow::anyhow!("cannot sample: {e}"),
        e => Usage(e.to_string()).into(),
    }
}

/// `backprop gpt train`: resolve the arguments into a [`Plan`], train,
/// report.
fn train(args: TrainArgs, out: &mut Out) -> anyhow::Result<ExitCode> {
    let plan = Plan::resolve(args)?;
    let trained = plan.execute()?;
    plan.report(&trained, out)?;
    Ok(ExitCode::SUCCESS)
}

/// What `gpt train` will do, checked before any work: the outputs
/// writable, the documents and the initial weights read.
struct Plan {
    args: TrainArgs,
    plot: Option<PathBuf>,
    /// Where the documents come from: `names` or the file's path.
    source: String,
    docs: Vec<String>,
    tokenizer: Tokenizer,
    config: GptConfig,
    /// `--init`'s weights, their vocabulary checked against the data's.
    init: Option<GptWeights>,
}

/// The outcome of training and sampling.
struct Trained {
    graph: Graph,
    model: Gpt,
    /// Each step's loss.
    losses: Vec<f64>,
    /// Each step's time in seconds.
    times: Vec<f32>,
    elapsed: Duration,
    /// The names sampled after training.
    names: Vec<String>,
}

/// What `gpt train --json` prints.
#[derive(Serialize)]
struct Summary<'a> {
    data: &'a str,
    documents: usize,
    /// The vocabulary's characters in token order (BOS is the last token).
    vocab: String,
    config: GptConfig,
    parameters: usize,
    steps: usize,
    lr: f64,
    losses: Vec<JsonNumber>,
    mean_loss_last_100: JsonNumber,
    ms_per_step: f64,
    total_time_s: f64,
    samples: &'a [String],
    plot: Option<String>,
    model: Option<String>,
}

impl Plan {
    fn resolve(args: TrainArgs) -> anyhow::Result<Plan> {
        let plot = plot_path(args.no_plot, args.plot.as_deref(), "gpt.png")?;
        if let Some(p) = &args.save
            && !has_extension(p, &["safetensors"])
        {
            return Err(Usage(format!(
                "--save {}: use a .safetensors file name",
                p.display()
            ))
            .into());
        }
        // Before any work: an output that is also an input (or the other
        // output), or an unwritable file found only after training, would
        // lose data or throw the training away.
        let inputs: Vec<(&str, &Path)> = [("--data", &args.data), ("--init", &args.init)]
            .into_iter()
            .filter_map(|(what, p)| p.as_deref().map(|p| (what, p)))
            .collect();
        let outputs: Vec<(&str, &Path)> = [("--save", &args.save), ("--plot", &plot)]
            .into_iter()
            .filter_map(|(what, p)| p.as_deref().map(|p| (what, p)))
            .collect();
        backprop::files::check_paths(&inputs, &outputs).map_err(|e| Usage(e.to_string()))?;
        for (p, what) in [(&plot, "the plot"), (&args.save, "the model")] {
            if let Some(p) = p {
                writable(p, what)?;
            }
        }
        let (docs, source) = match &args.data {
            None => (
                documents(NAMES.as_bytes()).map_err(usage)?,
                "names".to_string(),
            ),
            Some(p) => {
                let bytes = backprop::files::read_limited(p, MAX_DATA_BYTES).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::FileTooLarge {
                        anyhow::Error::new(Usage(format!("--data {}: {e}", p.display())))
                    } else {
                        anyhow::Error::new(e)
                            .context(format!("cannot read the data file {}", p.display()))
                    }
                })?;
                let docs =
                    documents(&bytes).map_err(|e| Usage(format!("--data {}: {e}", p.display())))?;
                (docs, p.display().to_string())
            }
        };
        let tokenizer = Tokenizer::from_documents(&docs);
        let s = &args.sizes;
        let config = GptConfig {
            n_layer: s.layers,
            n_embd: s.embd,
            n_head: s.heads,
            block_size: s.block_size,
            vocab_size: tokenizer.vocab_size(),
        };
        config.validate().map_err(|e| {
            Usage(match e {
                GptError::Heads { n_embd, n_head } => {
                    format!("--embd {n_embd} is not divisible by --heads {n_head}")
                }
                // The library's names are the config's fields; say the flag.
                GptError::Size {
                    what,
                    got,
                    min,
                    max,
                } => {
                    let flag = match what {
                        "n_layer" => "--layers",
                        "n_embd" => "--embd",
                        "n_head" => "--heads",
                        "block_size" => "--block-size",
                        other => other,
                    };
                    let why = if what == "n_head" {
                        format!(" (at most --embd, {max})")
                    } else {
                        String::new()
                    };
                    format!("{flag} must be between {min} and {max}{why}, got {got}")
                }
                e => e.to_string(),
            })
        })?;
        let init = match &args.init {
            None => None,
            Some(p) => {
                let w = GptWeights::load(p).map_err(usage)?;
                if let Some(v) = &w.vocab
                    && v != &tokenizer
                {
                    return Err(Usage(format!(
                        "--init {}: {}",
                        p.display(),
                        GptError::Vocab {
                            model: v.as_string(),
                            data: tokenizer.as_string()
                        }
                    ))
                    .into());
                }
                Some(w)
            }
        };
        Ok(Plan {
            args,
            plot,
            source,
            docs,
            tokenizer,
            config,
            init,
        })
    }

    /// Builds the model, trains it with progress on stderr, then samples
    /// names.
    fn execute(&self) -> anyhow::Result<Trained> {
        let (args, config) = (&self.args, self.config);
        let g = Graph::new();
        let model = match (&self.init, &args.init) {
            (Some(w), Some(p)) => Gpt::from_tensors(&g, config, &w.tensors)
                .map_err(|e| Usage(format!("--init {}: {e}", p.display())))?,
            _ => Gpt::new(&g, config, args.seed).map_err(usage)?,
        };
        let steps = args.steps as usize;
        if !args.quiet {
            note!(
                "training a GPT ({}, {} embd, {} heads, block {}, {}) on {} of {}, vocabulary {}: Adam lr {}, {}",
                count(config.n_layer, "layer"),
                config.n_embd,
                config.n_head,
                config.block_size,
                count(config.num_parameters(), "parameter"),
                count(self.docs.len(), "document"),
                self.source,
                config.vocab_size,
                exact(args.lr),
                count(steps, "step")
            );
        }
        let options = TrainOptions {
            steps,
            lr: args.lr,
            seed: args.seed,
            shuffle: !args.no_shuffle,
        };
        let mut trainer = GptTrainer::new(g, model, &self.docs, &self.tokenizer, options);
        let progress = Progress::new(steps, args.quiet);
        let mut losses = Vec::with_capacity(steps);
        let mut times = Vec::with_capacity(steps);
        let start = Instant::now();
        let mut running = None;
        for k in 0..steps {
            let t = Instant::now();
            let loss = trainer.step();
            times.push(t.elapsed().as_secs_f32());
            // As `train` does: a loss that is not finite, or a thousand
            // times the first, stops the run before anything is written.
            let first = losses.first().copied().unwrap_or(loss);
            if !loss.is_finite() || loss > DIVERGENCE_FACTOR * first.max(1.0) {
                progress.finish();
                anyhow::bail!(
                    "{}; nothing was saved. Try a smaller --lr (it was {})",
                    diverged(k, loss, first),
                    exact(args.lr)
                );
            }
            losses.push(loss);
            // microgpt prints the loss of each step; a running mean reads
            // better.
            let r = running.map_or(loss, |r: f64| 0.95 * r + 0.05 * loss);
            running = Some(r);
            progress.update(k, || format!("step {k} loss {r:.4}"));
        }
        let elapsed = start.elapsed();
        progress.finish();
        let (mut graph, model) = trainer.into_parts();
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
        rng.set_stream(2);
        let mut names = Vec::new();
        for _ in 0..args.samples {
            let tokens =
                sample(&mut graph, &model, &mut rng, args.temperature, &[]).map_err(usage)?;
            names.push(self.tokenizer.decode(&tokens));
        }
        Ok(Trained {
            graph,
            model,
            losses,
            times,
            elapsed,
            names,
        })
    }

    /// Draws the loss curve, saves the model, prints the summary and the
    /// names.
    fn report(&self, trained: &Trained, out: &mut Out) -> anyhow::Result<()> {
        let (args, config) = (&self.args, self.config);
        let Trained {
            graph,
            model,
            losses,
            times,
            elapsed,
            names,
        } = trained;
        if let Some(path) = &self.plot {
            let title = format!("microgpt on {}: loss per step", self.source);
            save_loss_plot(path, &title, losses)?;
        }
        if let Some(path) = &args.save {
            let bytes =
                GptWeights::to_safetensors(&config, &self.tokenizer, &model.weights(graph))?;
            backprop::viz::write_atomic(path, &bytes)
                .with_context(|| format!("cannot save the model to {}", path.display()))?;
        }
        let ms_per_step = median_ms(&mut times.clone());
        let last = &losses[losses.len().saturating_sub(100)..];
        let last_mean = last.iter().sum::<f64>() / last.len() as f64;
        if args.json {
            return out.json(&Summary {
                data: &self.source,
                documents: self.docs.len(),
                vocab: self.tokenizer.as_string(),
                config,
                parameters: config.num_parameters(),
                steps: losses.len(),
                lr: args.lr,
                losses: losses.iter().map(|&l| JsonNumber(l)).collect(),
                mean_loss_last_100: JsonNumber(last_mean),
                ms_per_step,
                total_time_s: elapsed.as_secs_f64(),
                samples: names,
                plot: self.plot.as_ref().map(|p| p.display().to_string()),
                model: args.save.as_ref().map(|p| p.display().to_string()),
            });
        }
        if !args.quiet {
            writeln!(
                out,
                "{} in {:.3} s ({ms_per_step:.4} ms/step median): loss {:.4} (mean of the last {}: {last_mean:.4})",
                count(losses.len(), "step"),
                elapsed.as_secs_f64(),
                losses.last().copied().unwrap_or(f64::NAN),
                last.len()
            )?;
            if !names.is_empty() {
                writeln!(out, "samples (temperature {}):", exact(args.temperature))?;
            }
        }
        for n in names {
            writeln!(out, "{n}")?;
        }
        if !args.quiet {
            if let Some(p) = &self.plot {
                writeln!(out, "wrote the loss curve to {}", p.display())?;
            }
            if let Some(p) = &args.save {
                writeln!(out, "saved the model to {}", p.display())?;
            }
        }
        Ok(())
    }
}

/// A saved model, its graph and its vocabulary.
fn load_model(path: &Path) -> anyhow::Result<(Graph, Gpt, Tokenizer)> {
    let w = GptWeights::load(path).map_err(usage)?;
    let bad = |m: String| Usage(format!("--model {}: {m}", path.display()));
    let (Some(config), Some(vocab)) = (w.config, w.vocab.clone()) else {
        return Err(bad(
            "the metadata has no vocabulary or sizes (save models with `backprop gpt --save`)"
                .into(),
        )
        .into());
    };
    if vocab.vocab_size() != config.vocab_size {
        return Err(bad(format!(
            "the vocabulary has {} tokens but vocab_size is {}",
            vocab.vocab_size(),
            config.vocab_size
        ))
        .into());
    }
    let g = Graph::new();
    let model = Gpt::from_tensors(&g, config, &w.tensors).map_err(|e| bad(e.to_string()))?;
    Ok((g, model, vocab))
}

fn sample_cmd(args: SampleArgs, out: &mut Out) -> anyhow::Result<ExitCode> {
    let (mut g, model, tokenizer) = load_model(&args.model)?;
    let prefix = tokenizer
        .encode(&args.prefix)
        .map_err(|e| Usage(format!("--prefix {:?}: {e}", args.prefix)))?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    rng.set_stream(2);
    for _ in 0..args.count {
        let tokens =
            sample(&mut g, &model, &mut rng, args.temperature, &prefix).map_err(|e| match e {
                GptError::PrefixTooLong { .. } | GptError::UnknownChars { .. } => {
                    Usage(format!("--prefix {:?}: {e}", args.prefix)).into()
                }
                GptError::NonFiniteLogit { .. } => {
                    anyhow::anyhow!("cannot sample from {}: {e}", args.model.display())
                }
                e => usage(e),
            })?;
        writeln!(out, "{}", tokenizer.decode(&tokens))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `backprop gpt graph`: one position's loss (or one head's output) as a
/// drawing, a page or explained steps.
fn graph(mut args: GraphArgs, out: &mut Out) -> anyhow::Result<ExitCode> {
    // `-o -` is stdout, as in `draw`: DOT, as without `-o`.
    if args.output.as_deref() == Some(Path::new("-")) {
        args.output = None;
    }
    let html = args
        .output
        .as_deref()
        .is_some_and(|p| has_extension(p, &["html", "htm"]));
    if args.leaf.is_some() && !(args.explain || html) {
        return Err(Usage("--leaf is for .html pages and --explain".into()).into());
    }
    let format = match &args.output {
        None => Format::Dot,
        Some(_) if html => Format::Dot,
        Some(p) => Format::from_path(p).ok_or_else(|| {
            Usage(format!(
                "-o {}: use a .dot, .svg, .png or .html file name",
                p.display()
            ))
        })?,
    };
    if let Some(p) = &args.output {
        backprop::files::check_paths(&[("--model", &args.model)], &[("-o", p)])
            .map_err(|e| Usage(e.to_string()))?;
        writable(p, "the drawing")?;
    }
    let (g, model, tokenizer) = load_model(&args.model)?;
    let root = graph_root(&args, &g, &model, &tokenizer)?;
    let bytes = if args.explain || html {
        explained(&args, &g, root, html)?
    } else {
        drawn(&g, root, format)?
    };
    write_graph_output(
        args.output.as_deref(),
        &bytes,
        g.trace(root).nodes.len(),
        out,
    )
}

/// Runs the model on `--text` up to `--pos` and back-propagates from the
/// node `gpt graph` shows: the position's loss, or with `--head` one of
/// that head's outputs. Parameters are labelled by their tensor names.
fn graph_root(
    args: &GraphArgs,
    g: &Graph,
    model: &Gpt,
    tokenizer: &Tokenizer,
) -> anyhow::Result<NodeId> {
    let config = model.config();
    tokenizer
        .encode(&args.text)
        .map_err(|e| Usage(format!("--text {:?}: {e}", args.text)))?;
    let tokens = tokenizer.document(&args.text, config.block_size);
    if args.pos + 1 >= tokens.len() {
        return Err(Usage(format!(
            "--pos {}: {:?} has positions 0 to {} (BOS, then each character but the last predicts the next)",
            args.pos,
            args.text,
            tokens.len() - 2
        ))
        .into());
    }
    model.label_parameters(g);
    let root = match args.head {
        None => model
            .position_loss(g, &tokens, args.pos)
            .with_label(format!("loss[{}]", args.pos)),
        Some(h) => {
            let hd = config.head_dim();
            if h >= config.n_head || args.layer >= config.n_layer || args.dim >= hd {
                return Err(Usage(format!(
                    "--head {h} --layer {} --dim {}: the model has heads 0 to {}, layers 0 to {} and head_dim {hd}",
                    args.layer,
                    args.dim,
                    config.n_head - 1,
                    config.n_layer - 1
                ))
                .into());
            }
            let mut cache = KvCache::new(config.n_layer);
            for (p, &t) in tokens[..=args.pos].iter().enumerate() {
                model.forward(g, t, p, &mut cache);
            }
            cache.attention(args.layer, args.pos).expect("computed")[h * hd + args.dim].with_label(
                format!("layer{}.head{h}[{}] at {}", args.layer, args.dim, args.pos),
            )
        }
    };
    root.backward();
    Ok(root.id())
}

/// The graph under `root` as the interactive page (`html`) or as
/// `explain`'s steps, kept to the paths to `--leaf` when given.
fn explained(args: &GraphArgs, g: &Graph, root: NodeId, html: bool) -> anyhow::Result<Vec<u8>> {
    let mut e = backprop::explain::explain(g.get(root));
    if let Some(leaf) = &args.leaf {
        // Checked here for the message; the page focuses its own copy.
        let focused = e
            .clone()
            .focus(leaf)
            .map_err(|err| Usage(format!("--leaf: {err}")))?;
        if !html {
            e = focused;
        }
    }
    Ok(if html {
        let title = format!("microgpt: {:?}, position {}", args.text, args.pos);
        backprop::explain::to_html(&e, args.leaf.as_deref(), &title)
            .map_err(|err| Usage(format!("cannot draw the page: {err}")))?
            .into_bytes()
    } else {
        let options = backprop::explain::TextOptions::default();
        e.truncate(backprop::explain::DEFAULT_MAX_STEPS);
        e.to_text(&options).into_bytes()
    })
}

/// The graph under `root` as DOT, SVG or PNG.
fn drawn(g: &Graph, root: NodeId, format: Format) -> anyhow::Result<Vec<u8>> {
    viz::render_within(
        g,
        root,
        &DotOptions::default(),
        format,
        Renderer::Auto,
        Duration::from_secs(60),
    )
    .map_err(|e| match e {
        // Graphs too big for the layout at hand: the user can ask for DOT
        // or a smaller graph. A missing Graphviz is the machine's failure
        // (exit 1, as in `draw`).
        VizError::TooLarge { .. }
        | VizError::TooTangled { .. }
        | VizError::TooLargeForGraphviz { .. } => Usage(e.to_string()).into(),
        e => anyhow::Error::new(e).context("cannot draw the graph"),
    })
}

/// Writes a drawing, page or explanation to `output` (stdout without one).
fn write_graph_output(
    output: Option<&Path>,
    bytes: &[u8],
    nodes: usize,
    out: &mut Out,
) -> anyhow::Result<ExitCode> {
    match output {
        None => out.write_all(bytes)?,
        Some(p) => {
            viz::write_atomic(p, bytes)
                .with_context(|| format!("cannot write the drawing to {}", p.display()))?;
            note!("wrote {} to {}", count(nodes, "node"), p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The median of the step times (seconds), in milliseconds.
fn median_ms(times: &mut [f32]) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    times.sort_unstable_by(f32::total_cmp);
    let n = times.len();
    let mid = if n % 2 == 1 {
        f64::from(times[n / 2])
    } else {
        (f64::from(times[n / 2 - 1]) + f64::from(times[n / 2])) / 2.0
    };
    mid * 1e3
}
