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

/// What is wrong, without the position (see [`ParseError`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The program has no statement.
    #[error("empty program: nothing to compute (write for example `x = 3; y = x**2`)")]
    Empty,
    /// A character that is not part of the language.
    #[error("unexpected character `{0}`")]
    UnexpectedChar(char),
    /// A number that does not parse (`1e`, `1.2.3`, `2x`).
    #[error("malformed number `{0}`")]
    BadNumber(String),
    /// A name used before it is assigned.
    #[error("unknown name `{0}` (names must be assigned before they are used)")]
    UnknownName(String),
    /// A call of a function the language does not have.
    #[error("unknown function `{0}`; known functions: tanh, exp, log (or ln), relu, sigmoid, sqrt")]
    UnknownFunction(String),
    /// A function called with the wrong number of arguments.
    #[error("`{name}` takes 1 argument, got {got}")]
    ArgCount {
        /// The function.
        name: String,
        /// How many arguments the call has.
        got: usize,
    },
    /// A `(` without its `)`.
    #[error("unbalanced parenthesis: this `(` is never closed (found {found} at {at})")]
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
    #[error("expected an expression, found {0}")]
    ExpectedExpression(String),
    /// A token after a complete statement.
    #[error("unexpected {0} after a complete statement (expected an operator, `;` or a new line)")]
    Stray(String),
    /// A bare expression that is not the last statement.
    #[error(
        "a bare expression is only allowed as the last statement; give it a name (`name = ...`)"
    )]
    BareNotLast,
    /// An input assigned a second time.
    #[error(
        "`{name}` is already assigned at {first}; an input (a name set to a number) must be a new name"
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
    #[error("malformed override `{text}`: {why} (expected NAME=VALUE, for example `x1=2.5`)")]
    BadOverride {
        /// The whole override text.
        text: String,
        /// What is wrong with it.
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
        let source_line = src.lines().nth(span.line - 1).unwrap_or("").to_string();
        Self {
            kind,
            span,
            source_line,
        }
    }

    /// The source line with a caret (`^^^`) under the offending spot, as
    /// compilers show it (three lines, no trailing newline).
    pub fn snippet(&self) -> String {
        let num = self.span.line.to_string();
        let pad = " ".repeat(num.len());
        // Keep tabs as tabs so that the caret lines up in a terminal.
        let mut caret: String = self
            .source_line
            .chars()
            .take(self.span.col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let have = self.source_line.chars().count();
        if have < self.span.col - 1 {
            caret.extend(std::iter::repeat_n(' ', self.span.col - 1 - have));
        }
        caret.extend(std::iter::repeat_n('^', self.span.len));
        format!(
            "{pad} |\n{num} | {}\n{pad} | {caret}",
            self.source_line.trim_end_matches('\r')
        )
    }
}

/// An error evaluating a parsed program.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// An override names something that is not an input of the program.
    #[error("{}", not_an_input(.name, .computed_at, .inputs))]
    NotAnInput {
        /// The name given.
        name: String,
        /// Where the program computes that name, if it does.
        computed_at: Option<Span>,
        /// The program's inputs.
        inputs: Vec<String>,
    },
}

fn not_an_input(name: &str, at: &Option<Span>, inputs: &[String]) -> String {
    let list = if inputs.is_empty() {
        "the program has no input (an input is a name set to a number)".to_string()
    } else {
        format!(
            "the inputs (names set to a number) are {}",
            inputs.join(", ")
        )
    };
    match at {
        Some(at) => format!("`{name}` is not an input: it is computed at {at}; {list}"),
        None => format!("the program has no input named `{name}`; {list}"),
    }
}
