//! `backprop grad`: the value and gradients of an expression program.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use backprop::Graph;
use backprop::expr::{MAX_PROGRAM_BYTES, ParseError, Program, parse_override};
use backprop::gradcheck::Tolerances;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::args::{non_negative, positive};
use crate::{Usage, out};

/// Where the program comes from, and input overrides: shared by `grad` and
/// `draw`.
#[derive(clap::Args)]
pub struct ProgramArgs {
    /// The program, e.g. 'x = 2; y = x**2' (`-` reads it from stdin).
    #[arg(
        value_name = "PROGRAM",
        required_unless_present = "file",
        conflicts_with = "file",
        allow_hyphen_values = true
    )]
    pub program: Option<String>,
    /// Read the program from a file (`-` for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Set or override an input, e.g. --at x1=2.5 (repeatable).
    #[arg(long = "at", value_name = "NAME=VALUE")]
    pub at: Vec<String>,
}

/// A parsed program and its validated overrides.
pub struct Loaded {
    pub program: Program,
    pub overrides: Vec<(String, f64)>,
}

impl ProgramArgs {
    /// Reads and parses the program and the `--at` overrides; parse errors
    /// and bad overrides are [`Usage`] errors with a caret snippet.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let (origin, src) = match (&self.program, &self.file) {
            (Some(p), _) if p == "-" => ("<stdin>".to_string(), read_stdin()?),
            (Some(p), _) => ("<program>".to_string(), p.clone()),
            (None, Some(f)) if f.as_os_str() == "-" => ("<stdin>".to_string(), read_stdin()?),
            (None, Some(f)) => (f.display().to_string(), read_file(f)?),
            (None, None) => {
                return Err(Usage("give a program, or -f FILE".into()).into());
            }
        };
        let program = Program::parse(&src).map_err(|e| usage(&origin, &e))?;
        let mut overrides: Vec<(String, f64)> = Vec::with_capacity(self.at.len());
        let mut given: HashMap<String, &str> = HashMap::new();
        for text in &self.at {
            let (name, value) = parse_override(text).map_err(|e| usage("--at", &e))?;
            if let Some(first) = given.insert(name.clone(), text) {
                return Err(Usage(format!(
                    "--at: `{name}` is set twice (`{first}` and `{text}`); give each input once"
                ))
                .into());
            }
            overrides.push((name, value));
        }
        // Validate the names now, so every later step can rely on them.
        program
            .input_values(&overrides)
            .map_err(|e| Usage(format!("--at: {e}")))?;
        Ok(Loaded { program, overrides })
    }
}

/// The program on stdin, at most [`MAX_PROGRAM_BYTES`] of it.
fn read_stdin() -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_PROGRAM_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the program from stdin")?;
    if bytes.len() as u64 > MAX_PROGRAM_BYTES {
        return Err(Usage(format!(
            "<stdin>: the program is larger than the limit of {} MiB",
            MAX_PROGRAM_BYTES >> 20
        ))
        .into());
    }
    Ok(decode("<stdin>", bytes)?)
}

/// The program file, at most [`MAX_PROGRAM_BYTES`] of it.
fn read_file(path: &Path) -> anyhow::Result<String> {
    let bytes = backprop::files::read_limited(path, MAX_PROGRAM_BYTES)
        .with_context(|| format!("cannot read the program file `{}`", path.display()))?;
    Ok(decode(&path.display().to_string(), bytes)?)
}

/// The program text, or a [`Usage`] error saying where it stops being
/// UTF-8 (byte offset, line and column, lines ended as the language ends
/// them: `\n`, `\r\n` or `\r`).
fn decode(origin: &str, bytes: Vec<u8>) -> Result<String, Usage> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let mut line = 1;
        let mut line_start = 0;
        let mut chars = good.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let crlf = c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n');
            if (c == '\n' || c == '\r') && !crlf {
                line += 1;
                line_start = i + 1;
            }
        }
        let col = good[line_start..].chars().count() + 1;
        Usage(format!(
            "{origin}:{line}:{col}: the program is not UTF-8 text: byte {at} (0x{:02x}) is not \
             valid UTF-8",
            bytes[at]
        ))
    })
}

/// A parse error as a compiler shows it: `origin:line:col: message` and the
/// line with a caret under the spot.
fn usage(origin: &str, e: &ParseError) -> Usage {
    Usage(format!(
        "{origin}:{}:{}: {}\n{}",
        e.span.line,
        e.span.col,
        e.kind,
        e.snippet()
    ))
}

