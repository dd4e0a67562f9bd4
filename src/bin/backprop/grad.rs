//! `backprop grad`: the value and gradients of an expression program.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use backprop::Graph;
use backprop::format::{JsonNumber, exact, table};
use backprop::gradcheck::{GradcheckReport, Tolerances};
use serde::Serialize;

use crate::Usage;
use crate::args::program::{Loaded, ProgramArgs};
use crate::args::{non_negative, positive};
use crate::out::Out;

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

/// What `grad --json` prints: one object, keys in this order, names in
/// the program's order.
#[derive(Serialize)]
struct GradJson<'a> {
    /// The output's name.
    output: &'a str,
    value: JsonNumber,
    /// d(output)/d(input), by input name.
    grads: Object<'a, JsonNumber>,
    /// The inputs' values, by name.
    inputs: Object<'a, JsonNumber>,
    /// Every named node, the output first.
    nodes: Vec<NodeJson<'a>>,
    /// d²(output)/d(row) d(column), by row name, then column name.
    #[serde(skip_serializing_if = "Option::is_none")]
    hessian: Option<Object<'a, Object<'a, JsonNumber>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<CheckJson<'a>>,
}

#[derive(Serialize)]
struct NodeJson<'a> {
    name: &'a str,
    data: JsonNumber,
    grad: JsonNumber,
}

/// A JSON object with its keys in the order given (a `serde_json` map
/// would sort them).
struct Object<'a, V>(Vec<(&'a str, V)>);

impl<V: Serialize> Serialize for Object<'_, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Serialize)]
struct CheckJson<'a> {
    passed: bool,
    eps: JsonNumber,
    atol: JsonNumber,
    rtol: JsonNumber,
    inputs: Vec<CheckedJson<'a>>,
}

#[derive(Serialize)]
struct CheckedJson<'a> {
    name: &'a str,
    analytic: JsonNumber,
    numeric: JsonNumber,
    abs_error: JsonNumber,
    rel_error: JsonNumber,
    passed: bool,
}

