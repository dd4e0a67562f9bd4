//! Training progress on stderr, so that stdout stays clean for results
//! and `--json`: a bar on a terminal, about ten lines otherwise, nothing
//! when quiet.

use std::io::IsTerminal;

use crate::out::note;

/// Progress over `steps` steps (counted from 0, like micrograd's log and
/// the divergence error). The bar and the lines show the same words, the
/// caller's line for a step (`step 3 loss 0.5, accuracy 90.0%`); the bar's
/// fill counts the steps done and it shows no number of its own (a redraw
/// between two updates would pair one step's count with the previous
/// step's line).
pub enum Progress {
    Bar(indicatif::ProgressBar),
    Lines { every: usize, last: usize },
    Quiet,
}

impl Progress {
    /// A bar when stderr is a terminal, lines otherwise, nothing when
    /// `quiet`.
    pub fn new(steps: usize, quiet: bool) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(steps as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {msg}  [{elapsed_precise}]")
                    .expect("a valid template"),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                every: (steps / 10).max(1),
                last: steps.saturating_sub(1),
            }
        }
    }

    /// Step `step` is done; `line` says how it went, and is called only
    /// when the step is shown: every step on the bar, every tenth of the
    /// run and the last as a line.
    pub fn update(&self, step: usize, line: impl FnOnce() -> String) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(step as u64 + 1);
                bar.set_message(line());
            }
            Progress::Lines { every, last } => {
                if step.is_multiple_of(*every) || step == *last {
                    note!("{}", line());
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Leaves the bar as it is and starts a new line after it.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.abandon();
            note!("");
        }
    }
}
