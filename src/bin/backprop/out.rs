//! Checked writes to stdout.
//!
//! `println!` panics when stdout is gone (`backprop grad ... | head -1`
//! closes the pipe early). Subcommands write through [`stdout`] with
//! `writeln!(out, ...)?` and finish with `out.flush()?` instead, so a
//! failed write is an ordinary `io::Error`; `main` turns a broken pipe
//! anywhere in an error's chain into a quiet exit ([`is_broken_pipe`]).
//!
//! ```ignore
//! let mut out = out::stdout();
//! writeln!(out, "{}", value)?;
//! out.flush()?;
//! ```

use std::io::{self, BufWriter, StdoutLock, Write};

/// A buffered, locked stdout whose errors say `cannot write to stdout`
/// (and keep their [`io::ErrorKind`]). Flush it at the end: dropping it
/// flushes too, but ignores the error.
pub struct Stdout(BufWriter<StdoutLock<'static>>);

/// The program's stdout, for checked writes.
pub fn stdout() -> Stdout {
    Stdout(BufWriter::new(io::stdout().lock()))
}

impl Write for Stdout {
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

/// Whether the reason for `err` is a closed pipe (the reader has gone):
/// not worth a message, and not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
