//! The parser: tokens to statements, each compiled to a postfix (RPN) list
//! of instructions.
//!
//! A Pratt parser with Python's binding powers. Recursion follows the
//! nesting of the *source* (parentheses, unary operators, the right operand
//! of `**`) and is capped at [`MAX_DEPTH`] levels. Long flat chains such as
//! `a + a + ... + a` are parsed by a loop, and the result is a flat
//! instruction list rather than a tree, so neither evaluating nor dropping a
//! program recurses: a program of a million terms is fine.

use std::collections::HashMap;

use super::error::{ParseError, ParseErrorKind, Span};
use super::lexer::{Tok, Token, lex};

/// How deeply parentheses, unary operators and `**` may nest.
pub const MAX_DEPTH: usize = 200;

/// A one-argument function of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Tanh,
    Exp,
    Ln,
    Relu,
    Sigmoid,
    Sqrt,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "tanh" => Func::Tanh,
            "exp" => Func::Exp,
            "log" | "ln" => Func::Ln,
            "relu" => Func::Relu,
            "sigmoid" => Func::Sigmoid,
            "sqrt" => Func::Sqrt,
            _ => return None,
        })
    }

    /// The function on plain numbers, for constant exponents; the same
    /// forward rules as the engine's.
    fn apply(self, x: f64) -> f64 {
        match self {
            Func::Tanh => crate::engine::tanh(x),
            Func::Exp => x.exp(),
            Func::Ln => x.ln(),
            Func::Relu => crate::engine::relu(x),
            Func::Sigmoid => crate::engine::sigmoid(x),
            Func::Sqrt => x.sqrt(),
        }
    }
}

/// One step of a statement's postfix code, run on a stack of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Instr {
    /// Push a new constant leaf.
    Num(f64),
    /// Push the value of an earlier statement.
    Load(usize),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    /// `top ** p` with a constant exponent.
    PowF(f64),
    /// `a ** b` with the exponent on top of the stack.
    Pow,
    Call(Func),
}

/// What a statement binds its name to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    /// The `k`-th input (a name set to a number literal).
    Input(usize),
    /// The same node as an earlier statement (`b = a`).
    Alias(usize),
    /// A new node computed by the code.
    Computed(Vec<Instr>),
}

/// One statement: `name = body`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stmt {
    pub name: String,
    pub span: Span,
    pub body: Body,
}

/// An input: a name set to a number literal.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InputDef {
    pub name: String,
    pub value: f64,
    pub span: Span,
}

/// The parsed program (see [`super::Program`]).
pub(crate) struct Parsed {
    pub stmts: Vec<Stmt>,
    pub inputs: Vec<InputDef>,
}

/// A subexpression being compiled: where its code starts, and its value if
/// it uses no name (then it can be a constant exponent).
#[derive(Clone, Copy)]
struct Sub {
    start: usize,
    konst: Option<f64>,
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    code: Vec<Instr>,
    /// The statement each name is bound to now.
    scope: HashMap<String, usize>,
}

const ADD_BP: (u8, u8) = (10, 11);
const MUL_BP: (u8, u8) = (20, 21);
const UNARY_BP: u8 = 30;
/// Right-associative, and tighter than a unary minus on its left.
const POW_BP: (u8, u8) = (41, 40);

