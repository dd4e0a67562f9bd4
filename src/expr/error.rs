//! Errors of the expression language, with positions and a compiler-style
//! snippet.

use std::fmt;

/// Where something is in the source: 1-based line and column (columns count
/// characters), and how many characters it spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub col: usize,
    /// How many characters (at least 1, for the caret).
    pub len: usize,
}

impl Span {
    pub(crate) fn new(line: usize, col: usize, len: usize) -> Self {
        Self {
            line,
            col,
            len: len.max(1),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// The functions the language knows, in the order error messages list them.
pub const FUNCTIONS: [&str; 7] = ["tanh", "exp", "log", "ln", "relu", "sigmoid", "sqrt"];

/// The hint for an unexpected character that is a letter outside ASCII
/// (`é`, `θ`): the language's names are ASCII.
fn char_hint(c: char) -> &'static str {
    if c.is_alphabetic() && !c.is_ascii() {
        " (names are ASCII letters, digits and `_`: write for example `e1` or `theta`)"
    } else {
        ""
    }
}

/// The hint for a method call: write relu(x), not x.relu() (or, called on
/// an expression, relu(...) around it).
fn method_hint(method: &str, receiver: Option<&str>) -> String {
    let method = shown(method);
    match receiver {
        Some(r) => format!("write `{method}({r})`, not `{r}.{method}()`"),
        None => format!("write `{method}(...)` around the expression"),
    }
}

/// What is wrong, without the position (see [`ParseError`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The program has no statement.
    #[error("empty program: nothing to compute (write for example `x = 3; y = x**2`)")]
    Empty,
    /// A character that is not part of the language (control characters
    /// are shown escaped, as `\u{0}`). A letter outside ASCII gets a hint:
    /// names are ASCII letters, digits and `_`, as in micrograd's Python
    /// examples.
    #[error("unexpected character `{}`{}", shown(&.0.to_string()), char_hint(*.0))]
    UnexpectedChar(char),
    /// A number that does not parse (`1e`, `1.2.3`, `2x`).
    #[error("malformed number `{}`", shown(.0))]
    BadNumber(String),
    /// A method call (`x.relu()`): the language calls functions as
    /// `relu(x)`.
    #[error("methods are not supported: {}", method_hint(.method, .receiver.as_deref()))]
    MethodCall {
        /// The method's name (`relu`).
        method: String,
        /// The name it was called on (`x`); `None` for an expression.
        receiver: Option<String>,
    },
    /// `^`, which some languages use for powers: the language writes `**`.
    #[error("`^` is not an operator: write `**` for a power, as in `x**2`")]
    Caret,
    /// A number too big for an `f64` (`1e999`). One too small for it
    /// (`1e-999`) reads as 0, as in Python.
    #[error(
        "number `{}` is out of range (f64 numbers go up to about 1.8e308)",
        shown(.0)
    )]
    NumberOutOfRange(String),
    /// A name used before it is assigned.
    #[error("unknown name `{}` (names must be assigned before they are used)", shown(.0))]
    UnknownName(String),
    /// A function's name used without its parentheses (`tanh x`).
    #[error("`{0}` is a function: call it with parentheses, as in `{0}(x)`")]
    FunctionWithoutParens(String),
    /// A call of a function the language does not have.
    #[error(
        "unknown function `{}`; known functions: tanh, exp, log (or ln), relu, sigmoid, sqrt",
        shown(.0)
    )]
    UnknownFunction(String),
    /// A value called like a function (`x(2)`).
    #[error(
        "`{}` is a value, not a function (for a product write `*`, as in `{}*(...)`)",
        shown(.0),
        shown(.0)
    )]
    NotAFunction(String),
    /// A function called with the wrong number of arguments.
    #[error("`{name}` takes 1 argument, got {got}")]
    ArgCount {
        /// The function.
        name: String,
        /// How many arguments the call has.
        got: usize,
    },
    /// A `(` without its `)`.
    #[error(
        "unbalanced parenthesis: this `(` is never closed (found {} at {at})",
        shown(.found)
    )]
    Unclosed {
        /// What came instead of the `)`.
        found: String,
        /// Where that was.
        at: Span,
    },
    /// A `)` without its `(`.
    #[error("unbalanced parenthesis: `)` without a matching `(`")]
    Unmatched,
    /// A token where an expression should start.
    #[error("expected an expression, found {}", shown(.0))]
    ExpectedExpression(String),
    /// A token after a complete statement.
    #[error(
        "unexpected {} after a complete statement (expected an operator, `;` or a new line)",
        shown(.0)
    )]
    Stray(String),
    /// A bare expression that is not the last statement.
    #[error(
        "a bare expression is only allowed as the last statement; give it a name (`name = ...`)"
    )]
    BareNotLast,
    /// An input assigned a second time.
    #[error(
        "`{}` is already assigned at {first}; an input (a name set to a number) must be a new name",
        shown(.name)
    )]
    InputReassigned {
        /// The name.
        name: String,
        /// Where it was first assigned.
        first: Span,
    },
    /// Parentheses or unary operators nested beyond [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error(
        "expression nested too deeply (more than {0} levels of parentheses, unary operators or `**`)"
    )]
    TooDeep(usize),
    /// A malformed `NAME=VALUE` override (the CLI's `--at`).
    #[error(
        "malformed override `{}`: {why} (expected NAME=VALUE, for example `x1=2.5`)",
        shown(.text)
    )]
    BadOverride {
        /// The whole override text.
        text: String,
        /// What is wrong with it (with any quoted text already escaped and
        /// cut short).
        why: String,
    },
}

