//! The expression language: a lexer, a parser and evaluation onto a
//! [`Graph`].
//!
//! A program is a sequence of statements separated by newlines or `;`, with
//! `#` comments to the end of the line:
//!
//! ```text
//! program   := stmt? ((NEWLINE | ';') stmt?)*
//! stmt      := NAME ('=' | '+=' | '-=' | '*=' | '/=') expr
//!            | expr                      (only as the last statement; named `out`)
//! expr      := expr ('+' | '-') expr     (left-associative, loosest)
//!            | expr ('*' | '/') expr     (left-associative)
//!            | ('-' | '+') expr
//!            | expr '**' expr            (right-associative, tighter than a unary
//!                                          minus on its left: -x**2 is -(x**2))
//!            | NUMBER | NAME | FUNC '(' expr ')' | '(' expr ')'
//! NUMBER    := 3 | 2.5 | .5 | 3. | 1e-3 | 2E+5
//! NAME      := [A-Za-z_][A-Za-z0-9_]*
//! FUNC      := tanh | exp | log | ln | relu | sigmoid | sqrt   (log is natural)
//! ```
//!
//! This is Python's precedence and associativity. A name set to a number
//! literal (optionally negated, `a = -4.0`) is an **input**; every other
//! name is computed, and the statement's name becomes the label of the new
//! node, so graphs draw like the notebook's. `c += e` creates a new node
//! labelled `c` (like Python rebinding a name); reassigning a computed name
//! is allowed, and the last binding is the one that counts. An input name
//! cannot be assigned a number a second time (which value would `--at`
//! set?). The exponent of `**` may be any expression: a constant one gives
//! an [`Op::PowF`](crate::Op::PowF) node, anything else an
//! [`Op::Pow`](crate::Op::Pow) node. Newlines inside parentheses are
//! ignored, as in Python.
//!
//! ```
//! use backprop::Graph;
//! use backprop::expr::Program;
//!
//! let program = Program::parse(
//!     "x1 = 2; x2 = 0; w1 = -3; w2 = 1; b = 6.8813735870195432
//!      n = x1*w1 + x2*w2 + b
//!      o = tanh(n)",
//! )?;
//! assert_eq!(program.inputs()[0], ("x1", 2.0));
//! let g = Graph::new();
//! let ev = program.eval(&g, &[("x2", 0.0)])?;
//! ev.output.backward();
//! assert_eq!(ev.output_name, "o");
//! assert!((ev.output.data() - 0.5f64.sqrt()).abs() < 1e-12);
//! assert!((ev.grad("w1").unwrap() - 1.0).abs() < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod lexer;
mod parser;

use std::collections::HashMap;

use crate::gradcheck::{GradcheckReport, Tolerances, gradcheck};
use crate::{Graph, Value};

pub use error::{EvalError, FUNCTIONS, ParseError, ParseErrorKind, SNIPPET_WIDTH, Span};
pub use parser::MAX_DEPTH;

use parser::{Body, Func, InputDef, Instr, Stmt};

/// The most nodes [`Program::gradcheck`] builds in all: `2 × inputs ×`
/// [`Program::size`] past it is refused (finite differences evaluate the
/// whole program twice per input; at some 20 ns a node this is about 20
/// seconds).
pub const MAX_CHECK_WORK: u64 = 1_000_000_000;

/// The largest program file the `backprop` command reads: 16 MiB (about
/// a million statements).
pub const MAX_PROGRAM_BYTES: u64 = 16 << 20;

/// A parsed program, ready to evaluate onto any number of graphs.
///
/// ```
/// let p = backprop::expr::Program::parse("a = -4.0\nb = 2\nc = a * b # a comment")?;
/// assert_eq!(p.inputs(), vec![("a", -4.0), ("b", 2.0)]);
/// assert_eq!(p.output_name(), "c");
/// # Ok::<(), backprop::expr::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    stmts: Vec<Stmt>,
    inputs: Vec<InputDef>,
}

/// The nodes a program built on a graph (see [`Program::eval`]).
#[derive(Clone, Debug)]
pub struct Evaluation<'g> {
    /// The value of the last statement.
    pub output: Value<'g>,
    /// The name of the last statement (`out` for a bare expression).
    pub output_name: String,
    /// The input leaves, in the order of [`Program::inputs`].
    pub inputs: Vec<(String, Value<'g>)>,
    /// Every statement's name and value, in program order (a reassigned
    /// name appears once per assignment).
    pub bindings: Vec<(String, Value<'g>)>,
}

impl<'g> Evaluation<'g> {
    /// Every named node once, with the last binding of each name: the
    /// output first, then the others in program order.
    pub fn named(&self) -> Vec<(&str, Value<'g>)> {
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, (name, _)) in self.bindings.iter().enumerate() {
            last.insert(name, i);
        }
        let out = self.bindings.len() - 1;
        let mut named = vec![(self.output_name.as_str(), self.output)];
        named.extend(
            self.bindings
                .iter()
                .enumerate()
                .filter(|&(i, (name, _))| {
                    i != out && last[name.as_str()] == i && *name != self.output_name
                })
                .map(|(_, (name, v))| (name.as_str(), *v)),
        );
        named
    }

    /// The gradient of an input, by name (after `output.backward()`).
    pub fn grad(&self, input: &str) -> Option<f64> {
        self.inputs
            .iter()
            .find(|(n, _)| n == input)
            .map(|(_, v)| v.grad())
    }
}