/// Arguments of `backprop grad`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub source: ProgramArgs,
    /// Print one JSON object instead of a table (non-finite numbers are
    /// the strings "NaN", "inf", "-inf").
    #[arg(long)]
    pub json: bool,
    /// Also compare each input's gradient with a central finite difference;
    /// exit code 1 if any is off by more than atol + rtol * |numeric|.
    #[arg(long)]
    pub check: bool,
    /// Finite-difference step for --check (positive).
    #[arg(
        long,
        default_value_t = Tolerances::default().eps,
        value_name = "H",
        value_parser = positive,
        allow_hyphen_values = true,
        requires = "check"
    )]
    pub eps: f64,
    /// Absolute tolerance for --check (zero or more).
    #[arg(
        long,
        default_value_t = Tolerances::default().atol,
        value_name = "TOL",
        value_parser = non_negative,
        allow_hyphen_values = true,
        requires = "check"
    )]
    pub atol: f64,
    /// Also print the Hessian of the output with respect to the inputs
    /// (second derivatives, from the gradient differentiated again); with
    /// --json, adds "hessian": {"x": {"x": ..., "y": ...}, ...}. At most
    /// 64 inputs.
    #[arg(long)]
    pub hessian: bool,
    /// Relative tolerance for --check (zero or more).
    #[arg(
        long,
        default_value_t = Tolerances::default().rtol,
        value_name = "TOL",
        value_parser = non_negative,
        allow_hyphen_values = true,
        requires = "check"
    )]
    pub rtol: f64,
}

/// The most inputs `--hessian` takes: its table has a row and a column
/// per input, and each row costs one more sweep over the graph.
pub const MAX_HESSIAN_INPUTS: usize = 64;