/// A parse error: what is wrong and where, with the source line so that it
/// can be shown with a caret under the spot ([`ParseError::snippet`]).
///
/// ```
/// let err = backprop::expr::Program::parse("x = 2\ny = x + z").unwrap_err();
/// assert_eq!((err.span.line, err.span.col), (2, 9));
/// assert_eq!(err.to_string(), "2:9: unknown name `z` (names must be assigned before they are used)");
/// assert_eq!(err.snippet(), "  |\n2 | y = x + z\n  |         ^");
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{span}: {kind}")]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// Where.
    pub span: Span,
    /// The text of the source line the error is on.
    pub source_line: String,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, span: Span, src: &str) -> Self {
        let source_line = lines(src).nth(span.line - 1).unwrap_or("").to_string();
        Self {
            kind,
            span,
            source_line,
        }
    }

    /// The source line with a caret (`^^^`) under the offending spot, as
    /// compilers show it (three lines, no trailing newline).
    ///
    /// A long line is cut to about [`SNIPPET_WIDTH`] characters around the
    /// spot, with `…` where text is left out; control characters are shown
    /// escaped (`\u{1b}`), so that the source cannot drive the terminal.
    ///
    /// ```
    /// let err = backprop::expr::Program::parse("y = 1 \u{1b}[31m").unwrap_err();
    /// assert_eq!(err.snippet(), "  |\n1 | y = 1 \\u{1b}[31m\n  |       ^^^^^^");
    /// ```
    pub fn snippet(&self) -> String {
        let num = self.span.line.to_string();
        let pad = " ".repeat(num.len());
        let chars: Vec<char> = self.source_line.chars().collect();
        let at = self.span.col - 1;
        let span_end = at.saturating_add(self.span.len);
        // A window of the line around the spot.
        let start = at.saturating_sub(SNIPPET_WIDTH / 2).min(chars.len());
        let end = (start + SNIPPET_WIDTH).min(chars.len());
        let mut text = String::new();
        let mut caret = String::new();
        if start > 0 {
            text.push('…');
            caret.push(' ');
        }
        for (i, &c) in chars.iter().enumerate().take(end).skip(start) {
            // Keep tabs as tabs so that the caret lines up in a terminal.
            let shown = if c == '\t' {
                "\t".to_string()
            } else {
                crate::format::escape_char(c)
            };
            let width = shown.chars().count();
            let under = if i < at {
                if c == '\t' { '\t' } else { ' ' }
            } else if i < span_end {
                '^'
            } else {
                ' '
            };
            caret.extend(std::iter::repeat_n(
                under,
                if c == '\t' { 1 } else { width },
            ));
            text.push_str(&shown);
        }
        if end < chars.len() {
            text.push('…');
        }
        // A spot past the end of the line (the end of the program).
        if at >= end {
            caret.extend(std::iter::repeat_n(' ', at - end.max(start)));
            caret.push('^');
        }
        let caret = caret.trim_end();
        format!("{pad} |\n{num} | {text}\n{pad} | {caret}")
    }
}

/// About how many characters of a long source line
/// [`ParseError::snippet`] shows.
pub const SNIPPET_WIDTH: usize = 80;

/// The lines of `src`, ended by `\n`, `\r\n` or a lone `\r` (as the
/// lexer counts them).
pub(crate) fn lines(src: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(src);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\n', '\r']) {
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// Text from the source as it is shown in a message: escaped (see
/// [`escape_char`](crate::format::escape_char)) and cut to its first 40 characters.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 40;
    let mut s: String = text
        .chars()
        .take(MAX)
        .map(crate::format::escape_char)
        .collect();
    if text.chars().nth(MAX).is_some() {
        s.push('…');
    }
    s
}

/// An error evaluating a parsed program.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// Gradient-check tolerances that cannot work.
    #[error("{0}")]
    BadTolerance(String),
    /// A gradient check that would take too long.
    #[error(
        "a gradient check of {inputs} inputs would evaluate this program of {size} nodes {} times: {} nodes, more than the limit of {}",
        2 * .inputs,
        2 * (*.inputs as u128) * (*.size as u128),
        super::MAX_CHECK_WORK
    )]
    CheckTooLarge {
        /// The number of inputs.
        inputs: usize,
        /// The program's [`Program::size`](super::Program::size).
        size: usize,
    },
    /// An override names something that is not an input of the program.
    #[error("{}", not_an_input(.name, .computed_at, .alias_of, .inputs))]
    NotAnInput {
        /// The name given.
        name: String,
        /// Where the program computes that name, if it does (its last
        /// assignment).
        computed_at: Option<Span>,
        /// The input that name is another name for (`b = a`), if it is.
        alias_of: Option<String>,
        /// The program's inputs.
        inputs: Vec<String>,
    },
}

fn not_an_input(
    name: &str,
    at: &Option<Span>,
    alias_of: &Option<String>,
    inputs: &[String],
) -> String {
    let list = if inputs.is_empty() {
        "the program has no input (an input is a name set to a number)".to_string()
    } else {
        format!(
            "the inputs (names set to a number) are {}",
            inputs.join(", ")
        )
    };
    match (at, alias_of) {
        (Some(at), Some(input)) => format!(
            "`{name}` is not an input: it is another name for the input `{input}` (at {at}); \
             set `{input}` instead"
        ),
        (Some(at), None) => format!("`{name}` is not an input: it is computed at {at}; {list}"),
        (None, _) => format!("the program has no input named `{name}`; {list}"),
    }
}