impl Program {
    /// Parses a program (a leading UTF-8 byte order mark is skipped).
    ///
    /// # Errors
    /// A [`ParseError`] with the line and column of the first problem: an
    /// unexpected character, a malformed number, an unknown name or
    /// function, a wrong number of arguments, an unbalanced parenthesis, a
    /// stray token, an empty program, nesting deeper than [`MAX_DEPTH`].
    ///
    /// ```
    /// use backprop::expr::Program;
    /// let err = Program::parse("y = foo(2)").unwrap_err();
    /// assert!(err.to_string().starts_with("1:5: unknown function `foo`"));
    /// ```
    pub fn parse(src: &str) -> Result<Program, ParseError> {
        // A byte order mark, as some editors write, is not part of the
        // program.
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        let parsed = parser::parse(src)?;
        Ok(Program {
            stmts: parsed.stmts,
            inputs: parsed.inputs,
        })
    }

    /// The inputs (names set to a number literal) and their values, in
    /// program order.
    pub fn inputs(&self) -> Vec<(&str, f64)> {
        self.inputs
            .iter()
            .map(|i| (i.name.as_str(), i.value))
            .collect()
    }

    /// The name of the output (the last statement; `out` for a bare
    /// expression).
    pub fn output_name(&self) -> &str {
        &self.stmts[self.stmts.len() - 1].name
    }