/// A JSON value that keeps object keys in the order given (serde_json's
/// own map sorts them). Finite numbers are written as numbers with full
/// precision, the others as the strings "NaN", "inf" and "-inf".
enum Json {
    Str(String),
    Num(f64),
    Bool(bool),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Str(x) => s.serialize_str(x),
            Json::Num(x) if x.is_finite() => s.serialize_f64(*x),
            Json::Num(x) if x.is_nan() => s.serialize_str("NaN"),
            Json::Num(x) if *x > 0.0 => s.serialize_str("inf"),
            Json::Num(_) => s.serialize_str("-inf"),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Arr(items) => s.collect_seq(items),
            Json::Obj(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

/// An object with the given keys, in order.
fn obj<K: Into<String>>(entries: impl IntoIterator<Item = (K, Json)>) -> Json {
    Json::Obj(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// Runs `backprop grad`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Loaded { program, overrides } = args.source.load()?;
    let g = Graph::new();
    let ev = program
        .eval(&g, &overrides)
        .map_err(|e| Usage(format!("--at: {e}")))?;
    if args.hessian && ev.inputs.len() > MAX_HESSIAN_INPUTS {
        return Err(Usage(format!(
            "--hessian takes at most {MAX_HESSIAN_INPUTS} inputs, the program has {}",
            ev.inputs.len()
        ))
        .into());
    }
    ev.output.backward();
    let input_names: Vec<&str> = ev.inputs.iter().map(|(n, _)| n.as_str()).collect();
    let input_values: Vec<_> = ev.inputs.iter().map(|&(_, v)| v).collect();
    let named = ev.named();
    // Fresh gradients keep the sign of a zero gradient, as PyTorch does
    // (`.grad` accumulates onto 0.0, which loses it).
    let named_grads = g.gradients(
        ev.output,
        &named.iter().map(|&(_, v)| v).collect::<Vec<_>>(),
    );
    let input_grads = g.gradients(ev.output, &input_values);
    let hessian = args.hessian.then(|| g.hessian(ev.output, &input_values));
    let report = if args.check {
        let tol = Tolerances {
            eps: args.eps,
            atol: args.atol,
            rtol: args.rtol,
        };
        Some(
            program
                .gradcheck(&overrides, tol)
                .map_err(|e| Usage(format!("--check: {e}")))?,
        )
    } else {
        None
    };
    let mut out = out::stdout();
    if args.json {
        let mut fields = vec![
            ("output", Json::Str(ev.output_name.clone())),
            ("value", Json::Num(ev.output.data())),
            (
                "grads",
                obj(input_names
                    .iter()
                    .zip(&input_grads)
                    .map(|(&n, &d)| (n, Json::Num(d)))),
            ),
            (
                "inputs",
                obj(ev
                    .inputs
                    .iter()
                    .map(|(n, v)| (n.as_str(), Json::Num(v.data())))),
            ),
            (
                "nodes",
                Json::Arr(
                    named
                        .iter()
                        .zip(&named_grads)
                        .map(|((n, v), &d)| {
                            obj([
                                ("name", Json::Str(n.to_string())),
                                ("data", Json::Num(v.data())),
                                ("grad", Json::Num(d)),
                            ])
                        })
                        .collect(),
                ),
            ),
        ];
        if let Some(h) = &hessian {
            fields.push((
                "hessian",
                obj(input_names.iter().zip(h).map(|(&row, hs)| {
                    (
                        row,
                        obj(input_names
                            .iter()
                            .zip(hs)
                            .map(|(&col, &d)| (col, Json::Num(d)))),
                    )
                })),
            ));
        }
        if let Some(r) = &report {
            let inputs = r
                .inputs
                .iter()
                .map(|c| {
                    obj([
                        ("name", Json::Str(input_names[c.index].to_string())),
                        ("analytic", Json::Num(c.analytic)),
                        ("numeric", Json::Num(c.numeric)),
                        ("abs_error", Json::Num(c.abs_error)),
                        ("rel_error", Json::Num(c.rel_error)),
                        ("passed", Json::Bool(c.passed)),
                    ])
                })
                .collect();
            fields.push((
                "check",
                obj([
                    ("passed", Json::Bool(r.passed())),
                    ("eps", Json::Num(r.tolerances.eps)),
                    ("atol", Json::Num(r.tolerances.atol)),
                    ("rtol", Json::Num(r.tolerances.rtol)),
                    ("inputs", Json::Arr(inputs)),
                ]),
            ));
        }
        writeln!(out, "{}", serde_json::to_string(&obj(fields))?)?;
    } else {
        // An input is its own name on its own leaf: `b = a` names the same
        // leaf, but `--at b=...` would be refused.
        let leaf_of: HashMap<&str, _> = ev
            .inputs
            .iter()
            .map(|(n, v)| (n.as_str(), v.id()))
            .collect();
        let rows: Vec<[String; 4]> = named
            .iter()
            .enumerate()
            .map(|(i, (n, v))| {
                let role = if i == 0 {
                    "output"
                } else if leaf_of.get(n) == Some(&v.id()) {
                    "input"
                } else {
                    ""
                };
                [
                    n.to_string(),
                    v.data().to_string(),
                    named_grads[i].to_string(),
                    role.to_string(),
                ]
            })
            .collect();
        print_table(&mut out, &["name", "data", "grad", ""], &rows)?;
        if let Some(h) = &hessian {
            writeln!(out)?;
            writeln!(out, "hessian: d²{}/d(row) d(column)", ev.output_name)?;
            let mut table = vec![String::new()];
            table.extend(input_names.iter().map(|n| n.to_string()));
            let mut lines = vec![table];
            for (row, hs) in input_names.iter().zip(h) {
                let mut line = vec![row.to_string()];
                line.extend(hs.iter().map(f64::to_string));
                lines.push(line);
            }
            print_rows(&mut out, &lines)?;
        }
        if let Some(r) = &report {
            writeln!(out)?;
            let t = r.tolerances;
            writeln!(
                out,
                "gradient check: central differences with eps {:e}, passing when |analytic - numeric| <= {:e} + {:e} * |numeric|",
                t.eps, t.atol, t.rtol
            )?;
            // The library's table: inputs by name, numbers as the table
            // above prints them.
            writeln!(out, "{r}")?;
        }
    }
    out.flush()?;
    if report.is_some_and(|r| !r.passed()) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints rows of any width as left-aligned columns separated by two
/// spaces (the first row is the header).
fn print_rows(out: &mut impl Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let n = rows.first().map_or(0, Vec::len);
    let mut width = vec![0; n];
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(&width).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            s.extend(std::iter::repeat_n(' ', w - c.chars().count()));
        }
        writeln!(out, "{}", s.trim_end())?;
    }
    Ok(())
}

/// Prints left-aligned columns separated by two spaces.
fn print_table<const N: usize>(
    out: &mut impl Write,
    header: &[&str; N],
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut all = vec![header.iter().map(|h| h.to_string()).collect()];
    all.extend(rows.iter().map(|r| r.to_vec()));
    print_rows(out, &all)
}
