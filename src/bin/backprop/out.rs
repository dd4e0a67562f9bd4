//! The one way the program writes: results to stdout, messages to stderr.
//!
//! `println!` panics when stdout is gone (`backprop grad ... | head -1`
//! closes the pipe early), and `eprintln!` when stderr is. Every
//! subcommand writes through the [`Out`] that `main` hands it instead:
//! results with `writeln!(out, ...)?` (or [`Out::json`]), so a failed write
//! is an ordinary `io::Error` that `main` turns into a quiet exit when the
//! reader has gone ([`is_broken_pipe`]); messages with [`note!`], which
//! never fails (with stderr closed there is no one to tell).
//!
//! ```ignore
//! writeln!(out, "{}", value)?;
//! note!("wrote the plot to {}", path.display());
//! out.json(&summary)?;
//! ```

use std::io::{self, BufWriter, StdoutLock, Write};

use serde::Serialize;

/// Buffered, locked stdout for results, whose errors say `cannot write to
/// stdout` (and keep their [`io::ErrorKind`]). `main` flushes it with
/// [`Out::finish`] after the subcommand returns.
pub struct Out(BufWriter<StdoutLock<'static>>);

impl Out {
    /// The program's stdout.
    pub fn new() -> Self {
        Out(BufWriter::new(io::stdout().lock()))
    }

    /// `value` as pretty-printed JSON and a newline (numbers that JSON
    /// lacks go through [`backprop::format::JsonNumber`] in the output types).
    pub fn json(&mut self, value: &impl Serialize) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *self, value)?;
        writeln!(self)?;
        Ok(())
    }

    /// `value` as JSON on one line.
    pub fn json_line(&mut self, value: &impl Serialize) -> anyhow::Result<()> {
        serde_json::to_writer(&mut *self, value)?;
        writeln!(self)?;
        Ok(())
    }

    /// Flushes what is buffered; the error of a failed write.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(explain)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(explain)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(explain)
    }
}

fn explain(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write to stdout: {e}"))
}

/// Writes one line to stderr: progress, warnings, what was written where,
/// errors. A failure to write is ignored: stderr is where failures would
/// be reported.
///
/// Control characters other than newline and tab, and the invisible
/// bidirectional controls, are written escaped (`\u{1b}`), as the program
/// parser shows them: a message quotes the user's text (a CSV cell, an
/// argument, a file name), which must not drive the terminal or hide a
/// NUL byte.
///
/// A word (a run without spaces) longer than [`LONG_WORD`] characters, such
/// as a megabyte CSV cell quoted in an error, is shown cut to its first and
/// last characters around a `…`, so the message stays readable.
pub fn write_note(message: std::fmt::Arguments<'_>) {
    let text = message.to_string();
    let text = cut_long_words(&text);
    let _ = writeln!(io::stderr().lock(), "{}", escape_controls(&text));
}

/// Words longer than this many characters are cut in messages.
const LONG_WORD: usize = 200;

/// `text` with each word of more than [`LONG_WORD`] characters cut to its
/// first 60 and last 8 characters around `…`.
fn cut_long_words(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= LONG_WORD {
        return text.into();
    }
    let mut out = String::with_capacity(text.len().min(4096));
    let mut changed = false;
    for piece in text.split_inclusive([' ', '\n']) {
        let word = piece.trim_end_matches([' ', '\n']);
        let n = word.chars().count();
        if n > LONG_WORD {
            changed = true;
            out.extend(word.chars().take(60));
            out.push('…');
            out.extend(word.chars().skip(n - 8));
            out.push_str(&piece[word.len()..]);
        } else {
            out.push_str(piece);
        }
    }
    if changed { out.into() } else { text.into() }
}

/// `text` with the characters [`backprop::format::is_hidden`] names
/// escaped as `\u{..}`, except `\n` and `\t`, which lay out the message.
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c != '\n' && c != '\t' && backprop::format::is_hidden(c);
    if !text.contains(hidden) {
        return text.into();
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            escaped.push_str(&backprop::format::escape_char(c));
        } else {
            escaped.push(c);
        }
    }
    escaped.into()
}

/// `note!("...", args)`: [`write_note`] with `format!` arguments.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::out::write_note(format_args!($($arg)*))
    };
}
pub(crate) use note;

/// Whether the reason for `err` is a closed pipe (the reader has gone):
/// not worth a message, and not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