    /// The input values with `overrides` (`(name, value)` pairs, the last
    /// one winning) applied, in the order of [`Program::inputs`].
    ///
    /// # Errors
    /// [`EvalError::NotAnInput`] if an override names something that is
    /// not an input.
    ///
    /// ```
    /// let p = backprop::expr::Program::parse("a = 1; b = 2; c = a * b")?;
    /// assert_eq!(p.input_values(&[("b", 5.0)])?, vec![1.0, 5.0]);
    /// assert!(p.input_values(&[("c", 5.0)]).unwrap_err().to_string().contains("computed at 1:15"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn input_values<S: AsRef<str>>(
        &self,
        overrides: &[(S, f64)],
    ) -> Result<Vec<f64>, EvalError> {
        let mut values: Vec<f64> = self.inputs.iter().map(|i| i.value).collect();
        for (name, v) in overrides {
            let name = name.as_ref();
            match self.inputs.iter().position(|i| i.name == name) {
                Some(k) => values[k] = *v,
                None => {
                    let last = self.stmts.iter().rposition(|s| s.name == name);
                    return Err(EvalError::NotAnInput {
                        name: name.to_string(),
                        computed_at: last.map(|k| self.stmts[k].span),
                        alias_of: last.and_then(|k| self.alias_of_input(k)),
                        inputs: self.inputs.iter().map(|i| i.name.clone()).collect(),
                    });
                }
            }
        }
        Ok(values)
    }

    /// The input that statement `k` is another name for (`b = a`, also
    /// through a chain of such statements), if it is.
    fn alias_of_input(&self, mut k: usize) -> Option<String> {
        let mut aliased = false;
        loop {
            match &self.stmts[k].body {
                Body::Alias(slot) => {
                    aliased = true;
                    k = *slot;
                }
                Body::Input(i) if aliased => return Some(self.inputs[*i].name.clone()),
                _ => return None,
            }
        }
    }

    /// Builds the program on `g`: one labelled leaf per input (created
    /// first, in order), then the computed nodes. Call
    /// `output.backward()` on the result for gradients.
    ///
    /// # Errors
    /// [`EvalError::NotAnInput`] if an override names something that is
    /// not an input.
    ///
    /// ```
    /// let p = backprop::expr::Program::parse("x = 3\ny = x**2")?;
    /// let g = backprop::Graph::new();
    /// let ev = p.eval(&g, &[("x", 4.0)])?;
    /// ev.output.backward();
    /// assert_eq!((ev.output.data(), ev.grad("x")), (16.0, Some(8.0)));
    /// assert_eq!(ev.output.label().as_deref(), Some("y"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn eval<'g, S: AsRef<str>>(
        &self,
        g: &'g Graph,
        overrides: &[(S, f64)],
    ) -> Result<Evaluation<'g>, EvalError> {
        let values = self.input_values(overrides)?;
        let leaves: Vec<Value<'g>> = self
            .inputs
            .iter()
            .zip(values)
            .map(|(i, v)| g.value(v).with_label(i.name.clone()))
            .collect();
        Ok(self.build(g, &leaves))
    }

    /// The program as a function of its inputs (in the order of
    /// [`Program::inputs`]) to its output: what
    /// [`gradcheck()`] takes. The function panics if it is given a number
    /// of values other than the number of inputs.
    ///
    /// ```
    /// use backprop::gradcheck::{Tolerances, gradcheck};
    /// let p = backprop::expr::Program::parse("a = 0.5; b = 2; c = tanh(a * b) / b")?;
    /// let report = gradcheck(p.function(), &[0.5, 2.0], Tolerances::default());
    /// assert!(report.passed());
    /// # Ok::<(), backprop::expr::ParseError>(())
    /// ```
    pub fn function(&self) -> impl for<'g> Fn(&'g Graph, &[Value<'g>]) -> Value<'g> + '_ {
        move |g, xs| {
            let bound = self.run_all(g, xs, false);
            bound[bound.len() - 1]
        }
    }

    /// The number of nodes one evaluation builds: one per input and per
    /// number, operation and call (a measure of its cost).
    pub fn size(&self) -> usize {
        self.inputs.len()
            + self
                .stmts
                .iter()
                .map(|s| match &s.body {
                    Body::Computed(code) => code.len(),
                    _ => 0,
                })
                .sum::<usize>()
    }

    /// Compares the program's gradients with central differences at its
    /// inputs (with `overrides` applied).
    ///
    /// Each input costs two evaluations of the whole program, each linear
    /// in its [`size`](Program::size), so the check is refused past
    /// [`MAX_CHECK_WORK`] nodes in all (`2 × inputs × size`): about 20
    /// seconds at most.
    ///
    /// # Errors
    /// [`EvalError::NotAnInput`] if an override names something that is
    /// not an input, [`EvalError::BadTolerance`] for a step that is not a
    /// positive finite number or a negative or non-finite tolerance, and
    /// [`EvalError::CheckTooLarge`] past [`MAX_CHECK_WORK`].
    ///
    /// ```
    /// use backprop::gradcheck::Tolerances;
    /// let p = backprop::expr::Program::parse("x = 2; y = sqrt(x) * exp(-x)")?;
    /// let report = p.gradcheck(&[("x", 1.5)], Tolerances::default())?;
    /// assert!(report.passed(), "{report}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gradcheck<S: AsRef<str>>(
        &self,
        overrides: &[(S, f64)],
        tolerances: Tolerances,
    ) -> Result<GradcheckReport, EvalError> {
        let values = self.input_values(overrides)?;
        tolerances.check().map_err(EvalError::BadTolerance)?;
        let work = 2 * values.len() as u128 * self.size() as u128;
        if work > MAX_CHECK_WORK as u128 {
            return Err(EvalError::CheckTooLarge {
                inputs: values.len(),
                size: self.size(),
            });
        }
        let mut report = gradcheck(self.function(), &values, tolerances);
        for (c, input) in report.inputs.iter_mut().zip(&self.inputs) {
            c.name = Some(input.name.clone());
        }
        Ok(report)
    }

    /// Runs every statement on `g` with the given input leaves.
    fn build<'g>(&self, g: &'g Graph, inputs: &[Value<'g>]) -> Evaluation<'g> {
        let bound = self.run_all(g, inputs, true);
        Evaluation {
            output: bound[bound.len() - 1],
            output_name: self.output_name().to_string(),
            inputs: self
                .inputs
                .iter()
                .zip(inputs)
                .map(|(i, v)| (i.name.clone(), *v))
                .collect(),
            bindings: self
                .stmts
                .iter()
                .zip(&bound)
                .map(|(s, v)| (s.name.clone(), *v))
                .collect(),
        }
    }

    /// Every statement's value on `g` with the given input leaves, labelled
    /// with its name if `label` (a gradient check's evaluations need no
    /// names).
    fn run_all<'g>(&self, g: &'g Graph, inputs: &[Value<'g>], label: bool) -> Vec<Value<'g>> {
        assert_eq!(
            inputs.len(),
            self.inputs.len(),
            "the program has {} inputs, got {} values",
            self.inputs.len(),
            inputs.len()
        );
        let mut bound: Vec<Value<'g>> = Vec::with_capacity(self.stmts.len());
        let mut stack: Vec<Value<'g>> = Vec::new();
        for stmt in &self.stmts {
            let v = match &stmt.body {
                Body::Input(k) => inputs[*k],
                Body::Alias(slot) => bound[*slot],
                Body::Computed(code) => {
                    stack.clear();
                    for instr in code {
                        run(g, *instr, &mut stack, &bound);
                    }
                    let v = stack.pop().expect("the parser emits balanced code");
                    if label {
                        v.set_label(stmt.name.clone());
                    }
                    v
                }
            };
            bound.push(v);
        }
        bound
    }
}

/// Runs one instruction on the value stack.
fn run<'g>(g: &'g Graph, instr: Instr, stack: &mut Vec<Value<'g>>, bound: &[Value<'g>]) {
    let v = match instr {
        Instr::Num(x) => g.value(x),
        Instr::Load(slot) => bound[slot],
        Instr::Neg => -pop(stack),
        Instr::PowF(p) => pop(stack).powf(p),
        Instr::Call(f) => {
            let x = pop(stack);
            match f {
                Func::Tanh => x.tanh(),
                Func::Exp => x.exp(),
                Func::Ln => x.ln(),
                Func::Relu => x.relu(),
                Func::Sigmoid => x.sigmoid(),
                Func::Sqrt => x.sqrt(),
            }
        }
        Instr::Add | Instr::Sub | Instr::Mul | Instr::Div | Instr::Pow => {
            let b = pop(stack);
            let a = pop(stack);
            match instr {
                Instr::Add => a + b,
                Instr::Sub => a - b,
                Instr::Mul => a * b,
                Instr::Div => a / b,
                _ => a.pow(b),
            }
        }
    };
    stack.push(v);
}