impl<'a> CheckJson<'a> {
    fn new(r: &GradcheckReport, input_names: &[&'a str]) -> Self {
        CheckJson {
            passed: r.passed(),
            eps: JsonNumber(r.tolerances.eps),
            atol: JsonNumber(r.tolerances.atol),
            rtol: JsonNumber(r.tolerances.rtol),
            inputs: r
                .inputs
                .iter()
                .map(|c| CheckedJson {
                    name: input_names[c.index],
                    analytic: JsonNumber(c.analytic),
                    numeric: JsonNumber(c.numeric),
                    abs_error: JsonNumber(c.abs_error),
                    rel_error: JsonNumber(c.rel_error),
                    passed: c.passed,
                })
                .collect(),
        }
    }
}

/// What `grad` computed, as plain numbers, ready to print.
struct Gradients {
    /// The output's name and value.
    output: (String, f64),
    /// The inputs' names and values, in the program's order.
    inputs: Vec<(String, f64)>,
    /// d(output)/d(input), one per input.
    input_grads: Vec<f64>,
    /// Every named node, the output first: name, data, grad, and its role
    /// (`output`, `input`, or nothing).
    nodes: Vec<(String, f64, f64, &'static str)>,
    /// The Hessian, a row per input (`--hessian`).
    hessian: Option<Vec<Vec<f64>>>,
    /// The gradient check's report (`--check`).
    check: Option<GradcheckReport>,
}

/// Runs `backprop grad`.
pub fn run(args: Args, out: &mut Out) -> anyhow::Result<ExitCode> {
    let r = compute(&args)?;
    if args.json {
        out.json_line(&r.json())?;
    } else {
        r.write_text(out)?;
    }
    if r.check.is_some_and(|c| !c.passed()) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses and evaluates the program, then takes its gradients (and
/// Hessian and gradient check, when asked).
fn compute(args: &Args) -> anyhow::Result<Gradients> {
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
    let input_values: Vec<_> = ev.inputs.iter().map(|&(_, v)| v).collect();
    let named = ev.named();
    // Fresh gradients keep the sign of a zero gradient, as PyTorch does
    // (`.grad` accumulates onto 0.0, which loses it).
    let named_grads = g.gradients(
        ev.output,
        &named.iter().map(|&(_, v)| v).collect::<Vec<_>>(),
    );
    // An input is its own name on its own leaf: `b = a` names the same
    // leaf, but `--at b=...` would be refused.
    let leaf_of: HashMap<&str, _> = ev
        .inputs
        .iter()
        .map(|(n, v)| (n.as_str(), v.id()))
        .collect();
    let nodes = named
        .iter()
        .zip(named_grads)
        .enumerate()
        .map(|(i, ((name, v), grad))| {
            let role = if i == 0 {
                "output"
            } else if leaf_of.get(name) == Some(&v.id()) {
                "input"
            } else {
                ""
            };
            (name.to_string(), v.data(), grad, role)
        })
        .collect();
    let check = if args.check {
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
    Ok(Gradients {
        output: (ev.output_name.clone(), ev.output.data()),
        inputs: ev
            .inputs
            .iter()
            .map(|(n, v)| (n.clone(), v.data()))
            .collect(),
        input_grads: g.gradients(ev.output, &input_values),
        nodes,
        hessian: args.hessian.then(|| g.hessian(ev.output, &input_values)),
        check,
    })
}

impl Gradients {
    fn input_names(&self) -> Vec<&str> {
        self.inputs.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// `grad --json`'s object.
    fn json(&self) -> GradJson<'_> {
        let names = self.input_names();
        let by_name = |xs: &[f64]| {
            Object(
                names
                    .iter()
                    .zip(xs)
                    .map(|(&n, &x)| (n, JsonNumber(x)))
                    .collect(),
            )
        };
        GradJson {
            output: &self.output.0,
            value: JsonNumber(self.output.1),
            grads: by_name(&self.input_grads),
            inputs: Object(
                self.inputs
                    .iter()
                    .map(|(n, v)| (n.as_str(), JsonNumber(*v)))
                    .collect(),
            ),
            nodes: self
                .nodes
                .iter()
                .map(|(name, data, grad, _)| NodeJson {
                    name,
                    data: JsonNumber(*data),
                    grad: JsonNumber(*grad),
                })
                .collect(),
            hessian: self.hessian.as_ref().map(|h| {
                Object(
                    names
                        .iter()
                        .zip(h)
                        .map(|(&row, hs)| (row, by_name(hs)))
                        .collect(),
                )
            }),
            check: self.check.as_ref().map(|c| CheckJson::new(c, &names)),
        }
    }

    /// The tables: nodes, then the Hessian and the gradient check when
    /// asked for.
    fn write_text(&self, out: &mut Out) -> std::io::Result<()> {
        let mut rows = vec![["name", "data", "grad", ""].map(String::from)];
        rows.extend(self.nodes.iter().map(|(name, data, grad, role)| {
            [name.clone(), exact(*data), exact(*grad), role.to_string()]
        }));
        write!(out, "{}", table(&rows))?;
        if let Some(h) = &self.hessian {
            writeln!(out)?;
            writeln!(out, "hessian: d²{}/d(row) d(column)", self.output.0)?;
            let names = self.input_names();
            let mut rows = vec![
                std::iter::once(String::new())
                    .chain(names.iter().map(|n| n.to_string()))
                    .collect::<Vec<_>>(),
            ];
            for (row, hs) in names.iter().zip(h) {
                let mut line = vec![row.to_string()];
                line.extend(hs.iter().map(|&d| exact(d)));
                rows.push(line);
            }
            write!(out, "{}", table(&rows))?;
        }
        if let Some(r) = &self.check {
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
            // A step below an input's precision leaves it where it was,
            // and the difference is 0 or half the slope.
            for c in &r.inputs {
                let x = c.value;
                if x.is_finite() && (x + t.eps == x || x - t.eps == x) {
                    let name = c.name.clone().unwrap_or_else(|| c.index.to_string());
                    writeln!(
                        out,
                        "note: {name} + eps or {name} - eps rounds to {name} itself ({}): eps {:e} is below its precision; try a larger --eps",
                        exact(x),
                        t.eps
                    )?;
                }
            }
        }
        Ok(())
    }
}