pub(crate) fn parse(src: &str) -> Result<Parsed, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
        code: Vec::new(),
        scope: HashMap::new(),
    };
    let mut stmts: Vec<Stmt> = Vec::new();
    let mut inputs: Vec<InputDef> = Vec::new();
    // A bare expression seen so far; an error unless it is the last.
    let mut bare_at: Option<Span> = None;
    loop {
        while matches!(p.peek().tok, Tok::End(_)) {
            p.pos += 1;
        }
        if p.peek().tok == Tok::Eof {
            break;
        }
        if let Some(at) = bare_at {
            return Err(p.error(ParseErrorKind::BareNotLast, at));
        }
        let first = p.peek().clone();
        let assign = match (&first.tok, &p.toks[p.pos + 1].tok) {
            (
                Tok::Name(n),
                op @ (Tok::Assign | Tok::PlusEq | Tok::MinusEq | Tok::StarEq | Tok::SlashEq),
            ) => Some((n.clone(), op.clone())),
            _ => None,
        };
        let (name, span, compound) = match assign {
            Some((name, op)) => {
                p.pos += 2;
                let compound = match op {
                    Tok::Assign => None,
                    Tok::PlusEq => Some(Instr::Add),
                    Tok::MinusEq => Some(Instr::Sub),
                    Tok::StarEq => Some(Instr::Mul),
                    _ => Some(Instr::Div),
                };
                (name, first.span, compound)
            }
            None => {
                bare_at = Some(first.span);
                ("out".to_string(), first.span, None)
            }
        };
        p.code.clear();
        if compound.is_some() {
            let slot = p.lookup(&name, span)?;
            p.code.push(Instr::Load(slot));
        }
        p.expr(0)?;
        if let Some(op) = compound {
            p.code.push(op);
        }
        let end = p.peek().clone();
        match end.tok {
            Tok::End(_) | Tok::Eof => {}
            Tok::RParen => return Err(p.error(ParseErrorKind::Unmatched, end.span)),
            other => return Err(p.error(ParseErrorKind::Stray(other.describe()), end.span)),
        }
        let body = match (compound, p.code.as_slice()) {
            (None, [Instr::Num(v)]) => {
                if let Some(&prev) = p.scope.get(&name) {
                    let first = stmts[prev].span;
                    return Err(p.error(ParseErrorKind::InputReassigned { name, first }, span));
                }
                inputs.push(InputDef {
                    name: name.clone(),
                    value: *v,
                    span,
                });
                Body::Input(inputs.len() - 1)
            }
            (None, [Instr::Load(slot)]) => {
                if bare_at.is_some() {
                    // A bare name as the output: it keeps its own name.
                    let (n, s) = (stmts[*slot].name.clone(), stmts[*slot].span);
                    stmts.push(Stmt {
                        name: n,
                        span: s,
                        body: Body::Alias(*slot),
                    });
                    continue;
                }
                Body::Alias(*slot)
            }
            _ => Body::Computed(std::mem::take(&mut p.code)),
        };
        p.scope.insert(name.clone(), stmts.len());
        stmts.push(Stmt { name, span, body });
    }
    if stmts.is_empty() {
        let span = Span::new(1, 1, 1);
        return Err(p.error(ParseErrorKind::Empty, span));
    }
    Ok(Parsed { stmts, inputs })
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn error(&self, kind: ParseErrorKind, span: Span) -> ParseError {
        ParseError::new(kind, span, self.src)
    }

    fn lookup(&self, name: &str, span: Span) -> Result<usize, ParseError> {
        self.scope
            .get(name)
            .copied()
            .ok_or_else(|| self.error(ParseErrorKind::UnknownName(name.to_string()), span))
    }

    /// Parses an expression whose operators bind at least as tightly as
    /// `min_bp`, appending its code.
    fn expr(&mut self, min_bp: u8) -> Result<Sub, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().span;
            return Err(self.error(ParseErrorKind::TooDeep(MAX_DEPTH), span));
        }
        let result = self.expr_inner(min_bp);
        self.depth -= 1;
        result
    }

    fn expr_inner(&mut self, min_bp: u8) -> Result<Sub, ParseError> {
        let mut lhs = self.prefix()?;
        loop {
            let (op, (l_bp, r_bp)) = match self.peek().tok {
                Tok::Plus => (Instr::Add, ADD_BP),
                Tok::Minus => (Instr::Sub, ADD_BP),
                Tok::Star => (Instr::Mul, MUL_BP),
                Tok::Slash => (Instr::Div, MUL_BP),
                Tok::StarStar => (Instr::Pow, POW_BP),
                _ => break,
            };
            if l_bp < min_bp {
                break;
            }
            self.pos += 1;
            let rhs = self.expr(r_bp)?;
            let konst = match (lhs.konst, rhs.konst) {
                (Some(a), Some(b)) => Some(match op {
                    Instr::Add => a + b,
                    Instr::Sub => a - b,
                    Instr::Mul => a * b,
                    Instr::Div => a / b,
                    _ => a.powf(b),
                }),
                _ => None,
            };
            match (op, rhs.konst) {
                // A constant exponent becomes part of the op (`powf`).
                (Instr::Pow, Some(p)) => {
                    self.code.truncate(rhs.start);
                    self.code.push(Instr::PowF(p));
                }
                _ => self.code.push(op),
            }
            lhs = Sub {
                start: lhs.start,
                konst,
            };
        }
        Ok(lhs)
    }

    /// A number, a name, a call, a parenthesized expression or a unary
    /// operator applied to one.
    fn prefix(&mut self) -> Result<Sub, ParseError> {
        let start = self.code.len();
        let t = self.next();
        match t.tok {
            Tok::Num(v) => {
                self.code.push(Instr::Num(v));
                Ok(Sub {
                    start,
                    konst: Some(v),
                })
            }
            Tok::Minus | Tok::Plus => {
                let operand = self.expr(UNARY_BP)?;
                if t.tok == Tok::Plus {
                    return Ok(operand);
                }
                let konst = operand.konst.map(|v| -v);
                match self.code[start..] {
                    // Fold a negated literal into one constant leaf.
                    [Instr::Num(v)] => self.code[start] = Instr::Num(-v),
                    _ => self.code.push(Instr::Neg),
                }
                Ok(Sub { start, konst })
            }
            Tok::LParen => {
                let inner = self.expr(0)?;
                self.close(t.span)?;
                Ok(Sub {
                    start,
                    konst: inner.konst,
                })
            }
            Tok::Name(name) => {
                if self.peek().tok == Tok::LParen {
                    let open = self.next();
                    let Some(func) = Func::from_name(&name) else {
                        let kind = if self.scope.contains_key(&name) {
                            ParseErrorKind::NotAFunction(name)
                        } else {
                            ParseErrorKind::UnknownFunction(name)
                        };
                        return Err(self.error(kind, t.span));
                    };
                    let mut konst = None;
                    let mut got = 0;
                    if self.peek().tok != Tok::RParen {
                        loop {
                            let arg = self.expr(0)?;
                            got += 1;
                            konst = arg.konst;
                            if self.peek().tok != Tok::Comma {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    self.close(open.span)?;
                    if got != 1 {
                        return Err(self.error(ParseErrorKind::ArgCount { name, got }, t.span));
                    }
                    self.code.push(Instr::Call(func));
                    Ok(Sub {
                        start,
                        konst: konst.map(|v| func.apply(v)),
                    })
                } else if !self.scope.contains_key(&name) && Func::from_name(&name).is_some() {
                    Err(self.error(ParseErrorKind::FunctionWithoutParens(name), t.span))
                } else {
                    let slot = self.lookup(&name, t.span)?;
                    self.code.push(Instr::Load(slot));
                    Ok(Sub { start, konst: None })
                }
            }
            Tok::RParen => Err(self.error(ParseErrorKind::Unmatched, t.span)),
            other => Err(self.error(ParseErrorKind::ExpectedExpression(other.describe()), t.span)),
        }
    }

    /// Expects the `)` that closes the `(` at `open`.
    fn close(&mut self, open: Span) -> Result<(), ParseError> {
        let t = self.peek().clone();
        if t.tok == Tok::RParen {
            self.pos += 1;
            return Ok(());
        }
        // An operand followed by something that is neither an operator nor
        // `)`: the `(` was left open, or there is a stray token inside.
        Err(self.error(
            ParseErrorKind::Unclosed {
                found: t.tok.describe(),
                at: t.span,
            },
            open,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(src: &str) -> Vec<Instr> {
        match parse(src).unwrap().stmts.pop().unwrap().body {
            Body::Computed(c) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn constant_exponents_become_powf() {
        assert_eq!(
            code("x = 1; y = x**-1"),
            vec![Instr::Load(0), Instr::PowF(-1.0)]
        );
        assert_eq!(
            code("x = 1; y = x**(1/2)"),
            vec![Instr::Load(0), Instr::PowF(0.5)]
        );
        assert_eq!(
            code("x = 1; y = 2**x"),
            vec![Instr::Num(2.0), Instr::Load(0), Instr::Pow]
        );
    }

    #[test]
    fn negated_literals_fold() {
        assert_eq!(
            code("x = 1; y = x * -3"),
            vec![Instr::Load(0), Instr::Num(-3.0), Instr::Mul]
        );
        assert_eq!(
            code("y = -2**2"),
            vec![Instr::Num(2.0), Instr::PowF(2.0), Instr::Neg]
        );
    }
}