fn pop<'g>(stack: &mut Vec<Value<'g>>) -> Value<'g> {
    stack.pop().expect("the parser emits balanced code")
}

/// Parses a `NAME=VALUE` override (the CLI's `--at`). The value is a
/// decimal number, optionally signed, or `inf`, `-inf`, `nan`; a number
/// too large for an `f64` (`1e999`) is an error; one too small for it
/// (`1e-999`) reads as 0, as in Python.
///
/// # Errors
/// A [`ParseErrorKind::BadOverride`] whose span points into `text`.
///
/// ```
/// use backprop::expr::parse_override;
/// assert_eq!(parse_override("x1=-2.5")?, ("x1".to_string(), -2.5));
/// let err = parse_override("x1=abc").unwrap_err();
/// assert_eq!(err.span.col, 4);
/// # Ok::<(), backprop::expr::ParseError>(())
/// ```
pub fn parse_override(text: &str) -> Result<(String, f64), ParseError> {
    let bad = |why: &str, col: usize, len: usize| {
        ParseError::new(
            ParseErrorKind::BadOverride {
                text: text.to_string(),
                why: why.to_string(),
            },
            Span::new(1, col, len),
            text,
        )
    };
    if text.contains(['\n', '\r']) {
        return Err(bad("it spans several lines", 1, 1));
    }
    let Some(eq) = text.find('=') else {
        return Err(bad("there is no `=`", text.chars().count() + 1, 1));
    };
    let (name_part, value_part) = (&text[..eq], &text[eq + 1..]);
    let name = name_part.trim();
    let name_col = name_part.chars().take_while(|c| c.is_whitespace()).count() + 1;
    let is_ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_ident {
        let why = if name.is_empty() {
            "the name is missing".to_string()
        } else {
            format!("`{}` is not a name", error::shown(name))
        };
        return Err(bad(&why, name_col, name.chars().count()));
    }
    let eq_col = name_part.chars().count() + 1;
    let value = value_part.trim();
    let value_col = eq_col + 1 + value_part.chars().take_while(|c| c.is_whitespace()).count();
    let lower = value.to_ascii_lowercase();
    let parsed = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => value.parse::<f64>().ok(),
        _ if !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) =>
        {
            value.parse::<f64>().ok()
        }
        _ => None,
    };
    match parsed {
        Some(v) if out_of_range(&lower, v) => Err(bad(
            &format!(
                "`{}` is out of range (f64 numbers go up to about 1.8e308; write inf for infinity)",
                error::shown(value)
            ),
            value_col,
            value.chars().count(),
        )),
        Some(v) => Ok((name.to_string(), v)),
        None if value.is_empty() => Err(bad("the value is missing", value_col, 1)),
        None => Err(bad(
            &format!("`{}` is not a number", error::shown(value)),
            value_col,
            value.chars().count(),
        )),
    }
}

/// Whether the decimal `text` parsed to `v` only by overflowing to
/// infinity. A number below the smallest subnormal (`1e-400`) reads as 0,
/// as in Python and IEEE 754 rounding.
pub(crate) fn out_of_range(text: &str, v: f64) -> bool {
    let spelled_inf = text.trim_start_matches(['+', '-']).starts_with(['i', 'I']);
    v.is_infinite() && !spelled_inf
}
